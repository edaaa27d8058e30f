package storetest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

func exerciseCompletes(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"RetryThenSuccess": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			d := e.publish(e.now, w)[0]
			e.claim(e.now, "A", 10)
			retryAt := e.now.Add(5 * time.Second)
			a1 := attempt(d, 1, 500, e.now)
			res := e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: a1, Status: hookline.DeliveryPending, NextAttemptAt: retryAt, Now: e.now,
			})
			if !res.Applied || res.WebhookDisabled {
				t.Errorf("retry: got %+v, want applied, webhook not disabled", res)
			}
			got := e.delivery(d.ID)
			checkDeliveryState(t, got, hookline.DeliveryPending, 1, 500, "HTTP 500", &retryAt)
			if cs := e.claim(retryAt.Add(-time.Millisecond), "B", 10); len(cs) != 0 {
				t.Errorf("claim before the retry is due: got %v, want none", claimedIDs(cs))
			}
			cs := e.claim(retryAt, "B", 10)
			if len(cs) != 1 || cs[0].Delivery.Attempts != 1 {
				t.Fatalf("claim when the retry is due: got %+v, want the delivery with 1 attempt", cs)
			}
			done := retryAt.Add(time.Second)
			res = e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "B"}, WebhookID: w.ID,
				Attempt: attempt(d, 2, 204, retryAt), Status: hookline.DeliverySucceeded, Now: done,
			})
			if !res.Applied {
				t.Errorf("success: Applied got false, want true")
			}
			checkDeliveryState(t, e.delivery(d.ID), hookline.DeliverySucceeded, 2, 204, "", nil)
			wh := e.getWebhook(w.ID)
			if wh.LastSuccessAt == nil || !wh.LastSuccessAt.Equal(done) || wh.FailedStreak != 0 {
				t.Errorf("webhook after a success: got last success %s, streak %d; want %v, 0", fmtTime(wh.LastSuccessAt), wh.FailedStreak, done)
			}
			if cs := e.claim(done.Add(48*time.Hour), "C", 10); len(cs) != 0 {
				t.Errorf("claim of a succeeded delivery: got %v, want none", claimedIDs(cs))
			}
			if n := attemptCount(t, e, store.AttemptListParams{DeliveryID: d.ID}); n != 2 {
				t.Errorf("attempts of the delivery: got %d, want 2", n)
			}
		},
		"OpsEventsInTheSameCommit": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			opsHook := e.webhook(hookline.TenantOps, func(w *hookline.Webhook) { w.Events = nil })
			ds := e.publish(e.now, w, w)
			e.claim(e.now, "A", 10)
			ops := func() *store.OpsEvents {
				failed := e.insertParams(e.newEvent(hookline.TenantOps, hookline.EventDeliveryFailed), e.now, opsHook)
				disabled := e.insertParams(e.newEvent(hookline.TenantOps, hookline.EventWebhookDisabled), e.now, opsHook)
				return &store.OpsEvents{Failed: &failed, Disabled: &disabled, DisabledData: func(reason string) json.RawMessage {
					b, _ := json.Marshal(map[string]string{"reason": reason})
					return b
				}}
			}

			// A stale token: nothing applies, so no operational event is stored.
			stale := e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ds[0].ID, LeaseToken: "stale"}, WebhookID: w.ID,
				Attempt: attempt(ds[0], 1, 410, e.now), Status: hookline.DeliveryFailed, Now: e.now,
				DisableReason: "gone", Ops: ops(),
			})
			if stale.Applied || len(stale.Ops) != 0 {
				t.Errorf("stale completion: got applied %v, %d ops events; want false, 0", stale.Applied, len(stale.Ops))
			}
			// A retry is not a failure: no event either.
			retry := e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ds[1].ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: attempt(ds[1], 1, 500, e.now), Status: hookline.DeliveryPending, NextAttemptAt: e.now.Add(time.Minute),
				Now: e.now, Ops: ops(),
			})
			if len(retry.Ops) != 0 {
				t.Errorf("retry: got %d ops events, want 0", len(retry.Ops))
			}
			if n := len(pageEvents(t, e, store.EventListParams{Tenant: hookline.TenantOps}, 10)); n != 0 {
				t.Fatalf("ops events before any failure: got %d, want 0", n)
			}

			// A 410: the delivery fails and the webhook is turned off, with both
			// events and their deliveries in that commit.
			gone := e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: ds[0].ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: attempt(ds[0], 1, 410, e.now), Status: hookline.DeliveryFailed, Now: e.now,
				DisableReason: "the endpoint answered 410 Gone", Ops: ops(),
			})
			if !gone.Applied || !gone.WebhookDisabled || len(gone.Ops) != 2 {
				t.Fatalf("410: got %+v, want applied, webhook disabled, 2 ops events", gone)
			}
			types := []string{gone.Ops[0].Event.Type, gone.Ops[1].Event.Type}
			if !reflect.DeepEqual(types, []string{hookline.EventDeliveryFailed, hookline.EventWebhookDisabled}) {
				t.Errorf("ops event types: got %v", types)
			}
			stored, err := e.s.EventGet(e.ctx, gone.Ops[1].Event.ID)
			if err != nil {
				t.Fatalf("EventGet of the webhook.disabled event: %v", err)
			}
			if want := `{"reason":"the endpoint answered 410 Gone"}`; string(stored.Data) != want {
				t.Errorf("webhook.disabled data: got %s, want %s", stored.Data, want)
			}
			for _, r := range gone.Ops {
				if len(r.Deliveries) != 1 || r.Deliveries[0].WebhookID != opsHook.ID {
					t.Errorf("%s: got deliveries %+v, want one to the ops webhook", r.Event.Type, r.Deliveries)
				}
			}
			if cs := e.claim(e.now, "B", 10); len(cs) != 2 {
				t.Errorf("claim after the 410: got %d deliveries, want the 2 ops deliveries", len(cs))
			}
		},
		"Fail": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			d := e.publish(e.now, w)[0]
			e.claim(e.now, "A", 10)
			res := e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: attempt(d, 1, 400, e.now), Status: hookline.DeliveryFailed, Now: e.now,
				AutoDisable: store.AutoDisableRule{Failures: 5, After: 24 * time.Hour},
			})
			if !res.Applied || res.WebhookDisabled {
				t.Errorf("fail: got %+v, want applied, webhook not disabled", res)
			}
			checkDeliveryState(t, e.delivery(d.ID), hookline.DeliveryFailed, 1, 400, "HTTP 400", nil)
			if wh := e.getWebhook(w.ID); wh.FailedStreak != 1 || !wh.Active {
				t.Errorf("webhook after one failure: got streak %d active %v, want 1 true", wh.FailedStreak, wh.Active)
			}
			if cs := e.claim(e.now.Add(48*time.Hour), "B", 10); len(cs) != 0 {
				t.Errorf("claim of a failed delivery: got %v, want none", claimedIDs(cs))
			}
		},
		"CancelWithoutAttempt": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			d := e.publish(e.now, w)[0]
			e.claim(e.now, "A", 10)
			res := e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"}, WebhookID: w.ID,
				Error: "webhook is disabled", Status: hookline.DeliveryCancelled, Now: e.now,
			})
			if !res.Applied {
				t.Errorf("cancel: Applied got false, want true")
			}
			checkDeliveryState(t, e.delivery(d.ID), hookline.DeliveryCancelled, 0, 0, "webhook is disabled", nil)
			if n := attemptCount(t, e, store.AttemptListParams{DeliveryID: d.ID}); n != 0 {
				t.Errorf("attempts of a cancelled delivery: got %d, want 0", n)
			}
			if wh := e.getWebhook(w.ID); wh.FailedStreak != 0 || wh.LastSuccessAt != nil {
				t.Errorf("webhook after a cancel: got streak %d, last success %s; want 0, nil", wh.FailedStreak, fmtTime(wh.LastSuccessAt))
			}
		},
		"StaleToken": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			d := e.publish(e.now, w)[0]
			first := store.DeliveryClaimParams{Now: e.now, LeaseUntil: e.now.Add(time.Second), LeaseToken: "A", Limit: 1}
			if cs, err := e.s.DeliveryClaim(e.ctx, first); err != nil || len(cs) != 1 {
				t.Fatalf("claim A: got %d, %v; want 1, nil", len(cs), err)
			}
			later := e.now.Add(2 * time.Second)
			if cs := e.claim(later, "B", 1); len(cs) != 1 {
				t.Fatalf("claim B after A's lease ended: got %d, want 1", len(cs))
			}
			stale := attempt(d, 1, 200, e.now)
			res := e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: stale, Status: hookline.DeliverySucceeded, Now: later,
			})
			if res.Applied || res.WebhookDisabled {
				t.Errorf("completion with a stale token: got %+v, want not applied", res)
			}
			if got := e.delivery(d.ID); got.Status != hookline.DeliveryPending || got.Attempts != 0 || got.NextAttemptAt == nil {
				t.Errorf("delivery after a stale completion: got %s, %d attempts, next %s; want pending, 0, set",
					got.Status, got.Attempts, fmtTime(got.NextAttemptAt))
			}
			if wh := e.getWebhook(w.ID); wh.LastSuccessAt != nil {
				t.Errorf("webhook after a stale success: got last success %s, want nil", fmtTime(wh.LastSuccessAt))
			}
			as, err := e.s.AttemptList(e.ctx, store.AttemptListParams{DeliveryID: d.ID})
			if err != nil || len(as) != 0 {
				t.Errorf("attempts after a stale completion: got %d, %v; want none: B's attempt is the one that counts", len(as), err)
			}
			res = e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "B"}, WebhookID: w.ID,
				Attempt: attempt(d, 1, 200, later), Status: hookline.DeliverySucceeded, Now: later,
			})
			if !res.Applied {
				t.Errorf("completion with the current token: Applied got false, want true")
			}
			res = e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "B"}, WebhookID: w.ID,
				Error: "late", Status: hookline.DeliveryCancelled, Now: later,
			})
			if res.Applied {
				t.Errorf("second completion with the same token: Applied got true, want false")
			}
			checkDeliveryState(t, e.delivery(d.ID), hookline.DeliverySucceeded, 1, 200, "", nil)
		},
		"WriteCombines": func(t *testing.T) {
			e := newEnv(t, open)
			wr, ok := e.s.(store.Writer)
			if !ok {
				t.Skip("the driver has no combined write")
			}
			w := e.webhook("acme")
			ds := e.publish(e.now, w, w)
			e.claim(e.now, "A", 10)
			later := e.now.Add(time.Hour)
			ev := &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: "acme", Type: "order.paid",
				Data: json.RawMessage(`{"n":1}`), Timestamp: e.now, CreatedAt: e.now}
			res, err := wr.Write(e.ctx, []store.Write{
				{Insert: &store.EventInsertParams{Event: ev}},
				{Complete: &store.DeliveryCompleteParams{DeliveryLease: store.DeliveryLease{ID: ds[0].ID, LeaseToken: "A"}, WebhookID: w.ID,
					Attempt: attempt(ds[0], 1, 200, e.now), Status: hookline.DeliverySucceeded, Now: e.now}},
				{Renew: &store.DeliveryRenewal{DeliveryLease: store.DeliveryLease{ID: ds[1].ID, LeaseToken: "A"}, Until: later}},
				{Renew: &store.DeliveryRenewal{DeliveryLease: store.DeliveryLease{ID: ds[1].ID, LeaseToken: "B"}, Until: later}},
			})
			if err != nil || len(res) != 4 {
				t.Fatalf("Write: got %d results, %v; want 4", len(res), err)
			}
			if !res[0].Insert.Created || !res[1].Complete.Applied || !res[2].Renewed || res[3].Renewed {
				t.Errorf("results: got created %v, applied %v, renewed %v and %v; want true, true, true, false",
					res[0].Insert.Created, res[1].Complete.Applied, res[2].Renewed, res[3].Renewed)
			}
			if _, err := e.s.EventGet(e.ctx, ev.ID); err != nil {
				t.Errorf("inserted event: %v", err)
			}
			checkDeliveryState(t, e.delivery(ds[0].ID), hookline.DeliverySucceeded, 1, 200, "", nil)
			if cs := e.claim(later.Add(-time.Second), "C", 10); len(cs) != 0 {
				t.Errorf("claim inside the renewed lease: got %v, want none", claimedIDs(cs))
			}
			// All or nothing: a failing item leaves no trace of the others.
			ev2 := &hookline.Event{ID: hookline.NewID(hookline.PrefixEvent), Tenant: "acme", Type: "order.paid",
				Data: json.RawMessage(`{}`), Timestamp: e.now, CreatedAt: e.now}
			if _, err := wr.Write(e.ctx, []store.Write{{Insert: &store.EventInsertParams{Event: ev2}}, {}}); err == nil {
				t.Fatal("Write with an empty item: got no error")
			}
			if _, err := e.s.EventGet(e.ctx, ev2.ID); err == nil {
				t.Error("an event of a failed Write was stored")
			}
		},
		"Batch": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			ds := e.publish(e.now, w, w, w)
			e.claim(e.now, "A", 10)
			retryAt := e.now.Add(time.Minute)
			ps := []store.DeliveryCompleteParams{
				{DeliveryLease: store.DeliveryLease{ID: ds[0].ID, LeaseToken: "A"}, WebhookID: w.ID,
					Attempt: attempt(ds[0], 1, 200, e.now), Status: hookline.DeliverySucceeded, Now: e.now},
				{DeliveryLease: store.DeliveryLease{ID: ds[1].ID, LeaseToken: "wrong"}, WebhookID: w.ID,
					Attempt: attempt(ds[1], 1, 200, e.now), Status: hookline.DeliverySucceeded, Now: e.now},
				{DeliveryLease: store.DeliveryLease{ID: ds[2].ID, LeaseToken: "A"}, WebhookID: w.ID,
					Attempt: attempt(ds[2], 1, 429, e.now), Status: hookline.DeliveryPending, NextAttemptAt: retryAt, Now: e.now},
			}
			res, err := e.s.DeliveryComplete(e.ctx, ps)
			if err != nil {
				t.Fatalf("DeliveryComplete: %v", err)
			}
			var applied []bool
			for _, r := range res {
				applied = append(applied, r.Applied)
			}
			if want := []bool{true, false, true}; !reflect.DeepEqual(applied, want) {
				t.Errorf("batch completion: got applied %v, want %v", applied, want)
			}
			checkDeliveryState(t, e.delivery(ds[0].ID), hookline.DeliverySucceeded, 1, 200, "", nil)
			if got := e.delivery(ds[1].ID); got.Status != hookline.DeliveryPending || got.Attempts != 0 {
				t.Errorf("delivery completed with a wrong token: got %s with %d attempts, want pending with 0", got.Status, got.Attempts)
			}
			checkDeliveryState(t, e.delivery(ds[2].ID), hookline.DeliveryPending, 1, 429, "HTTP 429", &retryAt)
		},
	})
}

// checkDeliveryState compares a delivery's progress fields; next nil means the
// delivery has ended.
func checkDeliveryState(t *testing.T, d *hookline.Delivery, status string, attempts, lastStatus int, lastError string, next *time.Time) {
	t.Helper()
	if d.Status != status || d.Attempts != attempts || d.LastStatus != lastStatus || d.LastError != lastError {
		t.Errorf("delivery %s: got status %q, %d attempts, last %d %q; want %q, %d, %d %q",
			d.ID, d.Status, d.Attempts, d.LastStatus, d.LastError, status, attempts, lastStatus, lastError)
	}
	if !sameTime(d.NextAttemptAt, next) {
		t.Errorf("delivery %s NextAttemptAt: got %s, want %s", d.ID, fmtTime(d.NextAttemptAt), fmtTime(next))
	}
}

func attemptCount(t *testing.T, e *env, p store.AttemptListParams) int {
	t.Helper()
	p.Limit = 1000
	as, err := e.s.AttemptList(e.ctx, p)
	if err != nil {
		t.Fatalf("AttemptList: %v", err)
	}
	return len(as)
}
