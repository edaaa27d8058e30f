package bench

import (
	"strings"
	"testing"
	"time"
)

func TestLoopbackURL(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"http://127.0.0.1:8080", "http://127.0.0.2:1/", "https://[::1]:8443", "http://localhost:8080"} {
		if _, err := LoopbackURL(ok); err != nil {
			t.Errorf("LoopbackURL(%q): got %v, want no error", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:8080", "http://192.168.1.2", "http://example.com", "http://0.0.0.0:8080", "ftp://127.0.0.1", "127.0.0.1:8080", ""} {
		if _, err := LoopbackURL(bad); err == nil {
			t.Errorf("LoopbackURL(%q): got no error, want one", bad)
		}
	}
	if got, _ := LoopbackURL("http://127.0.0.1:8080/"); got != "http://127.0.0.1:8080" {
		t.Errorf("got %q, want the URL without its trailing slash", got)
	}
}

func TestOptionsCheck(t *testing.T) {
	t.Parallel()
	valid := func() Options {
		return Options{Webhooks: 1, Events: 100, Concurrency: 4, Wait: time.Second, MaxTime: time.Minute}
	}
	o := valid()
	if err := o.Check(); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	if o.Nodes != 1 || o.Batch != 1 {
		t.Errorf("defaults: got nodes %d, batch %d; want 1, 1", o.Nodes, o.Batch)
	}
	tests := []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"no events", func(o *Options) { o.Events = 0 }, "--events"},
		{"too many fan-out deliveries", func(o *Options) { o.Fanout, o.Webhooks, o.Events = true, 1000, MaxEvents }, "deliveries"},
		{"fail ratio 1", func(o *Options) { o.FailRatio = 1 }, "--fail-ratio must be below 1"},
		{"every webhook times out", func(o *Options) { o.Webhooks, o.TimeoutWebhooks = 4, 1 }, "no webhook that answers"},
		{"ratios over 1", func(o *Options) { o.Webhooks, o.TimeoutWebhooks, o.SlowWebhooks = 10, 0.5, 0.6 }, "must not exceed 1"},
		{"several SQLite nodes", func(o *Options) { o.Nodes = 2 }, "needs --db postgres://"},
		{"server pid without target", func(o *Options) { o.ServerPIDs = []int{1} }, "--server-pid goes with --target"},
		{"target with local settings", func(o *Options) { o.Target, o.DB = "http://127.0.0.1:1", "x.db" }, "leave them out with --target"},
		{"reserved server flag", func(o *Options) { o.ServerFlags = []string{"db=x"} }, "set by the bench"},
		{"server flag without value", func(o *Options) { o.ServerFlags = []string{"workers"} }, "want name=value"},
		{"no wait", func(o *Options) { o.Wait = 0 }, "--wait"},
		{"unknown dead kind", func(o *Options) { o.Dead = "slow" }, "--dead must be refuse or timeout"},
		{"backlog without dead", func(o *Options) { o.Backlog = 1000 }, "--backlog goes with --dead"},
		{"negative backlog", func(o *Options) { o.Dead, o.Backlog = DeadRefuse, -1 }, "--backlog must be 0 to"},
		{"backlog too large", func(o *Options) { o.Dead, o.Backlog = DeadTimeout, MaxEvents+1 }, "--backlog must be 0 to"},
		{"verify with fan-out", func(o *Options) { o.Verify, o.Fanout = true, true }, "--verify measures key verification, with no events, webhooks or receiver: leave out --fanout"},
		{"verify with a hold", func(o *Options) { o.Verify, o.Hold = true, time.Minute }, "leave out --hold"},
		{"verify with a dead webhook", func(o *Options) { o.Verify, o.Dead = true, DeadTimeout }, "leave out --dead"},
		{"verify with a backlog", func(o *Options) { o.Verify, o.Dead, o.Backlog = true, DeadRefuse, 1000 }, "leave out --dead, --backlog"},
		{"verify with batches", func(o *Options) { o.Verify, o.Batch = true, 100 }, "leave out --batch"},
		{"verify with receiver flags", func(o *Options) { o.Verify, o.FailRatio, o.Latency = true, 0.1, time.Millisecond }, "leave out --latency, --fail-ratio"},
		{"verify with too many keys", func(o *Options) { o.Verify, o.Keys = true, MaxKeys+1 }, "--keys must be 1 to"},
		{"verify with negative keys", func(o *Options) { o.Verify, o.Keys = true, -1 }, "--keys must be 1 to"},
		{"db pid with a SQLite deployment", func(o *Options) { o.DBPIDs = []int{812} }, "--db-pid names a database server's process"},
		{"db pid also a server pid", func(o *Options) { o.Target, o.ServerPIDs, o.DBPIDs = "http://127.0.0.1:1", []int{7, 812}, []int{812} }, "--db-pid 812 is also a --server-pid"},
		{"db pid not a process id", func(o *Options) { o.Target, o.DBPIDs = "http://127.0.0.1:1", []int{0} }, "--db-pid 0 is not a process id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := valid()
			tt.change(&o)
			err := o.Check()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	for _, dead := range []string{DeadRefuse, DeadTimeout} {
		for _, backlog := range []int{0, 200_000} {
			o = valid()
			o.Dead, o.Backlog = dead, backlog
			if err := o.Check(); err != nil {
				t.Errorf("--dead %s --backlog %d: got %v, want no error", dead, backlog, err)
			}
		}
	}
	o = valid()
	o.Verify = true
	if err := o.Check(); err != nil || o.Keys != DefaultKeys {
		t.Errorf("--verify: got %v and %d keys, want no error and %d keys", err, o.Keys, DefaultKeys)
	}
	o = valid()
	o.Verify, o.Keys, o.Target = true, 1, "http://127.0.0.1:8080"
	if err := o.Check(); err != nil {
		t.Errorf("--verify --keys 1 --target: got %v, want no error", err)
	}
	o = valid()
	o.Target, o.ServerPIDs, o.DBPIDs = "http://127.0.0.1:8080", []int{7}, []int{812, 813}
	if err := o.Check(); err != nil {
		t.Errorf("--target with --server-pid and --db-pid: got %v, want no error", err)
	}
	o = valid()
	o.Nodes, o.DB, o.ServerFlags, o.DBPIDs = 3, "postgres://u@127.0.0.1/db", []string{"--workers=128"}, []int{812}
	if err := o.Check(); err != nil {
		t.Errorf("three nodes on PostgreSQL with --db-pid: got %v, want no error", err)
	}
	if got := serverFlagArgs(o.ServerFlags); len(got) != 1 || got[0] != "--workers=128" {
		t.Errorf("serverFlagArgs: got %q, want [--workers=128]", got)
	}
}

func TestEventBody(t *testing.T) {
	t.Parallel()
	p := &publisher{load: load{batch: 2}, runID: "r1", padding: padding(64), tenant: func(seq int) string { return "bench-r1" }}
	body := string(p.body([]int{7, 8}))
	want := `{"events":[{"type":"hlbench.event","tenant":"bench-r1","id":"hlbench-r1-7","data":{"hlbench_seq":7,"pad":"` + strings.Repeat("x", 32) + `"}},`
	if !strings.HasPrefix(body, want) || !strings.HasSuffix(body, `"id":"hlbench-r1-8","data":{"hlbench_seq":8,"pad":"`+strings.Repeat("x", 32)+`"}}]}`) {
		t.Errorf("got %s", body)
	}
	if seq, ok := ParseSeq([]byte(body)); !ok || seq != 7 {
		t.Errorf("ParseSeq of the body: got %d, %v; want 7", seq, ok)
	}
}
