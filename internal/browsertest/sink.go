package browsertest

import (
	"bufio"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sink is the browser's proxy: Chromium sends it every request that is not for
// loopback (loopback bypasses a proxy), so that no request leaves the machine,
// whatever names or addresses a page holds. The browser's own services that
// would call Google (the component updater, the account check) are pointed at
// it too. It answers every request 502 at once, and records it.
type sink struct {
	ln        net.Listener
	onRequest func(refusedRequest)
	wg        sync.WaitGroup
}

// refusedRequest is a request that the sink refused.
type refusedRequest struct {
	Line string // method and target, such as "CONNECT cdn.example:443"
	Host string // the host it was for; "" for a service pointed at the sink
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{ln: ln}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *sink) addr() string { return s.ln.Addr().String() }

func (s *sink) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.refuse(c)
		}()
	}
}

// refuse reads the request line (CONNECT host:443 for https, GET http://… for
// http, GET /path for a service pointed here) and answers 502, which fails the
// request in the browser at once.
func (s *sink) refuse(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReaderSize(io.LimitReader(c, 8<<10), 8<<10).ReadString('\n')
	if err != nil && line == "" {
		return
	}
	r := parseRequestLine(strings.TrimSpace(line))
	if s.onRequest != nil {
		s.onRequest(r)
	}
	body := "browsertest: the test browser reaches loopback only; refused " + r.Line + "\n"
	io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: "+
		strconv.Itoa(len(body))+"\r\n\r\n"+body)
}

func parseRequestLine(line string) refusedRequest {
	f := strings.Fields(line)
	if len(f) == 3 && strings.HasPrefix(f[2], "HTTP/") {
		line = f[0] + " " + f[1]
	}
	r := refusedRequest{Line: line}
	if len(f) < 2 {
		return r
	}
	if f[0] == "CONNECT" {
		host, _, err := net.SplitHostPort(f[1])
		if err != nil {
			host = f[1]
		}
		r.Host = host
	} else if u, err := url.Parse(f[1]); err == nil && u.IsAbs() {
		r.Host = u.Hostname()
	}
	return r
}

func (s *sink) close() {
	s.ln.Close()
	s.wg.Wait()
}
