package config

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return Load(fs, func(k string) string { return env[k] })
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{0, 5 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute,
		2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}
	if !reflect.DeepEqual(c.RetrySchedule, want) {
		t.Errorf("RetrySchedule: got %v, want %v", c.RetrySchedule, want)
	}
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"Addr", c.Addr, "127.0.0.1:8080"},
		{"DB", c.DB, "hookline.db"},
		{"AllowPrivateTargets", c.AllowPrivateTargets, false},
		{"Timeout", c.Timeout, 30 * time.Second},
		{"Lease", c.Lease, 60 * time.Second},
		{"MaxPayloadBytes", c.MaxPayloadBytes, int64(1 << 20)},
		{"MaxWebhooksPerTenant", c.MaxWebhooksPerTenant, 50},
		{"TenantKeyRateLimit", c.TenantKeyRateLimit, 1000},
		{"SQLiteSynchronous", c.SQLiteSynchronous, "FULL"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestFlagBeatsEnvBeatsDefault(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"HOOKLINE_ADDR":                  "127.0.0.1:9000",
		"HOOKLINE_DB":                    "sqlite:/tmp/x.db",
		"HOOKLINE_ALLOW_PRIVATE_TARGETS": "true",
		"HOOKLINE_RETRY_SCHEDULE":        "0s, 1s ,2s",
		"HOOKLINE_WORKERS":               "8",
	}
	c, err := load(t, []string{"--addr", "127.0.0.1:9100", "--workers=3"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9100" {
		t.Errorf("Addr: got %q, want the flag's 127.0.0.1:9100", c.Addr)
	}
	if c.Workers != 3 {
		t.Errorf("Workers: got %d, want the flag's 3", c.Workers)
	}
	if c.DB != "sqlite:/tmp/x.db" || !c.AllowPrivateTargets {
		t.Errorf("env not applied: DB=%q AllowPrivateTargets=%v", c.DB, c.AllowPrivateTargets)
	}
	if want := []time.Duration{0, time.Second, 2 * time.Second}; !reflect.DeepEqual(c.RetrySchedule, want) {
		t.Errorf("RetrySchedule: got %v, want %v", c.RetrySchedule, want)
	}
}

func TestInvalidValuesNameTheSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad addr flag", []string{"--addr", "nohost"}, nil, "--addr"},
		{"bad schedule env", nil, map[string]string{"HOOKLINE_RETRY_SCHEDULE": "0s,abc"}, "HOOKLINE_RETRY_SCHEDULE"},
		{"negative schedule", []string{"--retry-schedule", "0s,-1s"}, nil, "negative"},
		{"empty schedule", []string{"--retry-schedule", ","}, nil, "at least one"},
		{"bad bool env", nil, map[string]string{"HOOKLINE_ALLOW_PRIVATE_TARGETS": "yes please"}, "true or false"},
		{"zero workers", []string{"--workers", "0"}, nil, "at least 1"},
		{"bad timeout", []string{"--timeout", "soon"}, nil, "duration"},
		{"lease not above timeout", []string{"--timeout", "10s", "--lease", "5s"}, nil, "longer than --timeout"},
		{"short admin key", nil, map[string]string{"HOOKLINE_ADMIN_KEY": "short"}, "16 characters"},
		{"bad synchronous", []string{"--sqlite-synchronous", "OFF"}, nil, "FULL or NORMAL"},
		{"bad log level", []string{"--log-level", "loud"}, nil, "--log-level"},
		{"bad payload", []string{"--max-payload-bytes", "0"}, nil, "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tt.args, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseScheduleLimits(t *testing.T) {
	t.Parallel()
	many := strings.TrimSuffix(strings.Repeat("1s,", 51), ",")
	if _, err := ParseSchedule(many); err == nil {
		t.Error("51 delays accepted, want an error")
	}
	s, err := ParseSchedule("0s,500ms,1m")
	if err != nil || len(s) != 3 || s[1] != 500*time.Millisecond {
		t.Errorf("got %v, %v; want [0s 500ms 1m0s]", s, err)
	}
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	if got := EnvName("allow-private-targets"); got != "HOOKLINE_ALLOW_PRIVATE_TARGETS" {
		t.Errorf("got %q", got)
	}
}
