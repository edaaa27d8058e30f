package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// Lists say whether another page follows (has_more), go back as well as
// forward (prev_cursor, given as ending_before), and filter events,
// deliveries and logs by when they were made.
func TestListPaging(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		fx := setup(t)
		list := func(t *testing.T, query string) response {
			t.Helper()
			return fx.do(t, "GET", "/v1/webhooks?tenant=pages&"+query, fx.admin, nil).must(t, http.StatusOK)
		}
		var created []string
		for i := range 7 {
			created = append(created, fx.createWebhook(t, fx.admin, obj{"url": discard, "tenant": "pages", "description": fmt.Sprint(i)}).str("id"))
		}
		slices.Reverse(created) // lists are newest first

		t.Run("a full last page says it is the last", func(t *testing.T) {
			r := list(t, "limit=7")
			if r.body["has_more"] != false || r.str("next_cursor") != "" || r.str("prev_cursor") != "" || len(r.items()) != 7 {
				t.Errorf("limit 7 of 7: got has_more %v, next_cursor %q, prev_cursor %q, %d items; want false, none, none, 7",
					r.body["has_more"], r.str("next_cursor"), r.str("prev_cursor"), len(r.items()))
			}
			r = list(t, "limit=6")
			if r.body["has_more"] != true || r.str("next_cursor") != created[5] {
				t.Errorf("limit 6 of 7: got has_more %v, next_cursor %q; want true, %s", r.body["has_more"], r.str("next_cursor"), created[5])
			}
		})

		t.Run("forward then back", func(t *testing.T) {
			var pages [][]string
			var prevs []string
			r := list(t, "limit=3")
			for {
				pages = append(pages, r.ids())
				prevs = append(prevs, r.str("prev_cursor"))
				if r.body["has_more"] != true {
					break
				}
				r = list(t, "limit=3&cursor="+r.str("next_cursor"))
			}
			if got := slices.Concat(pages...); !slices.Equal(got, created) || len(pages) != 3 {
				t.Fatalf("forward: got pages %v, want %v in pages of 3", pages, created)
			}
			if prevs[0] != "" {
				t.Errorf("the first page has prev_cursor %q, want none", prevs[0])
			}
			// From the last page back to the first.
			for i := len(pages) - 1; i > 0; i-- {
				back := list(t, "limit=3&ending_before="+prevs[i])
				if !slices.Equal(back.ids(), pages[i-1]) {
					t.Errorf("back from page %d: got %v, want %v", i, back.ids(), pages[i-1])
				}
				if wantMore := i-1 > 0; back.body["has_more"] != wantMore || (back.str("prev_cursor") != "") != wantMore {
					t.Errorf("back to page %d: has_more %v, prev_cursor %q; want has_more %v", i-1, back.body["has_more"], back.str("prev_cursor"), wantMore)
				}
				if back.str("next_cursor") != pages[i-1][len(pages[i-1])-1] {
					t.Errorf("back to page %d: next_cursor %q, want its last item, which page %d follows", i-1, back.str("next_cursor"), i)
				}
			}
			// Going back reads the items nearest: here the two newest.
			if got := list(t, "limit=3&ending_before="+created[2]).ids(); !slices.Equal(got, created[:2]) {
				t.Errorf("ending_before the third: got %v, want %v", got, created[:2])
			}
			if r := list(t, "ending_before="+created[0]); len(r.items()) != 0 || r.body["has_more"] != false {
				t.Errorf("ending_before the newest: got %s, want an empty last page", r.raw)
			}
		})

		t.Run("bad paging", func(t *testing.T) {
			fx.do(t, "GET", "/v1/webhooks?ending_before=nope", fx.admin, nil).problem(t, http.StatusBadRequest, "ending_before")
			fx.do(t, "GET", "/v1/webhooks?ending_before="+created[1]+"&cursor="+created[3], fx.admin, nil).problem(t, http.StatusBadRequest, "ending_before")
			fx.do(t, "GET", "/v1/event-types?ending_before=a%20b", fx.admin, nil).problem(t, http.StatusBadRequest, "ending_before")
		})

		t.Run("by time", func(t *testing.T) {
			rc := fx.receiver()
			wh := fx.createWebhook(t, fx.admin, obj{"url": rc.url + "/t", "tenant": "times"}).str("id")
			var marks []time.Time
			var events []string
			for i := range 3 {
				time.Sleep(5 * time.Millisecond)
				marks = append(marks, time.Now())
				time.Sleep(5 * time.Millisecond)
				events = append(events, fx.publish(t, fx.admin, obj{"type": "a.b", "data": obj{"i": i}, "tenant": "times"}).str("id"))
				fx.do(t, "POST", "/v1/webhooks/"+wh+"/test", fx.admin, nil).must(t, http.StatusOK)
			}
			rc.waitFor(t, "/t", 6)
			eventually(t, func() bool { return len(fx.do(t, "GET", "/v1/webhooks/"+wh+"/logs", fx.admin, nil).items()) == 6 },
				func() string { return "the log never held the 6 attempts" })
			between := func(a, b int) string {
				q := url.Values{}
				if a >= 0 {
					q.Set("created_after", marks[a].UTC().Format(time.RFC3339Nano))
				}
				if b >= 0 {
					q.Set("created_before", marks[b].UTC().Format(time.RFC3339Nano))
				}
				return q.Encode()
			}
			// Events after mark 1 and before mark 2: the second only.
			if got := fx.do(t, "GET", "/v1/events?tenant=times&type=a.b&"+between(1, 2), fx.admin, nil).must(t, http.StatusOK).ids(); !slices.Equal(got, events[1:2]) {
				t.Errorf("events between marks 1 and 2: got %v, want %v", got, events[1:2])
			}
			if got := fx.do(t, "GET", "/v1/events?tenant=times&type=a.b&"+between(1, -1), fx.admin, nil).must(t, http.StatusOK).ids(); !slices.Equal(got, []string{events[2], events[1]}) {
				t.Errorf("events after mark 1: got %v, want the last two", got)
			}
			ds := fx.do(t, "GET", "/v1/deliveries?webhook_id="+wh+"&"+between(-1, 1), fx.admin, nil).must(t, http.StatusOK).items()
			if len(ds) != 1 || ds[0]["event_id"] != events[0] {
				t.Errorf("deliveries before mark 1: got %v, want the first event's", ds)
			}
			// Logs: each round made a delivery attempt and a test send.
			logs := fx.do(t, "GET", "/v1/webhooks/"+wh+"/logs?"+between(2, -1), fx.admin, nil).must(t, http.StatusOK).items()
			if len(logs) != 2 {
				t.Errorf("logs after mark 2: got %d, want 2 (the last round's attempt and test)", len(logs))
			}
			fx.do(t, "GET", "/v1/events?created_after=yesterday", fx.admin, nil).problem(t, http.StatusBadRequest, "created_after")
			fx.do(t, "GET", "/v1/webhooks/"+wh+"/logs?created_before=2024-13-01T00:00:00Z", fx.admin, nil).problem(t, http.StatusBadRequest, "created_before")
			fx.do(t, "GET", "/v1/deliveries?"+between(2, 1), fx.admin, nil).problem(t, http.StatusBadRequest, "created_before")
		})
	})
}
