package api_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/hookline/hookline/internal/config"
)

// A limited key's every answer says where its bucket stands, in the IETF
// RateLimit fields and the common X-RateLimit-* ones, not only the 429; an
// unlimited key's answers carry none, as there is no limit to tell.
func TestRateLimitHeaders(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t, func(c *config.Config) { c.TenantKeyRateLimit = 4 })
		_, k := fx.createKey(t, obj{"name": "limited", "tenant": "acme", "scopes": []string{"events:write", "webhooks:read"}})

		check := func(t *testing.T, r response, remaining int) {
			t.Helper()
			h := r.header
			want := map[string]string{
				"RateLimit-Policy":      `"hourly";q=4;w=3600`,
				"X-RateLimit-Limit":     "4",
				"X-RateLimit-Remaining": strconv.Itoa(remaining),
			}
			for name, v := range want {
				if got := h.Get(name); got != v {
					t.Errorf("status %d: %s = %q, want %q", r.status, name, got, v)
				}
			}
			// A token comes back every 900 s: the bucket is full again
			// (4 - remaining) × 900 s from now, less what has refilled since.
			reset, err := strconv.Atoi(h.Get("X-RateLimit-Reset"))
			wantReset := (4 - remaining) * 900
			if err != nil || reset > wantReset || reset < wantReset-5 {
				t.Errorf("status %d: X-RateLimit-Reset = %q, want about %d", r.status, h.Get("X-RateLimit-Reset"), wantReset)
			}
			if got, want := h.Get("RateLimit"), `"hourly";r=`+strconv.Itoa(remaining)+`;t=`+h.Get("X-RateLimit-Reset"); got != want {
				t.Errorf("status %d: RateLimit = %q, want %q", r.status, got, want)
			}
		}

		check(t, fx.do(t, "GET", "/v1/webhooks", k, nil).must(t, http.StatusOK), 3)
		// A refused request pays too, and says so.
		check(t, fx.do(t, "GET", "/v1/webhooks?limit=0", k, nil).must(t, http.StatusBadRequest), 2)
		// A batch costs one per event.
		check(t, fx.do(t, "POST", "/v1/events/batch", k, obj{"events": []obj{{"type": "a.b", "data": obj{}}, {"type": "a.b", "data": obj{}}}}).must(t, http.StatusAccepted), 0)
		r := fx.do(t, "POST", "/v1/events", k, obj{"type": "a.b", "data": obj{}})
		r.problem(t, http.StatusTooManyRequests, "")
		check(t, r, 0)

		if r := fx.do(t, "GET", "/v1/webhooks", fx.admin, nil).must(t, http.StatusOK); r.header.Get("RateLimit") != "" || r.header.Get("X-RateLimit-Limit") != "" {
			t.Errorf("an unlimited key got RateLimit %q, X-RateLimit-Limit %q; want none", r.header.Get("RateLimit"), r.header.Get("X-RateLimit-Limit"))
		}
	})
}
