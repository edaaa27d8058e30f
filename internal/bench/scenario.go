package bench

import (
	"flag"
	"fmt"
	"strings"
)

// Scenario is a named set of flag values of `hookline bench`.
type Scenario struct {
	Summary string
	Flags   [][2]string // flag name and value, in the order shown
}

// Scenarios are the presets of --scenario N (Scenarios[N-1]).
var Scenarios = []Scenario{
	{"throughput: one webhook, as fast as possible",
		[][2]string{{"webhooks", "1"}, {"events", "20000"}, {"rate", "0"}, {"concurrency", "64"}}},
	{"latency: 1,000 events/s for 30 s to one webhook",
		[][2]string{{"webhooks", "1"}, {"rate", "1000"}, {"duration", "30s"}, {"concurrency", "64"}}},
	{"fan-out: every event to 50 webhooks of one tenant",
		[][2]string{{"webhooks", "50"}, {"fanout", "true"}, {"events", "2000"}, {"concurrency", "16"}}},
	{"bad receivers: of 200 webhooks, 10 % never answer and 10 % answer after 500 ms",
		[][2]string{{"webhooks", "200"}, {"timeout-webhooks", "0.1"}, {"slow-webhooks", "0.1"}, {"slow-latency", "500ms"},
			{"rate", "1000"}, {"duration", "30s"}, {"concurrency", "64"}}},
	{"backlog: 200,000 deliveries held for 90 s, then drained at once",
		[][2]string{{"webhooks", "1"}, {"events", "200000"}, {"batch", "1000"}, {"concurrency", "4"}, {"hold", "90s"}}},
	{"outage: one dead endpoint with 200,000 pending beside a healthy webhook taking 50 events/s for 60 s",
		[][2]string{{"webhooks", "1"}, {"dead", "timeout"}, {"backlog", "200000"}, {"rate", "50"}, {"duration", "60s"}, {"concurrency", "16"}}},
	{"key verification: as fast as possible",
		[][2]string{{"verify", "true"}, {"events", "100000"}, {"rate", "0"}, {"concurrency", "64"}}},
	{"key verification: 2,000/s for 30 s",
		[][2]string{{"verify", "true"}, {"rate", "2000"}, {"duration", "30s"}, {"concurrency", "64"}}},
}

// ApplyScenario sets on fs, which has been parsed, the flags of scenario n
// (1-based; 0 is none) that were not given explicitly. It returns the names of
// the flags given explicitly.
func ApplyScenario(fs *flag.FlagSet, n int) (explicit map[string]bool, err error) {
	explicit = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	if n == 0 {
		return explicit, nil
	}
	if n < 0 || n > len(Scenarios) {
		return explicit, fmt.Errorf("--scenario must be 1 to %d", len(Scenarios))
	}
	for _, kv := range Scenarios[n-1].Flags {
		if explicit[kv[0]] {
			continue
		}
		// An explicit --events replaces a preset duration (and the reverse):
		// with a rate, each fixes the other.
		if kv[0] == "duration" && explicit["events"] || kv[0] == "events" && explicit["duration"] {
			continue
		}
		if err := fs.Set(kv[0], kv[1]); err != nil {
			return explicit, fmt.Errorf("scenario %d: --%s %s: %w", n, kv[0], kv[1], err)
		}
	}
	return explicit, nil
}

// ScenarioHelp describes the scenarios for --help.
func ScenarioHelp() string {
	var b strings.Builder
	for i, s := range Scenarios {
		flags := make([]string, 0, len(s.Flags))
		for _, kv := range s.Flags {
			if kv[1] == "true" {
				flags = append(flags, "--"+kv[0])
			} else {
				flags = append(flags, "--"+kv[0]+" "+kv[1])
			}
		}
		fmt.Fprintf(&b, "  %d  %s\n     %s\n", i+1, s.Summary, strings.Join(flags, " "))
	}
	return b.String()
}
