package probe

import (
	"crypto/tls"
	"net/http/httptrace"
	"sync"
	"time"
)

// phases are the optional timings of a result, in milliseconds.
type phases struct {
	dns, connect, tls, firstByte *float64
}

// tracer records httptrace events, for every probe type that dials (the net
// package reports DNS and connect to a dial's client trace too, not only
// the HTTP transport). The hooks run on the transport's
// goroutines (the dial may even finish after the attempt gave up), hence the
// mutex.
type tracer struct {
	mu sync.Mutex
	traceTimes
}

// traceTimes are the recorded events of one hop.
type traceTimes struct {
	dnsStart, dnsDone, connStart, connDone time.Time
	tlsStart, tlsDone, gotConn, firstByte  time.Time
	certExpiry                             *time.Time
}

// clientTrace returns the hooks. A redirect starts a new connection
// (GetConn), which resets the record: the phases describe the final hop,
// like the status code.
func (t *tracer) clientTrace() *httptrace.ClientTrace {
	stamp := func(p *time.Time) {
		now := time.Now()
		t.mu.Lock()
		*p = now
		t.mu.Unlock()
	}
	return &httptrace.ClientTrace{
		GetConn: func(string) {
			t.mu.Lock()
			t.traceTimes = traceTimes{}
			t.mu.Unlock()
		},
		DNSStart: func(httptrace.DNSStartInfo) { stamp(&t.dnsStart) },
		DNSDone:  func(httptrace.DNSDoneInfo) { stamp(&t.dnsDone) },
		ConnectStart: func(string, string) {
			now := time.Now()
			t.mu.Lock()
			if t.connStart.IsZero() { // the first address tried starts the phase
				t.connStart = now
			}
			t.mu.Unlock()
		},
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				stamp(&t.connDone)
			}
		},
		TLSHandshakeStart: func() { stamp(&t.tlsStart) },
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
			if err != nil {
				return
			}
			stamp(&t.tlsDone)
			if len(cs.PeerCertificates) > 0 {
				na := cs.PeerCertificates[0].NotAfter.UTC()
				t.mu.Lock()
				t.certExpiry = &na
				t.mu.Unlock()
			}
		},
		GotConn:              func(httptrace.GotConnInfo) { stamp(&t.gotConn) },
		GotFirstResponseByte: func() { stamp(&t.firstByte) },
	}
}

// result returns the phase durations: DNS (nil for an IP address), connect
// (first dial attempt to established connection), TLS handshake (nil for
// http), and first byte (connection ready to the first response byte:
// writing the request plus the server's think time), and the leaf
// certificate's expiry.
func (t *tracer) result() (phases, *time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	span := func(a, b time.Time) *float64 {
		if a.IsZero() || b.IsZero() || b.Before(a) {
			return nil
		}
		return msPtr(b.Sub(a))
	}
	return phases{
		dns:       span(t.dnsStart, t.dnsDone),
		connect:   span(t.connStart, t.connDone),
		tls:       span(t.tlsStart, t.tlsDone),
		firstByte: span(t.gotConn, t.firstByte),
	}, t.certExpiry
}
