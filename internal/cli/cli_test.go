package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/testkit"
)

// run calls Run and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"help"}, {"-h"}, {"--help"}} {
		code, stdout, _ := run(t, args...)
		if code != 0 {
			t.Errorf("%q: got exit %d, want 0", args, code)
		}
		for _, c := range commands {
			if !strings.Contains(stdout, "  "+c.name+" ") || !strings.Contains(stdout, c.summary) {
				t.Errorf("%q: usage lacks command %q with its summary:\n%s", args, c.name, stdout)
			}
		}
	}
}

func TestCommandHelp(t *testing.T) {
	t.Parallel()
	// Every option of the configuration table, flag and environment variable.
	var settings []string
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	config.Register(fs)
	fs.VisitAll(func(f *flag.Flag) { settings = append(settings, "-"+f.Name, config.EnvName(f.Name)) })
	if len(settings) < 2*15 {
		t.Fatalf("config.Register declared %d flags; want the whole table", len(settings)/2)
	}
	wantFlags := map[string][]string{
		"serve":     settings,
		"migrate":   settings,
		"admin-key": settings,
		"listen":    {"-addr", "-secret", "-status", "-profile", "-profiles", "HOOKLINE_PROFILES"},
	}
	for _, c := range commands {
		if c.name == "version" {
			continue // takes no flags
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, help := range []string{"--help", "-h"} {
				code, stdout, stderr := run(t, c.name, help)
				if code != 0 {
					t.Errorf("%s %s: got exit %d, want 0", c.name, help, code)
				}
				if stdout != "" {
					t.Errorf("%s %s: wrote %q to stdout, want usage on stderr only", c.name, help, stdout)
				}
				for _, w := range append([]string{"Usage: hookline " + c.name}, wantFlags[c.name]...) {
					if !strings.Contains(stderr, w) {
						t.Errorf("%s %s: help lacks %q:\n%s", c.name, help, w, stderr)
					}
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, stdout, _ := run(t, "version")
	if code != 0 || strings.TrimSpace(stdout) != "hookline "+Version {
		t.Errorf("got exit %d and %q, want 0 and %q", code, stdout, "hookline "+Version)
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := run(t, "frobnicate", "--now")
	if code != 2 {
		t.Errorf("got exit %d, want 2", code)
	}
	if stdout != "" {
		t.Errorf("got stdout %q, want nothing", stdout)
	}
	for _, want := range []string{`unknown command "frobnicate"`, "Usage: hookline <command>", "serve"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestBadArguments: a wrong value stops the command before it touches anything,
// with a message that names the flag (or variable) at fault.
func TestBadArguments(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"retry schedule", []string{"serve", "--retry-schedule=abc"}, 1, []string{"--retry-schedule", `"abc" is not a duration`}},
		{"negative retry delay", []string{"serve", "--retry-schedule=0s,-5s"}, 1, []string{"--retry-schedule", "negative"}},
		{"lease shorter than timeout", []string{"serve", "--timeout=10s", "--lease=5s"}, 1, []string{"--lease", "longer than --timeout"}},
		{"log level", []string{"serve", "--log-level=loud"}, 1, []string{"--log-level", "debug, info, warn or error"}},
		{"log format", []string{"migrate", "--log-format=xml"}, 1, []string{"--log-format", "text or json"}},
		{"workers", []string{"serve", "--workers=0"}, 1, []string{"--workers", "at least 1"}},
		{"timeout", []string{"serve", "--timeout=soon"}, 1, []string{"--timeout", "must be a duration"}},
		{"addr", []string{"serve", "--addr=8080"}, 1, []string{"--addr", "host:port"}},
		{"short admin key", []string{"serve", "--admin-key=short"}, 1, []string{"--admin-key", "at least 16"}},
		{"synchronous", []string{"serve", "--sqlite-synchronous=OFF"}, 1, []string{"--sqlite-synchronous", "FULL or NORMAL"}},
		{"bool", []string{"serve", "--allow-private-targets=maybe"}, 2, []string{"allow-private-targets"}},
		{"unknown flag", []string{"serve", "--colour=blue"}, 2, []string{"flag provided but not defined: -colour", "Usage: hookline serve"}},
		{"argument", []string{"migrate", "now"}, 2, []string{`unexpected argument "now"`}},
		{"unsupported database", []string{"migrate", "--db=mysql://localhost/hookline"}, 1, []string{"--db", "unsupported database"}},
		{"postgres without secret key", []string{"migrate", "--db=postgres://127.0.0.1:1/hookline"}, 1, []string{"HOOKLINE_SECRET_KEY is required"}},
		{"listen status", []string{"listen", "--status=42"}, 2, []string{"--status"}},
		{"listen secret", []string{"listen", "--secret=whsec_!!"}, 2, []string{"--secret"}},
		{"listen flag", []string{"listen", "--port=9000"}, 2, []string{"flag provided but not defined: -port"}},
		{"listen profile name without --profiles", []string{"listen", "--profile", "formvox"}, 2,
			[]string{"--profile formvox: no such file", "--profiles", "the file or directory serve loads profiles from"}},
		{"listen profile not in --profiles", []string{"listen", "--profile", "formvx", "--profiles", "../../examples/profiles"}, 2,
			[]string{"--profiles ../../examples/profiles has no profile of that name", "standard, formulr, formvox, productsmanager, urlr"}},
		{"listen bad --profiles", []string{"listen", "--profile", "formvox", "--profiles", "no/such/dir"}, 1, []string{"--profiles", "no/such/dir"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A database in a temporary directory, in case a case wrongly got that far.
			args := tc.args
			if args[0] != "listen" && !strings.HasPrefix(args[1], "--db") {
				args = append(args, "--db", filepath.Join(t.TempDir(), "h.db"))
			}
			code, stdout, stderr := run(t, args...)
			if code != tc.wantCode {
				t.Errorf("got exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr)
			}
			if stdout != "" {
				t.Errorf("got stdout %q, want nothing", stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestBadEnvironment: a wrong HOOKLINE_ variable is named in the error, and a
// flag beats it. (t.Setenv: not parallel.)
func TestBadEnvironment(t *testing.T) {
	t.Setenv("HOOKLINE_LOG_LEVEL", "loud")
	db := filepath.Join(t.TempDir(), "h.db")
	code, _, stderr := run(t, "migrate", "--db", db)
	if code != 1 || !strings.Contains(stderr, "HOOKLINE_LOG_LEVEL") {
		t.Errorf("got exit %d and %q, want 1 and an error naming HOOKLINE_LOG_LEVEL", code, stderr)
	}
	code, _, stderr = run(t, "migrate", "--db", db, "--log-level", "warn")
	if code != 0 {
		t.Errorf("with --log-level warn: got exit %d, want 0; stderr:\n%s", code, stderr)
	}
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "sub", "hookline.db")
	for i := range 2 {
		code, stdout, stderr := run(t, "migrate", "--db", db)
		if code != 0 {
			t.Fatalf("run %d: got exit %d, want 0; stderr:\n%s", i+1, code, stderr)
		}
		if want := "database schema is up to date: " + db; !strings.Contains(stdout, want) {
			t.Errorf("run %d: got stdout %q, want %q", i+1, stdout, want)
		}
	}
}

// runningServe is `serve` running in-process on a free loopback port.
type runningServe struct {
	addr           string
	stdout, stderr *testkit.SyncBuffer
	cancel         context.CancelFunc
	done           chan int
	code           int
	stopped        bool
}

// serveInProcess runs `serve` with args until it logs that it is serving; it is
// stopped when the test ends if not before.
func serveInProcess(t *testing.T, args ...string) *runningServe {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningServe{stdout: &testkit.SyncBuffer{}, stderr: &testkit.SyncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		rs.done <- Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "info"}, args...), rs.stdout, rs.stderr)
	}()
	t.Cleanup(func() { rs.stop(t) })
	serving := regexp.MustCompile(`msg="hookline is serving" addr=(127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := serving.FindStringSubmatch(rs.stderr.String()); m != nil {
			rs.addr = m[1]
			return rs
		}
		select {
		case code := <-rs.done:
			rs.stopped, rs.code = true, code
			t.Fatalf("serve exited with %d before serving; stderr:\n%s", code, rs.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not log that it is serving within 10s; stderr:\n%s", rs.stderr.String())
		}
	}
}

// stop cancels serve's context and returns its exit code.
func (rs *runningServe) stop(t *testing.T) int {
	t.Helper()
	if rs.stopped {
		return rs.code
	}
	rs.stopped = true
	rs.cancel()
	select {
	case rs.code = <-rs.done:
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return within 15s of its context ending")
	}
	return rs.code
}

var printedKey = regexp.MustCompile(`Admin API key \(shown once, store it now\):\s+(\S+)`)

func TestServeStopsOnCancel(t *testing.T) {
	t.Parallel()
	rs := serveInProcess(t, "--db", filepath.Join(t.TempDir(), "h.db"), "--admin-key", "given-admin-key-0123456789")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + rs.addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz: got %d, want 200", resp.StatusCode)
	}
	if code := rs.stop(t); code != 0 {
		t.Errorf("got exit %d after cancel, want 0; stderr:\n%s", code, rs.stderr.String())
	}
	if !strings.Contains(rs.stderr.String(), `msg=stopped`) {
		t.Errorf("serve did not log that it stopped:\n%s", rs.stderr.String())
	}
}

func TestServeBootstrapKey(t *testing.T) {
	t.Parallel()
	t.Run("given", func(t *testing.T) {
		t.Parallel()
		db := filepath.Join(t.TempDir(), "h.db")
		for i := range 2 {
			rs := serveInProcess(t, "--db", db, "--admin-key", "given-admin-key-0123456789")
			rs.stop(t)
			if out := rs.stdout.String(); out != "" {
				t.Errorf("start %d: got stdout %q, want nothing (the key was given)", i+1, out)
			}
			wantLog := fmt.Sprintf(`msg="admin access: HOOKLINE_ADMIN_KEY is an admin key for as long as it is set" key_id=key_\S+ stored_now=%v`, i == 0)
			if log := rs.stderr.String(); !regexp.MustCompile(wantLog).MatchString(log) || strings.Contains(log, "given-admin-key") {
				t.Errorf("start %d: the log does not say (without the key) which admin key is in use, want %s:\n%s", i+1, wantLog, log)
			}
		}
	})
	t.Run("generated once", func(t *testing.T) {
		t.Parallel()
		db := filepath.Join(t.TempDir(), "h.db")
		rs := serveInProcess(t, "--db", db)
		rs.stop(t)
		m := printedKey.FindAllStringSubmatch(rs.stdout.String(), -1)
		if len(m) != 1 {
			t.Fatalf("first start: got stdout %q, want the generated key printed once", rs.stdout.String())
		}
		key := m[0][1]
		if log := rs.stderr.String(); !strings.Contains(log, `msg="admin access: generated an admin key, printed once above; HOOKLINE_ADMIN_KEY is not set" key_id=key_`) || strings.Contains(log, key) {
			t.Errorf("first start: the log does not say (without the key) that an admin key was generated:\n%s", log)
		}

		// The second start prints nothing; the key printed by the first one works.
		rs = serveInProcess(t, "--db", db)
		if out := rs.stdout.String(); out != "" {
			t.Errorf("second start: got stdout %q, want nothing", out)
		}
		if log := rs.stderr.String(); !strings.Contains(log, `msg="admin access: HOOKLINE_ADMIN_KEY is not set; use an admin key the database holds`) {
			t.Errorf("second start: the log does not say which admin keys work:\n%s", log)
		}
		for _, tc := range []struct {
			key  string
			want int
		}{{key, http.StatusOK}, {key + "x", http.StatusUnauthorized}} {
			req, _ := http.NewRequest(http.MethodGet, "http://"+rs.addr+"/v1/api-keys", nil)
			req.Header.Set("Authorization", "Bearer "+tc.key)
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("GET /v1/api-keys with key %.12s…: got %d, want %d", tc.key, resp.StatusCode, tc.want)
			}
		}
	})
}

// hookline admin-key is the way back in for an operator locked out of the API:
// it stores a new admin key, even while a server runs on the database.
func TestAdminKeyRecovers(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "h.db")
	rs := serveInProcess(t, "--db", db)
	defer rs.stop(t)
	var keys []string
	for range 2 {
		code, stdout, stderr := run(t, "admin-key", "--db", db)
		if code != 0 {
			t.Fatalf("admin-key: got exit %d, want 0; stderr:\n%s", code, stderr)
		}
		m := printedKey.FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("admin-key printed no key: %q", stdout)
		}
		keys = append(keys, m[1])
	}
	if keys[0] == keys[1] {
		t.Fatalf("two runs printed the same key %.12s…", keys[0])
	}
	for _, key := range keys {
		req, _ := http.NewRequest(http.MethodPost, "http://"+rs.addr+"/v1/api-keys", strings.NewReader(`{"name":"new","scopes":["admin"]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("creating an admin key with the recovery key: got %d, want 201", resp.StatusCode)
		}
	}
}

func TestServeAddressInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var stdout, stderr testkit.SyncBuffer
	code := Run(ctx, []string{"serve", "--addr", ln.Addr().String(), "--db", filepath.Join(t.TempDir(), "h.db"),
		"--admin-key", "given-admin-key-0123456789"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "address already in use") {
		t.Errorf("got exit %d, stderr:\n%s\nwant 1 and \"address already in use\"", code, stderr.String())
	}
}
