package delivery

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/profile"
	"github.com/hookline/hookline/internal/store"
)

// Test sends to unsaved URLs share the test-send bound, counted per target
// host, and store nothing.
func TestTestUnsavedBoundedPerHost(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		testTestUnsavedBoundedPerHost(t, setup(t))
	})
}

func testTestUnsavedBoundedPerHost(t *testing.T, f *fixture) {
	e := f.start(t)
	hold := make(chan struct{})
	rcv := newReceiver(t, reply{status: http.StatusOK, wait: hold})
	wh := &hookline.Webhook{Tenant: "t1", URL: rcv.URL + "/a", Profile: profile.Standard, Secret: "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Active: true}

	errs := make(chan error, maxTestSendsPerWebhook+1)
	for range maxTestSendsPerWebhook {
		go func() { _, err := e.TestUnsaved(context.Background(), wh, TestEvent{}); errs <- err }()
	}
	waitFor(t, 5*time.Second, "the test sends let through to arrive", func() bool { return rcv.count() == maxTestSendsPerWebhook })
	other := *wh
	other.URL = rcv.URL + "/b" // the same host: the same bound
	if _, err := e.TestUnsaved(context.Background(), &other, TestEvent{}); !errors.Is(err, ErrTestBusy) {
		close(hold)
		t.Fatalf("a third test send to the host: got %v, want ErrTestBusy", err)
	}
	close(hold)
	for range maxTestSendsPerWebhook {
		if err := <-errs; err != nil {
			t.Errorf("a test send let through: %v", err)
		}
	}
	evs, err := f.store.EventList(context.Background(), store.EventListParams{ListParams: store.ListParams{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 0 {
		t.Errorf("events stored by unsaved test sends: got %d, want none", len(evs))
	}
}
