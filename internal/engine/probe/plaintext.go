package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// A credential's secret never goes over plain http unless an "http://"
// entry of its allowed_hosts opts in for the host and port, or the
// connection's address is loopback, where cleartext never leaves the
// machine (api.PlaintextRule). An editor who may change an endpoint's URL
// from https to http on the same host would otherwise make aiod send the
// secret in cleartext over the network.
//
// The address is known only once a connection exists, so the guard sits
// in the dial: a request that carries the secret over http without the
// opt-in marks its context (plaintextGuard), and the dial closes a
// connection whose remote address is not allowed before a byte of the
// request is written. Judging the address actually connected to, not a
// name resolved beforehand, leaves no window for a DNS answer to change
// in between.

// plaintextGuardKey is the context key of a request's *plaintextGuard.
type plaintextGuardKey struct{}

// plaintextGuard says whether the connection a request is about to make
// must pass Prober.plaintextOK. It is a pointer in the context so that
// checkRedirect can set it for each hop: Go's client gives every redirect
// request the context of the first.
type plaintextGuard struct {
	// hostPort is set when the guard is active: the URL's host:port,
	// for the error message.
	hostPort string
}

// errPlaintextRefused is the dial's refusal of an address.
type errPlaintextRefused struct{ hostPort string }

func (e *errPlaintextRefused) Error() string {
	return "refused to send a credential over plain http to " + e.hostPort
}

// withPlaintextGuard returns ctx carrying a new inactive guard.
func withPlaintextGuard(ctx context.Context) (context.Context, *plaintextGuard) {
	g := &plaintextGuard{}
	return context.WithValue(ctx, plaintextGuardKey{}, g), g
}

// needsPlaintextCheck returns the host:port of u when a request carrying
// the credential c to u must connect to an address plaintextOK allows: u
// is plain http and no "http://" entry covers it. It returns "" otherwise.
func needsPlaintextCheck(c *Credential, u *url.URL) string {
	if c == nil || !strings.EqualFold(u.Scheme, "http") {
		return ""
	}
	hp := api.HostPort(u)
	host, port, _ := net.SplitHostPort(hp)
	if api.HostsAllowPlaintext(c.AllowedHosts, host, port) {
		return ""
	}
	return hp
}

// refusedPlaintextLiteral tells whether the host of u is an address
// literal that plaintextOK refuses: then the secret need not even be
// opened.
func (p *Prober) refusedPlaintextLiteral(u *url.URL) bool {
	a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]"))
	return err == nil && !p.plaintextOK(a.Unmap())
}

// dialGuarded dials as the egress dialer does and, when ctx carries an
// active guard, refuses a connection whose remote address plaintextOK
// does not allow. The connection is closed before anything is written on
// it.
func (p *Prober) dialGuarded(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := p.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	g, _ := ctx.Value(plaintextGuardKey{}).(*plaintextGuard)
	if g == nil || g.hostPort == "" {
		return conn, nil
	}
	ap, perr := netip.ParseAddrPort(conn.RemoteAddr().String())
	if perr != nil || !p.plaintextOK(ap.Addr().Unmap()) {
		_ = conn.Close()
		return nil, &errPlaintextRefused{hostPort: g.hostPort}
	}
	return conn, nil
}

// plaintextRefused returns the error text of a refusal found in err, or
// "" when err is no such refusal.
func plaintextRefused(credID string, err error, what string) string {
	var pr *errPlaintextRefused
	if !errors.As(err, &pr) {
		return ""
	}
	return plaintextMessage(credID, pr.hostPort, what)
}

// plaintextMessage is the error of a probe that did not send its secret
// over plain http.
func plaintextMessage(credID, hostPort, what string) string {
	return api.PlaintextRefusedMessage(credID, hostPort, what) + "; the secret was not sent"
}

// loopbackOnly is the default of Config.PlaintextOK.
func loopbackOnly(a netip.Addr) bool { return a.IsLoopback() }
