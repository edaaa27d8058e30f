package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testkit"
)

// TestReadmeQuickStartThenWalkThrough replays what a newcomer does with
// README.md (issue 15, "the README trap"): the quick start's `hookline serve`
// creates ./hookline.db with a generated admin key; the walk-through then
// starts serve again, in the same directory, with its own HOOKLINE_ADMIN_KEY.
// That key must work from the first request, and the start must say which
// admin key is in use, without showing it.
func TestReadmeQuickStartThenWalkThrough(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	if !regexp.MustCompile(`go run \./cmd/hookline serve +# .*data in \./hookline\.db`).MatchString(readme) {
		t.Fatal("README.md's quick start no longer runs `go run ./cmd/hookline serve` with data in ./hookline.db; update this test")
	}
	m := regexp.MustCompile(`HOOKLINE_ADMIN_KEY=(\S+) HOOKLINE_ALLOW_PRIVATE_TARGETS=true`).FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README.md's walk-through sets no HOOKLINE_ADMIN_KEY")
	}
	readmeKey := m[1]

	// Both runs in one directory, with the defaults but for the port.
	dir := t.TempDir()
	s := &server{t: t, bin: hooklineBinary(t), addr: testkit.FreeAddr(t), logs: &testkit.SyncBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", tail(s.logs.String(), 8000))
		}
	})
	// The quick start.
	s.proc = startIn(t, dir, s.bin, []string{"serve"}, []string{"HOOKLINE_ADDR=" + s.addr}, s.logs)
	s.awaitReady()
	if code, _ := s.terminate(15 * time.Second); code != 0 {
		t.Fatalf("quick start serve: exit %d after SIGTERM, want 0", code)
	}
	quick := s.logs.String()
	if !strings.Contains(quick, "Admin API key (shown once, store it now)") {
		t.Fatalf("the quick start's first serve printed no admin key:\n%s", quick)
	}
	if _, err := os.Stat(filepath.Join(dir, "hookline.db")); err != nil {
		t.Fatalf("the quick start made no ./hookline.db: %v", err)
	}

	// The walk-through, in the same directory.
	walk := &testkit.SyncBuffer{}
	s.proc = startIn(t, dir, s.bin, []string{"serve"}, []string{"HOOKLINE_ADDR=" + s.addr,
		"HOOKLINE_ADMIN_KEY=" + readmeKey, "HOOKLINE_ALLOW_PRIVATE_TARGETS=true"}, walk)
	s.awaitReady()
	for i, tc := range []struct {
		key  string
		want int
	}{{readmeKey, http.StatusOK}, {readmeKey + "x", http.StatusUnauthorized}} {
		req, _ := http.NewRequest(http.MethodGet, s.url("/v1/webhooks"), nil)
		req.Header.Set("Authorization", "Bearer "+tc.key)
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("request %d, GET /v1/webhooks with key %.8s…: got %d, want %d\nserver output:\n%s", i+1, tc.key, resp.StatusCode, tc.want, walk.String())
		}
	}
	out := walk.String()
	if !regexp.MustCompile(`msg="admin access: HOOKLINE_ADMIN_KEY is an admin key for as long as it is set" key_id=key_\S+ stored_now=true`).MatchString(out) {
		t.Errorf("the walk-through's serve does not say at start that HOOKLINE_ADMIN_KEY is the admin key in use (stored now):\n%s", out)
	}
	if strings.Contains(out, readmeKey) {
		t.Errorf("the server's output shows HOOKLINE_ADMIN_KEY:\n%s", out)
	}
}
