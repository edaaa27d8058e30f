package storetest

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

func exerciseWebhooks(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"CreateGet": func(t *testing.T) {
			e := newEnv(t, open)
			want := e.webhook("acme", func(w *hookline.Webhook) {
				w.Events = []string{"order.created", "invoice.*"}
				w.Headers = map[string]string{"X-One": "1", "X-Two": "deux"}
				w.Metadata = map[string]string{"region": "eu", "note": "é ✓"}
				w.Ordered = true
				w.Profile = "formvox"
			})
			got := e.getWebhook(want.ID)
			checkWebhook(t, got, want)
			if got.FailedStreak != 0 || got.LastSuccessAt != nil || got.DisabledReason != "" {
				t.Errorf("new webhook: got streak %d, last success %s, reason %q; want 0, nil, empty",
					got.FailedStreak, fmtTime(got.LastSuccessAt), got.DisabledReason)
			}
			_, err := e.s.WebhookGet(e.ctx, hookline.NewID(hookline.PrefixWebhook))
			wantNotFound(t, "WebhookGet of an unknown id", err)
		},
		"List": func(t *testing.T) {
			e := newEnv(t, open)
			var a, all []string // newest first
			for i := range 5 {
				tenant := "acme"
				if i%2 == 1 {
					tenant = "globex"
				}
				w := e.webhook(tenant)
				all = append([]string{w.ID}, all...)
				if tenant == "acme" {
					a = append([]string{w.ID}, a...)
				}
			}
			got, err := e.s.WebhookList(e.ctx, store.WebhookListParams{ListParams: store.ListParams{Limit: 100}})
			if err != nil {
				t.Fatalf("WebhookList: %v", err)
			}
			if ids := webhookIDs(got); !reflect.DeepEqual(ids, all) {
				t.Errorf("WebhookList: got %v, want %v (newest first)", ids, all)
			}
			pages := pageWebhooks(t, e, "acme", 2)
			if !reflect.DeepEqual(pages, [][]string{a[:2], a[2:]}) {
				t.Errorf("WebhookList of acme by 2: got pages %v, want %v", pages, [][]string{a[:2], a[2:]})
			}
			got, err = e.s.WebhookList(e.ctx, store.WebhookListParams{Tenant: "nobody"})
			if err != nil || len(got) != 0 {
				t.Errorf("WebhookList of an unknown tenant: got %d, %v; want 0, nil", len(got), err)
			}
		},
		"ListByActive": func(t *testing.T) {
			e := newEnv(t, open)
			on := e.webhook("acme")
			off := e.webhook("acme", func(w *hookline.Webhook) { w.Active = false })
			e.webhook("globex", func(w *hookline.Webhook) { w.Active = false })
			for _, c := range []struct {
				active bool
				want   string
			}{{true, on.ID}, {false, off.ID}} {
				got, err := e.s.WebhookList(e.ctx, store.WebhookListParams{Tenant: "acme", Active: &c.active})
				if ids := webhookIDs(got); err != nil || !reflect.DeepEqual(ids, []string{c.want}) {
					t.Errorf("WebhookList of acme, active %v: got %v, %v; want [%s]", c.active, ids, err, c.want)
				}
			}
			disabled := false
			if got, _ := e.s.WebhookList(e.ctx, store.WebhookListParams{Active: &disabled}); len(got) != 2 {
				t.Errorf("WebhookList of every tenant's disabled webhooks: got %d, want 2", len(got))
			}
		},
		"TenantList": func(t *testing.T) {
			e := newEnv(t, open)
			for _, tenant := range []string{"globex", "acme", "initech", "acme"} {
				e.webhook(tenant)
			}
			e.webhook("acme", func(w *hookline.Webhook) { w.Active = false })
			got, err := e.s.TenantList(e.ctx, store.ListParams{Limit: 2})
			want := []store.TenantSummary{{Tenant: "acme", Webhooks: 3, Active: 2}, {Tenant: "globex", Webhooks: 1, Active: 1}}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("TenantList by 2: got %+v, %v; want %+v", got, err, want)
			}
			got, err = e.s.TenantList(e.ctx, store.ListParams{Cursor: "globex", Limit: 2})
			want = []store.TenantSummary{{Tenant: "initech", Webhooks: 1, Active: 1}}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("TenantList after globex: got %+v, %v; want %+v", got, err, want)
			}
		},
		"ListActive": func(t *testing.T) {
			e := newEnv(t, open)
			on1 := e.webhook("acme")
			e.webhook("acme", func(w *hookline.Webhook) { w.Active = false })
			on2 := e.webhook("acme")
			e.webhook("globex")
			got, err := e.s.WebhookListActive(e.ctx, "acme")
			if err != nil {
				t.Fatalf("WebhookListActive: %v", err)
			}
			ids := sortedIDs(webhookIDs(got)...)
			if want := sortedIDs(on1.ID, on2.ID); !reflect.DeepEqual(ids, want) {
				t.Errorf("WebhookListActive(acme): got %v, want %v", ids, want)
			}
			for _, w := range got {
				if w.Secret == "" {
					t.Errorf("WebhookListActive: webhook %s has no secret; fan-out needs it to sign", w.ID)
				}
			}
			got, err = e.s.WebhookListActive(e.ctx, "nobody")
			if err != nil || len(got) != 0 {
				t.Errorf("WebhookListActive(nobody): got %d, %v; want 0, nil", len(got), err)
			}
		},
		"Update": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			other := e.webhook("acme")
			upd := *w
			upd.URL = "https://new.example/in"
			upd.Description = "changed"
			upd.Events = []string{"*"}
			upd.Secret = "whsec_rotated"
			upd.Active = false
			upd.Profile = "linkly"
			upd.Headers = map[string]string{"X-New": "yes"}
			upd.Metadata = map[string]string{}
			upd.Ordered = true
			upd.UpdatedAt = e.now.Add(time.Hour)
			if err := e.s.WebhookUpdate(e.ctx, &upd); err != nil {
				t.Fatalf("WebhookUpdate: %v", err)
			}
			checkWebhook(t, e.getWebhook(w.ID), &upd)
			checkWebhook(t, e.getWebhook(other.ID), other)

			upd.Active = true
			upd.UpdatedAt = e.now.Add(2 * time.Hour)
			if err := e.s.WebhookUpdate(e.ctx, &upd); err != nil {
				t.Fatalf("WebhookUpdate re-activating: %v", err)
			}
			checkWebhook(t, e.getWebhook(w.ID), &upd)

			gone := upd
			gone.ID = hookline.NewID(hookline.PrefixWebhook)
			wantNotFound(t, "WebhookUpdate of an unknown id", e.s.WebhookUpdate(e.ctx, &gone))
		},
		"UpdateReactivatingClearsReason": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			d := e.publish(e.now, w)[0]
			e.claim(e.now, "A", 1)
			const reason = "the endpoint answered 410 Gone"
			e.complete(store.DeliveryCompleteParams{
				DeliveryLease: store.DeliveryLease{ID: d.ID, LeaseToken: "A"}, WebhookID: w.ID,
				Attempt: attempt(d, 1, 410, e.now), Status: hookline.DeliveryFailed, Now: e.now, DisableReason: reason,
			})
			still := *e.getWebhook(w.ID)
			if still.Active || still.DisabledReason != reason {
				t.Fatalf("webhook after a 410: got active %v, reason %q; want false, %q", still.Active, still.DisabledReason, reason)
			}
			still.Description = "edited while off"
			if err := e.s.WebhookUpdate(e.ctx, &still); err != nil {
				t.Fatalf("WebhookUpdate: %v", err)
			}
			if got := e.getWebhook(w.ID); got.DisabledReason != reason {
				t.Errorf("DisabledReason after an edit that keeps it off: got %q, want %q", got.DisabledReason, reason)
			}
			on := still
			on.Active = true
			if err := e.s.WebhookUpdate(e.ctx, &on); err != nil {
				t.Fatalf("WebhookUpdate: %v", err)
			}
			got := e.getWebhook(w.ID)
			if !got.Active || got.DisabledReason != "" {
				t.Errorf("re-activated webhook: got active %v, reason %q; want true, empty", got.Active, got.DisabledReason)
			}
		},
		"Delete": func(t *testing.T) {
			e := newEnv(t, open)
			w := e.webhook("acme")
			keep := e.webhook("acme")
			ds := e.publish(e.now, w, keep)
			if err := e.s.WebhookDelete(e.ctx, w.ID); err != nil {
				t.Fatalf("WebhookDelete: %v", err)
			}
			_, err := e.s.WebhookGet(e.ctx, w.ID)
			wantNotFound(t, "WebhookGet after WebhookDelete", err)
			wantNotFound(t, "second WebhookDelete", e.s.WebhookDelete(e.ctx, w.ID))
			_, err = e.s.DeliveryGet(e.ctx, ds[0].ID)
			wantNotFound(t, "DeliveryGet of the deleted webhook's delivery", err)
			e.delivery(ds[1].ID) // the other webhook's delivery stays
			if _, err := e.s.EventGet(e.ctx, ds[0].EventID); err != nil {
				t.Errorf("EventGet after deleting one of its webhooks: got %v, want nil", err)
			}
			cs := e.claim(e.now, "tok", 10)
			if ids, want := claimedIDs(cs), []string{ds[1].ID}; !reflect.DeepEqual(ids, want) {
				t.Errorf("DeliveryClaim after WebhookDelete: got %v, want %v", ids, want)
			}
		},
		"TenantLimit": func(t *testing.T) {
			e := newEnv(t, open)
			create := func(tenant string, max int) error {
				w := &hookline.Webhook{
					ID: hookline.NewID(hookline.PrefixWebhook), Tenant: tenant, URL: "https://r.example/",
					Secret: "whsec_x", Active: true, Profile: "standard", CreatedAt: e.now, UpdatedAt: e.now,
				}
				return e.s.WebhookCreate(e.ctx, store.WebhookCreateParams{Webhook: w, MaxPerTenant: max})
			}
			for i := range 2 {
				if err := create("acme", 2); err != nil {
					t.Fatalf("WebhookCreate #%d within the limit: %v", i+1, err)
				}
			}
			if err := create("acme", 2); !errors.Is(err, store.ErrLimitReached) {
				t.Errorf("WebhookCreate over the limit: got %v, want ErrLimitReached", err)
			}
			if n := countWebhooks(t, e, "acme"); n != 2 {
				t.Errorf("acme webhooks after a refused create: got %d, want 2", n)
			}
			if err := create("globex", 2); err != nil {
				t.Errorf("WebhookCreate for another tenant: got %v, want nil", err)
			}
			for i := range 3 {
				if err := create("initech", 0); err != nil {
					t.Fatalf("WebhookCreate #%d with no limit: %v", i+1, err)
				}
			}
		},
		"TenantLimitConcurrent": func(t *testing.T) {
			e := newEnv(t, open)
			const tries, max = 8, 3
			errs := make([]error, tries)
			var wg sync.WaitGroup
			for i := range tries {
				wg.Go(func() {
					w := &hookline.Webhook{
						ID: hookline.NewID(hookline.PrefixWebhook), Tenant: "acme", URL: "https://r.example/",
						Secret: "whsec_x", Active: true, Profile: "standard", CreatedAt: e.now, UpdatedAt: e.now,
					}
					errs[i] = e.s.WebhookCreate(e.ctx, store.WebhookCreateParams{Webhook: w, MaxPerTenant: max})
				})
			}
			wg.Wait()
			ok, limited := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, store.ErrLimitReached):
					limited++
				default:
					t.Errorf("concurrent WebhookCreate: got %v, want nil or ErrLimitReached", err)
				}
			}
			if ok != max || limited != tries-max {
				t.Errorf("concurrent WebhookCreate: got %d created and %d refused, want %d and %d", ok, limited, max, tries-max)
			}
			if n := countWebhooks(t, e, "acme"); n != max {
				t.Errorf("acme webhooks: got %d, want %d", n, max)
			}
		},
	})
}

// checkWebhook compares the stored, user-visible fields of a webhook.
func checkWebhook(t *testing.T, got, want *hookline.Webhook) {
	t.Helper()
	type fields struct {
		ID, Tenant, URL, Description, Secret, Profile string
		Events                                        []string
		Active, Ordered                               bool
		Headers, Metadata                             map[string]string
	}
	pick := func(w *hookline.Webhook) fields {
		return fields{w.ID, w.Tenant, w.URL, w.Description, w.Secret, w.Profile, w.Events, w.Active, w.Ordered,
			w.Headers, w.Metadata}
	}
	if g, w := pick(got), pick(want); !reflect.DeepEqual(g, w) {
		t.Errorf("webhook %s:\n got %+v\nwant %+v", want.ID, g, w)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("webhook %s times: got created %v updated %v, want %v and %v",
			want.ID, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}

func webhookIDs(ws []hookline.Webhook) []string {
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.ID
	}
	return ids
}

// pageWebhooks walks a tenant's webhooks page by page and returns the pages.
func pageWebhooks(t *testing.T, e *env, tenant string, size int) [][]string {
	t.Helper()
	var pages [][]string
	walkPages(t, "WebhookList", size, func(cursor string) ([]hookline.Webhook, error) {
		ws, err := e.s.WebhookList(e.ctx, store.WebhookListParams{ListParams: store.ListParams{Cursor: cursor, Limit: size}, Tenant: tenant})
		if len(ws) > 0 {
			pages = append(pages, webhookIDs(ws))
		}
		return ws, err
	}, func(w hookline.Webhook) string { return w.ID })
	return pages
}

func countWebhooks(t *testing.T, e *env, tenant string) int {
	t.Helper()
	ws, err := e.s.WebhookList(e.ctx, store.WebhookListParams{ListParams: store.ListParams{Limit: 1000}, Tenant: tenant})
	if err != nil {
		t.Fatalf("WebhookList: %v", err)
	}
	return len(ws)
}
