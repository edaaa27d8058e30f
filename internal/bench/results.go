package bench

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/hookline/hookline/internal/store/postgres"
)

func newPublisher(c clock, api *client, bases []string, runID string, o Options) *publisher {
	tenants := make([]string, o.Webhooks)
	for k := range tenants {
		tenants[k] = tenant(runID, o.Fanout, k)
	}
	return &publisher{
		load: newLoad(c, bases, o.Events, o.Batch, o.Rate), client: api, runID: runID,
		padding: padding(o.PayloadBytes), accepted: make([]bool, o.Events),
		tenant:  func(seq int) string { return tenants[seq%len(tenants)] }, // all the same with fan-out
		noBatch: "this server has no POST /v1/events/batch: leave out --batch",
	}
}

// fillReport computes the figures of a finished run. The publishers have
// stopped; the receiver may still record late deliveries, read atomically.
func fillReport(rep *Report, o Options, pub *publisher, d *deliveries, rc *receiver, cs []class) {
	pubEnd := pub.end.Load()
	rep.Publish = publishResult(pub, o.Events)

	all := make([]time.Duration, 0, d.received.Load())
	var byClass [3][]time.Duration
	dr := &rep.Deliveries
	for i := range d.receipts {
		k, seq := d.at(i)
		got := d.receipts[i].Load()
		if got == 0 {
			if pub.accepted[seq] && cs[k] != stuck {
				dr.Missing++
			}
			continue
		}
		dr.Delivered++
		if got > pubEnd {
			dr.TailDelivered++
		}
		if pub.sentAt[seq] == 0 {
			continue // never sent by this run: cannot happen, but then no latency
		}
		lat := nanos(max(got-pub.sentAt[seq], 0))
		all = append(all, lat)
		byClass[cs[k]] = append(byClass[cs[k]], lat)
	}
	dr.Duplicates, dr.Unexpected = d.duplicates.Load(), d.unexpected.Load()
	first, last := d.first.Load(), d.last.Load()
	if last > 0 {
		dr.Seconds = round3(nanos(last - pub.start).Seconds())
		dr.Rate = rate(dr.Delivered, nanos(last-pub.start))
	}
	rep.Latency = summarise(all)
	if o.TimeoutWebhooks > 0 || o.SlowWebhooks > 0 || o.Dead != "" {
		h := summarise(byClass[healthy])
		rep.HealthyLatency = &h
	}
	if len(byClass[slow]) > 0 {
		s := summarise(byClass[slow])
		rep.SlowLatency = &s
	}
	if last > pubEnd && pubEnd > 0 {
		dr.TailSeconds = round3(nanos(last - pubEnd).Seconds())
		dr.TailRate = rate(dr.TailDelivered, nanos(last-pubEnd))
	}
	if o.Hold > 0 && last > 0 {
		rep.Drain = &DrainResult{Seconds: round3(nanos(last - first).Seconds()), Rate: rate(dr.Delivered, nanos(last-first))}
	}
	rep.Receiver = ReceiverResult{Requests: rc.requests.Load(), Failed: rc.failed.Load(), Held: rc.held.Load(), Other: rc.other.Load(), Dead: rc.dead.Load()}
	rep.Warnings = append(rep.Warnings, warnings(o, rep, nanos(pubEnd-pub.start))...)
}

// publishResult sums up a publisher that has stopped.
func publishResult(pub *publisher, events int) PublishResult {
	span := nanos(pub.end.Load() - pub.start)
	r := PublishResult{
		Events: events, Accepted: pub.nAccepted.Load(), Errors: pub.nErrors.Load(), Retries: pub.retries.Load(),
		Seconds: round3(span.Seconds()), LastError: pub.lastError,
	}
	r.Rate = rate(r.Accepted, span)
	return r
}

func warnings(o Options, rep *Report, publishing time.Duration) []string {
	var w []string
	dr := rep.Deliveries
	if dr.Missing > 0 {
		msg := fmt.Sprintf("%d of %d expected deliveries had not arrived when the wait ended: none arrived in its last --wait %s", dr.Missing, dr.Expected, o.Wait)
		if o.FailRatio > 0 {
			msg += "; deliveries answered 5xx are retried on the server's schedule (by default after 5s, then 1m): raise --wait, or give a local deployment --server-flag retry-schedule=0s,1s,1s,1s,1s"
		}
		w = append(w, msg)
	}
	if dr.WaitSeconds > o.Wait.Seconds()+o.Hold.Seconds() && dr.TailDelivered > 0 {
		w = append(w, fmt.Sprintf("slow drain: %d deliveries arrived after publishing ended, over %.2fs (%.1f/s); the wait went on past --wait %s while they kept arriving", dr.TailDelivered, dr.TailSeconds, dr.TailRate, o.Wait))
	}
	if n := rep.Publish.Errors; n > 0 {
		w = append(w, fmt.Sprintf("%d events could not be published after %d attempts each (last error: %s)", n, publishAttempts, rep.Publish.LastError))
	}
	if dr.Unexpected > 0 {
		w = append(w, fmt.Sprintf("%d deliveries reached a webhook the event was not sent to (nullhook sends every event to every webhook: use --fanout or --webhooks 1 with it)", dr.Unexpected))
	}
	if o.Hold > 0 && publishing > o.Hold {
		w = append(w, fmt.Sprintf("publishing took %s, longer than --hold %s: the first deliveries came due while events were still being published, so the drain overlaps publishing (raise --hold)", publishing.Round(time.Millisecond), o.Hold))
	}
	return w
}

// reportProgress writes a line to w every 5 seconds until the returned func is
// called; d may be nil (no deliveries are expected), and rc too (no receiver:
// a --verify run, whose line is the load's alone).
func reportProgress(w io.Writer, what string, n int, l *load, d *deliveries, rc *receiver) (stop func()) {
	if w == nil {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		begin := time.Now()
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			progressLine(w, time.Since(begin), what, n, l, d, rc)
		}
	}()
	return func() { close(done); <-finished }
}

func progressLine(w io.Writer, elapsed time.Duration, what string, n int, l *load, d *deliveries, rc *receiver) {
	if rc == nil {
		fmt.Fprintf(w, "bench: %3.0fs  %s %d/%d  errors %d\n", elapsed.Seconds(), what, l.nAccepted.Load(), n, l.nErrors.Load())
		return
	}
	var delivered int64
	if d != nil {
		delivered = d.received.Load()
	}
	fmt.Fprintf(w, "bench: %3.0fs  %s %d/%d  delivered %d  publish errors %d  receiver 5xx %d\n",
		elapsed.Seconds(), what, l.nAccepted.Load(), n, delivered, l.nErrors.Load(), rc.failed.Load())
}

func nanos(n int64) time.Duration { return time.Duration(n) }

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func isPostgres(db string) bool {
	_, ok := postgres.ParseDSN(db)
	return ok
}
