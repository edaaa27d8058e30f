package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/postgres/pgtest"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
)

// Commits (and, on PostgreSQL, statements and round trips) per delivery, the
// regression guard of issue 16: every commit that writes pays a WAL write and
// flush, and every round trip to PostgreSQL a wait and a wake-up on both
// sides, so a change that doubles them doubles the write path's cost.
//
// What is counted: on SQLite, commits of write transactions, implicit ones
// included, seen by SQLite's commit hook on every connection of the test's
// database file. On PostgreSQL, what the store's pool sends, seen by a pgx
// tracer (postgres.Options.Tracer): statements (each Query, QueryRow and Exec,
// and each query of a batch; BEGIN and COMMIT left out), round trips (a
// statement, BEGIN and COMMIT included, or a whole batch; the preparing of a
// statement a connection has not seen yet is not counted) and commits (COMMITs,
// and writes outside a transaction). The Listen connection is not traced, and
// the test's own reads, waiting for each delivery, are left out by their
// context.
//
// Group commit shares one commit between several publishes and outcomes when
// they arrive together, so a count under concurrent load depends on timing.
// Each scenario therefore publishes one event at a time and waits until its
// deliveries are stored succeeded before the next: nothing is shared, which is
// the worst case, and the count is the same from run to run give or take a
// few statements of the engine's start (its first claim, the loading of each
// webhook: 0.03 per delivery with one webhook, 0.06–0.08 with four, on
// PostgreSQL). For the same reason the several-webhook case sends each event
// to one of four webhooks (four tenants, in turn) rather than fanning out: the
// outcomes of a fan-out complete together and share commits as timing allows
// (0.53 commits per delivery in one run of 50 events ×4 on SQLite, anywhere
// from 0.5 to 1.25 by construction), which a bound cannot judge. The engine's
// poll interval is an hour (fixture.options), so no claim runs on a timer.
//
// Measured when the bounds were set (Go 1.26, 2-core amd64, three runs each),
// in both cases, one webhook and four:
//   - SQLite: 2.01–2.02 commits per delivery — the publish's commit, and the
//     outcome's; the first attempt is handed straight to a worker, without a
//     claim's commit. 1.00 of them wait for the disk (synchronous FULL, as a
//     server runs by default): the publish's; the outcome's is relaxed.
//   - PostgreSQL 2.00 commits, 6.03–6.07 statements and 4.04–4.08 round trips
//     per delivery. The publish: a batch of BEGIN and the event and
//     deliveries insert; a batch of the slot counts and COMMIT. The outcome: a
//     batch of BEGIN and the completion (delivery, attempt and webhook in one
//     statement); a batch of the delivery and attempt slot counts, SET LOCAL
//     synchronous_commit = off and COMMIT. 1.00 commits wait for the disk.
//     (Before BEGIN rode in the first batch: 6.03–6.08 round trips.)
//
// The bounds are just under twice those figures, but for the commits that
// wait for the disk: just under 1.5, so that outcomes waiting again (2.00)
// fail.
var countBounds = map[string]counts{
	"sqlite/one webhook":     {commits: 3.99, durable: 1.49},
	"sqlite/four webhooks":   {commits: 3.99, durable: 1.49},
	"postgres/one webhook":   {commits: 3.99, durable: 1.49, statements: 11.99, roundTrips: 7.99},
	"postgres/four webhooks": {commits: 3.99, durable: 1.49, statements: 11.99, roundTrips: 7.99},
}

// counts are what a driver counts; in countBounds, per delivery, where a zero
// field is what the driver does not count.
type counts struct {
	commits, durable, statements, roundTrips float64
}

// perDelivery is what was counted since start, per delivery of n.
func (c counts) perDelivery(start counts, n int) counts {
	return counts{
		commits:    (c.commits - start.commits) / float64(n),
		durable:    (c.durable - start.durable) / float64(n),
		statements: (c.statements - start.statements) / float64(n),
		roundTrips: (c.roundTrips - start.roundTrips) / float64(n),
	}
}

// countedDriver opens a fresh store and returns a reader of what it has
// counted so far (totals, not per delivery).
type countedDriver struct {
	name string
	open func(t *testing.T) (store.Store, func() counts)
}

var countedDrivers = []countedDriver{
	{"sqlite", func(t *testing.T) (store.Store, func() counts) {
		path := filepath.Join(t.TempDir(), "hookline.db")
		var commits, durable atomic.Int64
		sqlitetest.OnCommit(t, path, func() { commits.Add(1) })
		// FULL, as a server runs by default: publishes wait for the disk,
		// outcomes do not (and the store tells which through OnCommit).
		st := sqlitetest.OpenWith(t, path, func(o *sqlite.Options) {
			o.Synchronous = "FULL"
			o.OnCommit = func(relaxed bool) {
				if !relaxed {
					durable.Add(1)
				}
			}
		})
		return st, func() counts { return counts{commits: float64(commits.Load()), durable: float64(durable.Load())} }
	}},
	{"postgres", func(t *testing.T) (store.Store, func() counts) {
		tr := &statementTracer{}
		return pgtest.OpenWith(t, postgres.Options{Tracer: tr}), tr.counts
	}},
}

// uncounted marks a context whose statements statementTracer leaves out.
type uncounted struct{}

// statementTracer counts the statements, round trips and commits of the
// PostgreSQL store's pool (pgx.QueryTracer and pgx.BatchTracer; the driver
// uses no COPY).
type statementTracer struct {
	statements, roundTrips, commits, durable atomic.Int64
}

func (s *statementTracer) counts() counts {
	return counts{
		commits:    float64(s.commits.Load()),
		durable:    float64(s.durable.Load()),
		statements: float64(s.statements.Load()),
		roundTrips: float64(s.roundTrips.Load()),
	}
}

func (s *statementTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if ctx.Value(uncounted{}) == nil {
		s.roundTrips.Add(1)
		s.count(data.SQL, false)
	}
	return ctx
}

// count counts one statement: a COMMIT as a commit (waiting for the disk
// unless relaxed: synchronous_commit was turned off before it), a BEGIN as
// neither.
func (s *statementTracer) count(sql string, relaxed bool) {
	switch sql = strings.ToLower(strings.TrimSpace(sql)); {
	case sql == "commit":
		s.commits.Add(1)
		if !relaxed {
			s.durable.Add(1)
		}
	case strings.HasPrefix(sql, "begin"):
	default:
		s.statements.Add(1)
	}
}

// TraceQueryEnd counts a write outside a transaction as a commit of its own.
func (s *statementTracer) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {
	tag := data.CommandTag
	if ctx.Value(uncounted{}) == nil && data.Err == nil && conn.PgConn().TxStatus() == 'I' &&
		(tag.Insert() || tag.Update() || tag.Delete()) && tag.RowsAffected() > 0 {
		s.commits.Add(1)
		s.durable.Add(1)
	}
}

func (s *statementTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	if ctx.Value(uncounted{}) == nil {
		s.roundTrips.Add(1) // a batch is sent in one go (its COMMIT included)
		relaxed := false
		for _, q := range data.Batch.QueuedQueries {
			s.count(q.SQL, relaxed)
			relaxed = relaxed || strings.EqualFold(q.SQL, "SET LOCAL synchronous_commit = off")
		}
	}
	return ctx
}

func (s *statementTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (s *statementTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// TestCommitsPerDelivery publishes 200 events one at a time to one webhook, and
// in turn to four, on a loopback receiver answering 200, on each driver, and
// fails when the counts per delivery pass countBounds.
func TestCommitsPerDelivery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		webhooks int
	}{
		{"one webhook", 1},
		{"four webhooks", 4},
	}
	const events = 200
	for _, drv := range countedDrivers {
		for _, tt := range tests {
			name := drv.name + "/" + tt.name
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				st, read := drv.open(t)
				f := &fixture{store: st}
				rc := newReceiver(t)
				e := f.start(t)
				for k := range tt.webhooks {
					f.webhook(t, rc.URL, func(wh *hookline.Webhook) { wh.Tenant = fmt.Sprintf("t%d", k) })
				}
				ctx := context.WithValue(context.Background(), uncounted{}, true)
				start := read()
				var deliveries int
				for i := range events {
					res := publish(t, e, PublishParams{Tenant: fmt.Sprintf("t%d", i%tt.webhooks), Type: "a.b", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
					for _, d := range res[0].Deliveries {
						waitFor(t, 10*time.Second, "delivery "+d.ID, func() bool {
							got, err := f.store.DeliveryGet(ctx, d.ID)
							return err == nil && got.Status == hookline.DeliverySucceeded
						})
						deliveries++
					}
				}
				if deliveries != events {
					t.Fatalf("got %d deliveries, want %d", deliveries, events)
				}
				got, bound := read().perDelivery(start, deliveries), countBounds[name]
				for _, c := range []struct {
					what       string
					got, bound float64
				}{
					{"commits", got.commits, bound.commits},
					{"commits waiting for the disk", got.durable, bound.durable},
					{"statements", got.statements, bound.statements},
					{"round trips", got.roundTrips, bound.roundTrips},
				} {
					if c.bound == 0 {
						continue // not counted on this driver
					}
					t.Logf("%.2f %s per delivery (bound %v)", c.got, c.what, c.bound)
					if c.got > c.bound {
						t.Errorf("got %.2f %s per delivery, want at most %v", c.got, c.what, c.bound)
					}
				}
			})
		}
	}
}
