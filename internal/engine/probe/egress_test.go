package probe

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
)

// countedServer is an HTTP server on addr (a 127/8 address: Linux routes
// all of it to the loopback interface) that counts the connections it
// accepts, so that a test can prove a denied probe sent nothing.
type countedServer struct {
	*httptest.Server
	conns atomic.Int32
}

func newCountedServer(t *testing.T, addr string, h http.Handler) *countedServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	cs := &countedServer{Server: httptest.NewUnstartedServer(h)}
	cs.Listener.Close()
	cs.Listener = ln
	cs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			cs.conns.Add(1)
		}
	}
	cs.Start()
	t.Cleanup(cs.Close)
	return cs
}

// noConnections fails the test when srv accepted a connection. Accepting
// runs on the server's goroutine, so it waits a moment for a late one.
func (cs *countedServer) noConnections(t *testing.T) {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	if n := cs.conns.Load(); n != 0 {
		t.Errorf("the denied target accepted %d connections, want none", n)
	}
}

// denyCIDRs is a policy that allows loopback (which the default denies, and
// where the tests' targets listen) but denies the CIDRs s lists, so that a
// denial cites the explicit rule.
func denyCIDRs(t *testing.T, s string) *egress.Policy {
	t.Helper()
	ps, err := egress.ParseCIDRs(s)
	if err != nil {
		t.Fatal(err)
	}
	return &egress.Policy{AllowCIDRs: egress.LoopbackCIDRs, DenyCIDRs: ps}
}

func ok200() http.Handler { return http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}) }

// TestEgressDeniedAddress: a deny rule on a loopback address with a live
// listener makes the probe down with a clear error, no retry and no
// connection.
func TestEgressDeniedAddress(t *testing.T) {
	srv := newCountedServer(t, "127.0.0.2:0", ok200())
	f := newFixture(t, Config{Egress: denyCIDRs(t, "127.0.0.2/32")})
	tg := httpTarget(srv.URL, func(m *api.Monitor) {
		m.Retry = &api.RetryStrategy{Type: api.RetryFixed, MaxRetries: ptr[int64](3)}
	})
	res := f.probe(t, tg)
	msg := mustDown(t, res)
	if !strings.Contains(msg, "egress denied: 127.0.0.2 is in 127.0.0.2/32 (probe deny list)") {
		t.Errorf("error = %q", msg)
	}
	if res.Attempts != 1 || len(f.sleep.recorded()) != 0 {
		t.Errorf("attempts %d, waits %v: a denial is not retried", res.Attempts, f.sleep.recorded())
	}
	srv.noConnections(t)

	// The same target under a policy that allows loopback is reached, so
	// the test can fail.
	mustUp(t, newFixture(t, Config{Egress: egress.AllowLoopback()}).probe(t, httpTarget(srv.URL)))
}

// TestEgressDefaultDeniesLoopback: the default policy, which aiod serve
// runs without --probe-allow-cidrs, keeps probes off this machine's
// loopback services (a Consul or Docker API, a kubelet, aiod itself), by
// address or by a name that resolves there, for HTTP and TCP, with no
// connection made.
func TestEgressDefaultDeniesLoopback(t *testing.T) {
	srv := newCountedServer(t, "127.0.0.1:0", ok200())
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	f := newFixture(t, Config{Egress: &egress.Policy{}})
	targets := []string{srv.URL, "http://[::ffff:127.0.0.1]:" + port + "/"}
	if ips, err := net.DefaultResolver.LookupNetIP(t.Context(), "ip4", "localhost"); err == nil && len(ips) > 0 {
		targets = append(targets, "http://localhost:"+port+"/")
	}
	for _, u := range targets {
		msg := mustDown(t, f.probe(t, httpTarget(u)))
		if !strings.Contains(msg, "egress denied: ") || !strings.Contains(msg, "is in 127.0.0.0/8 (default deny list)") {
			t.Errorf("%s: error = %q", u, msg)
		}
	}
	m := api.Monitor{Meta: api.Meta{ID: "mon_tcp"}, Type: api.MonitorTCP, Timeout: ptr("2s")}
	m.Normalize()
	res := f.probe(t, Target{Monitor: m, Endpoint: api.Endpoint{URL: "tcp://" + srv.Listener.Addr().String()}})
	if msg := mustDown(t, res); msg != "egress denied: 127.0.0.1 is in 127.0.0.0/8 (default deny list)" {
		t.Errorf("tcp: error = %q", msg)
	}
	srv.noConnections(t)
	// IPv6 loopback too, where the machine has it.
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		v6 := newCountedServer(t, "[::1]:0", ok200())
		if msg := mustDown(t, f.probe(t, httpTarget(v6.URL))); !strings.Contains(msg, "egress denied: ::1 is in ::1/128 (default deny list)") {
			t.Errorf("[::1]: error = %q", msg)
		}
		v6.noConnections(t)
	}
}

// TestEgressDeniedAfterResolution: a host name that resolves to a denied
// address is denied, though the name itself is on no list.
func TestEgressDeniedAfterResolution(t *testing.T) {
	if ips, err := net.DefaultResolver.LookupNetIP(t.Context(), "ip", "localhost"); err != nil || len(ips) == 0 {
		t.Skipf("localhost does not resolve here: %v", err)
	}
	srv := newCountedServer(t, "127.0.0.1:0", ok200())
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	f := newFixture(t, Config{Egress: denyCIDRs(t, "127.0.0.0/8, ::1/128")})
	msg := mustDown(t, f.probe(t, httpTarget("http://localhost:"+port+"/")))
	if !strings.Contains(msg, "egress denied: ") || !strings.Contains(msg, "(probe deny list)") {
		t.Errorf("error = %q", msg)
	}
	srv.noConnections(t)
}

// TestEgressDefaultDeniesThisHost: 0.0.0.0 (which Linux connects to the
// local host, here to a live listener) stays denied even under a policy
// that allows loopback (the fixture's), so that it cannot walk around the
// loopback rule or an explicit deny on loopback.
func TestEgressDefaultDeniesThisHost(t *testing.T) {
	srv := newCountedServer(t, "127.0.0.1:0", ok200())
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	msg := mustDown(t, newFixture(t, Config{}).probe(t, httpTarget("http://0.0.0.0:"+port+"/")))
	if !strings.Contains(msg, "egress denied: 0.0.0.0 is in 0.0.0.0/8 (default deny list)") {
		t.Errorf("error = %q", msg)
	}
	srv.noConnections(t)
}

// TestEgressDeniedHost: a host on the deny list is refused before any
// lookup or connection.
func TestEgressDeniedHost(t *testing.T) {
	srv := newCountedServer(t, "127.0.0.1:0", ok200())
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	f := newFixture(t, Config{Egress: &egress.Policy{DenyHosts: []string{"localhost"}}})
	msg := mustDown(t, f.probe(t, httpTarget("http://LocalHost:"+port+"/")))
	if !strings.Contains(msg, "egress denied: host localhost matches localhost (probe deny list)") {
		t.Errorf("error = %q", msg)
	}
	srv.noConnections(t)
}

// TestEgressDeniedAfterRedirect: an allowed target that redirects to a
// denied one does not get the probe there.
func TestEgressDeniedAfterRedirect(t *testing.T) {
	denied := newCountedServer(t, "127.0.0.2:0", ok200())
	allowed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, denied.URL+"/latest/meta-data/", http.StatusFound)
	}))
	defer allowed.Close()
	f := newFixture(t, Config{Egress: denyCIDRs(t, "127.0.0.2/32")})
	msg := mustDown(t, f.probe(t, httpTarget(allowed.URL)))
	if !strings.Contains(msg, "egress denied: 127.0.0.2 is in 127.0.0.2/32 (probe deny list)") {
		t.Errorf("error = %q", msg)
	}
	denied.noConnections(t)
}

// TestEgressDeniedTCP: a tcp monitor (the port scanner of the issue) is
// denied like an HTTP one.
func TestEgressDeniedTCP(t *testing.T) {
	srv := newCountedServer(t, "127.0.0.2:0", ok200())
	f := newFixture(t, Config{Egress: denyCIDRs(t, "127.0.0.2/32")})
	m := api.Monitor{Meta: api.Meta{ID: "mon_tcp"}, Type: api.MonitorTCP, Timeout: ptr("2s")}
	m.Normalize()
	res := f.probe(t, Target{Monitor: m, Endpoint: api.Endpoint{URL: "tcp://" + srv.Listener.Addr().String()}})
	if msg := mustDown(t, res); msg != "egress denied: 127.0.0.2 is in 127.0.0.2/32 (probe deny list)" {
		t.Errorf("error = %q", msg)
	}
	srv.noConnections(t)
}

// TestEgressDeniedTokenURL: an OAuth2 token URL on a denied address gets
// neither the client secret nor any connection.
func TestEgressDeniedTokenURL(t *testing.T) {
	tokenSrv := newCountedServer(t, "127.0.0.2:0", ok200())
	target := httptest.NewServer(ok200())
	defer target.Close()
	f := newFixture(t, Config{Egress: denyCIDRs(t, "127.0.0.2/32")})
	tg := httpTarget(target.URL)
	tg.Credential = newCred(api.CredOAuth2Client, secret, nil, func(c *api.Credential) {
		c.TokenURL = ptr(tokenSrv.URL + "/oauth/token")
		c.ClientID = ptr("cid")
		c.AllowedHosts = append(c.AllowedHosts, "127.0.0.2")
	})
	res := f.probe(t, tg)
	msg := mustDown(t, res)
	if !strings.Contains(msg, "oauth2 token: ") || !strings.Contains(msg, "egress denied: 127.0.0.2 is in 127.0.0.2/32 (probe deny list)") {
		t.Errorf("error = %q", msg)
	}
	if res.Attempts != 1 {
		t.Errorf("attempts = %d, want 1", res.Attempts)
	}
	tokenSrv.noConnections(t)
}

// TestEgressAllowOverridesDefaultDeny: an explicit allow reopens a
// default-denied range, and an explicit deny inside it still wins. The
// addresses are loopback ones listed as extra deny rules, since the default
// deny list itself must not be dialed from a test.
func TestEgressAllowOverridesDefaultDeny(t *testing.T) {
	srv := newCountedServer(t, "127.0.0.1:0", ok200())
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	// 0.0.0.0 is default-denied; allowing 0.0.0.0/8 reopens it, and the
	// kernel delivers the connection to the local listener.
	pol := &egress.Policy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/8")}}
	mustUp(t, newFixture(t, Config{Egress: pol}).probe(t, httpTarget("http://0.0.0.0:"+port+"/")))
	pol.DenyCIDRs = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")}
	msg := mustDown(t, newFixture(t, Config{Egress: pol}).probe(t, httpTarget("http://0.0.0.0:"+port+"/")))
	if !strings.Contains(msg, "0.0.0.0 is in 0.0.0.0/32 (probe deny list)") {
		t.Errorf("error = %q", msg)
	}
}
