package browsertest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// site is the test server: a page with a form, a button that a nonce'd script
// changes, cookies, and pages that break the CSP or reach outside.
func site(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	csp := func(w http.ResponseWriter) string {
		b := make([]byte, 16)
		rand.Read(b)
		nonce := hex.EncodeToString(b)
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+"'; img-src 'self'; form-action 'self'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		return nonce
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		nonce := csp(w)
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s3cret", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.SetCookie(w, &http.Cookie{Name: "pref", Value: "dark", Path: "/", SameSite: http.SameSiteLaxMode, MaxAge: 3600})
		fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><title>browsertest</title><style nonce="%[1]s">#tall { height: 1500px; }</style></head>
<body>
<h1 id="title">Hello, browser</h1>
<p id="status">waiting</p>
<button id="go" type="button">Go</button>
<a id="about" href="/about">About</a>
<form id="f" method="post" action="/submit">
 <label>Name <input id="name" name="name" value="old" required></label>
 <select id="color" name="color"><option value="red">Red</option><option value="green">Green</option></select>
 <button id="send" type="submit">Send</button>
</form>
<div id="tall"></div>
<p id="bottom">the end</p>
<script nonce="%[1]s">
let clicks = 0;
document.getElementById("go").addEventListener("click", () => {
  document.getElementById("status").textContent = "clicked " + (++clicks);
});
</script>
</body></html>`, nonce)
	})
	mux.HandleFunc("GET /about", func(w http.ResponseWriter, r *http.Request) {
		csp(w)
		fmt.Fprint(w, `<!doctype html><title>about</title><p id="what">A test page.</p>`)
	})
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) {
		csp(w)
		fmt.Fprintf(w, `<!doctype html><title>sent</title><p id="result">Hello, %s (%s)</p>`,
			html.EscapeString(r.PostFormValue("name")), html.EscapeString(r.PostFormValue("color")))
	})
	mux.HandleFunc("GET /csp", func(w http.ResponseWriter, r *http.Request) {
		nonce := csp(w)
		fmt.Fprintf(w, `<!doctype html><title>csp</title><p id="x">untouched</p><p id="y">untouched</p>
<script nonce="%s">document.getElementById("y").textContent = "nonce ran";</script>
<script>document.getElementById("x").textContent = "inline ran";</script>`, nonce)
	})
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		nonce := csp(w)
		fmt.Fprintf(w, `<!doctype html><title>console</title><p>hi</p>
<script nonce="%s">console.log("fine"); console.error("broken:", 42); null.nothing;</script>`, nonce)
	})
	mux.HandleFunc("GET /external", func(w http.ResponseWriter, r *http.Request) {
		// No CSP here: the browser must try the request for the test to mean
		// anything.
		fmt.Fprint(w, `<!doctype html><title>external</title>
<img id="plain" src="http://external.hookline.invalid/pixel.png" alt="">
<img id="tls" src="https://cdn.hookline.invalid/pixel.png" alt="">`)
	})
	ts := httptest.NewServer(mux) // on 127.0.0.1
	t.Cleanup(ts.Close)
	return ts
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestNavigateAndText(t *testing.T) {
	ts := site(t)
	b := New(t)
	must(t, b.Navigate(ts.URL+"/"))
	if got := b.URL(); got != ts.URL+"/" {
		t.Errorf("URL() = %q, want %q", got, ts.URL+"/")
	}
	if got := b.Status(); got != http.StatusOK {
		t.Errorf("Status() = %d, want 200", got)
	}
	got, err := b.Text("#title")
	must(t, err)
	if got != "Hello, browser" {
		t.Errorf("Text(#title) = %q, want %q", got, "Hello, browser")
	}
	var title string
	must(t, b.Eval("document.title", &title))
	if title != "browsertest" {
		t.Errorf("document.title = %q, want browsertest", title)
	}
	// A link to another page.
	must(t, b.ClickAndWait("#about"))
	if got, want := b.URL(), ts.URL+"/about"; got != want {
		t.Errorf("URL() after the link = %q, want %q", got, want)
	}
	if got, err := b.Text("#what"); err != nil || got != "A test page." {
		t.Errorf("Text(#what) = %q, %v", got, err)
	}
	// A missing page: Navigate succeeds, Status tells.
	must(t, b.Navigate(ts.URL+"/nothing-here"))
	if got := b.Status(); got != http.StatusNotFound {
		t.Errorf("Status() after a 404 = %d, want 404", got)
	}
	b.TakeProblems() // the browser logs the 404
}

func TestFormSubmitRoundTrip(t *testing.T) {
	ts := site(t)
	b := New(t)
	must(t, b.Navigate(ts.URL+"/"))
	must(t, b.Fill("#name", "Ada <Lovelace>"))
	if v, err := b.Value("#name"); err != nil || v != "Ada <Lovelace>" {
		t.Fatalf("after Fill, the field's value = %q, %v; want the old value replaced", v, err)
	}
	must(t, b.Fill("#color", "green"))
	if err := b.Fill("#color", "purple"); err == nil || !strings.Contains(err.Error(), "no option") {
		t.Errorf("Fill of a select with a value it lacks: err = %v, want one about the option", err)
	}
	must(t, b.Submit("#f"))
	if got, want := b.URL(), ts.URL+"/submit"; got != want {
		t.Errorf("URL() after submit = %q, want %q", got, want)
	}
	if b.Status() != http.StatusOK {
		t.Errorf("Status() after submit = %d, want 200", b.Status())
	}
	got, err := b.Text("#result")
	must(t, err)
	if want := "Hello, Ada <Lovelace> (green)"; got != want {
		t.Errorf("result = %q, want %q", got, want)
	}
}

func TestSubmitHonoursValidation(t *testing.T) {
	ts := site(t)
	b := New(t, ActionTimeout(time.Second))
	must(t, b.Navigate(ts.URL+"/"))
	must(t, b.Fill("#name", "")) // required
	err := b.Submit("#send")
	if err == nil {
		t.Fatalf("Submit of a form with an empty required field went through, to %s", b.URL())
	}
	if !strings.Contains(err.Error(), "submit #send") || !strings.Contains(err.Error(), "gave up after 1s") {
		t.Errorf("error = %v; want it to name the action and the timeout", err)
	}
	if b.URL() != ts.URL+"/" {
		t.Errorf("URL() = %q, want the form's page still", b.URL())
	}
}

func TestClickRunsNoncedScript(t *testing.T) {
	ts := site(t)
	b := New(t)
	must(t, b.Navigate(ts.URL+"/"))
	must(t, b.Click("#go"))
	must(t, b.WaitText("#status", "clicked 1"))
	must(t, b.Click("#go"))
	must(t, b.WaitText("#status", "clicked 2"))
	var state struct {
		Clicks int    `json:"clicks"`
		Text   string `json:"text"`
	}
	must(t, b.Eval(`Promise.resolve({clicks: clicks, text: document.getElementById("status").textContent})`, &state))
	if state.Clicks != 2 || state.Text != "clicked 2" {
		t.Errorf("page state = %+v, want 2 clicks", state)
	}
	must(t, b.WaitVisible("#bottom"))
	must(t, b.WaitGone("#no-such-thing"))
	if len(b.Problems()) != 0 {
		t.Errorf("problems on a clean page: %v", b.Problems())
	}
}

func TestCookieFlags(t *testing.T) {
	ts := site(t)
	b := New(t)
	must(t, b.Navigate(ts.URL+"/"))
	sid, err := b.Cookie("sid")
	must(t, err)
	if !sid.HTTPOnly || sid.SameSite != "Strict" || !sid.Session || sid.Value != "s3cret" || sid.Path != "/" {
		t.Errorf("sid = %+v, want HttpOnly, SameSite=Strict, a session cookie", sid)
	}
	pref, err := b.Cookie("pref")
	must(t, err)
	if pref.HTTPOnly || pref.SameSite != "Lax" || pref.Session || time.Until(pref.Expires) < 50*time.Minute {
		t.Errorf("pref = %+v, want not HttpOnly, SameSite=Lax, expiring in an hour", pref)
	}
	// What the page's scripts see: HttpOnly keeps sid from them.
	var jsCookies string
	must(t, b.Eval("document.cookie", &jsCookies))
	if !strings.Contains(jsCookies, "pref=dark") || strings.Contains(jsCookies, "sid") {
		t.Errorf("document.cookie = %q, want pref and not sid", jsCookies)
	}
	if _, err := b.Cookie("nope"); err == nil || !strings.Contains(err.Error(), `read the cookie nope on `+ts.URL) {
		t.Errorf("Cookie(nope): err = %v", err)
	}
}

func TestScreenshot(t *testing.T) {
	ts := site(t)
	b := New(t, WindowSize(1024, 600))
	must(t, b.Navigate(ts.URL+"/"))
	path := filepath.Join(t.TempDir(), "shots", "home.png")
	must(t, b.Screenshot(path))
	data, err := os.ReadFile(path)
	must(t, err)
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG (%d bytes): %v", len(data), err)
	}
	// Full page: as wide as the window, as tall as the page (beyond the
	// 600-pixel viewport).
	if r := img.Bounds(); r.Dx() != 1024 || r.Dy() < 1500 {
		t.Errorf("screenshot is %v, want 1024 wide and the page's full height (over 1500)", r.Size())
	}
}

func TestCSPViolationIsReported(t *testing.T) {
	ts := site(t)
	b := New(t)
	must(t, b.Navigate(ts.URL+"/csp"))
	if got, _ := b.Text("#y"); got != "nonce ran" {
		t.Errorf("the nonce'd script did not run: #y = %q", got)
	}
	if got, _ := b.Text("#x"); got != "untouched" {
		t.Errorf("the inline script without the nonce ran: #x = %q", got)
	}
	v := b.CSPViolations()
	if len(v) != 1 || !strings.Contains(v[0].Text, "script-src") || v[0].URL != ts.URL+"/csp" {
		t.Fatalf("CSP violations = %v, want the inline script's, on %s/csp", v, ts.URL)
	}
	if ps := b.TakeProblems(); len(ps) != 1 || ps[0].Kind != KindCSP {
		t.Errorf("problems = %v, want the one violation", ps)
	}
	if len(b.Problems()) != 0 {
		t.Error("TakeProblems did not forget them")
	}
}

func TestConsoleErrorsAreReported(t *testing.T) {
	ts := site(t)
	b := New(t)
	must(t, b.Navigate(ts.URL+"/console"))
	ps := b.TakeProblems()
	var kinds []string
	for _, p := range ps {
		kinds = append(kinds, p.Kind)
	}
	if len(ps) != 2 || ps[0].Kind != KindConsole || ps[1].Kind != KindException {
		t.Fatalf("problems = %v, want a console error then an exception", ps)
	}
	if ps[0].Text != "console.error: broken: 42" || ps[0].URL != ts.URL+"/console" || ps[0].Line != 2 {
		t.Errorf("console problem = %+v", ps[0])
	}
	if !strings.Contains(ps[1].Text, "TypeError") {
		t.Errorf("exception problem = %+v, want the TypeError", ps[1])
	}
}

// fakeTB records what New does with its test, to check that a test fails.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	fatal    string
	skipped  string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Logf(string, ...any) {}
func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errors) > 0 || f.fatal != ""
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) finish() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// inGoroutine runs fn as a test body would run, so that Fatalf and Skipf can
// end it.
func inGoroutine(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

func TestLeftProblemsFailTheTest(t *testing.T) {
	ts := site(t)
	for _, allow := range []bool{false, true} {
		f := &fakeTB{TB: t}
		inGoroutine(func() {
			var opts []Option
			if allow {
				opts = append(opts, AllowProblems())
			}
			b := New(f, opts...)
			if err := b.Navigate(ts.URL + "/csp"); err != nil {
				t.Error(err)
			}
		})
		f.finish()
		if f.fatal != "" {
			t.Fatal(f.fatal)
		}
		if allow && len(f.errors) != 0 {
			t.Errorf("with AllowProblems the test failed: %q", f.errors)
		}
		if !allow && (len(f.errors) != 1 || !strings.Contains(f.errors[0], "csp: ")) {
			t.Errorf("a CSP violation left at the end: the test's errors are %q, want the violation", f.errors)
		}
	}
}

func TestErrorsSayWhatWasBeingDone(t *testing.T) {
	ts := site(t)
	b := New(t, ActionTimeout(500*time.Millisecond))
	must(t, b.Navigate(ts.URL+"/"))
	err := b.Click("#submit")
	want := "browsertest: click #submit on " + ts.URL + "/: gave up after 500ms"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Click of a missing element: err = %v, want it to start %q", err, want)
	}
	err = b.WaitText("#status", "never")
	if err == nil || !strings.Contains(err.Error(), `wait for #status to contain "never" on `+ts.URL+"/") || !strings.Contains(err.Error(), `its text is "waiting"`) {
		t.Errorf("WaitText: err = %v", err)
	}
	// A port where nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close()
	err = b.Navigate(closed)
	if err == nil || !strings.Contains(err.Error(), "navigate to "+closed+" on ") || !strings.Contains(err.Error(), "ERR_CONNECTION_REFUSED") {
		t.Errorf("Navigate to a closed port: err = %v", err)
	}
	b.TakeProblems()
}

func TestTimeoutStopsTheBrowser(t *testing.T) {
	ts := site(t)
	b := New(t, Timeout(1500*time.Millisecond))
	must(t, b.Navigate(ts.URL+"/"))
	time.Sleep(1600 * time.Millisecond)
	start := time.Now()
	err := b.Navigate(ts.URL + "/about")
	if err == nil || !strings.Contains(err.Error(), "the test's browser time (1.5s) is over") {
		t.Errorf("Navigate after the budget: err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Navigate after the budget took %v; it must fail at once", d)
	}
}

// TestStaysOnLoopback checks that a page that references other hosts makes the
// browser reach none of them: the requests come to the test's own proxy, are
// refused at once, and are reported; and that the browser itself tries to
// reach nothing outside.
func TestStaysOnLoopback(t *testing.T) {
	ts := site(t)
	b := New(t)
	start := time.Now()
	must(t, b.Navigate(ts.URL+"/external"))
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the page with external images took %v to load; the requests must fail at once", d)
	}
	var broken []bool
	must(t, b.Eval(`[...document.images].map(i => i.complete && i.naturalWidth === 0)`, &broken))
	if len(broken) != 2 || !broken[0] || !broken[1] {
		t.Errorf("external images failed to load: %v, want both", broken)
	}

	var external []string
	for _, p := range b.TakeProblems() {
		if p.Kind == KindExternal {
			external = append(external, p.Text)
		}
	}
	for _, want := range []string{"GET http://external.hookline.invalid/pixel.png", "GET https://cdn.hookline.invalid/pixel.png"} {
		if !strings.Contains(strings.Join(external, "\n"), want) {
			t.Errorf("external problems:\n%s\nwant %q among them", strings.Join(external, "\n"), want)
		}
	}
	refused := strings.Join(b.Refused(), "\n")
	for _, want := range []string{"GET http://external.hookline.invalid/pixel.png", "CONNECT cdn.hookline.invalid:443"} {
		if !strings.Contains(refused, want) {
			t.Errorf("the proxy refused:\n%s\nwant %q among them: the request went elsewhere", refused, want)
		}
	}
	// Give the browser's background services time to start, then check that
	// none of them tried to reach the outside.
	time.Sleep(2 * time.Second)
	if others := b.BrowserRequests(); len(others) > 0 {
		t.Errorf("the browser tried to reach, by itself: %q (refused; add the Chromium flag that stops it)", others)
	}
}

func TestMissingBrowser(t *testing.T) {
	saved := candidates
	t.Cleanup(func() { candidates = saved })
	candidates = []string{"/nonexistent/chromium", "no-such-chromium-here"}
	t.Setenv(EnvChromium, "")

	t.Setenv("CI", "true")
	f := &fakeTB{TB: t}
	inGoroutine(func() { New(f) })
	f.finish()
	if !strings.Contains(f.fatal, "CI=true") || !strings.Contains(f.fatal, "Debian package chromium") || !strings.Contains(f.fatal, ".ci/run") {
		t.Errorf("with CI=true and no browser: fatal = %q, skipped = %q; want a failure naming the package and .ci/run", f.fatal, f.skipped)
	}

	t.Setenv("CI", "")
	f = &fakeTB{TB: t}
	inGoroutine(func() { New(f) })
	f.finish()
	if f.fatal != "" || !strings.Contains(f.skipped, "no Chromium found (looked for /nonexistent/chromium, no-such-chromium-here)") {
		t.Errorf("without CI and no browser: fatal = %q, skipped = %q; want a skip", f.fatal, f.skipped)
	}

	t.Setenv(EnvChromium, "/nonexistent/chromium")
	f = &fakeTB{TB: t}
	inGoroutine(func() { New(f) })
	f.finish()
	if !strings.Contains(f.fatal, "$HOOKLINE_CHROMIUM=/nonexistent/chromium cannot be run") {
		t.Errorf("with a wrong $%s: fatal = %q, skipped = %q", EnvChromium, f.fatal, f.skipped)
	}
}
