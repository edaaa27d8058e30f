// Package store defines the one interface every storage driver implements. Method
// names start with the noun they act on and take a params struct; each comment
// says what is returned when nothing matches and what holds under concurrency.
// SQL lives in the drivers (store/sqlite, later store/postgres), written once per
// dialect; store/storetest is the behavioural suite every driver must pass.
package store

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/keyspace"
)

// Re-exported sentinels, so callers of the store need not import the domain to
// test errors.
var (
	ErrNotFound     = hookline.ErrNotFound
	ErrConflict     = hookline.ErrConflict
	ErrLimitReached = hookline.ErrLimitReached
	ErrUnavailable  = hookline.ErrUnavailable
)

// Store is Hookline's storage.
type Store interface {
	// Migrate brings the schema up to date. It is safe to run on every start and
	// from several processes at once.
	Migrate(ctx context.Context) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the driver's connections.
	Close() error
	// SingleNode reports whether the driver admits only one server process (SQLite),
	// so every lease found at start-up belonged to a previous, dead process.
	SingleNode() bool

	// WebhookCreate stores a new webhook. It returns ErrLimitReached, storing
	// nothing, when the tenant already has MaxPerTenant webhooks; the count and
	// the insert are atomic.
	WebhookCreate(ctx context.Context, p WebhookCreateParams) error
	// WebhookGet returns one webhook with its secret in clear, or ErrNotFound.
	WebhookGet(ctx context.Context, id string) (*hookline.Webhook, error)
	// WebhookList returns webhooks newest first, a page at a time
	// (ListParams, keyed by id); an empty page when none is left.
	WebhookList(ctx context.Context, p WebhookListParams) ([]hookline.Webhook, error)
	// WebhookListActive returns every active webhook of a tenant, for fan-out.
	WebhookListActive(ctx context.Context, tenant string) ([]hookline.Webhook, error)
	// TenantList lists the tenants that have webhooks, by name, a page at a
	// time (ListParams, keyed by tenant: Cursor the last tenant of the page
	// before, Before the first of the page after).
	TenantList(ctx context.Context, p ListParams) ([]TenantSummary, error)
	// WebhookUpdate replaces the user-editable fields (URL, description, events,
	// secret and previous secret with its expiry, active, profile, headers,
	// metadata, ordered). Re-activating a webhook
	// clears its disabled reason and failure streak. ErrNotFound if it is gone.
	WebhookUpdate(ctx context.Context, w *hookline.Webhook) error
	// WebhookDelete removes a webhook with its deliveries. ErrNotFound if absent.
	WebhookDelete(ctx context.Context, id string) error
	// WebhookCircuitOpen records that a webhook's endpoint keeps failing: its
	// circuit is open since now (or since it first opened, if it is already),
	// and its next probe is due at probeAt. ErrNotFound if absent.
	WebhookCircuitOpen(ctx context.Context, id string, now, probeAt time.Time) error
	// WebhookCircuitClose records that the endpoint answers again.
	WebhookCircuitClose(ctx context.Context, id string) error
	// WebhookProbesDue returns the active webhooks whose circuit is open and
	// whose probe is due at p.Now, and moves each one's next probe to
	// p.Now + (the time its circuit has been open, within p.MinWait and
	// p.MaxWait), in one statement: of several nodes asking, one gets each.
	WebhookProbesDue(ctx context.Context, p WebhookProbesParams) ([]string, error)

	// EventInsert stores events and their deliveries in one durable commit. An
	// event whose (tenant, idempotency key) already exists is not stored again: its
	// result holds the stored event and deliveries and Created is false. Concurrent
	// inserts of the same key create it once.
	EventInsert(ctx context.Context, p []EventInsertParams) ([]EventInsertResult, error)
	// EventGet returns one event, or ErrNotFound.
	EventGet(ctx context.Context, id string) (*hookline.Event, error)
	// EventList returns events newest first, a page at a time (ListParams,
	// keyed by id); an empty page when none is left.
	EventList(ctx context.Context, p EventListParams) ([]hookline.Event, error)

	// DeliveryClaim reserves up to Limit due pending deliveries for the caller until
	// LeaseUntil and returns them with their events. A delivery is due when its
	// next attempt time has passed, which includes an expired lease. Of an ordered
	// webhook only the oldest pending delivery is ever due, and not while another
	// of its deliveries holds an unexpired lease (a manual retry can make an older
	// one pending again). Two concurrent claims never return the same delivery.
	DeliveryClaim(ctx context.Context, p DeliveryClaimParams) ([]ClaimedDelivery, error)
	// DeliveryComplete records attempts and the new state of their deliveries, each
	// in the same commit as its attempt. A completion whose lease token no longer
	// matches (its lease expired and another claim took the delivery) is stale:
	// nothing of it is written, not even its attempt (the other claim's attempt is
	// the one that counts), and Applied is false. Operational events (Ops) are
	// stored, with their deliveries, in the same commit and only when it applies.
	DeliveryComplete(ctx context.Context, p []DeliveryCompleteParams) ([]DeliveryCompleteResult, error)
	// DeliveryRelease gives back leased deliveries not yet attempted, making them
	// due now. Deliveries whose token does not match are left alone.
	DeliveryRelease(ctx context.Context, p []DeliveryLease) error
	// DeliveryRenew moves the lease end of each delivery to its Until if its
	// token still holds it — no other claim took it, even if the lease ran out
	// meanwhile — and reports for each whether it did. The engine renews a lease
	// that ran short while its job waited. With Defer, the delivery is handed
	// back instead, with no attempt counted: due at Until, its token becomes
	// DeferredToken, which no claim holds, so DeliveryRecall can find it.
	DeliveryRenew(ctx context.Context, rs []DeliveryRenewal) ([]bool, error)
	// DeliveryRecall makes up to p.Limit of the webhook's deferred deliveries
	// (DeliveryRenewal.Defer) due at p.Now, earliest due first, and says how
	// many it did; 0 when none is deferred. Deliveries another call recalls at
	// the same time are skipped, not waited for.
	DeliveryRecall(ctx context.Context, p DeliveryRecallParams) (int, error)
	// DeliveryRecallEach makes up to perWebhook of the deferred deliveries of
	// each webhook whose circuit is closed due at now, earliest due first, and
	// says how many it did. A process calls it when it starts: a webhook with
	// nothing but deferred deliveries would otherwise make no attempt that
	// could recall them before their estimated time.
	DeliveryRecallEach(ctx context.Context, now time.Time, perWebhook int) (int, error)
	// DeliveryHold holds back part of a failing webhook's backlog (its circuit
	// is open): up to p.Limit of its pending unordered deliveries never
	// attempted, with an id after p.After, that no live lease holds and that
	// are not held already, are deferred (DeferredToken) until they expire,
	// created_at + p.Span, in one statement. It returns how many it held and the greatest id among
	// them, to pass as the next call's After; fewer than p.Limit means the end.
	DeliveryHold(ctx context.Context, p DeliveryHoldParams) (held int, last string, err error)
	// DeliveryReleaseAll makes every leased delivery due now (SingleNode
	// start-up); deferred ones keep their time.
	DeliveryReleaseAll(ctx context.Context, now time.Time) (int64, error)
	// DeliveryRetry makes a delivery pending and due at p.Now, whatever its status;
	// an attempt in flight keeps running but its result no longer applies. It
	// returns the updated delivery, or ErrNotFound.
	DeliveryRetry(ctx context.Context, p DeliveryRetryParams) (*hookline.Delivery, error)
	// DeliveryGet returns one delivery, or ErrNotFound.
	DeliveryGet(ctx context.Context, id string) (*hookline.Delivery, error)
	// DeliveryList returns deliveries newest first, a page at a time
	// (ListParams, keyed by id); an empty page when none is left.
	DeliveryList(ctx context.Context, p DeliveryListParams) ([]hookline.Delivery, error)
	// DeliveryCountPending counts pending deliveries (for metrics).
	DeliveryCountPending(ctx context.Context) (int64, error)
	// DeliveryCountRetrying counts the pending deliveries that have been
	// attempted already: the retry backlog.
	DeliveryCountRetrying(ctx context.Context) (int64, error)
	// DeliveryRecover makes the deliveries of p.WebhookID that ended with
	// p.Status (failed unless set) and were created in [p.Since, p.Until) (by
	// the time of their ids, as DeliveryListParams says) pending and due at
	// p.Now, as DeliveryRetry does to one, and says how many it did; with
	// p.DryRun it changes nothing and says how many it would. It works in
	// batches of RecoverBatch deliveries, each a transaction of its own, so
	// that a large recovery never holds the database's writer for long: a
	// delivery that changes between two batches is taken or left as it then
	// is. 0 when none matches; a *hookline.ValidationError for a missing
	// webhook, since or now, an empty window or another status.
	DeliveryRecover(ctx context.Context, p DeliveryRecoverParams) (int, error)
	// DeliveryStats counts the deliveries created in each bucket of
	// [p.Since, p.Until) (by the time of their ids, as DeliveryListParams
	// says), by their status now (cancelled counts as failed): always
	// p.Buckets buckets, oldest first, zero where nothing was created. With
	// p.Tenant, that tenant's only; with p.WebhookID, that webhook's only.
	// Stats reach back as far as Purge keeps rows, no further. A
	// *hookline.ValidationError for a bad window (StatsWindowOf).
	DeliveryStats(ctx context.Context, p DeliveryStatsParams) ([]DeliveryBucket, error)

	// AttemptStats counts the attempts made in each bucket of [p.Since,
	// p.Until) (by the time of their ids), with their latency: always
	// p.Buckets buckets, oldest first, zero where none was made. Webhook
	// tests count; attempts of webhooks since deleted do not, as their
	// deliveries are gone. With p.WebhookID, that webhook's only; with
	// p.Tenant, the tenant's webhooks'. Stats reach back as far as Purge
	// keeps rows. A *hookline.ValidationError for a bad window
	// (StatsWindowOf).
	AttemptStats(ctx context.Context, p AttemptStatsParams) ([]AttemptBucket, error)
	// WebhookHealth returns, for each webhook of ids (at most MaxHealthIDs)
	// that has made attempts, its last attempt and how many attempts made at
	// or after since (by the time of their ids) succeeded and failed. A
	// webhook with no attempt, or deleted, is absent from the map; so is any
	// id not in ids. More than MaxHealthIDs ids is a
	// *hookline.ValidationError; none, an empty map.
	WebhookHealth(ctx context.Context, ids []string, since time.Time) (map[string]WebhookHealth, error)

	// AttemptInsert records an attempt made outside a delivery (a webhook test).
	AttemptInsert(ctx context.Context, a *hookline.Attempt) error
	// AttemptList returns attempts newest first, filtered by webhook, delivery
	// or time, a page at a time (ListParams, keyed by id).
	AttemptList(ctx context.Context, p AttemptListParams) ([]hookline.Attempt, error)

	// ProfileCreate stores a profile created through the API; ErrConflict if the
	// name exists.
	ProfileCreate(ctx context.Context, p *hookline.Profile) error
	// ProfileGet returns one profile, or ErrNotFound.
	ProfileGet(ctx context.Context, name string) (*hookline.Profile, error)
	// ProfileList returns every stored profile by name.
	ProfileList(ctx context.Context) ([]hookline.Profile, error)
	// ProfileUpdate replaces a profile's definition; ErrNotFound.
	ProfileUpdate(ctx context.Context, p *hookline.Profile) error
	// ProfileDelete removes a profile; ErrNotFound, or ErrConflict while a webhook
	// uses it or a tenant has it as its default.
	ProfileDelete(ctx context.Context, name string) error

	// TenantDefaultsGet returns a tenant's defaults, or ErrNotFound when the
	// tenant has none set.
	TenantDefaultsGet(ctx context.Context, tenant string) (*hookline.TenantDefaults, error)
	// TenantDefaultsPut sets a tenant's defaults, replacing any; of two
	// concurrent calls the last to commit wins. It does not check that the
	// profile exists (file profiles are not stored): the caller does.
	TenantDefaultsPut(ctx context.Context, d *hookline.TenantDefaults) error
	// TenantDefaultsDelete clears a tenant's defaults; ErrNotFound when it had
	// none.
	TenantDefaultsDelete(ctx context.Context, tenant string) error

	// EventTypeCreate stores a new catalogue entry; ErrConflict if the name exists.
	EventTypeCreate(ctx context.Context, t *hookline.EventType) error
	// EventTypeGet returns one entry, or ErrNotFound.
	EventTypeGet(ctx context.Context, name string) (*hookline.EventType, error)
	// EventTypeList returns entries by name, a page at a time (ListParams,
	// keyed by name).
	EventTypeList(ctx context.Context, p ListParams) ([]hookline.EventType, error)
	// EventTypeUpdate replaces description, example and schema; ErrNotFound.
	EventTypeUpdate(ctx context.Context, t *hookline.EventType) error
	// EventTypeDelete removes an entry; ErrNotFound.
	EventTypeDelete(ctx context.Context, name string) error

	// KeyspaceCreate stores a key space made through the API; ErrConflict
	// (wrapped) if its name or its prefix is taken.
	KeyspaceCreate(ctx context.Context, ks *keyspace.Keyspace) error
	// KeyspaceGet returns one key space by name, or ErrNotFound.
	KeyspaceGet(ctx context.Context, name string) (*keyspace.Keyspace, error)
	// KeyspaceList returns every stored key space by name.
	KeyspaceList(ctx context.Context) ([]keyspace.Keyspace, error)
	// KeyspaceUpdate replaces a key space's description, catalogue and
	// defaults (not its name or prefix); ErrNotFound.
	KeyspaceUpdate(ctx context.Context, ks *keyspace.Keyspace) error
	// KeyspaceDelete removes a key space with all its keys; ErrNotFound.
	KeyspaceDelete(ctx context.Context, name string) error
	// KeyCreate stores a key of a key space (its hash only); ErrConflict if
	// the hash is taken. Read back, a key's Permissions is never nil, and its
	// Resources and Meta are nil when empty, however they were stored.
	//
	// stored says the key space is stored, not loaded from a file: it must
	// then exist (ErrNotFound if it was deleted meanwhile), and a
	// KeyspaceDelete running at the same time deletes the key too, so that
	// no key outlives its key space to come back with one of the same name.
	KeyCreate(ctx context.Context, k *keyspace.Key, stored bool) error
	// KeyGet returns a key by id, or ErrNotFound.
	KeyGet(ctx context.Context, id string) (*keyspace.Key, error)
	// KeyGetByHash returns the key whose hash matches, or ErrNotFound.
	KeyGetByHash(ctx context.Context, hash []byte) (*keyspace.Key, error)
	// KeyList returns a key space's keys newest first, a page at a time
	// (ListParams, keyed by id); with Tenant set, that tenant's only.
	KeyList(ctx context.Context, p KeyListParams) ([]keyspace.Key, error)
	// KeyRevoke marks a key revoked at p.At, unless it already is (its first
	// revocation stands), or, with Expire, moves its expiry to p.At if that
	// is sooner (a roll's grace); it returns the key as it now is, or
	// ErrNotFound.
	KeyRevoke(ctx context.Context, p KeyRevokeParams) (*keyspace.Key, error)
	// KeyTouch records when keys were last used: each key's LastUsedAt moves
	// to its time if that is later.
	KeyTouch(ctx context.Context, used map[string]time.Time) error

	// PortalSessionCreate stores a new portal session (package portal): the
	// hash of its login token, none yet of a cookie.
	PortalSessionCreate(ctx context.Context, s *hookline.PortalSession) error
	// PortalSessionLogin exchanges a login token for its session, once: the
	// session whose TokenHash is tokenHash, not yet logged in, not ended and
	// not expired at now, gets cookieHash and LoggedInAt = now, and is
	// returned. Any other case is ErrNotFound, and changes nothing; of two
	// concurrent logins with one token, one succeeds.
	PortalSessionLogin(ctx context.Context, tokenHash, cookieHash []byte, now time.Time) (*hookline.PortalSession, error)
	// PortalSessionByCookie returns the session whose CookieHash matches if it
	// is live at now (not ended, not expired); ErrNotFound otherwise.
	PortalSessionByCookie(ctx context.Context, cookieHash []byte, now time.Time) (*hookline.PortalSession, error)
	// PortalSessionGet returns a session by id, live or not; ErrNotFound.
	PortalSessionGet(ctx context.Context, id string) (*hookline.PortalSession, error)
	// PortalSessionEnd ends one session at now (EndedAt); ending it again
	// keeps the first time. ErrNotFound if there is no such session.
	PortalSessionEnd(ctx context.Context, id string, now time.Time) error
	// PortalSessionEndTenant ends every session of tenant not ended yet, at
	// now, and says how many it ended.
	PortalSessionEndTenant(ctx context.Context, tenant string, now time.Time) (int, error)

	// APIKeyCreate stores a key (its hash only).
	APIKeyCreate(ctx context.Context, k *hookline.APIKey) error
	// APIKeyGet returns the key with that id, or ErrNotFound.
	APIKeyGet(ctx context.Context, id string) (*hookline.APIKey, error)
	// APIKeyGetByHash returns the key whose hash matches, or ErrNotFound.
	APIKeyGetByHash(ctx context.Context, hash []byte) (*hookline.APIKey, error)
	// APIKeyList returns keys newest first, a page at a time (ListParams,
	// keyed by id); with Tenant set, that tenant's only.
	APIKeyList(ctx context.Context, p APIKeyListParams) ([]hookline.APIKey, error)
	// APIKeyDelete removes a key; ErrNotFound.
	APIKeyDelete(ctx context.Context, id string) error
	// APIKeyCount counts keys (bootstrap: a database with none gets an admin key).
	APIKeyCount(ctx context.Context) (int64, error)
	// APIKeyUpgradeHash replaces a key's hash with one of a newer version, if its
	// hash is still p.OldHash, and reports whether it did: false when the key is
	// gone or another node upgraded it first (compare and set).
	APIKeyUpgradeHash(ctx context.Context, p APIKeyUpgradeHashParams) (bool, error)

	// IdempotencyBegin claims (rec.Scope, rec.Key) for the request rec
	// describes, in one atomic step. When no record of that key is stored, or
	// the stored one has expired (ExpiresAt <= now), or it is still running
	// (Status 0) with a claim that ran out (LockedUntil <= now: its runner
	// died) and has the same RequestHash, rec is stored in its place with no
	// answer yet (Status 0, Header and Body empty, whatever rec holds) and
	// Begin returns nil, nil: the caller runs the request, then calls
	// IdempotencyFinish or IdempotencyRelease with rec.Token. Otherwise it
	// returns the stored record unchanged, its Body opened: an answer to
	// replay (Status set), a request with that key still running, or one
	// whose RequestHash differs. Of concurrent Begins of one key exactly one
	// gets nil, if rec.LockedUntil and rec.ExpiresAt are after now.
	IdempotencyBegin(ctx context.Context, rec *IdempotencyRecord, now time.Time) (*IdempotencyRecord, error)
	// IdempotencyFinish stores the answer to a claimed request: rec's Status,
	// Header, Body (sealed) and ExpiresAt, on the record of (rec.Scope,
	// rec.Key) still running (Status 0) under rec.Token. It returns
	// ErrNotFound, changing nothing, when there is none: the claim ran out
	// and another request took the key over, or the record expired and was
	// purged or replaced. A Status of 0 is a *hookline.ValidationError.
	IdempotencyFinish(ctx context.Context, rec *IdempotencyRecord) error
	// IdempotencyRelease frees a key whose request failed in a way worth
	// retrying: it deletes the record of (scope, key) if it is still running
	// (Status 0) under token. Otherwise it does nothing and returns nil.
	IdempotencyRelease(ctx context.Context, scope, key, token string) error
	// IdempotencyPurge deletes up to limit records (1 to 1000; 100 outside
	// that, as PageLimit) expired at now (ExpiresAt <= now), running or not,
	// and says how many went; fewer than limit means none is left. Records
	// another node is purging or claiming are skipped, not waited for.
	IdempotencyPurge(ctx context.Context, now time.Time, limit int) (int64, error)

	// Purge deletes events (with their deliveries) and attempts created before
	// p.Before, at most p.Limit rows of each, and says how many went. Events with
	// a pending delivery are kept.
	Purge(ctx context.Context, p PurgeParams) (int64, error)
}

// Notifier is implemented by stores that several nodes share (PostgreSQL): it
// carries short messages to every node, so that one node's new work or webhook
// change reaches the others at once instead of at their next poll.
type Notifier interface {
	// Notify sends payload on topic to every listening node, this one included,
	// once the current transaction (if any) commits.
	Notify(ctx context.Context, topic, payload string) error
	// Listen calls fn for each message until ctx ends, reconnecting by itself
	// after a lost connection (and calling fn(TopicReconnected, "") then, since
	// messages may have been missed). It returns when ctx ends.
	Listen(ctx context.Context, fn func(topic, payload string)) error
}

// Writer is implemented by stores that gain from doing writes of several kinds
// in one commit (SQLite, whose one writer pays for each commit): the engine
// then groups publishes, attempt outcomes and lease renewals together.
type Writer interface {
	// Write applies ws in order, in one transaction: all or nothing. Each Write
	// has exactly one field set; its result is in the same field of the
	// WriteResult at the same index.
	Write(ctx context.Context, ws []Write) ([]WriteResult, error)
}

// Write is one item of Writer.Write: as EventInsert, DeliveryComplete or
// DeliveryRenew would take it.
type Write struct {
	Insert   *EventInsertParams
	Complete *DeliveryCompleteParams
	Renew    *DeliveryRenewal
}

// WriteResult is the outcome of one Write.
type WriteResult struct {
	Insert   EventInsertResult
	Complete DeliveryCompleteResult
	Renewed  bool
}

// RateLimiter is implemented by stores that several nodes share, so that an API
// key's rate limit holds across all of them, not per node.
type RateLimiter interface {
	// RateLimitTake takes n tokens at once from bucket id, which holds up to
	// limit tokens and refills at limit per window. Without n tokens it takes
	// nothing and reports how long until n are available (never, when n is more
	// than limit: the caller refuses that itself). left is what the bucket
	// holds after. Concurrent takes never hand out more tokens than the bucket
	// holds.
	RateLimitTake(ctx context.Context, id string, n, limit int, window time.Duration, now time.Time) (ok bool, left float64, wait time.Duration, err error)
}

// Notification topics.
const (
	// TopicWork: deliveries may be due now (payload empty).
	TopicWork = "work"
	// TopicWebhook: a webhook changed (payload "id tenant").
	TopicWebhook = "webhook"
	// TopicProfile: a profile changed (payload its name).
	TopicProfile = "profile"
	// TopicReconnected is passed to Listen's fn after a reconnection.
	TopicReconnected = "reconnected"
)

// ListParams is a keyset page: the Limit items (PageLimit) that come
// strictly after Cursor in the list's order, or from its start without one.
//
// Before asks for the page before an item instead: the Limit items nearest to
// Before that come strictly before it in the list's order, returned in the
// list's order (the page that ends just before Before). Cursor and Before are
// not set together: a *hookline.ValidationError (field "ending_before").
type ListParams struct {
	Cursor string
	Before string
	Limit  int
}

// WebhookCreateParams creates a webhook within a per-tenant limit.
type WebhookCreateParams struct {
	Webhook      *hookline.Webhook
	MaxPerTenant int
}

// WebhookListParams filters a webhook list; empty Tenant means all tenants.
type WebhookListParams struct {
	ListParams
	Tenant string
	// Active, when set, keeps the active webhooks (true) or the disabled
	// ones (false).
	Active *bool
}

// TenantSummary is a tenant that has webhooks, for the operator console.
type TenantSummary struct {
	Tenant   string
	Webhooks int // how many
	Active   int // how many are active
}

// EventInsertParams is one event to store with the deliveries it fans out to.
type EventInsertParams struct {
	Event      *hookline.Event
	Deliveries []DeliveryInsert
}

// DeliveryInsert is one new delivery. A non-empty LeaseToken stores it already
// claimed by the inserting node until NextAttemptAt (the fast path); otherwise it
// is due at NextAttemptAt.
type DeliveryInsert struct {
	ID            string
	WebhookID     string
	Ordered       bool
	NextAttemptAt time.Time
	LeaseToken    string
}

// EventInsertResult is the outcome of one EventInsertParams.
type EventInsertResult struct {
	Event      *hookline.Event
	Deliveries []hookline.Delivery
	Created    bool
}

// EventListParams filters an event list; every filter set applies. The time
// filters go by the time of the events' ids, as DeliveryListParams says.
type EventListParams struct {
	ListParams
	Tenant string
	Type   string
	// CreatedAfter keeps events created at or after it; zero: unbounded.
	CreatedAfter time.Time
	// CreatedBefore keeps events created before it; zero: unbounded.
	CreatedBefore time.Time
}

// DeliveryClaimParams asks for due deliveries.
type DeliveryClaimParams struct {
	Now        time.Time
	LeaseUntil time.Time
	LeaseToken string
	Limit      int
}

// ClaimedDelivery is a delivery reserved for the caller, with its event.
type ClaimedDelivery struct {
	Delivery   hookline.Delivery
	Event      hookline.Event
	LeaseToken string
}

// DeliveryLease names a delivery and the token of the claim that holds it.
type DeliveryLease struct {
	ID         string
	LeaseToken string
}

// DeliveryRenewal moves a leased delivery's lease end (when it is due again if
// not completed) to Until, for its holder; with Defer, hands it back deferred.
type DeliveryRenewal struct {
	DeliveryLease
	Until time.Time
	Defer bool
}

// DeferredToken is the lease token of a deferred delivery: no claim holds it.
const DeferredToken = "deferred"

// DeliveryRecallParams asks for a webhook's deferred deliveries back.
type DeliveryRecallParams struct {
	WebhookID string
	Limit     int
	Now       time.Time
}

// DeliveryHoldParams asks to hold a chunk of a webhook's backlog.
type DeliveryHoldParams struct {
	WebhookID string
	After     string        // the last id of the previous chunk; "" to start
	Span      time.Duration // a delivery expires Span after it was created
	Limit     int
	Now       time.Time // leases ending after Now are live
}

// WebhookProbesParams asks for the webhooks due for a probe.
type WebhookProbesParams struct {
	Now              time.Time
	MinWait, MaxWait time.Duration
}

// AutoDisableRule turns a webhook off after Failures failed deliveries in a row
// and no success for After, or after Attempts failed attempts in a row (any
// attempt that did not succeed, retried or not; a success of any delivery of
// the webhook resets both streaks). Failures == 0 turns the deliveries part
// off, Attempts == 0 the attempts part.
type AutoDisableRule struct {
	Failures int
	After    time.Duration
	Attempts int
}

// DeliveryCompleteParams is the result of one attempt.
type DeliveryCompleteParams struct {
	DeliveryLease
	WebhookID string
	// Attempt is the attempt to record; nil when the delivery ends without one
	// (cancelled because its webhook is disabled or deleted).
	Attempt *hookline.Attempt
	// Error is the delivery's last error when Attempt is nil.
	Error string
	// Status is the delivery's new status: pending (retry at NextAttemptAt),
	// succeeded, failed or cancelled.
	Status        string
	NextAttemptAt time.Time
	Now           time.Time
	// DisableReason, when set, turns the webhook off (410 Gone).
	DisableReason string
	// AutoDisable is applied when Status is failed (its Failures part) and
	// when Attempt is a failed attempt, retried or not (its Attempts part).
	AutoDisable AutoDisableRule
	// Ops are the operational events the completion may cause, stored in the
	// same commit so that a crash cannot lose them; nil for none.
	Ops *OpsEvents
}

// OpsEvents are operational events stored with a completion, in the same commit,
// only when it applies.
type OpsEvents struct {
	// Failed is stored when the delivery ends failed.
	Failed *EventInsertParams
	// Disabled is stored when the completion turns the webhook off, with its
	// Event.Data set to DisabledData(reason) first.
	Disabled     *EventInsertParams
	DisabledData func(reason string) json.RawMessage
}

// DeliveryCompleteResult says what a completion changed.
type DeliveryCompleteResult struct {
	Applied         bool
	WebhookDisabled bool
	DisabledReason  string
	// Ops are the operational events stored with the completion.
	Ops []EventInsertResult
}

// DeliveryRetryParams asks for a manual retry.
type DeliveryRetryParams struct {
	ID  string
	Now time.Time
}

// DeliveryListParams filters a delivery list; every filter set applies.
//
// Time filters, here and in stats, go by the time a row's id was made, to
// the millisecond, whose bounds hookline.IDAt gives: the engine makes a
// delivery's id with its created_at and an attempt's with its started_at,
// from one clock, so the two agree, and a window is a range of ids, the key
// every index of these tables ends with. Rows written with another clock
// (tests with a fixed one) need ids made at their time: hookline.NewIDAt.
type DeliveryListParams struct {
	ListParams
	Tenant    string
	WebhookID string
	EventID   string
	Status    string
	EventType string // "" any
	// CreatedAfter keeps deliveries created at or after it; zero: unbounded.
	CreatedAfter time.Time
	// CreatedBefore keeps deliveries created before it; zero: unbounded.
	CreatedBefore time.Time
}

// MaxStatsBuckets is the most buckets a stats query may ask for.
const MaxStatsBuckets = 200

// AttemptStatsParams asks for attempt counts over time.
type AttemptStatsParams struct {
	Tenant    string // "" all tenants
	WebhookID string // "" every webhook (of Tenant, if set)
	// Since and Until are the window [Since, Until), taken to the millisecond.
	Since, Until time.Time
	Buckets      int // 1..MaxStatsBuckets: the window in equal buckets
}

// AttemptBucket is one bucket of AttemptStats.
type AttemptBucket struct {
	Start        time.Time
	Succeeded    int   // attempts with no error and a 2xx status
	Failed       int   // every other attempt
	LatencyAvgMS int64 // mean duration_ms of the bucket's attempts, rounded (0 if none)
	LatencyMaxMS int64
}

// SetLatencyAvg sets each bucket's LatencyAvgMS from sums[i], the total
// duration of its attempts: their mean, rounded to the nearest millisecond.
func SetLatencyAvg(bs []AttemptBucket, sums []int64) {
	for i := range bs {
		if n := int64(bs[i].Succeeded + bs[i].Failed); n > 0 {
			bs[i].LatencyAvgMS = (sums[i] + n/2) / n
		}
	}
}

// DeliveryStatsParams asks for delivery counts over time, by when the
// deliveries were created.
type DeliveryStatsParams struct {
	Tenant    string // "" all tenants
	WebhookID string // "" every webhook (of Tenant, if set)
	// Since and Until are the window [Since, Until), taken to the millisecond.
	Since, Until time.Time
	Buckets      int // 1..MaxStatsBuckets: the window in equal buckets
}

// DeliveryBucket is one bucket of DeliveryStats: the deliveries created in it,
// by their current status.
type DeliveryBucket struct {
	Start     time.Time
	Succeeded int
	Failed    int // failed or cancelled
	Pending   int
}

// StatsWindow is a checked stats window, in Unix milliseconds: bucket i holds
// the times t (of ids, as DeliveryListParams says) with Bound(i) <= t <
// Bound(i+1), which are those with (t-Since)*Buckets/(Until-Since) == i.
type StatsWindow struct {
	Since, Until int64
	Buckets      int
}

// StatsWindowOf checks a stats query's window and buckets: Since set (not
// before 1970, where ids begin), Until after Since, 1 to MaxStatsBuckets
// buckets, each at least a millisecond long. It returns a
// *hookline.ValidationError naming the field at fault.
func StatsWindowOf(since, until time.Time, buckets int) (StatsWindow, error) {
	w := StatsWindow{Since: since.UnixMilli(), Until: until.UnixMilli(), Buckets: buckets}
	switch {
	case buckets < 1 || buckets > MaxStatsBuckets:
		return w, hookline.Invalid("buckets", "must be between 1 and %d, got %d", MaxStatsBuckets, buckets)
	case since.IsZero():
		return w, hookline.Invalid("since", "is required")
	case w.Since < 0:
		return w, hookline.Invalid("since", "must not be before 1970")
	case w.Until <= w.Since:
		return w, hookline.Invalid("until", "must be after since")
	case w.Until-w.Since < int64(buckets):
		return w, hookline.Invalid("buckets", "a bucket must last at least a millisecond")
	case w.Until-w.Since > math.MaxInt64/MaxStatsBuckets:
		return w, hookline.Invalid("since", "the window is too long")
	}
	return w, nil
}

// Bound returns the first millisecond of bucket i, in Unix milliseconds;
// Bound(Buckets) is Until.
func (w StatsWindow) Bound(i int) int64 {
	span, n := w.Until-w.Since, int64(w.Buckets)
	return w.Since + (int64(i)*span+n-1)/n // ceil(i*span/n)
}

// Start returns the start of bucket i: the first millisecond it holds.
func (w StatsWindow) Start(i int) time.Time {
	return time.UnixMilli(w.Bound(i)).UTC()
}

// WebhookHealth is how a webhook's endpoint has been answering.
type WebhookHealth struct {
	// LastAttemptAt is when the webhook's last attempt started; nil if none.
	LastAttemptAt *time.Time
	LastStatus    int
	LastError     string
	// Succeeded and Failed count the attempts since the time asked for, as
	// AttemptBucket does.
	Succeeded, Failed int
}

// MaxHealthIDs is the most webhooks one WebhookHealth call may ask about.
const MaxHealthIDs = 100

// RecoverBatch is how many deliveries DeliveryRecover changes per transaction.
const RecoverBatch = 1000

// DeliveryRecoverParams asks to retry a webhook's deliveries that ended
// unsuccessfully in a time window.
type DeliveryRecoverParams struct {
	WebhookID string    // required
	Since     time.Time // required: deliveries created at or after
	Until     time.Time // zero: up to Now; deliveries created before
	// Status is the status to recover: hookline.DeliveryFailed (also when
	// empty) or hookline.DeliveryCancelled.
	Status string
	DryRun bool // count only, change nothing
	Now    time.Time
}

// Check returns p with its defaults set (Status failed, Until Now), or a
// *hookline.ValidationError naming the field at fault.
func (p DeliveryRecoverParams) Check() (DeliveryRecoverParams, error) {
	if p.Status == "" {
		p.Status = hookline.DeliveryFailed
	}
	if p.Until.IsZero() {
		p.Until = p.Now
	}
	switch {
	case p.WebhookID == "":
		return p, hookline.Invalid("webhook_id", "is required")
	case p.Now.IsZero():
		return p, hookline.Invalid("now", "is required")
	case p.Since.IsZero():
		return p, hookline.Invalid("since", "is required")
	case p.Since.UnixMilli() < 0:
		return p, hookline.Invalid("since", "must not be before 1970")
	case !p.Until.After(p.Since):
		return p, hookline.Invalid("until", "must be after since")
	case p.Status != hookline.DeliveryFailed && p.Status != hookline.DeliveryCancelled:
		return p, hookline.Invalid("status", "must be %s or %s, got %q", hookline.DeliveryFailed, hookline.DeliveryCancelled, p.Status)
	}
	return p, nil
}

// AttemptListParams filters an attempt list; every filter set applies. The
// time filters go by the time of the attempts' ids (made with their
// started_at), as DeliveryListParams says.
type AttemptListParams struct {
	ListParams
	WebhookID  string
	DeliveryID string
	// CreatedAfter keeps attempts made at or after it; zero: unbounded.
	CreatedAfter time.Time
	// CreatedBefore keeps attempts made before it; zero: unbounded.
	CreatedBefore time.Time
}

// KeyListParams filters a key space's keys.
type KeyListParams struct {
	ListParams
	Keyspace string
	Tenant   string
}

// KeyRevokeParams revokes a key, or with Expire ends it at At.
type KeyRevokeParams struct {
	ID     string
	At     time.Time
	Expire bool
}

// APIKeyListParams filters a key list.
type APIKeyListParams struct {
	ListParams
	Tenant string
}

// APIKeyUpgradeHashParams is one key's new hash.
type APIKeyUpgradeHashParams struct {
	ID          string
	OldHash     []byte
	Hash        []byte
	HashVersion int
}

// PurgeParams bounds one purge pass.
type PurgeParams struct {
	Before time.Time
	Limit  int
}

// IdempotencyRecord is a request made with an Idempotency-Key, and its answer once it has one.
type IdempotencyRecord struct {
	Scope       string // whose keys: the API's choice (the calling API key's id)
	Key         string
	RequestHash []byte // what identifies the request (method, path, body), opaque to the store
	Token       string // the claim: who runs the request now
	Status      int    // the answer's status; 0 while the request runs
	Header      []byte // the answer's headers to replay, opaque
	Body        []byte // the answer's body; sealed at rest
	CreatedAt   time.Time
	LockedUntil time.Time // while Status is 0, the claim holds until then
	ExpiresAt   time.Time // forgotten after
}
