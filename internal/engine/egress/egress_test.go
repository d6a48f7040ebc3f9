package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestDefaultDenyList pins the default deny lists: shrinking them silently
// would reopen a metadata service to every editor, so a change must be a
// deliberate edit of this test too.
func TestDefaultDenyList(t *testing.T) {
	var cidrs []string
	for _, p := range DefaultDenyCIDRs {
		cidrs = append(cidrs, p.String())
	}
	want := []string{"169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32",
		"168.63.129.16/32", "192.0.0.192/32", "0.0.0.0/8", "::/128", "127.0.0.0/8", "::1/128"}
	if !slices.Equal(cidrs, want) {
		t.Errorf("DefaultDenyCIDRs = %v, want %v", cidrs, want)
	}
	wantHosts := []string{"metadata.google.internal", "metadata.goog", "metadata", "metadata.azure.com",
		"instance-data", "instance-data.ec2.internal", "metadata.tencentyun.com", "metadata.platformequinix.com"}
	if !slices.Equal(DefaultDenyHosts, wantHosts) {
		t.Errorf("DefaultDenyHosts = %v, want %v", DefaultDenyHosts, wantHosts)
	}

	var p Policy // the zero value is the default policy
	denied := []string{"169.254.169.254", "169.254.170.2", "fe80::1", "fe80::1%eth0", "fd00:ec2::254",
		"100.100.100.200", "168.63.129.16", "192.0.0.192", "0.0.0.0", "0.1.2.3", "::",
		"::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe",
		// Loopback: the local admin services trust whoever reaches them.
		"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1"}
	for _, s := range denied {
		err := p.CheckAddr(netip.MustParseAddr(s))
		var de *DeniedError
		if !errors.As(err, &de) || de.List != listDefault {
			t.Errorf("default policy: %s: got %v, want a denial from the default deny list", s, err)
		}
	}
	allowed := []string{"10.0.0.1", "192.168.1.1", "8.8.8.8", "2001:db8::1",
		"fd00:ec2::253", "100.100.100.201", "169.253.255.255"}
	for _, s := range allowed {
		if err := p.CheckAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("default policy: %s: %v, want allowed", s, err)
		}
	}
	for _, h := range []string{"metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "metadata", "metadata.goog"} {
		if err := p.CheckHost(h); err == nil {
			t.Errorf("default policy: host %s allowed, want denied", h)
		}
	}
	for _, h := range []string{"localhost", "metadata.example.com", "google.internal", "127.0.0.1", "[::1]"} {
		if err := p.CheckHost(h); err != nil {
			t.Errorf("default policy: host %s: %v, want allowed", h, err)
		}
	}
}

// TestAllowLoopback: the policy of aiod dev and of tests reopens loopback
// and nothing else of the default deny list.
func TestAllowLoopback(t *testing.T) {
	p := AllowLoopback()
	for _, s := range []string{"127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1", "10.0.0.1"} {
		if err := p.CheckAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("%s: %v, want allowed", s, err)
		}
	}
	for _, s := range []string{"0.0.0.0", "::", "169.254.169.254", "fd00:ec2::254"} {
		if err := p.CheckAddr(netip.MustParseAddr(s)); err == nil {
			t.Errorf("%s allowed, want denied", s)
		}
	}
	if err := p.CheckHost("metadata.google.internal"); err == nil {
		t.Error("metadata.google.internal allowed, want denied")
	}
	// Each call returns its own policy, so that a caller who adds to it
	// does not change another's.
	p.AllowCIDRs[0] = netip.MustParsePrefix("10.0.0.0/8")
	if got := AllowLoopback().AllowCIDRs[0].String(); got != "127.0.0.0/8" {
		t.Errorf("AllowLoopback shares its list: %s", got)
	}
}

// TestPrecedence checks the documented order: explicit deny, explicit
// allow, default deny, default allow.
func TestPrecedence(t *testing.T) {
	p := &Policy{
		AllowCIDRs: mustCIDRs(t, "169.254.20.0/24, 10.0.0.0/8"),
		DenyCIDRs:  mustCIDRs(t, "169.254.20.10, 10.1.0.0/16, 127.0.0.0/8"),
		DenyHosts:  mustHosts(t, "*.corp.example, db.example"),
	}
	cases := []struct {
		addr string
		want string // "" allowed, else the error text
	}{
		{"169.254.20.10", "egress denied: 169.254.20.10 is in 169.254.20.10/32 (probe deny list)"},
		{"169.254.20.11", ""}, // explicit allow beats default deny
		{"169.254.169.254", "egress denied: 169.254.169.254 is in 169.254.0.0/16 (default deny list)"},
		{"10.1.2.3", "egress denied: 10.1.2.3 is in 10.1.0.0/16 (probe deny list)"}, // explicit deny beats explicit allow
		{"10.2.3.4", ""},
		{"127.0.0.1", "egress denied: 127.0.0.1 is in 127.0.0.0/8 (probe deny list)"},
		{"::ffff:127.0.0.1", "egress denied: 127.0.0.1 is in 127.0.0.0/8 (probe deny list)"},
		{"192.168.0.1", ""},
	}
	for _, c := range cases {
		err := p.CheckAddr(netip.MustParseAddr(c.addr))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.addr, got, c.want)
		}
	}
	for h, want := range map[string]string{
		"a.corp.example":           "egress denied: host a.corp.example matches *.corp.example (probe deny list)",
		"corp.example":             "",
		"DB.example.":              "egress denied: host db.example matches db.example (probe deny list)",
		"db.example.org":           "",
		"metadata.google.internal": "egress denied: host metadata.google.internal matches metadata.google.internal (default deny list)",
	} {
		got := ""
		if err := p.CheckHost(h); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("host %s: got %q, want %q", h, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	ps, err := ParseCIDRs(" 10.0.0.0/8,,fd00::/8 , 127.0.0.2,::1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	if want := []string{"10.0.0.0/8", "fd00::/8", "127.0.0.2/32", "::1/128"}; !slices.Equal(got, want) {
		t.Errorf("ParseCIDRs = %v, want %v", got, want)
	}
	for _, bad := range []string{"10.0.0.1/8", "nope", "10.0.0.0/33", "fe80::1%eth0"} {
		if _, err := ParseCIDRs(bad); err == nil {
			t.Errorf("ParseCIDRs(%q): want an error", bad)
		}
	}
	hs, err := ParseHosts("Metadata.Example.,*.corp.example, ")
	if err != nil || !slices.Equal(hs, []string{"metadata.example", "*.corp.example"}) {
		t.Errorf("ParseHosts = %v, %v", hs, err)
	}
	for _, bad := range []string{"*.", "a*b.example", "http://x", "x:80"} {
		if _, err := ParseHosts(bad); err == nil {
			t.Errorf("ParseHosts(%q): want an error", bad)
		}
	}
}

// rebinder answers with a different address list on each lookup, as a DNS
// server controlled by an attacker would.
type rebinder struct {
	answers [][]netip.Addr
	n       atomic.Int32
}

func (r *rebinder) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	i := int(r.n.Add(1)) - 1
	return r.answers[min(i, len(r.answers)-1)], nil
}

// listen opens a listener on addr that counts the connections it accepts.
func listen(t *testing.T, addr string) (net.Listener, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return ln, &n
}

// TestDialerChecksResolvedAddresses resolves a name through a resolver
// that first answers an allowed address and then a denied one (DNS
// rebinding), and one that mixes both: the dialer connects only where every
// answer is allowed.
func TestDialerChecksResolvedAddresses(t *testing.T) {
	ln, accepted := listen(t, "127.0.0.2:0")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	allowed, denied := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	allowedLn, allowedAccepted := listen(t, "127.0.0.1:"+port)
	_ = allowedLn
	r := &rebinder{answers: [][]netip.Addr{{allowed}, {denied}, {allowed, denied}}}
	// Loopback is on the default deny list: reopen it, then deny one
	// address of it, the way a deployment that monitors local services
	// but not one of them would.
	d := &Dialer{Policy: &Policy{AllowCIDRs: LoopbackCIDRs, DenyCIDRs: mustCIDRs(t, "127.0.0.2/32")}, Resolver: r}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("rebind.test", port))
	if err != nil {
		t.Fatalf("first lookup (allowed address): %v", err)
	}
	conn.Close()
	for i := range 2 {
		_, err := d.DialContext(ctx, "tcp", net.JoinHostPort("rebind.test", port))
		if err == nil || err.Error() != "egress denied: 127.0.0.2 is in 127.0.0.2/32 (probe deny list)" {
			t.Fatalf("lookup %d: got %v, want the denial", i+2, err)
		}
	}
	// A denied IP literal is refused before any lookup.
	if _, err := d.DialContext(ctx, "tcp", ln.Addr().String()); !IsDenied(err) {
		t.Fatalf("IP literal: got %v, want a denial", err)
	}
	if r.n.Load() != 3 {
		t.Errorf("lookups: %d, want 3 (none for the literal)", r.n.Load())
	}
	time.Sleep(50 * time.Millisecond) // let the accept loops count
	if n := accepted.Load(); n != 0 {
		t.Errorf("the denied listener accepted %d connections", n)
	}
	if n := allowedAccepted.Load(); n != 1 {
		t.Errorf("the allowed listener accepted %d connections, want 1", n)
	}
}

// TestDefaultDialerDeniesLoopback: the default policy (what aiod serve runs
// without flags) connects to no loopback listener, whether the probe names
// an address or a name that resolves to one.
func TestDefaultDialerDeniesLoopback(t *testing.T) {
	ln, accepted := listen(t, "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	r := &rebinder{answers: [][]netip.Addr{{netip.MustParseAddr("127.0.0.1")}}}
	d := &Dialer{Resolver: r}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, addr := range []string{ln.Addr().String(), net.JoinHostPort("localhost", port), net.JoinHostPort("::ffff:127.0.0.1", port)} {
		_, err := d.DialContext(ctx, "tcp", addr)
		if err == nil || !strings.Contains(err.Error(), "is in 127.0.0.0/8 (default deny list)") {
			t.Errorf("%s: got %v, want a denial from the default deny list", addr, err)
		}
	}
	time.Sleep(50 * time.Millisecond) // let the accept loop count
	if n := accepted.Load(); n != 0 {
		t.Errorf("the loopback listener accepted %d connections", n)
	}
}

// TestDialerDeniesHostBeforeLookup: a denied name is never resolved.
func TestDialerDeniesHostBeforeLookup(t *testing.T) {
	r := &rebinder{answers: [][]netip.Addr{{netip.MustParseAddr("127.0.0.1")}}}
	d := &Dialer{Policy: &Policy{DenyHosts: []string{"*.internal.test"}}, Resolver: r}
	_, err := d.DialContext(context.Background(), "tcp", "db.internal.test:5432")
	if err == nil || !strings.Contains(err.Error(), "host db.internal.test matches *.internal.test") {
		t.Fatalf("got %v", err)
	}
	if r.n.Load() != 0 {
		t.Fatal("a denied host name was resolved")
	}
}

func mustCIDRs(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	ps, err := ParseCIDRs(s)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func mustHosts(t *testing.T, s string) []string {
	t.Helper()
	hs, err := ParseHosts(s)
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

func TestInterleave(t *testing.T) {
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	got := interleave([]netip.Addr{a("::1"), a("::2"), a("::3"), a("10.0.0.1"), a("10.0.0.2")})
	want := []netip.Addr{a("::1"), a("10.0.0.1"), a("::2"), a("10.0.0.2"), a("::3")}
	if !slices.Equal(got, want) {
		t.Errorf("interleave = %v, want %v", got, want)
	}
	// Three addresses are the fewest that can be reordered; the first
	// family may also be the smaller one.
	for _, tc := range []struct{ in, want []netip.Addr }{
		{[]netip.Addr{a("::1"), a("::2"), a("10.0.0.1")}, []netip.Addr{a("::1"), a("10.0.0.1"), a("::2")}},
		{[]netip.Addr{a("10.0.0.1"), a("::1"), a("::2")}, []netip.Addr{a("10.0.0.1"), a("::1"), a("::2")}},
		{[]netip.Addr{a("::1"), a("10.0.0.1")}, []netip.Addr{a("::1"), a("10.0.0.1")}},
	} {
		if got := interleave(slices.Clone(tc.in)); !slices.Equal(got, tc.want) {
			t.Errorf("interleave(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestDialerReturnsTheFirstError: when no address answers, the dial fails
// with the error of the first address tried.
func TestDialerReturnsTheFirstError(t *testing.T) {
	// A port taken on 127.0.0.1 only: nothing listens on it at 127.0.0.3
	// or 127.0.0.4, so both refuse at once.
	ln, _ := listen(t, "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	r := &rebinder{answers: [][]netip.Addr{{netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("127.0.0.4")}}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := (&Dialer{Policy: AllowLoopback(), Resolver: r}).DialContext(ctx, "tcp", net.JoinHostPort("none.test", port))
	if conn != nil {
		conn.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "127.0.0.3:"+port) {
		t.Fatalf("got %v, %v; want the refusal of 127.0.0.3:%s", conn, err, port)
	}
}

// blackhole listens on addr ("ip:0") with an accept queue of one and fills
// it, so that the kernel drops every further SYN to it: a connect there
// hangs until its deadline, like one to a host that swallows packets.
func blackhole(t *testing.T, ip netip.Addr) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Skipf("socket: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: ip.As4()}); err != nil {
		t.Skipf("bind %s: %v", ip, err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Skipf("listen: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	addr := net.JoinHostPort(ip.String(), strconv.Itoa(port))
	// The first connection fills the queue (nothing accepts it); the next
	// must then time out, or this kernel does not drop SYNs that way.
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Skipf("filling the accept queue of %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if c2, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		c2.Close()
		t.Skipf("%s still accepts with a full queue", addr)
	}
	return port
}

// TestDialerSharesTheDeadline: an address that swallows packets takes only
// its share of the dial's deadline (at least minDialShare), so the address
// after it still gets time to connect.
func TestDialerSharesTheDeadline(t *testing.T) {
	bh := netip.MustParseAddr("127.0.0.5")
	port := strconv.Itoa(blackhole(t, bh))
	_, accepted := listen(t, "127.0.0.1:"+port)
	r := &rebinder{answers: [][]netip.Addr{{bh, netip.MustParseAddr("127.0.0.1")}}}
	// 3 s: the black hole gets max(3 s / 2, minDialShare) = 2 s, the
	// listener the last second. Without the share the black hole would
	// take all 3 s.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := (&Dialer{Policy: AllowLoopback(), Resolver: r}).DialContext(ctx, "tcp", net.JoinHostPort("slow.test", port))
	if err != nil {
		t.Fatalf("dial: %v; want the connection to 127.0.0.1 after the black hole's share", err)
	}
	conn.Close()
	deadline := time.Now().Add(2 * time.Second)
	for accepted.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if accepted.Load() != 1 {
		t.Errorf("accepted %d connections, want 1", accepted.Load())
	}
}

// TestDialerTriesTheNextAddress: an address that refuses the connection
// does not end the dial while another answers.
func TestDialerTriesTheNextAddress(t *testing.T) {
	ln, accepted := listen(t, "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	// Nothing listens on 127.0.0.3 at that port: refused at once.
	r := &rebinder{answers: [][]netip.Addr{{netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("127.0.0.1")}}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := (&Dialer{Policy: AllowLoopback(), Resolver: r}).DialContext(ctx, "tcp", net.JoinHostPort("two.test", port))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	deadline := time.Now().Add(2 * time.Second)
	for accepted.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if accepted.Load() != 1 {
		t.Errorf("accepted %d connections, want 1", accepted.Load())
	}
}
