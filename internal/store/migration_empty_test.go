package store

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrationEmptyStringsToNull writes "" into every optional text column
// the old API could leave as "", re-runs migration 00006's SQL and reopens
// the file, as an upgrade would, and checks that
// the values come back as null through the store, while a real value and
// an assertion target of "" are kept.
func TestMigrationEmptyStringsToNull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aio.db")
	if err := openSQLite(t, path).Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{
		`INSERT INTO endpoints (id, name, url, api_version, description, owner, data_classification, revision, created_at, updated_at)
		 VALUES ('ep_1', 'e1', 'https://x.example.com/', '', '', 'team', 'internal', 1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`,
		`INSERT INTO credentials (id, name, description, type, header, secret_key_id, secret_wrapped, secret_ciphertext,
		   secret_revision, last_rotated_at, revision, created_at, updated_at)
		 VALUES ('cred_1', 'c1', '', 'api_key', '', 'k', x'00', x'00', 1, '2026-01-01T00:00:00.000000Z', 1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`,
		`INSERT INTO monitors (id, name, endpoint_id, type, enabled, interval, request, assertions, revision, created_at, updated_at)
		 VALUES ('mon_1', 'm1', 'ep_1', 'http', 1, '60s',
		   '{"method":"POST","path":"","body":"","tls":{"server_name":""}}',
		   '[{"source":"text_body","comparison":"equals","target":""}]', 1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`,
	}
	// Migration 00006 runs again as its own SQL, not by forgetting that
	// it ran: goose refuses to apply a migration lower than later ones
	// that already ran (00007 and on).
	up, err := sqliteMigrations.ReadFile("migrations/sqlite/00006_empty_strings_to_null.sql")
	if err != nil {
		t.Fatal(err)
	}
	body, _, _ := strings.Cut(string(up), "-- +goose Down")
	stmts = append(stmts, body)
	for _, q := range stmts {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSQLite(t, path)
	ep, err := s.GetEndpoint(t.Context(), "ep_1")
	if err != nil {
		t.Fatal(err)
	}
	if ep.Description != nil || ep.APIVersion != nil {
		t.Errorf("endpoint description/api_version should be null, got %q/%q", *ep.Description, *ep.APIVersion)
	}
	if ep.Owner == nil || *ep.Owner != "team" {
		t.Errorf("endpoint owner should be kept as team, got %v", ep.Owner)
	}
	cr, err := s.GetCredential(t.Context(), "cred_1")
	if err != nil {
		t.Fatal(err)
	}
	if cr.Description != nil || cr.Header != nil {
		t.Errorf("credential description/header should be null, got %v/%v", cr.Description, cr.Header)
	}
	m, err := s.GetMonitor(t.Context(), "mon_1")
	if err != nil {
		t.Fatal(err)
	}
	r := m.Request
	if r == nil || r.Path != nil || r.Body != nil || r.TLS == nil || r.TLS.ServerName != nil {
		t.Errorf("monitor request path/body/tls.server_name should be null, got %+v (tls %+v)", r, r.TLS)
	}
	if r == nil || r.Method == nil || *r.Method != "POST" {
		t.Errorf("monitor request method should be kept as POST, got %+v", r)
	}
	if len(m.Assertions) != 1 || m.Assertions[0].Target == nil || *m.Assertions[0].Target != "" {
		t.Errorf("an assertion target of \"\" should be kept, got %+v", m.Assertions)
	}
}
