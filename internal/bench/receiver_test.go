package bench

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseSeq(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		want   int
		wantOK bool
	}{
		{"standard envelope", `{"id":"evt_1","event":"hlbench.event","timestamp":"2026-01-01T00:00:00Z","data":{"hlbench_seq":42}}`, 42, true},
		{"nullhook envelope", `{"data":{"hlbench_seq":0},"event":"hlbench.event"}`, 0, true},
		{"padded", `{"hlbench_seq":1234567,"pad":"xxxx"}`, 1234567, true},
		{"spaces after the colon", "{\"hlbench_seq\": \n 7}", 7, true},
		{"data as the whole body", `{"hlbench_seq":9}`, 9, true},
		{"absent", `{"message":"This is a test webhook from Hookline"}`, 0, false},
		{"not a number", `{"hlbench_seq":"7"}`, 0, false},
		{"negative", `{"hlbench_seq":-1}`, 0, false},
		{"truncated", `{"hlbench_seq":`, 0, false},
		{"too long to be a seq", `{"hlbench_seq":99999999999999999999999}`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseSeq([]byte(tt.body))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseSeq(%s) = %d, %v; want %d, %v", tt.body, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestClasses(t *testing.T) {
	t.Parallel()
	cs := classes(10, 0.1, 0.2)
	want := []class{stuck, slow, slow, healthy, healthy, healthy, healthy, healthy, healthy, healthy}
	for k := range want {
		if cs[k] != want[k] {
			t.Fatalf("classes(10, 0.1, 0.2) = %v, want %v", cs, want)
		}
	}
	if got := answering(cs); got != 1 {
		t.Errorf("answering: got %d, want 1", got)
	}
	if cs := classes(200, 0.1, 0.1); answering(cs) != 20 || cs[39] != slow || cs[40] != healthy {
		t.Errorf("classes(200, 0.1, 0.1): got %d timeout webhooks, cs[39] %v, cs[40] %v; want 20, slow, healthy", answering(cs), cs[39], cs[40])
	}
}

func TestDeliveries(t *testing.T) {
	t.Parallel()
	t.Run("round-robin", func(t *testing.T) {
		t.Parallel()
		d := newDeliveries(3, 10, false)
		d.record(1, 4, 100) // event 4 goes to webhook 4 mod 3 = 1
		d.record(1, 4, 200) // again: a duplicate
		d.record(2, 4, 300) // not sent to webhook 2
		d.record(0, 10, 300)
		d.record(0, 3, 50)
		if got, want := [4]int64{d.received.Load(), d.duplicates.Load(), d.unexpected.Load(), d.receipts[4].Load()}, [4]int64{2, 1, 2, 100}; got != want {
			t.Errorf("received, duplicates, unexpected, receipt of event 4: got %v, want %v", got, want)
		}
		if first, last := d.first.Load(), d.last.Load(); first != 50 || last != 100 {
			t.Errorf("first, last: got %d, %d; want 50, 100", first, last)
		}
	})
	t.Run("fan-out", func(t *testing.T) {
		t.Parallel()
		d := newDeliveries(3, 10, true)
		for k := range 3 {
			d.record(k, 9, int64(k+1))
		}
		for k := range 3 {
			i, ok := d.index(k, 9)
			if gk, gseq := d.at(i); !ok || gk != k || gseq != 9 {
				t.Errorf("index(%d, 9) = %d, %v; at gives (%d, %d)", k, i, ok, gk, gseq)
			}
		}
		if d.received.Load() != 3 || d.unexpected.Load() != 0 {
			t.Errorf("got %d received, %d unexpected; want 3, 0", d.received.Load(), d.unexpected.Load())
		}
	})
}

// TestReceiver drives a real receiver over loopback: a healthy, a slow and a
// timeout webhook.
func TestReceiver(t *testing.T) {
	t.Parallel()
	c := newClock()
	d := newDeliveries(3, 10, true)
	rc, err := startReceiver(c, d, []class{stuck, slow, healthy}, Options{SlowLatency: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	post := func(k int, body string, timeout time.Duration) (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, rc.url(k), strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := post(2, `{"data":{"hlbench_seq":3}}`, 5*time.Second); code != 200 || err != nil {
		t.Errorf("healthy webhook: got %d, %v; want 200", code, err)
	}
	begin := time.Now()
	if code, err := post(1, `{"data":{"hlbench_seq":3}}`, 5*time.Second); code != 200 || err != nil || time.Since(begin) < 50*time.Millisecond {
		t.Errorf("slow webhook: got %d, %v after %s; want 200 after 50ms", code, err, time.Since(begin))
	}
	if _, err := post(0, `{"data":{"hlbench_seq":3}}`, 200*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout webhook: got %v, want no answer before the client's deadline", err)
	}
	if code, err := post(0, `{"message":"test"}`, 5*time.Second); code != 200 || err != nil {
		t.Errorf("a request without hlbench_seq: got %d, %v; want 200 at once", code, err)
	}
	if got := d.received.Load(); got != 2 {
		t.Errorf("got %d deliveries received, want 2 (the timeout webhook's is not)", got)
	}
	if held, other := rc.held.Load(), rc.other.Load(); held != 1 || other != 1 {
		t.Errorf("held, other: got %d, %d; want 1, 1", held, other)
	}
}

// TestDeadEndpoints: the dead webhook of --dead timeout is held by the
// receiver and never answered; the port of --dead refuse refuses connections.
func TestDeadEndpoints(t *testing.T) {
	t.Parallel()
	rc, err := startReceiver(newClock(), newDeliveries(1, 10, false), []class{healthy}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	post := func(url string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"data":{"hlbench_seq":3}}`))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	timeout, err := startDead(DeadTimeout, rc)
	if err != nil {
		t.Fatal(err)
	}
	defer timeout.release()
	if !strings.HasPrefix(timeout.url, "http://127.0.0.1:") {
		t.Errorf("timeout: got URL %s, want the receiver's on 127.0.0.1", timeout.url)
	}
	if err := post(timeout.url); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: got %v, want no answer before the client's deadline", err)
	}
	if held, received := rc.dead.Load(), rc.deliveries.received.Load(); held != 1 || received != 0 {
		t.Errorf("timeout: got %d held, %d received; want 1 held, none received", held, received)
	}

	refuse, err := startDead(DeadRefuse, rc)
	if err != nil {
		t.Fatal(err)
	}
	defer refuse.release()
	if !strings.HasPrefix(refuse.url, "http://127.0.0.1:") || refuse.url == timeout.url {
		t.Errorf("refuse: got URL %s, want another port on 127.0.0.1", refuse.url)
	}
	for range 3 { // every time, not once
		if err := post(refuse.url); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("refuse: got %v, want connection refused", err)
		}
	}
}
