package storetest

import (
	"errors"
	"iter"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// exerciseStats covers the counts over time that charts draw: which bucket
// a row falls in, what each counts, and which rows each scope keeps.
func exerciseStats(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"Attempts": func(t *testing.T) {
			e := newEnv(t, open)
			w1, w2, g := e.webhook("acme"), e.webhook("acme"), e.webhook("globex")
			since := e.now.Truncate(time.Hour).Add(-4 * time.Hour)
			until := since.Add(4 * time.Hour)
			as := []*hookline.Attempt{
				e.attemptAt(w1, since, 200, "", 10),                                         // a bucket's start is in it
				e.attemptAt(w1, since.Add(time.Hour-time.Millisecond), 500, "HTTP 500", 21), // its last millisecond too
				e.attemptAt(w1, since.Add(time.Hour), 200, "", 30),
				e.attemptAt(w1, since.Add(90*time.Minute), 200, "read body: connection reset", 40), // 2xx with an error fails
				e.attemptAt(w1, since.Add(2*time.Hour), 299, "", 5),
				e.attemptAt(w1, since.Add(2*time.Hour), 300, "HTTP 300", 7),
				e.attemptAt(w1, since.Add(2*time.Hour+time.Minute), 199, "HTTP 199", 9),
				e.attemptAt(w1, since.Add(2*time.Hour+2*time.Minute), 0, "timeout after 30s", 30000),
				e.attemptAt(w1, until.Add(-time.Millisecond), 204, "", 1),
				e.attemptAt(w1, until, 200, "", 999),                        // the window ends before until
				e.attemptAt(w1, since.Add(-time.Millisecond), 200, "", 999), // and starts at since
				e.attemptAt(w2, since.Add(30*time.Minute), 200, "", 50),
				e.attemptAt(w2, since.Add(3*time.Hour), 503, "HTTP 503", 60),
				e.attemptAt(g, since.Add(30*time.Minute), 500, "HTTP 500", 70),
				e.attemptAt(g, since.Add(3*time.Hour), 200, "", 80),
			}
			// A webhook test is an attempt with no delivery; it counts.
			test := e.attemptAt(w1, since.Add(3*time.Hour+time.Minute), 200, "", 3)
			test.DeliveryID, test.EventType = "", hookline.EventWebhookTest
			as = append(as, test)
			for _, a := range as {
				if err := e.s.AttemptInsert(e.ctx, a); err != nil {
					t.Fatalf("AttemptInsert: %v", err)
				}
			}
			scopes := []struct {
				name string
				p    store.AttemptStatsParams
				keep func(a *hookline.Attempt) bool
			}{
				{"webhook", store.AttemptStatsParams{WebhookID: w1.ID}, func(a *hookline.Attempt) bool { return a.WebhookID == w1.ID }},
				{"other webhook", store.AttemptStatsParams{WebhookID: w2.ID}, func(a *hookline.Attempt) bool { return a.WebhookID == w2.ID }},
				{"tenant", store.AttemptStatsParams{Tenant: "acme"}, func(a *hookline.Attempt) bool { return a.Tenant == "acme" }},
				{"other tenant", store.AttemptStatsParams{Tenant: "globex"}, func(a *hookline.Attempt) bool { return a.Tenant == "globex" }},
				{"tenant and webhook", store.AttemptStatsParams{Tenant: "acme", WebhookID: w2.ID}, func(a *hookline.Attempt) bool { return a.WebhookID == w2.ID }},
				{"webhook of another tenant", store.AttemptStatsParams{Tenant: "globex", WebhookID: w1.ID}, func(*hookline.Attempt) bool { return false }},
				{"all", store.AttemptStatsParams{}, func(*hookline.Attempt) bool { return true }},
			}
			for _, sc := range scopes {
				t.Run(sc.name, func(t *testing.T) {
					p := sc.p
					p.Since, p.Until, p.Buckets = since, until, 4
					got, err := e.s.AttemptStats(e.ctx, p)
					if err != nil {
						t.Fatalf("AttemptStats: %v", err)
					}
					if want := attemptBuckets(as, sc.keep, since, time.Hour, 4); !reflect.DeepEqual(got, want) {
						t.Errorf("AttemptStats %+v:\n got %+v\nwant %+v", p, got, want)
					}
				})
			}
			got, err := e.s.AttemptStats(e.ctx, store.AttemptStatsParams{WebhookID: w1.ID, Since: since, Until: until, Buckets: 4})
			if err != nil {
				t.Fatalf("AttemptStats: %v", err)
			}
			want := store.AttemptBucket{Start: since, Succeeded: 1, Failed: 1, LatencyAvgMS: 16, LatencyMaxMS: 21} // 15.5 rounds up
			if got[0] != want {
				t.Errorf("AttemptStats first bucket: got %+v, want %+v", got[0], want)
			}
		},
		"AttemptBucketsOfUnevenLength": func(t *testing.T) {
			// 10 ms in 3 buckets: [0, 4), [4, 7), [7, 10).
			e := newEnv(t, open)
			w := e.webhook("acme")
			since := e.now.Add(-time.Hour)
			for _, ms := range []int{0, 3, 4, 6, 7, 9, 10} {
				if err := e.s.AttemptInsert(e.ctx, e.attemptAt(w, since.Add(time.Duration(ms)*time.Millisecond), 200, "", int64(ms))); err != nil {
					t.Fatalf("AttemptInsert: %v", err)
				}
			}
			got, err := e.s.AttemptStats(e.ctx, store.AttemptStatsParams{WebhookID: w.ID, Since: since, Until: since.Add(10 * time.Millisecond), Buckets: 3})
			if err != nil {
				t.Fatalf("AttemptStats: %v", err)
			}
			want := []store.AttemptBucket{
				{Start: since, Succeeded: 2, LatencyAvgMS: 2, LatencyMaxMS: 3},
				{Start: since.Add(4 * time.Millisecond), Succeeded: 2, LatencyAvgMS: 5, LatencyMaxMS: 6},
				{Start: since.Add(7 * time.Millisecond), Succeeded: 2, LatencyAvgMS: 8, LatencyMaxMS: 9},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("AttemptStats:\n got %+v\nwant %+v", got, want)
			}
		},
		"Deliveries": func(t *testing.T) {
			e := newEnv(t, open)
			w1, w2, g := e.webhook("acme"), e.webhook("acme"), e.webhook("globex")
			since := e.now.Truncate(time.Hour).Add(-4 * time.Hour)
			until := since.Add(4 * time.Hour)
			var all []hookline.Delivery
			end := map[string]string{}
			add := func(w *hookline.Webhook, at time.Time, status string) {
				d := e.publishAt(at, "order.created", w)[0]
				if status != hookline.DeliveryPending {
					end[d.ID] = status
				}
				all = append(all, d)
			}
			add(w1, since, hookline.DeliverySucceeded)
			add(w1, since.Add(time.Hour-time.Millisecond), hookline.DeliveryFailed)
			add(w1, since.Add(time.Hour), hookline.DeliveryCancelled)
			add(w1, since.Add(time.Hour), hookline.DeliveryPending)
			add(w1, since.Add(150*time.Minute), hookline.DeliverySucceeded)
			add(w1, since.Add(150*time.Minute), hookline.DeliverySucceeded)
			add(w1, until.Add(-time.Millisecond), hookline.DeliveryFailed)
			add(w1, until, hookline.DeliverySucceeded)
			add(w1, since.Add(-time.Millisecond), hookline.DeliveryFailed)
			add(w2, since.Add(10*time.Minute), hookline.DeliveryPending)
			add(w2, since.Add(3*time.Hour), hookline.DeliveryFailed)
			add(g, since.Add(10*time.Minute), hookline.DeliverySucceeded)
			add(g, since.Add(3*time.Hour), hookline.DeliveryCancelled)
			all = e.finish(all, end)
			scopes := []struct {
				name string
				p    store.DeliveryStatsParams
				keep func(d hookline.Delivery) bool
			}{
				{"webhook", store.DeliveryStatsParams{WebhookID: w1.ID}, func(d hookline.Delivery) bool { return d.WebhookID == w1.ID }},
				{"other webhook", store.DeliveryStatsParams{WebhookID: w2.ID}, func(d hookline.Delivery) bool { return d.WebhookID == w2.ID }},
				{"tenant", store.DeliveryStatsParams{Tenant: "acme"}, func(d hookline.Delivery) bool { return d.Tenant == "acme" }},
				{"other tenant", store.DeliveryStatsParams{Tenant: "globex"}, func(d hookline.Delivery) bool { return d.Tenant == "globex" }},
				{"tenant and webhook", store.DeliveryStatsParams{Tenant: "acme", WebhookID: w2.ID}, func(d hookline.Delivery) bool { return d.WebhookID == w2.ID }},
				{"webhook of another tenant", store.DeliveryStatsParams{Tenant: "globex", WebhookID: w1.ID}, func(hookline.Delivery) bool { return false }},
				{"all", store.DeliveryStatsParams{}, func(hookline.Delivery) bool { return true }},
			}
			for _, sc := range scopes {
				t.Run(sc.name, func(t *testing.T) {
					p := sc.p
					p.Since, p.Until, p.Buckets = since, until, 4
					got, err := e.s.DeliveryStats(e.ctx, p)
					if err != nil {
						t.Fatalf("DeliveryStats: %v", err)
					}
					if want := deliveryBuckets(all, sc.keep, since, time.Hour, 4); !reflect.DeepEqual(got, want) {
						t.Errorf("DeliveryStats %+v:\n got %+v\nwant %+v", p, got, want)
					}
				})
			}
			got, err := e.s.DeliveryStats(e.ctx, store.DeliveryStatsParams{WebhookID: w1.ID, Since: since, Until: until, Buckets: 4})
			if err != nil {
				t.Fatalf("DeliveryStats: %v", err)
			}
			want := []store.DeliveryBucket{
				{Start: since, Succeeded: 1, Failed: 1},
				{Start: since.Add(time.Hour), Failed: 1, Pending: 1}, // cancelled counts as failed
				{Start: since.Add(2 * time.Hour), Succeeded: 2},
				{Start: since.Add(3 * time.Hour), Failed: 1},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("DeliveryStats of w1:\n got %+v\nwant %+v", got, want)
			}
		},
		"FollowChanges": func(t *testing.T) {
			// Whatever changes the rows (publishing, completing, retrying,
			// recovering, testing, deleting a webhook, purging), the stats of
			// any window and scope are what the rows themselves add up to.
			e := newEnv(t, open)
			w1, w2, g, gone := e.webhook("acme"), e.webhook("acme"), e.webhook("globex"), e.webhook("acme")
			live := map[string]*hookline.Webhook{w1.ID: w1, w2.ID: w2, g.ID: g, gone.ID: gone}
			order := []*hookline.Webhook{w1, w2, g, gone}
			var ds []hookline.Delivery
			for i := range 160 {
				at := e.now.Add(-3*time.Hour + time.Duration(i*i)*283*time.Millisecond)
				ds = append(ds, e.publishAt(at, "order.created", order[i%len(order)])...)
			}
			ds = append(ds, e.publishAt(e.now.Add(-90*time.Minute), "order.created", w1, w2, gone)...) // fan-out: one time, three webhooks
			windows := []struct {
				since, until time.Time
				buckets      int
			}{
				{e.now.Add(-4 * time.Hour), e.now.Add(time.Hour), 1},
				{e.now.Add(-4 * time.Hour), e.now.Add(time.Hour), 5},
				{e.now.Add(-4 * time.Hour), e.now.Add(time.Hour), 48},
				{e.now.Add(-4 * time.Hour), e.now.Add(time.Hour), store.MaxStatsBuckets},
				{e.now.Add(-3*time.Hour + 17*time.Millisecond), e.now.Add(-time.Hour + 3*time.Millisecond), 7},
				{e.now.Add(-150 * time.Minute), e.now.Add(-149 * time.Minute), 150},
				{e.now.Add(-2*time.Hour - 30*time.Minute + 5*time.Millisecond), e.now.Add(time.Hour), 37}, // from purge's before
				{e.now.Add(-2 * time.Hour), e.now, 48},
			}
			check := func(step string, from time.Time) {
				t.Helper()
				rows := walkPages(t, "DeliveryList", 1000, func(cursor string) ([]hookline.Delivery, error) {
					return e.s.DeliveryList(e.ctx, store.DeliveryListParams{ListParams: store.ListParams{Cursor: cursor, Limit: 1000}})
				}, func(d hookline.Delivery) string { return d.ID })
				var as []*hookline.Attempt
				for _, w := range live {
					for _, a := range pageAttempts(t, e, store.AttemptListParams{WebhookID: w.ID}, 1000) {
						as = append(as, &a)
					}
				}
				for _, since := range []time.Time{e.now.Add(-4 * time.Hour), e.now.Add(-2*time.Hour + 13*time.Millisecond), e.now.Add(-time.Minute)} {
					if since.Before(from) {
						continue
					}
					ids := make([]string, len(order))
					want := map[string]store.WebhookHealth{}
					for i, w := range order {
						ids[i] = w.ID
						var last *hookline.Attempt
						h := store.WebhookHealth{}
						for _, a := range as {
							if a.WebhookID != w.ID || live[w.ID] == nil {
								continue
							}
							if last == nil || a.ID > last.ID {
								last = a
							}
							if !idTime(a.ID).Before(since) {
								if a.Error == "" && a.StatusCode >= 200 && a.StatusCode <= 299 {
									h.Succeeded++
								} else {
									h.Failed++
								}
							}
						}
						if last != nil {
							h.LastAttemptAt, h.LastStatus, h.LastError = ptr(last.StartedAt), last.StatusCode, last.Error
							want[w.ID] = h
						}
					}
					got, err := e.s.WebhookHealth(e.ctx, ids, since)
					if err != nil {
						t.Fatalf("%s: WebhookHealth: %v", step, err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s: WebhookHealth since %v:\n got %s\nwant %s", step, since, fmtHealth(got), fmtHealth(want))
					}
				}
				scopes := []struct{ tenant, webhook string }{{"", ""}, {"acme", ""}, {"globex", ""}, {"acme", g.ID}}
				for _, w := range order {
					scopes = append(scopes, struct{ tenant, webhook string }{"", w.ID})
				}
				for _, sc := range scopes {
					inScope := func(tenant, webhook string) bool {
						return live[webhook] != nil && (sc.tenant == "" || tenant == sc.tenant) && (sc.webhook == "" || webhook == sc.webhook)
					}
					for _, win := range windows {
						if win.since.Before(from) {
							continue
						}
						gotD, err := e.s.DeliveryStats(e.ctx, store.DeliveryStatsParams{Tenant: sc.tenant, WebhookID: sc.webhook,
							Since: win.since, Until: win.until, Buckets: win.buckets})
						if err != nil {
							t.Fatalf("%s: DeliveryStats: %v", step, err)
						}
						wantD := wantDeliveryStats(win.since, win.until, win.buckets, func(yield func(id, status string) bool) {
							for _, d := range rows {
								if inScope(d.Tenant, d.WebhookID) && !yield(d.ID, d.Status) {
									return
								}
							}
						})
						if !reflect.DeepEqual(gotD, wantD) {
							t.Errorf("%s: DeliveryStats %+v of %v in %d:\n got %+v\nwant %+v", step, sc, win.since, win.buckets, gotD, wantD)
						}
						gotA, err := e.s.AttemptStats(e.ctx, store.AttemptStatsParams{Tenant: sc.tenant, WebhookID: sc.webhook,
							Since: win.since, Until: win.until, Buckets: win.buckets})
						if err != nil {
							t.Fatalf("%s: AttemptStats: %v", step, err)
						}
						wantA := wantAttemptStats(win.since, win.until, win.buckets, func(yield func(*hookline.Attempt) bool) {
							for _, a := range as {
								if inScope(a.Tenant, a.WebhookID) && !yield(a) {
									return
								}
							}
						})
						if !reflect.DeepEqual(gotA, wantA) {
							t.Errorf("%s: AttemptStats %+v of %v in %d:\n got %+v\nwant %+v", step, sc, win.since, win.buckets, gotA, wantA)
						}
					}
				}
			}
			check("published", time.Time{})

			// Ends by the delivery's rank: succeeded, failed, cancelled, a retry
			// due later, or still leased. Attempts are made a second after the
			// delivery, with durations of their own.
			var ps []store.DeliveryCompleteParams
			for i, c := range e.claim(e.now, "A", 1000) {
				d := c.Delivery
				p := store.DeliveryCompleteParams{DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"},
					WebhookID: d.WebhookID, Now: e.now}
				at := idTime(d.ID).Add(time.Second)
				switch i % 5 {
				case 0:
					p.Status, p.Attempt = hookline.DeliverySucceeded, attempt(d, 1, 200, at)
				case 1:
					p.Status, p.Attempt = hookline.DeliveryFailed, attempt(d, 1, 500, at)
				case 2:
					p.Status, p.Error = hookline.DeliveryCancelled, "webhook disabled"
				case 3:
					p.Status, p.Attempt, p.NextAttemptAt = hookline.DeliveryPending, attempt(d, 1, 503, at), e.now.Add(time.Hour)
				default:
					continue
				}
				if p.Attempt != nil {
					p.Attempt.ID, p.Attempt.DurationMS = hookline.NewIDAt(hookline.PrefixAttempt, at), int64(i%97)
				}
				ps = append(ps, p)
			}
			e.completeAll(ps...)
			check("completed", time.Time{})

			for i, d := range ds {
				if i%7 == 0 {
					if _, err := e.s.DeliveryRetry(e.ctx, store.DeliveryRetryParams{ID: d.ID, Now: e.now}); err != nil {
						t.Fatalf("DeliveryRetry: %v", err)
					}
				}
			}
			check("retried", time.Time{})

			for _, status := range []string{hookline.DeliveryFailed, hookline.DeliveryCancelled} {
				if _, err := e.s.DeliveryRecover(e.ctx, store.DeliveryRecoverParams{WebhookID: w1.ID, Status: status,
					Since: e.now.Add(-150 * time.Minute), Until: e.now.Add(-time.Hour), Now: e.now}); err != nil {
					t.Fatalf("DeliveryRecover: %v", err)
				}
			}
			check("recovered", time.Time{})

			for i, w := range order {
				for j := range 3 {
					a := e.attemptAt(w, e.now.Add(-time.Duration(i*40+j*7)*time.Minute), 200+j*100, "", int64(1000+j))
					if err := e.s.AttemptInsert(e.ctx, a); err != nil {
						t.Fatalf("AttemptInsert: %v", err)
					}
				}
			}
			check("tested", time.Time{})

			if err := e.s.WebhookDelete(e.ctx, gone.ID); err != nil {
				t.Fatalf("WebhookDelete: %v", err)
			}
			delete(live, gone.ID)
			// A test of the deleted webhook that ends after it went does not count.
			late := e.attemptAt(gone, e.now.Add(-time.Minute), 200, "", 5)
			if err := e.s.AttemptInsert(e.ctx, late); err != nil {
				t.Fatalf("AttemptInsert: %v", err)
			}
			check("deleted", time.Time{})

			before := e.now.Add(-2*time.Hour - 30*time.Minute + 5*time.Millisecond)
			for {
				n, err := e.s.Purge(e.ctx, store.PurgeParams{Before: before, Limit: 10})
				if err != nil {
					t.Fatalf("Purge: %v", err)
				}
				if n == 0 {
					break
				}
			}
			check("purged", before)
		},
		"ConcurrentCompletes": func(t *testing.T) { statsConcurrentCompletes(t, open) },
		"Empty": func(t *testing.T) {
			e := newEnv(t, open)
			since := e.now.Add(-time.Hour)
			as, err := e.s.AttemptStats(e.ctx, store.AttemptStatsParams{Tenant: "acme", Since: since, Until: e.now, Buckets: 200})
			if err != nil || len(as) != 200 || as[0] != (store.AttemptBucket{Start: since}) {
				t.Errorf("AttemptStats of nothing: got %d buckets (first %+v), %v; want 200 empty ones from since", len(as), as, err)
			}
			ds, err := e.s.DeliveryStats(e.ctx, store.DeliveryStatsParams{Since: since, Until: e.now, Buckets: 1})
			if err != nil || len(ds) != 1 || ds[0] != (store.DeliveryBucket{Start: since}) {
				t.Errorf("DeliveryStats of nothing: got %+v, %v; want one empty bucket from since", ds, err)
			}
		},
		"Invalid": func(t *testing.T) {
			e := newEnv(t, open)
			since := e.now.Add(-time.Hour)
			cases := []struct {
				name, field  string
				since, until time.Time
				buckets      int
			}{
				{"no bucket", "buckets", since, e.now, 0},
				{"too many buckets", "buckets", since, e.now, store.MaxStatsBuckets + 1},
				{"empty window", "until", since, since, 10},
				{"until before since", "until", since, since.Add(-time.Minute), 10},
				{"no since", "since", time.Time{}, e.now, 10},
				{"since before 1970", "since", time.Unix(-3600, 0), e.now, 10},
				{"buckets shorter than a millisecond", "buckets", since, since.Add(5 * time.Millisecond), 10},
			}
			for _, c := range cases {
				_, err := e.s.AttemptStats(e.ctx, store.AttemptStatsParams{Since: c.since, Until: c.until, Buckets: c.buckets})
				wantInvalid(t, "AttemptStats with "+c.name, err, c.field)
				_, err = e.s.DeliveryStats(e.ctx, store.DeliveryStatsParams{Since: c.since, Until: c.until, Buckets: c.buckets})
				wantInvalid(t, "DeliveryStats with "+c.name, err, c.field)
			}
		},
	})
}

// attemptAt returns an unsaved attempt of webhook w started at at, whose id
// was made then, answered with status (and errText) after durationMS.
func (e *env) attemptAt(w *hookline.Webhook, at time.Time, status int, errText string, durationMS int64) *hookline.Attempt {
	return &hookline.Attempt{
		ID: hookline.NewIDAt(hookline.PrefixAttempt, at), DeliveryID: hookline.NewIDAt(hookline.PrefixDelivery, at),
		WebhookID: w.ID, EventID: hookline.NewIDAt(hookline.PrefixEvent, at), EventType: "order.created",
		Tenant: w.Tenant, Number: 1, StartedAt: at, DurationMS: durationMS, StatusCode: status, Error: errText,
	}
}

// attemptBuckets is what AttemptStats should return for the attempts of as
// that keep keeps, in n buckets of size from since.
func attemptBuckets(as []*hookline.Attempt, keep func(*hookline.Attempt) bool, since time.Time, size time.Duration, n int) []store.AttemptBucket {
	out := make([]store.AttemptBucket, n)
	sums := make([]int64, n)
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * size)
	}
	for _, a := range as {
		i := int(a.StartedAt.Sub(since) / size)
		if !keep(a) || a.StartedAt.Before(since) || i >= n {
			continue
		}
		b := &out[i]
		if a.Error == "" && a.StatusCode >= 200 && a.StatusCode <= 299 {
			b.Succeeded++
		} else {
			b.Failed++
		}
		sums[i] += a.DurationMS
		b.LatencyMaxMS = max(b.LatencyMaxMS, a.DurationMS)
	}
	for i := range out {
		if c := int64(out[i].Succeeded + out[i].Failed); c > 0 {
			out[i].LatencyAvgMS = (sums[i] + c/2) / c
		}
	}
	return out
}

// deliveryBuckets is what DeliveryStats should return for the deliveries of
// ds that keep keeps, in n buckets of size from since.
func deliveryBuckets(ds []hookline.Delivery, keep func(hookline.Delivery) bool, since time.Time, size time.Duration, n int) []store.DeliveryBucket {
	out := make([]store.DeliveryBucket, n)
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * size)
	}
	for _, d := range ds {
		i := int(d.CreatedAt.Sub(since) / size)
		if !keep(d) || d.CreatedAt.Before(since) || i >= n {
			continue
		}
		switch d.Status {
		case hookline.DeliverySucceeded:
			out[i].Succeeded++
		case hookline.DeliveryPending:
			out[i].Pending++
		default:
			out[i].Failed++
		}
	}
	return out
}

// wantInvalid fails unless err is a *hookline.ValidationError naming field.
func wantInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ve *hookline.ValidationError
	if !errors.As(err, &ve) || ve.Field != field {
		t.Errorf("%s: got error %v, want a validation error of %s", what, err, field)
	}
}

// wantDeliveryStats is what DeliveryStats of [since, until) in n buckets
// must answer for the deliveries ds yields, by id and status now: each
// counts in the bucket of its id's time, cancelled as failed.
func wantDeliveryStats(since, until time.Time, n int, ds iter.Seq2[string, string]) []store.DeliveryBucket {
	want := make([]store.DeliveryBucket, n)
	for i := range want {
		want[i].Start = bucketStart(since, until, n, i)
	}
	for id, status := range ds {
		if i, ok := bucketOf(idTime(id), since, until, n); ok {
			switch status {
			case hookline.DeliveryPending:
				want[i].Pending++
			case hookline.DeliverySucceeded:
				want[i].Succeeded++
			default:
				want[i].Failed++
			}
		}
	}
	return want
}

// wantAttemptStats is what AttemptStats of [since, until) in n buckets must
// answer for the attempts as yields: each counts in the bucket of its id's
// time, with its latency.
func wantAttemptStats(since, until time.Time, n int, as iter.Seq[*hookline.Attempt]) []store.AttemptBucket {
	want := make([]store.AttemptBucket, n)
	sums := make([]int64, n)
	for i := range want {
		want[i].Start = bucketStart(since, until, n, i)
	}
	for a := range as {
		if i, ok := bucketOf(idTime(a.ID), since, until, n); ok {
			if a.Error == "" && a.StatusCode >= 200 && a.StatusCode <= 299 {
				want[i].Succeeded++
			} else {
				want[i].Failed++
			}
			sums[i] += a.DurationMS
			want[i].LatencyMaxMS = max(want[i].LatencyMaxMS, a.DurationMS)
		}
	}
	for i := range want {
		if c := int64(want[i].Succeeded + want[i].Failed); c > 0 {
			want[i].LatencyAvgMS = (sums[i] + c/2) / c
		}
	}
	return want
}

// bucketStart is the start of bucket i of n in [since, until), as
// store.StatsWindow says: the first millisecond t with
// (t-since)*n/(until-since) >= i.
func bucketStart(since, until time.Time, n, i int) time.Time {
	span := until.UnixMilli() - since.UnixMilli()
	return time.UnixMilli(since.UnixMilli() + (int64(i)*span+int64(n)-1)/int64(n)).UTC()
}

// bucketOf returns the bucket of n in [since, until) that holds t, if any.
func bucketOf(t, since, until time.Time, n int) (int, bool) {
	if t.Before(since) || !t.Before(until) {
		return 0, false
	}
	return int((t.UnixMilli() - since.UnixMilli()) * int64(n) / (until.UnixMilli() - since.UnixMilli())), true
}

// idTime returns the time an id was made: its first ten characters after
// the prefix, Crockford's base32 of a 48-bit millisecond clock.
func idTime(id string) time.Time {
	const crockford = "0123456789abcdefghjkmnpqrstvwxyz"
	var ms int64
	for _, c := range id[strings.IndexByte(id, '_')+1:][:10] {
		ms = ms<<5 | int64(strings.IndexRune(crockford, c))
	}
	return time.UnixMilli(ms).UTC()
}
