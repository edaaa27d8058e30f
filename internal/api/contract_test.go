package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The contract test: every exchange the API tests make with a server goes
// through CheckContract, which holds it to openapi.json as kin-openapi reads
// it: the request with kin-openapi's ValidateRequest, the answer (status,
// headers, body) against the responses kin-openapi resolved. A route or an
// answer the document does not describe fails the test that made it.

// contractSpec is openapi.json as kin-openapi loads it.
type contractSpec struct {
	doc   *openapi3.T
	paths []contractPath
	// unmatched are the answers to requests no operation matches, by status
	// (the document's x-unmatched-requests).
	unmatched map[int]*openapi3.ResponseRef
	// kinds are the kinds of problem the document lists, by type.
	kinds  map[string]problemKind
	bodies *bodySchemas
}

// contractPath is a path of the document, split in segments: literal ones,
// and "{name}" ones that match any non-empty segment, as in ServeMux.
type contractPath struct {
	template string
	segments []string
	item     *openapi3.PathItem
}

// loadContract loads and validates the document once per test process.
var loadContract = sync.OnceValues(func() (*contractSpec, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		return nil, fmt.Errorf("loading openapi.json: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.json does not validate: %w", err)
	}
	c := &contractSpec{doc: doc, kinds: documentedKinds(doc)}
	for template, item := range doc.Paths.Map() {
		c.paths = append(c.paths, contractPath{template: template, segments: strings.Split(template, "/"), item: item})
	}
	if c.unmatched, err = unmatchedResponses(); err != nil {
		return nil, err
	}
	if c.bodies, err = newBodySchemas(); err != nil {
		return nil, err
	}
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusNotFound, http.StatusMethodNotAllowed} {
		if c.unmatched[code] == nil {
			return nil, fmt.Errorf("x-unmatched-requests does not declare %d", code)
		}
	}
	return c, nil
})

// unmatchedResponses reads the document's x-unmatched-requests. kin-openapi
// reads responses in operations only, so they are loaded as the responses of
// an operation of a copy of the document, where their references resolve.
func unmatchedResponses() (map[int]*openapi3.ResponseRef, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		return nil, err
	}
	ext, _ := doc["x-unmatched-requests"].(map[string]any)
	doc["paths"] = map[string]any{"/": map[string]any{"get": map[string]any{"responses": ext["responses"]}}}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	copied, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("x-unmatched-requests: %w", err)
	}
	if err := copied.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("x-unmatched-requests: %w", err)
	}
	out := map[int]*openapi3.ResponseRef{}
	for code, r := range copied.Paths.Value("/").Get.Responses.Map() {
		status, err := strconv.Atoi(code)
		if err != nil {
			return nil, fmt.Errorf("x-unmatched-requests: %q is not a status", code)
		}
		out[status] = r
	}
	return out, nil
}

// CheckContract returns h, the API, checking every exchange against
// openapi.json and failing t for each that it does not describe. A request
// the document describes must get an answer it declares for the operation,
// with its status, headers and body; one it does not describe (tests send
// bad requests on purpose) must get a 4xx the operation declares. A request
// no operation matches must get the document's x-unmatched-requests answer.
// The pages of /portal/ and /console/ are not part of the API and pass
// unchecked.
//
// Exchanges are checked in goroutines, after the answer: failures are
// t.Errorf, and t's cleanup waits for the checks (register it before the
// server's, which then closes first).
func CheckContract(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	ch := &contractHandler{spec: c, next: h, errorf: t.Errorf}
	var mu sync.Mutex
	var failures []string
	f, fuzz := t.(*testing.F)
	if fuzz {
		// A fuzz target may not call f's methods: its mismatches are
		// reported when the fuzz test ends.
		ch.errorf = func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	t.Cleanup(func() {
		ch.pending.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, msg := range failures {
			f.Error(msg)
		}
	})
	return ch
}

// contractHandler is CheckContract's handler. It checks an exchange once the
// handler has answered, in a goroutine of its own, so that the answer is not
// held back: the server's write deadline counts from the request.
type contractHandler struct {
	spec    *contractSpec
	next    http.Handler
	errorf  func(format string, args ...any)
	pending sync.WaitGroup
}

func (ch *contractHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/portal/") || strings.HasPrefix(r.URL.Path, "/console/") {
		ch.next.ServeHTTP(w, r)
		return
	}
	// The request as it came, before a handler changes it, with a context
	// that outlives this call.
	req := r.Clone(context.Background())
	in := &bodyRecorder{r: r.Body}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = in
	} else {
		in.done = true
	}
	out := &answerRecorder{ResponseWriter: w}
	ch.next.ServeHTTP(out, r)
	if r.Context().Err() != nil {
		return // the client went away: nobody reads the answer
	}
	a := out.answer()
	ch.pending.Go(func() {
		if err := ch.spec.check(req, in, a); err != nil {
			ch.errorf("openapi.json does not describe %s %s → %d: %v", req.Method, req.URL.RequestURI(), a.status, err)
		}
	})
}

// bodyRecorder keeps what the handler reads of a request body.
type bodyRecorder struct {
	r    io.ReadCloser
	buf  bytes.Buffer
	done bool  // read to its end
	err  error // why reading it failed
}

func (b *bodyRecorder) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.buf.Write(p[:n])
	switch {
	case err == io.EOF:
		b.done = true
	case err != nil:
		b.err = err
	}
	return n, err
}

func (b *bodyRecorder) Close() error { return b.r.Close() }

// answerRecorder passes an answer through, keeping a copy.
type answerRecorder struct {
	http.ResponseWriter
	status int
	header http.Header // as it was when the status was written
	body   bytes.Buffer
}

func (w *answerRecorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status, w.header = code, w.ResponseWriter.Header().Clone()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *answerRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *answerRecorder) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *answerRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// answer is what the client received.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (w *answerRecorder) answer() answer {
	a := answer{status: w.status, header: w.header, body: w.body.Bytes()}
	if a.status == 0 {
		a.status, a.header = http.StatusOK, w.ResponseWriter.Header().Clone()
	}
	if a.header.Get("Content-Type") == "" && len(a.body) > 0 {
		// net/http sniffs what the handler did not say.
		a.header.Set("Content-Type", http.DetectContentType(a.body))
	}
	return a
}

// check holds one exchange to the document.
func (c *contractSpec) check(req *http.Request, in *bodyRecorder, a answer) error {
	if req.Method != http.MethodConnect && cleanPath(req.URL.Path) != req.URL.Path {
		return c.checkUnmatched(req, http.StatusTemporaryRedirect, a)
	}
	route, params, allow := c.route(req)
	if route == nil {
		if len(allow) == 0 {
			return c.checkUnmatched(req, http.StatusNotFound, a)
		}
		if err := c.checkUnmatched(req, http.StatusMethodNotAllowed, a); err != nil {
			return err
		}
		if got, want := a.header.Get("Allow"), strings.Join(allow, ", "); got != want {
			return fmt.Errorf("Allow: got %q, want the methods the document gives the path, %q", got, want)
		}
		return nil
	}

	opts := &openapi3filter.Options{
		AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc, // the API checks keys itself
		SkipSettingDefaults:               true,
		RejectWhenRequestBodyNotSpecified: true,
	}
	vreq := req.Clone(req.Context())
	var reqErr error
	switch {
	case in.err != nil:
		reqErr = fmt.Errorf("the request body could not be read whole: %w", in.err)
		opts.ExcludeRequestBody = true
	case !in.done:
		// The handler answered without reading the whole body (an early
		// refusal, a body over the limit, a route that takes none): only
		// what it saw is checked, and that there was a body at all.
		opts.ExcludeRequestBody = true
		if route.Operation.RequestBody == nil && req.ContentLength != 0 {
			reqErr = errors.New("the request has a body, which the operation does not take")
		}
	default:
		vreq.Body, vreq.ContentLength = io.NopCloser(bytes.NewReader(in.buf.Bytes())), int64(in.buf.Len())
	}
	// The server takes a body of any +json type as JSON, as the document's
	// description says. A media type key cannot say so (a structured suffix
	// is not a media range), so the body is checked as application/json.
	if mt, mtParams, err := mime.ParseMediaType(vreq.Header.Get("Content-Type")); err == nil && strings.HasSuffix(mt, "+json") && strings.HasPrefix(mt, "application/") {
		vreq.Header.Set("Content-Type", mime.FormatMediaType("application/json", mtParams))
	}
	input := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil && reqErr == nil {
		reqErr = err
	}
	resErr := c.checkAnswer(route.Operation.Responses, "/paths/"+pointerToken(route.Path)+"/"+strings.ToLower(req.Method)+"/responses", req.Method == http.MethodHead, a)
	switch {
	case reqErr != nil && resErr != nil:
		return fmt.Errorf("the request does not match the document (%s), and the answer is not one the operation declares: %s", brief(reqErr), brief(resErr))
	case resErr != nil:
		return errors.New(brief(resErr))
	case reqErr != nil && (a.status < 400 || a.status > 499):
		return fmt.Errorf("the request does not match the document, so the answer should be a 4xx the operation declares: %s", brief(reqErr))
	}
	return nil
}

// brief is a validator's message without the schemas kin-openapi quotes.
func brief(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\nSchema:")
	if len(msg) > 1500 {
		msg = msg[:1500] + " …"
	}
	return msg
}

// checkUnmatched holds the answer to a request no operation matches to the
// document's answer for that case.
func (c *contractSpec) checkUnmatched(req *http.Request, want int, a answer) error {
	if a.status != want {
		return fmt.Errorf("no operation matches the request: got status %d, want %d (x-unmatched-requests)", a.status, want)
	}
	return c.checkAnswer(openapi3.NewResponses(openapi3.WithStatus(want, c.unmatched[want])), "/x-unmatched-requests/responses", req.Method == http.MethodHead, a)
}

// route finds the operation of the document that req is for, as ServeMux
// does: of the paths that match, the most specific one with an operation for
// the method. Without one, allow lists the methods of the paths that match,
// in the order of the server's Allow.
func (c *contractSpec) route(req *http.Request) (route *routers.Route, params map[string]string, allow []string) {
	segments := strings.Split(req.URL.EscapedPath(), "/")
	methods := map[string]bool{}
	literals := -1
	for _, p := range c.paths {
		got, n, ok := p.match(segments)
		if !ok {
			continue
		}
		for m := range p.item.Operations() {
			methods[m] = true
		}
		if op := p.item.GetOperation(req.Method); op != nil && n > literals {
			literals, params = n, got
			route = &routers.Route{Spec: c.doc, Path: p.template, PathItem: p.item, Method: req.Method, Operation: op}
		}
	}
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if methods[m] {
			allow = append(allow, m)
		}
	}
	return route, params, allow
}

// match reports whether the escaped path segments match p, with the values
// of its parameters and how many of its segments are literal.
func (p contractPath) match(segments []string) (params map[string]string, literals int, ok bool) {
	if len(segments) != len(p.segments) {
		return nil, 0, false
	}
	params = map[string]string{}
	for i, want := range p.segments {
		got, err := url.PathUnescape(segments[i])
		if err != nil {
			return nil, 0, false
		}
		if name, isParam := strings.CutPrefix(want, "{"); isParam {
			if got == "" {
				return nil, 0, false
			}
			params[strings.TrimSuffix(name, "}")] = got
			continue
		}
		if got != want {
			return nil, 0, false
		}
		literals++
	}
	return params, literals, true
}

// checkAnswer holds an answer to the responses declared at at, a JSON
// pointer into the document (an operation's responses, or those of
// x-unmatched-requests): its status, its headers and its body. An answer to
// HEAD is held to the same response, without its body.
//
// kin-openapi's ValidateResponse would do the same, but it compiles each
// JSON Schema again at every call, which made the API tests more than half
// again as slow; here the schemas are kin-openapi's, with their references
// resolved, and each is compiled once (bodySchemas), by the same JSON Schema
// 2020-12 validator kin-openapi uses for 3.1 documents.
func (c *contractSpec) checkAnswer(declared *openapi3.Responses, at string, head bool, a answer) error {
	code := strconv.Itoa(a.status)
	ref := declared.Map()[code]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("status %d is not declared (it declares %s)", a.status, strings.Join(slices.Sorted(maps.Keys(declared.Map())), ", "))
	}
	at += "/" + code
	if ref.Ref != "" {
		at = strings.TrimPrefix(ref.Ref, "#")
	}
	if err := c.checkHeaders(ref.Value, at, a); err != nil {
		return err
	}
	return c.checkBody(ref.Value, at, a, head)
}

// checkHeaders holds an answer's headers to those of the response r, which
// is at at in the document.
func (c *contractSpec) checkHeaders(r *openapi3.Response, at string, a answer) error {
	for _, name := range slices.Sorted(maps.Keys(r.Headers)) {
		ref := r.Headers[name]
		values, ok := a.header[http.CanonicalHeaderKey(name)]
		switch {
		case !ok && ref.Value.Required:
			return fmt.Errorf("response header %q missing", name)
		case !ok || ref.Value.Schema == nil:
			continue
		case len(values) > 1:
			return fmt.Errorf("response header %q is sent %d times", name, len(values))
		}
		// A header of simple style is its value as is; a number is parsed.
		var v any = values[0]
		if t := ref.Value.Schema.Value.Type; t.Is("integer") || t.Is("number") {
			n, err := strconv.ParseFloat(values[0], 64)
			if err != nil {
				return fmt.Errorf("response header %q: %q is not a number", name, values[0])
			}
			v = n
		}
		pointer := at + "/headers/" + pointerToken(name) + "/schema"
		if ref.Ref != "" {
			pointer = strings.TrimPrefix(ref.Ref, "#") + "/schema"
		}
		if err := c.bodies.validateValue(pointer, v); err != nil {
			return fmt.Errorf("response header %q: %w", name, err)
		}
	}
	return nil
}

// checkBody holds an answer's body to the content of the response r, which
// is at at in the document.
func (c *contractSpec) checkBody(r *openapi3.Response, at string, a answer, head bool) error {
	if len(r.Content) == 0 {
		if len(a.body) > 0 && !head {
			return fmt.Errorf("the answer has a body (%d bytes), which the response does not declare", len(a.body))
		}
		return nil
	}
	ct := a.header.Get("Content-Type")
	media := r.Content.Get(ct)
	if media == nil {
		return fmt.Errorf("response Content-Type %q is not one the response declares (%s)", ct, strings.Join(slices.Sorted(maps.Keys(r.Content)), ", "))
	}
	if head || media.Schema == nil {
		return nil
	}
	var key string
	for k, m := range r.Content {
		if m == media {
			key = k
		}
	}
	if err := c.checkProblems(a); err != nil {
		return err // before the schema, whose oneOf would say it less plainly
	}
	if err := c.bodies.validate(at+"/content/"+pointerToken(key)+"/schema", ct, a.body); err != nil {
		return fmt.Errorf("response body: %w", err)
	}
	return checkProblemStatus(a)
}

// pointerToken escapes a JSON pointer token (RFC 6901).
func pointerToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// bodySchemas validates values (bodies, headers) against the schemas of
// openapi.json with the JSON Schema 2020-12 validator kin-openapi uses for
// 3.1 documents, compiling each schema once.
type bodySchemas struct {
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema // by JSON pointer into openapi.json
}

const bodySchemasURL = "mem:///openapi.json"

func newBodySchemas() (*bodySchemas, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(openAPIDocument))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// The formats kin-openapi asserts (date-time, …), as it asserts them.
	for name, f := range openapi3.SchemaStringFormats {
		c.RegisterFormat(&jsonschema.Format{Name: name, Validate: func(v any) error {
			if s, ok := v.(string); ok {
				return f.Validate(s)
			}
			return nil
		}})
	}
	c.AssertFormat()
	if err := c.AddResource(bodySchemasURL, doc); err != nil {
		return nil, err
	}
	return &bodySchemas{compiler: c, compiled: map[string]*jsonschema.Schema{}}, nil
}

// validate validates body, of media type ct, against the schema at pointer.
func (b *bodySchemas) validate(pointer, ct string, body []byte) error {
	var v any = string(body)
	if mt, _, _ := mime.ParseMediaType(ct); strings.HasSuffix(mt, "json") {
		var err error
		if v, err = jsonschema.UnmarshalJSON(bytes.NewReader(body)); err != nil {
			return fmt.Errorf("not JSON: %w", err)
		}
	}
	return b.validateValue(pointer, v)
}

// validateValue validates v against the schema at pointer.
func (b *bodySchemas) validateValue(pointer string, v any) error {
	b.mu.Lock()
	s, ok := b.compiled[pointer]
	if !ok {
		var err error
		if s, err = b.compiler.Compile(bodySchemasURL + "#" + pointer); err != nil {
			b.mu.Unlock()
			return fmt.Errorf("compiling the schema at %s: %w", pointer, err)
		}
		b.compiled[pointer] = s
	}
	b.mu.Unlock()
	return s.Validate(v)
}

// checkProblems holds the problems of a JSON answer (the answer itself, or a
// batch's results) to the kinds the document lists, with a plainer message
// than a oneOf's.
func (c *contractSpec) checkProblems(a answer) error {
	if mt, _, _ := mime.ParseMediaType(a.header.Get("Content-Type")); !strings.HasSuffix(mt, "json") {
		return nil
	}
	var v any
	if json.Unmarshal(a.body, &v) != nil {
		return nil // the schema check says so
	}
	var err error
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if typ, _ := v["type"].(string); strings.HasPrefix(typ, "urn:hookline:problem:") && err == nil {
				k, ok := c.kinds[typ]
				switch {
				case !ok:
					err = fmt.Errorf("problem type %q is not one the document lists (components.schemas.Problem.oneOf)", typ)
				case v["title"] != k.title || v["status"] != float64(k.status):
					err = fmt.Errorf("problem type %q has title %v and status %v, the document says %q and %d", typ, v["title"], v["status"], k.title, k.status)
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return err
}

// documentedKinds returns the kinds of problem the document lists, by type.
func documentedKinds(doc *openapi3.T) map[string]problemKind {
	kinds := map[string]problemKind{}
	for _, s := range doc.Components.Schemas["Problem"].Value.OneOf {
		props := s.Value.Properties
		typ, _ := props["type"].Value.Const.(string)
		title, _ := props["title"].Value.Const.(string)
		status, _ := props["status"].Value.Const.(float64)
		kinds[typ] = problemKind{status: int(status), title: title}
	}
	return kinds
}

// checkProblemStatus holds a problem's status member to the answer's: the
// document says they are the same, which a schema cannot.
func checkProblemStatus(a answer) error {
	if mt, _, _ := mime.ParseMediaType(a.header.Get("Content-Type")); mt != "application/problem+json" {
		return nil
	}
	var p struct{ Status int }
	if err := json.Unmarshal(a.body, &p); err != nil {
		return err
	}
	if p.Status != a.status {
		return fmt.Errorf("the problem's status is %d, the answer's %d", p.Status, a.status)
	}
	return nil
}

// ProblemKind returns the status and title of the problem type typ, as the
// server's table has them (for the tests of package api_test).
func ProblemKind(typ string) (status int, title string, ok bool) {
	kind, found := strings.CutPrefix(typ, "urn:hookline:problem:")
	k, known := problemKinds[kind]
	return k.status, k.title, found && known
}

func TestOpenAPIDocumentValidatesWithKin(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("kin-openapi reads version %q, want 3.1", doc.OpenAPI)
	}
	// Examples are validated too: an example its own schema refuses fails.
	if err := doc.Validate(context.Background(), openapi3.EnableMultiError()); err != nil {
		var me openapi3.MultiError
		if errors.As(err, &me) {
			for _, e := range me {
				t.Error(e)
			}
			return
		}
		t.Error(err)
	}
	if _, err := loadContract(); err != nil {
		t.Error(err)
	}
}

// errorsTB records the failures CheckContract reports.
type errorsTB struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (t *errorsTB) Errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed = append(t.failed, fmt.Sprintf(format, args...))
}

// TestCheckContractCatches feeds CheckContract answers the document does
// not describe, and some it does.
func TestCheckContractCatches(t *testing.T) {
	t.Parallel()
	problemBody := func(kind string, status int) string {
		k := problemKinds[kind]
		return fmt.Sprintf(`{"type":"urn:hookline:problem:%s","title":%q,"status":%d,"detail":"d","instance":"urn:hookline:request:r1"}`, kind, k.title, status)
	}
	cases := []struct {
		name, method, target, body string
		status                     int
		header                     map[string]string
		answer                     string
		wantFail                   bool
	}{
		{"described", "GET", "/healthz", "", 200, map[string]string{"Content-Type": "application/json"}, `{"status":"ok"}`, false},
		{"HEAD as GET", "HEAD", "/healthz", "", 200, map[string]string{"Content-Type": "application/json"}, "", false},
		{"body off its schema", "GET", "/healthz", "", 200, map[string]string{"Content-Type": "application/json"}, `{"status":5}`, true},
		{"undeclared status", "GET", "/healthz", "", 418, map[string]string{"Content-Type": "application/json"}, `{}`, true},
		{"undeclared content type", "GET", "/healthz", "", 200, map[string]string{"Content-Type": "text/plain"}, `ok`, true},
		{"HEAD with another content type", "HEAD", "/healthz", "", 200, map[string]string{"Content-Type": "text/plain"}, "", true},
		{"no Request-Id", "GET", "/healthz", "", 200, map[string]string{"Content-Type": "application/json", "Request-Id": ""}, `{"status":"ok"}`, true},
		{"401 with its challenge", "GET", "/v1/webhooks", "", 401, map[string]string{"Content-Type": "application/problem+json", "WWW-Authenticate": `Bearer realm="hookline"`}, problemBody("unauthorized", 401), false},
		{"401 without a challenge", "GET", "/v1/webhooks", "", 401, map[string]string{"Content-Type": "application/problem+json"}, problemBody("unauthorized", 401), true},
		{"problem kind not listed", "GET", "/v1/webhooks/x", "", 404, map[string]string{"Content-Type": "application/problem+json"}, `{"type":"urn:hookline:problem:gone","title":"Gone","status":404}`, true},
		{"problem of another status", "GET", "/v1/webhooks/x", "", 404, map[string]string{"Content-Type": "application/problem+json"}, problemBody("forbidden", 403), true},
		{"unknown route", "GET", "/v1/nothing", "", 404, map[string]string{"Content-Type": "application/problem+json"}, problemBody("not-found", 404), false},
		{"unknown route answered", "GET", "/v1/nothing", "", 200, map[string]string{"Content-Type": "application/json"}, `{}`, true},
		{"405 with Allow", "DELETE", "/v1/webhooks", "", 405, map[string]string{"Content-Type": "application/problem+json", "Allow": "GET, HEAD, POST"}, problemBody("method-not-allowed", 405), false},
		{"405 without Allow", "DELETE", "/v1/webhooks", "", 405, map[string]string{"Content-Type": "application/problem+json"}, problemBody("method-not-allowed", 405), true},
		{"405 with another Allow", "DELETE", "/v1/webhooks", "", 405, map[string]string{"Content-Type": "application/problem+json", "Allow": "GET, POST"}, problemBody("method-not-allowed", 405), true},
		{"bad request refused", "POST", "/v1/events", `{"type":"a b","data":{}}`, 422, map[string]string{"Content-Type": "application/problem+json"}, problemBody("validation", 422), false},
		{"bad request taken", "POST", "/v1/events", `{"type":"a b","data":{}}`, 202, map[string]string{"Content-Type": "application/json"}, `{"id":"evt_1","tenant":"t","type":"a b","timestamp":"2025-01-02T03:04:05Z","duplicate":false,"deliveries":[]}`, true},
		{"body where none is taken", "POST", "/v1/deliveries/x/retry", `{}`, 202, map[string]string{"Content-Type": "application/json"}, `{}`, true},
		{"204 with a body", "DELETE", "/v1/webhooks/x", "", 204, nil, `{}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &errorsTB{TB: t}
			h := CheckContract(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Request-Id", "r1")
				for k, v := range tc.header {
					if v == "" {
						w.Header().Del(k)
					} else {
						w.Header().Set(k, v)
					}
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.answer)
			}))
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			h.(*contractHandler).pending.Wait()
			if failed := len(rec.failed) > 0; failed != tc.wantFail {
				t.Errorf("got failures %q, want failing %v", rec.failed, tc.wantFail)
			}
		})
	}
}
