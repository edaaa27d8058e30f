//go:build unix && !linux

package pgtest

import (
	"os"
	"syscall"
)

// serverAttr puts the server in a process group of its own, so a terminal's ^C
// reaches the test binary, which stops it in order.
func serverAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// baseDir is where the cluster's directory goes.
func baseDir() string { return os.TempDir() }
