package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// authFailures throttles failed authentication per client address: each
// address may fail a burst of limit times, refilled evenly over window.
// Once an address has used its budget, every request it sends is answered
// 429 without being authenticated, so that it can neither probe tokens nor
// make aiod look tokens up at its own pace. Tokens are 256-bit random
// values that no one can guess; the limit keeps scanners and misconfigured
// clients from filling the logs and the database's time.
type authFailures struct {
	limit  int
	window time.Duration

	mu    sync.Mutex
	addrs map[netip.Addr]*rate.Limiter
}

// maxTrackedAddrs is the number of addresses above which the ones that
// failed long enough ago to have their whole budget back are forgotten,
// so that the map does not grow with every address that ever failed.
const maxTrackedAddrs = 4096

func newAuthFailures(limit int, window time.Duration) *authFailures {
	return &authFailures{limit: limit, window: window, addrs: map[netip.Addr]*rate.Limiter{}}
}

// clientAddr is the key of a request's client: its remote IP address, or,
// for IPv6, its /64 network, since one host commonly holds a whole /64.
// Behind a reverse proxy this is the proxy's address: X-Forwarded-For is
// not trusted, as any client can send it.
func clientAddr(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	return a, true
}

// blocked tells whether addr has used its budget of failures at now, and
// if so how long until it may try again, in whole seconds rounded up.
func (f *authFailures) blocked(addr netip.Addr, now time.Time) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.addrs[addr]
	if !ok || l.TokensAt(now) >= 1 {
		return "", false
	}
	res := l.ReserveN(now, 1)
	d := res.DelayFrom(now)
	res.CancelAt(now)
	return retryAfterSeconds(d), true
}

// retryAfterSeconds is a Retry-After value for a wait of d: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return fmt.Sprint(max(1, int((d+time.Second-1)/time.Second)))
}

// fail records a failed authentication of addr at now.
func (f *authFailures) fail(addr netip.Addr, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.addrs[addr]
	if !ok {
		if len(f.addrs) >= maxTrackedAddrs {
			for a, old := range f.addrs {
				if old.TokensAt(now) >= float64(f.limit) {
					delete(f.addrs, a)
				}
			}
		}
		l = rate.NewLimiter(rate.Limit(float64(f.limit)/f.window.Seconds()), f.limit)
		f.addrs[addr] = l
	}
	l.AllowN(now, 1)
}
