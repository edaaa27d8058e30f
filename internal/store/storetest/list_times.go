package storetest

import (
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store"
)

// timeCase is a time filter of a list, with what else it filters by.
type timeCase struct {
	name          string
	after, before time.Time
	other         bool // the case's other filter applies too
}

// timeCases are the windows around at and end (at < end) every time filter
// is tried with: each bound alone at a row's millisecond and one past it,
// a window, one millisecond, an empty window, and a window with another
// filter.
func timeCases(at, end time.Time) []timeCase {
	ms := time.Millisecond
	return []timeCase{
		{name: "after at", after: at},
		{name: "after at+1ms", after: at.Add(ms)},
		{name: "before at", before: at},
		{name: "before at+1ms", before: at.Add(ms)},
		{name: "window", after: at, before: end},
		{name: "the millisecond of at", after: at, before: at.Add(ms)},
		{name: "empty window", after: at, before: at},
		{name: "window and other", after: at, before: end, other: true},
	}
}

// inWindow reports whether an id made at idAt passes the time filters, as
// DeliveryListParams says: at or after after, before before.
func inWindow(idAt, after, before time.Time) bool {
	return (after.IsZero() || !idAt.Before(after)) && (before.IsZero() || idAt.Before(before))
}

// timedRow is a row the time tests store: made at row, its id made at id;
// least makes its id the least one of that millisecond (hookline.IDAt), the
// bound a window starts or ends with.
type timedRow struct {
	row, id time.Time
	least   bool
}

// timedRows are the rows the time tests store: a millisecond and a second
// each side of at and end, two at at and one with the least id of at and of
// end, and two whose ids were made at another time than they were (the
// filters go by the ids).
func timedRows(at, end time.Time) []timedRow {
	var rows []timedRow
	ms := time.Millisecond
	for _, t := range []time.Time{at.Add(-time.Second), at.Add(-ms), at, at, at.Add(ms), end.Add(-ms), end, end.Add(ms), end.Add(time.Second)} {
		rows = append(rows, timedRow{row: t, id: t})
	}
	return append(rows, timedRow{row: at, id: at, least: true}, timedRow{row: end, id: end, least: true},
		timedRow{row: at, id: at.Add(-2 * time.Second)}, timedRow{row: at.Add(-time.Hour), id: at.Add(time.Second)})
}

// idOf returns the row's id, made with prefix.
func (r timedRow) idOf(prefix string) string {
	if r.least {
		return hookline.IDAt(prefix, r.id)
	}
	return hookline.NewIDAt(prefix, r.id)
}

// exerciseListTimes covers the time filters of events and attempts: by the
// time of a row's id, at or after CreatedAfter and before CreatedBefore.
func exerciseListTimes(t *testing.T, open func(t *testing.T) store.Store) {
	subtests(t, map[string]func(t *testing.T){
		"Events": func(t *testing.T) {
			e := newEnv(t, open)
			at, end := e.now.Add(-time.Hour), e.now.Add(-time.Hour+time.Minute)
			madeAt := map[string]time.Time{}
			var evs []hookline.Event
			for _, r := range timedRows(at, end) {
				tenants := []string{"acme", "globex"}
				if r.least {
					tenants = tenants[1:] // an id is one row's
				}
				for _, tenant := range tenants {
					ev := e.newEvent(tenant, "order.created")
					ev.ID, ev.CreatedAt = r.idOf(hookline.PrefixEvent), r.row
					e.insert(store.EventInsertParams{Event: ev})
					evs = append(evs, *ev)
					madeAt[ev.ID] = r.id
				}
			}
			head, tail := idEnds(hookline.PrefixEvent)
			for _, c := range timeCases(at, end) {
				t.Run(c.name, func(t *testing.T) {
					p := store.EventListParams{CreatedAfter: c.after, CreatedBefore: c.before}
					if c.other {
						p.Tenant = "globex"
					}
					l := pagedList[hookline.Event]{
						name: "EventList " + c.name, items: evs, desc: true, head: head, tail: tail,
						keep: func(ev hookline.Event) bool {
							return inWindow(madeAt[ev.ID], c.after, c.before) && (p.Tenant == "" || ev.Tenant == p.Tenant)
						},
						key: func(ev hookline.Event) string { return ev.ID },
						list: func(lp store.ListParams) ([]hookline.Event, error) {
							p := p
							p.ListParams = lp
							return e.s.EventList(e.ctx, p)
						},
					}
					checkTimeCase(t, l, c, madeAt, at)
					checkPaging(t, l)
				})
			}
		},
		"Attempts": func(t *testing.T) {
			e := newEnv(t, open)
			at, end := e.now.Add(-time.Hour), e.now.Add(-time.Hour+time.Minute)
			w, other := e.webhook("acme"), e.webhook("acme")
			madeAt := map[string]time.Time{}
			var as []hookline.Attempt
			for _, r := range timedRows(at, end) {
				whs := []*hookline.Webhook{w, other}
				if r.least {
					whs = whs[1:] // an id is one row's
				}
				for _, wh := range whs {
					a := e.attemptAt(wh, r.row, 200, "", 5)
					a.ID = r.idOf(hookline.PrefixAttempt)
					if err := e.s.AttemptInsert(e.ctx, a); err != nil {
						t.Fatalf("AttemptInsert: %v", err)
					}
					as = append(as, *a)
					madeAt[a.ID] = r.id
				}
			}
			head, tail := idEnds(hookline.PrefixAttempt)
			for _, c := range timeCases(at, end) {
				t.Run(c.name, func(t *testing.T) {
					p := store.AttemptListParams{CreatedAfter: c.after, CreatedBefore: c.before}
					if c.other {
						p.WebhookID = other.ID
					}
					l := pagedList[hookline.Attempt]{
						name: "AttemptList " + c.name, items: as, desc: true, head: head, tail: tail,
						keep: func(a hookline.Attempt) bool {
							return inWindow(madeAt[a.ID], c.after, c.before) && (p.WebhookID == "" || a.WebhookID == p.WebhookID)
						},
						key: func(a hookline.Attempt) string { return a.ID },
						list: func(lp store.ListParams) ([]hookline.Attempt, error) {
							p := p
							p.ListParams = lp
							return e.s.AttemptList(e.ctx, p)
						},
					}
					checkTimeCase(t, l, c, madeAt, at)
					checkPaging(t, l)
				})
			}
		},
	})
}

// checkTimeCase checks the case's data before checkPaging relies on keep: the
// case keeps some rows and leaves some out (none kept for an empty window),
// and its bounds fall where it says: a row made at at is kept by "after at"
// and left out by "before at".
func checkTimeCase[T any](t *testing.T, l pagedList[T], c timeCase, madeAt map[string]time.Time, at time.Time) {
	t.Helper()
	kept, left := l.want()
	if c.name == "empty window" {
		if len(kept) != 0 {
			t.Fatalf("%s keeps %v, want none", l.name, kept)
		}
	} else if len(kept) == 0 || len(left) == 0 {
		t.Fatalf("%s keeps %d rows and leaves %d out, want some of each (a mistake in the case)", l.name, len(kept), len(left))
	}
	atKept := 0
	for _, id := range kept {
		if madeAt[id].Equal(at) {
			atKept++
		}
	}
	switch c.name {
	case "after at", "before at+1ms", "the millisecond of at":
		if atKept == 0 {
			t.Fatalf("%s keeps no row made at at, want them", l.name)
		}
	case "before at", "after at+1ms":
		if atKept != 0 {
			t.Fatalf("%s keeps %d rows made at at, want none", l.name, atKept)
		}
	}
}
