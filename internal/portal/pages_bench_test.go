package portal_test

import (
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hooklinetest"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
	"github.com/hookline/hookline/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// BenchmarkPages measures each page of the portal and the console, from
// request to the last byte of the answer over loopback (so an upper bound
// of its server time), with storetest.PortalLogSize deliveries and attempts
// of a day in the log. The target is 50 ms a page.
//
//	go test ./internal/portal -run '^$' -bench Pages -benchtime 50x
//
// HOOKLINE_BENCH_DRIVER=postgres runs it on PostgreSQL.
func BenchmarkPages(b *testing.B) {
	var s store.Store
	if os.Getenv("HOOKLINE_BENCH_DRIVER") == "postgres" {
		s = pgtest.Open(b)
	} else {
		s = sqlitetest.Open(b)
	}
	l := storetest.NewPortalLog(time.Now())
	for _, w := range l.Webhooks {
		w.URL = "http://127.0.0.1:9/hooks" // loopback, should anything be sent
	}
	start := time.Now()
	storetest.StorePortalLog(b, s, l)
	b.Logf("stored %d deliveries and %d attempts in %v", len(l.Deliveries), len(l.Attempts), time.Since(start).Round(time.Second))
	h := hooklinetest.Start(b, hooklinetest.Options{Store: s})
	if status, out := call(b, h, "POST", "/v1/keyspaces", map[string]any{"name": "api", "prefix": "api", "permissions": []string{"read"}}); status != http.StatusCreated {
		b.Fatalf("key space: %d %v", status, out)
	}
	for range 20 {
		call(b, h, "POST", "/v1/keyspaces/api/keys", map[string]any{"tenant": l.Tenant, "permissions": []string{"read"}})
	}
	_, out := call(b, h, "POST", "/v1/portal-sessions", map[string]any{"tenant": l.Tenant, "capabilities": []string{"manage_webhooks", "secrets", "retry", "manage_keys"}})
	v := newVisitor(b, h)
	v.signIn(out["url"].(string))
	console := newVisitor(b, h)
	if status, _, _ := console.do("POST", "/console/login", url.Values{"key": {h.Admin}}); status != http.StatusSeeOther {
		b.Fatalf("console sign-in: %d", status)
	}
	busy, failed := l.Webhooks[0].ID, ""
	for _, d := range l.Deliveries[len(l.Deliveries)/2:] {
		if d.Status == "failed" {
			failed = d.ID
			break
		}
	}
	window := url.Values{"from": {l.Now.UTC().Add(-12 * time.Hour).Format("2006-01-02T15:04")}, "to": {l.Now.UTC().Add(-11 * time.Hour).Format("2006-01-02T15:04")}}
	pages := []struct {
		name string
		v    *visitor
		path string
	}{
		{"webhooks", v, "/portal/"},
		{"webhook", v, "/portal/webhooks/" + busy},
		{"webhook/edit", v, "/portal/webhooks/" + busy + "/edit"},
		{"deliveries", v, "/portal/deliveries"},
		{"deliveries/status=failed", v, "/portal/deliveries?status=failed"},
		{"deliveries/type=order.refunded", v, "/portal/deliveries?type=order.refunded"},
		{"deliveries/window=1h", v, "/portal/deliveries?" + window.Encode()},
		{"deliveries/page=1000", v, "/portal/deliveries?cursor=" + l.Deliveries[1000].ID},
		{"delivery", v, "/portal/deliveries/" + failed},
		{"recover/count=24h", v, "/portal/webhooks/" + busy + "/recover"},
		{"keys", v, "/portal/keys"},
		{"console/webhooks", console, "/console/"},
		{"console/health", console, "/console/health"},
		{"console/tenants", console, "/console/tenants"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if status, _, body := p.v.do("GET", p.path, nil); status != http.StatusOK {
					b.Fatalf("%s: %d\n%.500s", p.path, status, body)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
}
