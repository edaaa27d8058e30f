// Package browsertest runs pages in a real browser for tests: headless
// Chromium (Debian's chromium package), driven over the DevTools protocol with
// github.com/chromedp/chromedp.
//
// New starts one browser for the calling test and stops it when the test ends.
// The helpers are thin over chromedp: each one is bounded by a timeout and
// returns an error that says what it was doing and on which page, such as
// "browsertest: click #submit on http://127.0.0.1:41235/portal/login: …".
//
// The browser stays on this machine. It resolves no host name but localhost,
// sends every request for a host other than loopback to a proxy of the test's
// own, which refuses it at once and records it ([Browser.Refused]), and runs
// with its background services (component updates, sync, safe browsing,
// metrics, default apps, first run, spell-check downloads) off or pointed at
// that proxy.
//
// What goes wrong in the page is collected as a [Problem]: console errors,
// uncaught exceptions, Content-Security-Policy violations, failed loads, and
// requests for hosts other than loopback. A test fails at its end when
// problems are left that it did not take with [Browser.TakeProblems], unless
// New had [AllowProblems].
//
// Finding the browser: $HOOKLINE_CHROMIUM when set, else /usr/bin/chromium,
// else chromium, chromium-browser or google-chrome on PATH. Without one the test
// is skipped, except with CI=true, where it fails: CI installs the chromium
// package (.ci/run).
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// EnvChromium names the environment variable that gives the browser to run.
const EnvChromium = "HOOKLINE_CHROMIUM"

// Defaults of the options.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultActionTimeout = 10 * time.Second
	DefaultWidth         = 1280
	DefaultHeight        = 800
)

// candidates are tried in order when $HOOKLINE_CHROMIUM is not set. A name
// without a slash is looked up on PATH.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}

// Option changes how New starts the browser.
type Option func(*config)

type config struct {
	timeout, actionTimeout time.Duration
	width, height          int
	allowProblems          bool
}

// Timeout bounds the whole browser session of a test, from the start of the
// browser on: when it is over the browser is stopped and every later action
// fails at once. The default is DefaultTimeout.
func Timeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// ActionTimeout bounds each action (a navigation, a click, a wait, …). The
// default is DefaultActionTimeout.
func ActionTimeout(d time.Duration) Option { return func(c *config) { c.actionTimeout = d } }

// WindowSize sets the size of the window, which is the viewport of the pages and
// the width of full-page screenshots. The default is DefaultWidth×DefaultHeight.
func WindowSize(width, height int) Option {
	return func(c *config) { c.width, c.height = width, height }
}

// AllowProblems keeps the test from failing at its end when problems (console
// errors, exceptions, CSP violations, failed loads, requests for other hosts)
// are left.
func AllowProblems() Option { return func(c *config) { c.allowProblems = true } }

// Browser is one headless Chromium with one tab, for one test. Its actions are
// for the test's goroutine; URL, Status and the problem and request lists may
// be read from any.
type Browser struct {
	cfg config

	ctx    context.Context // the tab; done when the test's browser time is over
	sink   *sink
	output *tailBuffer // what the browser printed, the end of it

	prepareErr error // from prepareCmd

	mu        sync.Mutex
	url       string // of the main frame, from the navigation events
	mainFrame cdp.FrameID
	status    int // of the last document that Navigate, Submit or ClickAndWait waited for
	problems  []Problem
	refused   []refusedRequest
	pageHosts map[string]bool // not loopback, that the page asked for
}

// Find returns the browser that New would run, or "" and the places it looked.
func Find() (path string, tried []string) {
	if p := os.Getenv(EnvChromium); p != "" {
		return p, []string{"$" + EnvChromium + "=" + p}
	}
	for _, c := range candidates {
		tried = append(tried, c)
		if p, err := exec.LookPath(c); err == nil {
			return p, tried
		}
	}
	return "", tried
}

// New starts a headless browser for the test, and stops it when the test ends.
// It skips the test when no browser is found, and fails it instead when
// CI=true.
func New(t testing.TB, opts ...Option) *Browser {
	t.Helper()
	cfg := config{timeout: DefaultTimeout, actionTimeout: DefaultActionTimeout, width: DefaultWidth, height: DefaultHeight}
	for _, o := range opts {
		o(&cfg)
	}

	path, tried := Find()
	if env := os.Getenv(EnvChromium); env != "" {
		if _, err := exec.LookPath(env); err != nil {
			t.Fatalf("browsertest: $%s=%s cannot be run: %v", EnvChromium, env, err)
		}
	}
	if path == "" {
		why := "no Chromium found (looked for " + strings.Join(tried, ", ") + ")"
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("browsertest: %s; with CI=true browser tests must run: install the Debian package chromium (.ci/run does when it is missing)", why)
		}
		t.Skipf("browsertest: %s; install the Debian package chromium (apt-get install chromium) or set $%s to run this test (with CI=true it fails)", why, EnvChromium)
	}

	s, err := startSink()
	if err != nil {
		t.Fatalf("browsertest: starting the proxy that keeps the browser on loopback: %v", err)
	}
	b := &Browser{cfg: cfg, sink: s, output: &tailBuffer{max: 16 << 10}}
	s.onRequest = func(r refusedRequest) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.refused = append(b.refused, r)
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), b.allocatorOptions(path)...)
	budgetCtx, cancelBudget := context.WithTimeout(allocCtx, cfg.timeout)
	tabCtx, cancelTab := chromedp.NewContext(budgetCtx)
	b.ctx = tabCtx
	stop := func() {
		// Close the browser (bounded), then make sure: kill it, wait for it,
		// remove its profile.
		closeCtx, cancelClose := context.WithTimeout(tabCtx, 5*time.Second)
		chromedp.Cancel(closeCtx)
		cancelClose()
		cancelTab()
		cancelBudget()
		cancelAlloc() // waits for the browser to exit and its profile to be removed
		s.close()
	}

	// The first action starts the browser, tied to tabCtx: bounded by the
	// test's budget, not by one action's timeout.
	if err := chromedp.Do(tabCtx); err != nil {
		stop()
		t.Fatalf("browsertest: starting %s: %v%s", path, err, b.outputNote())
	}
	if b.prepareErr != nil {
		stop()
		t.Fatalf("browsertest: starting %s: %v", path, b.prepareErr)
	}
	if err := chromedp.Listen(tabCtx, b.onEvent); err != nil {
		stop()
		t.Fatalf("browsertest: listening to the browser: %v", err)
	}
	t.Cleanup(func() {
		if !cfg.allowProblems {
			for _, p := range b.TakeProblems() {
				t.Errorf("browsertest: browser problem left at the end of the test: %s", p)
			}
		}
		if others := b.BrowserRequests(); len(others) > 0 {
			t.Logf("browsertest: the browser itself tried to reach (and was refused, it stays on loopback): %s", strings.Join(others, "; "))
		}
		if t.Failed() {
			if out := b.output.String(); out != "" {
				t.Logf("browsertest: the end of what %s printed:\n%s", path, out)
			}
		}
		stop()
	})
	return b
}

// allocatorOptions are the browser's command line: chromedp's defaults
// (headless, no first run, background networking, sync, extensions, default
// apps, safe-browsing updates off, …) and ours on top.
func (b *Browser) allocatorOptions(path string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,  // we run as root (CI, containers); the pages are our own
		chromedp.DisableGPU, // no GPU here; software rendering
		chromedp.WindowSize(b.cfg.width, b.cfg.height),
		chromedp.CombinedOutput(b.output),
		chromedp.ModifyCmdFunc(b.prepareCmd),

		// Dial nothing but loopback.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-field-trial-config", true), // features as built, no testing trials
		chromedp.Flag("no-service-autorun", true),
		chromedp.Flag("disable-component-extensions-with-background-pages", true),
		chromedp.Flag("disable-search-engine-choice-screen", true),
		// chromedp's two, Translate and BlinkGenPropertyTrees, and what calls
		// Google: the Cast media router, Certificate Transparency list
		// updates, autofill's form queries, optimization hints and models,
		// the network time check.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,MediaRouter,DialMediaRouteProvider,CertificateTransparencyComponentUpdater,"+
			"AutofillServerCommunication,OptimizationHints,OptimizationHintsFetching,OptimizationGuideModelDownloading,NetworkTimeServiceQuerying"),
		// No name resolves but localhost, so nothing is looked up in DNS…
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		// …and every request that is not for loopback (an address literal too)
		// goes to our proxy, which refuses it and records it. Loopback
		// (localhost, 127.0.0.0/8, [::1]) bypasses a proxy in Chromium.
		chromedp.ProxyServer("http://"+b.sink.addr()),
		// Two services ask Google at start whatever the flags above say
		// (Chromium 156): the component updater (on demand, for the
		// optimization guide's model manifest) and the account check
		// (accounts.google.com/ListAccounts). Point them at the proxy too.
		// (The spell checker's dictionary download is off in preferences.)
		chromedp.Flag("component-updater", "url-source=http://"+b.sink.addr()+"/component-updater"),
		chromedp.Flag("gaia-url", "http://"+b.sink.addr()+"/"),
	)
}

// preferences seed the profile that chromedp makes for each browser. Spell
// checking is off: typing in a field would otherwise make Chromium download a
// dictionary from Google (no flag turns that off).
const preferences = `{"browser": {"enable_spellchecking": false}, "spellcheck": {"dictionaries": [], "dictionary": "", "forced_dictionaries": [], "use_spelling_service": false}}`

// prepareCmd runs just before the browser starts, with the profile directory
// on its command line.
func (b *Browser) prepareCmd(cmd *exec.Cmd) {
	dieWithTest(cmd)
	for _, arg := range cmd.Args {
		if dir, ok := strings.CutPrefix(arg, "--user-data-dir="); ok {
			def := filepath.Join(dir, "Default")
			err := os.MkdirAll(def, 0o700)
			if err == nil {
				err = os.WriteFile(filepath.Join(def, "Preferences"), []byte(preferences), 0o600)
			}
			if err != nil {
				b.prepareErr = fmt.Errorf("writing the browser's preferences: %w", err)
			}
		}
	}
}

// Context is the context of the tab, for chromedp actions that have no helper
// here: chromedp.Run(b.Context(), …). It ends with the test's browser time;
// bound each call with a timeout of its own.
func (b *Browser) Context() context.Context { return b.ctx }

// URL returns the address of the page the tab shows, as of the last navigation
// event (no round trip to the browser).
func (b *Browser) URL() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.url
}

// Status returns the HTTP status of the last page that Navigate, Submit or
// ClickAndWait waited for (0 before any, or when it had no HTTP response).
func (b *Browser) Status() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status
}

// run runs one action bounded by the action timeout, and wraps its error with
// what was done and on which page.
func run[T any](b *Browser, what string, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		return v, b.wrap(ctx, what, err)
	}
	return v, nil
}

// wrap says what was being done, and on which page, around an error of the
// action that ran with ctx.
func (b *Browser) wrap(ctx context.Context, what string, err error) error {
	where := b.URL()
	if where == "" {
		where = "about:blank"
	}
	switch {
	case b.ctx.Err() != nil:
		err = fmt.Errorf("the test's browser time (%v) is over, the browser is stopped: %w", b.cfg.timeout, err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		err = fmt.Errorf("gave up after %v: %w", b.cfg.actionTimeout, err)
	}
	return fmt.Errorf("browsertest: %s on %s: %w", what, where, err)
}

// Navigate loads url in the tab and waits for its load event.
func (b *Browser) Navigate(url string) error {
	resp, err := run(b, "navigate to "+url, chromedp.NavigateResponse(url))
	b.setStatus(resp)
	return err
}

// Text returns the text of the first element that matches the CSS selector, as
// a person sees it (innerText), waiting for the element to be there.
func (b *Browser) Text(selector string) (string, error) {
	return run(b, "read the text of "+selector, chromedp.Text(chromedp.CSS(selector)))
}

// Value returns the value of the form field that matches the CSS selector.
func (b *Browser) Value(selector string) (string, error) {
	return run(b, "read the value of "+selector, chromedp.Value(chromedp.CSS(selector)))
}

// WaitVisible waits until an element that matches the CSS selector is visible.
func (b *Browser) WaitVisible(selector string) error {
	_, err := run(b, "wait for "+selector+" to be visible", chromedp.WaitVisible(chromedp.CSS(selector)))
	return err
}

// WaitGone waits until no element matches the CSS selector.
func (b *Browser) WaitGone(selector string) error {
	_, err := run(b, "wait for "+selector+" to be gone", chromedp.WaitNotPresent(chromedp.CSS(selector)))
	return err
}

// WaitText waits until the text of the first element that matches the CSS
// selector contains want, for pages that change it from a script.
func (b *Browser) WaitText(selector, want string) error {
	expr := fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.innerText.includes(%s); })()`, jsString(selector), jsString(want))
	_, err := run(b, fmt.Sprintf("wait for %s to contain %q", selector, want),
		chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		if got, terr := b.quickText(selector); terr == nil {
			err = fmt.Errorf("%w (its text is %q)", err, got)
		}
	}
	return err
}

// quickText reads a text for an error message, with a short timeout of its own.
func (b *Browser) quickText(selector string) (string, error) {
	ctx, cancel := context.WithTimeout(b.ctx, time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.innerText : null; })()`, jsString(selector))))
}

// Fill sets the form field that matches the CSS selector to value, as a person
// would: it empties the field, then types value into it with key events. A
// <select> gets value chosen, with input and change events.
func (b *Browser) Fill(selector, value string) error {
	what := fmt.Sprintf("fill %s with %q", selector, value)
	sel := chromedp.CSS(selector)
	tag, err := run(b, what, chromedp.QueryAfter(sel, func(ctx context.Context, t *chromedp.Target, nodes []*chromedp.Node) (string, error) {
		return nodes[0].NodeName, nil
	}, chromedp.NodeVisible))
	if err != nil {
		return err
	}
	prepare := `function() {
		this.focus();
		this.value = "";
		this.dispatchEvent(new Event("input", {bubbles: true}));
		return true;
	}`
	if tag == "SELECT" {
		prepare = `function(v) {
			if (![...this.options].some(o => o.value === v)) { throw new Error("no option with the value " + JSON.stringify(v)); }
			this.value = v;
			this.dispatchEvent(new Event("input", {bubbles: true}));
			this.dispatchEvent(new Event("change", {bubbles: true}));
			return true;
		}`
	}
	if _, err := run(b, what, callOn(sel, prepare, value)); err != nil || tag == "SELECT" {
		return err
	}
	if value == "" {
		return nil
	}
	_, err = run(b, what, chromedp.SendKeys(sel, value))
	return err
}

// Submit submits the form that matches the CSS selector (or that holds the
// element that matches it) as its submit button would, with validation and the
// submit event (form.requestSubmit), and waits for the page it leads to.
// Status then has that page's HTTP status.
func (b *Browser) Submit(selector string) error {
	submit := callOn(chromedp.CSS(selector), `function() {
		const form = this instanceof HTMLFormElement ? this : this.form || this.closest("form");
		if (!form) { throw new Error("not in a form"); }
		form.requestSubmit();
		return true;
	}`)
	return b.andWait("submit "+selector, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := submit(ctx, t)
		return err
	}))
}

// Click clicks the first visible element that matches the CSS selector with
// the mouse, and does not wait for anything it starts. Use ClickAndWait when the
// click loads another page.
func (b *Browser) Click(selector string) error {
	_, err := run(b, "click "+selector, chromedp.Click(chromedp.CSS(selector)))
	return err
}

// ClickAndWait clicks like Click, and waits for the page that the click loads.
// Status then has that page's HTTP status.
func (b *Browser) ClickAndWait(selector string) error {
	return b.andWait("click "+selector, chromedp.Click(chromedp.CSS(selector)))
}

// andWait runs a step that starts a navigation and waits for the new page.
func (b *Browser) andWait(what string, step chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, step)
	if err != nil {
		return b.wrap(ctx, what+" and wait for the next page", err)
	}
	b.setStatus(resp)
	return nil
}

func (b *Browser) setStatus(resp *network.Response) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status = 0
	if resp != nil {
		b.status = int(resp.Status)
	}
}

// Eval evaluates a JavaScript expression in the page, awaiting it when it is a
// promise, and decodes its JSON value into out (which may be nil to drop it).
func (b *Browser) Eval(expr string, out any) error {
	what := "evaluate " + shorten(expr)
	if out == nil {
		_, err := run(b, what, chromedp.Evaluate[chromedp.Void](expr, chromedp.EvalAwaitPromise))
		return err
	}
	raw, err := run(b, what, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return b.wrap(b.ctx, what, fmt.Errorf("decoding %s into %T: %w", shorten(string(raw)), out, err))
	}
	return nil
}

// Cookie is a cookie that the browser keeps.
type Cookie struct {
	Name, Value, Domain, Path string
	HTTPOnly, Secure          bool
	SameSite                  string // "Strict", "Lax", "None", or "" when the server set none
	Session                   bool   // no Expires or Max-Age
	Expires                   time.Time
}

// Cookies returns every cookie the browser keeps (the browser is the test's
// own, so these are the ones the test's pages set).
func (b *Browser) Cookies() ([]Cookie, error) {
	res, err := run(b, "read the cookies", func(ctx context.Context, t *chromedp.Target) (storage.GetCookiesResult, error) {
		return chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{})
	})
	if err != nil {
		return nil, err
	}
	cs := make([]Cookie, 0, len(res.Cookies))
	for _, c := range res.Cookies {
		k := Cookie{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path,
			HTTPOnly: c.HTTPOnly, Secure: c.Secure, SameSite: string(c.SameSite), Session: c.Session}
		if !c.Session && c.Expires > 0 {
			k.Expires = time.UnixMilli(int64(c.Expires * 1000))
		}
		cs = append(cs, k)
	}
	return cs, nil
}

// Cookie returns the cookie with the name, or an error when there is none.
func (b *Browser) Cookie(name string) (Cookie, error) {
	cs, err := b.Cookies()
	if err != nil {
		return Cookie{}, err
	}
	var names []string
	for _, c := range cs {
		if c.Name == name {
			return c, nil
		}
		names = append(names, c.Name)
	}
	return Cookie{}, b.wrap(b.ctx, "read the cookie "+name, fmt.Errorf("no such cookie (the browser has %q)", names))
}

// Screenshot writes a PNG of the whole page (beyond the viewport) to path,
// creating its directory.
func (b *Browser) Screenshot(path string) error {
	what := "take a screenshot to " + path
	png, err := run(b, what, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return b.wrap(b.ctx, what, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return b.wrap(b.ctx, what, err)
	}
	return nil
}

// callOn calls a JavaScript function with this = the first element that
// matches sel, which it waits for. The function throws to fail.
func callOn(sel chromedp.CSS, fn string, args ...any) chromedp.Action[bool] {
	return chromedp.QueryAfter(sel, func(ctx context.Context, t *chromedp.Target, nodes []*chromedp.Node) (bool, error) {
		r, err := cdp.Call(ctx, t, dom.ResolveNode, dom.ResolveNodeParams{NodeID: nodes[0].NodeID})
		if err != nil {
			return false, err
		}
		defer cdp.Call(ctx, t, runtime.ReleaseObject, runtime.ReleaseObjectParams{ObjectID: r.Object.ObjectID})
		return chromedp.CallFunctionOn[bool](fn, func(p *runtime.CallFunctionOnParams) {
			p.ObjectID = r.Object.ObjectID
		}, args...)(ctx, t)
	})
}

func jsString(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
