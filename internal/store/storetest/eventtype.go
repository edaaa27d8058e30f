package storetest

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

func exerciseEventTypes(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"CRUD": func(t *testing.T) {
			e := newEnv(t, open)
			et := &hookline.EventType{
				Name: "response.created", Description: "A form response was submitted.",
				Example:   []byte(`{"form_id":"f_1", "answers":{"q1":"oui"}}`),
				Schema:    []byte(`{"type":"object","required":["form_id"]}`),
				CreatedAt: e.now, UpdatedAt: e.now,
			}
			if err := e.s.EventTypeCreate(e.ctx, et); err != nil {
				t.Fatalf("EventTypeCreate: %v", err)
			}
			checkEventType(t, e, et)
			dup := *et
			dup.Description = "again"
			if err := e.s.EventTypeCreate(e.ctx, &dup); !errors.Is(err, store.ErrConflict) {
				t.Errorf("EventTypeCreate of an existing name: got %v, want ErrConflict", err)
			}
			checkEventType(t, e, et)

			upd := *et
			upd.Description = "Changed."
			upd.Example = []byte(`{"form_id":"f_2"}`)
			upd.Schema = nil
			upd.UpdatedAt = e.now.Add(time.Hour)
			if err := e.s.EventTypeUpdate(e.ctx, &upd); err != nil {
				t.Fatalf("EventTypeUpdate: %v", err)
			}
			checkEventType(t, e, &upd)

			bare := &hookline.EventType{Name: "link.clicked", CreatedAt: e.now, UpdatedAt: e.now}
			if err := e.s.EventTypeCreate(e.ctx, bare); err != nil {
				t.Fatalf("EventTypeCreate without example or schema: %v", err)
			}
			checkEventType(t, e, bare)

			if err := e.s.EventTypeDelete(e.ctx, et.Name); err != nil {
				t.Fatalf("EventTypeDelete: %v", err)
			}
			_, err := e.s.EventTypeGet(e.ctx, et.Name)
			wantNotFound(t, "EventTypeGet after EventTypeDelete", err)
			wantNotFound(t, "second EventTypeDelete", e.s.EventTypeDelete(e.ctx, et.Name))
			wantNotFound(t, "EventTypeUpdate of a deleted name", e.s.EventTypeUpdate(e.ctx, &upd))
			_, err = e.s.EventTypeGet(e.ctx, "no.such")
			wantNotFound(t, "EventTypeGet of an unknown name", err)
			checkEventType(t, e, bare)
		},
		"List": func(t *testing.T) {
			e := newEnv(t, open)
			names := []string{"order.paid", "account.closed", "order.created", "zeta", "account.opened"}
			for _, n := range names {
				if err := e.s.EventTypeCreate(e.ctx, &hookline.EventType{Name: n, CreatedAt: e.now, UpdatedAt: e.now}); err != nil {
					t.Fatalf("EventTypeCreate %s: %v", n, err)
				}
			}
			want := []string{"account.closed", "account.opened", "order.created", "order.paid", "zeta"}
			for _, size := range []int{1, 2, 100} {
				var got []string
				cursor := ""
				for range 10 {
					ts, err := e.s.EventTypeList(e.ctx, store.ListParams{Cursor: cursor, Limit: size})
					if err != nil {
						t.Fatalf("EventTypeList: %v", err)
					}
					if len(ts) > size {
						t.Fatalf("EventTypeList with limit %d: got %d items", size, len(ts))
					}
					if len(ts) == 0 {
						break
					}
					for _, et := range ts {
						got = append(got, et.Name)
					}
					cursor = ts[len(ts)-1].Name
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("EventTypeList by %d: got %v, want %v (by name)", size, got, want)
				}
			}
		},
	})
}

// checkEventType reads want's name back and compares it; JSON byte for byte.
func checkEventType(t *testing.T, e *env, want *hookline.EventType) {
	t.Helper()
	got, err := e.s.EventTypeGet(e.ctx, want.Name)
	if err != nil {
		t.Fatalf("EventTypeGet %s: %v", want.Name, err)
	}
	if got.Name != want.Name || got.Description != want.Description ||
		!bytes.Equal(got.Example, want.Example) || !bytes.Equal(got.Schema, want.Schema) {
		t.Errorf("event type:\n got %s %q example %q schema %q\nwant %s %q example %q schema %q",
			got.Name, got.Description, got.Example, got.Schema, want.Name, want.Description, want.Example, want.Schema)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("event type %s times: got %v, %v; want %v, %v", want.Name, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}
