package storetest

import (
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// rule5x24 is the default auto-disable rule (SPEC §3).
var rule5x24 = store.AutoDisableRule{Failures: 5, After: 24 * time.Hour}

// autoEnv is an env with one webhook and n of its deliveries claimed with token "A".
type autoEnv struct {
	*env
	w  *hookline.Webhook
	ds []hookline.Delivery
}

func newAutoEnv(t *testing.T, open func(t *testing.T) store.Store, n int) *autoEnv {
	t.Helper()
	e := newEnv(t, open)
	w := e.webhook("acme")
	whs := make([]*hookline.Webhook, n)
	for i := range whs {
		whs[i] = w
	}
	ds := e.publish(e.now, whs...)
	if cs := e.claim(e.now, "A", n); len(cs) != n {
		t.Fatalf("claim: got %d, want %d", len(cs), n)
	}
	return &autoEnv{env: e, w: w, ds: ds}
}

// finish ends delivery i at at: succeeded, or failed under rule.
func (a *autoEnv) finish(i int, status string, at time.Time, rule store.AutoDisableRule) store.DeliveryCompleteResult {
	a.t.Helper()
	code := 200
	if status == hookline.DeliveryFailed {
		code = 500
	}
	return a.complete(store.DeliveryCompleteParams{
		DeliveryLease: store.DeliveryLease{ID: a.ds[i].ID, LeaseToken: "A"}, WebhookID: a.w.ID,
		Attempt: attempt(a.ds[i], 1, code, at), Status: status, Now: at, AutoDisable: rule,
	})
}

// wantActive checks the webhook's state after a completion.
// reactivate turns the webhook, which a rule has just turned off, on again.
func (a *autoEnv) reactivate(t *testing.T) {
	t.Helper()
	w := a.getWebhook(a.w.ID)
	if w.Active {
		t.Fatal("webhook still active after the rule tripped")
	}
	w.Active = true
	if err := a.s.WebhookUpdate(a.ctx, w); err != nil {
		t.Fatalf("WebhookUpdate: %v", err)
	}
}

func (a *autoEnv) wantActive(res store.DeliveryCompleteResult, active bool, streak int) {
	a.t.Helper()
	if res.WebhookDisabled == active {
		a.t.Errorf("WebhookDisabled: got %v, want %v", res.WebhookDisabled, !active)
	}
	w := a.getWebhook(a.w.ID)
	if w.Active != active || w.FailedStreak != streak {
		a.t.Errorf("webhook: got active %v, streak %d; want %v, %d", w.Active, w.FailedStreak, active, streak)
	}
	if !active && (w.DisabledReason == "" || w.DisabledReason != res.DisabledReason) {
		a.t.Errorf("DisabledReason: got stored %q, result %q; want the same, non-empty", w.DisabledReason, res.DisabledReason)
	}
}

func exerciseAutoDisable(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"AfterNFailuresAndD": func(t *testing.T) {
			a := newAutoEnv(t, open, 6)
			at := a.now.Add(25 * time.Hour) // created 25 h ago, never succeeded
			for i := range 4 {
				a.wantActive(a.finish(i, hookline.DeliveryFailed, at, rule5x24), true, i+1)
			}
			res := a.finish(4, hookline.DeliveryFailed, at, rule5x24)
			a.wantActive(res, false, 5)
			if want := "auto-disabled: 5 deliveries in a row failed and no delivery has succeeded for 24 hours"; res.DisabledReason != want {
				t.Errorf("DisabledReason: got %q, want %q", res.DisabledReason, want)
			}
			ws, err := a.s.WebhookListActive(a.ctx, "acme")
			if err != nil || len(ws) != 0 {
				t.Errorf("WebhookListActive after auto-disable: got %d, %v; want 0, nil", len(ws), err)
			}
			// Another failure of the disabled webhook disables nothing more.
			res = a.finish(5, hookline.DeliveryFailed, at, rule5x24)
			if res.WebhookDisabled {
				t.Errorf("failure of an already disabled webhook: WebhookDisabled got true, want false")
			}
		},
		"OneFailureNoQuietPeriod": func(t *testing.T) {
			// Products Manager's rule: the first delivery that fails turns the
			// webhook off, and the reason says so in words.
			a := newAutoEnv(t, open, 1)
			res := a.finish(0, hookline.DeliveryFailed, a.now, store.AutoDisableRule{Failures: 1})
			a.wantActive(res, false, 1)
			if want := "auto-disabled: a delivery failed"; res.DisabledReason != want {
				t.Errorf("DisabledReason: got %q, want %q", res.DisabledReason, want)
			}
		},
		"NotBeforeD": func(t *testing.T) {
			a := newAutoEnv(t, open, 6)
			at := a.now.Add(time.Hour) // a young webhook that never succeeded
			for i := range 6 {
				a.wantActive(a.finish(i, hookline.DeliveryFailed, at, rule5x24), true, i+1)
			}
		},
		"RecentSuccessKeepsIt": func(t *testing.T) {
			a := newAutoEnv(t, open, 7)
			success := a.now.Add(30 * time.Hour)
			a.wantActive(a.finish(0, hookline.DeliverySucceeded, success, rule5x24), true, 0)
			for i := 1; i <= 5; i++ {
				a.wantActive(a.finish(i, hookline.DeliveryFailed, success.Add(time.Hour), rule5x24), true, i)
			}
			a.wantActive(a.finish(6, hookline.DeliveryFailed, success.Add(25*time.Hour), rule5x24), false, 6)
		},
		"SuccessResetsStreak": func(t *testing.T) {
			a := newAutoEnv(t, open, 9)
			at := a.now.Add(48 * time.Hour)
			for i := range 4 {
				a.finish(i, hookline.DeliveryFailed, at, rule5x24)
			}
			a.wantActive(a.finish(4, hookline.DeliverySucceeded, at, rule5x24), true, 0)
			later := at.Add(48 * time.Hour)
			for i := 5; i < 9; i++ {
				a.wantActive(a.finish(i, hookline.DeliveryFailed, later, rule5x24), true, i-4)
			}
		},
		"SuccessAndFailureInOneBatch": func(t *testing.T) {
			// Outcomes of one call apply in order: a success then a failure leave a
			// streak of 1; a failure then a success, 0.
			a := newAutoEnv(t, open, 7)
			at := a.now.Add(time.Hour)
			for i := range 3 {
				a.finish(i, hookline.DeliveryFailed, at, rule5x24)
			}
			outcome := func(i int, status string) store.DeliveryCompleteParams {
				code := 200
				if status == hookline.DeliveryFailed {
					code = 500
				}
				return store.DeliveryCompleteParams{
					DeliveryLease: store.DeliveryLease{ID: a.ds[i].ID, LeaseToken: "A"}, WebhookID: a.w.ID,
					Attempt: attempt(a.ds[i], 1, code, at), Status: status, Now: at, AutoDisable: rule5x24,
				}
			}
			a.completeAll(outcome(3, hookline.DeliverySucceeded), outcome(4, hookline.DeliveryFailed))
			if w := a.getWebhook(a.w.ID); w.FailedStreak != 1 || w.LastSuccessAt == nil {
				t.Errorf("after success, failure: got streak %d, last success %v; want 1, set", w.FailedStreak, w.LastSuccessAt)
			}
			a.completeAll(outcome(5, hookline.DeliveryFailed), outcome(6, hookline.DeliverySucceeded))
			if w := a.getWebhook(a.w.ID); w.FailedStreak != 0 || !w.Active {
				t.Errorf("after failure, success: got streak %d, active %v; want 0, true", w.FailedStreak, w.Active)
			}
		},
		"RuleOff": func(t *testing.T) {
			a := newAutoEnv(t, open, 6)
			at := a.now.Add(100 * time.Hour)
			for i := range 6 {
				a.wantActive(a.finish(i, hookline.DeliveryFailed, at, store.AutoDisableRule{}), true, i+1)
			}
		},
		"SingleExhaustedDelivery": func(t *testing.T) {
			a := newAutoEnv(t, open, 1)
			a.wantActive(a.finish(0, hookline.DeliveryFailed, a.now.Add(time.Second), store.AutoDisableRule{Failures: 1}), false, 1)
		},
		"RetryAndCancelDoNotCount": func(t *testing.T) {
			a := newAutoEnv(t, open, 2)
			at := a.now.Add(48 * time.Hour)
			rule := store.AutoDisableRule{Failures: 1, After: time.Hour}
			res := a.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: a.ds[0].ID, LeaseToken: "A"}, WebhookID: a.w.ID,
				Attempt: attempt(a.ds[0], 1, 500, at), Status: hookline.DeliveryPending, NextAttemptAt: at.Add(time.Minute),
				Now: at, AutoDisable: rule,
			})
			a.wantActive(res, true, 0)
			res = a.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: a.ds[1].ID, LeaseToken: "A"}, WebhookID: a.w.ID,
				Error: "webhook is disabled", Status: hookline.DeliveryCancelled, Now: at, AutoDisable: rule,
			})
			a.wantActive(res, true, 0)
		},
		"StaleFailureDoesNotCount": func(t *testing.T) {
			a := newAutoEnv(t, open, 1)
			res := a.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: a.ds[0].ID, LeaseToken: "stale"}, WebhookID: a.w.ID,
				Attempt: attempt(a.ds[0], 1, 500, a.now), Status: hookline.DeliveryFailed,
				Now: a.now.Add(48 * time.Hour), AutoDisable: store.AutoDisableRule{Failures: 1},
			})
			if res.Applied {
				t.Errorf("stale completion: Applied got true, want false")
			}
			a.wantActive(res, true, 0)
		},
		"Gone": func(t *testing.T) {
			a := newAutoEnv(t, open, 1)
			const reason = "the endpoint answered 410 Gone"
			res := a.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: a.ds[0].ID, LeaseToken: "A"}, WebhookID: a.w.ID,
				Attempt: attempt(a.ds[0], 1, 410, a.now), Status: hookline.DeliveryFailed, Now: a.now,
				DisableReason: reason,
			})
			a.wantActive(res, false, 1)
			if res.DisabledReason != reason {
				t.Errorf("DisabledReason: got %q, want %q", res.DisabledReason, reason)
			}
		},
		"ReactivateClearsState": func(t *testing.T) {
			a := newAutoEnv(t, open, 2)
			a.finish(0, hookline.DeliveryFailed, a.now.Add(time.Second), store.AutoDisableRule{Failures: 1})
			a.reactivate(t)
			got := a.getWebhook(a.w.ID)
			if !got.Active || got.DisabledReason != "" || got.FailedStreak != 0 {
				t.Errorf("re-activated webhook: got active %v, reason %q, streak %d; want true, empty, 0",
					got.Active, got.DisabledReason, got.FailedStreak)
			}
			// The streak starts again from zero: one more failure under a rule of two
			// keeps it on.
			a.wantActive(a.finish(1, hookline.DeliveryFailed, a.now.Add(time.Second), store.AutoDisableRule{Failures: 2}), true, 1)
		},
	})
}
