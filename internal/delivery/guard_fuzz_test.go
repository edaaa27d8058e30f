package delivery

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

// FuzzGuardAddress feeds arbitrary strings through the guard's parser path. It
// calls the decision function only; nothing is dialed.
func FuzzGuardAddress(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1:80", "8.8.8.8:53", "[::1]:443", "[::]:0", "0.0.0.0:80",
		"169.254.169.254:80", "[fd00:ec2::254]:80", "[fe80::1%eth0]:80", "[fe80::1%25eth0]:80",
		"[::ffff:10.0.0.1]:80", "[::ffff:a00:1]:80", "[::ffff:0:a00:1]:80", "[::127.0.0.1]:80",
		"[64:ff9b::a9fe:a9fe]:80", "[64:ff9b::1:a9fe:a9fe]:80", "[64:ff9b:1::a00:1]:80",
		"[2002:a00:1::]:80", "[2002:808:808::5efe:a00:1]:80", "[2606:4700:4700::5efe:a00:1]:80",
		"[2606:4700:4700:0:200:5efe:808:808]:80", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]:80",
		"[2001:1::1]:80", "[2001:1::4]:80", "[2001:db8::1]:80", "[3fff::1]:80", "[fec0::1]:80",
		"[2620:4f:8000::1]:53", "192.0.0.9:80", "192.0.0.10:80", "192.88.99.2:80",
		"[2606:4700:4700::1111]:443", "example.com:443", "1.2.3.4", "[]:80", ":80",
		"0x7f.1:80", "017700000001:80", "127.1:80", "[::ffff:127.0.0.1%lo]:80", "[1.2.3.4]:80",
	} {
		f.Add("tcp", s)
	}
	f.Add("tcp6", "[ff02::1%eth0]:5353")
	f.Add("udp4", "255.255.255.255:67")

	f.Fuzz(func(t *testing.T, network, address string) {
		err := guardControl(network, address, nil)
		host, _, splitErr := net.SplitHostPort(address)
		if splitErr != nil {
			if err == nil {
				t.Fatalf("guardControl(%q, %q): got nil for an address without a port", network, address)
			}
			host = address
		} else {
			var blocked *BlockedError
			ip, parseErr := netip.ParseAddr(host)
			switch {
			case parseErr != nil && !errors.As(err, &blocked):
				t.Fatalf("guardControl(%q, %q): got %v for an unparseable host, want a *BlockedError", network, address, err)
			case parseErr == nil && IsBlockedAddr(ip) != errors.As(err, &blocked):
				t.Fatalf("guardControl(%q, %q): got %v, but IsBlockedAddr(%s) = %v", network, address, err, ip, IsBlockedAddr(ip))
			case parseErr == nil && !IsBlockedAddr(ip) && err != nil:
				t.Fatalf("guardControl(%q, %q): got %v for an allowed address", network, address, err)
			}
		}
		for _, s := range []string{address, host} {
			if ip, err := netip.ParseAddr(s); err == nil {
				checkGuardInvariants(t, ip)
			}
		}
	})
}

func checkGuardInvariants(t *testing.T, ip netip.Addr) {
	t.Helper()
	blocked := IsBlockedAddr(ip)
	if ip.Is6() {
		for _, zone := range []string{"", "eth0", "1"} {
			if got := IsBlockedAddr(ip.WithZone(zone)); got != blocked {
				t.Fatalf("IsBlockedAddr(%s) with zone %q: got %v, want %v", ip, zone, got, blocked)
			}
		}
		address := net.JoinHostPort(ip.WithZone("eth0").String(), "443")
		var be *BlockedError
		if got := errors.As(guardControl("tcp", address, nil), &be); got != blocked {
			t.Fatalf("guardControl(%s): blocked %v, want %v", address, got, blocked)
		}
		unmapped := ip.WithZone("").Unmap()
		nat64 := netip.MustParsePrefix("64:ff9b::/96")
		if !blocked && unmapped.Is6() && !nat64.Contains(unmapped) && !netip.MustParsePrefix("2000::/3").Contains(unmapped) {
			t.Fatalf("IsBlockedAddr(%s): got false outside global unicast", ip)
		}
	}
	// Any four bytes of the input are an IPv4 address whose embedded forms
	// must be judged as it is.
	b := ip.As16()
	v4s := []netip.Addr{netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[2:6]))}
	if ip.Is4() {
		v4s = []netip.Addr{ip}
	}
	for _, v4 := range v4s {
		want := IsBlockedAddr(v4)
		for _, form := range embeddedForms {
			if got := IsBlockedAddr(form.embed(v4)); got != want {
				t.Fatalf("IsBlockedAddr(%s), %s of %s: got %v, want %v", form.embed(v4), form.name, v4, got, want)
			}
		}
	}
}
