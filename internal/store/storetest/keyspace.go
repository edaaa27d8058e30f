package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/keyspace"
	"github.com/hookline/hookline/internal/store"
)

// keyIDPrefix starts the ids of the suite's keys.
const keyIDPrefix = "ksk_"

// exerciseKeyspaces covers the key spaces made through the API and the keys
// of key spaces: what is stored of them, how they are listed, revoked and
// touched, and that a key space takes its keys with it.
func exerciseKeyspaces(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"KeyspaceCRUD": func(t *testing.T) {
			e := newEnv(t, open)
			ks := &keyspace.Keyspace{
				Name: "formvox", Description: "FormVox's public API", Prefix: "fvx",
				Permissions: []keyspace.Permission{
					{Name: "forms:read", Description: "Read forms"},
					{Name: "forms:write"},
					{Name: "responses:read", Description: "Read responses, \"quoted\" and ünïcode"},
				},
				RateLimit: &keyspace.RateLimit{Limit: 100, Window: keyspace.Duration(time.Minute), Per: keyspace.PerTenant},
				KeyExpiry: keyspace.Duration(30 * 24 * time.Hour),
				CreatedAt: e.now, UpdatedAt: e.now,
			}
			if err := e.s.KeyspaceCreate(e.ctx, ks); err != nil {
				t.Fatalf("KeyspaceCreate: %v", err)
			}
			want := *ks
			want.Source = keyspace.SourceAPI
			checkKeyspace(t, e, &want)

			// A key space with no default rate limit and keys that never expire.
			bare := &keyspace.Keyspace{Name: "beta", Prefix: "bt", Permissions: []keyspace.Permission{{Name: "ping"}},
				CreatedAt: e.now, UpdatedAt: e.now}
			if err := e.s.KeyspaceCreate(e.ctx, bare); err != nil {
				t.Fatalf("KeyspaceCreate of a bare key space: %v", err)
			}
			wantBare := *bare
			wantBare.Source = keyspace.SourceAPI
			checkKeyspace(t, e, &wantBare)

			sameName := &keyspace.Keyspace{Name: "formvox", Prefix: "fvy", Permissions: []keyspace.Permission{{Name: "x"}},
				CreatedAt: e.now, UpdatedAt: e.now}
			if err := e.s.KeyspaceCreate(e.ctx, sameName); !errors.Is(err, store.ErrConflict) {
				t.Errorf("KeyspaceCreate of a taken name: got %v, want ErrConflict", err)
			}
			samePrefix := &keyspace.Keyspace{Name: "other", Prefix: "fvx", Permissions: []keyspace.Permission{{Name: "x"}},
				CreatedAt: e.now, UpdatedAt: e.now}
			if err := e.s.KeyspaceCreate(e.ctx, samePrefix); !errors.Is(err, store.ErrConflict) {
				t.Errorf("KeyspaceCreate of a taken prefix: got %v, want ErrConflict", err)
			}
			checkKeyspace(t, e, &want)
			if got := keyspaceNames(t, e); !reflect.DeepEqual(got, []string{"beta", "formvox"}) {
				t.Errorf("KeyspaceList: got %v, want [beta formvox] (by name, the refused ones absent)", got)
			}

			// An update replaces the catalogue and defaults, never the name,
			// prefix or creation time.
			upd := keyspace.Keyspace{
				Name: "formvox", Description: "v2", Prefix: "zzz",
				Permissions: []keyspace.Permission{{Name: "forms:read", Description: "Read forms, now with answers"}},
				RateLimit:   &keyspace.RateLimit{Limit: 5, Window: keyspace.Duration(time.Second), Per: keyspace.PerKey},
				KeyExpiry:   keyspace.Duration(90 * time.Minute),
				CreatedAt:   e.now.Add(time.Hour), UpdatedAt: e.now.Add(time.Hour),
			}
			if err := e.s.KeyspaceUpdate(e.ctx, &upd); err != nil {
				t.Fatalf("KeyspaceUpdate: %v", err)
			}
			want = upd
			want.Prefix, want.CreatedAt, want.Source = "fvx", e.now, keyspace.SourceAPI
			checkKeyspace(t, e, &want)
			// And removes the default rate limit and expiry.
			upd.RateLimit, upd.KeyExpiry, upd.UpdatedAt = nil, 0, e.now.Add(2*time.Hour)
			if err := e.s.KeyspaceUpdate(e.ctx, &upd); err != nil {
				t.Fatalf("KeyspaceUpdate without a rate limit: %v", err)
			}
			want.RateLimit, want.KeyExpiry, want.UpdatedAt = nil, 0, upd.UpdatedAt
			checkKeyspace(t, e, &want)
			// A bare key space gains them.
			bare.RateLimit = &keyspace.RateLimit{Limit: 1, Window: keyspace.Duration(24 * time.Hour), Per: keyspace.PerKey}
			bare.KeyExpiry = keyspace.Duration(time.Hour)
			if err := e.s.KeyspaceUpdate(e.ctx, bare); err != nil {
				t.Fatalf("KeyspaceUpdate of the bare key space: %v", err)
			}
			wantBare.RateLimit, wantBare.KeyExpiry = bare.RateLimit, bare.KeyExpiry
			checkKeyspace(t, e, &wantBare)

			missing := &keyspace.Keyspace{Name: "nope", Prefix: "np", Permissions: []keyspace.Permission{{Name: "x"}}, UpdatedAt: e.now}
			wantNotFound(t, "KeyspaceUpdate of a missing key space", e.s.KeyspaceUpdate(e.ctx, missing))
			_, err := e.s.KeyspaceGet(e.ctx, "nope")
			wantNotFound(t, "KeyspaceGet of a missing key space", err)
			wantNotFound(t, "KeyspaceDelete of a missing key space", e.s.KeyspaceDelete(e.ctx, "nope"))
			if got := keyspaceNames(t, e); !reflect.DeepEqual(got, []string{"beta", "formvox"}) {
				t.Errorf("KeyspaceList after updates: got %v, want [beta formvox]", got)
			}

			if err := e.s.KeyspaceDelete(e.ctx, "beta"); err != nil {
				t.Fatalf("KeyspaceDelete: %v", err)
			}
			_, err = e.s.KeyspaceGet(e.ctx, "beta")
			wantNotFound(t, "KeyspaceGet after KeyspaceDelete", err)
			wantNotFound(t, "second KeyspaceDelete", e.s.KeyspaceDelete(e.ctx, "beta"))
			if got := keyspaceNames(t, e); !reflect.DeepEqual(got, []string{"formvox"}) {
				t.Errorf("KeyspaceList after a delete: got %v, want [formvox]", got)
			}
			checkKeyspace(t, e, &want)
			// The deleted key space's prefix is free again.
			again := &keyspace.Keyspace{Name: "gamma", Prefix: "bt", Permissions: []keyspace.Permission{{Name: "x"}},
				CreatedAt: e.now, UpdatedAt: e.now}
			if err := e.s.KeyspaceCreate(e.ctx, again); err != nil {
				t.Errorf("KeyspaceCreate with a deleted key space's prefix: %v", err)
			}
		},
		"EmptyKeyspaceList": func(t *testing.T) {
			e := newEnv(t, open)
			list, err := e.s.KeyspaceList(e.ctx)
			if err != nil || list == nil || len(list) != 0 {
				t.Errorf("KeyspaceList of an empty store: got %#v, %v; want an empty list", list, err)
			}
		},
		"Key": func(t *testing.T) {
			e := newEnv(t, open)
			zone := time.FixedZone("CEST", 2*60*60)
			k := &keyspace.Key{
				ID: hookline.NewID(keyIDPrefix), Keyspace: "formvox", Tenant: "acme", Name: "Zapier (prod)", Start: "fvx_v3ea",
				Permissions: []string{"forms:read", "responses:read"},
				Resources:   []string{"form:123", "folder/reports"},
				Meta:        map[string]string{"owner": "ops", "ticket": "#42 ünïcode"},
				RateLimit:   &keyspace.RateLimit{Limit: 10, Window: keyspace.Duration(90 * time.Second), Per: keyspace.PerKey},
				// Given in another zone and below the millisecond: read back in
				// UTC, to the millisecond (truncated, not rounded).
				ExpiresAt:  ptr(e.now.Add(30 * 24 * time.Hour).In(zone)),
				RevokedAt:  ptr(e.now.Add(2*time.Hour + 999*time.Microsecond)),
				LastUsedAt: ptr(e.now.Add(-time.Minute + 500*time.Microsecond)),
				CreatedAt:  e.now.Add(999 * time.Microsecond).In(zone),
				Hash:       keyHash("fvx_full"),
			}
			if err := e.s.KeyCreate(e.ctx, k, false); err != nil {
				t.Fatalf("KeyCreate: %v", err)
			}
			want := *k
			want.ExpiresAt = ptr(e.now.Add(30 * 24 * time.Hour))
			want.RevokedAt = ptr(e.now.Add(2 * time.Hour))
			want.LastUsedAt = ptr(e.now.Add(-time.Minute))
			want.CreatedAt = e.now
			checkKey(t, e, &want)

			// Lists and maps given nil or empty read back alike: permissions
			// as an empty list (never nil), resources and meta as nil.
			for _, empty := range []bool{false, true} {
				bare := &keyspace.Key{ID: hookline.NewID(keyIDPrefix), Keyspace: "formvox", Tenant: "acme", Name: "bare",
					Start: "fvx_aaaa", CreatedAt: e.now, Hash: keyHash("fvx_bare_" + hookline.NewID(""))}
				if empty {
					bare.Permissions, bare.Resources, bare.Meta = []string{}, []string{}, map[string]string{}
				}
				if err := e.s.KeyCreate(e.ctx, bare, false); err != nil {
					t.Fatalf("KeyCreate of a bare key (empty %v): %v", empty, err)
				}
				want := *bare
				want.Permissions, want.Resources, want.Meta = []string{}, nil, nil
				got := checkKey(t, e, &want)
				if got.Permissions == nil || got.Resources != nil || got.Meta != nil {
					t.Errorf("bare key (empty %v): got permissions %#v, resources %#v, meta %#v; want [], nil, nil",
						empty, got.Permissions, got.Resources, got.Meta)
				}
			}

			dup := &keyspace.Key{ID: hookline.NewID(keyIDPrefix), Keyspace: "other", Tenant: "globex", Name: "dup",
				Start: "oth_aaaa", Permissions: []string{"x"}, CreatedAt: e.now, Hash: keyHash("fvx_full")}
			if err := e.s.KeyCreate(e.ctx, dup, false); !errors.Is(err, store.ErrConflict) {
				t.Errorf("KeyCreate with a taken hash: got %v, want ErrConflict", err)
			}
			_, err := e.s.KeyGet(e.ctx, dup.ID)
			wantNotFound(t, "KeyGet of the key refused for its hash", err)
			checkKey(t, e, &want)

			_, err = e.s.KeyGet(e.ctx, hookline.NewID(keyIDPrefix))
			wantNotFound(t, "KeyGet of an unknown id", err)
			_, err = e.s.KeyGetByHash(e.ctx, keyHash("fvx_nobody"))
			wantNotFound(t, "KeyGetByHash of an unknown hash", err)
		},
		"KeyList": func(t *testing.T) {
			e := newEnv(t, open)
			var acme, all []string
			for i := range 4 {
				tenant := "acme"
				if i == 2 {
					tenant = "globex"
				}
				k := e.key("formvox", tenant)
				all = append([]string{k.ID}, all...)
				if tenant == "acme" {
					acme = append([]string{k.ID}, acme...)
				}
			}
			other := e.key("other", "acme")
			full := e.key("formvox", "acme", func(k *keyspace.Key) {
				k.Resources, k.Meta = []string{"form:1"}, map[string]string{"a": "b"}
				k.RateLimit = &keyspace.RateLimit{Limit: 3, Window: keyspace.Duration(time.Hour), Per: keyspace.PerTenant}
				k.ExpiresAt, k.RevokedAt, k.LastUsedAt = ptr(e.now.Add(time.Hour)), ptr(e.now.Add(time.Minute)), ptr(e.now)
			})
			all, acme = append([]string{full.ID}, all...), append([]string{full.ID}, acme...)

			list := func(p store.KeyListParams) []keyspace.Key {
				t.Helper()
				ks, err := e.s.KeyList(e.ctx, p)
				if err != nil {
					t.Fatalf("KeyList %+v: %v", p, err)
				}
				return ks
			}
			keyID := func(k keyspace.Key) string { return k.ID }
			got := list(store.KeyListParams{Keyspace: "formvox"})
			if gotIDs := ids(got, keyID); !reflect.DeepEqual(gotIDs, all) {
				t.Errorf("KeyList of formvox: got %v, want %v (newest first, without other's key %s)", gotIDs, all, other.ID)
			}
			if len(got) > 0 {
				// The list reads every field as KeyGet does.
				compareKey(t, "KeyList", &got[0], full)
			}
			if gotIDs := ids(list(store.KeyListParams{Keyspace: "formvox", Tenant: "acme"}), keyID); !reflect.DeepEqual(gotIDs, acme) {
				t.Errorf("KeyList of formvox for acme: got %v, want %v", gotIDs, acme)
			}
			if gotIDs := ids(list(store.KeyListParams{Keyspace: "other"}), keyID); !reflect.DeepEqual(gotIDs, []string{other.ID}) {
				t.Errorf("KeyList of other: got %v, want [%s]", gotIDs, other.ID)
			}
			if gotIDs := ids(list(store.KeyListParams{Keyspace: "other", Tenant: "globex"}), keyID); len(gotIDs) != 0 {
				t.Errorf("KeyList of other for globex: got %v, want none", gotIDs)
			}
			if got := list(store.KeyListParams{Keyspace: "nothing"}); got == nil || len(got) != 0 {
				t.Errorf("KeyList of a key space without keys: got %#v, want an empty list", got)
			}

			for _, size := range []int{1, 2, 3} {
				for _, tenant := range []string{"", "acme"} {
					want := all
					if tenant != "" {
						want = acme
					}
					pages := walkPages(t, "KeyList", size, func(cursor string) ([]keyspace.Key, error) {
						return e.s.KeyList(e.ctx, store.KeyListParams{ListParams: store.ListParams{Cursor: cursor, Limit: size},
							Keyspace: "formvox", Tenant: tenant})
					}, keyID)
					if gotIDs := ids(pages, keyID); !reflect.DeepEqual(gotIDs, want) {
						t.Errorf("KeyList of formvox for %q by %d: got %v, want %v", tenant, size, gotIDs, want)
					}
				}
			}
		},
		"KeyRevoke": func(t *testing.T) {
			e := newEnv(t, open)
			revoke := func(id string, at time.Time, expire bool) *keyspace.Key {
				t.Helper()
				k, err := e.s.KeyRevoke(e.ctx, store.KeyRevokeParams{ID: id, At: at, Expire: expire})
				if err != nil {
					t.Fatalf("KeyRevoke %s at %v (expire %v): %v", id, at, expire, err)
				}
				// What it returns is what is stored.
				compareKey(t, "KeyRevoke", k, e.getKey(id))
				return k
			}
			k := e.key("formvox", "acme", func(k *keyspace.Key) { k.ExpiresAt = ptr(e.now.Add(time.Hour)) })
			first := e.now.Add(time.Minute)
			for _, at := range []time.Time{first, e.now.Add(2 * time.Minute), e.now.Add(-time.Hour)} {
				got := revoke(k.ID, at, false)
				if !sameTime(got.RevokedAt, &first) {
					t.Errorf("revoked at %v: RevokedAt got %s, want the first revocation's %v", at, fmtTime(got.RevokedAt), first)
				}
				if !sameTime(got.ExpiresAt, k.ExpiresAt) {
					t.Errorf("revoking moved ExpiresAt: got %s, want %s", fmtTime(got.ExpiresAt), fmtTime(k.ExpiresAt))
				}
			}

			// Expire only ever brings the expiry sooner, and does not revoke.
			never := e.key("formvox", "acme")
			soon := e.key("formvox", "acme", func(k *keyspace.Key) { k.ExpiresAt = ptr(e.now.Add(10 * time.Minute)) })
			for _, step := range []struct {
				key      *keyspace.Key
				at, want time.Time
			}{
				{never, e.now.Add(time.Hour), e.now.Add(time.Hour)},
				{never, e.now.Add(2 * time.Hour), e.now.Add(time.Hour)},
				{never, e.now.Add(30 * time.Minute), e.now.Add(30 * time.Minute)},
				{soon, e.now.Add(time.Hour), e.now.Add(10 * time.Minute)},
				{soon, e.now.Add(5 * time.Minute), e.now.Add(5 * time.Minute)},
			} {
				got := revoke(step.key.ID, step.at, true)
				if !sameTime(got.ExpiresAt, &step.want) {
					t.Errorf("expire %s at %v: ExpiresAt got %s, want %v", step.key.ID, step.at, fmtTime(got.ExpiresAt), step.want)
				}
				if got.RevokedAt != nil {
					t.Errorf("expire %s: RevokedAt got %s, want nil", step.key.ID, fmtTime(got.RevokedAt))
				}
			}
			// An expiry does not undo a revocation, nor a revocation an expiry.
			got := revoke(k.ID, e.now, true)
			if !sameTime(got.RevokedAt, &first) || !sameTime(got.ExpiresAt, &e.now) {
				t.Errorf("expire a revoked key at now: got revoked %s, expires %s; want %v, %v",
					fmtTime(got.RevokedAt), fmtTime(got.ExpiresAt), first, e.now)
			}
			got = revoke(soon.ID, e.now.Add(time.Minute), false)
			if want := e.now.Add(5 * time.Minute); !sameTime(got.ExpiresAt, &want) || !sameTime(got.RevokedAt, ptr(e.now.Add(time.Minute))) {
				t.Errorf("revoke an expiring key: got revoked %s, expires %s; want %v, %v",
					fmtTime(got.RevokedAt), fmtTime(got.ExpiresAt), e.now.Add(time.Minute), want)
			}

			for _, expire := range []bool{false, true} {
				_, err := e.s.KeyRevoke(e.ctx, store.KeyRevokeParams{ID: hookline.NewID(keyIDPrefix), At: e.now, Expire: expire})
				wantNotFound(t, "KeyRevoke of an unknown key", err)
			}
		},
		"KeyTouch": func(t *testing.T) {
			e := newEnv(t, open)
			unused := e.key("formvox", "acme")
			used := e.key("formvox", "acme", func(k *keyspace.Key) { k.LastUsedAt = ptr(e.now) })
			other := e.key("formvox", "acme")
			lastUsed := func(k *keyspace.Key) *time.Time { t.Helper(); return e.getKey(k.ID).LastUsedAt }

			gone := hookline.NewID(keyIDPrefix) // deleted meanwhile: ignored
			err := e.s.KeyTouch(e.ctx, map[string]time.Time{
				unused.ID: e.now.Add(time.Minute),
				used.ID:   e.now.Add(-time.Minute), // earlier than its last use: ignored
				gone:      e.now,
			})
			if err != nil {
				t.Fatalf("KeyTouch: %v", err)
			}
			if got, want := lastUsed(unused), e.now.Add(time.Minute); !sameTime(got, &want) {
				t.Errorf("never used key touched: LastUsedAt got %s, want %v", fmtTime(got), want)
			}
			if got := lastUsed(used); !sameTime(got, &e.now) {
				t.Errorf("key touched with an earlier time: LastUsedAt got %s, want %v unchanged", fmtTime(got), e.now)
			}
			if got := lastUsed(other); got != nil {
				t.Errorf("untouched key: LastUsedAt got %s, want nil", fmtTime(got))
			}

			later := e.now.Add(5*time.Minute + 700*time.Microsecond)
			if err := e.s.KeyTouch(e.ctx, map[string]time.Time{used.ID: later, unused.ID: e.now}); err != nil {
				t.Fatalf("second KeyTouch: %v", err)
			}
			if got, want := lastUsed(used), e.now.Add(5*time.Minute); !sameTime(got, &want) {
				t.Errorf("key touched later: LastUsedAt got %s, want %v", fmtTime(got), want)
			}
			if got, want := lastUsed(unused), e.now.Add(time.Minute); !sameTime(got, &want) {
				t.Errorf("key touched with an earlier time: LastUsedAt got %s, want %v unchanged", fmtTime(got), want)
			}
			if err := e.s.KeyTouch(e.ctx, nil); err != nil {
				t.Errorf("KeyTouch of nothing: %v", err)
			}
			// Touching changes nothing else.
			want := *used
			want.LastUsedAt = ptr(e.now.Add(5 * time.Minute))
			checkKey(t, e, &want)
		},
		"KeyTouchConcurrent": func(t *testing.T) {
			// Every node touches the keys it verified, often the same ones, at
			// the same time: the batches must neither fail (a deadlock) nor move
			// a key's last use back.
			e := newEnv(t, open)
			var keys []*keyspace.Key
			for range 50 {
				keys = append(keys, e.key("formvox", "acme"))
			}
			const nodes, rounds = 8, 100
			var wg sync.WaitGroup
			for node := range nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for round := range rounds {
						used := map[string]time.Time{}
						for _, k := range keys {
							used[k.ID] = e.now.Add(time.Duration(round*nodes+node) * time.Millisecond)
						}
						if err := e.s.KeyTouch(e.ctx, used); err != nil {
							t.Errorf("KeyTouch by node %d, round %d: %v", node, round, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			want := e.now.Add((rounds*nodes - 1) * time.Millisecond)
			for _, k := range keys {
				if got := e.getKey(k.ID).LastUsedAt; !sameTime(got, &want) {
					t.Errorf("key %s after concurrent touches: LastUsedAt got %s, want the latest, %v", k.ID, fmtTime(got), want)
				}
			}
		},
		"KeyCreateInAStoredKeyspace": func(t *testing.T) {
			e := newEnv(t, open)
			k := &keyspace.Key{ID: hookline.NewID(keyIDPrefix), Keyspace: "gone", Tenant: "acme", Name: "k", Start: "gon_abcd",
				Permissions: []string{"x"}, CreatedAt: e.now, Hash: keyHash("gone")}
			wantNotFound(t, "KeyCreate in a stored key space that is not there", e.s.KeyCreate(e.ctx, k, true))
			// Racing with the key space's deletion, a key is either refused or
			// deleted with the others: none outlives its key space.
			for i := range 20 {
				name := fmt.Sprintf("race%d", i)
				ks := &keyspace.Keyspace{Name: name, Prefix: fmt.Sprintf("rc%d", i), Permissions: []keyspace.Permission{{Name: "x"}},
					CreatedAt: e.now, UpdatedAt: e.now}
				if err := e.s.KeyspaceCreate(e.ctx, ks); err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				var createErr, deleteErr error
				wg.Go(func() {
					createErr = e.s.KeyCreate(e.ctx, &keyspace.Key{ID: hookline.NewID(keyIDPrefix), Keyspace: name, Tenant: "acme", Name: "k",
						Start: "rc_abcd", Permissions: []string{"x"}, CreatedAt: e.now, Hash: keyHash(name)}, true)
				})
				wg.Go(func() { deleteErr = e.s.KeyspaceDelete(e.ctx, name) })
				wg.Wait()
				if deleteErr != nil || createErr != nil && !errors.Is(createErr, store.ErrNotFound) {
					t.Fatalf("race %d: delete %v, create %v", i, deleteErr, createErr)
				}
				if got, err := e.s.KeyList(e.ctx, store.KeyListParams{Keyspace: name}); err != nil || len(got) != 0 {
					t.Fatalf("race %d: %d keys outlived their key space (%v)", i, len(got), err)
				}
			}
		},
		"KeyspaceDeleteTakesKeys": func(t *testing.T) {
			e := newEnv(t, open)
			for _, name := range []string{"formvox", "mailvox"} {
				ks := &keyspace.Keyspace{Name: name, Prefix: name[:3], Permissions: []keyspace.Permission{{Name: "x"}},
					CreatedAt: e.now, UpdatedAt: e.now}
				if err := e.s.KeyspaceCreate(e.ctx, ks); err != nil {
					t.Fatalf("KeyspaceCreate %s: %v", name, err)
				}
			}
			gone := []*keyspace.Key{e.key("formvox", "acme"), e.key("formvox", "globex")}
			kept := []*keyspace.Key{e.key("mailvox", "acme"), e.key("filed", "acme")} // filed: a key space loaded from a file

			if err := e.s.KeyspaceDelete(e.ctx, "formvox"); err != nil {
				t.Fatalf("KeyspaceDelete: %v", err)
			}
			for _, k := range gone {
				_, err := e.s.KeyGet(e.ctx, k.ID)
				wantNotFound(t, "KeyGet of a deleted key space's key", err)
				_, err = e.s.KeyGetByHash(e.ctx, k.Hash)
				wantNotFound(t, "KeyGetByHash of a deleted key space's key", err)
			}
			// A key space of the same name made again has none of the old keys.
			ks := &keyspace.Keyspace{Name: "formvox", Prefix: "for", Permissions: []keyspace.Permission{{Name: "x"}},
				CreatedAt: e.now, UpdatedAt: e.now}
			if err := e.s.KeyspaceCreate(e.ctx, ks); err != nil {
				t.Fatalf("KeyspaceCreate again: %v", err)
			}
			if got, err := e.s.KeyList(e.ctx, store.KeyListParams{Keyspace: "formvox"}); err != nil || len(got) != 0 {
				t.Errorf("KeyList of the key space made again: got %d keys, %v; want none", len(got), err)
			}

			// A key space that is not stored cannot be deleted, and its keys stay.
			wantNotFound(t, "KeyspaceDelete of a key space not stored", e.s.KeyspaceDelete(e.ctx, "filed"))
			for _, k := range kept {
				checkKey(t, e, k)
			}
		},
	})
}

// key stores a key of space for tenant with a fresh id and hash; opts adjust
// it before it is stored. Its times are to the millisecond, so it is also
// what the store should read back.
func (e *env) key(space, tenant string, opts ...func(*keyspace.Key)) *keyspace.Key {
	e.t.Helper()
	id := hookline.NewID(keyIDPrefix)
	k := &keyspace.Key{
		ID: id, Keyspace: space, Tenant: tenant, Name: "key " + id, Start: "fvx_" + id[len(id)-4:],
		Permissions: []string{"forms:read"}, CreatedAt: e.now, Hash: keyHash(id),
	}
	for _, o := range opts {
		o(k)
	}
	if err := e.s.KeyCreate(e.ctx, k, false); err != nil {
		e.t.Fatalf("KeyCreate: %v", err)
	}
	return k
}

func (e *env) getKey(id string) *keyspace.Key {
	e.t.Helper()
	k, err := e.s.KeyGet(e.ctx, id)
	if err != nil {
		e.t.Fatalf("KeyGet %s: %v", id, err)
	}
	return k
}

func keyHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func ptr[T any](v T) *T { return &v }

// checkKey reads want back by id and by hash, checks both, and returns the
// one read by id.
func checkKey(t *testing.T, e *env, want *keyspace.Key) *keyspace.Key {
	t.Helper()
	got := e.getKey(want.ID)
	compareKey(t, "KeyGet", got, want)
	byHash, err := e.s.KeyGetByHash(e.ctx, want.Hash)
	if err != nil {
		t.Fatalf("KeyGetByHash %s: %v", want.ID, err)
	}
	compareKey(t, "KeyGetByHash", byHash, want)
	return got
}

// compareKey fails unless got is want, field by field: times equal and in
// UTC, lists and maps equal including nil against empty.
func compareKey(t *testing.T, what string, got, want *keyspace.Key) {
	t.Helper()
	checkTimes(t, what, want.ID, []namedTime{
		{"CreatedAt", &got.CreatedAt, &want.CreatedAt},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
		{"RevokedAt", got.RevokedAt, want.RevokedAt},
		{"LastUsedAt", got.LastUsedAt, want.LastUsedAt},
	})
	g, w := *got, *want
	g.CreatedAt, g.ExpiresAt, g.RevokedAt, g.LastUsedAt = time.Time{}, nil, nil, nil
	w.CreatedAt, w.ExpiresAt, w.RevokedAt, w.LastUsedAt = time.Time{}, nil, nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s %s:\n got %#v\nwant %#v", what, want.ID, g, w)
	}
}

// checkKeyspace reads want back, alone and in the list, and checks it.
func checkKeyspace(t *testing.T, e *env, want *keyspace.Keyspace) {
	t.Helper()
	got, err := e.s.KeyspaceGet(e.ctx, want.Name)
	if err != nil {
		t.Fatalf("KeyspaceGet %s: %v", want.Name, err)
	}
	compareKeyspace(t, "KeyspaceGet", got, want)
	list, err := e.s.KeyspaceList(e.ctx)
	if err != nil {
		t.Fatalf("KeyspaceList: %v", err)
	}
	i := slices.IndexFunc(list, func(ks keyspace.Keyspace) bool { return ks.Name == want.Name })
	if i < 0 {
		t.Fatalf("KeyspaceList: %s is missing", want.Name)
	}
	compareKeyspace(t, "KeyspaceList", &list[i], want)
}

func compareKeyspace(t *testing.T, what string, got, want *keyspace.Keyspace) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) ||
		got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Location() != time.UTC {
		t.Errorf("%s %s: created %v, updated %v; want %v, %v in UTC", what, want.Name, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	g, w := *got, *want
	g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s %s:\n got %+v (rate limit %+v)\nwant %+v (rate limit %+v)", what, want.Name, g, g.RateLimit, w, w.RateLimit)
	}
}

func keyspaceNames(t *testing.T, e *env) []string {
	t.Helper()
	list, err := e.s.KeyspaceList(e.ctx)
	if err != nil {
		t.Fatalf("KeyspaceList: %v", err)
	}
	return ids(list, func(ks keyspace.Keyspace) string { return ks.Name })
}

// namedTime is one time of an object read back, beside the one expected.
type namedTime struct {
	name      string
	got, want *time.Time
}

// checkTimes checks that each time read back is the one stored, to the
// millisecond, and in UTC.
func checkTimes(t *testing.T, what, id string, times []namedTime) {
	t.Helper()
	for _, tm := range times {
		if !sameTime(tm.got, tm.want) {
			t.Errorf("%s %s: %s got %s, want %s", what, id, tm.name, fmtTime(tm.got), fmtTime(tm.want))
		}
		if tm.got != nil && tm.got.Location() != time.UTC {
			t.Errorf("%s %s: %s is in %v, want UTC", what, id, tm.name, tm.got.Location())
		}
	}
}
