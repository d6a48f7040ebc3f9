package store

// The change history of every configuration kind: one revision row per
// write (the object's API snapshot), one tombstone per deleted object. The
// server writes both in the transaction of the change, through the generic
// kind handlers, so that a kind gets its history by being a kind; nothing
// here knows any kind's columns.

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// RevisionQuery selects a page of one object's revisions, newest first.
type RevisionQuery struct {
	ObjectID string
	Limit    int
	// After is the cursor of the previous page: the last revision number
	// it held.
	After string
}

// TombstoneQuery selects a page of the tombstones of one kind, ordered by
// object ID.
type TombstoneQuery struct {
	Kind string
	// DeletedSince, when set, selects the objects deleted at or after it:
	// those within retention, when the pruning has not run yet.
	DeletedSince time.Time
	Limit        int
	// After is the cursor of the previous page: the last object ID.
	After string
}

// DataKindRevisions names the history (revisions and tombstones) as a data
// kind of retention, for the retention policies that will cover it.
const DataKindRevisions = "revisions"

const revisionColumns = `object_kind, object_id, revision, time, actor, actor_role, action, snapshot`

func scanRevision(s scanner) (api.Revision, error) {
	var (
		v        api.Revision
		tm, snap string
	)
	if err := s.Scan(&v.ObjectKind, &v.ObjectID, &v.Revision, &tm, &v.Actor, &v.ActorRole, &v.Action, &snap); err != nil {
		return v, err
	}
	v.Object = []byte(snap)
	var err error
	v.Time, err = parseTime(tm)
	return v, err
}

// ListRevisions returns one page of an object's revisions, newest first,
// and the cursor of the next page ("" on the last page).
func (r sqlReader) ListRevisions(ctx context.Context, q RevisionQuery) ([]api.Revision, string, error) {
	limit := clampLimit(q.Limit)
	where, args := ` WHERE object_id = ?`, []any{q.ObjectID}
	if q.After != "" {
		n, err := strconv.ParseInt(q.After, 10, 64)
		if err != nil || n < 1 {
			return nil, "", ErrBadCursor
		}
		where += ` AND revision < ?`
		args = append(args, n)
	}
	rows, err := r.query(ctx, `SELECT `+revisionColumns+` FROM object_revisions`+where+` ORDER BY revision DESC LIMIT ?`, append(args, limit+1)...)
	out, err := collect(rows, err, scanRevision)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(out[limit-1].Revision, 10)
	}
	return out, next, nil
}

// GetRevision returns one revision of an object, or ErrNotFound.
func (r sqlReader) GetRevision(ctx context.Context, objectID string, revision int64) (api.Revision, error) {
	v, err := scanRevision(r.queryRow(ctx, `SELECT `+revisionColumns+` FROM object_revisions WHERE object_id = ? AND revision = ?`, objectID, revision))
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}

// InsertRevision stores one revision; a revision number the object already
// has is ErrConflict.
func (t sqlTx) InsertRevision(ctx context.Context, v api.Revision) error {
	_, err := t.exec(ctx, `INSERT INTO object_revisions (`+revisionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		v.ObjectKind, v.ObjectID, v.Revision, fmtTime(v.Time), v.Actor, v.ActorRole, v.Action, string(v.Object))
	return err
}

const tombstoneColumns = `object_kind, object_id, name, revision, deleted_at, actor, actor_role, snapshot`

func scanTombstone(s scanner) (api.Tombstone, error) {
	var (
		v        api.Tombstone
		tm, snap string
	)
	if err := s.Scan(&v.ObjectKind, &v.ObjectID, &v.Name, &v.Revision, &tm, &v.Actor, &v.ActorRole, &snap); err != nil {
		return v, err
	}
	v.Object = []byte(snap)
	var err error
	v.DeletedAt, err = parseTime(tm)
	return v, err
}

// ListTombstones returns one page of the tombstones of a kind, ordered by
// object ID, and the cursor of the next page.
func (r sqlReader) ListTombstones(ctx context.Context, q TombstoneQuery) ([]api.Tombstone, string, error) {
	limit := clampLimit(q.Limit)
	where, args := ` WHERE object_kind = ?`, []any{q.Kind}
	if !q.DeletedSince.IsZero() {
		where += ` AND deleted_at >= ?`
		args = append(args, fmtTime(q.DeletedSince))
	}
	if q.After != "" {
		where += ` AND object_id > ?`
		args = append(args, q.After)
	}
	rows, err := r.query(ctx, `SELECT `+tombstoneColumns+` FROM object_tombstones`+where+` ORDER BY object_id LIMIT ?`, append(args, limit+1)...)
	out, err := collect(rows, err, scanTombstone)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ObjectID
	}
	return out, next, nil
}

// GetTombstone returns the tombstone of a deleted object of the kind, or
// ErrNotFound.
func (r sqlReader) GetTombstone(ctx context.Context, kind, objectID string) (api.Tombstone, error) {
	v, err := scanTombstone(r.queryRow(ctx, `SELECT `+tombstoneColumns+` FROM object_tombstones WHERE object_kind = ? AND object_id = ?`, kind, objectID))
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}

// InsertTombstone stores the tombstone of a deleted object, replacing an
// older one of the same ID (an object restored and deleted again).
func (t sqlTx) InsertTombstone(ctx context.Context, v api.Tombstone) error {
	// One statement, so that a delete costs one more INSERT; SQLite and
	// PostgreSQL both take this upsert.
	_, err := t.exec(ctx, `INSERT INTO object_tombstones (`+tombstoneColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (object_id) DO UPDATE SET object_kind = excluded.object_kind, name = excluded.name, revision = excluded.revision,
		deleted_at = excluded.deleted_at, actor = excluded.actor, actor_role = excluded.actor_role, snapshot = excluded.snapshot`,
		v.ObjectKind, v.ObjectID, v.Name, v.Revision, fmtTime(v.DeletedAt), v.Actor, v.ActorRole, string(v.Object))
	return err
}

// DeleteTombstone removes the tombstone of an object (it was restored);
// ErrNotFound if there is none.
func (t sqlTx) DeleteTombstone(ctx context.Context, objectID string) error {
	return t.execOne(ctx, `DELETE FROM object_tombstones WHERE object_id = ?`, objectID)
}
