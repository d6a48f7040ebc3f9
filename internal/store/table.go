package store

// Object kinds as data: each kind (endpoint, credential, monitor, ...)
// declares one table spec, and its Get, List, Insert, Update and Delete
// methods are one-line calls into the generic functions of this file. The
// SQL of those five operations, the shared list filters, the cursor paging,
// the tag rows and the referrer queries are written here once, so that a
// new kind adds a spec, not another copy of the SQL.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
)

// table is how one kind of object is stored.
type table[T any] struct {
	tableSpec
	// scan reads one row of the columns, in order.
	scan func(scanner) (T, error)
	// args returns the values of the columns for v, in order.
	args func(v T) ([]any, error)
	// id returns v's ID: the key of updates, of tag rows and of cursors.
	id func(v T) string
	// tags returns v's tags. It is nil for a kind that carries no tags:
	// such a kind keeps no tag rows, and a tag filter matches none of it.
	tags func(v T) map[string]string
}

// tableSpec is the part of a table that does not depend on the Go type of
// its objects, so that every kind's spec can stand in one list (tables)
// for the queries that span kinds, such as referrers.
type tableSpec struct {
	// name is the SQL table.
	name string
	// columns are read by scan and written by args in this order. The first
	// is the primary key, id, which updates never change.
	columns []string
	// refs are the columns that hold the ID of another object, by the kind
	// of that object: what makes this kind's objects referrers of it.
	refs []reference
	// sql is built from the above by newTable.
	sql statements
}

// reference is one column that holds the ID of an object of another kind.
type reference struct {
	column string
	kind   string
}

// tables lists every kind's table, for referrers.
var tables = []*tableSpec{&endpoints.tableSpec, &credentials.tableSpec, &monitors.tableSpec}

// statements are a table's SQL, built once from its spec by newTable.
type statements struct {
	// list selects every column; listObjects adds filters and paging.
	get, list, insert, update, delete string
}

// newTable builds the statements of t.
func newTable[T any](t table[T]) *table[T] {
	cols := strings.Join(t.columns, ", ")
	t.sql = statements{
		get:    `SELECT ` + cols + ` FROM ` + t.name + ` WHERE id = ?`,
		list:   `SELECT ` + cols + ` FROM ` + t.name,
		insert: `INSERT INTO ` + t.name + ` (` + cols + `) VALUES (` + placeholders(len(t.columns)) + `)`,
		update: `UPDATE ` + t.name + ` SET ` + strings.Join(t.columns[1:], " = ?, ") + ` = ? WHERE id = ?`,
		delete: `DELETE FROM ` + t.name + ` WHERE id = ?`,
	}
	return &t
}

// scanner is what both *sql.Row and *sql.Rows offer.
type scanner interface{ Scan(dest ...any) error }

// getObject returns the object with the given ID, or ErrNotFound.
func getObject[T any](ctx context.Context, r sqlReader, t *table[T], id string) (T, error) {
	v, err := t.scan(r.queryRow(ctx, t.sql.get, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}

// filter is one condition of a kind's own list filters, with its argument.
type filter struct {
	cond string
	arg  any
}

// listObjects returns one page of objects that pass q and the kind's own
// filters (extra), ordered by ID, and the cursor of the next page.
func listObjects[T any](ctx context.Context, r sqlReader, t *table[T], q ListQuery, extra ...filter) ([]T, string, error) {
	if t.tags == nil && len(q.Tags) > 0 {
		// A kind without tags has no object that carries the tag.
		return []T{}, "", nil
	}
	where, args := listWhere(q, extra)
	return listByID(ctx, r, t.sql.list+where, args, q.Limit, t.scan, t.id)
}

// listWhere builds the filter of a listing: the ones every kind takes and
// the kind's own. The cursor is the last ID of the previous page.
func listWhere(q ListQuery, extra []filter) (string, []any) {
	var (
		conds []string
		args  []any
	)
	if q.Name != "" {
		conds = append(conds, "name = ?")
		args = append(args, q.Name)
	}
	if q.NamePrefix != "" {
		// substr compares characters in both SQLite and PostgreSQL and
		// needs no escaping of LIKE wildcards.
		conds = append(conds, "substr(name, 1, ?) = ?")
		args = append(args, len([]rune(q.NamePrefix)), q.NamePrefix)
	}
	for _, t := range q.Tags {
		conds = append(conds, "id IN (SELECT object_id FROM object_tags WHERE key = ? AND value = ?)")
		args = append(args, t.Key, t.Value)
	}
	if q.After != "" {
		conds = append(conds, "id > ?")
		args = append(args, q.After)
	}
	for _, f := range extra {
		conds = append(conds, f.cond)
		args = append(args, f.arg)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// listByID reads one page of objects ordered by ID, fetching one row more
// than the page to know whether another page follows; the cursor is the
// page's last ID. query selects and filters; listByID orders and limits.
func listByID[T any](ctx context.Context, r sqlReader, query string, args []any, limit int,
	scan func(scanner) (T, error), id func(T) string,
) ([]T, string, error) {
	limit = clampLimit(limit)
	rows, err := r.query(ctx, query+` ORDER BY id LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = id(out[limit-1])
	}
	return out, next, nil
}

// insertObject stores a new object and its tag rows; a taken name or ID is
// ErrConflict.
func insertObject[T any](ctx context.Context, tx sqlTx, t *table[T], v T) error {
	args, err := t.args(v)
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, t.sql.insert, args...); err != nil {
		return err
	}
	return putTags(ctx, tx, t, v)
}

// updateObject replaces every column but the ID of the object with v's ID,
// and its tag rows; ErrNotFound if absent, ErrConflict if the new name is
// taken.
func updateObject[T any](ctx context.Context, tx sqlTx, t *table[T], v T) error {
	args, err := t.args(v)
	if err != nil {
		return err
	}
	// The ID moves from the first place (the first column) to the last
	// (the WHERE clause).
	if err := tx.execOne(ctx, t.sql.update, append(args[1:len(args):len(args)], args[0])...); err != nil {
		return err
	}
	return putTags(ctx, tx, t, v)
}

// deleteObject removes an object and its tag rows; ErrNotFound if absent.
func deleteObject[T any](ctx context.Context, tx sqlTx, t *table[T], id string) error {
	if err := tx.execOne(ctx, t.sql.delete, id); err != nil {
		return err
	}
	if t.tags == nil {
		return nil
	}
	_, err := tx.exec(ctx, `DELETE FROM object_tags WHERE object_id = ?`, id)
	return err
}

// putTags replaces the tag rows of v, which the tag filters of listings
// read; the object's own tags column keeps the map as given.
func putTags[T any](ctx context.Context, tx sqlTx, t *table[T], v T) error {
	if t.tags == nil {
		return nil
	}
	id := t.id(v)
	if _, err := tx.exec(ctx, `DELETE FROM object_tags WHERE object_id = ?`, id); err != nil {
		return err
	}
	for k, val := range t.tags(v) {
		if _, err := tx.exec(ctx, `INSERT INTO object_tags (object_id, key, value) VALUES (?, ?, ?)`, id, k, val); err != nil {
			return err
		}
	}
	return nil
}

// referrers returns the IDs of the objects of every kind that reference
// the object of the given kind and ID, ordered by ID.
func (r sqlReader) referrers(ctx context.Context, kind, id string) ([]string, error) {
	var (
		selects []string
		args    []any
	)
	for _, t := range tables {
		for _, ref := range t.refs {
			if ref.kind == kind {
				selects = append(selects, `SELECT id FROM `+t.name+` WHERE `+ref.column+` = ?`)
				args = append(args, id)
			}
		}
	}
	if len(selects) == 0 {
		return []string{}, nil
	}
	return r.ids(ctx, strings.Join(selects, " UNION ")+` ORDER BY id`, args...)
}

// ids runs a query that selects one column of IDs.
func (r sqlReader) ids(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ---- column codecs shared by the kinds ----

func nullStringPtr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	v := s.String
	return &v
}

// encodeTags keeps nil and empty apart: null stays null.
func encodeTags(tags map[string]string) (any, error) {
	if tags == nil {
		return nil, nil
	}
	b, err := json.Marshal(tags)
	return string(b), err
}

func decodeTags(s sql.NullString) (map[string]string, error) {
	if !s.Valid {
		return nil, nil
	}
	m := map[string]string{}
	err := json.Unmarshal([]byte(s.String), &m)
	return m, err
}

// jsonColumn encodes an optional value as JSON text, nil as NULL.
func jsonColumn(v any, isNil bool) (any, error) {
	if isNil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

func decodeJSONColumn(s sql.NullString, v any) error {
	if !s.Valid {
		return nil
	}
	return json.Unmarshal([]byte(s.String), v)
}
