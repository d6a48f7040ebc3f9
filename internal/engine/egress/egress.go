// Package egress decides where probes may connect. A monitor is written by
// an editor but its probe runs inside aiod's network, so without a policy
// any editor could make aiod fetch a cloud metadata service (and read the
// answer back through a body excerpt or an assertion's failure text) or scan
// ports with tcp monitors.
//
// The policy is enforced in the dialer, after DNS resolution: the host name
// is checked against the host deny list before it is resolved, every address
// it resolves to is checked against the CIDR lists, and the connection goes
// to the checked address itself. DNS rebinding (a name that resolves to an
// allowed address when written and to a denied one when probed) and
// redirects (every hop dials anew) therefore cannot get around it.
//
// Precedence, from strongest to weakest:
//
//  1. a host on the deny list (DefaultDenyHosts plus Policy.DenyHosts) is
//     denied before any lookup;
//  2. an address in Policy.DenyCIDRs (explicit deny) is denied;
//  3. an address in Policy.AllowCIDRs (explicit allow) is allowed;
//  4. an address in DefaultDenyCIDRs (default deny) is denied;
//  5. any other address is allowed: monitoring internal services is the
//     product's job.
//
// An explicit allow thus reopens part of the default deny list (say,
// loopback for aiod dev and for services on aiod's own host, or an internal
// service on a link-local address) while an explicit deny always wins.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"
)

// DefaultDenyCIDRs are the addresses no probe reaches unless an allow CIDR
// reopens them: link-local ranges, where every major cloud serves instance
// metadata and credentials, the cloud metadata addresses outside them,
// loopback, and the "this host" addresses, which the kernel connects to the
// local machine and which would otherwise walk around the loopback rule.
//
// Loopback is denied because the services listening there (Consul's and
// Docker's APIs, a kubelet's read-only port, databases without passwords,
// aiod itself) trust whoever can reach them, and a monitor may send any
// method, headers and body: an editor could otherwise drive them from aiod's
// host. aiod dev allows loopback explicitly, and aiod serve does when
// --probe-allow-cidrs names it.
var DefaultDenyCIDRs = []netip.Prefix{
	// IPv4 link-local: AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
	// and Hetzner metadata at 169.254.169.254, the AWS ECS task metadata
	// at 169.254.170.2 and the Kubernetes node-local DNS at 169.254.20.10.
	netip.MustParsePrefix("169.254.0.0/16"),
	// IPv6 link-local.
	netip.MustParsePrefix("fe80::/10"),
	// The AWS instance metadata service over IPv6 (Nitro instances).
	netip.MustParsePrefix("fd00:ec2::254/128"),
	// The Alibaba Cloud metadata service.
	netip.MustParsePrefix("100.100.100.200/32"),
	// The Azure WireServer, which hands VM extension settings (protected
	// settings included) to any process on the VM.
	netip.MustParsePrefix("168.63.129.16/32"),
	// The Oracle Cloud Infrastructure Classic metadata service.
	netip.MustParsePrefix("192.0.0.192/32"),
	// "This network" (RFC 791): a connection to 0.0.0.0 reaches the local
	// host on Linux.
	netip.MustParsePrefix("0.0.0.0/8"),
	// The IPv6 unspecified address, which likewise reaches the local host.
	netip.MustParsePrefix("::/128"),
	// Loopback, IPv4 and IPv6 (LoopbackCIDRs).
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
}

// DefaultDenyHosts are host names denied before any lookup, whatever the
// CIDR lists say: the metadata services' names, so that a resolver that
// answers them (GCE's does, and search domains turn "metadata" into
// "metadata.google.internal") never gets asked on a probe's behalf. A name
// matches exactly, case-insensitively and with or without a trailing dot.
var DefaultDenyHosts = []string{
	"metadata.google.internal", // GCP
	"metadata.goog",            // GCP (alias)
	"metadata",                 // GCP, through the search domain
	"metadata.azure.com",       // Azure
	"instance-data",            // AWS (legacy name of the metadata service)
	"instance-data.ec2.internal",
	"metadata.tencentyun.com", // Tencent Cloud
	"metadata.platformequinix.com",
}

// Policy is an egress policy. The zero value is the default policy:
// DefaultDenyCIDRs and DefaultDenyHosts denied, everything else allowed.
type Policy struct {
	// AllowCIDRs are explicitly allowed: they override DefaultDenyCIDRs.
	AllowCIDRs []netip.Prefix
	// DenyCIDRs are explicitly denied: they override everything.
	DenyCIDRs []netip.Prefix
	// DenyHosts are host names denied before lookup, in addition to
	// DefaultDenyHosts: an exact name, or "*.example.com" for every name
	// under example.com (not example.com itself).
	DenyHosts []string
}

// LoopbackCIDRs are the loopback networks, which DefaultDenyCIDRs denies
// and AllowLoopback reopens.
var LoopbackCIDRs = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// AllowLoopback returns the default policy with loopback allowed
// explicitly: the policy of aiod dev, whose quickstart probes targets on the
// same machine, and of tests and benchmarks whose targets listen on
// loopback. The "this host" addresses (0.0.0.0/8, ::) stay denied.
func AllowLoopback() *Policy {
	return &Policy{AllowCIDRs: slices.Clone(LoopbackCIDRs)}
}

// DeniedError is the error of a connection the policy refused. Its text is
// what a denied probe's result shows.
type DeniedError struct {
	// Host is the denied host name, or "" when an address was denied.
	Host string
	// Addr is the denied address, when an address was denied.
	Addr netip.Addr
	// Rule is the matching deny rule: a CIDR or a host pattern.
	Rule string
	// List names the list the rule is on ("probe deny list" or "default
	// deny list").
	List string
}

func (e *DeniedError) Error() string {
	if e.Host != "" {
		return fmt.Sprintf("egress denied: host %s matches %s (%s)", e.Host, e.Rule, e.List)
	}
	return fmt.Sprintf("egress denied: %s is in %s (%s)", e.Addr, e.Rule, e.List)
}

// Names of the lists a DeniedError cites.
const (
	listExplicit = "probe deny list"
	listDefault  = "default deny list"
)

// ParseCIDRs parses a comma-separated list of CIDRs or bare addresses (a
// bare address is a /32 or /128), as the --probe-*-cidrs flags take them.
// Blank entries are skipped.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			if p != p.Masked() {
				return nil, fmt.Errorf("%q has host bits set; did you mean %s?", f, p.Masked())
			}
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is neither a CIDR nor an IP address", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// ParseHosts parses a comma-separated list of host names or "*.domain"
// patterns, as --probe-deny-hosts takes them. Names are lower-cased and a
// trailing dot dropped; blank entries are skipped.
func ParseHosts(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = normalizeHost(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		name := strings.TrimPrefix(f, "*.")
		if name == "" || strings.ContainsAny(name, "*/:@ ") {
			return nil, fmt.Errorf("%q is not a host name or a *.domain pattern", f)
		}
		out = append(out, f)
	}
	return out, nil
}

func normalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// CheckHost returns a *DeniedError when host (a name or an IP literal, as
// in a URL) is on a host deny list.
func (p *Policy) CheckHost(host string) error {
	h := normalizeHost(strings.Trim(host, "[]"))
	if rule, ok := matchHost(DefaultDenyHosts, h); ok {
		return &DeniedError{Host: h, Rule: rule, List: listDefault}
	}
	if p != nil {
		if rule, ok := matchHost(p.DenyHosts, h); ok {
			return &DeniedError{Host: h, Rule: rule, List: listExplicit}
		}
	}
	return nil
}

func matchHost(patterns []string, h string) (string, bool) {
	for _, pat := range patterns {
		if suffix, ok := strings.CutPrefix(pat, "*."); ok {
			if strings.HasSuffix(h, "."+suffix) {
				return pat, true
			}
		} else if h == pat {
			return pat, true
		}
	}
	return "", false
}

// CheckAddr returns a *DeniedError when the policy denies a connection to
// a. An address that embeds an IPv4 address (IPv4-mapped ::ffff:a.b.c.d,
// or the NAT64 well-known prefix 64:ff9b::/96, which a NAT64 gateway
// translates to that IPv4 address) is also judged as that IPv4 address, so
// that ::ffff:169.254.169.254 is denied like 169.254.169.254.
func (p *Policy) CheckAddr(a netip.Addr) error {
	// Prefix.Contains never matches an address with a zone, so drop it:
	// fe80::1%eth0 is as link-local as fe80::1.
	a = a.WithZone("")
	if err := p.check(a); err != nil {
		return err
	}
	if v4, ok := embeddedIPv4(a); ok {
		if err := p.check(v4); err != nil {
			return err
		}
	}
	return nil
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	switch {
	case a.Is4In6():
		return a.Unmap(), true
	case nat64.Contains(a):
		b := a.As16()
		return netip.AddrFrom4([4]byte(b[12:])), true
	}
	return netip.Addr{}, false
}

func (p *Policy) check(a netip.Addr) error {
	var allow, deny []netip.Prefix
	if p != nil {
		allow, deny = p.AllowCIDRs, p.DenyCIDRs
	}
	if r, ok := firstContaining(deny, a); ok {
		return &DeniedError{Addr: a, Rule: r.String(), List: listExplicit}
	}
	if _, ok := firstContaining(allow, a); ok {
		return nil
	}
	if r, ok := firstContaining(DefaultDenyCIDRs, a); ok {
		return &DeniedError{Addr: a, Rule: r.String(), List: listDefault}
	}
	return nil
}

func firstContaining(ps []netip.Prefix, a netip.Addr) (netip.Prefix, bool) {
	i := slices.IndexFunc(ps, func(p netip.Prefix) bool { return p.Contains(a) })
	if i < 0 {
		return netip.Prefix{}, false
	}
	return ps[i], true
}

// Resolver looks up the addresses of a host name; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Dialer dials TCP connections that the policy allows. Its zero value
// applies the default policy with the system resolver.
type Dialer struct {
	// Policy is the policy to enforce; nil is the default policy.
	Policy *Policy
	// Resolver resolves host names; nil is net.DefaultResolver. DNS
	// timings still reach an httptrace.ClientTrace in the context, since
	// the net package reports lookups to it.
	Resolver Resolver
	// KeepAlive is passed to net.Dialer (negative disables TCP
	// keep-alive probes).
	KeepAlive time.Duration
}

// DialContext connects to addr ("host:port") if the policy allows: the host
// name is checked first (so that a denied name is never even resolved),
// then every address it resolves to. When any of them is denied the dial
// fails without connecting anywhere: a name that mixes allowed and denied
// addresses is suspect, and trying only the allowed ones would make the
// result depend on the order of the answers. Otherwise the addresses are
// tried in order, each dialed as an IP literal so that nothing resolves the
// name a second time, and each checked once more just before connect (in
// net.Dialer.Control) as a last line of defence.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if err := d.Policy.CheckHost(host); err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		r := d.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		ipNet := "ip"
		switch network {
		case "tcp4":
			ipNet = "ip4"
		case "tcp6":
			ipNet = "ip6"
		}
		if ips, err = r.LookupNetIP(ctx, ipNet, host); err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	for _, ip := range ips {
		if err := d.Policy.CheckAddr(ip); err != nil {
			return nil, err
		}
	}
	nd := &net.Dialer{KeepAlive: d.KeepAlive, Control: d.control}
	ips = interleave(ips)
	var first error
	for i, ip := range ips {
		dctx, cancel := partialDeadline(ctx, len(ips)-i)
		// Canceling after the dial does not touch an established
		// connection.
		conn, err := nd.DialContext(dctx, network, net.JoinHostPort(ip.String(), port))
		cancel()
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// minDialShare is the least time one address gets when several share the
// dial's deadline, as in the net package.
const minDialShare = 2 * time.Second

// partialDeadline gives one of the remaining addresses its share of ctx's
// deadline, so that an address that swallows packets does not take all the
// time from the ones after it (net.Dialer does the same; the addresses are
// dialed one by one here because each is checked before it is dialed).
func partialDeadline(ctx context.Context, remaining int) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok || remaining <= 1 {
		return ctx, func() {}
	}
	left := time.Until(deadline)
	return context.WithTimeout(ctx, max(left/time.Duration(remaining), min(minDialShare, left)))
}

// interleave alternates the address families, first family first (RFC
// 8305 §4), so that a family that does not work costs one attempt, not one
// per address.
func interleave(ips []netip.Addr) []netip.Addr {
	if len(ips) < 3 {
		return ips
	}
	var same, other []netip.Addr
	for _, ip := range ips {
		if ip.Unmap().Is4() == ips[0].Unmap().Is4() {
			same = append(same, ip)
		} else {
			other = append(other, ip)
		}
	}
	out := make([]netip.Addr, 0, len(ips))
	for i := 0; i < len(same) || i < len(other); i++ {
		if i < len(same) {
			out = append(out, same[i])
		}
		if i < len(other) {
			out = append(out, other[i])
		}
	}
	return out
}

// control checks the address the socket is about to connect to.
func (d *Dialer) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("egress denied: cannot check the address %q", address)
	}
	return d.Policy.CheckAddr(ap.Addr())
}

// IsDenied tells whether err (or an error it wraps) is a policy denial.
func IsDenied(err error) bool {
	var de *DeniedError
	return errors.As(err, &de)
}
