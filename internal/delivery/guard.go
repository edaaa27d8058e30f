package delivery

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// registryEntry is one row of an IANA address registry, with the block, name and
// RFC as the registry gives them.
type registryEntry struct {
	prefix netip.Prefix
	name   string
	rfc    string
	// global is the registry's "Globally Reachable" column; N/A and blank count
	// as false. Only a global address may be reached from a webhook.
	global bool
	// v4At, when not zero, is the byte offset of an IPv4 address the block
	// embeds; the address is then judged as that IPv4 address, not by global.
	v4At int
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// ipv4Special is the IANA IPv4 Special-Purpose Address Registry (RFC 6890, as
// amended by RFC 8190), plus multicast. An address in no row is global unicast.
var ipv4Special = []registryEntry{
	{mustPrefix("0.0.0.0/8"), `"This network"`, "RFC 791, Section 3.2", false, 0},
	{mustPrefix("0.0.0.0/32"), `"This host on this network"`, "RFC 1122, Section 3.2.1.3", false, 0},
	{mustPrefix("10.0.0.0/8"), "Private-Use", "RFC 1918", false, 0},
	{mustPrefix("100.64.0.0/10"), "Shared Address Space", "RFC 6598", false, 0},
	{mustPrefix("127.0.0.0/8"), "Loopback", "RFC 1122, Section 3.2.1.3", false, 0},
	{mustPrefix("169.254.0.0/16"), "Link Local", "RFC 3927", false, 0},
	{mustPrefix("172.16.0.0/12"), "Private-Use", "RFC 1918", false, 0},
	{mustPrefix("192.0.0.0/24"), "IETF Protocol Assignments", "RFC 6890, Section 2.1", false, 0},
	{mustPrefix("192.0.0.0/29"), "IPv4 Service Continuity Prefix", "RFC 7335", false, 0},
	{mustPrefix("192.0.0.8/32"), "IPv4 dummy address", "RFC 7600", false, 0},
	{mustPrefix("192.0.0.9/32"), "Port Control Protocol Anycast", "RFC 7723", true, 0},
	{mustPrefix("192.0.0.10/32"), "Traversal Using Relays around NAT Anycast", "RFC 8155", true, 0},
	{mustPrefix("192.0.0.170/32"), "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 Section 2.2", false, 0},
	{mustPrefix("192.0.0.171/32"), "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 Section 2.2", false, 0},
	{mustPrefix("192.0.2.0/24"), "Documentation (TEST-NET-1)", "RFC 5737", false, 0},
	{mustPrefix("192.31.196.0/24"), "AS112-v4", "RFC 7535", true, 0},
	{mustPrefix("192.52.193.0/24"), "AMT", "RFC 7450", true, 0},
	{mustPrefix("192.88.99.0/24"), "Deprecated (6to4 Relay Anycast)", "RFC 7526", false, 0}, // columns blank since 2015
	{mustPrefix("192.88.99.2/32"), "6a44-relay anycast address", "RFC 6751", false, 0},
	{mustPrefix("192.168.0.0/16"), "Private-Use", "RFC 1918", false, 0},
	{mustPrefix("192.175.48.0/24"), "Direct Delegation AS112 Service", "RFC 7534", true, 0},
	{mustPrefix("198.18.0.0/15"), "Benchmarking", "RFC 2544", false, 0},
	{mustPrefix("198.51.100.0/24"), "Documentation (TEST-NET-2)", "RFC 5737", false, 0},
	{mustPrefix("203.0.113.0/24"), "Documentation (TEST-NET-3)", "RFC 5737", false, 0},
	{mustPrefix("240.0.0.0/4"), "Reserved", "RFC 1112, Section 4", false, 0},
	{mustPrefix("255.255.255.255/32"), "Limited Broadcast", "RFC 8190, RFC 919 Section 7", false, 0},
	// From the IPv4 Multicast Address Space registry: never a webhook receiver.
	{mustPrefix("224.0.0.0/4"), "Multicast", "RFC 5771", false, 0},
}

// ipv6Special is the IANA IPv6 Special-Purpose Address Registry (RFC 6890, as
// amended by RFC 8190). It is read over ipv6Space, the more specific row winning.
//
// The 2001::/23 exceptions were checked against the registry as last known
// (2025); IANA may have added rows since. 2001:1::3/128 (RFC 9665) and
// 100:0:0:1::/64 (RFC 9780) are the newest. A missing True row only blocks a
// rare anycast service; a missing False row inside 2000::/3 would let it through.
var ipv6Special = []registryEntry{
	{mustPrefix("::1/128"), "Loopback Address", "RFC 4291", false, 0},
	{mustPrefix("::/128"), "Unspecified Address", "RFC 4291", false, 0},
	{mustPrefix("::ffff:0:0/96"), "IPv4-mapped Address", "RFC 4291", false, 12},
	{mustPrefix("64:ff9b::/96"), "IPv4-IPv6 Translat.", "RFC 6052", true, 12},
	{mustPrefix("64:ff9b:1::/48"), "IPv4-IPv6 Translat.", "RFC 8215", false, 0},
	{mustPrefix("100::/64"), "Discard-Only Address Block", "RFC 6666", false, 0},
	{mustPrefix("100:0:0:1::/64"), "Dummy IPv6 Prefix", "RFC 9780", false, 0},
	{mustPrefix("2001::/23"), "IETF Protocol Assignments", "RFC 2928", false, 0},
	// Teredo tunnels to an IPv4 host the guard cannot see: N/A, blocked.
	{mustPrefix("2001::/32"), "TEREDO", "RFC 4380, RFC 8190", false, 0},
	{mustPrefix("2001:1::1/128"), "Port Control Protocol Anycast", "RFC 7723", true, 0},
	{mustPrefix("2001:1::2/128"), "Traversal Using Relays around NAT Anycast", "RFC 8155", true, 0},
	{mustPrefix("2001:1::3/128"), "DNS-SD Service Registration Protocol Anycast", "RFC 9665", true, 0},
	{mustPrefix("2001:2::/48"), "Benchmarking", "RFC 5180, RFC Errata 1752", false, 0},
	{mustPrefix("2001:3::/32"), "AMT", "RFC 7450", true, 0},
	{mustPrefix("2001:4:112::/48"), "AS112-v6", "RFC 7535", true, 0},
	{mustPrefix("2001:10::/28"), "Deprecated (previously ORCHID)", "RFC 4843", false, 0}, // N/A
	{mustPrefix("2001:20::/28"), "ORCHIDv2", "RFC 7343", true, 0},
	{mustPrefix("2001:30::/28"), "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", true, 0},
	{mustPrefix("2001:db8::/32"), "Documentation", "RFC 3849", false, 0},
	{mustPrefix("2002::/16"), "6to4", "RFC 3056", false, 2}, // N/A; the IPv4 after 2002: decides
	{mustPrefix("2620:4f:8000::/48"), "Direct Delegation AS112 Service", "RFC 7534", true, 0},
	{mustPrefix("3fff::/20"), "Documentation", "RFC 9637", false, 0},
	{mustPrefix("5f00::/16"), "Segment Routing (SRv6) SIDs", "RFC 9602", false, 0},
	{mustPrefix("fc00::/7"), "Unique-Local", "RFC 4193, RFC 8190", false, 0},
	{mustPrefix("fe80::/10"), "Link-Local Unicast", "RFC 4291", false, 0},
}

// ipv6Space is the IANA IPv6 Address Space registry: it covers every address,
// and only Global Unicast is global. The ::/96 and ::ffff:0:0:0/96 rows are
// from RFCs the ::/8 row's notes cite, kept here to name them.
var ipv6Space = []registryEntry{
	{mustPrefix("::/8"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("::/96"), "Deprecated IPv4-compatible", "RFC 4291, Section 2.5.5.1", false, 0},
	{mustPrefix("::ffff:0:0:0/96"), "SIIT IPv4-translated (obsolete)", "RFC 2765", false, 0},
	{mustPrefix("100::/8"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("200::/7"), "Reserved by IETF", "RFC 4048", false, 0},
	{mustPrefix("400::/6"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("800::/5"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("1000::/4"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("2000::/3"), "Global Unicast", "RFC 4291", true, 0},
	{mustPrefix("4000::/3"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("6000::/3"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("8000::/3"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("a000::/3"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("c000::/3"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("e000::/4"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("f000::/5"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("f800::/6"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("fc00::/7"), "Unique Local Unicast", "RFC 4193", false, 0},
	{mustPrefix("fe00::/9"), "Reserved by IETF", "RFC 4291", false, 0},
	{mustPrefix("fe80::/10"), "Link-Scoped Unicast", "RFC 4291", false, 0},
	{mustPrefix("fec0::/10"), "Reserved by IETF (deprecated site-local)", "RFC 3879", false, 0},
	{mustPrefix("ff00::/8"), "Multicast", "RFC 4291", false, 0},
}

// isatapIDs start the ISATAP interface identifiers (RFC 5214, Section 6.1):
// under any prefix, the low 64 bits are one of these and then an IPv4 address.
var isatapIDs = [][4]byte{{0x00, 0x00, 0x5e, 0xfe}, {0x02, 0x00, 0x5e, 0xfe}}

// IsBlockedAddr reports whether the private-address guard refuses ip. Only
// globally reachable unicast passes: IPv4 outside the blocks the IANA IPv4
// Special-Purpose registry marks not globally reachable (private, loopback,
// link-local with the cloud metadata address 169.254.169.254, shared, reserved,
// documentation, benchmarking, broadcast) and outside multicast; IPv6 inside
// global unicast 2000::/3 outside the IPv6 registry's not globally reachable
// blocks. IPv6 that embeds an IPv4 address (mapped, NAT64 64:ff9b::/96, 6to4,
// ISATAP) is refused when that IPv4 address is. A zone is ignored; the zero
// Addr is refused.
func IsBlockedAddr(ip netip.Addr) bool {
	ip = ip.WithZone("") // Prefix.Contains never matches a zoned address
	switch {
	case ip.Is4():
		e, ok := lookup(ip, ipv4Special)
		return ok && !e.global
	case ip.Is6():
		return isBlocked6(ip)
	}
	return true
}

func isBlocked6(ip netip.Addr) bool {
	b := ip.As16()
	id := [4]byte(b[8:12])
	for _, isatap := range isatapIDs {
		if id == isatap && IsBlockedAddr(netip.AddrFrom4([4]byte(b[12:16]))) {
			return true
		}
	}
	e, ok := lookup(ip, ipv6Special, ipv6Space)
	switch {
	case !ok: // unreachable: ipv6Space covers every address
		return true
	case e.v4At != 0:
		return IsBlockedAddr(netip.AddrFrom4([4]byte(b[e.v4At : e.v4At+4])))
	}
	return !e.global
}

// lookup returns the most specific entry of tables holding ip; between
// entries of one length, the earlier table wins.
func lookup(ip netip.Addr, tables ...[]registryEntry) (registryEntry, bool) {
	var best registryEntry
	found := false
	for _, table := range tables {
		for _, e := range table {
			if e.prefix.Contains(ip) && (!found || e.prefix.Bits() > best.prefix.Bits()) {
				best, found = e, true
			}
		}
	}
	return best, found
}

// BlockedError is returned by a dial the guard refused.
type BlockedError struct{ Addr string }

func (e *BlockedError) Error() string {
	return fmt.Sprintf("address %s is not a public address (private, loopback, link-local, reserved or special-purpose); deliveries there are refused (set HOOKLINE_ALLOW_PRIVATE_TARGETS=true to allow)", e.Addr)
}

// guardControl is a net.Dialer Control function: it runs after DNS resolution,
// on the very address about to be connected, so DNS rebinding cannot slip a
// private address past it. An address it cannot parse is refused.
func guardControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return &BlockedError{Addr: host}
	}
	if IsBlockedAddr(ip) {
		return &BlockedError{Addr: ip.String()}
	}
	return nil
}
