package browsertest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
)

// Kinds of problems.
const (
	KindConsole   = "console"   // console.error or console.assert in the page
	KindException = "exception" // an uncaught exception or unhandled rejection
	KindCSP       = "csp"       // a Content-Security-Policy violation (enforced or report-only)
	KindLog       = "log"       // another error of the browser's log, such as a failed load
	KindExternal  = "external"  // the page asked for a host other than loopback (refused)
)

// Problem is something that went wrong in the page: tests of our pages want
// none.
type Problem struct {
	Kind string // one of the Kind constants
	Text string // the message, as the DevTools console shows it
	URL  string // where it came from, when the browser says
	Line int64  // 1-based, 0 when unknown
}

func (p Problem) String() string {
	s := p.Kind + ": " + p.Text
	if p.URL != "" {
		s += " (" + p.URL
		if p.Line > 0 {
			s += fmt.Sprintf(":%d", p.Line)
		}
		s += ")"
	}
	return s
}

// Problems returns the problems collected since the start or the last
// TakeProblems, oldest first.
func (b *Browser) Problems() []Problem {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Problem(nil), b.problems...)
}

// Refused returns the requests that the browser's proxy refused, oldest first
// ("GET http://cdn.example/x.js", "CONNECT cdn.example:443", or "POST /…" for
// one of the browser's services pointed at it): what would have left the
// machine.
func (b *Browser) Refused() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var rs []string
	for _, r := range b.refused {
		rs = append(rs, r.Line)
	}
	return rs
}

// BrowserRequests returns the refused requests for hosts other than loopback
// that no page asked for: the browser's own. There are none with the flags New
// gives the browser; a new Chromium may add some, which the proxy refuses
// all the same.
func (b *Browser) BrowserRequests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var rs []string
	for _, r := range b.refused {
		if r.Host != "" && !b.pageHosts[r.Host] {
			rs = append(rs, r.Line)
		}
	}
	return rs
}

// TakeProblems returns the problems like Problems, and forgets them: a test
// that expects a problem takes it, so that the test does not fail at its end.
func (b *Browser) TakeProblems() []Problem {
	b.mu.Lock()
	defer b.mu.Unlock()
	ps := b.problems
	b.problems = nil
	return ps
}

// CSPViolations returns the Content-Security-Policy violations among the
// problems, without taking them.
func (b *Browser) CSPViolations() []Problem {
	var ps []Problem
	for _, p := range b.Problems() {
		if p.Kind == KindCSP {
			ps = append(ps, p)
		}
	}
	return ps
}

func (b *Browser) addProblem(p Problem) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, p)
}

// onEvent runs in chromedp's loop for the tab, in the order of the events, so
// that what a page did before an action's reply is recorded when the action
// returns. It must return fast.
func (b *Browser) onEvent(ev any) {
	switch ev := ev.(type) {
	case *page.EventFrameNavigated:
		if ev.Frame != nil && ev.Frame.ParentID == "" {
			b.mu.Lock()
			b.mainFrame = ev.Frame.ID
			b.url = ev.Frame.URL + ev.Frame.URLFragment
			b.mu.Unlock()
		}
	case *page.EventNavigatedWithinDocument:
		b.mu.Lock()
		if ev.FrameID == b.mainFrame {
			b.url = ev.URL
		}
		b.mu.Unlock()
	case *network.EventRequestWillBeSent:
		if ev.Request == nil {
			return
		}
		u, err := url.Parse(ev.Request.URL)
		if err != nil || !(u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "ws" || u.Scheme == "wss") || isLoopback(u.Hostname()) {
			return
		}
		b.mu.Lock()
		if b.pageHosts == nil {
			b.pageHosts = map[string]bool{}
		}
		b.pageHosts[u.Hostname()] = true
		b.mu.Unlock()
		b.addProblem(Problem{Kind: KindExternal, Text: "the page asked for a host that is not loopback (refused): " + ev.Request.Method + " " + ev.Request.URL, URL: ev.DocumentURL})
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		p := Problem{Kind: KindConsole, Text: consoleText(ev.Type, ev.Args)}
		if ev.StackTrace != nil && len(ev.StackTrace.CallFrames) > 0 {
			f := ev.StackTrace.CallFrames[0]
			p.URL, p.Line = f.URL, f.LineNumber+1
		}
		b.addProblem(p)
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		if d == nil {
			return
		}
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		b.addProblem(Problem{Kind: KindException, Text: text, URL: d.URL, Line: d.LineNumber + 1})
	case *log.EventEntryAdded:
		e := ev.Entry
		if e == nil {
			return
		}
		kind := ""
		switch {
		case strings.Contains(e.Text, "Content Security Policy") || strings.Contains(e.Text, "Content-Security-Policy"):
			kind = KindCSP // an error, or a warning for report-only
		case e.Level == log.EntryLevelError && strings.HasSuffix(e.URL, "/favicon.ico") && e.Source == log.EntrySourceNetwork:
			return // the browser asks for it by itself, page or not
		case e.Level == log.EntryLevelError:
			kind = KindLog
		default:
			return
		}
		p := Problem{Kind: kind, Text: e.Text, URL: e.URL}
		if e.LineNumber > 0 {
			p.Line = e.LineNumber + 1
		}
		b.addProblem(p)
	}
}

// isLoopback reports whether a URL's host is this machine's loopback, where
// the browser may go.
func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// consoleText joins the arguments of a console call as the console shows
// them, near enough.
func consoleText(typ runtime.ConsoleAPICalledType, args []*runtime.RemoteObject) string {
	parts := []string{"console." + string(typ) + ":"}
	for _, a := range args {
		switch {
		case a == nil:
		case a.Type == runtime.RemoteObjectTypeString:
			var s string
			if json.Unmarshal(a.Value, &s) == nil {
				parts = append(parts, s)
			}
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// tailBuffer keeps the last max bytes written to it: the end of what the
// browser printed, shown when a test fails.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

func (b *Browser) outputNote() string {
	if out := b.output.String(); out != "" {
		return "; it printed:\n" + out
	}
	return ""
}
