package store

import (
	"context"
	"database/sql"
	"encoding/json"
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
	}
}

// migrateAllowedHosts (version 5) adds credentials.allowed_hosts and gives
// every existing credential the hosts it is sent to today: the hosts of the
// endpoints that name it as credential_id, of the endpoints of the
// monitors that name it as request.credential_id, and, for OAuth2, of its
// token_url. Each host keeps the port its URL names, if any. A credential
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
