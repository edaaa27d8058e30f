package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
)

// Commits per delivery on SQLite, the regression guard of issue 16: every
// commit that writes pays a WAL write (and, with synchronous=FULL, an fsync),
// so a change that doubles them doubles the write path's cost.
//
// What is counted: commits of write transactions, implicit ones included, seen
// by SQLite's commit hook on every connection of the test's database file. Group
// commit shares one commit between several publishes and outcomes when they
// arrive together, so a count under concurrent load depends on timing. Each
// scenario therefore publishes one event at a time and waits until its
// deliveries are stored succeeded before the next: nothing is shared, which is
// the worst case, and the count is the same from run to run give or take a
// stray commit. For the same reason the several-webhook case sends each event
// to one of four webhooks (four tenants, in turn) rather than fanning out: the
// outcomes of a fan-out complete together and share commits as timing allows
// (0.53 commits per delivery in one run of 50 events ×4, anywhere from 0.5
// to 1.25 by construction), which a bound cannot judge.
//
// Measured when the bounds were set (Go 1.26, 2-core amd64, three runs): 2.01–2.02
// commits per delivery in both cases — the publish's commit, and the
// outcome's; the first attempt is handed straight to a worker, without a
// claim's commit. The bounds are just under twice that.
var commitBounds = map[string]float64{
	"one webhook":   3.99,
	"four webhooks": 3.99,
}

var (
	commitHookOnce sync.Once
	commitCounters sync.Map // database file path → *atomic.Int64
)

// countCommits registers (once per test binary) a connection hook that counts
// the commits of every connection to a database file listed in commitCounters.
func countCommits(path string) *atomic.Int64 {
	commitHookOnce.Do(func() {
		sqlite.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, dsn string) error {
			for p, n := range commitCounters.Range {
				if strings.Contains(dsn, p.(string)) {
					c.(interface{ RegisterCommitHook(sqlite.CommitHookFn) }).RegisterCommitHook(func() int32 {
						n.(*atomic.Int64).Add(1)
						return 0 // 0 lets the commit go on
					})
				}
			}
			return nil
		})
	})
	n := &atomic.Int64{}
	commitCounters.Store(path, n)
	return n
}

// TestCommitsPerDelivery publishes 200 events one at a time to one webhook, and
// in turn to four, on a loopback receiver answering 200, and fails when the
// commits per delivery pass commitBounds.
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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "hookline.db")
			commits := countCommits(path)
			t.Cleanup(func() { commitCounters.Delete(path) })
			f := &fixture{store: sqlitetest.OpenAt(t, path)}
			rc := newReceiver(t)
			e := f.start(t)
			for k := range tt.webhooks {
				f.webhook(t, rc.URL, func(wh *hookline.Webhook) { wh.Tenant = fmt.Sprintf("t%d", k) })
			}
			ctx := context.Background()
			start := commits.Load()
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
			n := commits.Load() - start
			perDelivery := float64(n) / float64(deliveries)
			t.Logf("%d commits for %d deliveries: %.2f per delivery (bound %v)", n, deliveries, perDelivery, commitBounds[tt.name])
			if perDelivery > commitBounds[tt.name] {
				t.Errorf("got %.2f commits per delivery, want at most %v", perDelivery, commitBounds[tt.name])
			}
		})
	}
}
