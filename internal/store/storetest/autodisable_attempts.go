package storetest

import (
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// rule5Attempts is Products Manager's rule: off after 5 failed attempts in a row.
var rule5Attempts = store.AutoDisableRule{Attempts: 5}

// try records one attempt of delivery i answered code under rule: succeeded for
// a 2xx, else failed for good (not retried) or pending (retried).
func (a *autoEnv) try(i, code int, retried bool, rule store.AutoDisableRule) store.DeliveryCompleteResult {
	a.t.Helper()
	at := a.now.Add(time.Second)
	p := store.DeliveryCompleteParams{
		DeliveryLease: store.DeliveryLease{ID: a.ds[i].ID, LeaseToken: "A"}, WebhookID: a.w.ID,
		Attempt: attempt(a.ds[i], 1, code, at), Status: hookline.DeliveryFailed, Now: at, AutoDisable: rule,
	}
	switch {
	case code >= 200 && code <= 299:
		p.Status = hookline.DeliverySucceeded
	case retried:
		p.Status, p.NextAttemptAt = hookline.DeliveryPending, at.Add(time.Minute)
	}
	return a.complete(p)
}

func exerciseAutoDisableAttempts(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"AfterNAttempts": func(t *testing.T) {
			// One 413, not retried, is one failed attempt: the webhook stays on.
			// Four more, retried, make five in a row: it goes off, in words.
			a := newAutoEnv(t, open, 5)
			a.wantActive(a.try(0, 413, false, rule5Attempts), true, 1)
			for i := 1; i < 4; i++ {
				a.wantActive(a.try(i, 500, true, rule5Attempts), true, 1)
			}
			res := a.try(4, 500, true, rule5Attempts)
			a.wantActive(res, false, 1)
			if want := "auto-disabled: 5 attempts in a row failed"; res.DisabledReason != want {
				t.Errorf("DisabledReason: got %q, want %q", res.DisabledReason, want)
			}
		},
		"SuccessResetsAttempts": func(t *testing.T) {
			a := newAutoEnv(t, open, 9)
			for i := range 4 {
				a.try(i, 500, true, rule5Attempts)
			}
			a.wantActive(a.try(4, 200, false, rule5Attempts), true, 0)
			for i := 5; i < 9; i++ {
				a.wantActive(a.try(i, 400, false, rule5Attempts), true, i-4)
			}
		},
		"CancelsAndRuleOffDoNotCount": func(t *testing.T) {
			a := newAutoEnv(t, open, 3)
			one := store.AutoDisableRule{Attempts: 1}
			res := a.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: a.ds[0].ID, LeaseToken: "A"}, WebhookID: a.w.ID,
				Error: "webhook is disabled", Status: hookline.DeliveryCancelled, Now: a.now, AutoDisable: one,
			})
			a.wantActive(res, true, 0)
			// Under a rule without the attempts part, attempts are counted all the
			// same, so that a profile taking the rule up later sees the streak.
			a.wantActive(a.try(1, 500, true, store.AutoDisableRule{}), true, 0)
			res = a.try(2, 500, true, store.AutoDisableRule{Attempts: 2})
			a.wantActive(res, false, 0)
			if want := "auto-disabled: 2 attempts in a row failed"; res.DisabledReason != want {
				t.Errorf("DisabledReason: got %q, want %q", res.DisabledReason, want)
			}
		},
		"ReactivateClearsAttempts": func(t *testing.T) {
			a := newAutoEnv(t, open, 2)
			a.try(0, 500, true, store.AutoDisableRule{Attempts: 1})
			a.reactivate(t)
			a.wantActive(a.try(1, 500, true, store.AutoDisableRule{Attempts: 2}), true, 0)
		},
	})
}
