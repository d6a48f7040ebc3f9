package probe

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// userAgent identifies probes in the targets' logs, so that their owners can
// tell monitoring traffic from users. A monitor's headers may override it.
const userAgent = "aio-probe/1"

// The per-connection buffer sizes of the probe transports (see transport).
const (
	probeWriteBuffer = 1 << 10
	probeReadBuffer  = 2 << 10
)

// errTooManyRedirects ends a redirect chain longer than MaxRedirects.
var errTooManyRedirects = fmt.Errorf("stopped after %d redirects", MaxRedirects)

// httpRun is an http monitor's run: the request every attempt sends and
// the client that sends it.
type httpRun struct {
	*run

	url     *url.URL // the request URL, without the credential
	method  string
	body    string
	headers map[string]string
	follow  bool
	// serverName is the monitor's TLS server name, if any.
	serverName string
	client     *http.Client

	// token is the OAuth2 access token applied to the current attempt.
	token string
	// guard is the current attempt's plaintext guard; checkRedirect
	// sets it for each hop (see plaintextGuard).
	guard *plaintextGuard
	// sentCredential is set once an attempt has put the credential on
	// its request: from then on, responses are redacted before anything
	// looks at them (see redactResponse).
	sentCredential bool
}

// redactResponse returns the body and header values with every form of
// every secret the probe used replaced by the marker, for assertions, the
// excerpt and failure text to look at instead of what the target sent.
// Scrubbing only what leaves the probe is not enough: whether an assertion
// passes is itself visible, so a `text_body contains "X-Api-Key: ab"`
// against a target that echoes requests would tell a viewer, guess by
// guess, the secret's characters. A secret inside a JSON string becomes
// the marker inside that string, so the body stays valid JSON. When the
// body was cut at the read limit (truncated), a tail that begins a form of
// a secret is removed too, since a cut secret is no longer a whole form and
// its prefix would answer the same guesses. Only probes that sent a
// credential pay for this.
func (r *httpRun) redactResponse(body []byte, h http.Header, truncated bool) ([]byte, http.Header) {
	s := r.scrub.redact(string(body))
	if truncated {
		s = r.scrub.trimTail(s)
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		rv := make([]string, len(vs))
		for i, v := range vs {
			rv[i] = r.scrub.redact(v)
		}
		out[k] = rv
	}
	return []byte(s), out
}

// prepareHTTP is the http probe type: it builds the request URL from the
// endpoint and the monitor's request settings, and picks the transport for
// the TLS options, once for all attempts.
func prepareHTTP(r *run, u *url.URL) (attemptFunc, string) {
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Sprintf("an http monitor needs an http or https endpoint URL, not %q", u.Scheme)
	}
	h := &httpRun{run: r, method: api.DefaultMethod, follow: api.DefaultFollowRedirects}
	var tlsOpts *api.MonitorTLS
	if req := r.t.Monitor.Request; req != nil {
		if req.Method != nil && *req.Method != "" {
			h.method = *req.Method
		}
		if req.Path != nil && *req.Path != "" {
			u = u.JoinPath(*req.Path)
		}
		if len(req.Query) > 0 {
			q := u.Query()
			for k, v := range req.Query {
				q.Set(k, v)
			}
			u.RawQuery = q.Encode()
		}
		h.headers = req.Headers
		if req.Body != nil {
			h.body = *req.Body
		}
		if req.FollowRedirects != nil {
			h.follow = *req.FollowRedirects
		}
		tlsOpts = req.TLS
		if tlsOpts != nil {
			h.serverName = deref(tlsOpts.ServerName)
		}
	}
	if u.RawQuery != "" {
		r.scrub.add(u.RawQuery)
	}
	h.url = u
	tr, err := r.p.transport(tlsOpts)
	if err != nil {
		return nil, err.Error()
	}
	h.client = &http.Client{Transport: tr, CheckRedirect: h.checkRedirect}
	return h.attempt, ""
}

// attempt sends the request, reads the body up to the limit, and checks the
// assertions against the final response.
func (r *httpRun) attempt(ctx context.Context) attempt {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url.String(), body)
	if err != nil {
		return attempt{kind: failFatal, err: "invalid request: " + sanitizeError(err)}
	}
	req.Header.Set("User-Agent", userAgent)
	for k, v := range r.headers {
		if slices.Contains(api.BodyShapingHeaders, strings.ToLower(k)) {
			// The API refuses these; a monitor stored before it did
			// must not get around the scrubber either (see
			// api.BodyShapingHeaders).
			continue
		}
		if strings.EqualFold(k, "host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	// The credential is applied before the attempt's timeout starts: an
	// OAuth2 token fetch has its own timeout and is not the target's
	// latency.
	r.token = ""
	if kind, msg := r.applyCredential(ctx, req); kind != failNone {
		return attempt{kind: kind, err: msg}
	}
	r.sentCredential = r.t.Credential != nil

	actx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	tr := &tracer{}
	gctx, guard := withPlaintextGuard(actx)
	guard.hostPort = needsPlaintextCheck(r.t.Credential, req.URL)
	r.guard = guard
	req = req.WithContext(httptrace.WithClientTrace(gctx, tr.clientTrace()))

	start := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		a := attempt{latency: time.Since(start)}
		a.phases, a.certExpiry = tr.result()
		a.kind, a.err = r.classify(ctx, actx, err, "")
		return a
	}
	defer resp.Body.Close()
	buf := r.p.getBuf()
	defer r.p.putBuf(buf)
	n, readErr := buf.ReadFrom(io.LimitReader(resp.Body, r.p.maxBody))
	status := resp.StatusCode
	a := attempt{latency: time.Since(start), status: &status, bytes: n}
	a.phases, a.certExpiry = tr.result()
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		na := resp.TLS.PeerCertificates[0].NotAfter.UTC()
		a.certExpiry = &na
	}
	// bytes_received stays what came over the wire: redaction changes the
	// text that is looked at, not the size of the answer, which does not
	// depend on any guess.
	content, header := buf.Bytes(), resp.Header
	if r.sentCredential {
		content, header = r.redactResponse(content, header, n >= r.p.maxBody || readErr != nil)
	}
	if readErr != nil {
		a.kind, a.err = r.classify(ctx, actx, readErr, "reading the response body: ")
		a.excerpt = r.excerpt(content)
		return a
	}
	if status == http.StatusUnauthorized && r.token != "" {
		r.p.invalidateToken(r.t.Credential, r.token)
	}
	ev := &evalInput{status: status, hasResponse: true, latency: a.latency, header: header, body: content,
		hideContent: !excerptAllowed(r.t.Endpoint.DataClassification), cut: r.scrub.cut}
	if msg, ok := evaluate(r.t.Monitor.Assertions, ev); !ok {
		a.kind, a.err = failResponse, msg
		a.excerpt = r.excerpt(content)
		return a
	}
	a.passed = true
	return a
}

// checkRedirect follows at most MaxRedirects redirects, or none when
// follow_redirects is false, and keeps the credential from leaving the
// original host, or going to a host its allowed_hosts do not allow. "Host" is host:port with the scheme's default port filled
// in and the host name lower-cased: another port is another server (and
// http→https on one name changes the port too), so it does not get the
// credential either. Go's client already drops Authorization on redirects
// to other domains but not custom headers, nor query parameters the target
// copied into Location, nor the Referer it adds (which carries the previous
// URL's query): all are handled here. A hop that keeps the credential
// and goes to plain http must pass the plaintext guard (see
// plaintextGuard), so that a redirect cannot downgrade the secret to
// cleartext either.
func (r *httpRun) checkRedirect(req *http.Request, via []*http.Request) error {
	if !r.follow {
		return http.ErrUseLastResponse
	}
	if len(via) > MaxRedirects {
		return errTooManyRedirects
	}
	if hostPort(req.URL) == hostPort(via[0].URL) && r.refusedHost(req.URL) == "" {
		// The credential goes along: a hop to plain http on the same
		// host and port (https://h:8443 to http://h:8443) must pass
		// the plaintext guard like a first request.
		if r.guard != nil {
			r.guard.hostPort = needsPlaintextCheck(r.t.Credential, req.URL)
		}
		return nil
	}
	// The credential is removed below, so this hop carries no secret.
	if r.guard != nil {
		r.guard.hostPort = ""
	}
	req.Header.Del("Authorization")
	if h := r.placement.header; h != "" {
		req.Header.Del(h)
	}
	if qp := r.placement.queryParam; qp != "" {
		if q := req.URL.Query(); q.Has(qp) {
			q.Del(qp)
			req.URL.RawQuery = q.Encode()
		}
	}
	req.Header.Del("Referer")
	if ref, ok := r.headers["referer"]; ok {
		req.Header.Set("Referer", ref)
	}
	return nil
}

// hostPort is u's lower-case host name and port, the default port of the
// scheme when none is given.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

func defaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// excerpt is at most BodyExcerptBytes of a body, scrubbed before it is
// cut and valid UTF-8, or nil for an empty body. Only what the scrubber
// looks at is copied out of the pooled buffer.
func (r *run) excerpt(b []byte) *string {
	if len(b) == 0 {
		return nil
	}
	s := r.scrub.cut(string(b[:min(len(b), BodyExcerptBytes+scrubSlack+1)]), BodyExcerptBytes)
	return &s
}

// getBuf and putBuf recycle body buffers. Buffers that grew past 64 KiB are
// dropped rather than pooled, so that one large response does not pin a
// megabyte per pooled buffer.
func (p *Prober) getBuf() *bytes.Buffer {
	if b, ok := p.bufs.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func (p *Prober) putBuf(b *bytes.Buffer) {
	if b.Cap() > 64<<10 {
		return
	}
	b.Reset()
	p.bufs.Put(b)
}

// tlsKey identifies a TLS configuration; probes with equal settings share a
// transport.
type tlsKey struct {
	insecure   bool
	serverName string
	ca         [sha256.Size]byte // zero when no ca_cert
}

// transport returns the transport for the TLS options, built once per
// distinct configuration. Keep-alives are off so that every probe measures a
// fresh connection (DNS, connect and TLS included) as a new client would,
// and no idle connections pile up across thousands of monitors. Proxies from
// the environment are ignored: the probe measures the path from aiod to the
// target. HTTP/2 is not forced (a custom TLS configuration disables Go's
// automatic HTTP/2), so probes speak HTTP/1.1 and timings compare across
// targets.
func (p *Prober) transport(o *api.MonitorTLS) (*http.Transport, error) {
	var k tlsKey
	var ca []byte
	if o != nil {
		k.insecure = o.InsecureSkipVerify != nil && *o.InsecureSkipVerify
		k.serverName = deref(o.ServerName)
		if o.CACert != nil && *o.CACert != "" {
			ca = []byte(*o.CACert)
			k.ca = sha256.Sum256(ca)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if tr, ok := p.transports[k]; ok {
		return tr, nil
	}
	cfg := &tls.Config{
		InsecureSkipVerify: k.insecure, //nolint:gosec // the monitor asked for it explicitly
		ServerName:         k.serverName,
	}
	if ca != nil {
		// The CA replaces the system roots rather than adding to them:
		// a monitor that names its CA pins the endpoint to it, as curl's
		// --cacert does.
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, errors.New("request.tls.ca_cert holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	tr := &http.Transport{
		Proxy:              nil,
		DialContext:        p.dialGuarded,
		TLSClientConfig:    cfg,
		DisableKeepAlives:  true,
		ForceAttemptHTTP2:  false,
		DisableCompression: false,
		// Bounded by the attempt's context; these only cap pathological
		// servers that trickle headers.
		MaxResponseHeaderBytes: 1 << 20,
		// Every probe dials a new connection, and the transport gives
		// each one a fresh bufio reader and writer: at 4 KiB each (the
		// default) they were 28 % of the bytes the engine allocated at
		// 5,000 probes a second, so they paced the garbage collector. A
		// probe's request and a response's header are far smaller; larger
		// ones still work (bufio flushes, textproto joins the pieces), and
		// bodies are read past the buffer. One limit moves: net/http reads a
		// chunked body's size line, extensions included, within the read
		// buffer, so such a line over 2 KiB now fails the probe (over 4 KiB
		// did before); size lines are a few bytes in practice.
		WriteBufferSize: probeWriteBuffer,
		ReadBufferSize:  probeReadBuffer,
	}
	p.transports[k] = tr
	return tr, nil
}
