package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// hostRig is an aiod with a credential bound to api.payments.example.com,
// an endpoint that uses it, and an editor token: the attacker of issue 7,
// who wants the secret delivered to evil.example.
type hostRig struct {
	srv    *acctest.Server
	editor string
	cred   api.Credential
	ep     api.Endpoint
}

func newHostRig(t *testing.T) hostRig {
	t.Helper()
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	cred := createCredential(t, srv, editor, map[string]any{"name": "payments", "type": "api_key", "secret": "pay-secret",
		"allowed_hosts": []string{"api.payments.example.com", "*.partner.example:8443"}})
	ep := createEndpoint(t, srv, editor, map[string]any{"name": "payments", "url": "https://api.payments.example.com/v1",
		"credential_id": cred.ID})
	return hostRig{srv: srv, editor: editor, cred: cred, ep: ep}
}

// wantRefused checks a 400 naming exactly field, with a message that
// names the host and allowed_hosts, and returns it.
func wantRefused(t *testing.T, r response, field, host string) problemDoc {
	t.Helper()
	p := wantProblem(t, r, http.StatusBadRequest)
	wantFields(t, p, field)
	if len(p.Errors) == 1 && (!strings.Contains(p.Errors[0].Message, host) || !strings.Contains(p.Errors[0].Message, "allowed_hosts")) {
		t.Errorf("message %q does not name the host %s and allowed_hosts", p.Errors[0].Message, host)
	}
	return p
}

func TestAllowedHostsRequired(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	body := map[string]any{"name": "k", "type": "bearer", "secret": "s"}
	for _, hosts := range []any{nil, []string{}} {
		b := body
		if hosts != nil {
			b = with(body, "allowed_hosts", hosts)
		}
		wantFields(t, wantProblem(t, call(t, srv, http.MethodPost, "/v1/credentials", editor, b), http.StatusBadRequest), "allowed_hosts")
	}
	r := call(t, srv, http.MethodPost, "/v1/credentials", editor, with(body, "allowed_hosts", []string{"ok.example", "https://x.example/"}))
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "allowed_hosts.1")
	// The OAuth2 client secret goes to the token URL: it must be allowed.
	r = call(t, srv, http.MethodPost, "/v1/credentials", editor, map[string]any{"name": "o", "type": "oauth2_client_credentials",
		"secret": "s", "token_url": "https://idp.example.net/token", "client_id": "c", "allowed_hosts": []string{"api.example.com"}})
	wantRefused(t, r, "token_url", "idp.example.net:443")
}

func TestEditorCannotSendASecretToAForeignHost(t *testing.T) {
	rig := newHostRig(t)
	srv, editor := rig.srv, rig.editor

	t.Run("new endpoint at a foreign host", func(t *testing.T) {
		r := call(t, srv, http.MethodPost, "/v1/endpoints", editor, map[string]any{"name": "evil", "url": "https://evil.example/collect",
			"credential_id": rig.cred.ID})
		wantRefused(t, r, "credential_id", "evil.example:443")
		// A look-alike name is no match, nor another port than the pattern's.
		r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, map[string]any{"name": "evil2",
			"url": "https://api.payments.example.com.evil.example/", "credential_id": rig.cred.ID})
		wantRefused(t, r, "credential_id", "api.payments.example.com.evil.example:443")
		r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, map[string]any{"name": "evil3",
			"url": "https://a.partner.example/", "credential_id": rig.cred.ID})
		wantRefused(t, r, "credential_id", "a.partner.example:443")
		// What the patterns allow is accepted.
		createEndpoint(t, srv, editor, map[string]any{"name": "partner", "url": "https://a.b.partner.example:8443/",
			"credential_id": rig.cred.ID})
	})

	t.Run("attaching the credential to an existing foreign endpoint", func(t *testing.T) {
		ep := createEndpoint(t, srv, editor, map[string]any{"name": "foreign", "url": "https://evil.example/"})
		r := call(t, srv, http.MethodPut, "/v1/endpoints/"+ep.ID, editor,
			map[string]any{"name": "foreign", "url": "https://evil.example/", "credential_id": rig.cred.ID}, "If-Match", `"1"`)
		wantRefused(t, r, "credential_id", "evil.example:443")
	})

	t.Run("URL change of an endpoint that has a credential", func(t *testing.T) {
		r := call(t, srv, http.MethodPut, "/v1/endpoints/"+rig.ep.ID, editor,
			map[string]any{"name": "payments", "url": "https://evil.example/v1", "credential_id": rig.cred.ID}, "If-Match", `"1"`)
		wantRefused(t, r, "url", "evil.example:443")
		// Another port of the allowed host is still the host.
		r = call(t, srv, http.MethodPut, "/v1/endpoints/"+rig.ep.ID, editor,
			map[string]any{"name": "payments", "url": "https://api.payments.example.com:9443/v1", "credential_id": rig.cred.ID}, "If-Match", `"1"`)
		wantStatus(t, r, http.StatusOK)
		evs := auditFor(t, srv, rig.ep.ID)
		if got := evs[len(evs)-1].ChangedFields; !slices.Equal(got, []string{"url"}) {
			t.Errorf("changed fields %q, want [url]", got)
		}
	})

	t.Run("monitor override request.credential_id", func(t *testing.T) {
		foreign := createEndpoint(t, srv, editor, map[string]any{"name": "foreign-m", "url": "http://evil.example:8080/"})
		body := with(monitorBody("steal", foreign.ID), "request", map[string]any{"credential_id": rig.cred.ID, "path": "/x"})
		r := call(t, srv, http.MethodPost, "/v1/monitors", editor, body)
		wantRefused(t, r, "request.credential_id", "evil.example:8080")

		// Adding the override to an existing monitor is refused the same way.
		r = call(t, srv, http.MethodPost, "/v1/monitors", editor, monitorBody("innocent", foreign.ID))
		wantStatus(t, r, http.StatusCreated)
		var m api.Monitor
		decode(t, r, &m)
		r = call(t, srv, http.MethodPut, "/v1/monitors/"+m.ID, editor, body, "If-Match", `"1"`)
		wantRefused(t, r, "request.credential_id", "evil.example:8080")

		// A Host header or TLS server name picks another virtual host at
		// the far end: the credential must allow that name too.
		// The payments endpoint now listens on port 9443 (moved above);
		// the Host header and the server name keep the URL's port.
		hostHdr := with(monitorBody("vhost", rig.ep.ID), "request", map[string]any{"headers": map[string]string{"host": "evil.example"}})
		wantRefused(t, call(t, srv, http.MethodPost, "/v1/monitors", editor, hostHdr), "request.headers.host", "evil.example:9443")
		sni := with(monitorBody("sni", rig.ep.ID), "request", map[string]any{"tls": map[string]any{"server_name": "evil.example"}})
		wantRefused(t, call(t, srv, http.MethodPost, "/v1/monitors", editor, sni), "request.tls.server_name", "evil.example:9443")
	})

	t.Run("endpoint URL change that breaks a monitor's override", func(t *testing.T) {
		plain := createEndpoint(t, srv, editor, map[string]any{"name": "plain", "url": "https://api.payments.example.com/plain"})
		r := call(t, srv, http.MethodPost, "/v1/monitors", editor,
			with(monitorBody("override", plain.ID), "request", map[string]any{"credential_id": rig.cred.ID}))
		wantStatus(t, r, http.StatusCreated)
		r = call(t, srv, http.MethodPut, "/v1/endpoints/"+plain.ID, editor,
			map[string]any{"name": "plain", "url": "https://evil.example/plain"}, "If-Match", `"1"`)
		p := wantRefused(t, r, "url", "evil.example:443")
		if !strings.Contains(p.Errors[0].Message, "monitor mon_") {
			t.Errorf("message %q does not name the monitor", p.Errors[0].Message)
		}
	})

	t.Run("narrowing allowed_hosts", func(t *testing.T) {
		r := call(t, srv, http.MethodPut, "/v1/credentials/"+rig.cred.ID, editor, map[string]any{"name": "payments", "type": "api_key",
			"allowed_hosts": []string{"*.partner.example:8443"}}, "If-Match", `"1"`)
		p := wantRefused(t, r, "allowed_hosts", "api.payments.example.com")
		if !strings.Contains(p.Errors[0].Message, rig.ep.ID) {
			t.Errorf("message %q does not name the endpoint %s", p.Errors[0].Message, rig.ep.ID)
		}
		// Widening needs the secret (TestWideningNeedsTheSecret); with
		// it, it is a change like any other: accepted and audited.
		r = call(t, srv, http.MethodPut, "/v1/credentials/"+rig.cred.ID, editor, map[string]any{"name": "payments", "type": "api_key",
			"allowed_hosts": []string{"api.payments.example.com", "*.partner.example:8443", "*.payments.example.com"}, "secret": "pay-secret"},
			"If-Match", `"1"`)
		wantStatus(t, r, http.StatusOK)
		evs := auditFor(t, srv, rig.cred.ID)
		if got := evs[len(evs)-1]; got.Revision != 2 || !slices.Equal(got.ChangedFields, []string{"allowed_hosts", "secret"}) {
			t.Errorf("widening event %+v", got)
		}
	})

	// After all that, nothing stored sends the credential outside its hosts.
	cred, _ := getCredential(t, srv, rig.cred.ID)
	eps, _ := listEndpoints(t, srv, "limit=1000")
	for _, e := range eps.Items {
		if e.CredentialID != nil && *e.CredentialID == cred.ID {
			if hp, ok := cred.AllowsURL(e.URL); !ok {
				t.Errorf("endpoint %s sends the credential to %s", e.ID, hp)
			}
		}
	}
}

func TestMonitorAuditNamesSubFields(t *testing.T) {
	rig := newHostRig(t)
	srv, editor := rig.srv, rig.editor
	body := with(monitorBody("m", rig.ep.ID), "tags", map[string]string{"env": "prod", "team": "pay"},
		"request", map[string]any{"path": "/a"},
		"assertions", []map[string]any{{"source": "status_code", "comparison": "equals", "target": "200"},
			{"source": "text_body", "comparison": "contains", "target": "ok"}},
		"retry_strategy", map[string]any{"type": "fixed", "max_retries": 1})
	r := call(t, srv, http.MethodPost, "/v1/monitors", editor, body)
	wantStatus(t, r, http.StatusCreated)
	var m api.Monitor
	decode(t, r, &m)
	next := with(body, "tags", map[string]string{"env": "dev", "team": "pay"},
		"request", map[string]any{"path": "/b", "credential_id": rig.cred.ID},
		"assertions", []map[string]any{{"source": "status_code", "comparison": "equals", "target": "200"},
			{"source": "text_body", "comparison": "contains", "target": "fine"}},
		"retry_strategy", map[string]any{"type": "fixed", "max_retries": 2})
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/monitors/"+m.ID, editor, next, "If-Match", `"1"`), http.StatusOK)
	evs := auditFor(t, srv, m.ID)
	want := []string{"tags.env", "request.credential_id", "request.path", "assertions.1.target", "retry_strategy.max_retries"}
	if got := evs[len(evs)-1].ChangedFields; !slices.Equal(got, want) {
		t.Errorf("changed fields %q, want %q", got, want)
	}
	// A list that grows or shrinks: each index only one side has is a
	// change of that index.
	longer := with(next, "assertions", []map[string]any{{"source": "status_code", "comparison": "equals", "target": "200"},
		{"source": "text_body", "comparison": "contains", "target": "fine"},
		{"source": "text_body", "comparison": "contains", "target": "ok"},
		{"source": "text_body", "comparison": "contains", "target": "good"}})
	shorter := with(next, "assertions", []map[string]any{{"source": "status_code", "comparison": "equals", "target": "200"}})
	for i, c := range []struct {
		body map[string]any
		want []string
	}{
		{longer, []string{"assertions.2", "assertions.3"}},
		{shorter, []string{"assertions.1", "assertions.2", "assertions.3"}},
	} {
		r := call(t, srv, http.MethodPut, "/v1/monitors/"+m.ID, editor, c.body, "If-Match", fmt.Sprintf(`"%d"`, i+2))
		wantStatus(t, r, http.StatusOK)
		evs := auditFor(t, srv, m.ID)
		if got := evs[len(evs)-1].ChangedFields; !slices.Equal(got, c.want) {
			t.Errorf("changed fields %q, want %q", got, c.want)
		}
	}
}

// wantSecretRequired checks a 400 on secret alone whose message names the
// changes that need it.
func wantSecretRequired(t *testing.T, r response, changes ...string) {
	t.Helper()
	p := wantProblem(t, r, http.StatusBadRequest)
	wantFields(t, p, "secret")
	for _, c := range changes {
		if len(p.Errors) == 1 && !strings.Contains(p.Errors[0].Message, c) {
			t.Errorf("message %q does not name %q", p.Errors[0].Message, c)
		}
	}
}

// TestWideningNeedsTheSecret: an editor who cannot read a secret must not
// be able to send it somewhere new either, so an update that widens
// allowed_hosts or changes how the secret is presented must carry it.
func TestWideningNeedsTheSecret(t *testing.T) {
	t.Run("the two-call attack ends at the first call", func(t *testing.T) {
		rig := newHostRig(t)
		r := call(t, rig.srv, http.MethodPut, "/v1/credentials/"+rig.cred.ID, rig.editor, map[string]any{"name": "payments", "type": "api_key",
			"allowed_hosts": []string{"api.payments.example.com", "*.partner.example:8443", "evil.example"}}, "If-Match", `"1"`)
		wantSecretRequired(t, r, "widens allowed_hosts")
		// So the second call, which would point the endpoint at the new
		// host, is refused as before.
		r = call(t, rig.srv, http.MethodPut, "/v1/endpoints/"+rig.ep.ID, rig.editor,
			map[string]any{"name": "payments", "url": "https://evil.example/v1", "credential_id": rig.cred.ID}, "If-Match", `"1"`)
		wantRefused(t, r, "url", "evil.example:443")
		if cred, _ := getCredential(t, rig.srv, rig.cred.ID); cred.Revision != 1 || len(auditFor(t, rig.srv, rig.cred.ID)) != 1 {
			t.Errorf("the refused widening changed the credential: %+v", cred)
		}
	})

	t.Run("admin tokens follow the same rule", func(t *testing.T) {
		rig := newHostRig(t)
		r := call(t, rig.srv, http.MethodPut, "/v1/credentials/"+rig.cred.ID, rig.srv.Tokens[api.RoleAdmin], map[string]any{"name": "payments",
			"type": "api_key", "allowed_hosts": []string{"*.payments.example.com", "*.partner.example:8443"}}, "If-Match", `"1"`)
		wantSecretRequired(t, r, "widens allowed_hosts")
	})

	t.Run("narrowing and no change need no secret", func(t *testing.T) {
		rig := newHostRig(t)
		path := "/v1/credentials/" + rig.cred.ID
		// The same hosts in another order, a description and a port added
		// to a pattern (a narrowing) are no widening.
		r := call(t, rig.srv, http.MethodPut, path, rig.editor, map[string]any{"name": "payments", "type": "api_key", "description": "d",
			"allowed_hosts": []string{"*.partner.example:8443", "api.payments.example.com"}}, "If-Match", `"1"`)
		wantStatus(t, r, http.StatusOK)
		r = call(t, rig.srv, http.MethodPut, path, rig.editor, map[string]any{"name": "payments", "type": "api_key", "description": "d",
			"allowed_hosts": []string{"api.payments.example.com:443"}}, "If-Match", `"2"`)
		wantStatus(t, r, http.StatusOK)
		var c api.Credential
		decode(t, r, &c)
		if c.Revision != 3 || c.SecretRevision != 1 {
			t.Errorf("after narrowing: revision %d, secret_revision %d; want 3, 1", c.Revision, c.SecretRevision)
		}
	})

	t.Run("widening with the secret", func(t *testing.T) {
		rig := newHostRig(t)
		// The same secret as before: sending it proves the sender holds
		// it, and it is sealed again at the next secret_revision.
		r := call(t, rig.srv, http.MethodPut, "/v1/credentials/"+rig.cred.ID, rig.editor, map[string]any{"name": "payments", "type": "api_key",
			"allowed_hosts": []string{"api.payments.example.com", "*.partner.example:8443", "status.example.org"}, "secret": "pay-secret"},
			"If-Match", `"1"`)
		wantStatus(t, r, http.StatusOK)
		var c api.Credential
		decode(t, r, &c)
		if c.Revision != 2 || c.SecretRevision != 2 {
			t.Errorf("after widening with the secret: revision %d, secret_revision %d; want 2, 2", c.Revision, c.SecretRevision)
		}
		if got := storedSecret(t, rig.srv, rig.cred.ID); got != "pay-secret" {
			t.Errorf("aiod holds %q", got)
		}
	})

	t.Run("a new form of the secret", func(t *testing.T) {
		srv := acctest.NewServer(t)
		editor := srv.Tokens[api.RoleEditor]
		oauth := map[string]any{"name": "o", "type": "oauth2_client_credentials", "token_url": "https://auth.example.com/token",
			"client_id": "c", "allowed_hosts": []string{"*.example.com"}}
		oc := createCredential(t, srv, editor, with(oauth, "secret", "client-secret"))
		key := map[string]any{"name": "k", "type": "api_key", "header": "x-key", "allowed_hosts": []string{"*.example.com"}}
		kc := createCredential(t, srv, editor, with(key, "secret", "key-secret"))
		basic := map[string]any{"name": "b", "type": "basic", "username": "svc", "allowed_hosts": []string{"*.example.com"}}
		bc := createCredential(t, srv, editor, with(basic, "secret", "password"))
		cases := []struct {
			name, id string
			body     map[string]any
			change   string
		}{
			// The client secret, meant for the token server, would go to
			// the API host.
			{"oauth2 to bearer", oc.ID, map[string]any{"name": "o", "type": "bearer", "allowed_hosts": []string{"*.example.com"}}, "type"},
			{"another token URL on an allowed host", oc.ID, with(oauth, "token_url", "https://logs.example.com/collect"), "token_url"},
			{"another client ID", oc.ID, with(oauth, "client_id", "mine"), "client_id"},
			// Into the URL, and so into access logs.
			{"header to query parameter", kc.ID, with(without(key, "header"), "query_param", "key"), "query_param"},
			{"another header", kc.ID, with(key, "header", "x-echo"), "header"},
			{"another user", bc.ID, with(basic, "username", "someone-else"), "username"},
		}
		for _, tc := range cases {
			r := call(t, srv, http.MethodPut, "/v1/credentials/"+tc.id, editor, tc.body)
			wantSecretRequired(t, r, tc.change)
		}
		// Scopes are no new form: the client secret goes where it went.
		wantStatus(t, call(t, srv, http.MethodPut, "/v1/credentials/"+oc.ID, editor, with(oauth, "scopes", []string{"read"})), http.StatusOK)
		// With the secret, a type change is accepted and bumps
		// secret_revision.
		r := call(t, srv, http.MethodPut, "/v1/credentials/"+oc.ID, editor,
			map[string]any{"name": "o", "type": "bearer", "allowed_hosts": []string{"*.example.com"}, "secret": "a-bearer-token"})
		wantStatus(t, r, http.StatusOK)
		var c api.Credential
		decode(t, r, &c)
		if c.Type != api.CredBearer || c.SecretRevision != 2 {
			t.Errorf("after the type change: %+v", c)
		}
	})
}

// TestEndpointURLRefusedOnce: an endpoint URL its credential does not allow
// is one error on url, reported by the endpoint's own check, even when the
// endpoint has monitors that use the same credential (each would send it
// there too, but that is the same refusal).
func TestEndpointURLRefusedOnce(t *testing.T) {
	rig := newHostRig(t)
	srv, editor := rig.srv, rig.editor
	wantStatus(t, call(t, srv, http.MethodPost, "/v1/monitors", editor, monitorBody("uses-the-endpoint", rig.ep.ID)), http.StatusCreated)
	r := call(t, srv, http.MethodPut, "/v1/endpoints/"+rig.ep.ID, editor,
		map[string]any{"name": "payments", "url": "https://evil.example/v1", "credential_id": rig.cred.ID}, "If-Match", `"1"`)
	p := wantRefused(t, r, "url", "evil.example:443")
	if len(p.Errors) == 1 && strings.Contains(p.Errors[0].Message, "as monitor") {
		t.Errorf("message %q names a monitor: the endpoint's own check should report it", p.Errors[0].Message)
	}
}

// TestNarrowingSeesTheEndpointsMonitors: narrowing a credential's
// allowed_hosts also checks where the monitors of its endpoints send it
// (a monitor without a credential of its own sends the endpoint's), and
// still the endpoint's own URL when it has monitors.
func TestNarrowingSeesTheEndpointsMonitors(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	credBody := map[string]any{"name": "status", "type": "api_key", "secret": "status-secret",
		"allowed_hosts": []string{"api.payments.example.com", "status.example.com"}}
	cred := createCredential(t, srv, editor, credBody)
	ep := createEndpoint(t, srv, editor, map[string]any{"name": "payments", "url": "https://api.payments.example.com/v1",
		"credential_id": cred.ID})
	r := call(t, srv, http.MethodPost, "/v1/monitors", editor,
		with(monitorBody("vhost", ep.ID), "request", map[string]any{"headers": map[string]string{"host": "status.example.com"}}))
	wantStatus(t, r, http.StatusCreated)
	var m api.Monitor
	decode(t, r, &m)
	for _, c := range []struct {
		hosts       []string
		host, names string
	}{
		{[]string{"api.payments.example.com"}, "status.example.com", m.ID},
		{[]string{"status.example.com"}, "api.payments.example.com", ep.ID},
	} {
		r := call(t, srv, http.MethodPut, "/v1/credentials/"+cred.ID, editor, with(without(credBody, "secret"), "allowed_hosts", c.hosts),
			"If-Match", `"1"`)
		p := wantRefused(t, r, "allowed_hosts", c.host)
		if len(p.Errors) == 1 && !strings.Contains(p.Errors[0].Message, c.names) {
			t.Errorf("allowed_hosts %q: message %q does not name %s", c.hosts, p.Errors[0].Message, c.names)
		}
	}
}

// TestMonitorMovedToAnotherEndpoint: a monitor moved to another endpoint
// with the same request is checked again, against the new endpoint's
// credential (its host header must be allowed) or, with a credential of
// its own, against the new endpoint's URL, refused on endpoint_id.
func TestMonitorMovedToAnotherEndpoint(t *testing.T) {
	rig := newHostRig(t)
	srv, editor := rig.srv, rig.editor
	create := func(body map[string]any) api.Monitor {
		t.Helper()
		r := call(t, srv, http.MethodPost, "/v1/monitors", editor, body)
		wantStatus(t, r, http.StatusCreated)
		var m api.Monitor
		decode(t, r, &m)
		return m
	}
	plain := createEndpoint(t, srv, editor, map[string]any{"name": "plain", "url": "https://api.payments.example.com/plain"})
	vhost := with(monitorBody("vhost", plain.ID), "request", map[string]any{"headers": map[string]string{"host": "evil.example"}})
	m := create(vhost)
	r := call(t, srv, http.MethodPut, "/v1/monitors/"+m.ID, editor, with(vhost, "endpoint_id", rig.ep.ID), "If-Match", `"1"`)
	wantRefused(t, r, "request.headers.host", "evil.example:443")

	foreign := createEndpoint(t, srv, editor, map[string]any{"name": "foreign", "url": "https://evil.example/"})
	own := with(monitorBody("own", rig.ep.ID), "request", map[string]any{"credential_id": rig.cred.ID})
	o := create(own)
	r = call(t, srv, http.MethodPut, "/v1/monitors/"+o.ID, editor, with(own, "endpoint_id", foreign.ID), "If-Match", `"1"`)
	wantRefused(t, r, "endpoint_id", "evil.example:443")
}
