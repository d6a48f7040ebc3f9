package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
)

// MigrationActor is the audit actor (name and role) of changes that a
// schema migration makes to objects, such as the allowed_hosts given to
// credentials that existed before the field did.
const MigrationActor = "migration"

// goMigrations are the migrations that SQL alone cannot express. Their
// versions continue the numbering of migrations/sqlite: no SQL file may
// take the same number.
func goMigrations() []*goose.Migration {
	return []*goose.Migration{
		goose.NewGoMigration(5, &goose.GoFunc{RunTx: migrateAllowedHosts}, &goose.GoFunc{RunTx: unmigrateAllowedHosts}),
		goose.NewGoMigration(15, &goose.GoFunc{RunTx: migrateLeanHistograms}, &goose.GoFunc{RunTx: unmigrateLeanHistograms}),
	}
}

// migrateAllowedHosts (version 5) adds credentials.allowed_hosts and gives
// every existing credential the hosts it is sent to today: the hosts of the
// endpoints that name it as credential_id, of the endpoints of the
// monitors that name it as request.credential_id, and, for OAuth2, of its
// token_url. Each host keeps the port its URL names, if any. The names a
// monitor that uses the credential gives in a Host header or as its TLS
// server name are added too (see monitorHostNames): the probe checks them
// against allowed_hosts as well, and such monitors would otherwise go down
// on the upgrade. A credential
// used by nothing gets an empty list and is sent nowhere until an editor
// sets its hosts. Every credential's change is a new revision with an
// audit event by the actor "migration" that names allowed_hosts, so that
// the trail shows where the hosts came from.
func migrateAllowedHosts(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `ALTER TABLE credentials ADD COLUMN allowed_hosts TEXT NOT NULL DEFAULT '[]'`); err != nil {
		return err
	}
	type cred struct {
		id, typ  string
		tokenURL sql.NullString
		revision int64
	}
	var creds []cred
	rows, err := tx.QueryContext(ctx, `SELECT id, type, token_url, revision FROM credentials ORDER BY id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c cred
		if err := rows.Scan(&c.id, &c.typ, &c.tokenURL, &c.revision); err != nil {
			rows.Close()
			return err
		}
		creds = append(creds, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, c := range creds {
		urls, err := queryStrings(ctx, tx, `SELECT url FROM endpoints WHERE credential_id = ?
			UNION SELECT e.url FROM monitors m JOIN endpoints e ON e.id = m.endpoint_id WHERE m.credential_id = ?`, c.id, c.id)
		if err != nil {
			return err
		}
		if c.typ == api.CredOAuth2Client && c.tokenURL.Valid {
			urls = append(urls, c.tokenURL.String)
		}
		hosts := []string{}
		for _, raw := range urls {
			if h, ok := hostPattern(raw); ok && !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
		named, err := monitorHostNames(ctx, tx, c.id)
		if err != nil {
			return err
		}
		for _, h := range named {
			if !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
		slices.Sort(hosts)
		enc, err := json.Marshal(hosts)
		if err != nil {
			return err
		}
		rev := c.revision + 1
		if _, err := tx.ExecContext(ctx, `UPDATE credentials SET allowed_hosts = ?, revision = ?, updated_at = ? WHERE id = ?`,
			string(enc), rev, fmtTime(now), c.id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events (id, time, actor, actor_role, action, object_kind, object_id, revision, changed_fields)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, ids.New(api.PrefixAuditEvent, now), fmtTime(now), MigrationActor, MigrationActor,
			api.ActionUpdate, api.KindCredential, c.id, rev, `["allowed_hosts"]`); err != nil {
			return err
		}
	}
	return nil
}

// monitorHostNames returns the allowed_hosts patterns of the names that
// monitors using the credential credID (as their own request.credential_id,
// or through their endpoint's credential_id when they name none) give in
// request.headers.host (with the port it names, if any) and in
// request.tls.server_name. The probe sends the secret only when these names
// are allowed too, because they choose the virtual host at the far end.
// Names that are no valid pattern are left out, as in hostPattern.
func monitorHostNames(ctx context.Context, tx *sql.Tx, credID string) ([]string, error) {
	reqs, err := queryStrings(ctx, tx, `SELECT m.request FROM monitors m JOIN endpoints e ON e.id = m.endpoint_id
		WHERE COALESCE(m.credential_id, e.credential_id) = ? AND m.request IS NOT NULL ORDER BY m.id`, credID)
	if err != nil {
		return nil, err
	}
	// The request column as version 5 knows it; only these two fields
	// matter here. A local type keeps this migration fixed when
	// api.MonitorRequest changes later.
	var req struct {
		Headers map[string]string `json:"headers"`
		TLS     *struct {
			ServerName *string `json:"server_name"`
		} `json:"tls"`
	}
	var out []string
	// add writes host (and port, if any) the way hostPattern does.
	add := func(host, port string) {
		h := strings.TrimSuffix(strings.ToLower(strings.Trim(strings.TrimSpace(host), "[]")), ".")
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		if port != "" {
			h += ":" + port
		}
		if h != "" && api.ValidateHostPattern("", h) == nil && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	for _, raw := range reqs {
		req.Headers, req.TLS = nil, nil
		if json.Unmarshal([]byte(raw), &req) != nil {
			continue
		}
		if h, ok := req.Headers["host"]; ok {
			host, port := h, ""
			if sh, sp, err := net.SplitHostPort(h); err == nil {
				host, port = sh, sp
			}
			add(host, port)
		}
		if req.TLS != nil && req.TLS.ServerName != nil {
			add(*req.TLS.ServerName, "")
		}
	}
	return out, nil
}

// hostPattern turns a URL into the allowed_hosts pattern of its host and,
// when the URL names one, its port. URLs whose host is no valid pattern
// (which the API would not have accepted for a credential anyway) give
// none.
func hostPattern(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "", false
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if u.Port() != "" {
		h += ":" + u.Port()
	}
	if api.ValidateHostPattern("", h) != nil {
		return "", false
	}
	return h, true
}

func queryStrings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// unmigrateAllowedHosts drops the column. The revisions and audit events
// the migration wrote stay: they record what happened.
func unmigrateAllowedHosts(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `ALTER TABLE credentials DROP COLUMN allowed_hosts`)
	return err
}
