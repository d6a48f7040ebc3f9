package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/stats"
)

// ResultStore holds probe results and their rollups. It is part of Store;
// the results pipeline (internal/engine/results) is its only writer.
//
// Results are kept in three tiers: raw results (probe_results, and the
// missed runs in missed_runs), per-minute rollups and per-hour rollups.
// WriteResults fills all three in one transaction; retention deletes each
// tier at its own age with DeleteResultsBefore.
type ResultStore interface {
	// WriteResults stores a batch of probe results and missed runs in one
	// write transaction: the raw rows, the minute and hour rollups they
	// fall into (merged with what those rollups held), and the latest
	// state of each monitor.
	WriteResults(ctx context.Context, results []api.ProbeResult, missed []MissedRun) error
	// ListResults returns one page of a monitor's raw results, oldest
	// first (by time, then by the order they were stored), and the cursor
	// of the next page ("" on the last page). A q.After that is not such
	// a cursor fails with ErrBadCursor.
	ListResults(ctx context.Context, monitorID string, q ResultQuery) ([]api.ProbeResult, string, error)
	// MonitorStatus returns the rollup of a monitor's results with
	// from <= time < to, and the monitor's latest state. Counts are exact
	// while the tiers it reads still hold the data; see planWindow for how
	// a window is cut into tiers and what happens past a tier's horizon.
	MonitorStatus(ctx context.Context, monitorID string, from, to time.Time) (stats.Rollup, MonitorState, error)
	// WindowRollups returns the rollups of several monitors' results with
	// from <= time < to, read as MonitorStatus reads one monitor's (the
	// same tiers and edges) but with a few queries for all of them, in one
	// read transaction. A monitor without results has a zero rollup.
	WindowRollups(ctx context.Context, monitorIDs []string, from, to time.Time) (map[string]*stats.Rollup, error)
	// WindowCounts is WindowRollups without the latencies: every count of
	// each rollup (probes, outcomes, retried, missed, bytes) as
	// WindowRollups returns it, with LatencySumMS and Latency left zero.
	// The figures that are counts (availability, error, retry and burn
	// rates, probes per minute) need no more, and the database sums the
	// rollup rows instead of handing each one over with its histogram.
	WindowCounts(ctx context.Context, monitorIDs []string, from, to time.Time) (map[string]*stats.Rollup, error)
	// LatestOutcomes returns the outcomes of a monitor's latest n raw
	// results (at most MaxLatestOutcomes), newest first, with their times:
	// what consecutive_failures is counted from.
	LatestOutcomes(ctx context.Context, monitorID string, n int) ([]OutcomeAt, error)
	// LatestOutcomesOf is LatestOutcomes for several monitors, read in
	// one read transaction with a few queries: each monitor's latest n
	// outcomes, newest first (none for a monitor without results).
	LatestOutcomesOf(ctx context.Context, monitorIDs []string, n int) (map[string][]OutcomeAt, error)
	// DeleteResultsBefore deletes at most limit rows (DefaultDeleteBatch
	// when limit <= 0) of one tier (TierRaw, TierMinute or TierHour) older
	// than before, and returns how many it deleted. A caller deletes in
	// batches until fewer than limit come back. From then on MonitorStatus
	// reads windows reaching before `before` from the next coarser tier.
	DeleteResultsBefore(ctx context.Context, tier string, before time.Time, limit int) (int64, error)
	// DeleteMonitorData removes every result, rollup and the state of a
	// monitor, for when the monitor is deleted.
	DeleteMonitorData(ctx context.Context, monitorID string) error
	// DeleteOrphanResults deletes at most limit rows (DefaultDeleteBatch
	// when limit <= 0) of raw results, missed runs, rollups and states
	// whose monitor no longer exists, and returns how many it deleted. A
	// caller deletes in batches until fewer than limit come back.
	//
	// Such rows appear when results still queued in the writer are stored
	// after DeleteMonitorData (or when DeleteMonitorData failed); without
	// this they would stay for ever, as monitor_state is never aged out.
	DeleteOrphanResults(ctx context.Context, limit int) (int64, error)
}

// Result tiers, from the finest to the coarsest.
const (
	TierRaw    = "raw"
	TierMinute = "minute"
	TierHour   = "hour"
)

// DefaultDeleteBatch is DeleteResultsBefore's batch size when none is given.
const DefaultDeleteBatch = 1000

// MissedRun is a run of a monitor that was skipped because the previous
// probe was still running.
type MissedRun struct {
	MonitorID string
	Time      time.Time
}

// ResultQuery selects a page of a monitor's raw results.
type ResultQuery struct {
	// Since and Until select results with Since <= time < Until; a zero
	// value leaves that side open.
	Since, Until time.Time
	// Limit is the page size; 0 means DefaultLimit, at most MaxLimit.
	Limit int
	// After is the cursor returned with the previous page.
	After string
}

// MonitorState is what the latest probe of a monitor found. Every field is
// nil until the monitor has been probed.
type MonitorState struct {
	LastCheckedAt *time.Time
	LastOutcome   *string
	// TLSCertExpiresAt is the expiry of the certificate seen most recently:
	// a probe that saw no certificate (a failed connection) keeps the one
	// seen before.
	TLSCertExpiresAt *time.Time
}

// ---- writing ----

const resultColumns = `monitor_id, time, outcome, status_code, latency_ms, dns_ms, connect_ms, tls_ms, first_byte_ms,
	tls_cert_expires_at, bytes_received, attempts, error, body_excerpt`

const resultColumnCount = 14

// resultRowsPerInsert bounds a multi-row INSERT well below every dialect's
// limit on placeholders (SQLite 32766, PostgreSQL 65535).
const resultRowsPerInsert = 250

// rollupRowsPerRead bounds the IN list of a rollup read.
const rollupRowsPerRead = 256

// WriteResults stores a batch in one immediate transaction on the writer.
func (s *SQLite) WriteResults(ctx context.Context, results []api.ProbeResult, missed []MissedRun) error {
	if len(results) == 0 && len(missed) == 0 {
		return nil
	}
	return writeTx(ctx, s.writer, s.d, func(tx Tx) error {
		return tx.(sqlTx).writeResults(ctx, results, missed)
	})
}

// valuesList returns "(?, ?), (?, ?)" for rows rows of cols columns.
func valuesList(rows, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func resultArgs(r api.ProbeResult) []any {
	return []any{r.MonitorID, fmtTime(r.Time), r.Outcome, r.StatusCode, r.LatencyMS, r.DNSMS, r.ConnectMS, r.TLSMS,
		r.FirstByteMS, fmtTimePtr(r.TLSCertExpiresAt), r.BytesReceived, r.Attempts, r.Error, r.BodyExcerpt}
}

// rollupKey names one rollup row.
type rollupKey struct {
	monitorID string
	start     time.Time
}

type rollupSet map[rollupKey]*stats.Rollup

func (rs rollupSet) get(monitorID string, start time.Time) *stats.Rollup {
	k := rollupKey{monitorID, start}
	r := rs[k]
	if r == nil {
		r = &stats.Rollup{}
		rs[k] = r
	}
	return r
}

// sortedKeys orders keys by bucket, then monitor: every writer touches rows
// in the same order.
func (rs rollupSet) sortedKeys() []rollupKey {
	return slices.SortedFunc(maps.Keys(rs), func(a, b rollupKey) int {
		return cmp.Or(a.start.Compare(b.start), cmp.Compare(a.monitorID, b.monitorID))
	})
}

// resultState is the latest state of a monitor within one batch.
type resultState struct {
	time, certTime time.Time
	outcome        string
	cert           *time.Time
}

func (t sqlTx) writeResults(ctx context.Context, results []api.ProbeResult, missed []MissedRun) error {
	for chunk := range slices.Chunk(results, resultRowsPerInsert) {
		args := make([]any, 0, len(chunk)*resultColumnCount)
		for _, r := range chunk {
			args = append(args, resultArgs(r)...)
		}
		if _, err := t.exec(ctx, `INSERT INTO probe_results (`+resultColumns+`) VALUES `+
			valuesList(len(chunk), resultColumnCount), args...); err != nil {
			return fmt.Errorf("insert probe results: %w", err)
		}
	}
	for chunk := range slices.Chunk(missed, resultRowsPerInsert) {
		args := make([]any, 0, len(chunk)*2)
		for _, m := range chunk {
			args = append(args, m.MonitorID, fmtTime(m.Time))
		}
		if _, err := t.exec(ctx, `INSERT INTO missed_runs (monitor_id, time) VALUES `+valuesList(len(chunk), 2), args...); err != nil {
			return fmt.Errorf("insert missed runs: %w", err)
		}
	}

	minutes, hours := rollupSet{}, rollupSet{}
	states := map[string]*resultState{}
	for _, r := range results {
		tm := r.Time.UTC()
		minutes.get(r.MonitorID, tm.Truncate(time.Minute)).Add(r)
		hours.get(r.MonitorID, tm.Truncate(time.Hour)).Add(r)
		st := states[r.MonitorID]
		if st == nil {
			st = &resultState{}
			states[r.MonitorID] = st
		}
		// Later in the batch wins a tie: the batch is in recording order.
		if st.outcome == "" || !tm.Before(st.time) {
			st.time, st.outcome = tm, r.Outcome
		}
		if r.TLSCertExpiresAt != nil && (st.cert == nil || !tm.Before(st.certTime)) {
			st.certTime, st.cert = tm, r.TLSCertExpiresAt
		}
	}
	for _, m := range missed {
		tm := m.Time.UTC()
		minutes.get(m.MonitorID, tm.Truncate(time.Minute)).Missed++
		hours.get(m.MonitorID, tm.Truncate(time.Hour)).Missed++
	}
	if err := t.mergeRollups(ctx, "rollups_minute", minutes); err != nil {
		return err
	}
	if err := t.mergeRollups(ctx, "rollups_hour", hours); err != nil {
		return err
	}
	return t.putStates(ctx, states)
}

const rollupColumns = `monitor_id, bucket_start, probes, up, degraded, down, retried, missed, bytes, latency_sum_ms, histogram`

const rollupColumnCount = 11

// mergeRollups adds the batch's rollups to the stored ones: it reads the
// rows the batch touches, merges them in Go (the histogram cannot be merged
// in SQL) and writes them back with an upsert. The writer is the only
// writer of these tables, inside this transaction.
func (t sqlTx) mergeRollups(ctx context.Context, table string, set rollupSet) error {
	keys := set.sortedKeys()
	// Read what is stored, one IN list per bucket.
	for i := 0; i < len(keys); {
		j := i
		for j < len(keys) && keys[j].start.Equal(keys[i].start) && j-i < rollupRowsPerRead {
			j++
		}
		group := keys[i:j]
		args := []any{fmtTime(group[0].start)}
		for _, k := range group {
			args = append(args, k.monitorID)
		}
		stored, err := t.readRollups(ctx, `SELECT `+rollupColumns+` FROM `+table+
			` WHERE bucket_start = ? AND monitor_id IN (`+placeholders(len(group))+`)`, args...)
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		for k, r := range stored {
			set[k].Merge(r)
		}
		i = j
	}
	for chunk := range slices.Chunk(keys, resultRowsPerInsert) {
		args := make([]any, 0, len(chunk)*rollupColumnCount)
		for _, k := range chunk {
			r := set[k]
			args = append(args, k.monitorID, fmtTime(k.start), r.Probes, r.Up, r.Degraded, r.Down, r.Retried, r.Missed,
				r.Bytes, r.LatencySumMS, r.Latency.Marshal())
		}
		if _, err := t.exec(ctx, `INSERT INTO `+table+` (`+rollupColumns+`) VALUES `+valuesList(len(chunk), rollupColumnCount)+`
			ON CONFLICT (monitor_id, bucket_start) DO UPDATE SET probes = excluded.probes, up = excluded.up,
			degraded = excluded.degraded, down = excluded.down, retried = excluded.retried, missed = excluded.missed,
			bytes = excluded.bytes, latency_sum_ms = excluded.latency_sum_ms, histogram = excluded.histogram`, args...); err != nil {
			return fmt.Errorf("write %s: %w", table, err)
		}
	}
	return nil
}

// readRollups runs a query selecting rollupColumns.
func (r sqlReader) readRollups(ctx context.Context, q string, args ...any) (map[rollupKey]*stats.Rollup, error) {
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[rollupKey]*stats.Rollup{}
	for rows.Next() {
		var (
			ru         stats.Rollup
			id, bucket string
			hist       []byte
		)
		if err := rows.Scan(&id, &bucket, &ru.Probes, &ru.Up, &ru.Degraded, &ru.Down, &ru.Retried, &ru.Missed,
			&ru.Bytes, &ru.LatencySumMS, &hist); err != nil {
			return nil, err
		}
		start, err := parseTime(bucket)
		if err != nil {
			return nil, err
		}
		if err := ru.Latency.UnmarshalBinary(hist); err != nil {
			return nil, fmt.Errorf("rollup %s %s: %w", id, bucket, err)
		}
		out[rollupKey{id, start}] = &ru
	}
	return out, rows.Err()
}

// putStates moves each monitor's state forward; a batch older than the
// stored state changes nothing.
func (t sqlTx) putStates(ctx context.Context, states map[string]*resultState) error {
	ids := slices.Sorted(maps.Keys(states))
	for chunk := range slices.Chunk(ids, resultRowsPerInsert) {
		args := make([]any, 0, len(chunk)*4)
		for _, id := range chunk {
			st := states[id]
			args = append(args, id, fmtTime(st.time), st.outcome, fmtTimePtr(st.cert))
		}
		if _, err := t.exec(ctx, `INSERT INTO monitor_state (monitor_id, last_checked_at, last_outcome, tls_cert_expires_at)
			VALUES `+valuesList(len(chunk), 4)+`
			ON CONFLICT (monitor_id) DO UPDATE SET last_checked_at = excluded.last_checked_at,
			last_outcome = excluded.last_outcome,
			tls_cert_expires_at = COALESCE(excluded.tls_cert_expires_at, monitor_state.tls_cert_expires_at)
			WHERE excluded.last_checked_at >= monitor_state.last_checked_at`, args...); err != nil {
			return fmt.Errorf("write monitor state: %w", err)
		}
	}
	return nil
}

// ---- listing ----

// resultCursor is "<unix microseconds>.<seq>" of the last result of a page.
func resultCursor(tm time.Time, seq int64) string {
	return strconv.FormatInt(tm.UnixMicro(), 10) + "." + strconv.FormatInt(seq, 10)
}

// ErrBadCursor means the After of a query is not a cursor that the
// listing returned (ListResults, and the alerting listings): a caller's
// mistake, not a fault of the store.
var ErrBadCursor = errors.New("not a cursor of this listing")

func parseResultCursor(s string) (time.Time, int64, error) {
	a, b, ok := strings.Cut(s, ".")
	micros, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, 0, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	return time.UnixMicro(micros).UTC(), seq, nil
}

func (r sqlReader) ListResults(ctx context.Context, monitorID string, q ResultQuery) ([]api.ProbeResult, string, error) {
	limit := clampLimit(q.Limit)
	conds := []string{"monitor_id = ?"}
	args := []any{monitorID}
	if !q.Since.IsZero() {
		conds = append(conds, "time >= ?")
		args = append(args, fmtTime(q.Since))
	}
	if !q.Until.IsZero() {
		conds = append(conds, "time < ?")
		args = append(args, fmtTime(q.Until))
	}
	if q.After != "" {
		tm, seq, err := parseResultCursor(q.After)
		if err != nil {
			return nil, "", err
		}
		conds = append(conds, "(time > ? OR (time = ? AND seq > ?))")
		args = append(args, fmtTime(tm), fmtTime(tm), seq)
	}
	rows, err := r.query(ctx, `SELECT seq, `+resultColumns+` FROM probe_results WHERE `+strings.Join(conds, " AND ")+
		` ORDER BY time, seq LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var (
		out  = []api.ProbeResult{}
		seqs []int64
	)
	for rows.Next() {
		var (
			res                 api.ProbeResult
			seq                 int64
			tm                  string
			status, attempts    sql.NullInt64
			dns, conn, tls, fb  sql.NullFloat64
			cert, errText, body sql.NullString
		)
		if err := rows.Scan(&seq, &res.MonitorID, &tm, &res.Outcome, &status, &res.LatencyMS, &dns, &conn, &tls, &fb,
			&cert, &res.BytesReceived, &attempts, &errText, &body); err != nil {
			return nil, "", err
		}
		if res.Time, err = parseTime(tm); err != nil {
			return nil, "", err
		}
		if status.Valid {
			res.StatusCode = new(int(status.Int64))
		}
		res.Attempts = int(attempts.Int64)
		res.DNSMS, res.ConnectMS, res.TLSMS, res.FirstByteMS = nullFloatPtr(dns), nullFloatPtr(conn), nullFloatPtr(tls), nullFloatPtr(fb)
		if res.TLSCertExpiresAt, err = parseTimePtr(cert); err != nil {
			return nil, "", err
		}
		res.Error, res.BodyExcerpt = nullStringPtr(errText), nullStringPtr(body)
		out = append(out, res)
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = resultCursor(out[limit-1].Time, seqs[limit-1])
	}
	return out, next, nil
}

func nullFloatPtr(f sql.NullFloat64) *float64 {
	if !f.Valid {
		return nil
	}
	return new(f.Float64)
}

// ---- many monitors' windows ----

// WindowRollups reads the window of many monitors in one read transaction:
// the window's plan once, then each segment for up to rollupRowsPerRead
// monitors per query.
func (s *SQLite) WindowRollups(ctx context.Context, monitorIDs []string, from, to time.Time) (map[string]*stats.Rollup, error) {
	return s.windowRollups(ctx, monitorIDs, from, to, true)
}

// WindowCounts reads as WindowRollups does, but has SQLite sum the rollup
// tiers' counts per monitor (one row per monitor and segment instead of
// one per bucket, and no histogram to decode).
func (s *SQLite) WindowCounts(ctx context.Context, monitorIDs []string, from, to time.Time) (map[string]*stats.Rollup, error) {
	return s.windowRollups(ctx, monitorIDs, from, to, false)
}

func (s *SQLite) windowRollups(ctx context.Context, monitorIDs []string, from, to time.Time, latencies bool) (map[string]*stats.Rollup, error) {
	out := make(map[string]*stats.Rollup, len(monitorIDs))
	ids := make([]string, 0, len(monitorIDs))
	for _, id := range monitorIDs {
		if out[id] == nil {
			out[id] = &stats.Rollup{}
			ids = append(ids, id)
		}
	}
	monitorIDs = ids
	if len(monitorIDs) == 0 {
		return out, nil
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	r := sqlReader{q: tx, d: s.d}
	horizons, err := r.resultHorizons(ctx)
	if err != nil {
		return nil, err
	}
	segs := planWindow(from.UTC(), to.UTC(), horizons[TierRaw], horizons[TierMinute], horizons[TierHour])
	for chunk := range slices.Chunk(monitorIDs, rollupRowsPerRead) {
		in := placeholders(len(chunk))
		for _, seg := range segs {
			args := make([]any, 0, len(chunk)+2)
			for _, id := range chunk {
				args = append(args, id)
			}
			args = append(args, fmtTime(seg.from), fmtTime(seg.to))
			if seg.tier == TierRaw {
				if err := r.rawRollups(ctx, in, args, out, latencies); err != nil {
					return nil, err
				}
				continue
			}
			table := "rollups_minute"
			if seg.tier == TierHour {
				table = "rollups_hour"
			}
			where := ` FROM ` + table + ` WHERE monitor_id IN (` + in + `) AND bucket_start >= ? AND bucket_start < ?`
			if latencies {
				err = r.mergeRollupRows(ctx, `SELECT `+rollupColumns+where, args, out)
			} else {
				err = r.sumRollupRows(ctx, `SELECT monitor_id, SUM(probes), SUM(up), SUM(degraded), SUM(down), SUM(retried),
					SUM(missed), SUM(bytes)`+where+` GROUP BY monitor_id`, args, out)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// mergeRollupRows merges each rollup row selected (rollupColumns) into
// its monitor's rollup in out, decoding the histogram straight into it.
func (r sqlReader) mergeRollupRows(ctx context.Context, q string, args []any, out map[string]*stats.Rollup) error {
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			part       stats.Rollup
			id, bucket string
			hist       sql.RawBytes
		)
		if err := rows.Scan(&id, &bucket, &part.Probes, &part.Up, &part.Degraded, &part.Down, &part.Retried, &part.Missed,
			&part.Bytes, &part.LatencySumMS, &hist); err != nil {
			return err
		}
		ru := out[id]
		if ru == nil {
			continue
		}
		if err := ru.Latency.MergeBinary(hist); err != nil {
			return fmt.Errorf("rollup %s %s: %w", id, bucket, err)
		}
		ru.Merge(&part)
	}
	return rows.Err()
}

// sumRollupRows adds the per-monitor sums selected (monitor_id and the
// seven counts) to out.
func (r sqlReader) sumRollupRows(ctx context.Context, q string, args []any, out map[string]*stats.Rollup) error {
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			part stats.Rollup
			id   string
		)
		if err := rows.Scan(&id, &part.Probes, &part.Up, &part.Degraded, &part.Down, &part.Retried, &part.Missed, &part.Bytes); err != nil {
			return err
		}
		if ru := out[id]; ru != nil {
			ru.Merge(&part)
		}
	}
	return rows.Err()
}

// rawRollups adds the raw results and missed runs of the monitors of the IN
// list in with from <= time < to (the last two args) to out.
func (r sqlReader) rawRollups(ctx context.Context, in string, args []any, out map[string]*stats.Rollup, latencies bool) error {
	rows, err := r.query(ctx, `SELECT monitor_id, outcome, attempts, latency_ms, bytes_received FROM probe_results
		WHERE monitor_id IN (`+in+`) AND time >= ? AND time < ?`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var res api.ProbeResult
		if err := rows.Scan(&res.MonitorID, &res.Outcome, &res.Attempts, &res.LatencyMS, &res.BytesReceived); err != nil {
			return err
		}
		if ru := out[res.MonitorID]; ru != nil {
			if latencies {
				ru.Add(res)
			} else {
				ru.AddCounts(res)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	missed, err := r.query(ctx, `SELECT monitor_id, COUNT(*) FROM missed_runs WHERE monitor_id IN (`+in+`) AND time >= ? AND time < ?
		GROUP BY monitor_id`, args...)
	if err != nil {
		return err
	}
	defer missed.Close()
	for missed.Next() {
		var (
			id string
			n  int64
		)
		if err := missed.Scan(&id, &n); err != nil {
			return err
		}
		if ru := out[id]; ru != nil {
			ru.Missed += n
		}
	}
	return missed.Err()
}

// ---- latest outcomes ----

// MaxLatestOutcomes bounds LatestOutcomes.
const MaxLatestOutcomes = 10000

// OutcomeAt is the outcome of one probe result and its time.
type OutcomeAt struct {
	Time    time.Time
	Outcome string
}

// LatestOutcomes reads the index on (monitor_id, time) backwards.
func (s *SQLite) LatestOutcomes(ctx context.Context, monitorID string, n int) ([]OutcomeAt, error) {
	n = min(max(n, 1), MaxLatestOutcomes)
	rows, err := sqlReader{q: s.reader, d: s.d}.query(ctx, `SELECT time, outcome FROM probe_results WHERE monitor_id = ?
		ORDER BY time DESC, seq DESC LIMIT ?`, monitorID, n)
	return collect(rows, err, func(sc scanner) (OutcomeAt, error) {
		var (
			o  OutcomeAt
			tm string
		)
		if err := sc.Scan(&tm, &o.Outcome); err != nil {
			return o, err
		}
		var err error
		o.Time, err = parseTime(tm)
		return o, err
	})
}

// latestPerQuery is how many monitors one LatestOutcomesOf query reads.
const latestPerQuery = 64

// LatestOutcomesOf reads, per query, latestPerQuery monitors' latest
// outcomes as a UNION ALL of the single-monitor query (each one still
// reads the index on (monitor_id, time) backwards and stops after n), so
// that thousands of monitors cost a few dozen statements, not thousands.
func (s *SQLite) LatestOutcomesOf(ctx context.Context, monitorIDs []string, n int) (map[string][]OutcomeAt, error) {
	n = min(max(n, 1), MaxLatestOutcomes)
	out := make(map[string][]OutcomeAt, len(monitorIDs))
	ids := make([]string, 0, len(monitorIDs))
	for _, id := range monitorIDs {
		if _, ok := out[id]; !ok {
			out[id] = nil
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	r := sqlReader{q: tx, d: s.d}
	type row struct {
		o   OutcomeAt
		seq int64
	}
	for chunk := range slices.Chunk(ids, latestPerQuery) {
		parts := make([]string, len(chunk))
		args := make([]any, 0, 2*len(chunk))
		for i, id := range chunk {
			parts[i] = `SELECT * FROM (SELECT monitor_id, time, seq, outcome FROM probe_results WHERE monitor_id = ?
				ORDER BY time DESC, seq DESC LIMIT ?)`
			args = append(args, id, n)
		}
		rows, err := r.query(ctx, strings.Join(parts, " UNION ALL "), args...)
		if err != nil {
			return nil, err
		}
		got := map[string][]row{}
		for rows.Next() {
			var (
				id, tm string
				rw     row
			)
			if err := rows.Scan(&id, &tm, &rw.seq, &rw.o.Outcome); err != nil {
				rows.Close()
				return nil, err
			}
			if rw.o.Time, err = parseTime(tm); err != nil {
				rows.Close()
				return nil, err
			}
			got[id] = append(got[id], rw)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
		// A compound query's order is not guaranteed: newest first again.
		for id, rs := range got {
			slices.SortFunc(rs, func(a, b row) int {
				if c := b.o.Time.Compare(a.o.Time); c != 0 {
					return c
				}
				return cmp.Compare(b.seq, a.seq)
			})
			outs := make([]OutcomeAt, len(rs))
			for i, rw := range rs {
				outs[i] = rw.o
			}
			out[id] = outs
		}
	}
	return out, nil
}

// ---- figures over a window ----

// MonitorStatus reads the window in one read transaction, so that every
// tier it reads is the same snapshot.
func (s *SQLite) MonitorStatus(ctx context.Context, monitorID string, from, to time.Time) (stats.Rollup, MonitorState, error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return stats.Rollup{}, MonitorState{}, err
	}
	defer func() { _ = tx.Rollback() }()
	return sqlReader{q: tx, d: s.d}.monitorStatus(ctx, monitorID, from, to)
}

func (r sqlReader) monitorStatus(ctx context.Context, monitorID string, from, to time.Time) (stats.Rollup, MonitorState, error) {
	var total stats.Rollup
	state, err := r.monitorState(ctx, monitorID)
	if err != nil {
		return total, state, err
	}
	horizons, err := r.resultHorizons(ctx)
	if err != nil {
		return total, state, err
	}
	for _, seg := range planWindow(from.UTC(), to.UTC(), horizons[TierRaw], horizons[TierMinute], horizons[TierHour]) {
		var part stats.Rollup
		switch seg.tier {
		case TierRaw:
			part, err = r.rawRollup(ctx, monitorID, seg.from, seg.to)
		case TierMinute:
			part, err = r.tierRollup(ctx, "rollups_minute", monitorID, seg.from, seg.to)
		case TierHour:
			part, err = r.tierRollup(ctx, "rollups_hour", monitorID, seg.from, seg.to)
		}
		if err != nil {
			return total, state, err
		}
		total.Merge(&part)
	}
	return total, state, nil
}

func (r sqlReader) monitorState(ctx context.Context, monitorID string) (MonitorState, error) {
	var (
		st            MonitorState
		checked, outc string
		cert          sql.NullString
	)
	err := r.queryRow(ctx, `SELECT last_checked_at, last_outcome, tls_cert_expires_at FROM monitor_state WHERE monitor_id = ?`,
		monitorID).Scan(&checked, &outc, &cert)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	tm, err := parseTime(checked)
	if err != nil {
		return st, err
	}
	st.LastCheckedAt, st.LastOutcome = &tm, &outc
	st.TLSCertExpiresAt, err = parseTimePtr(cert)
	return st, err
}

func (r sqlReader) resultHorizons(ctx context.Context) (map[string]time.Time, error) {
	rows, err := r.query(ctx, `SELECT tier, horizon FROM result_horizons`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var tier, h string
		if err := rows.Scan(&tier, &h); err != nil {
			return nil, err
		}
		if out[tier], err = parseTime(h); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// rawRollup sums the raw results and missed runs with from <= time < to.
func (r sqlReader) rawRollup(ctx context.Context, monitorID string, from, to time.Time) (stats.Rollup, error) {
	var ru stats.Rollup
	rows, err := r.query(ctx, `SELECT outcome, attempts, latency_ms, bytes_received FROM probe_results
		WHERE monitor_id = ? AND time >= ? AND time < ?`, monitorID, fmtTime(from), fmtTime(to))
	if err != nil {
		return ru, err
	}
	defer rows.Close()
	for rows.Next() {
		var res api.ProbeResult
		if err := rows.Scan(&res.Outcome, &res.Attempts, &res.LatencyMS, &res.BytesReceived); err != nil {
			return ru, err
		}
		ru.Add(res)
	}
	if err := rows.Err(); err != nil {
		return ru, err
	}
	err = r.queryRow(ctx, `SELECT COUNT(*) FROM missed_runs WHERE monitor_id = ? AND time >= ? AND time < ?`,
		monitorID, fmtTime(from), fmtTime(to)).Scan(&ru.Missed)
	return ru, err
}

// tierRollup merges the rollups of one table whose bucket starts in
// [from, to).
func (r sqlReader) tierRollup(ctx context.Context, table, monitorID string, from, to time.Time) (stats.Rollup, error) {
	var ru stats.Rollup
	parts, err := r.readRollups(ctx, `SELECT `+rollupColumns+` FROM `+table+`
		WHERE monitor_id = ? AND bucket_start >= ? AND bucket_start < ?`, monitorID, fmtTime(from), fmtTime(to))
	if err != nil {
		return ru, err
	}
	for _, p := range parts {
		ru.Merge(p)
	}
	return ru, nil
}

// resultSegment is a part of a window read from one tier: raw results with
// from <= time < to, or the rollups whose bucket starts in [from, to).
type resultSegment struct {
	tier     string
	from, to time.Time
}

// planWindow cuts the window [from, to) into segments, one tier each: the
// whole hours from the hour rollups, the whole minutes at both edges from
// the minute rollups and the partial minutes at both edges from raw
// results. So counts are exact to the microsecond at both edges, and a
// window reads as few rows as its edges allow: a 6-hour window of one
// monitor is about 65 rows instead of 360 minutes (an hour rollup is the
// exact merge of its minutes, written in the same transaction). The hours
// before the hour horizon (hour rollups deleted while their minutes may
// still be there) are read as minutes.
//
// That holds while the tiers still hold the data: past a tier's horizon
// (the latest `before` given to DeleteResultsBefore for it) the part of the
// window before the horizon is read from the next coarser tier instead,
// counting the coarse buckets whose start lies within the window — the
// edge then moves forward to the next bucket boundary (less than a minute,
// or less than an hour past the minute horizon). Past the hour horizon
// there is nothing left to count.
func planWindow(from, to, rawHorizon, minuteHorizon, hourHorizon time.Time) []resultSegment {
	p := windowPlanner{rawFrom: ceilTo(rawHorizon, time.Minute), minuteFrom: ceilTo(minuteHorizon, time.Hour),
		hourFrom: ceilTo(hourHorizon, time.Hour)}
	p.hours(from, to)
	return p.segs
}

type windowPlanner struct {
	// rawFrom and minuteFrom are the horizons moved up to the next bucket
	// boundary of the tier above: raw results exist at and after rawFrom,
	// minute rollups at and after minuteFrom.
	rawFrom, minuteFrom time.Time
	// hourFrom is the hour horizon moved up to the next hour: hour
	// rollups exist at and after it.
	hourFrom time.Time
	segs     []resultSegment
}

func ceilTo(t time.Time, d time.Duration) time.Time {
	f := t.Truncate(d)
	if f.Before(t) {
		f = f.Add(d)
	}
	return f
}

func clampTime(t, lo, hi time.Time) time.Time {
	switch {
	case t.Before(lo):
		return lo
	case t.After(hi):
		return hi
	}
	return t
}

func (p *windowPlanner) add(tier string, from, to time.Time) {
	if !from.Before(to) {
		return
	}
	if n := len(p.segs); n > 0 && p.segs[n-1].tier == tier && p.segs[n-1].to.Equal(from) {
		p.segs[n-1].to = to
		return
	}
	p.segs = append(p.segs, resultSegment{tier, from, to})
}

// hours covers [from, to): whole hours from the hour rollups, the edges
// as minutes.
func (p *windowPlanner) hours(from, to time.Time) {
	a, b := ceilTo(from, time.Hour), to.Truncate(time.Hour)
	if !a.Before(b) {
		p.minutes(from, to)
		return
	}
	h := clampTime(p.hourFrom, a, b)
	p.minutes(from, h)
	p.add(TierHour, h, b)
	p.minutes(b, to)
}

// minutes covers [from, to): whole minutes from the minute rollups, the
// edges from raw results.
func (p *windowPlanner) minutes(from, to time.Time) {
	a, b := ceilTo(from, time.Minute), to.Truncate(time.Minute)
	if !a.Before(b) {
		p.raw(from, to)
		return
	}
	p.raw(from, a)
	p.minuteBuckets(a, b)
	p.raw(b, to)
}

// raw covers [from, to) from raw results where they exist; before rawFrom
// it counts the minute buckets that start in [from, to).
func (p *windowPlanner) raw(from, to time.Time) {
	if !from.Before(to) {
		return
	}
	split := clampTime(p.rawFrom, from, to)
	p.minuteBuckets(ceilTo(from, time.Minute), ceilTo(split, time.Minute))
	p.add(TierRaw, split, to)
}

// minuteBuckets covers the minute-aligned [a, b) from the minute rollups
// where they exist; before minuteFrom it counts the hour buckets that
// start in [a, b).
func (p *windowPlanner) minuteBuckets(a, b time.Time) {
	if !a.Before(b) {
		return
	}
	split := clampTime(p.minuteFrom, a, b)
	p.add(TierHour, ceilTo(a, time.Hour), ceilTo(split, time.Hour))
	p.add(TierMinute, split, b)
}

// ---- retention ----

// DeleteResultsBefore deletes one batch of a tier in its own transaction
// and moves the tier's horizon.
func (s *SQLite) DeleteResultsBefore(ctx context.Context, tier string, before time.Time, limit int) (int64, error) {
	if tier != TierRaw && tier != TierMinute && tier != TierHour {
		return 0, fmt.Errorf("unknown result tier %q", tier)
	}
	if limit <= 0 {
		limit = DefaultDeleteBatch
	}
	var n int64
	err := writeTx(ctx, s.writer, s.d, func(tx Tx) error {
		var err error
		n, err = tx.(sqlTx).deleteResultsBefore(ctx, tier, fmtTime(before), limit)
		return err
	})
	return n, err
}

func (t sqlTx) deleteResultsBefore(ctx context.Context, tier, before string, limit int) (int64, error) {
	if _, err := t.exec(ctx, `INSERT INTO result_horizons (tier, horizon) VALUES (?, ?)
		ON CONFLICT (tier) DO UPDATE SET horizon = excluded.horizon WHERE excluded.horizon > result_horizons.horizon`,
		tier, before); err != nil {
		return 0, err
	}
	del := func(q string, n int) (int64, error) {
		res, err := t.exec(ctx, q, before, n)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	switch tier {
	case TierRaw:
		n, err := del(`DELETE FROM probe_results WHERE seq IN
			(SELECT seq FROM probe_results WHERE time < ? ORDER BY time LIMIT ?)`, limit)
		if err != nil || n >= int64(limit) {
			return n, err
		}
		m, err := del(`DELETE FROM missed_runs WHERE seq IN
			(SELECT seq FROM missed_runs WHERE time < ? ORDER BY time LIMIT ?)`, limit-int(n))
		return n + m, err
	default:
		table := "rollups_" + tier
		return del(`DELETE FROM `+table+` WHERE (monitor_id, bucket_start) IN
			(SELECT monitor_id, bucket_start FROM `+table+` WHERE bucket_start < ? ORDER BY bucket_start LIMIT ?)`, limit)
	}
}

// DeleteMonitorData removes everything of a monitor in one transaction.
func (s *SQLite) DeleteMonitorData(ctx context.Context, monitorID string) error {
	return writeTx(ctx, s.writer, s.d, func(tx Tx) error {
		for _, table := range []string{"probe_results", "missed_runs", "rollups_minute", "rollups_hour", "monitor_state"} {
			if _, err := tx.(sqlTx).exec(ctx, `DELETE FROM `+table+` WHERE monitor_id = ?`, monitorID); err != nil {
				return fmt.Errorf("delete %s: %w", table, err)
			}
		}
		return nil
	})
}

// orphanTables are the tables keyed by monitor_id that DeleteOrphanResults
// cleans, each with the column list that names one row. Every one has an
// index leading with monitor_id, which orphanMonitorIDs relies on.
var orphanTables = []struct{ name, key string }{
	{"probe_results", "seq"},
	{"missed_runs", "seq"},
	{"rollups_minute", "monitor_id, bucket_start"},
	{"rollups_hour", "monitor_id, bucket_start"},
	{"monitor_state", "monitor_id"},
}

// DeleteOrphanResults finds the monitor IDs without a monitor, then deletes
// one batch of their rows in one write transaction.
func (s *SQLite) DeleteOrphanResults(ctx context.Context, limit int) (int64, error) {
	if limit <= 0 {
		limit = DefaultDeleteBatch
	}
	ids, err := sqlReader{q: s.reader, d: s.d}.orphanMonitorIDs(ctx)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	var n int64
	err = writeTx(ctx, s.writer, s.d, func(tx Tx) error {
		var err error
		n, err = tx.(sqlTx).deleteOrphans(ctx, ids, limit)
		return err
	})
	return n, err
}

// orphanMonitorIDs lists the monitor IDs found in the result tables but
// not in monitors. It walks the distinct IDs of each table with one index
// seek per ID (a "skip scan" by recursive query) instead of reading every
// row: the raw tables hold millions of rows, but only as many distinct IDs
// as there are monitors.
func (r sqlReader) orphanMonitorIDs(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, tb := range orphanTables {
		rows, err := r.query(ctx, `WITH RECURSIVE ids(id) AS (
				SELECT MIN(monitor_id) FROM `+tb.name+`
				UNION ALL
				SELECT (SELECT MIN(monitor_id) FROM `+tb.name+` WHERE monitor_id > ids.id) FROM ids WHERE ids.id IS NOT NULL
			)
			SELECT id FROM ids WHERE id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM monitors WHERE monitors.id = ids.id)`)
		if err != nil {
			return nil, fmt.Errorf("find orphans in %s: %w", tb.name, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return out, nil
}

// deleteOrphans deletes at most limit rows of the given monitors. The
// monitor's absence is checked again inside the transaction, so that the
// data of a monitor is never deleted while the monitor exists.
func (t sqlTx) deleteOrphans(ctx context.Context, ids []string, limit int) (int64, error) {
	var total int64
	for _, id := range ids {
		for _, tb := range orphanTables {
			left := int64(limit) - total
			if left <= 0 {
				return total, nil
			}
			res, err := t.exec(ctx, `DELETE FROM `+tb.name+` WHERE (`+tb.key+`) IN
				(SELECT `+tb.key+` FROM `+tb.name+` WHERE monitor_id = ? LIMIT ?)
				AND NOT EXISTS (SELECT 1 FROM monitors WHERE id = ?)`, id, left, id)
			if err != nil {
				return total, fmt.Errorf("delete orphans from %s: %w", tb.name, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, err
			}
			total += n
		}
	}
	return total, nil
}
