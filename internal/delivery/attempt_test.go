package delivery

import (
	"context"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
)

// A webhook's credential headers reach the receiver but are stored masked in
// its attempts, whether delivered or test sends.
func TestCredentialHeadersAreMaskedInAttempts(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t)
		rcv := newReceiver(t)
		wh := f.webhook(t, rcv.URL, func(w *hookline.Webhook) {
			w.Headers = map[string]string{"Authorization": "Bearer s3cret", "X-Api-Key": "k3y", "X-Custom": "yes"}
		})

		_, d := publishOne(t, e, "a.b", `{}`)
		f.waitDelivery(t, d.ID, hookline.DeliverySucceeded)
		as := f.attempts(t, d.ID)
		if len(as) != 1 {
			t.Fatalf("got %d attempts, want 1", len(as))
		}
		tested, err := e.Test(context.Background(), wh, TestEvent{})
		if err != nil {
			t.Fatalf("test send: %v", err)
		}
		for _, a := range []*hookline.Attempt{&as[0], tested} {
			for k, want := range map[string]string{"Authorization": hookline.MaskedValue, "X-Api-Key": hookline.MaskedValue, "X-Custom": "yes"} {
				if got := a.RequestHeaders[k]; got != want {
					t.Errorf("attempt %s: stored request header %s: got %q, want %q", a.ID, k, got, want)
				}
			}
		}

		reqs := rcv.requests()
		if len(reqs) != 2 {
			t.Fatalf("receiver got %d requests, want 2", len(reqs))
		}
		for _, r := range reqs {
			if got := r.header.Get("Authorization"); got != "Bearer s3cret" {
				t.Errorf("Authorization at the receiver: got %q, want Bearer s3cret", got)
			}
			if got := r.header.Get("X-Api-Key"); got != "k3y" {
				t.Errorf("X-Api-Key at the receiver: got %q, want k3y", got)
			}
		}
	})
}
