package main

import (
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testkit"
)

// TestProfilesWalkThrough replays the FormVox walk-through of docs/profiles.md
// as written there, from the repository root, on the built binary: serve with
// its flags, listen with its flags, the two curl commands, and the request
// listen prints. Only the ports change (free ones instead of 8080 and 9002),
// and the database goes to a temporary directory.
func TestProfilesWalkThrough(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	sec, find := docSection(t, filepath.Join(root, "docs", "profiles.md"), "## Walk-through: a FormVox webhook")
	serve := find(`HOOKLINE_ADMIN_KEY=(\S+) HOOKLINE_ALLOW_PRIVATE_TARGETS=true \\\n\s+go run \./cmd/hookline serve ([^\n]*)\n`)
	docKey, serveArgs := serve[1], strings.Fields(serve[2])
	listenArgs := strings.Fields(strings.ReplaceAll(find(`go run \./cmd/hookline listen ([^\n]*\\\n[^\n]*)\n`)[1], "\\\n", " "))
	authName, authValue, _ := strings.Cut(find(`KEY="([^"]+)"`)[1], ": ")
	typeName, typeValue, _ := strings.Cut(find(`JSON="([^"]+)"`)[1], ": ")
	posts := regexp.MustCompile(`(?s)curl -s -X POST http://127\.0\.0\.1:8080(\S+) -H "\$KEY" -H "\$JSON" -d '([^']*)'`).FindAllStringSubmatch(sec, -1)
	if len(posts) != 2 || posts[0][1] != "/v1/webhooks" || posts[1][1] != "/v1/events" {
		t.Fatalf("docs/profiles.md walk-through: want a POST to /v1/webhooks then to /v1/events, got %q", posts)
	}
	printed := find("(?s)```\n(── [^\n]*)\n(.*?)\n\n(\\{[^\n]*\\})\n```")
	docVerdict, docHeaders, docBody := printed[1], strings.Split(printed[2], "\n"), printed[3]

	// The server, from the repository root, with the section's flags.
	bin := hooklineBinary(t)
	s := &server{t: t, bin: bin, addr: testkit.FreeAddr(t), logs: &testkit.SyncBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", tail(s.logs.String(), 8000))
		}
	})
	s.proc = startIn(t, root, bin, append([]string{"serve"}, serveArgs...), []string{
		"HOOKLINE_ADDR=" + s.addr, "HOOKLINE_DB=" + filepath.Join(t.TempDir(), "hookline.db"),
		"HOOKLINE_ADMIN_KEY=" + docKey, "HOOKLINE_ALLOW_PRIVATE_TARGETS=true",
	}, s.logs)
	s.awaitReady()
	if !strings.Contains(s.logs.String(), `msg="loaded profiles" from=examples/profiles names="[formulr formvox productsmanager urlr]"`) {
		t.Errorf("serve did not log the profiles the section says it loads")
	}

	// The receiver, with the section's flags but the port.
	listenAddr := testkit.FreeAddr(t)
	for i, a := range listenArgs {
		if a == "127.0.0.1:9002" {
			listenArgs[i] = listenAddr
		}
	}
	listenOut := &testkit.SyncBuffer{}
	startIn(t, root, bin, append([]string{"listen"}, listenArgs...), nil, listenOut)
	if !waitFor(10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", listenAddr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatalf("hookline listen %q did not start: %s", listenArgs, listenOut.String())
	}

	curl := func(path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, s.url(path), strings.NewReader(strings.ReplaceAll(body, "127.0.0.1:9002", listenAddr)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(authName, authValue)
		req.Header.Set(typeName, typeValue)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, answer := curl(posts[0][1], posts[0][2]); code != http.StatusCreated || !strings.Contains(answer, `"profile":"formvox"`) {
		t.Fatalf("step 1: got %d %s, want 201 and a formvox webhook", code, answer)
	}
	if code, answer := curl(posts[1][1], posts[1][2]); code != http.StatusAccepted {
		t.Fatalf("step 2: got %d %s, want 202", code, answer)
	}

	// listen prints what the section shows: the verdict, the same header
	// names in the same order with the same values (but those that vary), the
	// body but for its timestamp.
	if !waitFor(5*time.Second, func() bool { return strings.Contains(listenOut.String(), "\n\n{") }) {
		t.Fatalf("hookline listen printed no request:\n%s", listenOut.String())
	}
	out := listenOut.String()
	if _, want, _ := strings.Cut(docVerdict, " POST "); !strings.Contains(out, " POST "+want+"\n") {
		t.Errorf("listen's output lacks %q:\n%s", want, out)
	}
	var gotHeaders []string
	if _, req, ok := strings.Cut(out, "(signature valid)\n"); ok {
		head, _, _ := strings.Cut(req, "\n\n")
		gotHeaders = strings.Split(head, "\n")
	}
	if len(gotHeaders) != len(docHeaders) {
		t.Fatalf("listen printed headers %q, the section shows %q", gotHeaders, docHeaders)
	}
	varying := map[string]bool{"Host": true, "Content-Length": true, "X-FormVox-Signature": true, "X-FormVox-Timestamp": true}
	for i, doc := range docHeaders {
		docName, docValue, _ := strings.Cut(doc, ": ")
		name, value, _ := strings.Cut(gotHeaders[i], ": ")
		if name != docName || !varying[name] && value != docValue {
			t.Errorf("header %d: listen printed %q, the section shows %q", i+1, gotHeaders[i], doc)
		}
	}
	stamp := regexp.MustCompile(`"timestamp":"[^"]*"`)
	if !strings.Contains(stamp.ReplaceAllString(out, `"timestamp":""`), stamp.ReplaceAllString(docBody, `"timestamp":""`)) {
		t.Errorf("listen's output lacks the section's body %s:\n%s", docBody, out)
	}
}
