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

// The guard tests hand addresses to the decision function only; nothing but
// loopback is ever dialed.

// registryCase is one registry entry: its first, a middle and its last address,
// and whether the guard refuses them.
type registryCase struct {
	prefix              string
	name                string
	first, middle, last string
	blocked             bool
}

// ipv4Cases follow the IANA IPv4 Special-Purpose Address Registry, plus multicast.
var ipv4Cases = []registryCase{
	{"0.0.0.0/8", "This network", "0.0.0.0", "0.128.0.1", "0.255.255.255", true},
	{"0.0.0.0/32", "This host on this network", "0.0.0.0", "0.0.0.0", "0.0.0.0", true},
	{"10.0.0.0/8", "Private-Use", "10.0.0.0", "10.1.2.3", "10.255.255.255", true},
	{"100.64.0.0/10", "Shared Address Space", "100.64.0.0", "100.100.100.100", "100.127.255.255", true},
	{"127.0.0.0/8", "Loopback", "127.0.0.0", "127.0.0.1", "127.255.255.255", true},
	{"169.254.0.0/16", "Link Local", "169.254.0.0", "169.254.169.254", "169.254.255.255", true},
	{"172.16.0.0/12", "Private-Use", "172.16.0.0", "172.20.10.1", "172.31.255.255", true},
	{"192.0.0.0/24", "IETF Protocol Assignments", "192.0.0.0", "192.0.0.100", "192.0.0.255", true},
	{"192.0.0.0/29", "IPv4 Service Continuity Prefix", "192.0.0.0", "192.0.0.2", "192.0.0.7", true},
	{"192.0.0.8/32", "IPv4 dummy address", "192.0.0.8", "192.0.0.8", "192.0.0.8", true},
	{"192.0.0.9/32", "Port Control Protocol Anycast", "192.0.0.9", "192.0.0.9", "192.0.0.9", false},
	{"192.0.0.10/32", "TURN Anycast", "192.0.0.10", "192.0.0.10", "192.0.0.10", false},
	{"192.0.0.170/32", "NAT64/DNS64 Discovery", "192.0.0.170", "192.0.0.170", "192.0.0.170", true},
	{"192.0.0.171/32", "NAT64/DNS64 Discovery", "192.0.0.171", "192.0.0.171", "192.0.0.171", true},
	{"192.0.2.0/24", "Documentation (TEST-NET-1)", "192.0.2.0", "192.0.2.1", "192.0.2.255", true},
	{"192.31.196.0/24", "AS112-v4", "192.31.196.0", "192.31.196.1", "192.31.196.255", false},
	{"192.52.193.0/24", "AMT", "192.52.193.0", "192.52.193.1", "192.52.193.255", false},
	{"192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "192.88.99.0", "192.88.99.1", "192.88.99.255", true},
	{"192.88.99.2/32", "6a44-relay anycast address", "192.88.99.2", "192.88.99.2", "192.88.99.2", true},
	{"192.168.0.0/16", "Private-Use", "192.168.0.0", "192.168.1.1", "192.168.255.255", true},
	{"192.175.48.0/24", "Direct Delegation AS112 Service", "192.175.48.0", "192.175.48.6", "192.175.48.255", false},
	{"198.18.0.0/15", "Benchmarking", "198.18.0.0", "198.19.0.1", "198.19.255.255", true},
	{"198.51.100.0/24", "Documentation (TEST-NET-2)", "198.51.100.0", "198.51.100.1", "198.51.100.255", true},
	{"203.0.113.0/24", "Documentation (TEST-NET-3)", "203.0.113.0", "203.0.113.1", "203.0.113.255", true},
	{"240.0.0.0/4", "Reserved", "240.0.0.0", "250.1.2.3", "255.255.255.255", true},
	{"255.255.255.255/32", "Limited Broadcast", "255.255.255.255", "255.255.255.255", "255.255.255.255", true},
	{"224.0.0.0/4", "Multicast", "224.0.0.0", "239.255.255.250", "239.255.255.255", true},
}

// ipv6Cases follow the IANA IPv6 Special-Purpose Address Registry and the IPv6
// Address Space registry; the rows that embed IPv4 are in embeddedForms.
var ipv6Cases = []registryCase{
	{"::1/128", "Loopback Address", "::1", "::1", "::1", true},
	{"::/128", "Unspecified Address", "::", "::", "::", true},
	{"64:ff9b:1::/48", "IPv4-IPv6 Translat. (local use)", "64:ff9b:1::", "64:ff9b:1::808:808", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", true},
	{"100::/64", "Discard-Only Address Block", "100::", "100::1", "100::ffff:ffff:ffff:ffff", true},
	{"100:0:0:1::/64", "Dummy IPv6 Prefix", "100:0:0:1::", "100:0:0:1::1", "100:0:0:1:ffff:ffff:ffff:ffff", true},
	{"2001::/23", "IETF Protocol Assignments", "2001::", "2001:100::1", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"2001::/32", "TEREDO", "2001::", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"2001:1::1/128", "Port Control Protocol Anycast", "2001:1::1", "2001:1::1", "2001:1::1", false},
	{"2001:1::2/128", "TURN Anycast", "2001:1::2", "2001:1::2", "2001:1::2", false},
	{"2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "2001:1::3", "2001:1::3", "2001:1::3", false},
	{"2001:2::/48", "Benchmarking", "2001:2::", "2001:2::1", "2001:2:0:ffff:ffff:ffff:ffff:ffff", true},
	{"2001:3::/32", "AMT", "2001:3::", "2001:3::1", "2001:3:ffff:ffff:ffff:ffff:ffff:ffff", false},
	{"2001:4:112::/48", "AS112-v6", "2001:4:112::", "2001:4:112::1", "2001:4:112:ffff:ffff:ffff:ffff:ffff", false},
	{"2001:10::/28", "Deprecated (previously ORCHID)", "2001:10::", "2001:10::1", "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"2001:20::/28", "ORCHIDv2", "2001:20::", "2001:20::1", "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", false},
	{"2001:30::/28", "Drone Remote ID Protocol Entity Tags", "2001:30::", "2001:30::1", "2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", false},
	{"2001:db8::/32", "Documentation", "2001:db8::", "2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"2620:4f:8000::/48", "Direct Delegation AS112 Service", "2620:4f:8000::", "2620:4f:8000::1", "2620:4f:8000:ffff:ffff:ffff:ffff:ffff", false},
	{"3fff::/20", "Documentation", "3fff::", "3fff::1", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"5f00::/16", "Segment Routing (SRv6) SIDs", "5f00::", "5f00::1", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"fc00::/7", "Unique-Local", "fc00::", "fd00:ec2::254", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"fe80::/10", "Link-Local Unicast", "fe80::", "fe80::1", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	// IPv6 Address Space: only Global Unicast is reachable.
	{"::/8", "Reserved by IETF", "::", "80::1", "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"::/96", "Deprecated IPv4-compatible", "::", "::808:808", "::ffff:ffff", true},
	{"::ffff:0:0:0/96", "SIIT IPv4-translated", "::ffff:0:0:0", "::ffff:0:808:808", "::ffff:0:ffff:ffff", true},
	{"100::/8", "Reserved by IETF", "100::", "180::1", "1ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"200::/7", "Reserved by IETF", "200::", "200::1", "3ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"400::/6", "Reserved by IETF", "400::", "400::1", "7ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"800::/5", "Reserved by IETF", "800::", "800::1", "fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"1000::/4", "Reserved by IETF", "1000::", "1000::1", "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"2000::/3", "Global Unicast", "2000::", "2606:4700:4700::1111", "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
	{"4000::/3", "Reserved by IETF", "4000::", "4000::1", "5fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"6000::/3", "Reserved by IETF", "6000::", "6000::1", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"8000::/3", "Reserved by IETF", "8000::", "8000::1", "9fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"a000::/3", "Reserved by IETF", "a000::", "a000::1", "bfff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"c000::/3", "Reserved by IETF", "c000::", "c000::1", "dfff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"e000::/4", "Reserved by IETF", "e000::", "e000::1", "efff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"f000::/5", "Reserved by IETF", "f000::", "f000::1", "f7ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"f800::/6", "Reserved by IETF", "f800::", "f800::1", "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"fe00::/9", "Reserved by IETF", "fe00::", "fe00::1", "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"fec0::/10", "Deprecated site-local", "fec0::", "fec0::1", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"ff00::/8", "Multicast", "ff00::", "ff02::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
}

// neighbourCases sit just outside a range, or just beside an exception inside one.
var neighbourCases = []struct {
	addr    string
	blocked bool
}{
	{"1.0.0.0", false}, {"9.255.255.255", false}, {"11.0.0.0", false},
	{"100.63.255.255", false}, {"100.128.0.0", false},
	{"126.255.255.255", false}, {"128.0.0.0", false},
	{"169.253.255.255", false}, {"169.255.0.0", false},
	{"172.15.255.255", false}, {"172.32.0.0", false},
	{"191.255.255.255", false}, {"192.0.1.0", false}, {"192.0.1.255", false}, {"192.0.3.0", false},
	{"192.0.0.11", true}, {"192.0.0.169", true}, {"192.0.0.172", true},
	{"192.88.98.255", false}, {"192.88.100.0", false}, {"192.88.99.3", true},
	{"192.167.255.255", false}, {"192.169.0.0", false},
	{"198.17.255.255", false}, {"198.20.0.0", false},
	{"198.51.99.255", false}, {"198.51.101.0", false},
	{"203.0.112.255", false}, {"203.0.114.0", false},
	{"223.255.255.255", false},
	{"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false}, {"2001:200::", false},
	{"2001:1::", true}, {"2001:1::4", true}, {"2001:2:1::", true},
	{"2001:2:ffff:ffff:ffff:ffff:ffff:ffff", true}, {"2001:4::", true},
	{"2001:4:111:ffff:ffff:ffff:ffff:ffff", true}, {"2001:4:113::", true},
	{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false}, {"2001:db9::", false},
	{"2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false}, {"2003::", false},
	{"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false}, {"3fff:1000::", false},
	{"64:ff9b::1:0:0:1", true}, // past the NAT64 /96: reserved ::/8
	// public
	{"8.8.8.8", false}, {"1.1.1.1", false}, {"93.184.216.34", false},
	{"2606:4700:4700::1111", false}, {"2001:4860:4860::8888", false},
}

// embeddedForms are the IPv6 forms that carry an IPv4 address; each is judged
// as that address.
var embeddedForms = []struct {
	name   string
	prefix string // the registry row; empty for ISATAP, an identifier under any prefix
	embed  func(v4 netip.Addr) netip.Addr
}{
	{"IPv4-mapped", "::ffff:0:0/96", func(v4 netip.Addr) netip.Addr { return embed4("::ffff:0:0", v4, 12) }},
	{"NAT64", "64:ff9b::/96", func(v4 netip.Addr) netip.Addr { return embed4("64:ff9b::", v4, 12) }},
	{"6to4", "2002::/16", func(v4 netip.Addr) netip.Addr { return embed4("2002::", v4, 2) }},
	{"6to4 host", "2002::/16", func(v4 netip.Addr) netip.Addr { return embed4("2002:0:0:1::1", v4, 2) }},
	{"ISATAP", "", func(v4 netip.Addr) netip.Addr { return embed4("2606:4700:4700::5efe:0:0", v4, 12) }},
	{"ISATAP u-bit", "", func(v4 netip.Addr) netip.Addr { return embed4("2606:4700:4700:0:200:5efe::", v4, 12) }},
	{"ISATAP in 6to4", "", func(v4 netip.Addr) netip.Addr { return embed4("2002::5efe:0:0", v4, 2, 12) }},
}

// embed4 writes v4 into base at each byte offset.
func embed4(base string, v4 netip.Addr, at ...int) netip.Addr {
	b := netip.MustParseAddr(base).As16()
	a := v4.As4()
	for _, i := range at {
		copy(b[i:i+4], a[:])
	}
	return netip.AddrFrom16(b)
}

func checkRegistry(t *testing.T, cases []registryCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.prefix, func(t *testing.T) {
			t.Parallel()
			for _, s := range []string{c.first, c.middle, c.last} {
				if got := IsBlockedAddr(netip.MustParseAddr(s)); got != c.blocked {
					t.Errorf("%s (%s) IsBlockedAddr(%s): got %v, want %v", c.prefix, c.name, s, got, c.blocked)
				}
			}
		})
	}
}

func TestGuardIPv4Registry(t *testing.T) {
	t.Parallel()
	checkRegistry(t, ipv4Cases)
}

func TestGuardIPv6Registry(t *testing.T) {
	t.Parallel()
	checkRegistry(t, ipv6Cases)
}

func TestGuardNeighbours(t *testing.T) {
	t.Parallel()
	for _, c := range neighbourCases {
		if got := IsBlockedAddr(netip.MustParseAddr(c.addr)); got != c.blocked {
			t.Errorf("IsBlockedAddr(%s): got %v, want %v", c.addr, got, c.blocked)
		}
	}
}

// Every embedded form of every IPv4 test address is judged as the IPv4 address.
func TestGuardEmbeddedIPv4(t *testing.T) {
	t.Parallel()
	var v4s []netip.Addr
	for _, c := range ipv4Cases {
		for _, s := range []string{c.first, c.middle, c.last} {
			v4s = append(v4s, netip.MustParseAddr(s))
		}
	}
	for _, c := range neighbourCases {
		if ip := netip.MustParseAddr(c.addr); ip.Is4() {
			v4s = append(v4s, ip)
		}
	}
	for _, f := range embeddedForms {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			for _, v4 := range v4s {
				want := IsBlockedAddr(v4)
				ip := f.embed(v4)
				if got := IsBlockedAddr(ip); got != want {
					t.Errorf("IsBlockedAddr(%s), %s of %s: got %v, want %v", ip, f.name, v4, got, want)
				}
			}
		})
	}
}

func TestIsBlockedAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want bool
	}{
		{"::ffff:127.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:93.184.216.34", false},
		{"64:ff9b::a9fe:a9fe", true}, // NAT64 of 169.254.169.254
		{"64:ff9b::5db8:d822", false},
		{"2002:a00:1::", true}, // 6to4 of 10.0.0.1
		{"2002:5db8:d822::", false},
		{"fe80::5efe:808:808", true},         // ISATAP of a public address, link-local prefix
		{"2002:808:808::5efe:a00:1", true},   // 6to4 of 8.8.8.8, ISATAP of 10.0.0.1
		{"2002:a00:1::5efe:808:808", true},   // 6to4 of 10.0.0.1, ISATAP of 8.8.8.8
		{"2001:4860::200:5efe:7f00:1", true}, // ISATAP of 127.0.0.1
		{"2001:4860::5efe:808:808", false},
		{"2001:4860::100:5efe:7f00:1", false}, // not an ISATAP identifier
		{"::127.0.0.1", true},                 // IPv4-compatible, deprecated
		{"::ffff:0:93.184.216.34", true},      // SIIT
		{"2001:0:4136:e378::", true},          // Teredo of a public server
		{"2001:4:112::1%eth0", false},
		{"fe80::1%eth0", true},
		{"64:ff9b::a00:1%eth0", true},
		{"2002:a00:1::%eth0", true},
		{"2001:db8::1%1", true},
	}
	for _, tt := range tests {
		if got := IsBlockedAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("IsBlockedAddr(%s): got %v, want %v", tt.addr, got, tt.want)
		}
	}
	if !IsBlockedAddr(netip.Addr{}) {
		t.Error("IsBlockedAddr(zero Addr): got false, want true")
	}
}

// A zone names an interface, not an address: it never changes the decision.
func TestGuardZone(t *testing.T) {
	t.Parallel()
	addrs := []string{"2606:4700:4700::1111", "64:ff9b::a00:1", "2002:a00:1::", "2001:4860::5efe:a00:1"}
	for _, c := range ipv6Cases {
		addrs = append(addrs, c.first, c.middle, c.last)
	}
	for _, s := range addrs {
		ip := netip.MustParseAddr(s)
		want := IsBlockedAddr(ip)
		for _, zone := range []string{"eth0", "1", "en0"} {
			if got := IsBlockedAddr(ip.WithZone(zone)); got != want {
				t.Errorf("IsBlockedAddr(%s%%%s): got %v, want %v", s, zone, got, want)
			}
		}
	}
}

// The test tables and the guard's tables must describe the same registries.
func TestGuardRegistryTables(t *testing.T) {
	t.Parallel()
	tested := map[netip.Prefix]bool{}
	for _, cases := range [][]registryCase{ipv4Cases, ipv6Cases} {
		for _, c := range cases {
			p := netip.MustParsePrefix(c.prefix)
			tested[p] = true
			first, last := p.Masked().Addr(), lastAddr(p)
			if netip.MustParseAddr(c.first) != first || netip.MustParseAddr(c.last) != last {
				t.Errorf("case %s: first %s, last %s; want %s, %s", c.prefix, c.first, c.last, first, last)
			}
			if !p.Contains(netip.MustParseAddr(c.middle)) {
				t.Errorf("case %s: middle %s is outside", c.prefix, c.middle)
			}
		}
	}
	for _, f := range embeddedForms {
		if f.prefix != "" {
			tested[netip.MustParsePrefix(f.prefix)] = true
		}
	}
	for _, table := range [][]registryEntry{ipv4Special, ipv6Special, ipv6Space} {
		seen := map[netip.Prefix]bool{}
		for _, e := range table {
			switch {
			case e.prefix != e.prefix.Masked():
				t.Errorf("entry %s (%s): prefix has host bits", e.prefix, e.name)
			case seen[e.prefix]:
				t.Errorf("entry %s (%s): listed twice", e.prefix, e.name)
			case !tested[e.prefix]:
				t.Errorf("entry %s (%s): no test case", e.prefix, e.name)
			}
			seen[e.prefix] = true
		}
	}
	// The address-space blocks (all /10 or shorter) must tile the whole space.
	var units int
	var blocks []netip.Prefix
	for _, e := range ipv6Space {
		if e.prefix.Bits() <= 10 {
			units += 1 << (10 - e.prefix.Bits())
			for _, b := range blocks {
				if b.Overlaps(e.prefix) {
					t.Errorf("address space: %s overlaps %s", e.prefix, b)
				}
			}
			blocks = append(blocks, e.prefix)
		}
	}
	if units != 1<<10 {
		t.Errorf("address space: blocks cover %d/1024 of it, want all", units)
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
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
		{"[fe80::1%eth0]:80", true},
		{"[64:ff9b::a00:1%eth0]:80", true},
		{"[2001:db8::1]:443", true},
		{"192.0.2.1:443", true},
		{"example.com:443", true}, // not an address: refused
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
