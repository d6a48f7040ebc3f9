package store

// Object kinds as data: each kind (endpoint, credential, monitor, ...)
// declares one table spec, and its Get, List, Insert, Update and Delete
// methods are one-line calls into the generic functions of this file. The
// SQL of those five operations, the shared list filters, the cursor paging,
// the tag rows and the referrer queries are written here once, so that a
// new kind adds a spec, not another copy of the SQL.
//
// Adding a kind (endpoints.go is the example): a migration creating its
// table (id, its own columns, tags if tagged, revision, created_at,
// updated_at); a file with its table spec (newTable), the scan and args of
// its own columns and its one-line methods; the methods in Reader and Tx,
// and a query type embedding ListQuery if it has filters of its own; its
// spec in tables; a fixture in kinds_contract_test.go, which runs every
// kind scenario on it.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// table is how one kind of object is stored. Every kind's table has the
// id, revision, created_at and updated_at columns of the api.Meta every
// object embeds, and a tagged kind a tags column: the generic code reads
// and writes those, so a kind's scan and args handle only its own columns.
type table[T any] struct {
	tableSpec
	// scan reads the kind's own columns of one row, in order, with exactly
	// one call of Scan.
	scan func(scanner) (T, error)
	// args returns the values of the kind's own columns for v, in order.
	args func(v T) ([]any, error)
	// meta returns v's Meta: its ID (the key of updates, of tag rows and of
	// cursors), revision and timestamps.
	meta func(v *T) *api.Meta
	// tags returns where v keeps its tags. It is nil for a kind that
	// carries no tags: such a kind has no tags column and keeps no tag
	// rows, and a tag filter matches none of it.
	tags func(v *T) *map[string]string
	// links returns, by column, the IDs of v's references that are sets
	// (the refs marked set): they are kept as rows of object_links too,
	// which the referrers of their objects read. Nil for a kind without
	// such references.
	links func(v *T) map[string][]string
}

// tableSpec is the part of a table that does not depend on the Go type of
// its objects, so that every kind's spec can stand in one list (tables)
// for the queries that span kinds, such as referrers.
type tableSpec struct {
	// name is the SQL table.
	name string
	// prefix begins the ID of every object of the kind (api.PrefixEndpoint
	// and so on): the kind's share of the tag rows, which hold every kind's.
	prefix string
	// columns are the kind's own columns, to which newTable adds id, tags
	// and the Meta columns.
	columns []string
	// refs are the columns that hold the ID of another object, by the kind
	// of that object: what makes this kind's objects referrers of it.
	refs []reference
	// sql is built from the above by newTable.
	sql statements
}

// reference is one column that holds the ID of an object of another kind,
// or, when set is true, a set of such IDs (kept in object_links too, one
// row per ID, so that finding the referrers of an object needs no
// dialect's JSON functions).
type reference struct {
	column string
	kind   string
	set    bool
}

// tables lists every kind's table, for referrers.
var tables = []*tableSpec{&endpoints.tableSpec, &credentials.tableSpec, &monitors.tableSpec, &channels.tableSpec, &thresholds.tableSpec,
	&retentionPolicies.tableSpec}

// statements are a table's SQL, built once from its spec by newTable.
type statements struct {
	// list selects every column; listObjects adds filters and paging.
	get, list, insert, update, delete string
}

// newTable builds the statements of t.
func newTable[T any](t table[T]) *table[T] {
	if t.prefix == "" {
		// Tag filters select the kind's tag rows by this prefix.
		panic("store: table " + t.name + " has no ID prefix")
	}
	all := slices.Concat([]string{"id"}, t.columns, t.tagColumn(), []string{"revision", "created_at", "updated_at"})
	cols := strings.Join(all, ", ")
	t.sql = statements{
		get:    `SELECT ` + cols + ` FROM ` + t.name + ` WHERE id = ?`,
		list:   `SELECT ` + cols + ` FROM ` + t.name,
		insert: `INSERT INTO ` + t.name + ` (` + cols + `) VALUES (` + placeholders(len(all)) + `)`,
		update: `UPDATE ` + t.name + ` SET ` + strings.Join(all[1:], " = ?, ") + ` = ? WHERE id = ?`,
		delete: `DELETE FROM ` + t.name + ` WHERE id = ?`,
	}
	return &t
}

// tagColumn is the tags column of a tagged kind: the tags as given (null
// stays null), where the tag rows are what filters read.
func (t *table[T]) tagColumn() []string {
	if t.tags == nil {
		return nil
	}
	return []string{"tags"}
}

// id returns v's ID.
func (t *table[T]) id(v T) string { return t.meta(&v).ID }

// scanRow reads one whole row: the kind's scan reads its own columns
// through a scanner that adds the shared columns around them.
func (t *table[T]) scanRow(s scanner) (T, error) {
	var (
		m                api.Meta
		tags             sql.NullString
		created, updated string
	)
	var tagDest []any
	if t.tags != nil {
		tagDest = []any{&tags}
	}
	v, err := t.scan(scanFunc(func(dest ...any) error {
		return s.Scan(slices.Concat([]any{&m.ID}, dest, tagDest, []any{&m.Revision, &created, &updated})...)
	}))
	if err != nil {
		return v, err
	}
	if m.CreatedAt, err = parseTime(created); err != nil {
		return v, err
	}
	if m.UpdatedAt, err = parseTime(updated); err != nil {
		return v, err
	}
	*t.meta(&v) = m
	if t.tags != nil {
		*t.tags(&v), err = decodeTags(tags)
	}
	return v, err
}

// row returns the values of every column for v, in order.
func (t *table[T]) row(v T) ([]any, error) {
	own, err := t.args(v)
	if err != nil {
		return nil, err
	}
	var tags []any
	if t.tags != nil {
		enc, err := encodeTags(*t.tags(&v))
		if err != nil {
			return nil, err
		}
		tags = []any{enc}
	}
	m := t.meta(&v)
	return slices.Concat([]any{m.ID}, own, tags, []any{m.Revision, fmtTime(m.CreatedAt), fmtTime(m.UpdatedAt)}), nil
}

// scanFunc turns a function into a scanner.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// scanner is what both *sql.Row and *sql.Rows offer.
type scanner interface{ Scan(dest ...any) error }

// getObject returns the object with the given ID, or ErrNotFound.
func getObject[T any](ctx context.Context, r sqlReader, t *table[T], id string) (T, error) {
	v, err := t.scanRow(r.queryRow(ctx, t.sql.get, id))
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
// filters (extra), ordered by ID, and the cursor of the next page: the last
// ID of this one. It reads one row more than the page to know whether
// another page follows.
func listObjects[T any](ctx context.Context, r sqlReader, t *table[T], q ListQuery, extra ...filter) ([]T, string, error) {
	if t.tags == nil && len(q.Tags) > 0 {
		// A kind without tags has no object that carries the tag.
		return []T{}, "", nil
	}
	common, err := r.commonTags(ctx, t.prefix, q.Tags)
	if err != nil {
		return nil, "", err
	}
	where, args := listWhere(&t.tableSpec, q, common, extra)
	limit := clampLimit(q.Limit)
	rows, err := r.query(ctx, t.sql.list+where+` ORDER BY id LIMIT ?`, append(args, limit+1)...)
	out, err := collect(rows, err, t.scanRow)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = t.id(out[limit-1])
	}
	return out, next, nil
}

// tagCommon is how many tag rows make a tag filter common (see
// commonTags).
var tagCommon = 2000

// commonTags tells for each tag of a filter whether at least tagCommon
// objects of the kind whose IDs begin with prefix carry it, counting no
// further than that in the (key, value, object_id) index.
//
// The two ways of filtering by a tag select the same objects at very
// different costs. "id IN (the kind's object IDs with the tag)" builds that
// set for every page: with env:prod on 10,000 endpoints a page of 100 took
// 122.9 ms at the p50 when the set also held 30,000 monitors. "EXISTS (this
// object's tag row)" checks the kind's objects in the page's order and
// stops once the page is full: a few hundred primary-key lookups for a
// tag most objects of the kind carry, but every object of the kind for a
// rare one. So a rare tag takes the set and a common one the lookups. The
// count is the kind's own: a tag on thousands of endpoints and five
// monitors is rare among monitors.
func (r sqlReader) commonTags(ctx context.Context, prefix string, tags []Tag) ([]bool, error) {
	common := make([]bool, len(tags))
	lo, hi := prefixRange(prefix)
	for i, tg := range tags {
		var n int
		if err := r.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM object_tags
			WHERE key = ? AND value = ? AND object_id >= ? AND object_id < ? LIMIT ?) AS t`,
			tg.Key, tg.Value, lo, hi, tagCommon).Scan(&n); err != nil {
			return nil, err
		}
		common[i] = n >= tagCommon
	}
	return common, nil
}

// prefixRange is the range of the strings that begin with prefix (never
// empty: see newTable): from prefix to prefix with its last byte raised by
// one. IDs are ASCII.
func prefixRange(prefix string) (lo, hi string) {
	return prefix, prefix[:len(prefix)-1] + string(prefix[len(prefix)-1]+1)
}

// listWhere builds the filter of a listing of t: the ones every kind
// takes and the kind's own; common says which tags commonTags found
// common. The cursor is the last ID of the previous page.
func listWhere(t *tableSpec, q ListQuery, common []bool, extra []filter) (string, []any) {
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
	lo, hi := prefixRange(t.prefix)
	for i, tg := range q.Tags {
		if common[i] {
			conds = append(conds, "EXISTS (SELECT 1 FROM object_tags WHERE object_tags.object_id = "+t.name+".id AND key = ? AND value = ?)")
			args = append(args, tg.Key, tg.Value)
		} else {
			conds = append(conds, "id IN (SELECT object_id FROM object_tags WHERE key = ? AND value = ? AND object_id >= ? AND object_id < ?)")
			args = append(args, tg.Key, tg.Value, lo, hi)
		}
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

// insertObject stores a new object and its tag rows; a taken name or ID is
// ErrConflict.
func insertObject[T any](ctx context.Context, tx sqlTx, t *table[T], v T) error {
	args, err := t.row(v)
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, t.sql.insert, args...); err != nil {
		return err
	}
	if err := putLinks(ctx, tx, t, v); err != nil {
		return err
	}
	return putTags(ctx, tx, t, v)
}

// updateObject replaces every column but the ID of the object with v's ID,
// and its tag rows; ErrNotFound if absent, ErrConflict if the new name is
// taken.
func updateObject[T any](ctx context.Context, tx sqlTx, t *table[T], v T) error {
	args, err := t.row(v)
	if err != nil {
		return err
	}
	// The ID moves from the first place (the first column) to the last
	// (the WHERE clause).
	if err := tx.execOne(ctx, t.sql.update, append(args[1:len(args):len(args)], args[0])...); err != nil {
		return err
	}
	if err := putLinks(ctx, tx, t, v); err != nil {
		return err
	}
	return putTags(ctx, tx, t, v)
}

// deleteObject removes an object and its tag rows; ErrNotFound if absent.
func deleteObject[T any](ctx context.Context, tx sqlTx, t *table[T], id string) error {
	if err := tx.execOne(ctx, t.sql.delete, id); err != nil {
		return err
	}
	if t.links != nil {
		if _, err := tx.exec(ctx, `DELETE FROM object_links WHERE object_id = ?`, id); err != nil {
			return err
		}
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
	for k, val := range *t.tags(&v) {
		if _, err := tx.exec(ctx, `INSERT INTO object_tags (object_id, key, value) VALUES (?, ?, ?)`, id, k, val); err != nil {
			return err
		}
	}
	return nil
}

// putLinks replaces the object_links rows of v's set references.
func putLinks[T any](ctx context.Context, tx sqlTx, t *table[T], v T) error {
	if t.links == nil {
		return nil
	}
	id := t.id(v)
	if _, err := tx.exec(ctx, `DELETE FROM object_links WHERE object_id = ?`, id); err != nil {
		return err
	}
	for column, targets := range t.links(&v) {
		for _, target := range targets {
			if _, err := tx.exec(ctx, `INSERT INTO object_links (object_id, field, target_id) VALUES (?, ?, ?)`,
				id, t.name+"."+column, target); err != nil {
				return err
			}
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
			switch {
			case ref.kind != kind:
			case ref.set:
				selects = append(selects, `SELECT object_id AS id FROM object_links WHERE field = ? AND target_id = ?`)
				args = append(args, t.name+"."+ref.column, id)
			default:
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
	return collect(rows, err, func(s scanner) (string, error) {
		var id string
		err := s.Scan(&id)
		return id, err
	})
}

// collect reads every row of a query with scan and closes the rows; err is
// the query's own error, so that a query and its reading are one call.
// There is always a slice, empty when no row matched.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
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

// decodeJSONPtr decodes an optional JSON column into a new value, NULL
// into nil.
func decodeJSONPtr[T any](s sql.NullString) (*T, error) {
	if !s.Valid {
		return nil, nil
	}
	v := new(T)
	return v, json.Unmarshal([]byte(s.String), v)
}
