package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/store/postgres/pgtest"
	"github.com/hookline/hookline/internal/testkit"
)

// The tests of this package run the real hookline binary as a subprocess: built
// once per test run, started and killed like an operator would.

var (
	buildDir  string
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookline-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := pgtest.Run(m) // stops the PostgreSQL cluster the multi-node tests may start
	os.RemoveAll(dir)
	os.Exit(code)
}

// hooklineBinary builds ./cmd/hookline once and returns the path of the binary.
func hooklineBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		buildBin = filepath.Join(buildDir, "hookline")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, goTool, "build", "-o", buildBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// tail returns the last n bytes of a log, for failure messages.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// process is one run of the binary.
type process struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has exited
	waitErr error
}

// start runs bin with args and env (added to a copy of the environment without
// any HOOKLINE_ variable), writing its output to out. The process is killed when
// the test ends.
func start(t testing.TB, bin string, args, env []string, out io.Writer) *process {
	t.Helper()
	return startIn(t, "", bin, args, env, out)
}

// startIn is start in the working directory dir ("" for the test's).
func startIn(t testing.TB, dir, bin string, args, env []string, out io.Writer) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKLINE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill sends SIGKILL and waits (bounded) for the process to be gone.
func (p *process) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// server is `hookline serve` on a fixed address and database, which a test can
// kill and start again.
type server struct {
	t    testing.TB
	bin  string
	addr string
	env  []string
	logs *testkit.SyncBuffer // the output of every run, in order
	proc *process
	runs int
}

// newServer prepares (without starting) a server on a free loopback port and a
// database in a temporary directory; extra is added to its environment.
func newServer(t testing.TB, extra ...string) *server {
	t.Helper()
	s := &server{t: t, bin: hooklineBinary(t), addr: testkit.FreeAddr(t), logs: &testkit.SyncBuffer{}}
	s.env = append([]string{
		"HOOKLINE_ADDR=" + s.addr,
		"HOOKLINE_DB=" + filepath.Join(t.TempDir(), "hookline.db"),
		"HOOKLINE_ADMIN_KEY=" + adminKey,
		"HOOKLINE_ALLOW_PRIVATE_TARGETS=true",
	}, extra...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", tail(s.logs.String(), 8000))
		}
	})
	return s
}

const adminKey = "test-admin-key-0123456789"

func (s *server) url(path string) string { return "http://" + s.addr + path }

// start starts the server and waits until /readyz answers 200.
func (s *server) start() {
	s.t.Helper()
	s.launch()
	s.awaitReady()
}

// awaitReady waits until the server launched last answers 200 on /readyz.
func (s *server) awaitReady() {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		if s.proc.exited() {
			s.t.Fatalf("hookline serve exited at start: %v", s.proc.waitErr)
		}
		resp, err := client.Get(s.url("/readyz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("hookline serve not ready on %s after 15s", s.addr)
}

// launch starts the server without waiting for it.
func (s *server) launch() {
	s.t.Helper()
	s.runs++
	fmt.Fprintf(s.logs, "──── run %d ────\n", s.runs)
	s.proc = start(s.t, s.bin, []string{"serve"}, s.env, s.logs)
}

// kill is kill -9.
func (s *server) kill() { s.proc.kill() }

// terminate sends SIGTERM and waits up to limit for the process to exit; it
// returns the exit code and how long the exit took.
func (s *server) terminate(limit time.Duration) (int, time.Duration) {
	s.t.Helper()
	begin := time.Now()
	if err := s.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case <-s.proc.done:
	case <-time.After(limit):
		s.t.Fatalf("hookline serve still running %s after SIGTERM", limit)
	}
	return s.proc.cmd.ProcessState.ExitCode(), time.Since(begin)
}

// do sends an authenticated API request with a JSON body (nil for none) and
// decodes a JSON answer into out (when not nil). It returns the status code.
func (s *server) do(method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url(path), rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w in %s", method, path, err, b)
		}
	}
	if resp.StatusCode >= 300 && out == nil {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, nil
}

// mustDo is do that fails the test on a transport error or an unexpected status.
func (s *server) mustDo(method, path string, body, out any, want int) {
	s.t.Helper()
	code, err := s.do(method, path, body, out)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	if code != want {
		s.t.Fatalf("%s %s: got status %d, want %d", method, path, code, want)
	}
}

// webhookCreated is the part of POST /v1/webhooks' answer the tests use.
type webhookCreated struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

// eventAccepted is the part of POST /v1/events' answer the tests use.
type eventAccepted struct {
	ID         string `json:"id"`
	Duplicate  bool   `json:"duplicate"`
	Deliveries []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"deliveries"`
}

// waitFor polls cond every 20 ms until it holds or limit passes.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// docSection returns the section of the Markdown file at path that starts
// with heading, up to the next "## " heading, and find, which returns the
// submatches of a regexp in it and fails the test when it matches nothing:
// the walk-through tests replay what a section says, as written.
func docSection(t *testing.T, path, heading string) (sec string, find func(expr string) []string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := strings.Index(string(raw), heading)
	if at < 0 {
		t.Fatalf("%s has no %q section", path, heading)
	}
	sec = string(raw)[at:]
	if end := strings.Index(sec[3:], "\n## "); end >= 0 {
		sec = sec[:end+3]
	}
	find = func(expr string) []string {
		t.Helper()
		m := regexp.MustCompile(expr).FindStringSubmatch(sec)
		if m == nil {
			t.Fatalf("%s, %s: nothing matches %s", path, heading, expr)
		}
		return m
	}
	return sec, find
}
