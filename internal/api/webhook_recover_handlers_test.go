package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/config"
)

// failDeliveries publishes n events of tenant that the receiver refuses at
// path with a 400 (failed at once, no retry), and returns their deliveries
// once each has failed.
func (fx *fixture) failDeliveries(t *testing.T, rc *receiver, path, tenant string, n int) []string {
	t.Helper()
	statuses := make([]int, n)
	for i := range statuses {
		statuses[i] = http.StatusBadRequest
	}
	rc.respond(path, statuses...)
	var ids []string
	for i := range n {
		ids = append(ids, oneDelivery(t, fx.publish(t, fx.admin, obj{"type": "order.created", "tenant": tenant, "data": obj{"n": i}})))
	}
	for _, id := range ids {
		fx.waitDelivery(t, id, "failed")
	}
	return ids
}

// checkDeliveries fails the test unless each delivery has status and that
// many attempts.
func (fx *fixture) checkDeliveries(t *testing.T, when string, ids []string, status string, attempts int) {
	t.Helper()
	for _, id := range ids {
		d := fx.do(t, "GET", "/v1/deliveries/"+id, fx.admin, nil).must(t, http.StatusOK)
		if d.str("status") != status || d.body["attempt_count"] != float64(attempts) {
			t.Errorf("%s: delivery %s is %s after %v attempts, want %s after %d", when, id, d.str("status"), d.body["attempt_count"], status, attempts)
		}
	}
}

// Bulk recovery retries a webhook's failed deliveries of a window, once; a
// dry run counts them and changes nothing, and so does every refused request.
func TestWebhookRecover(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t)
		rc := fx.receiver()
		_, acme := fx.createKey(t, obj{"name": "acme", "tenant": "acme", "scopes": []string{"deliveries:read", "deliveries:write"}})
		_, globex := fx.createKey(t, obj{"name": "globex", "tenant": "globex", "scopes": []string{"deliveries:read", "deliveries:write"}})
		_, reader := fx.createKey(t, obj{"name": "reader", "tenant": "acme", "scopes": []string{"deliveries:read"}})
		wh := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/a", "tenant": "acme"}).str("id")
		other := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/other", "tenant": "acme", "events": []string{"invoice.*"}}).str("id")
		path := "/v1/webhooks/" + wh + "/recover"

		since := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
		failed := fx.failDeliveries(t, rc, "/a", "acme", 3)
		fx.waitDelivery(t, oneDelivery(t, fx.publish(t, fx.admin, obj{"type": "order.created", "tenant": "acme", "data": obj{}})), "succeeded")
		sinceText := since.Format(time.RFC3339)

		dry := []struct {
			name string
			body obj
			want int
		}{
			{"since", obj{"since": sinceText}, 3},
			{"status failed", obj{"since": sinceText, "status": "failed"}, 3},
			{"status cancelled", obj{"since": sinceText, "status": "cancelled"}, 0},
			{"since in another zone", obj{"since": since.In(time.FixedZone("", 2*3600)).Format(time.RFC3339)}, 3},
			{"the widest window", obj{"since": "1970-01-01T00:00:00Z", "until": "9999-12-31T23:59:59.999Z"}, 3},
			{"a window before", obj{"since": "2000-01-01T00:00:00Z", "until": sinceText}, 0},
		}
		for _, c := range dry {
			c.body["dry_run"] = true
			r := fx.do(t, "POST", path, acme, c.body).must(t, http.StatusOK)
			if r.body["count"] != float64(c.want) || r.body["dry_run"] != true || r.str("webhook_id") != wh || r.str("since") == "" || r.str("until") == "" {
				t.Errorf("dry run, %s: got %s, want count %d", c.name, r.raw, c.want)
			}
		}
		if r := fx.do(t, "POST", path, acme, obj{"since": sinceText, "dry_run": true}).must(t, http.StatusOK); r.str("status") != "failed" || !timeIs(r.str("since"), since) {
			t.Errorf("dry run: got %s, want status failed and since %s", r.raw, sinceText)
		}
		if r := fx.do(t, "POST", "/v1/webhooks/"+other+"/recover", acme, obj{"since": sinceText, "dry_run": true}).must(t, http.StatusOK); r.body["count"] != 0.0 {
			t.Errorf("dry run of another webhook: got %s, want count 0", r.raw)
		}
		fx.checkDeliveries(t, "after dry runs", failed, "failed", 1)

		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		refused := []struct {
			name   string
			key    string
			body   any
			status int
			field  string
		}{
			{"no body", acme, nil, http.StatusBadRequest, ""},
			{"no since", acme, obj{}, http.StatusUnprocessableEntity, "since"},
			{"since not a time", acme, obj{"since": "yesterday"}, http.StatusBadRequest, "since"},
			{"since without a zone", acme, obj{"since": "2025-01-02T03:04:05"}, http.StatusBadRequest, "since"},
			{"since a number", acme, obj{"since": 1735787045}, http.StatusBadRequest, "since"},
			{"since before 1970", acme, obj{"since": "1969-12-31T23:59:59Z"}, http.StatusUnprocessableEntity, "since"},
			{"since in the future", acme, obj{"since": future}, http.StatusUnprocessableEntity, "since"},
			{"until not a time", acme, obj{"since": sinceText, "until": "now"}, http.StatusBadRequest, "until"},
			{"until before since", acme, obj{"since": sinceText, "until": "2000-01-01T00:00:00Z"}, http.StatusUnprocessableEntity, "until"},
			{"until equal to since", acme, obj{"since": sinceText, "until": sinceText}, http.StatusUnprocessableEntity, "until"},
			{"status succeeded", acme, obj{"since": sinceText, "status": "succeeded"}, http.StatusUnprocessableEntity, "status"},
			{"status pending", acme, obj{"since": sinceText, "status": "pending"}, http.StatusUnprocessableEntity, "status"},
			{"status in capitals", acme, obj{"since": sinceText, "status": "FAILED"}, http.StatusUnprocessableEntity, "status"},
			{"dry_run a string", acme, obj{"since": sinceText, "dry_run": "yes"}, http.StatusBadRequest, "dry_run"},
			{"unknown field", acme, obj{"since": sinceText, "webhook_id": wh}, http.StatusBadRequest, "webhook_id"},
			{"no deliveries:write", reader, obj{"since": sinceText}, http.StatusForbidden, ""},
		}
		for _, c := range refused {
			fx.do(t, "POST", path, c.key, c.body).problem(t, c.status, c.field)
		}
		// Another tenant's webhook is not there, to a tenant key.
		absent := fx.do(t, "POST", "/v1/webhooks/wh_01doesnotexist0000000000000/recover", globex, obj{"since": sinceText})
		absent.problem(t, http.StatusNotFound, "")
		for _, dryRun := range []bool{true, false} {
			r := fx.do(t, "POST", path, globex, obj{"since": sinceText, "dry_run": dryRun})
			r.problem(t, http.StatusNotFound, "")
			if r.str("detail") != absent.str("detail") {
				t.Errorf("another tenant's webhook: got detail %q, want %q as for one that does not exist", r.str("detail"), absent.str("detail"))
			}
		}
		fx.checkDeliveries(t, "after refused recoveries", failed, "failed", 1)

		// A disabled webhook would cancel what a recovery queues: a dry run
		// counts, a recovery is refused until the webhook is enabled again.
		fx.do(t, "PATCH", "/v1/webhooks/"+wh, fx.admin, obj{"active": false}).must(t, http.StatusOK)
		if r := fx.do(t, "POST", path, acme, obj{"since": sinceText, "dry_run": true}).must(t, http.StatusOK); r.body["count"] != 3.0 {
			t.Errorf("dry run on a disabled webhook: got %s, want count 3", r.raw)
		}
		off := fx.do(t, "POST", path, acme, obj{"since": sinceText})
		off.problem(t, http.StatusConflict, "")
		if off.str("type") != "urn:hookline:problem:webhook-disabled" {
			t.Errorf("recovery on a disabled webhook: got type %q, want urn:hookline:problem:webhook-disabled", off.str("type"))
		}
		fx.checkDeliveries(t, "after a recovery on a disabled webhook", failed, "failed", 1)
		fx.do(t, "PATCH", "/v1/webhooks/"+wh, fx.admin, obj{"active": true}).must(t, http.StatusOK)

		r := fx.do(t, "POST", path, acme, obj{"since": sinceText}).must(t, http.StatusAccepted)
		if r.body["count"] != 3.0 || r.body["dry_run"] != false || r.str("status") != "failed" {
			t.Errorf("recovery: got %s, want count 3 (as the dry run)", r.raw)
		}
		for _, id := range failed {
			fx.waitDelivery(t, id, "succeeded")
		}
		fx.checkDeliveries(t, "after the recovery", failed, "succeeded", 2)
		if n := len(rc.requests("/a")); n != 3+1+3 {
			t.Errorf("the receiver got %d requests, want 7: 3 refused, 1 accepted, 3 recovered", n)
		}
		if r := fx.do(t, "POST", path, fx.admin, obj{"since": sinceText}).must(t, http.StatusAccepted); r.body["count"] != 0.0 {
			t.Errorf("the same recovery again: got %s, want count 0 (each delivery is recovered once)", r.raw)
		}
	})
}

// A recovery of status cancelled brings back the deliveries a disabled
// webhook cancelled, once it is enabled again.
func TestWebhookRecoverCancelled(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t, func(c *config.Config) { c.RetrySchedule = []time.Duration{0, 300 * time.Millisecond} })
		rc := fx.receiver()
		wh := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/c"}).str("id")
		path := "/v1/webhooks/" + wh + "/recover"
		since := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)

		rc.respond("/c", http.StatusInternalServerError)
		dlv := oneDelivery(t, fx.publish(t, fx.admin, obj{"type": "order.created", "data": obj{}}))
		rc.waitFor(t, "/c", 1)
		fx.do(t, "PATCH", "/v1/webhooks/"+wh, fx.admin, obj{"active": false}).must(t, http.StatusOK)
		fx.waitDelivery(t, dlv, "cancelled") // its retry found the webhook disabled

		for status, want := range map[string]float64{"failed": 0, "cancelled": 1} {
			if r := fx.do(t, "POST", path, fx.admin, obj{"since": since, "status": status, "dry_run": true}).must(t, http.StatusOK); r.body["count"] != want {
				t.Errorf("dry run of status %s: got %s, want count %v", status, r.raw, want)
			}
		}
		fx.do(t, "PATCH", "/v1/webhooks/"+wh, fx.admin, obj{"active": true}).must(t, http.StatusOK)
		if r := fx.do(t, "POST", path, fx.admin, obj{"since": since, "status": "cancelled"}).must(t, http.StatusAccepted); r.body["count"] != 1.0 {
			t.Errorf("recovery of status cancelled: got %s, want count 1", r.raw)
		}
		fx.waitDelivery(t, dlv, "succeeded")
	})
}

// timeIs reports whether the RFC 3339 text s is the time want.
func timeIs(s string, want time.Time) bool {
	got, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && got.Equal(want)
}
