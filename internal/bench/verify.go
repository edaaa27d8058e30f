package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// A --verify run measures POST /v1/keys/verify: the bench creates a key space
// and its keys, then verifies them under the load's schedule. No webhook,
// event or receiver is involved.

// verifyPermissions is the catalogue of the run's key space. Key i holds two
// of them, verifications ask one it holds.
var verifyPermissions = []string{"items:read", "items:write", "orders:read", "orders:write"}

// verifyTenants is how many tenants the keys are spread over.
const verifyTenants = 10

// verifyRateLimit and verifyRateWindow are every key's rate limit (the key
// space's default): high enough never to refuse, so that the limiter's work
// is measured without its refusals.
const (
	verifyRateLimit  = 1_000_000_000
	verifyRateWindow = "1h"
)

// keyCreators is how many requests create the keys at once.
const keyCreators = 8

// benchKeyspace names the run's key space and gives its keys' prefix: "hb"
// and the run id (8 hex digits), which a key space prefix allows
// (^[a-z][a-z0-9]{1,15}$).
func benchKeyspace(runID string) (name, prefix string) {
	return "hlbench-" + runID, "hb" + runID
}

// verifyTenant is the tenant of key i.
func verifyTenant(runID string, i int) string {
	return "bench-" + runID + "-" + strconv.Itoa(i%verifyTenants)
}

// keyPermissions are the permissions key i holds.
func keyPermissions(i int) []string {
	n := len(verifyPermissions)
	return []string{verifyPermissions[i%n], verifyPermissions[(i+1)%n]}
}

// verifyHint says what a refusal of the key endpoints means for the bench.
func verifyHint(a answer) string {
	switch a.status {
	case http.StatusUnauthorized:
		return "pass an API key with the admin scope (it creates a key space) in --api-key or HOOKLINE_API_KEY"
	case http.StatusForbidden:
		return "--verify needs an admin API key with no tenant restriction: it creates a key space, issues keys and verifies them (keys:verify)"
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return "this server has no key spaces (POST /v1/keyspaces, POST /v1/keys/verify): --verify needs a Hookline server that has them"
	}
	return ""
}

// createKeyspace creates the run's key space.
func createKeyspace(ctx context.Context, c *client, base, name, prefix string) error {
	body, err := json.Marshal(map[string]any{
		"name": name, "prefix": prefix, "permissions": verifyPermissions, "rate_limit": map[string]any{"limit": verifyRateLimit, "window": verifyRateWindow},
		"description": "hookline bench " + name,
	})
	if err != nil {
		return err
	}
	a, err := c.do(ctx, http.MethodPost, base+"/v1/keyspaces", body)
	if err != nil {
		return fmt.Errorf("creating the key space (POST /v1/keyspaces): %w", err)
	}
	if !created(a.status) {
		return setupError("creating the key space (POST /v1/keyspaces)", a, verifyHint(a))
	}
	return nil
}

// createKeys issues n keys of key space name, keyCreators at a time, and
// returns them: key i for tenant verifyTenant(runID, i), holding
// keyPermissions(i).
func createKeys(ctx context.Context, c *client, base, name, runID string, n int) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keys := make([]string, n)
	path := "/v1/keyspaces/" + name + "/keys"
	var (
		next     int
		mu       sync.Mutex
		failOnce sync.Once
		failed   error
		wg       sync.WaitGroup
	)
	for range min(keyCreators, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				key, err := createKey(ctx, c, base, path, runID, i, n)
				if err != nil {
					failOnce.Do(func() { failed = err })
					cancel()
					return
				}
				keys[i] = key
			}
		})
	}
	wg.Wait()
	if failed == nil && ctx.Err() != nil {
		failed = fmt.Errorf("creating the keys: %w", context.Cause(ctx))
	}
	return keys, failed
}

func createKey(ctx context.Context, c *client, base, path, runID string, i, n int) (string, error) {
	step := fmt.Sprintf("creating key %d of %d (POST %s)", i+1, n, path)
	body, err := json.Marshal(map[string]any{
		"tenant": verifyTenant(runID, i), "name": "hlbench key " + strconv.Itoa(i), "permissions": keyPermissions(i),
	})
	if err != nil {
		return "", err
	}
	a, err := c.do(ctx, http.MethodPost, base+path, body)
	if err != nil {
		return "", fmt.Errorf("%s: %w", step, err)
	}
	if !created(a.status) {
		return "", setupError(step, a, verifyHint(a))
	}
	var out struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil || out.Key == "" {
		return "", fmt.Errorf("%s: no key in the answer %s", step, truncate(a.String(), 300))
	}
	return out.Key, nil
}

// deleteKeyspace removes the run's key space, and so its keys, from a
// database that outlives the run.
func deleteKeyspace(ctx context.Context, c *client, base, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	a, err := c.do(ctx, http.MethodDelete, base+"/v1/keyspaces/"+name, nil)
	if err != nil {
		return err
	}
	if a.status != http.StatusNoContent && a.status != http.StatusOK {
		return fmt.Errorf("DELETE /v1/keyspaces/%s: %s", name, truncate(a.String(), 300))
	}
	return nil
}

// verifier is the verification load: verifications 0..n-1, verification seq
// of key seq mod keys asking one permission the key holds.
type verifier struct {
	load
	client *client
	bodies [][]byte // verification seq sends bodies[seq % len(bodies)]

	// answeredAt[seq] is when verification seq was answered 200 VALID; 0
	// otherwise. Each is written by the one goroutine that sends it.
	answeredAt []int64
}

// newVerifier prepares the requests: with k keys, verification seq verifies
// key seq mod k and asks the first of its permissions in the first round of
// the keys, the second in the next, and so on.
func newVerifier(c clock, api *client, bases []string, keyspace string, keys []string, o Options) *verifier {
	bodies := make([][]byte, 0, 2*len(keys))
	for round := range 2 {
		for i, key := range keys {
			b, _ := json.Marshal(map[string]any{"key": key, "keyspace": keyspace, "permissions": []string{keyPermissions(i)[round]}})
			bodies = append(bodies, b)
		}
	}
	return &verifier{load: newLoad(c, bases, o.Events, 1, o.Rate), client: api, bodies: bodies, answeredAt: make([]int64, o.Events)}
}

func (v *verifier) run(ctx context.Context, concurrency int) {
	v.load.run(ctx, concurrency, v.verify)
}

// verify sends verification lo (the load's batch is 1), which is due, once.
// An answer other than 200 VALID is an error; one that says the setup is
// wrong (a key refused, the endpoint missing or forbidden) stops the run. A
// verification is not retried: its latency would include the retry.
func (v *verifier) verify(ctx context.Context, lo, _ int) error {
	seq := lo
	a, err := v.client.do(ctx, http.MethodPost, v.base()+"/v1/keys/verify", v.bodies[seq%len(v.bodies)])
	at := v.clock.now()
	switch {
	case err != nil:
		if ctx.Err() == nil { // not the run's end cutting a request short
			v.giveUp(1, err.Error())
		}
		return nil
	case retryable(a.status):
		v.giveUp(1, truncate(a.String(), 300))
		return nil
	case a.status != http.StatusOK:
		v.giveUp(1, truncate(a.String(), 300))
		return setupError("verifying a key (POST /v1/keys/verify)", a, verifyHint(a))
	}
	var out struct {
		Valid bool   `json:"valid"`
		Code  string `json:"code"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil || out.Code != "VALID" || !out.Valid {
		v.giveUp(1, truncate(a.String(), 300))
		return errors.New("verifying a key (POST /v1/keys/verify): want 200 with code VALID for a key the run issued, with a permission it holds; the server answered " +
			truncate(a.String(), 2000))
	}
	v.answeredAt[seq] = at
	v.nAccepted.Add(1)
	return nil
}

// runVerify is Run for --verify: the key space and its keys, then the
// measured verifications.
func runVerify(ctx context.Context, o Options) (rep *Report, err error) {
	runCtx, cancel := context.WithTimeout(ctx, o.MaxTime)
	defer cancel()

	c := newClock()
	runID := newRunID()
	rep = newReport(runID, o)
	api := newClient(o.APIKey, o.Concurrency)
	srv, err := startServers(runCtx, o, api)
	if srv != nil {
		defer func() { err = srv.stop(nil, rep, err) }()
	}
	if err != nil {
		return nil, err
	}
	bases, pids := srv.bases, srv.pids
	rep.Target.Local, rep.Target.URL, rep.Target.Nodes, rep.Target.PIDs = srv.dep != nil, bases[0], bases, pids

	name, prefix := benchKeyspace(runID)
	setup := time.Now()
	if err := createKeyspace(runCtx, api, bases[0], name, prefix); err != nil {
		return nil, err
	}
	if o.Target != "" || o.DB != "" { // the database outlives the run: remove the key space and its keys
		defer func() {
			cerr := deleteKeyspace(context.Background(), api, bases[0], name)
			switch {
			case cerr == nil:
			case rep == nil: // the run failed: say both
				err = errors.Join(err, fmt.Errorf("removing the run's key space from the server: %w", cerr))
			default:
				rep.Warnings = append(rep.Warnings, "removing the run's key space from the server: "+cerr.Error())
			}
		}()
	}
	keys, err := createKeys(runCtx, api, bases[0], name, runID, o.Keys)
	if err != nil {
		return nil, err
	}
	setupTime := time.Since(setup)

	// The measured phase: the verifications.
	scrapeCtx := context.WithoutCancel(ctx)
	scrape := func(ctx context.Context) (Counters, error) { return scrapeCounters(ctx, api, bases) }
	m := startMeasuring(scrapeCtx, pids, o.DBPIDs, scrape)
	v := newVerifier(c, api, bases, name, keys, o)
	stopProgress := reportProgress(o.Progress, "verified", o.Events, &v.load, nil, nil)
	v.run(runCtx, o.Concurrency)
	stopProgress()
	m.finish(scrapeCtx, rep, 0)
	switch {
	case v.fatal != nil:
		return nil, v.fatal
	case ctx.Err() != nil:
		return nil, fmt.Errorf("interrupted: %w", context.Cause(ctx))
	case runCtx.Err() != nil:
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("--max-time %s ended the run before it was complete", o.MaxTime))
	}
	rep.Verify = verifyResult(v, o, name, setupTime, rep.Server)
	if r := rep.Verify; r.Errors > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d of %d verifications were not answered 200 VALID (last error: %s)", r.Errors, r.Verifications, r.LastError))
	}
	return rep, nil
}

// verifyResult sums up a verifier that has stopped; s is what the servers
// (and the database) used over the same phase.
func verifyResult(v *verifier, o Options, keyspace string, setup time.Duration, s ServerResult) *VerifyResult {
	span := nanos(v.end.Load() - v.start)
	r := &VerifyResult{
		Keyspace: keyspace, Keys: o.Keys, Tenants: min(o.Keys, verifyTenants), SetupSeconds: round3(setup.Seconds()),
		Verifications: int64(o.Events), Valid: v.nAccepted.Load(), Errors: v.nErrors.Load(), LastError: v.lastError,
		Seconds: round3(span.Seconds()),
	}
	r.Rate = rate(r.Valid, span)
	lat := make([]time.Duration, 0, r.Valid)
	for seq, at := range v.answeredAt {
		if at != 0 && v.sentAt[seq] != 0 {
			lat = append(lat, nanos(max(at-v.sentAt[seq], 0)))
		}
	}
	r.Latency = summarise(lat)
	perVerification := func(cpu float64) float64 {
		if r.Valid > 0 {
			return round4(cpu * 1000 / float64(r.Valid))
		}
		return 0
	}
	r.CPUMSPerVerification = perVerification(s.CPUSeconds)
	if db := s.Database; db != nil {
		dbMS := perVerification(db.CPUSeconds)
		r.DatabaseCPUMSPerVerification = &dbMS
		if s.ServerAndDatabaseCPUMSPerDelivery != nil { // the servers' CPU is known too
			both := perVerification(s.CPUSeconds + db.CPUSeconds)
			r.ServerAndDatabaseCPUMSPerVerification = &both
		}
	}
	return r
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
