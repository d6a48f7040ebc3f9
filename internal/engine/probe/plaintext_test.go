package probe

import (
	"bufio"
	"crypto/tls"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// refuseAll is a PlaintextOK that treats every address as if it were not
// loopback, so that a receiver on 127.0.0.1 stands for a host across the
// network.
func refuseAll(netip.Addr) bool { return false }

// carriesSecret tells whether a received request holds the secret in any
// place a credential goes: a header (Basic auth encodes it) or the query.
func carriesSecret(r *http.Request) bool {
	if u, p, ok := r.BasicAuth(); ok && (p == secret || strings.Contains(u, secret)) {
		return true
	}
	for _, vs := range r.Header {
		for _, v := range vs {
			if strings.Contains(v, secret) {
				return true
			}
		}
	}
	return strings.Contains(r.URL.RawQuery, url.QueryEscape(secret)) || strings.Contains(r.URL.RawQuery, secret)
}

// TestSecretNeverSentOverPlainHTTP is the adversary's move: the endpoint's
// URL went from https to http on a host the credential allows (an editor
// may change a URL, not the credential). Without an http:// entry the probe
// must fail with an error that says what to do, and the receiver must get
// no request at all, for every credential type and placement. An address
// literal is refused before the secret is even opened; a name is refused
// at the connection, before anything is written on it.
func TestSecretNeverSentOverPlainHTTP(t *testing.T) {
	target := newRecorder(t, nil)
	hp := hostPortOf(t, target.srv.URL)
	_, port, _ := net.SplitHostPort(hp)
	strict := newFixture(t, Config{PlaintextOK: refuseAll})
	placements := map[string]func(*api.Credential){
		"bearer":      func(c *api.Credential) { c.Type = api.CredBearer },
		"basic":       func(c *api.Credential) { c.Type = api.CredBasic; c.Username = ptr("u") },
		"api_key":     func(c *api.Credential) { c.Type = api.CredAPIKey },
		"query_param": func(c *api.Credential) { c.Type = api.CredAPIKey; c.QueryParam = ptr("key") },
	}
	for name, mod := range placements {
		t.Run(name, func(t *testing.T) {
			for _, c := range []struct{ url, hostPort, allowed string }{
				{target.srv.URL + "/x", hp, "127.0.0.1"},
				{"http://localhost:" + port + "/x", "localhost:" + port, "localhost"},
			} {
				before := len(target.requests())
				var opens atomic.Int32
				tg := httpTarget(c.url)
				tg.Credential = newCred(api.CredBearer, secret, &opens, func(cr *api.Credential) {
					mod(cr)
					cr.AllowedHosts = []string{c.allowed, "https://" + c.allowed}
				})
				msg := mustDown(t, strict.probe(t, tg))
				want := "credential cred_test may not be sent over plain http to " + c.hostPort +
					"; add http://" + c.hostPort + " to allowed_hosts to allow it; the secret was not sent"
				if msg != want {
					t.Errorf("%s: error %q, want %q", c.url, msg, want)
				}
				if got := target.requests()[before:]; len(got) != 0 {
					t.Errorf("%s: the receiver got %d requests, want none (first carries the secret: %v)", c.url, len(got), carriesSecret(got[0]))
				}
				if c.allowed == "127.0.0.1" && opens.Load() != 0 {
					t.Errorf("secret opened %d times for a refused address literal, want 0", opens.Load())
				}

				// The explicit opt-in lets it through, secret and all.
				tg.Credential.AllowedHosts = []string{"http://" + c.hostPort}
				mustUp(t, strict.probe(t, tg))
				got := target.requests()[before:]
				if len(got) != 1 || !carriesSecret(got[0]) {
					t.Errorf("%s with http://%s: %d requests, want one carrying the secret", c.url, c.hostPort, len(got))
				}
			}
		})
	}

	// By default a loopback address is exempt: cleartext never leaves the
	// machine, so local targets and aiod dev need no opt-in.
	f := newFixture(t, Config{})
	tg := httpTarget(target.srv.URL)
	tg.Credential = newCred(api.CredBearer, secret, nil, nil)
	mustUp(t, f.probe(t, tg))
	if !loopbackOnly(netip.MustParseAddr("::1")) || loopbackOnly(netip.MustParseAddr("192.0.2.2")) {
		t.Error("the default PlaintextOK is not loopback only")
	}
}

// dualListener serves TLS and plain HTTP on one port, told apart by the
// first byte (a TLS record starts with 0x16), so that a redirect from
// https://127.0.0.1:P to http://127.0.0.1:P keeps host and port: the only
// redirect to plain http after which Go's client and checkRedirect would
// keep the credential on the request.
type dualListener struct {
	net.Listener
	cfg *tls.Config
}

type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

func (l *dualListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(c)
	first, err := br.Peek(1)
	pc := &peekedConn{Conn: c, r: br}
	if err == nil && first[0] == 0x16 {
		return tls.Server(pc, l.cfg), nil
	}
	return pc, nil
}

// TestRedirectToPlainHTTPKeepsTheSecret: an https target on an allowed host
// redirects to plain http on the same host and port. The probe must not
// follow with the secret: it fails with the plaintext error, and the plain
// side sees no request carrying the secret.
func TestRedirectToPlainHTTPDoesNotCarryTheSecret(t *testing.T) {
	// httptest makes the certificate (for 127.0.0.1); the server that
	// made it is not used further.
	donor := httptest.NewUnstartedServer(http.NotFoundHandler())
	donor.StartTLS()
	cfg := donor.TLS.Clone()
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: donor.Certificate().Raw}))
	donor.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var tlsSecret, plainSeen, plainSecret atomic.Int32
	srv := &http.Server{ErrorLog: log.New(io.Discard, "", 0), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			if carriesSecret(r) {
				tlsSecret.Add(1)
			}
			http.Redirect(w, r, "http://"+r.Host+"/plain", http.StatusFound)
			return
		}
		plainSeen.Add(1)
		if carriesSecret(r) {
			plainSecret.Add(1)
		}
	})}
	go func() { _ = srv.Serve(&dualListener{Listener: ln, cfg: cfg}) }()
	t.Cleanup(func() { srv.Close() })
	hp := ln.Addr().String()

	strict := newFixture(t, Config{PlaintextOK: refuseAll})
	for _, typ := range []string{api.CredBearer, api.CredBasic, api.CredAPIKey} {
		tlsSecret.Store(0)
		plainSeen.Store(0)
		tg := httpTarget("https://"+hp+"/start", func(m *api.Monitor) { req(m).TLS = &api.MonitorTLS{CACert: ptr(ca)} })
		tg.Credential = newCred(typ, secret, nil, func(c *api.Credential) { c.Username = ptr("u") })
		msg := mustDown(t, strict.probe(t, tg))
		want := "credential cred_test may not be sent over plain http to " + hp + "; add http://" + hp + " to allowed_hosts to allow it; the secret was not sent"
		if !strings.Contains(msg, want) {
			t.Errorf("%s: error %q, want it to contain %q", typ, msg, want)
		}
		if tlsSecret.Load() != 1 {
			t.Errorf("%s: the https side got the secret %d times, want 1 (the test would prove nothing)", typ, tlsSecret.Load())
		}
		if plainSeen.Load() != 0 || plainSecret.Load() != 0 {
			t.Errorf("%s: the plain http side got %d requests, %d with the secret; want none", typ, plainSeen.Load(), plainSecret.Load())
		}
	}
	// With the opt-in the hop is made, with the credential.
	tg := httpTarget("https://"+hp+"/start", func(m *api.Monitor) { req(m).TLS = &api.MonitorTLS{CACert: ptr(ca)} })
	tg.Credential = newCred(api.CredBearer, secret, nil, func(c *api.Credential) { c.AllowedHosts = []string{"http://" + hp} })
	mustUp(t, strict.probe(t, tg))
	if plainSecret.Load() != 1 {
		t.Errorf("with http://%s the plain side got the secret %d times, want 1", hp, plainSecret.Load())
	}
}

// TestOAuth2TokenURLOverPlainHTTP: the client secret goes in the token
// request's body. A plain http token_url without an http:// entry is
// refused before the secret is opened; with the entry it is used.
func TestOAuth2TokenURLOverPlainHTTP(t *testing.T) {
	ts := newTokenServer(t)
	strict := newFixture(t, Config{PlaintextOK: refuseAll})
	target, token := hostPortOf(t, ts.target.URL), hostPortOf(t, ts.token.URL)
	var opens atomic.Int32
	tg := httpTarget(ts.target.URL)
	tg.Credential = ts.cred(secret, 1, &opens)
	// The target itself may be reached over http; the token URL may not.
	tg.Credential.AllowedHosts = []string{"http://" + target, token}
	msg := mustDown(t, strict.probe(t, tg))
	want := "credential cred_test may not be sent over plain http to " + token + " for its OAuth2 token_url; add http://" + token +
		" to allowed_hosts to allow it; the secret was not sent"
	if msg != want {
		t.Errorf("error %q, want %q", msg, want)
	}
	if ts.calls.Load() != 0 || opens.Load() != 0 {
		t.Errorf("token endpoint called %d times, secret opened %d times; want 0 and 0", ts.calls.Load(), opens.Load())
	}

	// A name is judged at the connection: the token endpoint gets no request.
	_, port, _ := net.SplitHostPort(token)
	named := ts.cred(secret, 1, &opens)
	named.TokenURL = ptr("http://localhost:" + port + "/oauth/token")
	named.AllowedHosts = []string{"http://" + target, "localhost"}
	tg.Credential = named
	msg = mustDown(t, strict.probe(t, tg))
	if !strings.Contains(msg, "may not be sent over plain http to localhost:"+port+" for its OAuth2 token_url") {
		t.Errorf("named token URL: error %q", msg)
	}
	if ts.calls.Load() != 0 {
		t.Errorf("token endpoint called %d times, want 0", ts.calls.Load())
	}

	tg.Credential = ts.cred(secret, 1, &opens)
	tg.Credential.AllowedHosts = []string{"http://" + target, "http://" + token}
	mustUp(t, strict.probe(t, tg))
	if ts.calls.Load() != 1 {
		t.Errorf("token endpoint called %d times with the opt-in, want 1", ts.calls.Load())
	}
}

// TestRedirectToAnotherHostDropsTheGuard: a plain http target on a host
// the credential may reach over http redirects to another plain http host.
// The credential is removed from that hop, so the plaintext guard no
// longer applies: the hop is made (to 127.0.0.2, which this PlaintextOK
// treats as a host across the network) and gets no secret.
func TestRedirectToAnotherHostDropsTheGuard(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skip("no 127.0.0.2 here:", err)
	}
	var foreignSecret, foreignSeen atomic.Int32
	foreign := &http.Server{ErrorLog: log.New(io.Discard, "", 0)}
	foreign.Handler = http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		foreignSeen.Add(1)
		if carriesSecret(r) {
			foreignSecret.Add(1)
		}
	})
	go func() { _ = foreign.Serve(ln) }()
	t.Cleanup(func() { foreign.Close() })
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+ln.Addr().String()+"/elsewhere", http.StatusFound)
	}))
	defer origin.Close()
	onlyFirst := func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.1") }
	tg := httpTarget(origin.URL)
	tg.Credential = newCred(api.CredBearer, secret, nil, nil)
	mustUp(t, newFixture(t, Config{PlaintextOK: onlyFirst}).probe(t, tg))
	if foreignSeen.Load() != 1 || foreignSecret.Load() != 0 {
		t.Errorf("the other host got %d requests, %d with the secret; want 1 and 0", foreignSeen.Load(), foreignSecret.Load())
	}
}
