package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// exerciseIdempotency covers the records of the API's Idempotency-Key: who
// claims a key, what a later request with it finds, when a key is taken over
// or forgotten, and what finishes or frees a claim.
func exerciseIdempotency(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"Claim": func(t *testing.T) {
			e := newEnv(t, open)
			zone := time.FixedZone("CEST", 2*60*60)
			rec := e.idemRecord("acme", "key-1", "POST /v1/webhooks {a}", "A")
			// Given in another zone and below the millisecond, with an answer
			// a claim does not keep: read back in UTC, to the millisecond, with
			// no answer.
			rec.CreatedAt = e.now.Add(999 * time.Microsecond).In(zone)
			rec.LockedUntil = e.now.Add(time.Minute + 999*time.Microsecond).In(zone)
			rec.ExpiresAt = e.now.Add(24*time.Hour + 999*time.Microsecond).In(zone)
			rec.Status, rec.Header, rec.Body = 201, []byte(`{"X":["y"]}`), []byte("not yet")
			e.idemClaim(rec, e.now)
			want := *e.idemRecord("acme", "key-1", "POST /v1/webhooks {a}", "A")

			// The same request again, and another with the key, while the
			// first runs: both find it running, unchanged.
			for _, hash := range []string{"POST /v1/webhooks {a}", "POST /v1/webhooks {b}"} {
				again := e.idemRecord("acme", "key-1", hash, "B")
				compareIdem(t, "IdempotencyBegin of a running key ("+hash+")", e.idemBegin(again, e.now.Add(time.Second)), &want)
			}
			compareIdem(t, "the record after refused Begins", e.idemStored("acme", "key-1"), &want)
		},
		"FinishReplay": func(t *testing.T) {
			e := newEnv(t, open)
			rec := e.idemRecord("acme", "key-1", "POST /v1/api-keys", "A")
			e.idemClaim(rec, e.now)
			answer := *rec
			answer.Status, answer.Header = 201, []byte(`{"Content-Type":["application/json"]}`)
			answer.Body = []byte(`{"key":"hk_live_shown-once"}`)
			answer.ExpiresAt = e.now.Add(25 * time.Hour)
			answer.LockedUntil = e.now.Add(time.Hour) // not Finish's to change
			if err := e.s.IdempotencyFinish(e.ctx, &answer); err != nil {
				t.Fatalf("IdempotencyFinish: %v", err)
			}
			want := answer
			want.LockedUntil = rec.LockedUntil

			// A finished record is replayed to the same request and shown to
			// another, even once its claim would have run out, until it expires.
			for _, try := range []struct {
				hash string
				at   time.Time
			}{
				{"POST /v1/api-keys", e.now.Add(time.Second)},
				{"POST /v1/api-keys", e.now.Add(2 * time.Hour)},
				{"POST /v1/webhooks", e.now.Add(2 * time.Hour)},
				{"POST /v1/api-keys", want.ExpiresAt.Add(-time.Millisecond)},
			} {
				got := e.idemBegin(e.idemRecord("acme", "key-1", try.hash, "B"), try.at)
				compareIdem(t, fmt.Sprintf("IdempotencyBegin of a finished key (%s, at %s)", try.hash, try.at.Sub(e.now)), got, &want)
			}

			// An empty answer reads back empty.
			bare := e.idemRecord("acme", "key-2", "POST /v1/events", "A")
			e.idemClaim(bare, e.now)
			bare.Status = 204
			if err := e.s.IdempotencyFinish(e.ctx, bare); err != nil {
				t.Fatalf("IdempotencyFinish with no header and no body: %v", err)
			}
			compareIdem(t, "a record finished with no header and no body", e.idemStored("acme", "key-2"), bare)

			// Status 0 is no answer.
			running := e.idemRecord("acme", "key-3", "POST /v1/events", "A")
			e.idemClaim(running, e.now)
			zero := *running
			zero.Body = []byte("no status")
			var ve *hookline.ValidationError
			if err := e.s.IdempotencyFinish(e.ctx, &zero); !errors.As(err, &ve) {
				t.Errorf("IdempotencyFinish with Status 0: got %v, want a *hookline.ValidationError", err)
			}
			compareIdem(t, "the record after a Finish with Status 0", e.idemStored("acme", "key-3"), running)
		},
		"Scopes": func(t *testing.T) {
			e := newEnv(t, open)
			for _, scope := range []string{"acme", "", "globex"} {
				e.idemClaim(e.idemRecord(scope, "key-1", "POST /v1/webhooks", "token "+scope), e.now)
			}
			e.idemClaim(e.idemRecord("acme", "key-2", "POST /v1/webhooks", "token acme 2"), e.now)
			for _, scope := range []string{"acme", "", "globex"} {
				got := e.idemStored(scope, "key-1")
				compareIdem(t, fmt.Sprintf("the record of scope %q", scope), got, e.idemRecord(scope, "key-1", "POST /v1/webhooks", "token "+scope))
			}
		},
		"ExpiredReplaced": func(t *testing.T) {
			e := newEnv(t, open)
			expires := e.now.Add(time.Hour)
			finished := e.idemRecord("acme", "done", "POST /v1/webhooks {a}", "A")
			finished.ExpiresAt = expires
			e.idemClaim(finished, e.now)
			answer := *finished
			answer.Status, answer.Body = 201, []byte("first answer")
			if err := e.s.IdempotencyFinish(e.ctx, &answer); err != nil {
				t.Fatalf("IdempotencyFinish: %v", err)
			}
			running := e.idemRecord("acme", "running", "POST /v1/webhooks {a}", "A")
			running.LockedUntil, running.ExpiresAt = expires.Add(time.Hour), expires // a claim outliving its record
			e.idemClaim(running, e.now)

			for _, key := range []string{"done", "running"} {
				// A millisecond before it expires, the record stands; at its
				// expiry, any request takes the key.
				before := e.idemBegin(e.idemRecord("acme", key, "POST /v1/webhooks {b}", "B"), expires.Add(-time.Millisecond))
				if before == nil || before.Token != "A" {
					t.Errorf("IdempotencyBegin of %s a millisecond before it expires: got %+v, want the record of token A", key, before)
				}
				next := e.idemRecord("acme", key, "POST /v1/webhooks {b}", "B")
				next.CreatedAt = expires
				next.LockedUntil, next.ExpiresAt = expires.Add(time.Minute), expires.Add(24*time.Hour)
				e.idemClaim(next, expires)
				compareIdem(t, "the record that replaced the expired "+key, e.idemStored("acme", key), next)
				if err := e.s.IdempotencyFinish(e.ctx, &store.IdempotencyRecord{Scope: "acme", Key: key, Token: "A", Status: 200}); !isNotFound(err) {
					t.Errorf("IdempotencyFinish of the expired claim of %s: got %v, want ErrNotFound", key, err)
				}
				compareIdem(t, "the record after the expired claim's Finish", e.idemStored("acme", key), next)
			}
		},
		"TakeOver": func(t *testing.T) {
			e := newEnv(t, open)
			const hash = "POST /v1/webhooks {a}"
			first := e.idemRecord("acme", "key-1", hash, "A")
			e.idemClaim(first, e.now)
			lockEnd := first.LockedUntil

			// While the claim holds, nobody takes it; once it ran out, the same
			// request does, and never another one.
			for _, try := range []struct {
				what string
				hash string
				at   time.Time
			}{
				{"the same request before the claim ran out", hash, lockEnd.Add(-time.Millisecond)},
				{"another request once the claim ran out", "POST /v1/webhooks {b}", lockEnd},
				{"another request long after", "POST /v1/webhooks {b}", lockEnd.Add(time.Hour)},
			} {
				got := e.idemBegin(e.idemRecord("acme", "key-1", try.hash, "B"), try.at)
				compareIdem(t, "IdempotencyBegin of "+try.what, got, first)
			}
			second := e.idemRecord("acme", "key-1", hash, "B")
			second.CreatedAt, second.LockedUntil = lockEnd, lockEnd.Add(time.Minute)
			e.idemClaim(second, lockEnd)
			compareIdem(t, "the record taken over", e.idemStored("acme", "key-1"), second)

			// The dead runner's answer comes too late: refused, changing nothing.
			late := *first
			late.Status, late.Body = 201, []byte("late answer")
			if err := e.s.IdempotencyFinish(e.ctx, &late); !isNotFound(err) {
				t.Errorf("IdempotencyFinish with the taken-over token: got %v, want ErrNotFound", err)
			}
			if err := e.s.IdempotencyRelease(e.ctx, "acme", "key-1", "A"); err != nil {
				t.Errorf("IdempotencyRelease with the taken-over token: got %v, want nil", err)
			}
			compareIdem(t, "the record after the stale Finish and Release", e.idemStored("acme", "key-1"), second)

			answer := *second
			answer.Status, answer.Body = 201, []byte("answer of B")
			if err := e.s.IdempotencyFinish(e.ctx, &answer); err != nil {
				t.Fatalf("IdempotencyFinish with the new token: %v", err)
			}
			compareIdem(t, "the record finished by its new runner", e.idemStored("acme", "key-1"), &answer)
		},
		"FinishStale": func(t *testing.T) {
			e := newEnv(t, open)
			rec := e.idemRecord("acme", "key-1", "POST /v1/webhooks", "A")
			e.idemClaim(rec, e.now)
			answer := *rec
			answer.Status, answer.Header, answer.Body = 201, []byte(`{"A":["1"]}`), []byte("first answer")
			for _, stale := range []struct {
				what       string
				scope, key string
				token      string
			}{
				{"another token", "acme", "key-1", "B"},
				{"another scope", "globex", "key-1", "A"},
				{"an unknown key", "acme", "key-2", "A"},
			} {
				try := answer
				try.Scope, try.Key, try.Token = stale.scope, stale.key, stale.token
				if err := e.s.IdempotencyFinish(e.ctx, &try); !isNotFound(err) {
					t.Errorf("IdempotencyFinish with %s: got %v, want ErrNotFound", stale.what, err)
				}
			}
			compareIdem(t, "the record after stale Finishes", e.idemStored("acme", "key-1"), rec)
			if got := e.idemStored("acme", "key-2"); got != nil {
				t.Errorf("the unknown key after a Finish: got %+v, want none", got)
			}

			// Finished once, a record takes no second answer, not even from
			// its own runner.
			if err := e.s.IdempotencyFinish(e.ctx, &answer); err != nil {
				t.Fatalf("IdempotencyFinish: %v", err)
			}
			again := answer
			again.Status, again.Body = 500, []byte("second answer")
			if err := e.s.IdempotencyFinish(e.ctx, &again); !isNotFound(err) {
				t.Errorf("second IdempotencyFinish: got %v, want ErrNotFound", err)
			}
			compareIdem(t, "the record after a second Finish", e.idemStored("acme", "key-1"), &answer)
		},
		"Release": func(t *testing.T) {
			e := newEnv(t, open)
			rec := e.idemRecord("acme", "key-1", "POST /v1/webhooks", "A")
			e.idemClaim(rec, e.now)
			for _, wrong := range []struct{ scope, key, token string }{
				{"acme", "key-1", "B"}, {"globex", "key-1", "A"}, {"acme", "key-2", "A"},
			} {
				if err := e.s.IdempotencyRelease(e.ctx, wrong.scope, wrong.key, wrong.token); err != nil {
					t.Errorf("IdempotencyRelease(%q, %q, %q): got %v, want nil", wrong.scope, wrong.key, wrong.token, err)
				}
			}
			compareIdem(t, "the record after Releases of others", e.idemStored("acme", "key-1"), rec)
			if err := e.s.IdempotencyRelease(e.ctx, "acme", "key-1", "A"); err != nil {
				t.Fatalf("IdempotencyRelease: %v", err)
			}
			if got := e.idemStored("acme", "key-1"); got != nil {
				t.Errorf("the record after its Release: got %+v, want none", got)
			}
			// Once free, the key is anybody's, another request's included.
			e.idemClaim(e.idemRecord("acme", "key-1", "POST /v1/webhooks {other}", "C"), e.now.Add(time.Second))

			// A finished record is not released, even with its token.
			done := e.idemRecord("acme", "key-3", "POST /v1/webhooks", "A")
			e.idemClaim(done, e.now)
			done.Status, done.Body = 201, []byte("answer")
			if err := e.s.IdempotencyFinish(e.ctx, done); err != nil {
				t.Fatalf("IdempotencyFinish: %v", err)
			}
			if err := e.s.IdempotencyRelease(e.ctx, "acme", "key-3", "A"); err != nil {
				t.Errorf("IdempotencyRelease of a finished record: got %v, want nil", err)
			}
			compareIdem(t, "a finished record after its Release", e.idemStored("acme", "key-3"), done)
		},
		"Purge": func(t *testing.T) {
			e := newEnv(t, open)
			// Expired at e.now: four (one of them still running, one expiring
			// at e.now exactly); not expired: two.
			expiries := map[string]time.Duration{
				"old": -2 * time.Hour, "older": -3 * time.Hour, "running": -time.Hour, "now": 0,
				"soon": time.Millisecond, "later": time.Hour,
			}
			for key, d := range expiries {
				rec := e.idemRecord("acme", key, "POST /v1/webhooks", "A")
				rec.CreatedAt, rec.LockedUntil = e.now.Add(-4*time.Hour), e.now.Add(-4*time.Hour+time.Minute)
				rec.ExpiresAt = e.now.Add(d)
				e.idemClaim(rec, rec.CreatedAt)
				if key != "running" {
					rec.Status, rec.Body = 200, []byte("answer "+key)
					if err := e.s.IdempotencyFinish(e.ctx, rec); err != nil {
						t.Fatalf("IdempotencyFinish %s: %v", key, err)
					}
				}
			}
			for i, want := range []int64{3, 1, 0} {
				n, err := e.s.IdempotencyPurge(e.ctx, e.now, 3)
				if err != nil || n != want {
					t.Fatalf("IdempotencyPurge #%d with limit 3: got %d, %v; want %d, nil", i+1, n, err, want)
				}
			}
			for key, d := range expiries {
				got := e.idemStored("acme", key)
				if expired := d <= 0; expired != (got == nil) {
					t.Errorf("record %q (expiring at now%+v) after the purge: got %+v, want it kept: %v", key, d, got, !expired)
				}
			}
		},
		"ConcurrentBegin": func(t *testing.T) {
			e := newEnv(t, open)
			const hash = "POST /v1/webhooks"
			// A lock that ran out, and a record that expired.
			dead := e.idemRecord("acme", "dead", hash, "old")
			dead.CreatedAt, dead.LockedUntil = e.now.Add(-time.Hour), e.now.Add(-time.Minute)
			e.idemClaim(dead, dead.CreatedAt)
			expired := e.idemRecord("acme", "expired", "POST /v1/other", "old")
			expired.CreatedAt, expired.ExpiresAt = e.now.Add(-2*time.Hour), e.now.Add(-time.Hour)
			e.idemClaim(expired, expired.CreatedAt)
			expired.Status = 200
			if err := e.s.IdempotencyFinish(e.ctx, expired); err != nil {
				t.Fatalf("IdempotencyFinish: %v", err)
			}

			for _, key := range []string{"new", "dead", "expired"} {
				const n = 8
				var (
					wg      sync.WaitGroup
					mu      sync.Mutex
					winners []string
					seen    = map[string]int{}
				)
				start := make(chan struct{})
				for i := range n {
					wg.Go(func() {
						token := fmt.Sprintf("T%d", i)
						<-start
						got, err := e.s.IdempotencyBegin(e.ctx, e.idemRecord("acme", key, hash, token), e.now)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err != nil:
							t.Errorf("IdempotencyBegin %s by %s: %v", key, token, err)
						case got == nil:
							winners = append(winners, token)
						default:
							seen[got.Token]++
						}
					})
				}
				close(start)
				wg.Wait()
				if len(winners) != 1 {
					t.Fatalf("concurrent Begins of %s: %d claimed it (%v), want exactly 1", key, len(winners), winners)
				}
				// The others all found the winner's claim.
				if seen[winners[0]] != n-1 {
					t.Errorf("concurrent Begins of %s: the losers found tokens %v, want %s %d times", key, seen, winners[0], n-1)
				}
				compareIdem(t, "the record of "+key+" after concurrent Begins", e.idemStored("acme", key), e.idemRecord("acme", key, hash, winners[0]))
			}
		},
	})
}

// idemRecord returns a claim of key in scope by token, made at e.now for the
// request hash names: held for a minute, forgotten after a day.
func (e *env) idemRecord(scope, key, request, token string) *store.IdempotencyRecord {
	return &store.IdempotencyRecord{
		Scope: scope, Key: key, RequestHash: keyHash(request), Token: token,
		CreatedAt: e.now, LockedUntil: e.now.Add(time.Minute), ExpiresAt: e.now.Add(24 * time.Hour),
	}
}

// idemBegin calls IdempotencyBegin at now.
func (e *env) idemBegin(rec *store.IdempotencyRecord, now time.Time) *store.IdempotencyRecord {
	e.t.Helper()
	got, err := e.s.IdempotencyBegin(e.ctx, rec, now)
	if err != nil {
		e.t.Fatalf("IdempotencyBegin %q/%q: %v", rec.Scope, rec.Key, err)
	}
	return got
}

// idemClaim begins rec at now and fails unless it claims the key.
func (e *env) idemClaim(rec *store.IdempotencyRecord, now time.Time) {
	e.t.Helper()
	if got := e.idemBegin(rec, now); got != nil {
		e.t.Fatalf("IdempotencyBegin %q/%q by %s: got the record of %s (status %d), want the claim",
			rec.Scope, rec.Key, rec.Token, got.Token, got.Status)
	}
}

// idemStored returns the record of (scope, key) without changing it, or nil if
// there is none: a Begin that can replace no record (a year before now, with
// a request hash of its own) returns it, and a claim it makes when there is
// none is released at once.
func (e *env) idemStored(scope, key string) *store.IdempotencyRecord {
	e.t.Helper()
	at := e.now.AddDate(-1, 0, 0)
	probe := &store.IdempotencyRecord{Scope: scope, Key: key, RequestHash: keyHash("probe"), Token: "probe",
		CreatedAt: at, LockedUntil: at.Add(time.Minute), ExpiresAt: at.Add(time.Hour)}
	got := e.idemBegin(probe, at)
	if got == nil {
		if err := e.s.IdempotencyRelease(e.ctx, scope, key, "probe"); err != nil {
			e.t.Fatalf("IdempotencyRelease of the probe: %v", err)
		}
	}
	return got
}

// compareIdem fails unless got is want, field by field; an empty header or
// body equals a nil one.
func compareIdem(t *testing.T, what string, got, want *store.IdempotencyRecord) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got no record, want %+v", what, want)
		return
	}
	if got.Scope != want.Scope || got.Key != want.Key || got.Token != want.Token || got.Status != want.Status ||
		!bytes.Equal(got.RequestHash, want.RequestHash) || !bytes.Equal(got.Header, want.Header) || !bytes.Equal(got.Body, want.Body) {
		t.Errorf("%s: got scope %q, key %q, token %q, status %d, hash %x, header %q, body %q;\nwant scope %q, key %q, token %q, status %d, hash %x, header %q, body %q",
			what, got.Scope, got.Key, got.Token, got.Status, got.RequestHash, got.Header, got.Body,
			want.Scope, want.Key, want.Token, want.Status, want.RequestHash, want.Header, want.Body)
	}
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"LockedUntil", got.LockedUntil, want.LockedUntil},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
	} {
		if !c.got.Equal(c.want) || c.got.Location() != time.UTC {
			t.Errorf("%s: %s got %s, want %s in UTC", what, c.name, c.got.Format(time.RFC3339Nano), c.want.Format(time.RFC3339Nano))
		}
	}
}
