package server_test

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
)

// secretCounter is a local target that counts the requests it gets and
// those that carry the secret in their Authorization header.
type secretCounter struct {
	all, withSecret atomic.Int32
}

func (c *secretCounter) handler(secret string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.all.Add(1)
		if strings.Contains(r.Header.Get("Authorization"), secret) {
			c.withSecret.Add(1)
		}
		_, _ = w.Write([]byte("ok"))
	}
}

// TestEditorSwitchingToPlainHTTPGetsNoSecret is the review's attack: an
// editor, who may change endpoints and monitors but not the credential,
// moves an endpoint that uses a bearer credential from https to plain
// http on a host its allowed_hosts allow (127.0.0.1, any port). The real
// engine probes through the API's data; its PlaintextOK refuses every
// address, so that the local plain target stands for a host across the
// network. The probe must come out down with the error telling what to do,
// and the plain target must get no request at all. Only the credential's
// owner can then opt in, with an http:// entry, which needs the secret
// (a widening).
func TestEditorSwitchingToPlainHTTPGetsNoSecret(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	srv := acctest.NewServer(t, acctest.Options{Clock: clk, Engine: true, AlertInterval: 24 * time.Hour,
		PlaintextOK: func(netip.Addr) bool { return false }})
	const secret = "tok-plaintext-0123456789"
	var secure, plain secretCounter
	tlsTarget := httptest.NewTLSServer(secure.handler(secret))
	t.Cleanup(tlsTarget.Close)
	plainTarget := httptest.NewServer(plain.handler(secret))
	t.Cleanup(plainTarget.Close)
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsTarget.Certificate().Raw}))

	cred := createCredential(t, srv, srv.AdminToken, map[string]any{"name": "api", "type": api.CredBearer, "secret": secret,
		"allowed_hosts": []string{"127.0.0.1"}})
	ep := createEndpoint(t, srv, srv.AdminToken, map[string]any{"name": "api", "url": tlsTarget.URL + "/health",
		"data_classification": "internal", "credential_id": cred.ID})
	r := call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, with(monitorBody("api-health", ep.ID), "enabled", true, "interval", "5s",
		"retry_strategy", map[string]any{"type": api.RetryNone}, "request", map[string]any{"tls": map[string]any{"ca_cert": ca}}))
	wantStatus(t, r, http.StatusCreated)
	var mon api.Monitor
	decode(t, r, &mon)

	step := e2eStepper(t, srv, clk, mon.ID)
	latest := func() api.ProbeResult {
		t.Helper()
		rs := listAll[api.ProbeResult](t, srv, "/v1/monitors/"+mon.ID+"/results", nil)
		if len(rs) == 0 {
			t.Fatal("no results")
		}
		newest := rs[0]
		for _, x := range rs {
			if x.Time.After(newest.Time) {
				newest = x
			}
		}
		return newest
	}
	// stepUntil probes until the newest result satisfies ok, at most ten
	// times: the scheduler picks up a change of the configuration on its
	// own, so the first probe after a change may still use the old one.
	stepUntil := func(ok func(api.ProbeResult) bool) api.ProbeResult {
		t.Helper()
		var res api.ProbeResult
		for range 10 {
			step()
			if res = latest(); ok(res) {
				break
			}
		}
		return res
	}
	if res := stepUntil(func(r api.ProbeResult) bool { return r.Outcome == api.OutcomeUp }); res.Outcome != api.OutcomeUp || secure.withSecret.Load() < 1 {
		t.Fatalf("over https: outcome %s (error %v), secret received %d times; want up and at least once", res.Outcome, res.Error, secure.withSecret.Load())
	}

	// The editor's move: same host, plain http.
	editor := srv.Tokens[api.RoleEditor]
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+ep.ID, editor, map[string]any{"name": "api", "url": plainTarget.URL + "/health",
		"data_classification": "internal", "credential_id": cred.ID}, "If-Match", `"1"`)
	wantStatus(t, r, http.StatusOK)
	hp := strings.TrimPrefix(plainTarget.URL, "http://")
	want := "credential " + cred.ID + " may not be sent over plain http to " + hp + "; add http://" + hp +
		" to allowed_hosts to allow it; the secret was not sent"
	res := stepUntil(func(r api.ProbeResult) bool { return r.Outcome == api.OutcomeDown })
	if res.Outcome != api.OutcomeDown || res.Error == nil || *res.Error != want {
		t.Fatalf("over plain http: outcome %s, error %v; want down with %q", res.Outcome, res.Error, want)
	}
	if plain.all.Load() != 0 {
		t.Fatalf("the plain target got %d requests (%d with the secret), want none", plain.all.Load(), plain.withSecret.Load())
	}

	// The editor cannot opt in without the secret: an http:// entry widens.
	body := map[string]any{"name": "api", "type": api.CredBearer, "allowed_hosts": []string{"127.0.0.1", "http://" + hp}}
	r = call(t, srv, http.MethodPut, "/v1/credentials/"+cred.ID, editor, body, "If-Match", `"1"`)
	p := wantProblem(t, r, http.StatusBadRequest)
	wantFields(t, p, "secret")
	if !strings.Contains(p.Errors[0].Message, "widens allowed_hosts") {
		t.Errorf("message %q does not say the update widens allowed_hosts", p.Errors[0].Message)
	}
	// Whoever holds the secret can, and then the probe sends it.
	body["secret"] = secret
	r = call(t, srv, http.MethodPut, "/v1/credentials/"+cred.ID, editor, body, "If-Match", `"1"`)
	wantStatus(t, r, http.StatusOK)
	if res := stepUntil(func(r api.ProbeResult) bool { return r.Outcome == api.OutcomeUp }); res.Outcome != api.OutcomeUp || plain.withSecret.Load() < 1 {
		t.Fatalf("with http://%s: outcome %s (error %v), plain target got the secret %d times; want up and at least once",
			hp, res.Outcome, res.Error, plain.withSecret.Load())
	}
}

// TestPlaintextAllowedHostsValidation: the API checks the scheme of an
// allowed_hosts entry and a plain http token_url, with field paths.
func TestPlaintextAllowedHostsValidation(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	for _, c := range []struct {
		hosts []string
		field string
	}{
		{[]string{"api.example.com", "ftp://api.example.com"}, "allowed_hosts.1"},
		{[]string{"http://"}, "allowed_hosts.0"},
		{[]string{"api.example.com", "http://api.example.com/path"}, "allowed_hosts.1"},
	} {
		r := call(t, srv, http.MethodPost, "/v1/credentials", editor, map[string]any{"name": "c", "type": api.CredBearer, "secret": "s",
			"allowed_hosts": c.hosts})
		wantFields(t, wantProblem(t, r, http.StatusBadRequest), c.field)
	}
	good := createCredential(t, srv, editor, map[string]any{"name": "legacy", "type": api.CredBearer, "secret": "s",
		"allowed_hosts": []string{"http://legacy.internal:8080", "https://api.example.com"}})
	if !slices.Equal(good.AllowedHosts, []string{"http://legacy.internal:8080", "https://api.example.com"}) {
		t.Errorf("allowed_hosts stored as %q", good.AllowedHosts)
	}
	oauth := map[string]any{"name": "o", "type": api.CredOAuth2Client, "secret": "s", "client_id": "id",
		"token_url": "http://idp.example.com/token", "allowed_hosts": []string{"idp.example.com"}}
	p := wantProblem(t, call(t, srv, http.MethodPost, "/v1/credentials", editor, oauth), http.StatusBadRequest)
	wantFields(t, p, "token_url")
	if !strings.Contains(p.Errors[0].Message, "add http://idp.example.com:80 to allowed_hosts") {
		t.Errorf("token_url message %q", p.Errors[0].Message)
	}
	oauth["allowed_hosts"] = []string{"http://idp.example.com:80"}
	wantStatus(t, call(t, srv, http.MethodPost, "/v1/credentials", editor, oauth), http.StatusCreated)
}

// TestAPIRefusesPlainHTTPWithoutOptIn: the API catches the attack early:
// an endpoint URL moved to plain http, a new plain http endpoint or a
// monitor override onto one, and a narrowing that drops an http:// entry
// still in use, are each a 400 on the field, unless the host is a loopback
// address or localhost (which the probe still judges by the address it
// connects to).
func TestAPIRefusesPlainHTTPWithoutOptIn(t *testing.T) {
	rig := newHostRig(t)
	srv, editor := rig.srv, rig.editor
	r := call(t, srv, http.MethodPut, "/v1/endpoints/"+rig.ep.ID, editor,
		map[string]any{"name": "payments", "url": "http://api.payments.example.com/v1", "credential_id": rig.cred.ID}, "If-Match", `"1"`)
	p := wantRefused(t, r, "url", "api.payments.example.com:80")
	want := "credential " + rig.cred.ID + " may not be sent over plain http to api.payments.example.com:80; add http://api.payments.example.com:80 to allowed_hosts to allow it"
	if p.Errors[0].Message != want {
		t.Errorf("message %q, want %q", p.Errors[0].Message, want)
	}
	r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, map[string]any{"name": "plain", "url": "http://api.payments.example.com:8080/",
		"credential_id": rig.cred.ID})
	wantRefused(t, r, "credential_id", "api.payments.example.com:8080")

	plainEP := createEndpoint(t, srv, editor, map[string]any{"name": "plain-no-cred", "url": "http://api.payments.example.com/"})
	body := with(monitorBody("override", plainEP.ID), "request", map[string]any{"credential_id": rig.cred.ID})
	wantRefused(t, call(t, srv, http.MethodPost, "/v1/monitors", editor, body), "request.credential_id", "api.payments.example.com:80")

	// Loopback and localhost need no opt-in here.
	local := createCredential(t, srv, editor, map[string]any{"name": "local", "type": api.CredBearer, "secret": "s",
		"allowed_hosts": []string{"127.0.0.1", "localhost", "[::1]"}})
	for i, u := range []string{"http://127.0.0.1:8080/", "http://localhost:8080/", "http://[::1]:8080/"} {
		createEndpoint(t, srv, editor, map[string]any{"name": fmt.Sprintf("local-%d", i), "url": u, "credential_id": local.ID})
	}

	// With the opt-in the endpoint is accepted; dropping the opt-in while
	// it is in use is a narrowing the API refuses, naming what needs it.
	legacy := createCredential(t, srv, editor, map[string]any{"name": "legacy", "type": api.CredBearer, "secret": "s",
		"allowed_hosts": []string{"http://legacy.example.com:8080"}})
	ep := createEndpoint(t, srv, editor, map[string]any{"name": "legacy", "url": "http://legacy.example.com:8080/", "credential_id": legacy.ID})
	r = call(t, srv, http.MethodPut, "/v1/credentials/"+legacy.ID, editor, map[string]any{"name": "legacy", "type": api.CredBearer,
		"allowed_hosts": []string{"legacy.example.com:8080"}}, "If-Match", `"1"`)
	p = wantRefused(t, r, "allowed_hosts", "http://legacy.example.com:8080")
	if !strings.Contains(p.Errors[0].Message, ep.ID) {
		t.Errorf("message %q does not name the endpoint %s", p.Errors[0].Message, ep.ID)
	}
}
