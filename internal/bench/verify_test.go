package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/keyspace"
)

// TestBenchKeyspace: the run's key space is one the server accepts — its
// name, its prefix ("hb" and the run id), its catalogue and its rate limit —
// and every key's permissions are of the catalogue.
func TestBenchKeyspace(t *testing.T) {
	t.Parallel()
	for range 20 {
		runID := newRunID()
		name, prefix := benchKeyspace(runID)
		window, err := keyspace.ParseDuration(verifyRateWindow)
		if err != nil {
			t.Fatal(err)
		}
		ks := &keyspace.Keyspace{Name: name, Prefix: prefix, RateLimit: &keyspace.RateLimit{Limit: verifyRateLimit, Window: window}}
		for _, p := range verifyPermissions {
			ks.Permissions = append(ks.Permissions, keyspace.Permission{Name: p})
		}
		if err := ks.Validate(); err != nil {
			t.Fatalf("run %s: key space %s, prefix %s: %v", runID, name, prefix, err)
		}
		for i := range 8 {
			if _, err := ks.Expand(keyPermissions(i), "permissions"); err != nil {
				t.Errorf("key %d: %v", i, err)
			}
		}
	}
	tenants := map[string]bool{}
	for i := range 100 {
		tenants[verifyTenant("r1", i)] = true
	}
	if len(tenants) != verifyTenants {
		t.Errorf("100 keys: got %d tenants, want %d", len(tenants), verifyTenants)
	}
}

// fakeKeys is a server with the key endpoints the bench uses: key spaces,
// keys, verification, and the readiness and metrics a run reads. code is the
// verification code it answers; failEvery > 0 answers every failEvery-th
// verification 503.
type fakeKeys struct {
	code      string
	status    int // of every verification, when not 0
	failEvery int64

	mu        sync.Mutex
	keyspaces map[string]map[string]bool // name → prefix
	keys      map[string][]string        // key → its permissions
	verified  map[string]int             // key → verifications
	asked     map[string]bool            // "key permission"
	deleted   []string
	n         atomic.Int64
}

func newFakeKeys(code string) *fakeKeys {
	return &fakeKeys{code: code, keyspaces: map[string]map[string]bool{}, keys: map[string][]string{},
		verified: map[string]int{}, asked: map[string]bool{}}
}

func (f *fakeKeys) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	write := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.URL.Path == "/readyz":
		write(http.StatusOK, map[string]string{"status": "ready"})
	case r.URL.Path == "/metrics":
		fmt.Fprint(w, "hookline_deliveries_deferred_total 0\nhookline_deliveries_recalled_total 0\n")
	case r.Method == http.MethodPost && r.URL.Path == "/v1/keyspaces":
		var in struct {
			Name        string   `json:"name"`
			Prefix      string   `json:"prefix"`
			Permissions []string `json:"permissions"`
			RateLimit   struct {
				Limit  int    `json:"limit"`
				Window string `json:"window"`
			} `json:"rate_limit"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.RateLimit.Limit < 1e9 {
			write(http.StatusUnprocessableEntity, map[string]string{"error": "bad key space"})
			return
		}
		perms := map[string]bool{}
		for _, p := range in.Permissions {
			perms[p] = true
		}
		f.keyspaces[in.Name] = perms
		write(http.StatusCreated, in)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/keys"):
		perms := f.keyspaces[strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/keyspaces/"), "/keys")]
		var in struct {
			Tenant      string   `json:"tenant"`
			Permissions []string `json:"permissions"`
		}
		if perms == nil || json.Unmarshal(body, &in) != nil || in.Tenant == "" {
			write(http.StatusNotFound, map[string]string{"error": "no such key space"})
			return
		}
		for _, p := range in.Permissions {
			if !perms[p] {
				write(http.StatusUnprocessableEntity, map[string]string{"error": "not in the catalogue: " + p})
				return
			}
		}
		key := fmt.Sprintf("hbfake_%d", len(f.keys))
		f.keys[key] = in.Permissions
		write(http.StatusCreated, map[string]any{"key": key, "tenant": in.Tenant})
	case r.Method == http.MethodPost && r.URL.Path == "/v1/keys/verify":
		if f.status != 0 {
			write(f.status, map[string]string{"error": "refused"})
			return
		}
		if f.failEvery > 0 && f.n.Add(1)%f.failEvery == 0 {
			write(http.StatusServiceUnavailable, map[string]string{"error": "busy"})
			return
		}
		var in struct {
			Key         string   `json:"key"`
			Keyspace    string   `json:"keyspace"`
			Permissions []string `json:"permissions"`
		}
		_ = json.Unmarshal(body, &in)
		held, code := f.keys[in.Key], f.code
		if held == nil || f.keyspaces[in.Keyspace] == nil {
			code = "NOT_FOUND"
		} else if len(in.Permissions) != 1 || !strings.Contains(" "+strings.Join(held, " ")+" ", " "+in.Permissions[0]+" ") {
			code = "FORBIDDEN"
		} else {
			f.verified[in.Key]++
			f.asked[in.Key+" "+in.Permissions[0]] = true
		}
		write(http.StatusOK, map[string]any{"valid": code == "VALID", "code": code})
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/v1/keyspaces/"):
		f.deleted = append(f.deleted, strings.TrimPrefix(r.URL.Path, "/v1/keyspaces/"))
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

func verifyOptions(target string) Options {
	return Options{Target: target, Verify: true, Keys: 10, Webhooks: 1, Events: 200, Concurrency: 4,
		Wait: time.Second, MaxTime: 30 * time.Second}
}

// TestRunVerify: a --verify run against a server with the key endpoints
// creates the key space and its keys, verifies each key round-robin with
// both of its permissions, reports the verifications, and removes the key
// space at the end (a target's database outlives the run).
func TestRunVerify(t *testing.T) {
	t.Parallel()
	f := newFakeKeys("VALID")
	srv := httptest.NewServer(f)
	defer srv.Close()
	rep, err := Run(context.Background(), verifyOptions(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Verify
	if v == nil {
		t.Fatal("no verify section in the report")
	}
	if v.Verifications != 200 || v.Valid != 200 || v.Errors != 0 || v.Latency.Count != 200 || v.Keys != 10 || v.Tenants != 10 {
		t.Errorf("got %+v, want 200 valid verifications of 10 keys over 10 tenants", *v)
	}
	if v.Rate <= 0 || v.Latency.Max <= 0 || v.Latency.P50 > v.Latency.P99 {
		t.Errorf("rate and latency: got %+v", *v)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.keys) != 10 {
		t.Errorf("got %d keys created, want 10", len(f.keys))
	}
	for key := range f.keys {
		if f.verified[key] != 20 {
			t.Errorf("key %s verified %d times, want 20 (round-robin)", key, f.verified[key])
		}
	}
	if len(f.asked) != 20 {
		t.Errorf("got %d (key, permission) pairs asked, want both permissions of each of the 10 keys", len(f.asked))
	}
	if len(f.deleted) != 1 || f.deleted[0] != v.Keyspace {
		t.Errorf("deleted key spaces %q, want [%s]", f.deleted, v.Keyspace)
	}
	if rep.Server.MeasurementErrors == nil || !strings.Contains(strings.Join(rep.Server.MeasurementErrors, " "), "no server process known") {
		t.Errorf("measurement errors: got %q, want the note on --server-pid", rep.Server.MeasurementErrors)
	}
}

// TestRunVerifyErrors: answers other than 200 VALID. A 503 is counted and
// reported, the run goes on; a code other than VALID, or a 403, stops it
// with the server's answer; the key space is removed in either case.
func TestRunVerifyErrors(t *testing.T) {
	t.Parallel()
	f := newFakeKeys("VALID")
	f.failEvery = 10
	srv := httptest.NewServer(f)
	defer srv.Close()
	rep, err := Run(context.Background(), verifyOptions(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if v := rep.Verify; v.Valid != 180 || v.Errors != 20 || !strings.Contains(v.LastError, "503") || v.Latency.Count != 180 {
		t.Errorf("got %+v, want 180 valid and 20 errors, the last a 503", *v)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "20 of 200 verifications") {
		t.Errorf("warnings: got %q", rep.Warnings)
	}

	for _, tt := range []struct {
		name   string
		code   string
		status int
		want   string
	}{
		{"a code other than VALID", "RATE_LIMITED", 0, "RATE_LIMITED"},
		{"forbidden", "VALID", http.StatusForbidden, "keys:verify"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeKeys(tt.code)
			f.status = tt.status
			srv := httptest.NewServer(f)
			defer srv.Close()
			rep, err := Run(context.Background(), verifyOptions(srv.URL))
			if err == nil || rep != nil || !strings.Contains(err.Error(), "POST /v1/keys/verify") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, %v; want an error naming the endpoint and %q", rep, err, tt.want)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.deleted) != 1 {
				t.Errorf("deleted key spaces %q, want the run's", f.deleted)
			}
		})
	}
}

// TestVerifierRate: at a fixed rate, verifications are sent on schedule and
// their latency counts from it.
func TestVerifierRate(t *testing.T) {
	t.Parallel()
	f := newFakeKeys("VALID")
	srv := httptest.NewServer(f)
	defer srv.Close()
	o := verifyOptions(srv.URL)
	o.Events, o.Rate = 50, 250 // 0.2 s
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if v := rep.Verify; v.Valid != 50 || v.Seconds < 0.19 || v.Rate > 270 {
		t.Errorf("got %+v, want 50 verifications over about 0.2 s", *v)
	}
}
