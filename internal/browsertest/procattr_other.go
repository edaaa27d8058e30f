//go:build !linux

package browsertest

import "os/exec"

// dieWithTest does nothing where the kernel has no parent-death signal; the
// browser is stopped at the end of each test.
func dieWithTest(*exec.Cmd) {}
