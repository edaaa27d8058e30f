package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
)

// Every answer carries a Request-Id; a problem repeats it in instance and
// the server's log lines about the request carry it as request_id, so "see
// the server log" leads to the right line.
func TestRequestID(t *testing.T) {
	t.Parallel()
	fx := setup(t)

	// Generated: req_ and an ID, different each time.
	a := fx.do(t, "GET", "/healthz", "", nil).must(t, http.StatusOK)
	b := fx.do(t, "GET", "/healthz", "", nil).must(t, http.StatusOK)
	idA, idB := a.header.Get("Request-Id"), b.header.Get("Request-Id")
	if !hookline.ValidID("req_", idA) || !hookline.ValidID("req_", idB) || idA == idB {
		t.Errorf("got Request-Id %q and %q, want two different req_ IDs", idA, idB)
	}

	// Honoured when the client sends a well-formed one, under either name.
	for _, name := range []string{"Request-Id", "X-Request-Id", "x-request-id"} {
		in := "client-" + strings.ToLower(name) + ".0f8b:42~A_b"
		r := fx.doHeader(t, "GET", "/v1/webhooks", fx.admin, nil, http.Header{http.CanonicalHeaderKey(name): {in}}).must(t, http.StatusOK)
		if got := r.header.Get("Request-Id"); got != in {
			t.Errorf("sent %s: %q: got Request-Id %q, want it kept", name, in, got)
		}
	}
	// Request-Id wins over X-Request-Id.
	both := http.Header{"Request-Id": {"the-one"}, "X-Request-Id": {"the-other"}}
	if got := fx.doHeader(t, "GET", "/healthz", "", nil, both).header.Get("Request-Id"); got != "the-one" {
		t.Errorf("sent both headers: got Request-Id %q, want the-one", got)
	}
	// Replaced when it is not.
	for _, in := range []string{"", "has space", "semi;colon", "quote\"", "slash/", "é", strings.Repeat("a", 129)} {
		r := fx.doHeader(t, "GET", "/healthz", "", nil, http.Header{"X-Request-Id": {in}})
		if got := r.header.Get("Request-Id"); !hookline.ValidID("req_", got) {
			t.Errorf("sent X-Request-Id %q: got Request-Id %q, want a generated req_ ID", in, got)
		}
	}

	// A problem's instance is the request id; the log line about it has it.
	p := fx.doHeader(t, "GET", "/v1/webhooks?limit=0", fx.admin, nil, http.Header{"X-Request-Id": {"trace-7f3a"}})
	p.problem(t, http.StatusBadRequest, "limit")
	if got := p.str("instance"); got != "urn:hookline:request:trace-7f3a" {
		t.Errorf("got instance %q, want urn:hookline:request:trace-7f3a", got)
	}
	if line := regexp.MustCompile(`(?m)^.*"request refused".*$`).FindAllString(fx.logs.String(), -1); len(line) == 0 ||
		!strings.Contains(strings.Join(line, "\n"), "request_id=trace-7f3a") {
		t.Errorf("no log line of the refused request has request_id=trace-7f3a:\n%s", fx.logs.String())
	}

	// Answers no route gives, and the portal's, have one too.
	for _, r := range []response{
		fx.do(t, "GET", "/v1/no-such-route", fx.admin, nil),
		fx.do(t, "DELETE", "/v1/webhooks", fx.admin, nil),
		fx.do(t, "GET", "/v1/webhooks", "", nil),
		fx.do(t, "GET", "/portal/", "", nil),
	} {
		id := r.header.Get("Request-Id")
		if !hookline.ValidID("req_", id) {
			t.Errorf("answer %d %.80s: got Request-Id %q, want a req_ ID", r.status, r.raw, id)
		}
		if r.body != nil && r.status >= 400 && r.str("instance") != "urn:hookline:request:"+id {
			t.Errorf("answer %d: got instance %q, want urn:hookline:request:%s", r.status, r.str("instance"), id)
		}
	}
	res, doc := fx.rawRequest(t, "GET /v1/webhooks HTTP/1.1\r\nHost: hookline\r\nBad Header\r\n\r\n", false)
	if id := res.Header.Get("Request-Id"); !hookline.ValidID("req_", id) || doc["instance"] != "urn:hookline:request:"+id {
		t.Errorf("net/http's own 400: got Request-Id %q and instance %v, want a req_ ID in both", id, doc["instance"])
	}
}
