package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// fuzzBodyRoutes are the routes that read a body, with an object of the path
// where one is needed.
var fuzzBodyRoutes = []struct{ method, path string }{
	{"POST", "/v1/webhooks"},
	{"PUT", "/v1/webhooks/{wh}"},
	{"PATCH", "/v1/webhooks/{wh}"},
	{"POST", "/v1/webhooks/{wh}/rotate-secret"},
	{"POST", "/v1/events"},
	{"POST", "/v1/events/batch"},
	{"POST", "/v1/event-types"},
	{"PUT", "/v1/event-types/a.b"},
	{"POST", "/v1/profiles"},
	{"POST", "/v1/api-keys"},
}

// fuzzQueryRoutes are the routes that read a query string.
var fuzzQueryRoutes = []string{
	"/v1/webhooks", "/v1/webhooks/{wh}", "/v1/webhooks/{wh}/logs", "/v1/events", "/v1/deliveries",
	"/v1/event-types", "/v1/profiles", "/v1/api-keys",
}

// checkAnswer is what every answer to any input must be: not a 5xx, and JSON
// (a problem document when it is an error).
func checkAnswer(t *testing.T, what string, r response) {
	t.Helper()
	if r.status >= 500 {
		t.Fatalf("%s: got %d: %s", what, r.status, r.raw)
	}
	if !json.Valid(r.raw) {
		t.Fatalf("%s: answer %d is not JSON: %q", what, r.status, r.raw)
	}
	ct := r.header.Get("Content-Type")
	if r.status >= 400 && ct != "application/problem+json" || r.status < 400 && ct != "application/json" {
		t.Fatalf("%s: answer %d has Content-Type %q", what, r.status, ct)
	}
}

// FuzzRequestBody sends arbitrary bodies to every route that reads one: no
// input may crash the server or make it answer 5xx.
func FuzzRequestBody(f *testing.F) {
	for _, seed := range []string{
		`{"url":"http://127.0.0.1:9/h","events":["a.*"],"headers":{"X-A":"b"},"metadata":{"k":"v"}}`,
		`{"type":"a.b","data":{"x":[1,2.5e10,"\ud800",null]},"tenant":"acme","id":"e1","timestamp":"2024-01-01T00:00:00Z"}`,
		`{"events":[{"type":"a.b","data":{}},{"type":"x","data":1}]}`,
		`{"name":"a.b","description":"d","example":{"a":1}}`,
		`{"name":"p","definition":{"signature":{"scheme":"hmac-sha256"}}}`,
		`{"name":"k","scopes":["admin"],"rate_limit":10}`,
		`{"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","grace_period":"1h"}`,
		"{\"tenant\":\"\xff\"}", `{"data":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`,
		``, `null`, `[]`, `{}`, `{"url":1}`, `{"a":1}{"b":2}`,
	} {
		for i := range fuzzBodyRoutes {
			f.Add(uint8(i), []byte(seed))
		}
	}
	fx := setup(f)
	wh := fx.mustSend(f, "POST", "/v1/webhooks", `{"url":"http://127.0.0.1:9/h"}`)["id"].(string)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := fuzzBodyRoutes[int(route)%len(fuzzBodyRoutes)]
		path := strings.ReplaceAll(rt.path, "{wh}", wh)
		r, err := fx.send(rt.method, path, fx.admin, body, nil)
		if err != nil {
			t.Fatalf("%s %s: %v", rt.method, path, err)
		}
		checkAnswer(t, rt.method+" "+path, r)
	})
}

// FuzzQueryString sends arbitrary query strings to every list and read: no
// input may crash the server or make it answer 5xx.
func FuzzQueryString(f *testing.F) {
	for _, seed := range []string{
		"limit=10", "limit=0", "limit=-1", "limit=99999999999999999999", "cursor=wh_zzz", "cursor=%00",
		"tenant=acme&limit=2", "status=pending&webhook_id=wh_x&event_id=evt_y", "type=a.b", "include_secret=true",
		"limit=1&limit=2", "%zz", "tenant=%ff", "cursor=" + strings.Repeat("a", 5000),
	} {
		for i := range fuzzQueryRoutes {
			f.Add(uint8(i), seed)
		}
	}
	fx := setup(f)
	wh := fx.mustSend(f, "POST", "/v1/webhooks", `{"url":"http://127.0.0.1:9/h"}`)["id"].(string)
	f.Fuzz(func(t *testing.T, route uint8, query string) {
		path := strings.ReplaceAll(fuzzQueryRoutes[int(route)%len(fuzzQueryRoutes)], "{wh}", wh)
		req, err := http.NewRequest("GET", fx.url+path, nil)
		if err != nil {
			t.Skip() // not a URL a client can send
		}
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+fx.admin)
		res, err := fx.client.Do(req)
		if err != nil {
			t.Skip() // refused by the client before sending
		}
		defer res.Body.Close()
		r := response{status: res.StatusCode, header: res.Header}
		if r.raw, err = readAll(res); err != nil {
			t.Fatal(err)
		}
		checkAnswer(t, "GET "+path+"?"+query, r)
	})
}

// mustSend sends a request with the admin key and returns its JSON answer,
// failing unless it is 2xx.
func (fx *fixture) mustSend(t testing.TB, method, path, body string) map[string]any {
	t.Helper()
	r, err := fx.send(method, path, fx.admin, body, nil)
	if err != nil || r.status >= 300 {
		t.Fatalf("%s %s: got %d %s, %v", method, path, r.status, r.raw, err)
	}
	return r.body
}

func readAll(res *http.Response) ([]byte, error) { return io.ReadAll(res.Body) }
