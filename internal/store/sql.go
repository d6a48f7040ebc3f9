package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// timeFormat is fixed-width so that timestamps sort as text in every
// dialect, with the microsecond precision PostgreSQL keeps.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeFormat, s) }

func fmtTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return fmtTime(*t)
}

// dialect holds what differs between SQL databases.
type dialect struct {
	name string
	// rebind turns '?' placeholders into the dialect's own.
	rebind func(string) string
	// isUnique tells whether err is a unique-constraint violation.
	isUnique func(error) bool
	// isFull tells whether err says the database's disk is full.
	isFull func(error) bool
}

// classify marks an error of a write that failed for want of disk space
// with ErrStorageFull, so that callers can answer "try again later" rather
// than "internal error"; other errors pass unchanged.
func (d dialect) classify(err error) error {
	if err != nil && d.isFull != nil && !errors.Is(err, ErrStorageFull) && d.isFull(err) {
		return fmt.Errorf("%w: %w", ErrStorageFull, err)
	}
	return err
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// sqlReader implements Reader over a pool or a transaction.
type sqlReader struct {
	q querier
	d dialect
	// prep, when set on a transaction, holds statements prepared on the
	// writer pool, which Tx.StmtContext binds to the transaction; exec
	// runs a query found there through it.
	prep *stmtCache
	// detached, set on a group commit's transaction (group.go), runs each
	// statement without its context's cancellation: the driver interrupts
	// a statement whose context ends, and SQLite then rolls back the whole
	// transaction, which is every Write of the group, not only the one
	// whose caller went away.
	detached bool
}

// sqlTx implements Tx inside one write transaction.
type sqlTx struct{ sqlReader }

var (
	_ Reader = sqlReader{}
	_ Tx     = sqlTx{}
)

func (r sqlReader) ctx(ctx context.Context) context.Context {
	if r.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (r sqlReader) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(r.ctx(ctx), r.d.rebind(q), args...)
}

func (r sqlReader) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return r.q.QueryRowContext(r.ctx(ctx), r.d.rebind(q), args...)
}

func (r sqlReader) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = r.ctx(ctx)
	q = r.d.rebind(q)
	var (
		res sql.Result
		err error
	)
	tx, inTx := r.q.(*sql.Tx)
	if st := r.prep.get(q); inTx && st != nil {
		r.prep.used.Add(1)
		res, err = tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	} else {
		res, err = r.q.ExecContext(ctx, q, args...)
	}
	if err != nil && r.d.isUnique(err) {
		return nil, fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return res, err
}

// execOne runs a statement that must touch exactly one row.
func (r sqlReader) execOne(ctx context.Context, q string, args ...any) error {
	res, err := r.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// ---- audit events ----

func (r sqlReader) ListAuditEvents(ctx context.Context, q AuditQuery) ([]api.AuditEvent, string, error) {
	limit := clampLimit(q.Limit)
	var (
		conds []string
		args  []any
	)
	add := func(cond string, v any) { conds = append(conds, cond); args = append(args, v) }
	if q.ObjectID != "" {
		add("object_id = ?", q.ObjectID)
	}
	if q.Kind != "" {
		add("object_kind = ?", q.Kind)
	}
	if q.Actor != "" {
		add("actor = ?", q.Actor)
	}
	if !q.Since.IsZero() {
		add("time >= ?", fmtTime(q.Since))
	}
	if q.After != "" {
		seq, err := strconv.ParseInt(q.After, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("bad cursor: %w", err)
		}
		add("seq > ?", seq)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	rows, err := r.query(ctx, `SELECT seq, id, time, actor, actor_role, action, object_kind, object_id, revision, changed_fields, changes, detail
		FROM audit_events`+where+` ORDER BY seq LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var (
		out  = []api.AuditEvent{}
		seqs []int64
	)
	for rows.Next() {
		var (
			ev      api.AuditEvent
			seq     int64
			tm, chg string
			vals    sql.NullString
			detail  sql.NullString
		)
		if err := rows.Scan(&seq, &ev.ID, &tm, &ev.Actor, &ev.ActorRole, &ev.Action, &ev.ObjectKind, &ev.ObjectID, &ev.Revision, &chg, &vals, &detail); err != nil {
			return nil, "", err
		}
		if detail.Valid {
			if err := json.Unmarshal([]byte(detail.String), &ev.Counts); err != nil {
				return nil, "", err
			}
		}
		if ev.Time, err = parseTime(tm); err != nil {
			return nil, "", err
		}
		if err := json.Unmarshal([]byte(chg), &ev.ChangedFields); err != nil {
			return nil, "", err
		}
		// Events written before values were recorded have no changes.
		ev.Changes = []api.Change{}
		if vals.Valid {
			if err := json.Unmarshal([]byte(vals.String), &ev.Changes); err != nil {
				return nil, "", err
			}
		}
		out = append(out, ev)
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(seqs[limit-1], 10)
	}
	return out, next, nil
}

func (t sqlTx) InsertAuditEvent(ctx context.Context, ev api.AuditEvent) error {
	fields := ev.ChangedFields
	if fields == nil {
		fields = []string{}
	}
	chg, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	changes := ev.Changes
	if changes == nil {
		changes = []api.Change{}
	}
	vals, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	detail, err := jsonColumn(ev.Counts, ev.Counts == nil)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO audit_events (id, time, actor, actor_role, action, object_kind, object_id, revision, changed_fields, changes, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.ID, fmtTime(ev.Time), ev.Actor, ev.ActorRole, ev.Action, ev.ObjectKind, ev.ObjectID, ev.Revision, string(chg), string(vals), detail)
	return err
}

// ---- idempotency ----

func (r sqlReader) GetIdempotency(ctx context.Context, k IdempotencyKey, now time.Time) (IdempotencyRecord, error) {
	rec := IdempotencyRecord{IdempotencyKey: k}
	var hdr, created, expires string
	err := r.queryRow(ctx, `SELECT fingerprint, status, header, body, created_at, expires_at FROM idempotency_keys
		WHERE token_id = ? AND method = ? AND path = ? AND key = ? AND expires_at > ?`,
		k.TokenID, k.Method, k.Path, k.Key, fmtTime(now)).Scan(&rec.Fingerprint, &rec.Status, &hdr, &rec.Body, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, ErrNotFound
	}
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal([]byte(hdr), &rec.Header); err != nil {
		return rec, err
	}
	if rec.CreatedAt, err = parseTime(created); err != nil {
		return rec, err
	}
	rec.ExpiresAt, err = parseTime(expires)
	return rec, err
}

func (t sqlTx) PutIdempotency(ctx context.Context, rec IdempotencyRecord) error {
	hdr, err := json.Marshal(rec.Header)
	if err != nil {
		return err
	}
	body := rec.Body
	if body == nil {
		body = []byte{}
	}
	// An expired record under the same key is replaced: the key is free
	// again once its 24 hours are over.
	if _, err := t.exec(ctx, `DELETE FROM idempotency_keys WHERE token_id = ? AND method = ? AND path = ? AND key = ?`,
		rec.TokenID, rec.Method, rec.Path, rec.Key); err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO idempotency_keys (token_id, method, path, key, fingerprint, status, header, body, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rec.TokenID, rec.Method, rec.Path, rec.Key, rec.Fingerprint, rec.Status, string(hdr), body,
		fmtTime(rec.CreatedAt), fmtTime(rec.ExpiresAt))
	return err
}

func (t sqlTx) DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= ?`, fmtTime(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ---- tokens ----

//nolint:gosec // G101: column names, not a credential.
const tokenColumns = `id, name, role, expires_at, revoked_at, created_at, rate_limit`

func scanToken(s scanner) (api.Token, error) {
	var (
		tok              api.Token
		expires, revoked sql.NullString
		created          string
		rateLimit        sql.NullFloat64
	)
	if err := s.Scan(&tok.ID, &tok.Name, &tok.Role, &expires, &revoked, &created, &rateLimit); err != nil {
		return tok, err
	}
	if rateLimit.Valid {
		tok.RateLimit = &rateLimit.Float64
	}
	var err error
	if tok.CreatedAt, err = parseTime(created); err != nil {
		return tok, err
	}
	if tok.ExpiresAt, err = parseTimePtr(expires); err != nil {
		return tok, err
	}
	tok.RevokedAt, err = parseTimePtr(revoked)
	return tok, err
}

func parseTimePtr(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	return &t, err
}

func (r sqlReader) GetTokenByHash(ctx context.Context, hash string) (api.Token, error) {
	tok, err := scanToken(r.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return tok, ErrNotFound
	}
	return tok, err
}

func (r sqlReader) ListTokens(ctx context.Context) ([]api.Token, error) {
	rows, err := r.query(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY name`)
	return collect(rows, err, scanToken)
}

func (r sqlReader) CountUsableAdminTokens(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := r.queryRow(ctx, `SELECT COUNT(*) FROM tokens WHERE role = ? AND revoked_at IS NULL
		AND (expires_at IS NULL OR expires_at > ?)`, api.RoleAdmin, fmtTime(now)).Scan(&n)
	return n, err
}

func (t sqlTx) InsertToken(ctx context.Context, tok api.Token, hash string) error {
	var rateLimit sql.NullFloat64
	if tok.RateLimit != nil {
		rateLimit = sql.NullFloat64{Float64: *tok.RateLimit, Valid: true}
	}
	_, err := t.exec(ctx, `INSERT INTO tokens (`+tokenColumns+`, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		tok.ID, tok.Name, tok.Role, fmtTimePtr(tok.ExpiresAt), fmtTimePtr(tok.RevokedAt), fmtTime(tok.CreatedAt), rateLimit, hash)
	return err
}

func (t sqlTx) RevokeToken(ctx context.Context, idOrName string, at time.Time) (api.Token, error) {
	if err := t.execOne(ctx, `UPDATE tokens SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL`,
		fmtTime(at), idOrName, idOrName); err != nil {
		return api.Token{}, err
	}
	tok, err := scanToken(t.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ? OR name = ?`, idOrName, idOrName))
	if errors.Is(err, sql.ErrNoRows) {
		return tok, ErrNotFound
	}
	return tok, err
}

// ---- settings ----

func (r sqlReader) GetSetting(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := r.queryRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return v, err
}

func (t sqlTx) PutSetting(ctx context.Context, key string, value []byte) error {
	if _, err := t.exec(ctx, `DELETE FROM settings WHERE key = ?`, key); err != nil {
		return err
	}
	_, err := t.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`, key, value)
	return err
}
