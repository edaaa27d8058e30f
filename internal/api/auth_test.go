package api

import (
	"net/http"
	"testing"
)

// The failed-authentication throttle counts an IPv6 client by its /64: one
// host may use any address of it.
func TestClientAddr(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ remote, want string }{
		{"192.0.2.7:5123", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:5123", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:80", "fe80::/64"},
		{"not an address", "not an address"},
	} {
		if got := clientAddr(&http.Request{RemoteAddr: c.remote}); got != c.want {
			t.Errorf("clientAddr(%q): got %q, want %q", c.remote, got, c.want)
		}
	}
}
