package store

// Retention: the SQL that deletes and anonymizes stored data by age and
// scope, for the retention engine (internal/engine/retention), which
// decides what goes; the runs it records; and erasure requests.
//
// Every call that changes data changes at most one batch, in a write
// transaction of its own, so that retention never holds the single writer
// for long: probe results and API writes get their turn between batches.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// RetentionStore is the part of Store that retention and erasure use.
type RetentionStore interface {
	// RetentionDelete deletes at most limit records that sel selects,
	// oldest first (for a scoped selection of results or rollups, oldest
	// first per monitor), in one write transaction, and returns how many it
	// deleted per endpoint ("" for records of no endpoint). Deleting alert
	// events deletes their deliveries (and attempts) with them; pending
	// deliveries, and events that still have one, are left unless
	// sel.Erasure.
	RetentionDelete(ctx context.Context, sel RetentionSelector, limit int) (map[string]int64, error)
	// RetentionAnonymize replaces sel.Fields of at most limit records
	// that sel selects and that are not anonymized yet, in one write
	// transaction, and returns how many records it changed per endpoint.
	// Text becomes api.AnonymizedText; an audit event's actor becomes
	// pseudonym(actor).
	RetentionAnonymize(ctx context.Context, sel RetentionSelector, limit int, pseudonym func(string) string) (map[string]int64, error)
	// RetentionCount counts per endpoint what RetentionDelete (anonymize
	// false) or RetentionAnonymize would change, changing nothing.
	RetentionCount(ctx context.Context, sel RetentionSelector, anonymize bool) (map[string]int64, error)
	// RetentionOldest returns the time of the oldest record sel selects
	// (sel.Before is ignored), nil when there is none.
	RetentionOldest(ctx context.Context, sel RetentionSelector) (*time.Time, error)
	// AdvanceResultHorizon moves a result tier's horizon (see
	// DeleteResultsBefore) to before, unless it is already later.
	AdvanceResultHorizon(ctx context.Context, tier string, before time.Time) error
	// EraseResidue removes what deletions and anonymizations leave on
	// disk: it zeroes the bytes of the file that belong to no live record
	// (secure_delete does not reach every copy: see SQLite.EraseResidue),
	// then copies the write-ahead log into the database and truncates it,
	// so that page images written before a deletion or an anonymization
	// are gone from the WAL file too.
	EraseResidue(ctx context.Context) error

	// RecordRetentionRun stores a run record, the policy's last-run
	// report and the run's audit event in one transaction.
	RecordRetentionRun(ctx context.Context, run api.RetentionRun, next time.Time, ev api.AuditEvent) error
	// SetRetentionNextRun records when the next scheduled run is due.
	SetRetentionNextRun(ctx context.Context, next time.Time) error
	// ListRetentionRuns returns one page of a policy's runs, newest
	// first, and the cursor of the next page.
	ListRetentionRuns(ctx context.Context, policyID string, limit int, after string) ([]api.RetentionRun, string, error)

	// NextErasureRequest marks the oldest pending erasure request running
	// and returns it; ErrNotFound when none is pending.
	NextErasureRequest(ctx context.Context) (api.ErasureRequest, error)
	// FinishErasureRequest stores the outcome of a request (its state,
	// counts, completed_at and error) with its audit event.
	FinishErasureRequest(ctx context.Context, e api.ErasureRequest, ev api.AuditEvent) error
}

// RetentionScope selects endpoints: the zero value is every endpoint (and
// the records of none); otherwise the endpoints with one of EndpointIDs,
// carrying every one of EndpointTags, or of one of Classifications.
type RetentionScope struct {
	EndpointIDs     []string
	EndpointTags    map[string]string
	Classifications []string
}

// All tells whether the scope is every endpoint.
func (s RetentionScope) All() bool {
	return s.EndpointIDs == nil && s.EndpointTags == nil && s.Classifications == nil
}

// RetentionSelector selects records of one data kind.
type RetentionSelector struct {
	// DataKind is one of api.DataKindNames.
	DataKind string
	// Before selects records older than it.
	Before time.Time
	// Scope selects the endpoints whose records are selected.
	Scope RetentionScope
	// Exclude leaves out the records of the endpoints of every scope in
	// it: what policies cover, when the built-in default is applied to
	// the rest. An excluded scope that is every endpoint leaves nothing.
	Exclude []RetentionScope
	// Fields are the api.DataKind.AnonymizeFields anonymized.
	Fields []string
	// Actor selects the audit events of one actor (erasure).
	Actor string
	// Erasure deletes pending deliveries too.
	Erasure bool
}

// Encodings of a retention table's time column (see 00014_lean_results.sql).
const (
	// timeText is the RFC 3339 text of fmtTime.
	timeText = iota
	// timeMicros is Unix microseconds (raw results and missed runs).
	timeMicros
	// timeSeconds is Unix seconds (rollup buckets).
	timeSeconds
)

// retentionTable is one table of a data kind.
type retentionTable struct {
	name string
	// key names one row: a primary key column, or for the rollups (WITHOUT
	// ROWID tables) the two columns of their composite primary key,
	// "monitor_key, bucket_start".
	key string
	// time is the column whose age is the record's, encoded as timeEnc.
	time    string
	timeEnc int
	// monitorKey tells that rows name their monitor by its result_monitors
	// key (column monitor_key) rather than by its ID.
	monitorKey bool
	// endpoint is the SQL expression of a row's endpoint (rows are
	// aliased t), "" for a table whose rows belong to none.
	endpoint string
	// fields maps an anonymize field to its column.
	fields map[string]string
	// keep is a condition that a row must also meet to be deleted (or
	// counted or reported as held past its age); "" for none. Change
	// history keeps every object's newest revision while the object or its
	// tombstone exists.
	keep string
	// id is the column of a row's text ID that a delete needs to remove
	// what depends on the row; "" for none.
	id string
}

// compositeKey is the primary key of the rollup tables.
const compositeKey = "monitor_key, bucket_start"

// monitorEndpoint is the endpoint of a row that names its monitor by ID
// (alert events); resultEndpoint that of a result table's row, which names
// it by its result_monitors key.
const (
	monitorEndpoint = `(SELECT endpoint_id FROM monitors WHERE monitors.id = t.monitor_id)`
	resultEndpoint  = `(SELECT m.endpoint_id FROM result_monitors k JOIN monitors m ON m.id = k.monitor_id WHERE k.key = t.monitor_key)`
)

// timeArg is t encoded to be compared with the table's time column,
// rounded up like the result reads do, so that "time < arg" selects the
// same records as "time before t".
func (tb retentionTable) timeArg(t time.Time) any {
	switch tb.timeEnc {
	case timeMicros:
		return ceilMicros(t)
	case timeSeconds:
		return ceilSeconds(t)
	}
	return fmtTime(t)
}

// retentionTables lists the tables of each data kind, the first the one
// whose records are counted.
var retentionTables = map[string][]retentionTable{
	api.DataProbeResults: {
		{name: "probe_results", key: "seq", time: "time", timeEnc: timeMicros, monitorKey: true, endpoint: resultEndpoint,
			fields: map[string]string{"error": "error", "body_excerpt": "body_excerpt"}},
		{name: "missed_runs", key: "seq", time: "time", timeEnc: timeMicros, monitorKey: true, endpoint: resultEndpoint},
	},
	api.DataMinuteRollups: {{name: "rollups_minute", key: compositeKey, time: "bucket_start", timeEnc: timeSeconds,
		monitorKey: true, endpoint: resultEndpoint}},
	api.DataHourRollups: {{name: "rollups_hour", key: compositeKey, time: "bucket_start", timeEnc: timeSeconds,
		monitorKey: true, endpoint: resultEndpoint}},
	api.DataAlertEvents: {{name: "alert_events", key: "seq", time: "at",
		endpoint: `COALESCE(t.endpoint_id, ` + monitorEndpoint + `)`, fields: map[string]string{"reason": "reason"}}},
	api.DataDeliveries: {{name: "deliveries", key: "seq", time: "created_at",
		endpoint: `(SELECT COALESCE(e.endpoint_id, (SELECT endpoint_id FROM monitors WHERE monitors.id = e.monitor_id))
			FROM alert_events e WHERE e.id = t.event_id)`,
		fields: map[string]string{"error": "last_error"}}},
	api.DataAuditEvents: {{name: "audit_events", key: "seq", time: "time", fields: map[string]string{"actor": "actor"}}},
	// A revision goes once a newer one of its object exists; a tombstone
	// past its age takes the object's remaining revisions with it.
	api.DataRevisions: {
		{name: "object_revisions", key: "rowid", time: "time", fields: map[string]string{"actor": "actor"},
			keep: `EXISTS (SELECT 1 FROM object_revisions n WHERE n.object_id = t.object_id AND n.revision > t.revision)`},
		{name: "object_tombstones", key: "rowid", time: "deleted_at", fields: map[string]string{"actor": "actor"}, id: "object_id"},
	},
}

// scopeCond is the condition that a row's endpoint (expression e) is in
// the scope.
func scopeCond(e string, s RetentionScope) (string, []any) {
	switch {
	case s.EndpointIDs != nil:
		args := make([]any, len(s.EndpointIDs))
		for i, id := range s.EndpointIDs {
			args[i] = id
		}
		return e + ` IN (` + placeholders(len(args)) + `)`, args
	case s.Classifications != nil:
		args := make([]any, len(s.Classifications))
		for i, c := range s.Classifications {
			args[i] = c
		}
		return e + ` IN (SELECT id FROM endpoints WHERE data_classification IN (` + placeholders(len(args)) + `))`, args
	case s.EndpointTags != nil:
		var (
			conds []string
			args  []any
		)
		keys := make([]string, 0, len(s.EndpointTags))
		for k := range s.EndpointTags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			conds = append(conds, `id IN (SELECT object_id FROM object_tags WHERE key = ? AND value = ?)`)
			args = append(args, k, s.EndpointTags[k])
		}
		return e + ` IN (SELECT id FROM endpoints WHERE ` + strings.Join(conds, " AND ") + `)`, args
	}
	return "1 = 1", nil
}

// where builds the selection of sel on table tb (aliased t).
func (sel RetentionSelector) where(tb retentionTable, withTime bool) (string, []any, error) {
	var (
		conds []string
		args  []any
	)
	if withTime {
		conds, args = append(conds, `t.`+tb.time+` < ?`), append(args, tb.timeArg(sel.Before))
	}
	if tb.endpoint == "" {
		if !sel.Scope.All() {
			return "", nil, fmt.Errorf("%s does not belong to endpoints and cannot be scoped", sel.DataKind)
		}
		for _, ex := range sel.Exclude {
			if ex.All() {
				conds = append(conds, "0 = 1")
			}
		}
	} else if tb.monitorKey {
		// The scope is turned into the set of monitor keys it covers (a
		// few rows of result_monitors and monitors), so that the result
		// tables are filtered on monitor_key, which their indexes lead
		// with, instead of evaluating the endpoint of every row.
		keysIn := func(s RetentionScope) (string, []any) {
			c, a := scopeCond(`m.endpoint_id`, s)
			return `t.monitor_key IN (SELECT k.key FROM result_monitors k JOIN monitors m ON m.id = k.monitor_id WHERE ` + c + `)`, a
		}
		if !sel.Scope.All() {
			c, a := keysIn(sel.Scope)
			conds, args = append(conds, c), append(args, a...)
		}
		for _, ex := range sel.Exclude {
			if ex.All() {
				conds = append(conds, "0 = 1")
				continue
			}
			// A record of no endpoint (its monitor is gone) has a key
			// that no scope's set holds: the default applies to it.
			c, a := keysIn(ex)
			conds, args = append(conds, `NOT (`+c+`)`), append(args, a...)
		}
	} else {
		if !sel.Scope.All() {
			c, a := scopeCond(tb.endpoint, sel.Scope)
			conds, args = append(conds, c), append(args, a...)
		}
		for _, ex := range sel.Exclude {
			if ex.All() {
				conds = append(conds, "0 = 1")
				continue
			}
			// A record of no endpoint (its monitor is gone) is in no
			// scope: the default applies to it.
			c, a := scopeCond(`COALESCE(`+tb.endpoint+`, '')`, ex)
			conds, args = append(conds, `NOT (`+c+`)`), append(args, a...)
		}
	}
	if tb.keep != "" && len(sel.Fields) == 0 {
		conds = append(conds, tb.keep)
	}
	if sel.Actor != "" {
		if _, ok := tb.fields["actor"]; !ok {
			return "", nil, fmt.Errorf("%s are not selected by actor", tb.name)
		}
		conds, args = append(conds, `t.actor = ?`), append(args, sel.Actor)
	}
	if tb.name == "deliveries" && !sel.Erasure {
		conds = append(conds, `t.state <> 'pending'`)
	}
	if tb.name == "alert_events" && !sel.Erasure {
		conds = append(conds, `NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = t.id AND d.state = 'pending')`)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return ` WHERE ` + strings.Join(conds, " AND "), args, nil
}

// anonCond is the condition that a row has a field not anonymized yet,
// and the assignments that anonymize it.
func (sel RetentionSelector) anonCond(tb retentionTable) (string, []string, error) {
	var conds, cols []string
	for _, f := range sel.Fields {
		col, ok := tb.fields[f]
		if !ok {
			return "", nil, fmt.Errorf("%s has no field %q to anonymize", sel.DataKind, f)
		}
		cols = append(cols, col)
		if f == "actor" {
			conds = append(conds, `t.actor NOT LIKE '`+api.PseudonymPrefix+`%'`)
		} else {
			conds = append(conds, `(t.`+col+` IS NOT NULL AND t.`+col+` <> '`+api.AnonymizedText+`')`)
		}
	}
	if len(cols) == 0 {
		return "", nil, errors.New("no field to anonymize")
	}
	return `(` + strings.Join(conds, " OR ") + `)`, cols, nil
}

func retentionTablesOf(kind string) ([]retentionTable, error) {
	tbs, ok := retentionTables[kind]
	if !ok {
		return nil, fmt.Errorf("unknown data kind %q", kind)
	}
	return tbs, nil
}

// endpointExpr is the endpoint of a row for counting, "”" for none.
func endpointExpr(tb retentionTable) string {
	if tb.endpoint == "" {
		return "''"
	}
	return `COALESCE(` + tb.endpoint + `, '')`
}

// batchRow is one selected row: its key (for the rollups, key and key2
// are monitor_key and bucket_start), the endpoint it belongs to, and (for
// alert events and deliveries) its text ID.
type batchRow struct {
	key      int64
	key2     int64
	endpoint string
	id       string
}

// keyIn is the condition that a row is one of batch, and its arguments.
// The rollups' composite key is matched as a row value against a
// subquery of a VALUES list: against the bare VALUES list SQLite scans the
// whole table, against the subquery it looks every pair up in an index
// (checked with EXPLAIN QUERY PLAN).
func keyIn(tb retentionTable, batch []batchRow) (string, []any) {
	if tb.key == compositeKey {
		args := make([]any, 0, 2*len(batch))
		for _, b := range batch {
			args = append(args, b.key, b.key2)
		}
		return `(` + compositeKey + `) IN (SELECT column1, column2 FROM (VALUES ` + valuesList(len(batch), 2) + `))`, args
	}
	keys, args := inList(batch, func(b batchRow) any { return b.key })
	return tb.key + ` IN ` + keys, args
}

func (t sqlTx) selectBatch(ctx context.Context, tb retentionTable, sel RetentionSelector, where string, args []any, limit int) ([]batchRow, error) {
	idCol := "''"
	if tb.id != "" {
		idCol = "t." + tb.id
	}
	if tb.name == "alert_events" || tb.name == "deliveries" {
		idCol = "t.id"
	}
	keyCols := `t.` + tb.key + `, 0`
	if tb.key == compositeKey {
		keyCols = `t.monitor_key, t.bucket_start`
	}
	// A scoped selection of a results table matches monitor keys: ordered
	// by key and time, it walks the (monitor_key, time) index and stops
	// after limit rows. Ordered by time alone it would read and sort every
	// old row in scope for each batch (quadratic in the backlog).
	order := `t.` + tb.time
	if !sel.Scope.All() && strings.Contains(keyCols+tb.endpoint, "monitor_key") {
		order = `t.monitor_key, t.` + tb.time
	}
	rows, err := t.query(ctx, `SELECT `+keyCols+`, `+endpointExpr(tb)+`, `+idCol+` FROM `+tb.name+` t`+where+
		` ORDER BY `+order+` LIMIT ?`, append(args, limit)...)
	return collect(rows, err, func(s scanner) (batchRow, error) {
		var b batchRow
		err := s.Scan(&b.key, &b.key2, &b.endpoint, &b.id)
		return b, err
	})
}

func inList[T any](vs []T, f func(T) any) (string, []any) {
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = f(v)
	}
	return `(` + placeholders(len(args)) + `)`, args
}

// RetentionDelete deletes one batch, table by table of the data kind,
// until limit rows are gone.
func (s *SQLite) RetentionDelete(ctx context.Context, sel RetentionSelector, limit int) (map[string]int64, error) {
	// The cached window sums may count what this deletes.
	defer s.sums.clear()
	tbs, err := retentionTablesOf(sel.DataKind)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultDeleteBatch
	}
	out := map[string]int64{}
	// Results and rollups: what is about to be deleted is written to the
	// rollups first (see roller), as it was when every batch was merged at
	// once; what is not deleted stays in the roller's memory.
	results := sel.DataKind == api.DataProbeResults || sel.DataKind == api.DataMinuteRollups || sel.DataKind == api.DataHourRollups
	if results {
		s.roll.mu.Lock()
		defer s.roll.mu.Unlock()
	}
	err = s.writeAlone(ctx, func(tx Tx) error {
		t := tx.(sqlTx)
		if results {
			if err := s.rollThrough(ctx, t, sel.Before); err != nil {
				return err
			}
		}
		left := limit
		for _, tb := range tbs {
			if left <= 0 {
				break
			}
			where, args, err := sel.where(tb, true)
			if err != nil {
				return err
			}
			batch, err := t.selectBatch(ctx, tb, sel, where, args, left)
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				// This table is done; the kind's next one may not be.
				continue
			}
			if err := t.deleteBatch(ctx, tb, batch, sel.Erasure); err != nil {
				return err
			}
			for _, b := range batch {
				out[b.endpoint]++
			}
			left -= len(batch)
		}
		return nil
	})
	if results && err != nil {
		s.roll.reset()
	}
	return out, err
}

func (t sqlTx) deleteBatch(ctx context.Context, tb retentionTable, batch []batchRow, erasure bool) error {
	ids, idArgs := inList(batch, func(b batchRow) any { return b.id })
	switch tb.name {
	case "alert_events":
		// An event's deliveries and their attempts go with it: they are
		// its history, and reference it.
		deliveries := `SELECT id FROM deliveries WHERE event_id IN ` + ids
		if _, err := t.exec(ctx, `DELETE FROM delivery_attempts WHERE delivery_id IN (`+deliveries+`)`, idArgs...); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `DELETE FROM deliveries WHERE event_id IN `+ids, idArgs...); err != nil {
			return err
		}
	case "deliveries":
		if _, err := t.exec(ctx, `DELETE FROM delivery_attempts WHERE delivery_id IN `+ids, idArgs...); err != nil {
			return err
		}
	case "object_tombstones":
		// The object is gone for good: so is the rest of its history.
		if _, err := t.exec(ctx, `DELETE FROM object_revisions WHERE object_id IN `+ids, idArgs...); err != nil {
			return err
		}
	}
	cond, keyArgs := keyIn(tb, batch)
	_, err := t.exec(ctx, `DELETE FROM `+tb.name+` WHERE `+cond, keyArgs...)
	return err
}

// RetentionAnonymize anonymizes one batch, table by table of the data
// kind that has the fields (revisions, then tombstones), until limit rows
// are changed.
func (s *SQLite) RetentionAnonymize(ctx context.Context, sel RetentionSelector, limit int, pseudonym func(string) string) (map[string]int64, error) {
	// The cached window sums may count what this deletes.
	defer s.sums.clear()
	tbs, err := anonymizableTables(sel)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultDeleteBatch
	}
	out := map[string]int64{}
	err = s.writeAlone(ctx, func(tx Tx) error {
		t := tx.(sqlTx)
		left := limit
		for _, tb := range tbs {
			if left <= 0 {
				break
			}
			n, err := t.anonymizeBatch(ctx, tb, sel, left, pseudonym, out)
			if err != nil {
				return err
			}
			left -= n
		}
		return nil
	})
	return out, err
}

// anonymizableTables are the tables of sel's data kind that have every
// field sel anonymizes: the first table always (an unknown field is an
// error there), the others where they have the fields.
func anonymizableTables(sel RetentionSelector) ([]retentionTable, error) {
	tbs, err := retentionTablesOf(sel.DataKind)
	if err != nil {
		return nil, err
	}
	out := tbs[:1]
	for _, tb := range tbs[1:] {
		if !slices.ContainsFunc(sel.Fields, func(f string) bool { _, ok := tb.fields[f]; return !ok }) {
			out = append(out, tb)
		}
	}
	return out, nil
}

// anonymizeBatch anonymizes at most limit rows of tb that sel selects,
// adds them to out per endpoint and returns how many it changed.
func (t sqlTx) anonymizeBatch(ctx context.Context, tb retentionTable, sel RetentionSelector, limit int, pseudonym func(string) string, out map[string]int64) (int, error) {
	cond, cols, err := sel.anonCond(tb)
	if err != nil {
		return 0, err
	}
	where, args, err := sel.where(tb, true)
	if err != nil {
		return 0, err
	}
	where = joinWhere(where, cond)
	batch, err := t.selectBatch(ctx, tb, sel, where, args, limit)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	keys, keyArgs := inList(batch, func(b batchRow) any { return b.key })
	if slices.Contains(cols, "actor") {
		if err := t.pseudonymize(ctx, tb, keys, keyArgs, pseudonym); err != nil {
			return 0, err
		}
		cols = slices.DeleteFunc(slices.Clone(cols), func(c string) bool { return c == "actor" })
	}
	if len(cols) > 0 {
		sets := make([]string, len(cols))
		for i, c := range cols {
			sets[i] = c + ` = CASE WHEN ` + c + ` IS NULL THEN NULL ELSE '` + api.AnonymizedText + `' END`
		}
		if _, err := t.exec(ctx, `UPDATE `+tb.name+` SET `+strings.Join(sets, ", ")+` WHERE `+tb.key+` IN `+keys, keyArgs...); err != nil {
			return 0, err
		}
	}
	if tb.name == "deliveries" {
		ids, idArgs := inList(batch, func(b batchRow) any { return b.id })
		if _, err := t.exec(ctx, `UPDATE delivery_attempts SET error = '`+api.AnonymizedText+`'
			WHERE error IS NOT NULL AND delivery_id IN `+ids, idArgs...); err != nil {
			return 0, err
		}
	}
	for _, b := range batch {
		out[b.endpoint]++
	}
	return len(batch), nil
}

// pseudonymize replaces the actor of the given rows of tb (audit events,
// revisions) by its pseudonym, one distinct actor at a time.
func (t sqlTx) pseudonymize(ctx context.Context, tb retentionTable, keys string, keyArgs []any, pseudonym func(string) string) error {
	if pseudonym == nil {
		return errors.New("anonymizing actors needs a pseudonym function")
	}
	rows, err := t.query(ctx, `SELECT DISTINCT actor FROM `+tb.name+` WHERE `+tb.key+` IN `+keys, keyArgs...)
	actors, err := collect(rows, err, func(s scanner) (string, error) {
		var a string
		err := s.Scan(&a)
		return a, err
	})
	if err != nil {
		return err
	}
	for _, a := range actors {
		if strings.HasPrefix(a, api.PseudonymPrefix) {
			continue
		}
		args := append([]any{pseudonym(a), a}, keyArgs...)
		if _, err := t.exec(ctx, `UPDATE `+tb.name+` SET actor = ? WHERE actor = ? AND `+tb.key+` IN `+keys, args...); err != nil {
			return err
		}
	}
	return nil
}

func joinWhere(where, cond string) string {
	if where == "" {
		return ` WHERE ` + cond
	}
	return where + ` AND ` + cond
}

// RetentionCount counts per endpoint, on the read pool.
func (s *SQLite) RetentionCount(ctx context.Context, sel RetentionSelector, anonymize bool) (map[string]int64, error) {
	tbs, err := retentionTablesOf(sel.DataKind)
	if err != nil {
		return nil, err
	}
	if anonymize {
		if tbs, err = anonymizableTables(sel); err != nil {
			return nil, err
		}
	}
	out := map[string]int64{}
	for _, tb := range tbs {
		where, args, err := sel.where(tb, true)
		if err != nil {
			return nil, err
		}
		if anonymize {
			cond, _, err := sel.anonCond(tb)
			if err != nil {
				return nil, err
			}
			where = joinWhere(where, cond)
		}
		q := `SELECT ep, COUNT(*) FROM (SELECT ` + endpointExpr(tb) + ` AS ep FROM ` + tb.name + ` t` + where + `) GROUP BY ep`
		if tb.monitorKey {
			// Count per monitor key first, then look up the endpoint once
			// per monitor rather than once per row.
			q = `SELECT ep, SUM(n) FROM (SELECT ` + endpointExpr(tb) + ` AS ep, t.n FROM (SELECT t.monitor_key, COUNT(*) AS n FROM ` +
				tb.name + ` t` + where + ` GROUP BY t.monitor_key) t) GROUP BY ep`
		}
		rows, err := s.query(ctx, q, args...)
		counts, err := collect(rows, err, func(sc scanner) (batchRow, error) {
			var b batchRow
			err := sc.Scan(&b.endpoint, &b.key)
			return b, err
		})
		if err != nil {
			return nil, err
		}
		for _, c := range counts {
			out[c.endpoint] += c.key
		}
	}
	return out, nil
}

// RetentionOldest reads the oldest time among the records selected, in
// every table of the data kind: the missed runs of the raw data and the
// tombstones of the change history may be older than any result or
// revision left, and the compliance view counts overdue records only
// below the oldest.
func (s *SQLite) RetentionOldest(ctx context.Context, sel RetentionSelector) (*time.Time, error) {
	tbs, err := retentionTablesOf(sel.DataKind)
	if err != nil {
		return nil, err
	}
	var out *time.Time
	for _, tb := range tbs {
		oldest, err := s.retentionOldestIn(ctx, sel, tb)
		if err != nil {
			return nil, err
		}
		if oldest != nil && (out == nil || oldest.Before(*out)) {
			out = oldest
		}
	}
	return out, nil
}

// retentionOldestIn reads the oldest time among the records of one table
// selected, nil when there is none.
func (s *SQLite) retentionOldestIn(ctx context.Context, sel RetentionSelector, tb retentionTable) (*time.Time, error) {
	where, args, err := sel.where(tb, false)
	if err != nil {
		return nil, err
	}
	q := `SELECT MIN(t.` + tb.time + `) FROM ` + tb.name + ` t` + where
	if tb.timeEnc == timeText {
		var oldest sql.NullString
		if err := s.queryRow(ctx, q, args...).Scan(&oldest); err != nil {
			return nil, err
		}
		return parseTimePtr(oldest)
	}
	var oldest sql.NullInt64
	if err := s.queryRow(ctx, q, args...).Scan(&oldest); err != nil || !oldest.Valid {
		return nil, err
	}
	if tb.timeEnc == timeSeconds {
		return new(time.Unix(oldest.Int64, 0).UTC()), nil
	}
	return new(fromMicros(oldest.Int64)), nil
}

// AdvanceResultHorizon moves the horizon in a transaction of its own.
func (s *SQLite) AdvanceResultHorizon(ctx context.Context, tier string, before time.Time) error {
	// The cached window sums may count what this deletes.
	defer s.sums.clear()
	return s.Write(ctx, func(tx Tx) error {
		_, err := tx.(sqlTx).exec(ctx, `INSERT INTO result_horizons (tier, horizon) VALUES (?, ?)
			ON CONFLICT (tier) DO UPDATE SET horizon = excluded.horizon WHERE excluded.horizon > result_horizons.horizon`,
			tier, fmtTime(before))
		return err
	})
}

// checkpointTruncate runs a TRUNCATE checkpoint on the writer. A reader
// holding an old snapshot makes it report busy; it is retried a few times.
func (s *SQLite) checkpointTruncate(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		var busy, logFrames, done int
		if err := s.writer.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
			return err
		}
		if busy == 0 {
			return nil
		}
		if attempt == 20 {
			return errors.New("the WAL checkpoint stayed busy: a reader holds an old snapshot")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ---- run records ----

// RecordRetentionRun stores the run, the policy's report and the audit
// event together.
func (s *SQLite) RecordRetentionRun(ctx context.Context, run api.RetentionRun, next time.Time, ev api.AuditEvent) error {
	scopes, err := json.Marshal(nonNil(run.Scopes))
	if err != nil {
		return err
	}
	errs, err := json.Marshal(nonNil(run.Errors))
	if err != nil {
		return err
	}
	return s.Write(ctx, func(tx Tx) error {
		t := tx.(sqlTx)
		if _, err := t.exec(ctx, `INSERT INTO retention_runs (id, policy_id, trigger_kind, started_at, finished_at, cutoff, floor_applied,
			deleted, anonymized, scopes, errors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			run.ID, run.PolicyID, run.Trigger, fmtTime(run.StartedAt), fmtTime(run.FinishedAt), fmtTime(run.Cutoff), run.FloorApplied,
			run.Deleted, run.Anonymized, string(scopes), string(errs)); err != nil {
			return err
		}
		if err := t.SetRetentionPolicyRun(ctx, run.PolicyID, run.FinishedAt, run.Deleted, run.Anonymized, next); err != nil {
			return err
		}
		return t.InsertAuditEvent(ctx, ev)
	})
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// SetRetentionNextRun runs Tx.SetRetentionNextRun in a transaction of its
// own.
func (s *SQLite) SetRetentionNextRun(ctx context.Context, next time.Time) error {
	return s.Write(ctx, func(tx Tx) error { return tx.(sqlTx).SetRetentionNextRun(ctx, next) })
}

// ListRetentionRuns pages a policy's runs by seq, newest first.
func (s *SQLite) ListRetentionRuns(ctx context.Context, policyID string, limit int, after string) ([]api.RetentionRun, string, error) {
	limit = clampLimit(limit)
	q := `SELECT seq, id, policy_id, trigger_kind, started_at, finished_at, cutoff, floor_applied, deleted, anonymized, scopes, errors
		FROM retention_runs WHERE policy_id = ?`
	args := []any{policyID}
	if after != "" {
		seq, err := strconv.ParseInt(after, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", ErrBadCursor, err)
		}
		q += ` AND seq < ?`
		args = append(args, seq)
	}
	rows, err := s.query(ctx, q+` ORDER BY seq DESC LIMIT ?`, append(args, limit+1)...)
	type seqRun struct {
		seq int64
		run api.RetentionRun
	}
	runs, err := collect(rows, err, func(sc scanner) (seqRun, error) {
		var (
			r                                  seqRun
			started, finished, cutoff, sc2, es string
		)
		if err := sc.Scan(&r.seq, &r.run.ID, &r.run.PolicyID, &r.run.Trigger, &started, &finished, &cutoff, &r.run.FloorApplied,
			&r.run.Deleted, &r.run.Anonymized, &sc2, &es); err != nil {
			return r, err
		}
		var err error
		if r.run.StartedAt, err = parseTime(started); err != nil {
			return r, err
		}
		if r.run.FinishedAt, err = parseTime(finished); err != nil {
			return r, err
		}
		if r.run.Cutoff, err = parseTime(cutoff); err != nil {
			return r, err
		}
		if err := json.Unmarshal([]byte(sc2), &r.run.Scopes); err != nil {
			return r, err
		}
		return r, json.Unmarshal([]byte(es), &r.run.Errors)
	})
	if err != nil {
		return nil, "", err
	}
	out := make([]api.RetentionRun, 0, len(runs))
	for _, r := range runs {
		out = append(out, r.run)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(runs[limit-1].seq, 10)
	}
	return out, next, nil
}

// ---- erasure requests ----

const erasureColumns = `id, endpoint_id, actor, state, requested_by, created_at, completed_at, deleted, anonymized, error`

func scanErasure(s scanner) (api.ErasureRequest, error) {
	var (
		e                  api.ErasureRequest
		ep, actor, errText sql.NullString
		completed          sql.NullString
		created            string
	)
	if err := s.Scan(&e.ID, &ep, &actor, &e.State, &e.RequestedBy, &created, &completed, &e.Deleted, &e.Anonymized, &errText); err != nil {
		return e, err
	}
	e.EndpointID, e.Actor, e.Error = nullStringPtr(ep), nullStringPtr(actor), errText.String
	var err error
	if e.CreatedAt, err = parseTime(created); err != nil {
		return e, err
	}
	e.CompletedAt, err = parseTimePtr(completed)
	return e, err
}

// GetErasureRequest returns an erasure request, or ErrNotFound.
func (r sqlReader) GetErasureRequest(ctx context.Context, id string) (api.ErasureRequest, error) {
	e, err := scanErasure(r.queryRow(ctx, `SELECT `+erasureColumns+` FROM erasure_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	return e, err
}

// InsertErasureRequest stores a new (pending) erasure request.
func (t sqlTx) InsertErasureRequest(ctx context.Context, e api.ErasureRequest) error {
	_, err := t.exec(ctx, `INSERT INTO erasure_requests (`+erasureColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.EndpointID, e.Actor, e.State, e.RequestedBy, fmtTime(e.CreatedAt), fmtTimePtr(e.CompletedAt), e.Deleted, e.Anonymized,
		nullIfEmpty(e.Error))
	return err
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// NextErasureRequest claims the oldest pending request. A request left
// running by a crash is taken again: erasure can be repeated.
func (s *SQLite) NextErasureRequest(ctx context.Context) (api.ErasureRequest, error) {
	var e api.ErasureRequest
	err := s.Write(ctx, func(tx Tx) error {
		t := tx.(sqlTx)
		var err error
		e, err = scanErasure(t.queryRow(ctx, `SELECT `+erasureColumns+` FROM erasure_requests WHERE state IN (?, ?)
			ORDER BY created_at, id LIMIT 1`, api.ErasurePending, api.ErasureRunning))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		e.State = api.ErasureRunning
		_, err = t.exec(ctx, `UPDATE erasure_requests SET state = ? WHERE id = ?`, e.State, e.ID)
		return err
	})
	return e, err
}

// FinishErasureRequest stores the outcome and its audit event.
func (s *SQLite) FinishErasureRequest(ctx context.Context, e api.ErasureRequest, ev api.AuditEvent) error {
	return s.Write(ctx, func(tx Tx) error {
		t := tx.(sqlTx)
		if err := t.execOne(ctx, `UPDATE erasure_requests SET state = ?, completed_at = ?, deleted = ?, anonymized = ?, error = ?,
			actor = ? WHERE id = ?`, e.State, fmtTimePtr(e.CompletedAt), e.Deleted, e.Anonymized, nullIfEmpty(e.Error), e.Actor, e.ID); err != nil {
			return err
		}
		return t.InsertAuditEvent(ctx, ev)
	})
}
