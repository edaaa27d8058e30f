//go:build !linux

package bench

import "net"

// refusingAddr finds a free loopback port and leaves it free, so that
// connections to it are refused. Unlike on Linux the port is not held: another
// socket could take it during the run.
func refusingAddr() (addr string, release func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr = ln.Addr().String()
	ln.Close()
	return addr, func() {}, nil
}
