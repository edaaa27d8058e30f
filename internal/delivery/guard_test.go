package delivery

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// These addresses are only values handed to the guard; nothing but loopback is
// ever dialed by the tests.
func TestIsBlockedAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want bool
	}{
		// loopback and unspecified
		{"127.0.0.1", true},
		{"127.255.0.1", true},
		{"::1", true},
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"::", true},
		// private
		{"10.0.0.1", true},
		{"10.255.255.255", true},
		{"172.16.0.1", true},
		{"172.31.255.254", true},
		{"192.168.0.1", true},
		{"192.168.1.100", true},
		{"fc00::1", true},
		{"fd00:ec2::254", true}, // AWS IPv6 metadata
		// link-local, which holds cloud metadata
		{"169.254.169.254", true},
		{"169.254.0.1", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		// carrier-grade NAT, special-purpose and reserved
		{"100.64.0.1", true},
		{"100.127.255.254", true},
		{"192.0.0.170", true},
		{"198.18.0.1", true},
		{"198.19.255.254", true},
		{"240.0.0.1", true},
		{"255.255.255.255", true},
		// multicast
		{"224.0.0.1", true},
		{"239.255.255.250", true},
		{"ff02::1", true},
		{"ff05::2", true},
		// IPv4 hidden in IPv6
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"64:ff9b::a00:1", true},     // NAT64 of 10.0.0.1
		{"64:ff9b::a9fe:a9fe", true}, // NAT64 of 169.254.169.254
		{"2002:a00:1::", true},       // 6to4 of 10.0.0.1
		{"2002:7f00:1::", true},      // 6to4 of 127.0.0.1
		// public
		{"93.184.216.34", false},
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		{"100.63.255.255", false}, // just below CGNAT
		{"100.128.0.1", false},    // just above CGNAT
		{"172.32.0.1", false},     // just above 172.16/12
		{"198.20.0.1", false},     // just above 198.18/15
		{"11.0.0.1", false},
		{"::ffff:93.184.216.34", false},
		{"64:ff9b::5db8:d822", false}, // NAT64 of 93.184.216.34
		{"2002:5db8:d822::", false},   // 6to4 of 93.184.216.34
		{"2606:4700:4700::1111", false},
		{"2001:4860:4860::8888", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			ip, err := netip.ParseAddr(tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			if got := IsBlockedAddr(ip); got != tt.want {
				t.Errorf("IsBlockedAddr(%s): got %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	if !IsBlockedAddr(netip.Addr{}) {
		t.Error("IsBlockedAddr(zero Addr): got false, want true")
	}
}

// guardControl is what the dialer runs on the resolved address; called here
// directly, so no connection is attempted.
func TestGuardControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		address string
		blocked bool
	}{
		{"10.0.0.1:443", true},
		{"169.254.169.254:80", true},
		{"[fd00::1]:443", true},
		{"[::ffff:192.168.1.1]:80", true},
		{"93.184.216.34:443", false},
		{"[2606:4700:4700::1111]:443", false},
	}
	for _, tt := range tests {
		err := guardControl("tcp", tt.address, nil)
		var blocked *BlockedError
		if got := errors.As(err, &blocked); got != tt.blocked {
			t.Errorf("guardControl(%s): got %v, want blocked %v", tt.address, err, tt.blocked)
		}
		if tt.blocked && !strings.Contains(err.Error(), "HOOKLINE_ALLOW_PRIVATE_TARGETS") {
			t.Errorf("guardControl(%s) error %q does not say how to allow it", tt.address, err)
		}
	}
	if err := guardControl("tcp", "not-an-address", nil); err == nil {
		t.Error("guardControl(no port): got nil, want an error")
	}
}

func TestSenderGuardsLoopback(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	ctx := context.Background()
	header := http.Header{"Content-Type": {"application/json"}}

	blocked := NewSender(SenderOptions{BodyLimit: 1024})
	for _, url := range []string{rcv.URL, strings.Replace(rcv.URL, "127.0.0.1", "localhost", 1)} {
		resp := blocked.Send(ctx, url, header, []byte(`{}`), 2*time.Second)
		var be *BlockedError
		if !errors.As(resp.Err, &be) {
			t.Fatalf("send to %s with private targets refused: got %v (status %d), want a *BlockedError", url, resp.Err, resp.StatusCode)
		}
		if !strings.Contains(resp.Err.Error(), "HOOKLINE_ALLOW_PRIVATE_TARGETS") {
			t.Errorf("error %q does not name HOOKLINE_ALLOW_PRIVATE_TARGETS", resp.Err)
		}
		if be.Addr != "127.0.0.1" && be.Addr != "::1" {
			t.Errorf("blocked address: got %q, want a loopback address", be.Addr)
		}
	}
	if n := rcv.count(); n != 0 {
		t.Fatalf("receiver got %d requests through the guard, want 0", n)
	}

	allowed := NewSender(SenderOptions{AllowPrivate: true, BodyLimit: 1024})
	resp := allowed.Send(ctx, rcv.URL, header, []byte(`{}`), 2*time.Second)
	if resp.Err != nil || resp.StatusCode != 200 {
		t.Fatalf("send with private targets allowed: got %d, %v; want 200, nil", resp.StatusCode, resp.Err)
	}
	if n := rcv.count(); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
}

func TestEngineRefusesPrivateTarget(t *testing.T) {
	onEachDriver(t, func(t *testing.T, setup setupFunc) {
		f := setup(t)
		e := f.start(t, func(o *Options) {
			o.Sender = NewSender(SenderOptions{BodyLimit: 1024})
			o.Policy.Schedule = []time.Duration{0}
		})
		rcv := newReceiver(t)
		f.webhook(t, rcv.URL)
		_, d := publishOne(t, e, "a.b", `{}`)

		got := f.waitDelivery(t, d.ID, hookline.DeliveryFailed)
		if !strings.Contains(got.LastError, "HOOKLINE_ALLOW_PRIVATE_TARGETS") || got.LastStatus != 0 {
			t.Errorf("delivery: got status %d, error %q; want 0 and an error naming HOOKLINE_ALLOW_PRIVATE_TARGETS", got.LastStatus, got.LastError)
		}
		if n := rcv.count(); n != 0 {
			t.Errorf("receiver got %d requests, want 0", n)
		}
	})
}
