package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

func TestDeliveriesAndRetry(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	rc := fx.receiver()
	_, reader := fx.createKey(t, obj{"name": "reader", "scopes": []string{"deliveries:read"}})
	flaky := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/flaky"}).str("id")
	steady := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/steady"}).str("id")
	rc.respond("/flaky", http.StatusBadRequest) // not retryable: the delivery fails at once

	ev := fx.publish(t, fx.admin, obj{"type": "invoice.paid", "data": obj{"n": 1}})
	byWebhook := map[string]string{}
	for _, m := range ev.objects("deliveries") {
		byWebhook[fmt.Sprint(m["webhook_id"])] = fmt.Sprint(m["id"])
		if m["status"] != "pending" {
			t.Errorf("delivery in the 202: got status %v, want pending", m["status"])
		}
	}
	dFlaky, dSteady := byWebhook[flaky], byWebhook[steady]
	if dFlaky == "" || dSteady == "" {
		t.Fatalf("got deliveries %v, want one per webhook", ev.body["deliveries"])
	}

	failed := fx.waitDelivery(t, dFlaky, "failed")
	if failed.body["attempt_count"] != 1.0 || failed.body["last_http_status"] != 400.0 || failed.str("last_error") != "HTTP 400" ||
		failed.body["next_attempt_at"] != nil || failed.str("event_id") != ev.str("id") || failed.str("webhook_id") != flaky {
		t.Errorf("failed delivery: got %s", failed.raw)
	}
	atts := failed.objects("attempts")
	if len(atts) != 1 {
		t.Fatalf("failed delivery: got %d attempts listed, want 1", len(atts))
	}
	a := atts[0]
	hdrs, _ := a["response_headers"].(map[string]any)
	if a["http_status"] != 400.0 || a["response_body"] != "answered 400" || hdrs["X-Receiver"] != "test" {
		t.Errorf("attempt: got %v, want status 400, the body and headers of the response", a)
	}
	fx.waitDelivery(t, dSteady, "succeeded")

	filters := []struct {
		query string
		want  []string
	}{
		{"status=failed", []string{dFlaky}},
		{"status=succeeded", []string{dSteady}},
		{"webhook_id=" + steady, []string{dSteady}},
		{"webhook_id=" + flaky + "&status=succeeded", nil},
		{"event_id=" + ev.str("id") + "&limit=1", []string{dSteady}}, // newest first
	}
	for _, f := range filters {
		if got := fx.do(t, "GET", "/v1/deliveries?"+f.query, reader, nil).must(t, http.StatusOK).ids(); !slices.Equal(got, f.want) {
			t.Errorf("deliveries?%s: got %v, want %v", f.query, got, f.want)
		}
	}
	fx.do(t, "GET", "/v1/deliveries?status=bogus", reader, nil).problem(t, http.StatusBadRequest, "status")

	fx.do(t, "POST", "/v1/deliveries/"+dFlaky+"/retry", reader, nil).problem(t, http.StatusForbidden, "")
	fx.do(t, "POST", "/v1/deliveries/dlv_nope/retry", fx.admin, nil).problem(t, http.StatusNotFound, "")
	fx.do(t, "GET", "/v1/deliveries/dlv_nope", fx.admin, nil).problem(t, http.StatusNotFound, "")
	r := fx.do(t, "POST", "/v1/deliveries/"+dFlaky+"/retry", fx.admin, nil).must(t, http.StatusAccepted)
	if r.str("id") != dFlaky || r.str("status") != "pending" || r.str("next_attempt_at") == "" {
		t.Errorf("retry: got %s, want the delivery pending again", r.raw)
	}
	done := fx.waitDelivery(t, dFlaky, "succeeded")
	atts = done.objects("attempts")
	if done.body["attempt_count"] != 2.0 || len(atts) != 2 ||
		atts[0]["http_status"] != 200.0 || atts[1]["http_status"] != 400.0 {
		t.Errorf("after the retry: got %s, want 2 attempts, newest (200) first", done.raw)
	}
	got := rc.waitFor(t, "/flaky", 2)
	if len(got) != 2 || got[0].header.Get("webhook-id") != ev.str("id") || got[1].header.Get("webhook-id") != ev.str("id") {
		t.Errorf("the receiver got %d requests, want 2 with webhook-id %s", len(got), ev.str("id"))
	}
}
