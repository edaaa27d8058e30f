package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

func exerciseProfiles(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"CRUD": func(t *testing.T) {
			e := newEnv(t, open)
			def := `{"envelope":{"z":"{event.type}","a":"{data}"},"json":"ecmascript","headers":{"X-A":"1"}}`
			p := &hookline.Profile{Name: "acme", Definition: []byte(def), CreatedAt: e.now, UpdatedAt: e.now}
			if err := e.s.ProfileCreate(e.ctx, p); err != nil {
				t.Fatalf("ProfileCreate: %v", err)
			}
			if err := e.s.ProfileCreate(e.ctx, p); !errors.Is(err, store.ErrConflict) {
				t.Errorf("ProfileCreate of an existing name: got %v, want ErrConflict", err)
			}
			got, err := e.s.ProfileGet(e.ctx, "acme")
			if err != nil {
				t.Fatalf("ProfileGet: %v", err)
			}
			if string(got.Definition) != def || !got.CreatedAt.Equal(e.now) {
				t.Errorf("ProfileGet: got %s created %v, want the definition byte for byte, created %v", got.Definition, got.CreatedAt, e.now)
			}

			upd := &hookline.Profile{Name: "acme", Definition: []byte(`{"json":"compact"}`), UpdatedAt: e.now.Add(time.Hour)}
			if err := e.s.ProfileUpdate(e.ctx, upd); err != nil {
				t.Fatalf("ProfileUpdate: %v", err)
			}
			got, _ = e.s.ProfileGet(e.ctx, "acme")
			if string(got.Definition) != `{"json":"compact"}` || !got.UpdatedAt.Equal(upd.UpdatedAt) || !got.CreatedAt.Equal(e.now) {
				t.Errorf("after update: got %+v", got)
			}
			if err := e.s.ProfileUpdate(e.ctx, &hookline.Profile{Name: "nope", Definition: []byte(`{}`)}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("ProfileUpdate of a missing profile: got %v, want ErrNotFound", err)
			}

			if err := e.s.ProfileCreate(e.ctx, &hookline.Profile{Name: "beta", Definition: []byte(`{}`), CreatedAt: e.now, UpdatedAt: e.now}); err != nil {
				t.Fatal(err)
			}
			list, err := e.s.ProfileList(e.ctx)
			if err != nil {
				t.Fatalf("ProfileList: %v", err)
			}
			names := ids(list, func(p hookline.Profile) string { return p.Name })
			if !reflect.DeepEqual(names, []string{"acme", "beta"}) {
				t.Errorf("ProfileList: got %v, want [acme beta]", names)
			}

			if err := e.s.ProfileDelete(e.ctx, "beta"); err != nil {
				t.Fatalf("ProfileDelete: %v", err)
			}
			if _, err := e.s.ProfileGet(e.ctx, "beta"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("ProfileGet after delete: got %v, want ErrNotFound", err)
			}
			if err := e.s.ProfileDelete(e.ctx, "beta"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("second ProfileDelete: got %v, want ErrNotFound", err)
			}
		},
		"InUseCannotBeDeleted": func(t *testing.T) {
			e := newEnv(t, open)
			if err := e.s.ProfileCreate(e.ctx, &hookline.Profile{Name: "acme", Definition: []byte(`{}`), CreatedAt: e.now, UpdatedAt: e.now}); err != nil {
				t.Fatal(err)
			}
			w := e.webhook("t1", func(w *hookline.Webhook) { w.Profile = "acme" })
			if err := e.s.ProfileDelete(e.ctx, "acme"); !errors.Is(err, store.ErrConflict) {
				t.Errorf("ProfileDelete while a webhook uses it: got %v, want ErrConflict", err)
			}
			if _, err := e.s.ProfileGet(e.ctx, "acme"); err != nil {
				t.Errorf("the profile is gone after a refused delete: %v", err)
			}
			if err := e.s.WebhookDelete(e.ctx, w.ID); err != nil {
				t.Fatal(err)
			}
			if err := e.s.ProfileDelete(e.ctx, "acme"); err != nil {
				t.Errorf("ProfileDelete once no webhook uses it: %v", err)
			}
		},
	})
}
