package probe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// newTLSTarget starts a TLS server (certificate for 127.0.0.1 and
// example.com, from httptest) and returns it with its certificate as PEM.
func newTLSTarget(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "secure")
	}))
	// Refused handshakes are expected here; keep them out of the test log.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return srv, string(ca)
}

func TestTLS(t *testing.T) {
	srv, ca := newTLSTarget(t)
	notAfter := srv.Certificate().NotAfter
	f := newFixture(t, Config{})
	withTLS := func(o *api.MonitorTLS) func(*api.Monitor) {
		return func(m *api.Monitor) { req(m).TLS = o }
	}

	res := f.probe(t, httpTarget(srv.URL, withTLS(&api.MonitorTLS{CACert: ptr(ca)})))
	mustUp(t, res)
	if res.TLSCertExpiresAt == nil || !res.TLSCertExpiresAt.Equal(notAfter) {
		t.Errorf("tls_cert_expires_at = %v, want %v", res.TLSCertExpiresAt, notAfter)
	}
	if res.TLSMS == nil || res.ConnectMS == nil || res.FirstByteMS == nil || res.DNSMS != nil {
		t.Errorf("phases dns %v connect %v tls %v first byte %v", res.DNSMS, res.ConnectMS, res.TLSMS, res.FirstByteMS)
	}
	if res.BytesReceived != int64(len("secure")) {
		t.Errorf("bytes_received = %d", res.BytesReceived)
	}

	// The system roots do not know httptest's certificate.
	res = f.probe(t, httpTarget(srv.URL))
	if msg := mustDown(t, res); !strings.Contains(msg, "x509") && !strings.Contains(msg, "certificate") {
		t.Errorf("error = %q, want a certificate error", msg)
	}
	if res.StatusCode != nil {
		t.Errorf("status %v without a handshake", *res.StatusCode)
	}

	res = f.probe(t, httpTarget(srv.URL, withTLS(&api.MonitorTLS{InsecureSkipVerify: ptr(true)})))
	mustUp(t, res)
	if res.TLSCertExpiresAt == nil || !res.TLSCertExpiresAt.Equal(notAfter) {
		t.Errorf("insecure: tls_cert_expires_at = %v, want %v", res.TLSCertExpiresAt, notAfter)
	}

	// server_name is the name verified: the certificate holds example.com.
	mustUp(t, f.probe(t, httpTarget(srv.URL, withTLS(&api.MonitorTLS{CACert: ptr(ca), ServerName: ptr("example.com")}))))
	msg := mustDown(t, f.probe(t, httpTarget(srv.URL, withTLS(&api.MonitorTLS{CACert: ptr(ca), ServerName: ptr("wrong.test")}))))
	if !strings.Contains(msg, "wrong.test") {
		t.Errorf("error = %q, want the name mismatch", msg)
	}

	// A CA that did not sign the certificate is refused: ca_cert pins the
	// endpoint to that CA.
	msg = mustDown(t, f.probe(t, httpTarget(srv.URL, withTLS(&api.MonitorTLS{CACert: ptr(otherCA(t))}))))
	if !strings.Contains(msg, "unknown authority") {
		t.Errorf("error = %q, want an unknown authority", msg)
	}
}

// otherCA returns a self-signed CA certificate that signed nothing.
func otherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "other CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestTransportsAreSharedPerTLSConfig(t *testing.T) {
	p := New(Config{})
	a, _ := p.transport(nil)
	b, _ := p.transport(&api.MonitorTLS{})
	c, _ := p.transport(&api.MonitorTLS{InsecureSkipVerify: ptr(true)})
	if a != b || a == c {
		t.Errorf("transports: nil vs empty shared %v, insecure separate %v", a == b, a != c)
	}
	if !a.DisableKeepAlives || a.Proxy != nil {
		t.Errorf("transport keeps connections alive or uses a proxy")
	}
}

func TestEveryProbeUsesAFreshConnection(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	f := newFixture(t, Config{})
	for range 3 {
		mustUp(t, f.probe(t, httpTarget(srv.URL)))
	}
	if conns.Load() != 3 {
		t.Errorf("%d connections for 3 probes, want 3 (keep-alive off)", conns.Load())
	}
}

// TestCertExpiryWithoutAResponse: the certificate's expiry is reported
// from the handshake, so a target whose TLS works but whose HTTP does not
// (it closes the connection after the handshake) still tells when its
// certificate expires.
func TestCertExpiryWithoutAResponse(t *testing.T) {
	donor := httptest.NewUnstartedServer(http.NotFoundHandler())
	donor.StartTLS()
	cfg := donor.TLS.Clone()
	notAfter := donor.Certificate().NotAfter
	donor.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			_ = c.Close()
		}
	}()
	res := newFixture(t, Config{}).probe(t, httpTarget("https://"+ln.Addr().String(), func(m *api.Monitor) {
		req(m).TLS = &api.MonitorTLS{InsecureSkipVerify: ptr(true)}
	}))
	mustDown(t, res)
	if res.TLSCertExpiresAt == nil || !res.TLSCertExpiresAt.Equal(notAfter) {
		t.Errorf("tls_cert_expires_at = %v, want %v", res.TLSCertExpiresAt, notAfter)
	}
}

// TestOAuth2TokenOverHTTPS: an https token endpoint is reached, and its
// connection is kept for the next token request (the token client, unlike
// the probes, keeps idle connections).
func TestOAuth2TokenOverHTTPS(t *testing.T) {
	var conns atomic.Int32
	var n atomic.Int32
	tokens := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"bearer"}`, n.Add(1))
	}))
	tokens.Config.ErrorLog = log.New(io.Discard, "", 0)
	tokens.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	tokens.StartTLS()
	defer tokens.Close()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer target.Close()
	f := newFixture(t, Config{})
	// The token client trusts the system roots; here, httptest's CA too.
	f.p.tokenClient.Transport.(*http.Transport).TLSClientConfig = tokens.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	defer f.p.CloseIdleConnections()
	tg := httpTarget(target.URL)
	tg.Credential = newCred(api.CredOAuth2Client, secret, nil, func(c *api.Credential) {
		c.TokenURL = ptr(tokens.URL + "/token")
		c.ClientID = ptr("cid")
	})
	mustUp(t, f.probe(t, tg))
	f.p.ForgetCredential(tg.Credential.ID)
	mustUp(t, f.probe(t, tg))
	if n.Load() != 2 || conns.Load() != 1 {
		t.Errorf("%d token requests over %d connections, want 2 over 1", n.Load(), conns.Load())
	}
}
