package probe

import (
	"context"
	"net/http/httptrace"
	"time"
)

// tcpAttempt connects to the endpoint's host:port and closes the connection
// at once. The latency is the time to an established connection (name
// resolution included); only response_time assertions apply, since there is
// no response to inspect. The DNS and connect phases come from the same
// httptrace hooks as HTTP probes: the net package reports them to a dial
// whose context carries a client trace.
func (r *run) tcpAttempt(ctx context.Context) attempt {
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
	ev := &evalInput{latency: a.latency}
	if msg, ok := evaluate(r.t.Monitor.Assertions, ev, true); !ok {
		a.kind, a.err = failResponse, msg
		return a
	}
	a.passed = true
	return a
}
