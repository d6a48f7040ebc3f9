package probe

import (
	"context"
	"net"
	"net/http/httptrace"
	"net/url"
	"time"
)

// tcpRun is a tcp monitor's run: it connects to addr and closes the
// connection at once.
type tcpRun struct {
	*run
	addr string // host:port
}

// prepareTCP is the tcp probe type. A tcp monitor may point at an http(s)
// endpoint: it then checks that the port accepts connections, the scheme's
// default port when the URL names none.
func prepareTCP(r *run, u *url.URL) (attemptFunc, string) {
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	if port == "" {
		return nil, "endpoint URL has no port to connect to"
	}
	tr := &tcpRun{run: r, addr: net.JoinHostPort(u.Hostname(), port)}
	return tr.attempt, ""
}

// attempt connects to the endpoint's host:port and closes the connection at
// once. The latency is the time to an established connection (name
// resolution included); only response_time assertions apply, since there is
// no response to inspect. The DNS and connect phases come from the same
// httptrace hooks as HTTP probes: the net package reports them to a dial
// whose context carries a client trace.
func (r *tcpRun) attempt(ctx context.Context) attempt {
	actx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	tr := &tracer{}
	dctx := httptrace.WithClientTrace(actx, tr.clientTrace())
	start := time.Now()
	conn, err := r.p.dialer.DialContext(dctx, "tcp", r.addr)
	a := attempt{latency: time.Since(start)}
	a.phases, _ = tr.result()
	if err != nil {
		a.kind, a.err = r.classify(ctx, actx, err, "")
		return a
	}
	_ = conn.Close()
	// No response: evaluate applies only the response_time assertions.
	ev := &evalInput{latency: a.latency}
	if msg, ok := evaluate(r.t.Monitor.Assertions, ev); !ok {
		a.kind, a.err = failResponse, msg
		return a
	}
	a.passed = true
	return a
}
