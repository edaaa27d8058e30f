package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// exercisePortalSessions covers tenant portal sessions: what is stored of
// them, the single-use exchange of a login token for a cookie, which sessions
// a cookie finds, and how sessions end.
func exercisePortalSessions(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"CreateGet": func(t *testing.T) {
			e := newEnv(t, open)
			zone := time.FixedZone("CEST", 2*60*60)
			ps := &hookline.PortalSession{
				ID: hookline.NewID(hookline.PrefixPortalSession), Tenant: "acme",
				Capabilities: []string{hookline.CapView, hookline.CapSecrets, hookline.CapRetry},
				Theme:        hookline.PortalTheme{Accent: "#0a7cff", LogoURL: "https://acme.example/logo.svg?v=ünï", Mode: "dark", HideNav: true},
				Locale:       "fr",
				// Given in another zone and below the millisecond: read back in
				// UTC, to the millisecond (truncated, not rounded).
				ExpiresAt:  e.now.Add(time.Hour + 999*time.Microsecond).In(zone),
				CreatedAt:  e.now.Add(999 * time.Microsecond).In(zone),
				LoggedInAt: ptr(e.now.Add(time.Minute + 500*time.Microsecond).In(zone)),
				EndedAt:    ptr(e.now.Add(2*time.Minute + 999*time.Microsecond)),
				TokenHash:  keyHash("token full"),
				CookieHash: keyHash("cookie full"),
			}
			if err := e.s.PortalSessionCreate(e.ctx, ps); err != nil {
				t.Fatalf("PortalSessionCreate: %v", err)
			}
			want := *ps
			want.ExpiresAt, want.CreatedAt = e.now.Add(time.Hour), e.now
			want.LoggedInAt, want.EndedAt = ptr(e.now.Add(time.Minute)), ptr(e.now.Add(2*time.Minute))
			comparePortalSession(t, "PortalSessionGet", e.getPortalSession(ps.ID), &want)

			// A new session as package portal makes it: nothing yet of a
			// login, a cookie or an end; no capabilities, theme or locale read
			// back as such, capabilities as an empty list (never nil).
			for _, empty := range []bool{false, true} {
				bare := &hookline.PortalSession{ID: hookline.NewID(hookline.PrefixPortalSession), Tenant: "acme",
					ExpiresAt: e.now.Add(time.Hour), CreatedAt: e.now, TokenHash: keyHash("token " + hookline.NewID(""))}
				if empty {
					bare.Capabilities = []string{}
				}
				if err := e.s.PortalSessionCreate(e.ctx, bare); err != nil {
					t.Fatalf("PortalSessionCreate of a bare session (empty %v): %v", empty, err)
				}
				want := *bare
				want.Capabilities = []string{}
				got := e.getPortalSession(bare.ID)
				comparePortalSession(t, "PortalSessionGet of a bare session", got, &want)
				if got.Capabilities == nil || got.CookieHash != nil || got.LoggedInAt != nil || got.EndedAt != nil {
					t.Errorf("bare session (empty %v): got capabilities %#v, cookie hash %x, logged in %s, ended %s; want [], nil, nil, nil",
						empty, got.Capabilities, got.CookieHash, fmtTime(got.LoggedInAt), fmtTime(got.EndedAt))
				}
			}

			sameID := e.newPortalSession("globex")
			sameID.ID = ps.ID
			if err := e.s.PortalSessionCreate(e.ctx, sameID); !errors.Is(err, store.ErrConflict) {
				t.Errorf("PortalSessionCreate with a taken id: got %v, want ErrConflict", err)
			}
			sameToken := e.newPortalSession("globex")
			sameToken.TokenHash = ps.TokenHash
			if err := e.s.PortalSessionCreate(e.ctx, sameToken); !errors.Is(err, store.ErrConflict) {
				t.Errorf("PortalSessionCreate with a taken token hash: got %v, want ErrConflict", err)
			}
			_, err := e.s.PortalSessionGet(e.ctx, sameToken.ID)
			wantNotFound(t, "PortalSessionGet of the session refused for its token hash", err)
			comparePortalSession(t, "PortalSessionGet after refused creations", e.getPortalSession(ps.ID), &want)

			_, err = e.s.PortalSessionGet(e.ctx, hookline.NewID(hookline.PrefixPortalSession))
			wantNotFound(t, "PortalSessionGet of an unknown id", err)
		},
		"LoginOnce": func(t *testing.T) {
			e := newEnv(t, open)
			ps := e.portalSession("acme")
			other := e.portalSession("acme") // untouched by ps's login
			at := e.now.Add(time.Minute + 700*time.Microsecond)
			got, err := e.s.PortalSessionLogin(e.ctx, ps.TokenHash, keyHash("cookie 1"), at)
			if err != nil {
				t.Fatalf("PortalSessionLogin: %v", err)
			}
			want := *ps
			want.CookieHash, want.LoggedInAt = keyHash("cookie 1"), ptr(e.now.Add(time.Minute))
			// What it returns is what is stored.
			comparePortalSession(t, "PortalSessionLogin", got, &want)
			comparePortalSession(t, "PortalSessionGet after login", e.getPortalSession(ps.ID), &want)
			comparePortalSession(t, "PortalSessionGet of another session", e.getPortalSession(other.ID), other)

			// The token works once, even much later or before it expires.
			for _, at := range []time.Time{e.now.Add(2 * time.Minute), e.now} {
				_, err := e.s.PortalSessionLogin(e.ctx, ps.TokenHash, keyHash("cookie 2"), at)
				wantNotFound(t, "second PortalSessionLogin with the same token", err)
			}
			comparePortalSession(t, "PortalSessionGet after a second login", e.getPortalSession(ps.ID), &want)
			e.wantCookie(keyHash("cookie 1"), e.now.Add(2*time.Minute), &want)
			e.wantNoCookie("the second login's cookie", keyHash("cookie 2"), e.now.Add(2*time.Minute))
		},
		"LoginRefused": func(t *testing.T) {
			e := newEnv(t, open)
			expiring := e.portalSession("acme")
			ended := e.portalSession("acme")
			if err := e.s.PortalSessionEnd(e.ctx, ended.ID, e.now); err != nil {
				t.Fatalf("PortalSessionEnd: %v", err)
			}
			ended.EndedAt = ptr(e.now)
			for _, try := range []struct {
				what  string
				token []byte
				at    time.Time
				ps    *hookline.PortalSession
			}{
				{"an expired session (at its expiry)", expiring.TokenHash, expiring.ExpiresAt, expiring},
				{"an expired session (after its expiry)", expiring.TokenHash, expiring.ExpiresAt.Add(time.Hour), expiring},
				{"an ended session", ended.TokenHash, e.now.Add(time.Minute), ended},
				{"an unknown token", keyHash("token nobody"), e.now, nil},
			} {
				cookie := keyHash("cookie for " + try.what)
				_, err := e.s.PortalSessionLogin(e.ctx, try.token, cookie, try.at)
				wantNotFound(t, "PortalSessionLogin of "+try.what, err)
				// Nothing changed: not the session, and its cookie finds nothing.
				if try.ps != nil {
					comparePortalSession(t, "PortalSessionGet after a refused login of "+try.what, e.getPortalSession(try.ps.ID), try.ps)
				}
				e.wantNoCookie("the refused login's cookie of "+try.what, cookie, e.now)
			}
			// Just before its expiry, the session that refused a login takes one.
			if _, err := e.s.PortalSessionLogin(e.ctx, expiring.TokenHash, keyHash("cookie late"), expiring.ExpiresAt.Add(-time.Millisecond)); err != nil {
				t.Errorf("PortalSessionLogin a millisecond before the expiry: %v", err)
			}
		},
		"LoginConcurrent": func(t *testing.T) {
			// Twenty logins at once with one token, for several sessions so
			// that a login checking then writing in two steps is caught even
			// when a race is rarely lost: one succeeds, the others find nothing.
			e := newEnv(t, open)
			const sessions, logins = 10, 20
			for round := range sessions {
				ps := e.portalSession("acme")
				cookie := func(i int) []byte { return keyHash(fmt.Sprintf("cookie %d/%d", round, i)) }
				var (
					wg      sync.WaitGroup
					start   = make(chan struct{})
					results [logins]*hookline.PortalSession
					errs    [logins]error
				)
				for i := range logins {
					wg.Go(func() {
						<-start
						results[i], errs[i] = e.s.PortalSessionLogin(e.ctx, ps.TokenHash, cookie(i), e.now)
					})
				}
				close(start)
				wg.Wait()
				winner := -1
				for i := range logins {
					switch {
					case errs[i] == nil:
						if winner >= 0 {
							t.Errorf("session %d: logins %d and %d both succeeded with one token", round, winner, i)
						}
						winner = i
					case !errors.Is(errs[i], store.ErrNotFound):
						t.Errorf("session %d: login %d: got %v, want success or ErrNotFound", round, i, errs[i])
					}
				}
				if winner < 0 {
					t.Fatalf("session %d: none of %d concurrent logins succeeded", round, logins)
				}
				want := *ps
				want.CookieHash, want.LoggedInAt = cookie(winner), ptr(e.now)
				comparePortalSession(t, "the successful login", results[winner], &want)
				comparePortalSession(t, "PortalSessionGet after concurrent logins", e.getPortalSession(ps.ID), &want)
				for i := range logins {
					if i != winner {
						e.wantNoCookie("a losing login's cookie", cookie(i), e.now)
					}
				}
				e.wantCookie(want.CookieHash, e.now, &want)
				if t.Failed() {
					return
				}
			}
		},
		"ByCookie": func(t *testing.T) {
			e := newEnv(t, open)
			live := e.loggedIn("acme", "cookie live")
			ended := e.loggedIn("acme", "cookie ended")
			notLoggedIn := e.portalSession("acme")

			e.wantCookie(keyHash("cookie live"), e.now, live)
			// Live until its expiry, not at it.
			e.wantCookie(keyHash("cookie live"), live.ExpiresAt.Add(-time.Millisecond), live)
			e.wantNoCookie("a session's cookie at its expiry", keyHash("cookie live"), live.ExpiresAt)
			e.wantNoCookie("a session's cookie after its expiry", keyHash("cookie live"), live.ExpiresAt.Add(time.Hour))

			e.wantCookie(keyHash("cookie ended"), e.now, ended)
			if err := e.s.PortalSessionEnd(e.ctx, ended.ID, e.now.Add(time.Second)); err != nil {
				t.Fatalf("PortalSessionEnd: %v", err)
			}
			// Ended, even with a now before the end.
			e.wantNoCookie("an ended session's cookie", keyHash("cookie ended"), e.now.Add(2*time.Second))
			e.wantNoCookie("an ended session's cookie", keyHash("cookie ended"), e.now)

			e.wantNoCookie("an unknown cookie", keyHash("cookie nobody"), e.now)
			e.wantNoCookie("the login token as a cookie", notLoggedIn.TokenHash, e.now)
			e.wantNoCookie("the login token as a cookie", live.TokenHash, e.now)
			e.wantNoCookie("no cookie", nil, e.now) // not the sessions without one
			e.wantNoCookie("an empty cookie", []byte{}, e.now)
		},
		"End": func(t *testing.T) {
			e := newEnv(t, open)
			ps := e.loggedIn("acme", "cookie")
			other := e.loggedIn("acme", "cookie other")
			first := e.now.Add(time.Minute)
			for _, at := range []time.Time{first.Add(300 * time.Microsecond), e.now.Add(2 * time.Minute), e.now.Add(-time.Hour)} {
				if err := e.s.PortalSessionEnd(e.ctx, ps.ID, at); err != nil {
					t.Fatalf("PortalSessionEnd at %v: %v", at, err)
				}
				want := *ps
				want.EndedAt = &first
				comparePortalSession(t, "PortalSessionGet after PortalSessionEnd", e.getPortalSession(ps.ID), &want)
			}
			comparePortalSession(t, "PortalSessionGet of another session", e.getPortalSession(other.ID), other)
			e.wantCookie(keyHash("cookie other"), e.now, other)
			wantNotFound(t, "PortalSessionEnd of an unknown session",
				e.s.PortalSessionEnd(e.ctx, hookline.NewID(hookline.PrefixPortalSession), e.now))

			// A session ended before its login cannot log in.
			fresh := e.portalSession("acme")
			if err := e.s.PortalSessionEnd(e.ctx, fresh.ID, e.now); err != nil {
				t.Fatalf("PortalSessionEnd of a session not logged in: %v", err)
			}
			_, err := e.s.PortalSessionLogin(e.ctx, fresh.TokenHash, keyHash("cookie fresh"), e.now)
			wantNotFound(t, "PortalSessionLogin of a session ended before", err)
		},
		"EndTenant": func(t *testing.T) {
			e := newEnv(t, open)
			live := e.loggedIn("acme", "cookie acme 1")
			live2 := e.loggedIn("acme", "cookie acme 2")
			notLoggedIn := e.portalSession("acme")
			// Expired but never ended: not ended yet, so it is ended too.
			expired := e.portalSession("acme", func(ps *hookline.PortalSession) {
				ps.CreatedAt, ps.ExpiresAt = e.now.Add(-2*time.Hour), e.now.Add(-time.Hour)
			})
			ended := e.loggedIn("acme", "cookie acme ended")
			if err := e.s.PortalSessionEnd(e.ctx, ended.ID, e.now.Add(-time.Minute)); err != nil {
				t.Fatalf("PortalSessionEnd: %v", err)
			}
			ended.EndedAt = ptr(e.now.Add(-time.Minute))
			globex := e.loggedIn("globex", "cookie globex")
			upper := e.loggedIn("ACME", "cookie ACME") // another tenant: ids are case-sensitive

			at := e.now.Add(time.Minute)
			n, err := e.s.PortalSessionEndTenant(e.ctx, "acme", at.Add(400*time.Microsecond))
			if err != nil || n != 4 {
				t.Fatalf("PortalSessionEndTenant: got %d, %v; want 4 (two logged in, one not, one expired), nil", n, err)
			}
			for _, ps := range []*hookline.PortalSession{live, live2, notLoggedIn, expired} {
				want := *ps
				want.EndedAt = &at
				comparePortalSession(t, "PortalSessionGet of an ended tenant's session", e.getPortalSession(ps.ID), &want)
			}
			comparePortalSession(t, "PortalSessionGet of a session ended before its tenant's", e.getPortalSession(ended.ID), ended)
			for _, c := range []string{"cookie acme 1", "cookie acme 2", "cookie acme ended"} {
				e.wantNoCookie("an ended tenant's cookie", keyHash(c), e.now)
			}
			_, err = e.s.PortalSessionLogin(e.ctx, notLoggedIn.TokenHash, keyHash("cookie acme 3"), e.now)
			wantNotFound(t, "PortalSessionLogin of an ended tenant's session", err)

			for _, ps := range []*hookline.PortalSession{globex, upper} {
				comparePortalSession(t, "PortalSessionGet of another tenant's session", e.getPortalSession(ps.ID), ps)
				e.wantCookie(ps.CookieHash, e.now, ps)
			}

			n, err = e.s.PortalSessionEndTenant(e.ctx, "acme", e.now.Add(time.Hour))
			if err != nil || n != 0 {
				t.Errorf("second PortalSessionEndTenant: got %d, %v; want 0, nil", n, err)
			}
			want := *live
			want.EndedAt = &at
			comparePortalSession(t, "PortalSessionGet after a second PortalSessionEndTenant", e.getPortalSession(live.ID), &want)
			n, err = e.s.PortalSessionEndTenant(e.ctx, "nobody", e.now)
			if err != nil || n != 0 {
				t.Errorf("PortalSessionEndTenant of a tenant without sessions: got %d, %v; want 0, nil", n, err)
			}
		},
	})
}

// newPortalSession returns an unsaved session of tenant made at e.now,
// expiring an hour later, with a fresh id and token hash; opts adjust it.
func (e *env) newPortalSession(tenant string, opts ...func(*hookline.PortalSession)) *hookline.PortalSession {
	id := hookline.NewID(hookline.PrefixPortalSession)
	ps := &hookline.PortalSession{
		ID: id, Tenant: tenant, Capabilities: []string{hookline.CapView, hookline.CapManageWebhooks},
		Theme: hookline.PortalTheme{Mode: "light"}, Locale: "en",
		ExpiresAt: e.now.Add(time.Hour), CreatedAt: e.now, TokenHash: keyHash("token " + id),
	}
	for _, o := range opts {
		o(ps)
	}
	return ps
}

// portalSession stores a new session (newPortalSession). Its times are to the
// millisecond, so it is also what the store should read back.
func (e *env) portalSession(tenant string, opts ...func(*hookline.PortalSession)) *hookline.PortalSession {
	e.t.Helper()
	ps := e.newPortalSession(tenant, opts...)
	if err := e.s.PortalSessionCreate(e.ctx, ps); err != nil {
		e.t.Fatalf("PortalSessionCreate: %v", err)
	}
	return ps
}

// loggedIn stores a new session and logs it in at e.now with the hash of
// cookie; it returns the session as it should now read back.
func (e *env) loggedIn(tenant, cookie string) *hookline.PortalSession {
	e.t.Helper()
	ps := e.portalSession(tenant)
	got, err := e.s.PortalSessionLogin(e.ctx, ps.TokenHash, keyHash(cookie), e.now)
	if err != nil {
		e.t.Fatalf("PortalSessionLogin: %v", err)
	}
	ps.CookieHash, ps.LoggedInAt = keyHash(cookie), ptr(e.now)
	comparePortalSession(e.t, "PortalSessionLogin", got, ps)
	return ps
}

func (e *env) getPortalSession(id string) *hookline.PortalSession {
	e.t.Helper()
	ps, err := e.s.PortalSessionGet(e.ctx, id)
	if err != nil {
		e.t.Fatalf("PortalSessionGet %s: %v", id, err)
	}
	return ps
}

// wantCookie fails unless cookie finds want at now.
func (e *env) wantCookie(cookie []byte, now time.Time, want *hookline.PortalSession) {
	e.t.Helper()
	got, err := e.s.PortalSessionByCookie(e.ctx, cookie, now)
	if err != nil {
		e.t.Errorf("PortalSessionByCookie of %s at %v: %v", want.ID, now, err)
		return
	}
	comparePortalSession(e.t, "PortalSessionByCookie", got, want)
}

// wantNoCookie fails unless cookie finds no session at now.
func (e *env) wantNoCookie(what string, cookie []byte, now time.Time) {
	e.t.Helper()
	got, err := e.s.PortalSessionByCookie(e.ctx, cookie, now)
	if !errors.Is(err, store.ErrNotFound) {
		id := ""
		if got != nil {
			id = got.ID
		}
		e.t.Errorf("PortalSessionByCookie of %s at %v: got %q, %v; want ErrNotFound", what, now, id, err)
	}
}

// comparePortalSession fails unless got is want, field by field: times equal
// and in UTC, capabilities equal including nil against empty.
func comparePortalSession(t *testing.T, what string, got, want *hookline.PortalSession) {
	t.Helper()
	if got == nil {
		t.Errorf("%s %s: got nil", what, want.ID)
		return
	}
	checkTimes(t, what, want.ID, []namedTime{
		{"ExpiresAt", &got.ExpiresAt, &want.ExpiresAt},
		{"CreatedAt", &got.CreatedAt, &want.CreatedAt},
		{"LoggedInAt", got.LoggedInAt, want.LoggedInAt},
		{"EndedAt", got.EndedAt, want.EndedAt},
	})
	g, w := *got, *want
	g.ExpiresAt, g.CreatedAt, g.LoggedInAt, g.EndedAt = time.Time{}, time.Time{}, nil, nil
	w.ExpiresAt, w.CreatedAt, w.LoggedInAt, w.EndedAt = time.Time{}, time.Time{}, nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s %s:\n got %#v\nwant %#v", what, want.ID, g, w)
	}
}
