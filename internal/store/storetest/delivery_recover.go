package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// exerciseDeliveryRecover covers the retry of a webhook's failed deliveries
// of a time window: which it takes, that it leaves each as DeliveryRetry
// would, and that a dry run counts the same and changes nothing.
func exerciseDeliveryRecover(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"Window": func(t *testing.T) {
			e := newEnv(t, open)
			w, w2, g := e.webhook("acme"), e.webhook("acme"), e.webhook("globex")
			since, until := e.now.Add(-3*time.Hour), e.now.Add(-time.Hour)
			now := e.now.Add(30 * time.Minute) // before finish's leases end
			var all []hookline.Delivery
			end := map[string]string{}
			add := func(wh *hookline.Webhook, at time.Time, status string) hookline.Delivery {
				d := e.publishAt(at, "order.created", wh)[0]
				if status != hookline.DeliveryPending {
					end[d.ID] = status
				}
				all = append(all, d)
				return d
			}
			f1 := add(w, since, hookline.DeliveryFailed) // since is in the window
			f2 := add(w, since.Add(time.Hour), hookline.DeliveryFailed)
			f3 := add(w, until.Add(-time.Millisecond), hookline.DeliveryFailed)
			add(w, since.Add(-time.Millisecond), hookline.DeliveryFailed)
			atUntil := add(w, until, hookline.DeliveryFailed) // until is not
			add(w, now.Add(time.Minute), hookline.DeliveryFailed)
			cancelled := add(w, since.Add(30*time.Minute), hookline.DeliveryCancelled)
			add(w, since.Add(30*time.Minute), hookline.DeliverySucceeded)
			add(w, since.Add(30*time.Minute), hookline.DeliveryPending)
			twin := add(w2, since.Add(time.Hour), hookline.DeliveryFailed) // f2's twin, of another webhook
			add(g, since.Add(time.Hour), hookline.DeliveryFailed)
			e.finish(all, end)
			before := e.deliveries(all)

			p := store.DeliveryRecoverParams{WebhookID: w.ID, Since: since, Until: until, Now: now, DryRun: true}
			dry := []struct {
				name string
				p    func(p *store.DeliveryRecoverParams)
				want int
			}{
				{"failed by default", func(*store.DeliveryRecoverParams) {}, 3},
				{"failed", func(p *store.DeliveryRecoverParams) { p.Status = hookline.DeliveryFailed }, 3},
				{"cancelled", func(p *store.DeliveryRecoverParams) { p.Status = hookline.DeliveryCancelled }, 1},
				{"until now", func(p *store.DeliveryRecoverParams) { p.Until = time.Time{} }, 4},
				{"other webhook", func(p *store.DeliveryRecoverParams) { p.WebhookID = w2.ID }, 1},
				{"unknown webhook", func(p *store.DeliveryRecoverParams) { p.WebhookID = hookline.NewID(hookline.PrefixWebhook) }, 0},
			}
			for _, c := range dry {
				q := p
				c.p(&q)
				if n, err := e.s.DeliveryRecover(e.ctx, q); err != nil || n != c.want {
					t.Errorf("DeliveryRecover dry run, %s: got %d, %v; want %d, nil", c.name, n, err, c.want)
				}
			}
			if got := e.deliveries(all); !reflect.DeepEqual(got, before) {
				t.Fatalf("deliveries after dry runs:\n got %+v\nwant %+v", got, before)
			}

			p.DryRun = false
			if n, err := e.s.DeliveryRecover(e.ctx, p); err != nil || n != 3 {
				t.Fatalf("DeliveryRecover: got %d, %v; want 3, nil (as the dry run)", n, err)
			}
			// What DeliveryRetry makes of f2's twin is what recovery made of f2.
			retried, err := e.s.DeliveryRetry(e.ctx, store.DeliveryRetryParams{ID: twin.ID, Now: now})
			if err != nil {
				t.Fatalf("DeliveryRetry: %v", err)
			}
			recovered := map[string]bool{f1.ID: true, f2.ID: true, f3.ID: true}
			after := e.deliveries(all)
			for i, d := range after {
				want := before[i]
				switch {
				case d.ID == twin.ID:
					want = *retried
				case recovered[d.ID]:
					want.Status, want.NextAttemptAt, want.UpdatedAt = retried.Status, retried.NextAttemptAt, retried.UpdatedAt
				}
				if !reflect.DeepEqual(d, want) {
					t.Errorf("delivery %s after DeliveryRecover:\n got %+v\nwant %+v", d.ID, d, want)
				}
			}
			cs := e.claim(now, "after", 100)
			if got, want := claimedIDs(cs), sortedIDs(f1.ID, f2.ID, f3.ID, twin.ID); !reflect.DeepEqual(got, want) {
				t.Errorf("claim after DeliveryRecover: got %v, want %v", got, want)
			}
			if n, err := e.s.DeliveryRecover(e.ctx, p); err != nil || n != 0 {
				t.Errorf("DeliveryRecover again: got %d, %v; want 0, nil", n, err)
			}
			p.Status = hookline.DeliveryCancelled
			if n, err := e.s.DeliveryRecover(e.ctx, p); err != nil || n != 1 {
				t.Errorf("DeliveryRecover of cancelled deliveries: got %d, %v; want 1, nil", n, err)
			}
			if d := e.delivery(cancelled.ID); d.Status != hookline.DeliveryPending || !sameTime(d.NextAttemptAt, &now) {
				t.Errorf("cancelled delivery after its recovery: got %s next %s, want pending next %v", d.Status, fmtTime(d.NextAttemptAt), now)
			}
			if d := e.delivery(atUntil.ID); d.Status != hookline.DeliveryFailed {
				t.Errorf("delivery created at until: got %s, want it failed still", d.Status)
			}
		},
		"Batches": func(t *testing.T) {
			// More than two batches: the count, the dry run's and the real one's,
			// is every delivery of the window, once.
			e := newEnv(t, open)
			w, other := e.webhook("acme"), e.webhook("acme")
			since := e.now.Add(-2 * time.Hour)
			n := 2*store.RecoverBatch + 3
			var ps []store.EventInsertParams
			for i := range n + 10 {
				at := since.Add(time.Duration(i) * time.Second)
				wh := w
				if i%(n/10) == 0 {
					wh = other
				}
				ev := e.newEvent("acme", "order.created")
				ev.ID, ev.CreatedAt = hookline.NewIDAt(hookline.PrefixEvent, at), at
				p := e.insertParams(ev, e.now, wh)
				p.Deliveries[0].ID = hookline.NewIDAt(hookline.PrefixDelivery, at)
				ps = append(ps, p)
			}
			res, err := e.s.EventInsert(e.ctx, ps)
			if err != nil {
				t.Fatalf("EventInsert: %v", err)
			}
			end := map[string]string{}
			mine := 0
			for _, r := range res {
				d := r.Deliveries[0]
				end[d.ID] = hookline.DeliveryFailed
				if d.WebhookID == w.ID {
					mine++
				}
			}
			e.finish(nil, end)
			p := store.DeliveryRecoverParams{WebhookID: w.ID, Since: since, Now: e.now, DryRun: true}
			dry, err := e.s.DeliveryRecover(e.ctx, p)
			if err != nil || dry != mine || mine <= 2*store.RecoverBatch {
				t.Fatalf("DeliveryRecover dry run: got %d, %v; want %d (> 2 batches), nil", dry, err, mine)
			}
			p.DryRun = false
			if got, err := e.s.DeliveryRecover(e.ctx, p); err != nil || got != dry {
				t.Fatalf("DeliveryRecover: got %d, %v; want %d (the dry run's count), nil", got, err, dry)
			}
			pending := pageDeliveries(t, e, store.DeliveryListParams{WebhookID: w.ID, Status: hookline.DeliveryPending}, 1000)
			failed := pageDeliveries(t, e, store.DeliveryListParams{Status: hookline.DeliveryFailed}, 1000)
			if len(pending) != mine || len(failed) != n+10-mine {
				t.Errorf("after DeliveryRecover: got %d pending, %d failed; want %d, %d (the other webhook's)", len(pending), len(failed), mine, n+10-mine)
			}
		},
		"Invalid": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			d := e.publishAt(e.now.Add(-time.Hour), "order.created", w)[0]
			e.finish(nil, map[string]string{d.ID: hookline.DeliveryFailed})
			valid := store.DeliveryRecoverParams{WebhookID: w.ID, Since: e.now.Add(-2 * time.Hour), Now: e.now}
			cases := []struct {
				name, field string
				p           func(p *store.DeliveryRecoverParams)
			}{
				{"no webhook", "webhook_id", func(p *store.DeliveryRecoverParams) { p.WebhookID = "" }},
				{"no since", "since", func(p *store.DeliveryRecoverParams) { p.Since = time.Time{} }},
				{"no now", "now", func(p *store.DeliveryRecoverParams) { p.Now = time.Time{} }},
				{"empty window", "until", func(p *store.DeliveryRecoverParams) { p.Until = p.Since }},
				{"until before since", "until", func(p *store.DeliveryRecoverParams) { p.Until = p.Since.Add(-time.Second) }},
				{"succeeded", "status", func(p *store.DeliveryRecoverParams) { p.Status = hookline.DeliverySucceeded }},
				{"pending", "status", func(p *store.DeliveryRecoverParams) { p.Status = hookline.DeliveryPending }},
				{"unknown status", "status", func(p *store.DeliveryRecoverParams) { p.Status = "FAILED" }},
			}
			for _, c := range cases {
				for _, dryRun := range []bool{true, false} {
					p := valid
					p.DryRun = dryRun
					c.p(&p)
					n, err := e.s.DeliveryRecover(e.ctx, p)
					wantInvalid(t, "DeliveryRecover with "+c.name, err, c.field)
					if n != 0 {
						t.Errorf("DeliveryRecover with %s: got %d, want 0", c.name, n)
					}
				}
			}
			if got := e.delivery(d.ID); got.Status != hookline.DeliveryFailed {
				t.Errorf("delivery after invalid recoveries: got %s, want failed", got.Status)
			}
		},
	})
}

// deliveries reads ds back, in their order.
func (e *env) deliveries(ds []hookline.Delivery) []hookline.Delivery {
	e.t.Helper()
	out := make([]hookline.Delivery, len(ds))
	for i, d := range ds {
		out[i] = *e.delivery(d.ID)
	}
	return out
}
