package store

import (
	"slices"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// TestMigrationAllowedHosts builds a database at version 4 (before
// allowed_hosts) holding credentials used by endpoints, by monitors, by
// nothing, and an OAuth2 credential, then opens it as aiod does and checks
// that every credential got the hosts it was sent to, a new revision, and an
// audit event by the migration that names allowed_hosts.
func TestMigrationAllowedHosts(t *testing.T) {
	ctx := t.Context()
	path, db := sqliteAtVersion(t, 4)
	const ts = "2026-01-01T00:00:00.000000Z"
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	cred := func(id, typ string, tokenURL any) {
		exec(`INSERT INTO credentials (id, name, type, token_url, secret_key_id, secret_wrapped, secret_ciphertext,
			secret_revision, last_rotated_at, revision, created_at, updated_at) VALUES (?, ?, ?, ?, 'k', x'00', x'00', 1, ?, 3, ?, ?)`,
			id, id, typ, tokenURL, ts, ts, ts)
	}
	endpoint := func(id, url string, credID any) {
		exec(`INSERT INTO endpoints (id, name, url, data_classification, credential_id, revision, created_at, updated_at)
			VALUES (?, ?, ?, 'internal', ?, 1, ?, ?)`, id, id, url, credID, ts, ts)
	}
	monitor := func(id, endpointID string, credID, request any) {
		exec(`INSERT INTO monitors (id, name, endpoint_id, type, enabled, interval, credential_id, request, revision, created_at, updated_at)
			VALUES (?, ?, ?, 'http', 1, '60s', ?, ?, 1, ?, ?)`, id, id, endpointID, credID, request, ts, ts)
	}
	cred("cred_endpoints", api.CredAPIKey, nil)
	cred("cred_monitor", api.CredBearer, nil)
	cred("cred_oauth", api.CredOAuth2Client, "https://IDP.example.net/oauth/token?tenant=1")
	cred("cred_unused", api.CredBasic, nil)
	endpoint("ep_a", "https://API.Payments.example.com/v1", "cred_endpoints")
	endpoint("ep_b", "http://127.0.0.1:8080/healthz", "cred_endpoints")
	endpoint("ep_c", "https://api.payments.example.com/v2", "cred_endpoints") // the same host once
	endpoint("ep_d", "http://[::1]:9090/", nil)
	endpoint("ep_e", "https://partner.example/", "cred_oauth")
	monitor("mon_a", "ep_d", "cred_monitor", nil)
	monitor("mon_b", "ep_a", nil, nil)
	// Monitors that choose the virtual host with a Host header or a TLS
	// server name: the probe checks those names against allowed_hosts
	// too, so the migration must give them, for the credential the
	// monitor names or, when it names none, its endpoint's.
	cred("cred_vhost", api.CredAPIKey, nil)
	cred("cred_ep_vhost", api.CredAPIKey, nil)
	endpoint("ep_f", "https://lb.example.org/", nil)
	endpoint("ep_g", "http://10.0.0.5/", "cred_ep_vhost")
	monitor("mon_c", "ep_f", "cred_vhost", `{"credential_id":"cred_vhost","headers":{"host":"App.Internal.example.:8443"},"tls":{"server_name":"sni.internal.example"}}`)
	monitor("mon_d", "ep_g", nil, `{"headers":{"host":"Tenant.example.com"}}`)
	monitor("mon_e", "ep_g", "cred_monitor", `{"credential_id":"cred_monitor","headers":{"host":"[fd00::7]"}}`)
	monitor("mon_f", "ep_f", "cred_vhost", `{"credential_id":"cred_vhost","headers":{"x-host":"not.a.name.example"},"tls":{"insecure_skip_verify":true}}`)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSQLite(t, path)
	want := map[string][]string{
		"cred_endpoints": {"127.0.0.1:8080", "api.payments.example.com"},
		// mon_e names its own credential: the Host header it sends goes
		// to cred_monitor, not to its endpoint's cred_ep_vhost.
		"cred_monitor":  {"10.0.0.5", "[::1]:9090", "[fd00::7]"},
		"cred_oauth":    {"idp.example.net", "partner.example"},
		"cred_unused":   {},
		"cred_vhost":    {"app.internal.example:8443", "lb.example.org", "sni.internal.example"},
		"cred_ep_vhost": {"10.0.0.5", "tenant.example.com"},
	}
	for id, hosts := range want {
		c, err := s.GetCredential(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.AllowedHosts, hosts) {
			t.Errorf("%s: allowed_hosts = %q, want %q", id, c.AllowedHosts, hosts)
		}
		for _, h := range c.AllowedHosts {
			if errs := api.ValidateHostPattern("h", h); errs != nil {
				t.Errorf("%s: migrated pattern %q is invalid: %v", id, h, errs)
			}
		}
		if c.Revision != 4 {
			t.Errorf("%s: revision = %d, want 4 (one more than before)", id, c.Revision)
		}
		evs, _, err := s.ListAuditEvents(ctx, AuditQuery{ObjectID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 {
			t.Fatalf("%s: %d audit events, want 1", id, len(evs))
		}
		ev := evs[0]
		if ev.Actor != MigrationActor || ev.ActorRole != MigrationActor || ev.Action != api.ActionUpdate ||
			ev.ObjectKind != api.KindCredential || ev.Revision != 4 || !slices.Equal(ev.ChangedFields, []string{"allowed_hosts"}) {
			t.Errorf("%s: audit event %+v", id, ev)
		}
	}
	// What the migration gave is what the probe then allows.
	c, _ := s.GetCredential(ctx, "cred_endpoints")
	if _, ok := c.AllowsURL("https://api.payments.example.com/v1"); !ok {
		t.Error("the migrated credential does not allow its own endpoint")
	}
	if _, ok := c.AllowsURL("http://127.0.0.1:9999/"); ok {
		t.Error("a port the endpoint named is widened to every port")
	}
	// The names mon_c sends are allowed as the probe checks them.
	c, _ = s.GetCredential(ctx, "cred_vhost")
	if !api.HostsAllowHostPort(c.AllowedHosts, "app.internal.example", "8443") || !api.HostsAllowHostPort(c.AllowedHosts, "sni.internal.example", "443") {
		t.Errorf("cred_vhost allows %q: not the Host header and server name of its monitor", c.AllowedHosts)
	}
}
