package api_test

import (
	"net"
	"net/http"
	"testing"
)

// An attempt that got no answer (here a refused connection) shows http_status
// null and an error, in the test send's answer, the log and the delivery's
// attempts; never a status 0 no server sends.
func TestNoAnswerIsNullStatus(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String() + "/gone"
	l.Close() // nothing listens there any more: connections are refused

	id := fx.createWebhook(t, fx.admin, obj{"url": url, "tenant": "acme"}).str("id")
	checkNull := func(where string, m map[string]any) {
		t.Helper()
		v, ok := m["http_status"]
		if !ok || v != nil {
			t.Errorf("%s: http_status %v (present %v), want null", where, v, ok)
		}
		if e, _ := m["error"].(string); e == "" {
			t.Errorf("%s: no error in %v", where, m)
		}
	}
	r := fx.do(t, "POST", "/v1/webhooks/"+id+"/test", fx.admin, nil).must(t, http.StatusOK)
	checkNull("test send", r.body)

	ev := fx.publish(t, fx.admin, obj{"type": "invoice.paid", "tenant": "acme", "data": obj{}})
	dlv := oneDelivery(t, ev)
	d := fx.waitDelivery(t, dlv, "failed")
	atts := d.objects("attempts")
	if len(atts) == 0 {
		t.Fatalf("delivery %s: no attempts listed", d.raw)
	}
	for _, a := range atts {
		checkNull("delivery attempt", a)
	}
	logs := fx.do(t, "GET", "/v1/webhooks/"+id+"/logs", fx.admin, nil).must(t, http.StatusOK).items()
	if len(logs) != len(atts)+1 {
		t.Fatalf("logs: got %d entries, want %d", len(logs), len(atts)+1)
	}
	for _, l := range logs {
		checkNull("log entry", l)
	}
}
