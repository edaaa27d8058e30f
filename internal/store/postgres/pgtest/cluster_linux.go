package pgtest

import (
	"os"
	"syscall"
)

// serverAttr puts the server in a process group of its own, so a terminal's ^C
// reaches the test binary, which stops it in order; and should the binary die
// before its watchdog acts, the kernel signals the server too.
func serverAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// baseDir is where the cluster's directory goes: /dev/shm when it is a tmpfs
// with room to spare, since creating a database writes hundreds of files and
// memory makes that several times faster than most disks; else the temp
// directory.
func baseDir() string {
	const shm, room, tmpfsMagic = "/dev/shm", 1 << 30, 0x01021994
	var fs syscall.Statfs_t
	if err := syscall.Statfs(shm, &fs); err == nil && fs.Type == tmpfsMagic &&
		uint64(fs.Bavail)*uint64(fs.Bsize) >= room && syscall.Access(shm, 2) == nil {
		return shm
	}
	return os.TempDir()
}
