package bench

import (
	"flag"
	"io"
	"testing"
	"time"
)

// benchFlags declares the flags the scenarios set, as `hookline bench` does.
func benchFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Int("webhooks", 1, "")
	fs.Bool("fanout", false, "")
	fs.Int("events", 10000, "")
	fs.Float64("rate", 0, "")
	fs.Duration("duration", 0, "")
	fs.Int("concurrency", 16, "")
	fs.Int("batch", 1, "")
	fs.Duration("hold", 0, "")
	fs.Float64("timeout-webhooks", 0, "")
	fs.Float64("slow-webhooks", 0, "")
	fs.Duration("slow-latency", 500*time.Millisecond, "")
	fs.String("dead", "", "")
	fs.Int("backlog", 0, "")
	fs.Bool("verify", false, "")
	fs.Int("keys", 100, "")
	return fs
}

func TestApplyScenario(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		scenario int
		args     []string
		want     map[string]string
	}{
		{"no scenario keeps the defaults", 0, nil,
			map[string]string{"webhooks": "1", "events": "10000", "concurrency": "16"}},
		{"scenario 1", 1, nil,
			map[string]string{"webhooks": "1", "events": "20000", "rate": "0", "concurrency": "64"}},
		{"explicit flags win", 1, []string{"--events", "5000", "--concurrency=8"},
			map[string]string{"events": "5000", "concurrency": "8", "webhooks": "1"}},
		{"scenario 2", 2, nil,
			map[string]string{"rate": "1000", "duration": "30s", "concurrency": "64", "events": "10000"}},
		{"explicit --events replaces the preset duration", 2, []string{"--events", "3000"},
			map[string]string{"rate": "1000", "duration": "0s", "events": "3000"}},
		{"scenario 3", 3, nil,
			map[string]string{"webhooks": "50", "fanout": "true", "events": "2000"}},
		{"an explicit false beats a preset true", 3, []string{"--fanout=false"},
			map[string]string{"webhooks": "50", "fanout": "false"}},
		{"scenario 4", 4, []string{"--duration", "5s"},
			map[string]string{"webhooks": "200", "timeout-webhooks": "0.1", "slow-webhooks": "0.1", "slow-latency": "500ms", "rate": "1000", "duration": "5s"}},
		{"scenario 5", 5, nil,
			map[string]string{"events": "200000", "batch": "1000", "concurrency": "4", "hold": "1m30s"}},
		{"scenario 6", 6, nil,
			map[string]string{"webhooks": "1", "dead": "timeout", "backlog": "200000", "rate": "50", "duration": "1m0s", "concurrency": "16", "batch": "1", "hold": "0s"}},
		{"scenario 6 with a smaller backlog, refused", 6, []string{"--backlog", "2000", "--dead", "refuse", "--duration", "5s"},
			map[string]string{"dead": "refuse", "backlog": "2000", "rate": "50", "duration": "5s"}},
		{"scenario 7", 7, nil,
			map[string]string{"verify": "true", "events": "100000", "rate": "0", "concurrency": "64", "keys": "100", "duration": "0s"}},
		{"scenario 7 with more keys and fewer verifications", 7, []string{"--keys", "10000", "--events", "5000"},
			map[string]string{"verify": "true", "events": "5000", "keys": "10000", "concurrency": "64"}},
		{"scenario 8", 8, nil,
			map[string]string{"verify": "true", "rate": "2000", "duration": "30s", "concurrency": "64", "keys": "100"}},
		{"scenario 8 for 5 s", 8, []string{"--duration", "5s"},
			map[string]string{"verify": "true", "rate": "2000", "duration": "5s"}},
		{"an explicit --verify=false beats the preset", 8, []string{"--verify=false"},
			map[string]string{"verify": "false", "rate": "2000", "duration": "30s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := benchFlags()
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			explicit, err := ApplyScenario(fs, tt.scenario)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got := fs.Lookup(name).Value.String(); got != want {
					t.Errorf("--%s: got %s, want %s", name, got, want)
				}
			}
			for i := 0; i < len(tt.args); i++ {
				if name := flagName(tt.args[i]); name != "" && !explicit[name] {
					t.Errorf("--%s was given but is not reported explicit", name)
				}
			}
		})
	}
	if _, err := ApplyScenario(benchFlags(), len(Scenarios)+1); err == nil {
		t.Error("an unknown scenario: got no error, want one")
	}
}

// flagName is the name of a "--name" or "--name=value" argument, or "".
func flagName(arg string) string {
	if len(arg) < 3 || arg[:2] != "--" {
		return ""
	}
	for i := 2; i < len(arg); i++ {
		if arg[i] == '=' {
			return arg[2:i]
		}
	}
	return arg[2:]
}
