package delivery

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// blockedPrefixes are ranges that standard-library predicates do not cover but
// that must never be reached from a webhook: carrier-grade NAT, "this network",
// IETF protocol assignments, benchmarking, reserved, and broadcast.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// IsBlockedAddr reports whether the private-address guard refuses ip: loopback,
// private (RFC 1918, unique-local IPv6), link-local (which holds the cloud metadata
// address 169.254.169.254), multicast, unspecified and the reserved ranges above.
// IPv4 embedded in IPv6 (mapped, NAT64, 6to4) is judged as the IPv4 address.
func IsBlockedAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			return IsBlockedAddr(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip):
			return IsBlockedAddr(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return ip == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// BlockedError is returned by a dial the guard refused.
type BlockedError struct{ Addr string }

func (e *BlockedError) Error() string {
	return fmt.Sprintf("address %s is private, loopback or link-local; deliveries there are refused (set HOOKLINE_ALLOW_PRIVATE_TARGETS=true to allow)", e.Addr)
}

// guardControl is a net.Dialer Control function: it runs after DNS resolution,
// on the very address about to be connected, so DNS rebinding cannot slip a
// private address past it.
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
