package api_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/config"
)

// rawRequest sends raw bytes on a new connection to the fixture and returns the
// answer, read whole (the server closes or the answer is complete).
func (fx *fixture) rawRequest(t *testing.T, raw string, closeWrite bool) (*http.Response, map[string]any) {
	t.Helper()
	c, err := net.Dial("tcp", fx.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		c.(*net.TCPConn).CloseWrite()
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", res.StatusCode, err, body)
	}
	return res, doc
}

// wantProblem checks a raw answer is a problem document with status.
func wantProblem(t *testing.T, res *http.Response, doc map[string]any, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("got status %d, want %d: %v", res.StatusCode, status, doc)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("got Content-Type %q, want application/problem+json", ct)
	}
	if got, _ := doc["status"].(float64); int(got) != status || !strings.HasPrefix(fmt.Sprint(doc["type"]), "urn:hookline:problem:") || doc["detail"] == "" {
		t.Errorf("not a problem document of status %d: %v", status, doc)
	}
}

// noErrorsLogged fails the test if the server logged at ERROR: what a client
// does wrong is not the server's error.
func (fx *fixture) noErrorsLogged(t *testing.T) {
	t.Helper()
	if logs := fx.logs.String(); strings.Contains(logs, "level=ERROR") {
		t.Errorf("the server logged an error for a client's fault:\n%s", logs)
	}
}

// A body that cannot be read is the client's fault: 400, or 408 when it is
// too slow; never a 500 logged as the server's error.
func TestUnreadableBodies(t *testing.T) {
	t.Parallel()
	fx := setup(t, func(c *config.Config) { c.ReadTimeout = 500 * time.Millisecond })
	head := "POST /v1/webhooks HTTP/1.1\r\nHost: hookline\r\nAuthorization: Bearer " + fx.admin + "\r\nContent-Type: application/json\r\n"

	t.Run("shorter than its length", func(t *testing.T) {
		res, doc := fx.rawRequest(t, head+"Content-Length: 100\r\n\r\n{\"url\":", true)
		wantProblem(t, res, doc, http.StatusBadRequest)
	})
	t.Run("malformed chunks", func(t *testing.T) {
		res, doc := fx.rawRequest(t, head+"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"url\r\nzz\r\n", true)
		wantProblem(t, res, doc, http.StatusBadRequest)
	})
	t.Run("unfinished chunks", func(t *testing.T) {
		res, doc := fx.rawRequest(t, head+"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"url\r\n", true)
		wantProblem(t, res, doc, http.StatusBadRequest)
	})
	t.Run("too slow", func(t *testing.T) {
		res, doc := fx.rawRequest(t, head+"Content-Length: 100\r\n\r\n{\"url\":", false)
		wantProblem(t, res, doc, http.StatusRequestTimeout)
	})
	fx.noErrorsLogged(t)
}

// What net/http answers by itself, before any handler, is a problem document
// too; so is the redirect of a path that is not in canonical form.
func TestProtocolAnswersAreProblems(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	for _, c := range []struct {
		name, raw string
		status    int
	}{
		{"no Host header", "GET /v1/webhooks HTTP/1.1\r\n\r\n", http.StatusBadRequest},
		{"malformed header", "GET /v1/webhooks HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", http.StatusBadRequest},
		{"headers too large", "GET /v1/webhooks HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 80<<10) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
		{"unknown HTTP version", "GET /v1/webhooks HTTP/2.5\r\nHost: x\r\n\r\n", http.StatusHTTPVersionNotSupported},
		{"unknown transfer encoding", "POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", http.StatusNotImplemented},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, doc := fx.rawRequest(t, c.raw, false)
			wantProblem(t, res, doc, c.status)
		})
	}
	t.Run("path not in canonical form", func(t *testing.T) {
		res, doc := fx.rawRequest(t, "POST //v1/./events?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", false)
		wantProblem(t, res, doc, http.StatusTemporaryRedirect)
		if loc := res.Header.Get("Location"); loc != "/v1/events?x=1" {
			t.Errorf("got Location %q, want /v1/events?x=1", loc)
		}
	})
}

// Text that JSON decoding would silently change is refused, naming the field,
// as data and type already were; so is the zero timestamp.
func TestStrictStrings(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	for _, c := range []struct {
		name, path, body, field string
	}{
		{"tenant not UTF-8", "/v1/events", "{\"type\":\"a.b\",\"tenant\":\"ac\xffme\",\"data\":{}}", "tenant"},
		{"id not UTF-8", "/v1/events", "{\"type\":\"a.b\",\"id\":\"e\xc3\",\"data\":{}}", "id"},
		{"id with a lone surrogate", "/v1/events", `{"type":"a.b","id":"e\ud800","data":{}}`, "id"},
		{"zero timestamp", "/v1/events", `{"type":"a.b","timestamp":"0001-01-01T00:00:00Z","data":{}}`, "timestamp"},
		{"timestamp before 1970", "/v1/events", `{"type":"a.b","timestamp":"1969-12-31T23:59:59Z","data":{}}`, "timestamp"},
		{"batch item tenant", "/v1/events/batch", `{"events":[{"type":"a.b","data":{}},{"type":"a.b","tenant":"x\udfff","data":{}}]}`, "events[1].tenant"},
		{"webhook description", "/v1/webhooks", "{\"url\":\"" + discard + "\",\"description\":\"caf\xe9\"}", "description"},
		{"webhook tenant", "/v1/webhooks", `{"url":"` + discard + `","tenant":"\udc00"}`, "tenant"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fx.do(t, "POST", c.path, fx.admin, c.body).problem(t, http.StatusUnprocessableEntity, c.field)
		})
	}
	if n := len(fx.do(t, "GET", "/v1/events", fx.admin, nil).must(t, http.StatusOK).items()); n != 0 {
		t.Errorf("after the refused publishes: got %d events, want 0", n)
	}
	// A lone surrogate in data is data's own: delivered as sent.
	fx.publish(t, fx.admin, obj{"type": "a.b", "data": json.RawMessage(`{"s":"\ud800"}`)})
}

// A page of a list is bounded in bytes as well as in items: large events end
// it early, with a cursor to the rest.
func TestListPagesAreBoundedInBytes(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	big := strings.Repeat("x", 1_000_000)
	for i := range 6 {
		fx.publish(t, fx.admin, obj{"type": "a.b", "data": obj{"n": i, "s": big}})
	}
	r := fx.do(t, "GET", "/v1/events?limit=10", fx.admin, nil).must(t, http.StatusOK)
	if n := len(r.items()); n >= 6 || n < 1 || r.str("next_cursor") == "" {
		t.Fatalf("first page: got %d items, next_cursor %q; want fewer than 6 and a cursor", n, r.str("next_cursor"))
	}
	if len(r.raw) > 4<<20+1_100_000 {
		t.Errorf("first page is %d bytes, want at most 4 MiB and one event", len(r.raw))
	}
	var all []string
	for _, p := range fx.listAll(t, "/v1/events", fx.admin, 10) {
		all = append(all, p...)
	}
	if len(all) != 6 || len(uniq(all)) != 6 {
		t.Errorf("following the cursors: got %d events (%d different), want 6", len(all), len(uniq(all)))
	}
}

// What a webhook holds is bounded, so that a list of them is too.
func TestWebhookSizeLimits(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	for _, c := range []struct {
		name  string
		body  obj
		field string
	}{
		{"metadata value", obj{"url": discard, "metadata": obj{"k": strings.Repeat("v", 513)}}, "metadata"},
		{"metadata key", obj{"url": discard, "metadata": obj{strings.Repeat("k", 65): "v"}}, "metadata"},
		{"headers in all", obj{"url": discard, "headers": obj{"X-A": strings.Repeat("a", 4000), "X-B": strings.Repeat("b", 4000),
			"X-C": strings.Repeat("c", 4000), "X-D": strings.Repeat("d", 4000), "X-E": strings.Repeat("e", 4000)}}, "headers"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fx.do(t, "POST", "/v1/webhooks", fx.admin, c.body).problem(t, http.StatusUnprocessableEntity, c.field)
		})
	}
	fx.createWebhook(t, fx.admin, obj{"url": discard, "metadata": obj{strings.Repeat("k", 64): strings.Repeat("v", 512)}})
}

// A client that asks for large answers and never reads them is cut off after
// the write timeout, instead of holding the connection and the answers'
// memory.
func TestSlowReaderIsCutOff(t *testing.T) {
	t.Parallel()
	fx := setup(t, func(c *config.Config) { c.WriteTimeout = 300 * time.Millisecond })
	big := strings.Repeat("x", 1_000_000)
	for i := range 4 {
		fx.publish(t, fx.admin, obj{"type": "a.b", "data": obj{"n": i, "s": big}})
	}
	// A small receive window, so the server's writes block once its own send
	// buffer (at most 4 MiB here) is full.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return serr
	}}
	c, err := d.Dial("tcp", fx.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const requests = 4 // each answer is 4 MB
	req := "GET /v1/events?limit=4 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + fx.admin + "\r\n\r\n"
	if _, err := io.WriteString(c, strings.Repeat(req, requests)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // well past the write timeout
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := io.Copy(io.Discard, c)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("after %d bytes the connection is still open; want it closed by the server's write timeout", n)
	case err != nil && !errors.Is(err, syscall.ECONNRESET):
		t.Fatalf("reading: %v", err)
	case n >= requests*4_000_000:
		t.Errorf("got %d bytes, all the answers; want the connection cut before", n)
	}
	fx.noErrorsLogged(t)
}

// Test sends beyond their bound are refused with 429 and Retry-After.
func TestTestSendsBeyondTheirBound(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	hold := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release })
	srv := &http.Server{Handler: hold}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	id := fx.createWebhook(t, fx.admin, obj{"url": "http://" + ln.Addr().String() + "/slow"}).str("id")

	answers := make(chan response, 3)
	for range 3 {
		go func() {
			r, err := fx.send("POST", "/v1/webhooks/"+id+"/test", fx.admin, nil, nil)
			if err != nil {
				t.Error(err)
			}
			answers <- r
		}()
	}
	r := <-answers // the third call is refused while the first two hang
	r.problem(t, http.StatusTooManyRequests, "")
	if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("got Retry-After %q, want a number of seconds", r.header.Get("Retry-After"))
	}
	once.Do(func() { close(release) })
	for range 2 {
		(<-answers).must(t, http.StatusOK)
	}
	fx.do(t, "POST", "/v1/webhooks/"+id+"/test", fx.admin, nil).must(t, http.StatusOK)
}
