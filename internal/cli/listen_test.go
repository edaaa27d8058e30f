package cli

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testkit"
)

// runningListen is `hookline listen` run in the test's process.
type runningListen struct {
	addr   string
	stdout *testkit.SyncBuffer
}

// listenInProcess runs `listen` on a free loopback port with args until the
// test ends.
func listenInProcess(t *testing.T, args ...string) *runningListen {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rl := &runningListen{stdout: &testkit.SyncBuffer{}}
	stderr := &testkit.SyncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"listen", "--addr", "127.0.0.1:0"}, args...), rl.stdout, stderr)
	}()
	exited := false
	t.Cleanup(func() {
		cancel()
		if exited {
			return
		}
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("listen: got exit %d after cancel, want 0; stderr:\n%s", code, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("listen did not return within 10s of its context ending")
		}
	})
	listening := regexp.MustCompile(`listening on http://(127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			rl.addr = m[1]
			return rl
		}
		select {
		case code := <-done:
			exited = true
			t.Fatalf("listen exited with %d before listening; stderr:\n%s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("listen did not say it listens within 10s; stderr:\n%s", stderr.String())
		}
	}
}

// dial opens a connection to the listener, bounded in time.
func (rl *runningListen) dial(t *testing.T) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", rl.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

// exchange writes raw and reads one response.
func exchange(t *testing.T, c net.Conn, br *bufio.Reader, raw string) *http.Response {
	t.Helper()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the answer to %.40q…: %v", raw, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// `listen` prints header names as they came on the wire, in their order, on
// one kept-alive connection: a Content-Length body, a chunked one with a
// trailer after Expect: 100-continue, and a request that closes.
func TestListenPrintsWireHeaders(t *testing.T) {
	t.Parallel()
	rl := listenInProcess(t)
	c, br := rl.dial(t)

	resp := exchange(t, c, br, "POST /hooks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-FormVox-Event: response.created\r\n"+
		"x-lower-case: a\r\nX-SHOUT:  b \r\nContent-Length: 5\r\n\r\nhello")
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("first request: got %d, close %v; want 200, kept alive", resp.StatusCode, resp.Close)
	}

	io.WriteString(c, "POST /second HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n")
	cont, err := http.ReadResponse(br, nil)
	if err != nil || cont.StatusCode != http.StatusContinue {
		t.Fatalf("Expect: 100-continue: got %v, %v; want 100 Continue", cont, err)
	}
	resp = exchange(t, c, br, "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("chunked request: got %d, close %v; want 200, kept alive", resp.StatusCode, resp.Close)
	}

	resp = exchange(t, c, br, "GET /third?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Fatalf("closing request: got %d, close %v; want 200 and Connection: close", resp.StatusCode, resp.Close)
	}
	if n, err := br.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("after Connection: close: read %d bytes, %v; want the connection closed", n, err)
	}

	out := rl.stdout.String()
	for _, want := range []string{
		"POST /hooks → 200 (signature not checked (no --secret))\nHost: 127.0.0.1\nX-FormVox-Event: response.created\nx-lower-case: a\nX-SHOUT: b\nContent-Length: 5\n\nhello\n",
		"POST /second → 200",
		"Transfer-Encoding: chunked\nExpect: 100-continue\nX-Dup: 1\nx-dup: 2\n\nhello world\n",
		"GET /third?x=1 → 200",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("listen's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "X-Formvox-Event") {
		t.Errorf("listen printed a canonicalised name, X-Formvox-Event:\n%s", out)
	}
}

// Go's client, as Hookline's sender, keeps its connection to listen alive.
func TestListenKeepsAlive(t *testing.T) {
	t.Parallel()
	rl := listenInProcess(t, "--status", "202")
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range 3 {
		reused := false
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) { reused = ci.Reused }})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+rl.addr+"/n", strings.NewReader(fmt.Sprintf(`{"n":%d}`, i)))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Errorf("request %d: got %d, want 202 (--status)", i+1, resp.StatusCode)
		}
		if i > 0 && !reused {
			t.Errorf("request %d: a new connection, want the first one kept alive", i+1)
		}
	}
	if out := rl.stdout.String(); strings.Count(out, "POST /n → 202") != 3 || !strings.Contains(out, `{"n":2}`) {
		t.Errorf("listen's output: want three requests printed:\n%s", out)
	}
}

// What listen cannot take is answered, and the connection closed.
func TestListenRefuses(t *testing.T) {
	t.Parallel()
	rl := listenInProcess(t)
	cases := []struct {
		name string
		raw  string
		want int
	}{
		{"malformed", "NOT HTTP\r\n\r\n", http.StatusBadRequest},
		{"body too large", fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", maxWireBody+1), http.StatusRequestEntityTooLarge},
		{"head too large", "POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", maxWireHead) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
		{"chunked body too large", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
			strings.Repeat(fmt.Sprintf("%x\r\n%s\r\n", 1<<20, strings.Repeat("a", 1<<20)), 11) + "0\r\n\r\n", http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, br := rl.dial(t)
			go io.WriteString(c, tc.raw) // listen may answer before it has read everything
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want || !resp.Close {
				t.Errorf("got %d, close %v; want %d and the connection closed", resp.StatusCode, resp.Close, tc.want)
			}
		})
	}
	if out := rl.stdout.String(); out != "" {
		t.Errorf("listen printed refused requests:\n%s", out)
	}
}

// --profile takes a profile's name, found in --profiles as serve finds it, as
// well as its file: either way FormVox's signature is checked.
func TestListenProfileByName(t *testing.T) {
	t.Parallel()
	const secret = "whsec_0123456789abcdefghijklmnopqrstuv"
	cases := map[string][]string{
		"name":  {"--profile", "formvox", "--profiles", "../../examples/profiles"},
		"file":  {"--profile", "../../examples/profiles/formvox.yaml"},
		"files": {"--profiles", "../../examples/profiles/formvox.yaml", "--profile", "formvox"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rl := listenInProcess(t, append(args, "--secret", secret)...)
			body := `{"event":"response.created","timestamp":"2026-01-27T10:30:00Z","form":{},"data":{}}`
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write([]byte(ts + "." + body))
			for _, tc := range []struct {
				signature string
				want      int
			}{{"v1=" + hex.EncodeToString(mac.Sum(nil)), http.StatusOK}, {"v1=" + strings.Repeat("0", 64), http.StatusUnauthorized}} {
				c, br := rl.dial(t)
				resp := exchange(t, c, br, "POST /formvox HTTP/1.1\r\nHost: 127.0.0.1\r\nX-FormVox-Timestamp: "+ts+"\r\nX-FormVox-Signature: "+tc.signature+
					"\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
				if resp.StatusCode != tc.want {
					t.Errorf("signature %.12s…: got %d, want %d:\n%s", tc.signature, resp.StatusCode, tc.want, rl.stdout.String())
				}
			}
			// A request of another profile (Standard Webhooks): the verdict says
			// what to look at.
			c, br := rl.dial(t)
			resp := exchange(t, c, br, "POST /standard HTTP/1.1\r\nHost: 127.0.0.1\r\nwebhook-signature: v1,AAAA\r\nContent-Length: 2\r\n\r\n{}")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("a request without X-FormVox-Signature: got %d, want 401", resp.StatusCode)
			}
			out := rl.stdout.String()
			if !strings.Contains(out, "→ 200 (signature valid)\n") || !strings.Contains(out, "X-FormVox-Signature: v1=") {
				t.Errorf("listen's output lacks the valid request:\n%s", out)
			}
			if !strings.Contains(out, "missing header X-FormVox-Signature; is the webhook's profile the one listen checks (--profile)?") {
				t.Errorf("listen's verdict on a request without X-FormVox-Signature does not point at --profile:\n%s", out)
			}
		})
	}
}
