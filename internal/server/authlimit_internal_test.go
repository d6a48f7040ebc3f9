package server

import (
	"net/http"
	"net/netip"
	"testing"
	"time"
)

// TestClientAddr checks the key of the per-address limit: the remote IP,
// an IPv4-mapped address as IPv4, and for IPv6 the /64, so that one host
// cannot get a fresh budget from each of its addresses.
func TestClientAddr(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.7:5000":              "192.0.2.7",
		"[::ffff:192.0.2.7]:5000":     "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:5000": "2001:db8:1:2::",
		"[2001:db8:1:2:ffff::1]:5000": "2001:db8:1:2::",
		"[fe80::1%eth0]:5000":         "fe80::",
		"[::1]:5000":                  "::",
	} {
		got, ok := clientAddr(&http.Request{RemoteAddr: remote})
		if !ok || got != netip.MustParseAddr(want) {
			t.Errorf("clientAddr(%q) = %v, %v; want %s", remote, got, ok, want)
		}
	}
	if _, ok := clientAddr(&http.Request{RemoteAddr: "not an address"}); ok {
		t.Error("clientAddr of a RemoteAddr that is no address succeeded")
	}
}

// TestAuthFailuresForgetsIdleAddresses checks that the table of addresses
// does not grow without bound: once it holds maxTrackedAddrs, a new
// address drops those whose budget is whole again, and blocked ones are
// kept.
func TestAuthFailuresForgetsIdleAddresses(t *testing.T) {
	f := newAuthFailures(2, time.Minute)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	blocked := netip.MustParseAddr("192.0.2.1")
	f.fail(blocked, t0)
	f.fail(blocked, t0)
	// Exactly full: the blocked address and maxTrackedAddrs-1 others.
	for i := range maxTrackedAddrs - 1 {
		f.fail(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), t0)
	}
	if _, ok := f.blocked(blocked, t0); !ok {
		t.Fatal("an address that failed twice with a budget of two is not blocked")
	}
	// Half a minute later every address that failed once has its budget
	// of two back, while the blocked one has one try back, not two. A new
	// address makes the sweep.
	later := t0.Add(30 * time.Second)
	fresh := netip.MustParseAddr("192.0.2.2")
	f.fail(fresh, later)
	if _, ok := f.addrs[blocked]; !ok {
		t.Error("the sweep forgot an address whose budget is not whole")
	}
	if n := len(f.addrs); n != 2 {
		t.Errorf("%d addresses tracked after the sweep, want 2 (the blocked one and the new one)", n)
	}
}
