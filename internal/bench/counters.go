package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Counters are a Hookline server's delivery counters, read from its /metrics.
type Counters struct {
	Attempts map[string]float64 // hookline_attempts_total, by outcome
	Deferred float64            // hookline_deliveries_deferred_total
	Recalled float64            // hookline_deliveries_recalled_total
	Held     float64            // hookline_deliveries_held_total (0 on servers before it)
}

// The series ParseMetrics reads.
const (
	metricAttempts = "hookline_attempts_total"
	metricDeferred = "hookline_deliveries_deferred_total"
	metricRecalled = "hookline_deliveries_recalled_total"
	metricHeld     = "hookline_deliveries_held_total"
)

// ParseMetrics reads the delivery counters from the Prometheus text format of
// Hookline's /metrics. Outcomes that have not happened yet have no series and
// count 0. It fails when neither of the deferral counters is there (they are
// always exported, at 0 too): the server is not a Hookline, or an older one.
func ParseMetrics(text []byte) (Counters, error) {
	c := Counters{Attempts: map[string]float64{}}
	found := 0
	for line := range bytes.Lines(text) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		// name, then {labels} or not, then the value (and perhaps a timestamp).
		// Label values may hold spaces ("GET /metrics"), never '}'.
		end := bytes.IndexAny(line, "{ ")
		if end < 0 {
			continue
		}
		name, rest, labels := string(line[:end]), line[end:], []byte(nil)
		if name != metricAttempts && name != metricDeferred && name != metricRecalled && name != metricHeld {
			continue
		}
		if rest[0] == '{' {
			brace := bytes.LastIndexByte(rest, '}')
			if brace < 0 {
				return c, fmt.Errorf("/metrics: %s: unterminated labels", name)
			}
			labels, rest = rest[1:brace], rest[brace+1:]
		}
		f := bytes.Fields(rest)
		if len(f) == 0 {
			return c, fmt.Errorf("/metrics: %s: no value", name)
		}
		v, err := strconv.ParseFloat(string(f[0]), 64)
		if err != nil {
			return c, fmt.Errorf("/metrics: %s: %w", name, err)
		}
		switch name {
		case metricAttempts:
			outcome, ok := labelValue(labels, "outcome")
			if !ok {
				return c, fmt.Errorf("/metrics: %s without an outcome label", name)
			}
			c.Attempts[outcome] += v
		case metricDeferred:
			c.Deferred += v
			found++
		case metricRecalled:
			c.Recalled += v
			found++
		case metricHeld:
			c.Held += v
		}
	}
	if found == 0 {
		return c, errors.New("/metrics has no " + metricDeferred + " or " + metricRecalled)
	}
	return c, nil
}

// labelValue returns the value of label name in `a="x",b="y"`. Escapes are
// kept as they are: the outcomes Hookline uses are plain words.
func labelValue(labels []byte, name string) (string, bool) {
	for len(labels) > 0 {
		k, rest, ok := bytes.Cut(labels, []byte(`="`))
		if !ok {
			return "", false
		}
		end := 0
		for end < len(rest) && (rest[end] != '"' || end > 0 && rest[end-1] == '\\') {
			end++
		}
		if end == len(rest) {
			return "", false
		}
		if string(bytes.TrimSpace(k)) == name {
			return string(rest[:end]), true
		}
		labels = bytes.TrimPrefix(rest[end+1:], []byte(","))
	}
	return "", false
}

func (c *Counters) add(o Counters) {
	for k, v := range o.Attempts {
		c.Attempts[k] += v
	}
	c.Deferred += o.Deferred
	c.Recalled += o.Recalled
	c.Held += o.Held
}

// scrapeTimeout bounds one read of a server's /metrics.
const scrapeTimeout = 10 * time.Second

// scrapeCounters reads every node's /metrics and sums their delivery counters.
func scrapeCounters(ctx context.Context, c *client, bases []string) (Counters, error) {
	sum := Counters{Attempts: map[string]float64{}}
	for _, base := range bases {
		rctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
		a, err := c.do(rctx, http.MethodGet, base+"/metrics", nil)
		cancel()
		if err != nil {
			return sum, fmt.Errorf("GET %s/metrics: %w", base, err)
		}
		if a.status != http.StatusOK {
			return sum, fmt.Errorf("GET %s/metrics answered %d %s: not a Hookline server?", base, a.status, http.StatusText(a.status))
		}
		n, err := ParseMetrics(a.body)
		if err != nil {
			return sum, fmt.Errorf("GET %s/metrics: %w", base, err)
		}
		sum.add(n)
	}
	return sum, nil
}
