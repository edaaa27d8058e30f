package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// LoopbackURL checks that raw is an http(s) URL of a loopback address
// (127.0.0.0/8, ::1, or localhost resolving only to those) and returns it
// without a trailing slash. The bench drives load: it never leaves the machine.
func LoopbackURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http:// or https:// URL", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return "", fmt.Errorf("%s is not a loopback address: the bench only runs against this machine (127.0.0.1, ::1, localhost)", host)
		}
		return strings.TrimRight(raw, "/"), nil
	}
	if !strings.EqualFold(host, "localhost") {
		return "", fmt.Errorf("%s is not a loopback address: the bench only runs against this machine (127.0.0.1, ::1, localhost)", host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", host, err)
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return "", fmt.Errorf("localhost resolves to %s, which is not a loopback address; use 127.0.0.1", ip.IP)
		}
	}
	return strings.TrimRight(raw, "/"), nil
}

// client talks to the server's API.
type client struct {
	http *http.Client
	key  string
}

func newClient(key string, conns int) *client {
	tr := &http.Transport{
		Proxy:               nil, // loopback: never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &client{http: &http.Client{Transport: tr, Timeout: 60 * time.Second}, key: key}
}

// answer is an HTTP answer: its status and (the start of) its body.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string {
	return fmt.Sprintf("%d %s: %s", a.status, http.StatusText(a.status), bytes.TrimSpace(a.body))
}

// do sends one request; body is JSON or nil.
func (c *client) do(ctx context.Context, method, url string, body []byte) (answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// awaitReady polls base's /readyz (or /healthz, for servers without it) until it
// answers 200, exited reports an error, or limit passes.
func (c *client) awaitReady(ctx context.Context, base string, limit time.Duration, exited func() error) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	path := "/readyz"
	var last string
	for ctx.Err() == nil {
		if exited != nil {
			if err := exited(); err != nil {
				return err
			}
		}
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		a, err := c.do(rctx, http.MethodGet, base+path, nil)
		rcancel()
		switch {
		case err != nil:
			last = err.Error()
		case a.status == http.StatusOK:
			return nil
		case a.status == http.StatusNotFound && path == "/readyz":
			path = "/healthz"
			continue
		default:
			last = fmt.Sprintf("GET %s answered %s", path, a)
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := context.Cause(ctx); errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%s not ready after %s: %s", base, limit, last)
}
