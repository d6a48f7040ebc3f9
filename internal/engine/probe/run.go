package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
)

// run is one probe run's prepared state, shared by its attempts: what every
// probe type needs (the scrubber, the timeout, the credential's secret once
// opened) and the attempt function of the monitor's type, which holds what
// only that type needs.
type run struct {
	p *Prober
	t *Target

	scrub         scrubber
	placement     credentialHeaders
	timeout       time.Duration
	degradedAfter time.Duration

	// problem is set when the monitor cannot be probed at all (unknown
	// type, bad URL, bad CA certificate): every attempt fails with it and
	// none is retried.
	problem string
	// try makes one attempt; the probe type's prepareFunc returned it.
	try attemptFunc

	// The secret, opened at most once per run (see openSecret).
	secret       []byte
	secretOpened bool
}

// newRun resolves the monitor's implicit behaviour (defaults, URL) once for
// all attempts of a run, and hands the rest to the prepareFunc registered
// for the monitor's type.
func (p *Prober) newRun(t *Target) *run {
	m := &t.Monitor
	r := &run{
		p:         p,
		t:         t,
		timeout:   m.EffectiveTimeout(),
		placement: credentialPlacement(t.Credential),
	}
	if m.DegradedResponseTime != nil {
		if d, err := api.ParseDuration(*m.DegradedResponseTime); err == nil {
			r.degradedAfter = d
		}
	}
	u, err := url.Parse(t.Endpoint.URL)
	if err != nil || u.Host == "" {
		r.problem = "invalid endpoint URL"
		return r
	}
	if u.RawQuery != "" {
		r.scrub.add(u.RawQuery)
	}
	typ := m.Type
	if typ == "" {
		// Only callers that skip validation leave the type unset. Infer
		// it from the scheme as the API does; a scheme that implies no
		// type gets http, whose preparation then names the schemes it
		// needs.
		if typ = api.MonitorTypeForScheme[u.Scheme]; typ == "" {
			typ = api.MonitorHTTP
		}
	}
	prepare, ok := p.types[typ]
	if !ok {
		r.problem = fmt.Sprintf("unknown monitor type %q", typ)
		return r
	}
	r.try, r.problem = prepare(r, u)
	return r
}

// close ends the run, zeroing the decrypted secret: best effort, since
// strings built from it cannot be zeroed, but it shortens the time the
// plain bytes sit in memory.
func (r *run) close() {
	clear(r.secret)
}

// attempt makes one try.
func (r *run) attempt(ctx context.Context) attempt {
	switch {
	case r.problem != "":
		return attempt{kind: failFatal, err: r.problem}
	case ctx.Err() != nil:
		return attempt{kind: failFatal, err: "probe canceled: " + ctx.Err().Error()}
	}
	return r.try(ctx)
}

// classify turns a transport error into a failure kind and sanitized text.
func (r *run) classify(ctx, actx context.Context, err error, prefix string) (failKind, string) {
	msg := prefix + sanitizeError(err)
	switch {
	case ctx.Err() != nil:
		return failFatal, "probe canceled: " + msg
	case errors.As(err, new(*errPlaintextRefused)):
		// The credential's opt-in, not the network, must change: no
		// retry.
		return failFatal, plaintextRefused(r.t.Credential.ID, err, "")
	case egress.IsDenied(err):
		// The policy will not change between attempts: no retry, and
		// no traffic.
		return failFatal, msg
	case isTimeout(actx, err):
		return failTimeout, fmt.Sprintf("timeout after %s: %s", r.timeout, msg)
	case errors.Is(err, errTooManyRedirects):
		return failOther, msg
	}
	return failNetwork, msg
}

// isTimeout tells whether err comes from the attempt's deadline.
func isTimeout(actx context.Context, err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(actx.Err(), context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
