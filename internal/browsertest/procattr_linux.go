package browsertest

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes the kernel kill the browser when the thread that started
// it ends, as chromedp does by default: a test binary that dies (a panic, a
// timeout) leaves no browser behind. chromedp starts the browser from a
// goroutine locked to its thread for the browser's lifetime.
func dieWithTest(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = new(syscall.SysProcAttr)
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
