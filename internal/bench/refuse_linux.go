package bench

import (
	"errors"
	"net"
	"os"
	"strconv"
	"syscall"
)

// refusingAddr reserves a loopback port that nothing listens on: a TCP socket
// bound to it but never listening, so that connections to it are refused and
// no other socket (a node's listener, an outgoing connection's source port)
// takes the port while the run holds it. release frees it.
func refusingAddr() (addr string, release func(), err error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", nil, os.NewSyscallError("socket", err)
	}
	release = func() { syscall.Close(fd) }
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		release()
		return "", nil, os.NewSyscallError("bind", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		release()
		return "", nil, os.NewSyscallError("getsockname", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok || in4.Port == 0 {
		release()
		return "", nil, errors.New("no port bound")
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(in4.Port)), release, nil
}
