// Package probe runs one probe of a monitor against its endpoint: the HTTP
// request or TCP connect, the monitor's assertions, and its retries, and
// returns the api.ProbeResult the engine records.
//
// The package knows nothing about scheduling or storage: the scheduler calls
// Prober.Probe once per run and decides what to do with the result. Keeping
// it that way lets the probe be tested against real local targets without a
// database, and lets the scheduler be tested without the network.
//
// Secrets: a credential's secret is decrypted (Credential.Open) only while a
// probe runs, never logged and never stored; error text is scrubbed of it
// and of the URL's query string, because error text is stored and shown in
// the API.
package probe

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
)

// DefaultMaxBodyBytes is how much of a response body a probe reads when
// Config.MaxBodyBytes is not set. A monitor checks health, not downloads:
// reading more would only cost memory at a thousand probes per second.
const DefaultMaxBodyBytes int64 = 1 << 20

// MaxRedirects is how many redirects an HTTP probe follows before failing,
// the same bound browsers and Go's default client use.
const MaxRedirects = 10

// BodyExcerptBytes bounds the body excerpt kept on a failed probe: enough to
// see an error message, too little to be a copy of the data.
const BodyExcerptBytes = 512

// Target is what one probe run needs: the monitor, its endpoint and the
// credential to apply, resolved by the caller so that this package never
// reads the store.
type Target struct {
	// Monitor is the monitor to probe, already Normalize()d.
	Monitor api.Monitor
	// Endpoint gives the URL (http, https or tcp) and the data
	// classification, which decides whether a body excerpt may be kept.
	Endpoint api.Endpoint
	// Credential is the credential to apply: the monitor's
	// request.credential_id, or else the endpoint's credential_id; nil when
	// none. TCP probes ignore it.
	Credential *Credential
}

// Credential is a credential's metadata together with a way to decrypt its
// secret. The secret is not passed in the clear so that it exists in memory
// only while a probe that needs it runs.
type Credential struct {
	// Credential holds the metadata (type, header, query_param, username,
	// token_url, client_id, scopes, ID, SecretRevision). Its Secret field
	// is ignored.
	api.Credential
	// Open decrypts the secret. It is called only when a probe runs (and
	// for oauth2_client_credentials only when no cached token is valid);
	// the result is never logged or stored, and its bytes are zeroed when
	// the probe ends.
	Open func(ctx context.Context) ([]byte, error)
}

// Config holds the Prober's dependencies. Every field is optional.
type Config struct {
	// Clock stamps results (ProbeResult.Time is the start of the run) and
	// ages cached OAuth2 tokens. Durations (latency, phases) are measured
	// with the monotonic clock regardless, because a fake clock does not
	// move while a real request runs. Default clock.Real.
	Clock clock.Clock
	// Sleep waits between retries. It must return early with an error when
	// ctx is done. Default: a timer honoring ctx; tests inject a recorder so
	// that backoff costs no real time.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxBodyBytes is how much of a response body is read at most; bytes
	// beyond it are neither read nor counted. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Rand returns a number in [0, 1) for backoff jitter. Default
	// math/rand/v2.Float64.
	Rand func() float64
	// Egress is the policy every connection of a probe obeys: HTTP
	// requests and each of their redirect hops, TCP connects and OAuth2
	// token requests. Nil is the default policy (egress.Policy's zero
	// value), never "allow everything", so that a caller who forgets it
	// still keeps probes away from the metadata services.
	Egress *egress.Policy
	// PlaintextOK tells whether a credential's secret may go over plain
	// http to a connection's address when no "http://" entry of the
	// credential's allowed_hosts opts in (api.PlaintextRule). Default:
	// only loopback addresses, where cleartext never leaves the machine.
	// Tests set it to refuse everything, to prove the refusal against a
	// receiver on 127.0.0.1.
	PlaintextOK func(netip.Addr) bool
}

// prepareFunc is one probe type. Given a run's shared state and the
// endpoint URL, it resolves once what its attempts need (an address to
// dial, a request and its transport) and returns the function that makes
// one attempt; the shared code around it (Prober.Probe) retries, judges the
// outcome and builds the result the same way for every type. A non-empty
// problem means the monitor cannot be probed at all: every attempt fails
// with it and none is retried.
type prepareFunc func(r *run, u *url.URL) (try attemptFunc, problem string)

// attemptFunc makes one attempt of a run.
type attemptFunc func(ctx context.Context) attempt

// builtinTypes maps each monitor type aiod probes to its prepareFunc, one
// file per protocol. Adding a protocol is a file with its prepareFunc and
// one entry here (and the type in api). The map is built afresh for each
// Prober, so that no package-level state can be changed behind a running
// engine.
func builtinTypes() map[string]prepareFunc {
	return map[string]prepareFunc{
		api.MonitorHTTP: prepareHTTP,
		api.MonitorTCP:  prepareTCP,
	}
}

// Prober runs probes. It is safe for concurrent use: the scheduler calls
// Probe from many goroutines. It caches HTTP transports (one per distinct
// TLS configuration) and OAuth2 access tokens.
type Prober struct {
	// types is the registry of probe types, read-only once built.
	types map[string]prepareFunc

	clock   clock.Clock
	sleep   func(ctx context.Context, d time.Duration) error
	maxBody int64
	rand    func() float64
	dialer  *egress.Dialer
	// plaintextOK is Config.PlaintextOK (see dialGuarded).
	plaintextOK func(netip.Addr) bool

	mu         sync.Mutex
	transports map[tlsKey]*http.Transport
	tokens     map[tokenKey]*tokenEntry

	// tokenClient fetches OAuth2 tokens. It is separate from the probe
	// transports because token requests are not measured and may reuse
	// connections, and it never follows redirects so that the client
	// secret in the form body cannot be replayed to another host (Go
	// resends the body on 307 and 308).
	tokenClient *http.Client
	// plainTokenClient fetches tokens from plain http token URLs. It
	// keeps no idle connections, so that every such request dials and
	// passes dialGuarded: a pooled connection would skip the check.
	plainTokenClient *http.Client

	// bufs recycles body buffers: at a thousand probes per second,
	// allocating a fresh buffer per response is the largest garbage source.
	bufs sync.Pool
}

// New returns a Prober for the built-in probe types with cfg's defaults
// filled in.
func New(cfg Config) *Prober {
	return newProber(cfg, builtinTypes())
}

// newProber returns a Prober for the probe types in types, which it keeps
// and never changes; a monitor of any other type gets a down result that
// names its type.
func newProber(cfg Config, types map[string]prepareFunc) *Prober {
	p := &Prober{
		types:       types,
		clock:       cfg.Clock,
		sleep:       cfg.Sleep,
		maxBody:     cfg.MaxBodyBytes,
		rand:        cfg.Rand,
		plaintextOK: cfg.PlaintextOK,
		// Connections live for one request: no TCP keep-alive probes.
		dialer:     &egress.Dialer{Policy: cfg.Egress, KeepAlive: -1},
		transports: map[tlsKey]*http.Transport{},
		tokens:     map[tokenKey]*tokenEntry{},
	}
	if p.clock == nil {
		p.clock = clock.Real{}
	}
	if p.sleep == nil {
		p.sleep = sleepCtx
	}
	if p.maxBody <= 0 {
		p.maxBody = DefaultMaxBodyBytes
	}
	if p.rand == nil {
		p.rand = rand.Float64
	}
	if p.plaintextOK == nil {
		p.plaintextOK = loopbackOnly
	}
	p.tokenClient = &http.Client{
		Transport: &http.Transport{
			Proxy:               nil, // no proxy from the environment: aiod reaches targets directly
			DialContext:         p.dialGuarded,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	p.plainTokenClient = &http.Client{
		Transport: &http.Transport{
			Proxy:             nil,
			DialContext:       p.dialGuarded,
			DisableKeepAlives: true,
		},
		CheckRedirect: p.tokenClient.CheckRedirect,
	}
	return p
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// failKind says why an attempt failed; the retry strategy's retry_on
// decides from it whether to try again.
type failKind int

const (
	failNone     failKind = iota
	failNetwork           // no response: refused, reset, DNS, TLS handshake
	failTimeout           // the per-attempt timeout expired
	failResponse          // a response came but did not pass the assertions
	failOther             // e.g. the token endpoint refused: retried only when retry_on is unset
	failFatal             // bad configuration or the run was canceled: never retried
)

// attempt is the outcome of one try.
type attempt struct {
	passed     bool
	kind       failKind
	err        string // already sanitized
	status     *int
	latency    time.Duration
	phases     phases
	certExpiry *time.Time
	bytes      int64
	excerpt    *string
}

// Probe runs one probe of t (the first attempt and its retries) and returns
// the result. It never returns an error: every failure is a result with
// outcome down, because a failed probe is data, not a fault of the engine.
// When ctx is done the run stops (no further retries) and the result is
// down with the cancellation in its error.
func (p *Prober) Probe(ctx context.Context, t Target) api.ProbeResult {
	res := api.ProbeResult{MonitorID: t.Monitor.ID, Time: p.clock.Now()}

	r := p.newRun(&t)
	defer r.close()

	pol := newRetryPolicy(t.Monitor.Retry)
	var a attempt
	n := 0
	for {
		n++
		a = r.attempt(ctx)
		if a.passed || n > pol.Retries || !pol.shouldRetry(a) || ctx.Err() != nil {
			break
		}
		if err := p.sleep(ctx, pol.backoff(n, p.rand)); err != nil {
			break
		}
	}

	res.Attempts = n
	res.StatusCode = a.status
	res.LatencyMS = ms(a.latency)
	res.DNSMS = a.phases.dns
	res.ConnectMS = a.phases.connect
	res.TLSMS = a.phases.tls
	res.FirstByteMS = a.phases.firstByte
	res.TLSCertExpiresAt = a.certExpiry
	res.BytesReceived = a.bytes
	switch {
	case !a.passed:
		res.Outcome = api.OutcomeDown
		msg := r.scrub.clean(a.err)
		res.Error = &msg
		if a.excerpt != nil && excerptAllowed(t.Endpoint.DataClassification) {
			ex := r.scrub.clean(*a.excerpt)
			res.BodyExcerpt = &ex
		}
	case n > 1:
		// Passing only after a retry counts as degraded: the endpoint
		// works, but not reliably.
		res.Outcome = api.OutcomeDegraded
	case r.degradedAfter > 0 && a.latency > r.degradedAfter:
		res.Outcome = api.OutcomeDegraded
	default:
		res.Outcome = api.OutcomeUp
	}
	return res
}

// excerptAllowed tells whether a body excerpt may be kept for an endpoint of
// the given classification, and likewise whether assertion failures may
// quote the response's content (headers, body, JSON values): error text is
// stored and shown like an excerpt, so the same rule applies to both. It is an allow-list (public, internal, and unset,
// which the API defaults to internal) rather than a deny-list of pii and
// confidential, so that a classification added later keeps no bodies until
// someone decides otherwise.
func excerptAllowed(class string) bool {
	switch class {
	case api.ClassPublic, api.ClassInternal, "":
		return true
	}
	return false
}

// ms converts a duration to fractional milliseconds, the unit of results.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// msPtr is ms for the optional phase durations.
func msPtr(d time.Duration) *float64 {
	v := ms(d)
	return &v
}

// CloseIdleConnections closes the idle connections of the token endpoint
// client (probe transports keep none), for a clean shutdown.
func (p *Prober) CloseIdleConnections() {
	p.tokenClient.CloseIdleConnections()
	p.plainTokenClient.CloseIdleConnections()
}
