package bench

import "syscall"

// childAttr makes a server the bench started receive SIGTERM if the bench dies
// without stopping it (killed with SIGKILL, say).
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
