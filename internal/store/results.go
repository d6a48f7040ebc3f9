package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	// WriteResultsYielding stores a prefix of the batch as WriteResults
	// stores a batch, in one write transaction: the results first, then
	// the missed runs, piece items at a time, committing after a piece
	// when another write transaction (Write) waits for the store (see
	// WritesWaiting). It returns how many results and missed runs it
	// stored, at least one piece's worth, all of them when no write
	// waited; on error none. The results writer stores its batches so that
	// an API change waits for a piece, not for a batch of 1,000.
	WriteResultsYielding(ctx context.Context, results []api.ProbeResult, missed []MissedRun, piece int) (storedResults, storedMissed int, err error)
	// WritesWaiting counts the Write calls waiting for the store to begin
	// their transaction now.
	WritesWaiting() int
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
	// ReadWindows reads several windows ending at the same time (to) in
	// one read transaction: result i holds window i's rollups exactly as
	// WindowRollups (windows[i].Latencies) or WindowCounts returns them
	// for windows[i].MonitorIDs over [windows[i].From, to). What windows
	// have in common (the minutes just before to, for a start) is read
	// once for all of them: the alert evaluator reads every window of a
	// tick with one call.
	ReadWindows(ctx context.Context, to time.Time, windows []WindowRead) ([]map[string]*stats.Rollup, error)
	// LatestOutcomes returns the outcomes of a monitor's latest n raw
	// results (at most MaxLatestOutcomes), newest first, with their times:
	// what consecutive_failures is counted from.
	LatestOutcomes(ctx context.Context, monitorID string, n int) ([]OutcomeAt, error)
	// LatestOutcomesOf is LatestOutcomes for several monitors, read
	// together (one snapshot): each monitor's latest n outcomes, newest
	// first (none for a monitor without results).
	LatestOutcomesOf(ctx context.Context, monitorIDs []string, n int) (map[string][]OutcomeAt, error)
	// DeleteResultsBefore deletes at most limit rows (DefaultDeleteBatch
	// when limit <= 0) of one tier (TierRaw, TierMinute or TierHour) older
	// than before, and returns how many it deleted. A caller deletes in
	// batches until fewer than limit come back. From then on MonitorStatus
	// reads windows reaching before `before` from the next coarser tier.
	DeleteResultsBefore(ctx context.Context, tier string, before time.Time, limit int) (int64, error)
	// DeleteMonitorResultsBefore is DeleteResultsBefore for the given
	// monitors only: it deletes at most limit rows (DefaultDeleteBatch when
	// limit <= 0) of one tier of their results (raw: results and missed
	// runs) older than before, and returns how many it deleted; a caller
	// deletes in batches until fewer than limit come back. It reads the
	// index by monitor and time, so its cost follows the rows it deletes,
	// not the size of the table. It does not move the tier's horizon, as
	// other monitors keep their rows: windows of these monitors reaching
	// before `before` count what is left of them.
	DeleteMonitorResultsBefore(ctx context.Context, tier string, monitorIDs []string, before time.Time, limit int) (int64, error)
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

// resultColumns are the stored columns of a raw result, in the lean
// encoding of migration 00014: see encodeResult.
const resultColumns = `monitor_key, time, outcome, status_code, latency_ns, dns_ns, connect_ns, tls_ns, first_byte_ns,
	tls_cert_expires_at, bytes_received, attempts, error, body_excerpt`

const resultColumnCount = 14

// resultRowsPerInsert bounds a multi-row INSERT well below every dialect's
// limit on placeholders (SQLite 32766, PostgreSQL 65535).
const resultRowsPerInsert = 250

// rollupRowsPerRead bounds the IN list of a rollup read.
const rollupRowsPerRead = 256

// WriteResults stores a batch in one immediate transaction on the writer.
// The keys of the batch's monitors come from s.keys where it has them;
// those looked up or created in the transaction join it once it commits.
// The batch's results join the roller's memory unless their minute is
// written already, and the transaction writes the rollups of up to
// rollChunk monitors of the oldest minute that has closed (see roller).
func (s *SQLite) WriteResults(ctx context.Context, results []api.ProbeResult, missed []MissedRun) error {
	_, _, err := s.writeResults(ctx, results, missed, len(results)+len(missed), false)
	return err
}

// WriteResultsYielding stores the batch as WriteResults does, piece items
// at a time within the transaction, and commits early, after a piece,
// when a Write waits for the writer connection (WritesWaiting).
func (s *SQLite) WriteResultsYielding(ctx context.Context, results []api.ProbeResult, missed []MissedRun, piece int) (int, int, error) {
	return s.writeResults(ctx, results, missed, piece, true)
}

func (s *SQLite) writeResults(ctx context.Context, results []api.ProbeResult, missed []MissedRun, piece int, yield bool) (nr, nm int, err error) {
	if len(results) == 0 && len(missed) == 0 {
		return 0, 0, nil
	}
	piece = max(piece, 1)
	var (
		gen   uint64
		fresh map[string]int64
	)
	if full := min(piece, resultRowsPerInsert); yield && len(results) >= full {
		// Outside the transaction: see stmtCache. Full pieces of results
		// of distinct monitors use both. Only the engine's writer, which
		// writes pieces of one size, prepares them: WriteResults' piece is
		// the batch, a new size nearly every time.
		s.stmts.prepare(ctx, s.writer, s.d.rebind(insertResultsSQL(full)), s.d.rebind(upsertStatesSQL(full)))
	}
	s.roll.mu.Lock()
	defer s.roll.mu.Unlock()
	err = writeTx(ctx, s.writer, s.d, func(tx Tx) error {
		nr, nm = 0, 0
		t := tx.(sqlTx)
		t.prep = &s.stmts
		if !s.roll.loaded {
			if err := t.loadRoller(ctx, &s.roll); err != nil {
				return err
			}
		}
		// Read inside the transaction: the writer connection is held, so
		// no delete of keys runs between this and the commit.
		var known map[string]int64
		gen, known = s.keys.snapshot(results, missed)
		fresh = map[string]int64{}
		for {
			// Results first, then the missed runs.
			r := results[nr:min(nr+piece, len(results))]
			m := missed[nm:min(nm+piece-len(r), len(missed))]
			f, err := t.writeResults(ctx, &s.roll, r, m, known)
			if err != nil {
				return err
			}
			maps.Copy(fresh, f)
			maps.Copy(known, f)
			nr, nm = nr+len(r), nm+len(m)
			if nr == len(results) && nm == len(missed) || yield && s.waiting.Load() > 0 {
				return nil
			}
		}
	})
	if err != nil {
		// The memory may hold what the rolled-back transaction added or
		// wrote: build it again from the database.
		s.roll.reset()
		nr, nm = 0, 0
		s.sums.touched(results, missed)
		return 0, 0, err
	}
	s.sums.touched(results[:nr], missed[:nm])
	s.keys.add(gen, fresh)
	return nr, nm, nil
}

// keyCache maps monitor IDs to their result_monitors keys, so that a batch
// of results need not look them up (at 5,000 results a second the lookup
// was a sixth of the writer's CPU). A key is deleted only with all of its
// monitor's data (DeleteMonitorData, DeleteOrphanResults), which forget
// the IDs inside their transaction and move the generation on; keys read
// in a transaction are added after its commit only if no such delete ran
// meanwhile, so the cache never holds a key that is gone.
type keyCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]int64
}

// snapshot returns the generation and the cached keys of the batch's
// monitors.
func (c *keyCache) snapshot(results []api.ProbeResult, missed []MissedRun) (uint64, map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(results))
	for _, r := range results {
		if k, ok := c.m[r.MonitorID]; ok {
			out[r.MonitorID] = k
		}
	}
	for _, m := range missed {
		if k, ok := c.m[m.MonitorID]; ok {
			out[m.MonitorID] = k
		}
	}
	return c.gen, out
}

// add caches keys read at generation gen, unless keys were forgotten since.
func (c *keyCache) add(gen uint64, keys map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || len(keys) == 0 {
		return
	}
	if c.m == nil {
		c.m = map[string]int64{}
	}
	maps.Copy(c.m, keys)
}

// forget drops the given monitors' keys and moves the generation on.
func (c *keyCache) forget(ids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range ids {
		delete(c.m, id)
	}
}

// valuesList returns "(?, ?), (?, ?)" for rows rows of cols columns.
func valuesList(rows, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// appendResultArgs appends the columns of a raw result, lean: the monitor
// as its key, times as Unix microseconds (the precision the API keeps),
// durations as integer nanoseconds (what the probe measured: exact, and 3
// or 4 bytes where a REAL takes 8), the outcome as a small integer.
func appendResultArgs(args []any, key int64, r api.ProbeResult) []any {
	return append(args, key, r.Time.UnixMicro(), outcomeCode(r.Outcome), r.StatusCode, msToNS(r.LatencyMS),
		msPtrToNS(r.DNSMS), msPtrToNS(r.ConnectMS), msPtrToNS(r.TLSMS), msPtrToNS(r.FirstByteMS),
		microsPtr(r.TLSCertExpiresAt), r.BytesReceived, r.Attempts, r.Error, r.BodyExcerpt)
}

// Outcome codes of the lean encoding.
const (
	outcomeUp       = 1
	outcomeDegraded = 2
	outcomeDown     = 3
)

func outcomeCode(o string) int64 {
	switch o {
	case api.OutcomeUp:
		return outcomeUp
	case api.OutcomeDegraded:
		return outcomeDegraded
	}
	return outcomeDown
}

func outcomeName(c int64) string {
	switch c {
	case outcomeUp:
		return api.OutcomeUp
	case outcomeDegraded:
		return api.OutcomeDegraded
	}
	return api.OutcomeDown
}

func nullFloatPtr(f sql.NullFloat64) *float64 {
	if !f.Valid {
		return nil
	}
	return new(f.Float64)
}

func msToNS(ms float64) int64 { return int64(math.Round(ms * 1e6)) }

func nsToMS(ns int64) float64 { return float64(ns) / 1e6 }

func msPtrToNS(ms *float64) any {
	if ms == nil {
		return nil
	}
	return msToNS(*ms)
}

func nsPtrToMS(ns sql.NullInt64) *float64 {
	if !ns.Valid {
		return nil
	}
	return new(nsToMS(ns.Int64))
}

func microsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func fromMicrosPtr(us sql.NullInt64) *time.Time {
	if !us.Valid {
		return nil
	}
	return new(fromMicros(us.Int64))
}

// ceilMicros is t in Unix microseconds, rounded up: "time < t" and
// "time >= t" select the same stored results with it as with t itself.
func ceilMicros(t time.Time) int64 {
	us := t.UnixMicro()
	if time.UnixMicro(us).Before(t) {
		us++
	}
	return us
}

// ceilSeconds is t in Unix seconds, rounded up, for comparing with rollup
// buckets (whole seconds) the same way.
func ceilSeconds(t time.Time) int64 {
	s := t.Unix()
	if time.Unix(s, 0).Before(t) {
		s++
	}
	return s
}

// keyOf is the subquery of the key of the monitor ID given as its argument.
const keyOf = `(SELECT key FROM result_monitors WHERE monitor_id = ?)`

// monitorKeys returns the keys of the given monitor IDs that are not in
// known, creating those that do not exist yet.
func (t sqlTx) monitorKeys(ctx context.Context, ids []string, known map[string]int64) (map[string]int64, error) {
	keys := map[string]int64{}
	ids = slices.DeleteFunc(ids, func(id string) bool { _, ok := known[id]; return ok })
	for chunk := range slices.Chunk(ids, rollupRowsPerRead) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if _, err := t.exec(ctx, `INSERT INTO result_monitors (monitor_id) VALUES `+valuesList(len(chunk), 1)+`
			ON CONFLICT (monitor_id) DO NOTHING`, args...); err != nil {
			return nil, fmt.Errorf("insert result monitors: %w", err)
		}
		rows, err := t.query(ctx, `SELECT key, monitor_id FROM result_monitors WHERE monitor_id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var (
				k  int64
				id string
			)
			if err := rows.Scan(&k, &id); err != nil {
				rows.Close()
				return nil, err
			}
			keys[id] = k
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// rollupKey names one rollup row: the monitor's key and the bucket's
// start in Unix seconds.
type rollupKey struct {
	key, start int64
}

type rollupSet map[rollupKey]*stats.Rollup

func (rs rollupSet) get(key, start int64) *stats.Rollup {
	k := rollupKey{key, start}
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
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.key, b.key))
	})
}

// resultState is the latest state of a monitor within one batch.
type resultState struct {
	time, certTime time.Time
	outcome        string
	cert           *time.Time
}

// writeResults stores the batch; known holds keys of its monitors already
// known. It returns the keys it looked up or created. Results and missed
// runs of minutes whose rollups are written are merged into them now; the
// others join the roller's memory, and the oldest closed minute's rollups
// are written, up to rollChunk monitors.
func (t sqlTx) writeResults(ctx context.Context, rl *roller, results []api.ProbeResult, missed []MissedRun, known map[string]int64) (map[string]int64, error) {
	idSet := make(map[string]struct{}, len(results))
	for _, r := range results {
		idSet[r.MonitorID] = struct{}{}
	}
	for _, m := range missed {
		idSet[m.MonitorID] = struct{}{}
	}
	fresh, err := t.monitorKeys(ctx, slices.Sorted(maps.Keys(idSet)), known)
	if err != nil {
		return nil, err
	}
	keys := make(map[string]int64, len(known)+len(fresh))
	maps.Copy(keys, known)
	maps.Copy(keys, fresh)
	for chunk := range slices.Chunk(results, resultRowsPerInsert) {
		args := make([]any, 0, len(chunk)*resultColumnCount)
		for _, r := range chunk {
			args = appendResultArgs(args, keys[r.MonitorID], r)
		}
		// The same text as the statement prepared for full pieces.
		if _, err := t.exec(ctx, insertResultsSQL(len(chunk)), args...); err != nil {
			return nil, fmt.Errorf("insert probe results: %w", err)
		}
	}
	for chunk := range slices.Chunk(missed, resultRowsPerInsert) {
		args := make([]any, 0, len(chunk)*2)
		for _, m := range chunk {
			args = append(args, keys[m.MonitorID], m.Time.UnixMicro())
		}
		if _, err := t.exec(ctx, `INSERT INTO missed_runs (monitor_key, time) VALUES `+valuesList(len(chunk), 2), args...); err != nil {
			return nil, fmt.Errorf("insert missed runs: %w", err)
		}
	}

	// Late ones: their minute's rollups are written already.
	minutes, hours := rollupSet{}, rollupSet{}
	states := map[string]*resultState{}
	var latest int64 // the newest time of the batch, Unix microseconds
	for _, r := range results {
		tm := r.Time.UTC()
		k, m := keys[r.MonitorID], minuteOf(tm)
		rr := rawResult(r.Outcome, r.Attempts, msToNS(r.LatencyMS), r.BytesReceived)
		if rl.written(m, k) {
			minutes.get(k, m).Add(rr)
			hours.get(k, floorDiv(m, 3600)*3600).Add(rr)
		} else {
			rl.add(m, k).Add(rr)
		}
		latest = max(latest, tm.UnixMicro())
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
	for _, ms := range missed {
		k, m := keys[ms.MonitorID], minuteOf(ms.Time)
		if rl.written(m, k) {
			minutes.get(k, m).Missed++
			hours.get(k, floorDiv(m, 3600)*3600).Missed++
		} else {
			rl.add(m, k).Missed++
		}
		latest = max(latest, ms.Time.UnixMicro())
	}
	if err := t.mergeRollups(ctx, "rollups_minute", minutes); err != nil {
		return nil, err
	}
	if err := t.mergeRollups(ctx, "rollups_hour", hours); err != nil {
		return nil, err
	}
	if err := t.putStates(ctx, states); err != nil {
		return nil, err
	}
	// The minutes that ended rollGrace before the batch's newest result
	// are closed.
	cutoff := minuteOf(time.UnixMicro(latest).Add(-rollGrace))
	return fresh, t.roll(ctx, rl, cutoff, rollChunk)
}

// rollupColumns are the stored columns of a rollup; rollupSelect reads
// them back with the monitor's ID for its key, from a table aliased r.
const rollupColumns = `monitor_key, bucket_start, probes, up, degraded, down, retried, missed, bytes, latency_sum_ms, histogram`

const rollupSelect = `SELECT k.monitor_id, r.bucket_start, r.probes, r.up, r.degraded, r.down, r.retried, r.missed, r.bytes,
	r.latency_sum_ms, r.histogram`

// rollupFrom joins a rollup table to the monitor keys.
func rollupFrom(table string) string {
	return ` FROM ` + table + ` r JOIN result_monitors k ON k.key = r.monitor_key `
}

const rollupColumnCount = 11

// mergeRollups adds the rollups of set to the stored ones: it reads the
// rows the set touches, merges them in Go (the histogram cannot be merged
// in SQL) and writes them back with an upsert. The writer is the only
// writer of these tables, inside this transaction.
func (t sqlTx) mergeRollups(ctx context.Context, table string, set rollupSet) error {
	if len(set) == 0 {
		return nil
	}
	keys := set.sortedKeys()
	// Read what is stored, one IN list per bucket.
	for i := 0; i < len(keys); {
		j := i
		for j < len(keys) && keys[j].start == keys[i].start && j-i < rollupRowsPerRead {
			j++
		}
		group := keys[i:j]
		args := make([]any, 0, len(group)+1)
		args = append(args, group[0].start)
		for _, k := range group {
			args = append(args, k.key)
		}
		if err := mergeRollupRows(ctx, t.sqlReader, `SELECT monitor_key, bucket_start, probes, up, degraded, down, retried, missed, bytes,
			latency_sum_ms, histogram FROM `+table+` WHERE bucket_start = ? AND monitor_key IN (`+placeholders(len(group))+`)`,
			args, func(key, start int64) rollupKey { return rollupKey{key, start} }, set); err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		i = j
	}
	for chunk := range slices.Chunk(keys, resultRowsPerInsert) {
		args := make([]any, 0, len(chunk)*rollupColumnCount)
		for _, k := range chunk {
			r := set[k]
			args = append(args, k.key, k.start, r.Probes, r.Up, r.Degraded, r.Down, r.Retried, r.Missed,
				r.Bytes, r.LatencySumMS, r.Latency.Marshal())
		}
		if _, err := t.exec(ctx, `INSERT INTO `+table+` (`+rollupColumns+`) VALUES `+valuesList(len(chunk), rollupColumnCount)+`
			ON CONFLICT (monitor_key, bucket_start) DO UPDATE SET probes = excluded.probes, up = excluded.up,
			degraded = excluded.degraded, down = excluded.down, retried = excluded.retried, missed = excluded.missed,
			bytes = excluded.bytes, latency_sum_ms = excluded.latency_sum_ms, histogram = excluded.histogram`, args...); err != nil {
			return fmt.Errorf("write %s: %w", table, err)
		}
	}
	return nil
}

// mergeRollupRows merges each rollup row selected (a key column, the
// bucket's start in Unix seconds, then the counts and the histogram) into
// the rollup of into that key names, decoding the histogram straight into
// it; rows whose rollup into does not hold are skipped. The key is the
// monitor's ID (windows) or its rollupKey (the writer's merge).
func mergeRollupRows[C any, K comparable](ctx context.Context, r sqlReader, q string, args []any,
	key func(col C, bucket int64) K, into map[K]*stats.Rollup) error {
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			part   stats.Rollup
			col    C
			bucket int64
			hist   sql.RawBytes
		)
		if err := rows.Scan(&col, &bucket, &part.Probes, &part.Up, &part.Degraded, &part.Down, &part.Retried, &part.Missed,
			&part.Bytes, &part.LatencySumMS, &hist); err != nil {
			return err
		}
		ru := into[key(col, bucket)]
		if ru == nil {
			continue
		}
		if err := ru.Latency.MergeBinary(hist); err != nil {
			return fmt.Errorf("rollup of %v at %v: %w", col, time.Unix(bucket, 0).UTC(), err)
		}
		ru.Merge(&part)
	}
	return rows.Err()
}

// monitorOf keys a window's rollups by monitor ID alone: every bucket of
// the window merges into one rollup.
func monitorOf(id string, _ int64) string { return id }

// readRollups runs a query selecting rollupSelect's columns.
func (r sqlReader) readRollups(ctx context.Context, q string, args ...any) ([]*stats.Rollup, error) {
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*stats.Rollup
	for rows.Next() {
		var (
			ru     stats.Rollup
			id     string
			bucket int64
			hist   []byte
		)
		if err := rows.Scan(&id, &bucket, &ru.Probes, &ru.Up, &ru.Degraded, &ru.Down, &ru.Retried, &ru.Missed,
			&ru.Bytes, &ru.LatencySumMS, &hist); err != nil {
			return nil, err
		}
		if err := ru.Latency.UnmarshalBinary(hist); err != nil {
			return nil, fmt.Errorf("rollup %s %v: %w", id, time.Unix(bucket, 0).UTC(), err)
		}
		out = append(out, &ru)
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
		if _, err := t.exec(ctx, upsertStatesSQL(len(chunk)), args...); err != nil {
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
	conds := []string{"monitor_key = " + keyOf}
	args := []any{monitorID}
	if !q.Since.IsZero() {
		conds = append(conds, "time >= ?")
		args = append(args, ceilMicros(q.Since))
	}
	if !q.Until.IsZero() {
		conds = append(conds, "time < ?")
		args = append(args, ceilMicros(q.Until))
	}
	if q.After != "" {
		tm, seq, err := parseResultCursor(q.After)
		if err != nil {
			return nil, "", err
		}
		conds = append(conds, "(time > ? OR (time = ? AND seq > ?))")
		args = append(args, tm.UnixMicro(), tm.UnixMicro(), seq)
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
			res                      api.ProbeResult
			seq, key, tm, outc, lat  int64
			status, attempts         sql.NullInt64
			dns, conn, tls, fb, cert sql.NullInt64
			errText, body            sql.NullString
		)
		if err := rows.Scan(&seq, &key, &tm, &outc, &status, &lat, &dns, &conn, &tls, &fb,
			&cert, &res.BytesReceived, &attempts, &errText, &body); err != nil {
			return nil, "", err
		}
		res.MonitorID, res.Time, res.Outcome, res.LatencyMS = monitorID, fromMicros(tm), outcomeName(outc), nsToMS(lat)
		if status.Valid {
			res.StatusCode = new(int(status.Int64))
		}
		res.Attempts = int(attempts.Int64)
		res.DNSMS, res.ConnectMS, res.TLSMS, res.FirstByteMS = nsPtrToMS(dns), nsPtrToMS(conn), nsPtrToMS(tls), nsPtrToMS(fb)
		res.TLSCertExpiresAt = fromMicrosPtr(cert)
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

// ---- many monitors' windows ----

// WindowRead is one window of ReadWindows: the results of MonitorIDs with
// From <= time < the end common to the windows read together.
type WindowRead struct {
	MonitorIDs []string
	From       time.Time
	// Latencies asks for the latencies too (as WindowRollups returns
	// them); without it a window holds the counts only (as WindowCounts).
	Latencies bool
}

// WindowRollups reads one window with ReadWindows.
func (s *SQLite) WindowRollups(ctx context.Context, monitorIDs []string, from, to time.Time) (map[string]*stats.Rollup, error) {
	outs, err := s.ReadWindows(ctx, to, []WindowRead{{MonitorIDs: monitorIDs, From: from, Latencies: true}})
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// WindowCounts reads one window with ReadWindows.
func (s *SQLite) WindowCounts(ctx context.Context, monitorIDs []string, from, to time.Time) (map[string]*stats.Rollup, error) {
	outs, err := s.ReadWindows(ctx, to, []WindowRead{{MonitorIDs: monitorIDs, From: from}})
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// segmentKey identifies a segment of a window plan, in Unix microseconds.
type segmentKey struct {
	tier     string
	from, to int64
}

// sharedSegment is a segment that one or more counts windows read: its
// monitors are the union of theirs.
type sharedSegment struct {
	seg     resultSegment
	ids     []string
	has     map[string]bool
	windows []int
}

// ReadWindows plans every window once, in one read transaction. The counts
// windows' segments are read per distinct segment for all the monitors of
// the windows that have it: windows ending at the same time share the
// partial minute before the end (raw results), and those of an hour or
// more the minutes of the current hour, so each is read once per call, not
// once per window. Counts are integers, so the order in which the parts of
// a window are added does not matter. A latencies window is read on its
// own, segment by segment in the window's order, so that its floating-point
// latency sum is added up exactly as before.
//
// Each segment is one statement for all its monitors, which are passed as
// one JSON array (json_each): the SQL text does not depend on how many
// monitors there are.
func (s *SQLite) ReadWindows(ctx context.Context, to time.Time, windows []WindowRead) ([]map[string]*stats.Rollup, error) {
	to = to.UTC()
	outs := make([]map[string]*stats.Rollup, len(windows))
	ids := make([][]string, len(windows))
	some := false
	for i, w := range windows {
		out := make(map[string]*stats.Rollup, len(w.MonitorIDs))
		for _, id := range w.MonitorIDs {
			if out[id] == nil {
				out[id] = &stats.Rollup{}
				ids[i] = append(ids[i], id)
			}
		}
		outs[i] = out
		some = some || len(ids[i]) > 0
	}
	if !some {
		return outs, nil
	}
	gen := s.sums.begin(to)
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
	// The rollups are written only before rolled (see roller): every
	// window reads the part after it from the raw results.
	rolled, err := r.rolledTo(ctx)
	if err != nil {
		return nil, err
	}
	var shared []*sharedSegment
	byKey := map[segmentKey]*sharedSegment{}
	for i, w := range windows {
		if len(ids[i]) == 0 {
			continue
		}
		segs := planWindow(w.From.UTC(), to, horizons[TierRaw], horizons[TierMinute], horizons[TierHour], rolled)
		if w.Latencies {
			for _, seg := range segs {
				if err := r.readLatencySegment(ctx, seg, ids[i], outs[i]); err != nil {
					return nil, err
				}
			}
			continue
		}
		for _, seg := range segs {
			k := segmentKey{seg.tier, seg.from.UnixMicro(), seg.to.UnixMicro()}
			sh := byKey[k]
			if sh == nil {
				sh = &sharedSegment{seg: seg, has: map[string]bool{}}
				byKey[k] = sh
				shared = append(shared, sh)
			}
			sh.windows = append(sh.windows, i)
			for _, id := range ids[i] {
				if !sh.has[id] {
					sh.has[id] = true
					sh.ids = append(sh.ids, id)
				}
			}
		}
	}
	memo := bucketSums{}
	for _, sh := range shared {
		got, err := s.segmentCounts(ctx, r, sh.seg, sh.ids, to, gen, memo)
		if err != nil {
			return nil, err
		}
		for _, i := range sh.windows {
			for _, id := range ids[i] {
				if c, ok := got[id]; ok {
					part := c.rollup()
					outs[i][id].Merge(&part)
				}
			}
		}
	}
	return outs, nil
}

// segmentCounts returns the summed counts of one segment per monitor (none
// for a monitor without rows). The sums of closed rollup buckets come from
// the cache where it has them, and fill it otherwise.
func (s *SQLite) segmentCounts(ctx context.Context, r sqlReader, seg resultSegment, ids []string, to time.Time,
	gen [2]uint64, memo bucketSums) (map[string]counts, error) {
	got := make(map[string]counts, len(ids))
	if seg.tier == TierRaw {
		from, until := ceilMicros(seg.from), ceilMicros(seg.to)
		minute := seg.from.Truncate(time.Minute)
		end := minute.Add(time.Minute)
		if seg.to.After(end) || end.After(to.Truncate(time.Minute)) {
			// Not inside one closed minute: the partial minute before
			// to, read once for every window (see ReadWindows).
			return got, r.rawCounts(ctx, ids, from, until, got)
		}
		ids = s.sums.rawLookup(minute.Unix(), ids, from, until, got)
		if len(ids) == 0 {
			return got, nil
		}
		rows, err := r.rawRows(ctx, ids, minute.UnixMicro(), end.UnixMicro())
		if err != nil {
			return nil, err
		}
		s.sums.rawFill(minute.Unix(), gen, ids, rows)
		for id, rs := range rows {
			countRows(rs, from, until, id, got)
		}
		return got, nil
	}
	rng := sumRange{tierIndex(seg.tier), ceilSeconds(seg.from), ceilSeconds(seg.to)}
	cache := cacheable(rng, to)
	if cache {
		ids = s.sums.lookup(rng, ids, got)
		if len(ids) > 0 {
			var err error
			if ids, err = s.deriveCounts(ctx, r, rng, ids, gen, memo, got); err != nil {
				return nil, err
			}
		}
	}
	if len(ids) == 0 {
		return got, nil
	}
	read, err := r.sumRollupRows(ctx, rollupSumSQL[rng.tier], jsonIDs(ids), rng.from, rng.to)
	if err != nil {
		return nil, err
	}
	if cache {
		s.sums.fill(rng, gen, ids, read)
	}
	maps.Copy(got, read)
	return got, nil
}

// deriveCounts computes the sums of the segment rng from those of a cached
// segment near it (sumCache.near), reading only the buckets where the two
// differ: what the cached one has and rng has not is taken off, what rng
// has and the cached one has not is added. Counts are integers, so this
// is exact. It adds them to got, caches them, and returns the monitors the
// cached segment had no sums for (to be read in full).
func (s *SQLite) deriveCounts(ctx context.Context, r sqlReader, rng sumRange, ids []string, gen [2]uint64, memo bucketSums,
	got map[string]counts) ([]string, error) {
	step := int64(time.Minute / time.Second)
	if rng.tier == 1 {
		step = int64(time.Hour / time.Second)
	}
	base, sums, ok := s.sums.near(rng, step, ids)
	if !ok || len(sums) == 0 {
		return ids, nil
	}
	var have, missing []string
	for _, id := range ids {
		if _, ok := sums[id]; ok {
			have = append(have, id)
		} else {
			missing = append(missing, id)
		}
	}
	// Each end: the buckets between the two segments' ends, added when
	// they lie inside rng, taken off when they lie outside it.
	type part struct{ from, to, sign int64 }
	parts := [2]part{{rng.from, base.from, 1}, {rng.to, base.to, -1}}
	if base.from < rng.from {
		parts[0] = part{base.from, rng.from, -1}
	}
	if base.to < rng.to {
		parts[1] = part{base.to, rng.to, 1}
	}
	for _, d := range parts {
		if d.from == d.to {
			continue
		}
		part := sumRange{rng.tier, d.from, d.to}
		known := memo[part]
		if known == nil {
			known = map[string]counts{}
			memo[part] = known
		}
		var need []string
		for _, id := range have {
			if _, ok := known[id]; !ok {
				need = append(need, id)
			}
		}
		if len(need) > 0 {
			delta, err := r.sumRollupRows(ctx, rollupSumSQL[rng.tier], jsonIDs(need), d.from, d.to)
			if err != nil {
				return nil, err
			}
			for _, id := range need {
				known[id] = delta[id]
			}
		}
		for _, id := range have {
			sums[id] = sums[id].plus(known[id], d.sign)
		}
	}
	s.sums.fill(rng, gen, have, sums)
	maps.Copy(got, sums)
	return missing, nil
}

// bucketSums holds, for one ReadWindows call, the sums deriveCounts read
// of the buckets where segments differ from the cached ones, by range and
// monitor (zero for a monitor without rows): when a minute ends, every
// window's segment that ends there gains the same minute, read once.
type bucketSums map[sumRange]map[string]counts

// jsonIDs is the JSON array of the monitor IDs that the window queries read
// with json_each.
func jsonIDs(ids []string) string {
	b, err := json.Marshal(ids)
	if err != nil {
		// A []string always marshals.
		panic(err)
	}
	return string(b)
}

// monitorsIn selects the monitors of the JSON array given as its argument
// (json_each), k being result_monitors. Written as IN (subquery) and with
// result_monitors first in a CROSS JOIN (which keeps SQLite to that order),
// the monitors are visited in the order of their ID through its index and
// each one's rows through the index on (monitor_key, time) or the primary
// key (monitor_key, bucket_start): the rows come grouped by monitor, so
// GROUP BY k.monitor_id needs no sort (a join with json_each sorted every
// row first).
const monitorsIn = `k.monitor_id IN (SELECT value FROM json_each(?))`

// rollupSumSQL sums the counts of the minute (0) and hour (1) rollups of the
// monitors of a JSON array whose buckets start in [from, to).
var rollupSumSQL = [2]string{rollupSum("rollups_minute"), rollupSum("rollups_hour")}

func rollupSum(table string) string {
	return `SELECT k.monitor_id, SUM(r.probes), SUM(r.up), SUM(r.degraded), SUM(r.down), SUM(r.retried), SUM(r.missed),
		SUM(r.bytes) FROM result_monitors k CROSS JOIN ` + table + ` r ON r.monitor_key = k.key
		WHERE ` + monitorsIn + ` AND r.bucket_start >= ? AND r.bucket_start < ? GROUP BY k.monitor_id`
}

// readLatencySegment adds one segment of the monitors' window, latencies
// included, to out.
func (r sqlReader) readLatencySegment(ctx context.Context, seg resultSegment, ids []string, out map[string]*stats.Rollup) error {
	list := jsonIDs(ids)
	if seg.tier == TierRaw {
		return r.rawRollups(ctx, list, ceilMicros(seg.from), ceilMicros(seg.to), out)
	}
	table := "rollups_minute"
	if seg.tier == TierHour {
		table = "rollups_hour"
	}
	return mergeRollupRows(ctx, r, rollupSelect+` FROM result_monitors k CROSS JOIN `+table+` r ON r.monitor_key = k.key
		WHERE `+monitorsIn+` AND r.bucket_start >= ? AND r.bucket_start < ?`, []any{list, ceilSeconds(seg.from), ceilSeconds(seg.to)}, monitorOf, out)
}

// sumRollupRows returns the per-monitor sums selected (monitor_id and the
// seven counts).
func (r sqlReader) sumRollupRows(ctx context.Context, q string, args ...any) (map[string]counts, error) {
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := map[string]counts{}
	for rows.Next() {
		var (
			c  counts
			id string
		)
		if err := rows.Scan(&id, &c.probes, &c.up, &c.degraded, &c.down, &c.retried, &c.missed, &c.bytes); err != nil {
			return nil, err
		}
		got[id] = c
	}
	return got, rows.Err()
}

// rawCountsSQL counts the raw results of the monitors of a JSON array with
// from <= time < to as stats.Rollup.AddCounts counts them: outcomes 1, 2
// and 3 are up, degraded and down; more than one attempt is a retry.
const rawCountsSQL = `SELECT k.monitor_id, COUNT(*), SUM(p.outcome = 1), SUM(p.outcome = 2), SUM(p.outcome = 3),
	SUM(p.attempts > 1), SUM(p.bytes_received) FROM result_monitors k CROSS JOIN probe_results p ON p.monitor_key = k.key
	WHERE ` + monitorsIn + ` AND p.time >= ? AND p.time < ? GROUP BY k.monitor_id`

// missedCountsSQL counts the missed runs of the monitors of a JSON array
// with from <= time < to.
const missedCountsSQL = `SELECT k.monitor_id, COUNT(*) FROM result_monitors k CROSS JOIN missed_runs m ON m.monitor_key = k.key
	WHERE ` + monitorsIn + ` AND m.time >= ? AND m.time < ? GROUP BY k.monitor_id`

// rawCounts adds the counts of the raw results and missed runs of the
// monitors with from <= time < to (Unix microseconds) to got.
func (r sqlReader) rawCounts(ctx context.Context, ids []string, from, to int64, got map[string]counts) error {
	list := jsonIDs(ids)
	rows, err := r.query(ctx, rawCountsSQL, list, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c  counts
			id string
		)
		if err := rows.Scan(&id, &c.probes, &c.up, &c.degraded, &c.down, &c.retried, &c.bytes); err != nil {
			return err
		}
		got[id] = c
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return r.missedCounts(ctx, list, from, to, func(id string, n int64) {
		c := got[id]
		c.missed += n
		got[id] = c
	})
}

// missedCounts calls add with the number of missed runs of each monitor of
// the JSON array list that has some with from <= time < to.
func (r sqlReader) missedCounts(ctx context.Context, list string, from, to int64, add func(id string, n int64)) error {
	if some, err := r.anyMissed(ctx, from, to); err != nil || !some {
		return err
	}
	rows, err := r.query(ctx, missedCountsSQL, list, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			n  int64
		)
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		add(id, n)
	}
	return rows.Err()
}

// rawRows returns the raw results and missed runs of the monitors with
// from <= time < to (Unix microseconds), by monitor.
func (r sqlReader) rawRows(ctx context.Context, ids []string, from, to int64) (map[string][]rawRow, error) {
	list := jsonIDs(ids)
	rows, err := r.query(ctx, `SELECT k.monitor_id, p.time, p.outcome, p.attempts, p.bytes_received
		FROM result_monitors k CROSS JOIN probe_results p ON p.monitor_key = k.key
		WHERE `+monitorsIn+` AND p.time >= ? AND p.time < ?`, list, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string][]rawRow, len(ids))
	for rows.Next() {
		var (
			id                   string
			tm, outc, att, bytes int64
		)
		if err := rows.Scan(&id, &tm, &outc, &att, &bytes); err != nil {
			return nil, err
		}
		rw := rawRow{micros: tm, bytes: bytes, retried: att > 1}
		if outc >= 1 && outc <= 3 {
			rw.outcome = int8(outc)
		}
		out[id] = append(out[id], rw)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	missed, err := r.missedTimes(ctx, list, from, to)
	if err != nil {
		return nil, err
	}
	for id, ts := range missed {
		for _, tm := range ts {
			out[id] = append(out[id], rawRow{micros: tm, outcome: rawMissed})
		}
	}
	return out, nil
}

// missedTimes returns the times of the missed runs of the monitors of the
// JSON array list with from <= time < to, by monitor.
func (r sqlReader) missedTimes(ctx context.Context, list string, from, to int64) (map[string][]int64, error) {
	out := map[string][]int64{}
	if some, err := r.anyMissed(ctx, from, to); err != nil || !some {
		return out, err
	}
	rows, err := r.query(ctx, `SELECT k.monitor_id, m.time FROM result_monitors k CROSS JOIN missed_runs m ON m.monitor_key = k.key
		WHERE `+monitorsIn+` AND m.time >= ? AND m.time < ?`, list, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			tm int64
		)
		if err := rows.Scan(&id, &tm); err != nil {
			return nil, err
		}
		out[id] = append(out[id], tm)
	}
	return out, rows.Err()
}

// anyMissed tells whether any monitor has a missed run with from <= time <
// to: one probe of the index on time, which spares the per-monitor probes
// of the usual case (no run missed).
func (r sqlReader) anyMissed(ctx context.Context, from, to int64) (bool, error) {
	var some bool
	err := r.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM missed_runs WHERE time >= ? AND time < ?)`, from, to).Scan(&some)
	return some, err
}

// rawRollups adds the raw results (latencies included) and missed runs of
// the monitors of the JSON array list with from <= time < to (Unix
// microseconds) to out.
func (r sqlReader) rawRollups(ctx context.Context, list string, from, to int64, out map[string]*stats.Rollup) error {
	rows, err := r.query(ctx, `SELECT k.monitor_id, p.outcome, p.attempts, p.latency_ns, p.bytes_received
		FROM result_monitors k CROSS JOIN probe_results p ON p.monitor_key = k.key
		WHERE `+monitorsIn+` AND p.time >= ? AND p.time < ?`, list, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			res       api.ProbeResult
			outc, lat int64
		)
		if err := rows.Scan(&res.MonitorID, &outc, &res.Attempts, &lat, &res.BytesReceived); err != nil {
			return err
		}
		res.Outcome, res.LatencyMS = outcomeName(outc), nsToMS(lat)
		if ru := out[res.MonitorID]; ru != nil {
			ru.Add(res)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return r.missedCounts(ctx, list, from, to, func(id string, n int64) {
		if ru := out[id]; ru != nil {
			ru.Missed += n
		}
	})
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
	rows, err := sqlReader{q: s.reader, d: s.d}.query(ctx, `SELECT time, outcome FROM probe_results WHERE monitor_key = `+keyOf+`
		ORDER BY time DESC, seq DESC LIMIT ?`, monitorID, n)
	return collect(rows, err, func(sc scanner) (OutcomeAt, error) {
		var (
			o        OutcomeAt
			tm, outc int64
		)
		if err := sc.Scan(&tm, &outc); err != nil {
			return o, err
		}
		o.Time, o.Outcome = fromMicros(tm), outcomeName(outc)
		return o, nil
	})
}

// latestOutcomesSQL reads the latest n (the first argument) outcomes of
// each monitor of a JSON array (the second): per monitor, the correlated subquery reads
// the index on (monitor_key, time) backwards and stops after n.
const latestOutcomesSQL = `SELECT k.monitor_id, p.time, p.seq, p.outcome FROM result_monitors k
	CROSS JOIN probe_results p ON p.seq IN (SELECT seq FROM probe_results WHERE monitor_key = k.key ORDER BY time DESC, seq DESC LIMIT ?)
	WHERE ` + monitorsIn

// LatestOutcomesOf reads every monitor's latest outcomes with one
// statement, whatever their number (latestOutcomesSQL).
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
	type row struct {
		o   OutcomeAt
		seq int64
	}
	rows, err := sqlReader{q: s.reader, d: s.d}.query(ctx, latestOutcomesSQL, n, jsonIDs(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := make(map[string][]row, len(ids))
	for rows.Next() {
		var (
			id       string
			tm, outc int64
			rw       row
		)
		if err := rows.Scan(&id, &tm, &rw.seq, &outc); err != nil {
			return nil, err
		}
		rw.o.Time, rw.o.Outcome = fromMicros(tm), outcomeName(outc)
		got[id] = append(got[id], rw)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The rows of a monitor come in the order of their seq: newest first.
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
	rolled, err := r.rolledTo(ctx)
	if err != nil {
		return total, state, err
	}
	for _, seg := range planWindow(from.UTC(), to.UTC(), horizons[TierRaw], horizons[TierMinute], horizons[TierHour], rolled) {
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
	rows, err := r.query(ctx, `SELECT outcome, attempts, latency_ns, bytes_received FROM probe_results
		WHERE monitor_key = `+keyOf+` AND time >= ? AND time < ?`, monitorID, ceilMicros(from), ceilMicros(to))
	if err != nil {
		return ru, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			res       api.ProbeResult
			outc, lat int64
		)
		if err := rows.Scan(&outc, &res.Attempts, &lat, &res.BytesReceived); err != nil {
			return ru, err
		}
		res.Outcome, res.LatencyMS = outcomeName(outc), nsToMS(lat)
		ru.Add(res)
	}
	if err := rows.Err(); err != nil {
		return ru, err
	}
	err = r.queryRow(ctx, `SELECT COUNT(*) FROM missed_runs WHERE monitor_key = `+keyOf+` AND time >= ? AND time < ?`,
		monitorID, ceilMicros(from), ceilMicros(to)).Scan(&ru.Missed)
	return ru, err
}

// tierRollup merges the rollups of one table whose bucket starts in
// [from, to).
func (r sqlReader) tierRollup(ctx context.Context, table, monitorID string, from, to time.Time) (stats.Rollup, error) {
	var ru stats.Rollup
	parts, err := r.readRollups(ctx, rollupSelect+rollupFrom(table)+`
		WHERE r.monitor_key = `+keyOf+` AND r.bucket_start >= ? AND r.bucket_start < ?`, monitorID, ceilSeconds(from), ceilSeconds(to))
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
//
// The rollups are written only before rolled (a whole minute: see
// roller), so the part of the window at and after it is read from the raw
// results, and an hour's rollup only once the hour ends before rolled.
func planWindow(from, to, rawHorizon, minuteHorizon, hourHorizon, rolled time.Time) []resultSegment {
	p := windowPlanner{rawFrom: ceilTo(rawHorizon, time.Minute), minuteFrom: ceilTo(minuteHorizon, time.Hour),
		hourFrom: ceilTo(hourHorizon, time.Hour)}
	split := clampTime(rolled, from, to)
	p.hours(from, split)
	p.raw(split, to)
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
	// The cached window sums may count what this deletes.
	defer s.sums.clear()
	if tier != TierRaw && tier != TierMinute && tier != TierHour {
		return 0, fmt.Errorf("unknown result tier %q", tier)
	}
	if limit <= 0 {
		limit = DefaultDeleteBatch
	}
	var n int64
	s.roll.mu.Lock()
	defer s.roll.mu.Unlock()
	err := writeTx(ctx, s.writer, s.d, func(tx Tx) error {
		if err := s.rollThrough(ctx, tx.(sqlTx), before); err != nil {
			return err
		}
		var err error
		n, err = tx.(sqlTx).deleteResultsBefore(ctx, tier, before, limit)
		return err
	})
	if err != nil {
		s.roll.reset()
	}
	return n, err
}

func (t sqlTx) deleteResultsBefore(ctx context.Context, tier string, beforeT time.Time, limit int) (int64, error) {
	if _, err := t.exec(ctx, `INSERT INTO result_horizons (tier, horizon) VALUES (?, ?)
		ON CONFLICT (tier) DO UPDATE SET horizon = excluded.horizon WHERE excluded.horizon > result_horizons.horizon`,
		tier, fmtTime(beforeT)); err != nil {
		return 0, err
	}
	del := func(q string, bound any, n int) (int64, error) {
		res, err := t.exec(ctx, q, bound, n)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	switch tier {
	case TierRaw:
		n, err := del(`DELETE FROM probe_results WHERE seq IN
			(SELECT seq FROM probe_results WHERE time < ? ORDER BY time LIMIT ?)`, ceilMicros(beforeT), limit)
		if err != nil || n >= int64(limit) {
			return n, err
		}
		m, err := del(`DELETE FROM missed_runs WHERE seq IN
			(SELECT seq FROM missed_runs WHERE time < ? ORDER BY time LIMIT ?)`, ceilMicros(beforeT), limit-int(n))
		return n + m, err
	default:
		table := "rollups_" + tier
		return del(`DELETE FROM `+table+` WHERE (monitor_key, bucket_start) IN
			(SELECT monitor_key, bucket_start FROM `+table+` WHERE bucket_start < ? ORDER BY bucket_start LIMIT ?)`,
			ceilSeconds(beforeT), limit)
	}
}

// DeleteMonitorResultsBefore deletes one batch of the given monitors' rows
// of a tier in its own transaction.
func (s *SQLite) DeleteMonitorResultsBefore(ctx context.Context, tier string, monitorIDs []string, before time.Time, limit int) (int64, error) {
	// The cached window sums may count what this deletes.
	defer s.sums.clear()
	if tier != TierRaw && tier != TierMinute && tier != TierHour {
		return 0, fmt.Errorf("unknown result tier %q", tier)
	}
	if limit <= 0 {
		limit = DefaultDeleteBatch
	}
	if len(monitorIDs) == 0 {
		return 0, nil
	}
	var total int64
	s.roll.mu.Lock()
	defer s.roll.mu.Unlock()
	err := writeTx(ctx, s.writer, s.d, func(tx Tx) error {
		t := tx.(sqlTx)
		if err := s.rollThrough(ctx, t, before); err != nil {
			return err
		}
		type table struct {
			name, key, col string
			bound          int64
		}
		tables := []table{{"probe_results", "seq", "time", ceilMicros(before)}, {"missed_runs", "seq", "time", ceilMicros(before)}}
		switch tier {
		case TierMinute:
			tables = []table{{"rollups_minute", "monitor_key, bucket_start", "bucket_start", ceilSeconds(before)}}
		case TierHour:
			tables = []table{{"rollups_hour", "monitor_key, bucket_start", "bucket_start", ceilSeconds(before)}}
		}
		for chunk := range slices.Chunk(monitorIDs, rollupRowsPerRead) {
			for _, tb := range tables {
				left := int64(limit) - total
				if left <= 0 {
					return nil
				}
				args := make([]any, 0, len(chunk)+2)
				for _, id := range chunk {
					args = append(args, id)
				}
				args = append(args, tb.bound, left)
				res, err := t.exec(ctx, `DELETE FROM `+tb.name+` WHERE (`+tb.key+`) IN
					(SELECT `+tb.key+` FROM `+tb.name+` WHERE monitor_key IN
						(SELECT key FROM result_monitors WHERE monitor_id IN (`+placeholders(len(chunk))+`))
					AND `+tb.col+` < ? LIMIT ?)`, args...)
				if err != nil {
					return fmt.Errorf("delete %s: %w", tb.name, err)
				}
				n, err := res.RowsAffected()
				if err != nil {
					return err
				}
				total += n
			}
		}
		return nil
	})
	if err != nil {
		s.roll.reset()
	}
	return total, err
}

// DeleteMonitorData removes everything of a monitor in one transaction.
func (s *SQLite) DeleteMonitorData(ctx context.Context, monitorID string) error {
	// The cached window sums may count what this deletes.
	defer s.sums.clear()
	s.roll.mu.Lock()
	defer s.roll.mu.Unlock()
	var keys []int64
	err := writeTx(ctx, s.writer, s.d, func(tx Tx) error {
		s.keys.forget(monitorID)
		var err error
		if keys, err = tx.(sqlTx).resultKeys(ctx, []string{monitorID}); err != nil {
			return err
		}
		for _, table := range []string{"probe_results", "missed_runs", "rollups_minute", "rollups_hour"} {
			if _, err := tx.(sqlTx).exec(ctx, `DELETE FROM `+table+` WHERE monitor_key = `+keyOf, monitorID); err != nil {
				return fmt.Errorf("delete %s: %w", table, err)
			}
		}
		for _, table := range []string{"monitor_state", "result_monitors"} {
			if _, err := tx.(sqlTx).exec(ctx, `DELETE FROM `+table+` WHERE monitor_id = ?`, monitorID); err != nil {
				return fmt.Errorf("delete %s: %w", table, err)
			}
		}
		return nil
	})
	s.forgetRollups(keys, err)
	return err
}

// forgetRollups drops the rollups not yet written of monitors whose data
// a committed transaction deleted (their key may even be given to another
// monitor), or forgets the roller's memory when the transaction failed.
// s.roll.mu is held.
func (s *SQLite) forgetRollups(keys []int64, err error) {
	if err != nil {
		s.roll.reset()
		return
	}
	if s.roll.loaded {
		s.roll.dropKeys(keys)
	}
}

// resultKeys returns the result_monitors keys of the given monitor IDs.
func (t sqlTx) resultKeys(ctx context.Context, ids []string) ([]int64, error) {
	var out []int64
	for chunk := range slices.Chunk(ids, rollupRowsPerRead) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := t.query(ctx, `SELECT key FROM result_monitors WHERE monitor_id IN (`+placeholders(len(chunk))+`)`, args...)
		keys, err := collect(rows, err, func(sc scanner) (int64, error) {
			var k int64
			err := sc.Scan(&k)
			return k, err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, keys...)
	}
	return out, nil
}

// orphanTables are the tables of a monitor's data that DeleteOrphanResults
// cleans, each with the column list that names one row and the condition
// that selects the rows of one monitor ID (the argument). Every one has an
// index leading with that column.
var orphanTables = []struct{ name, key, of string }{
	{"probe_results", "seq", "monitor_key = " + keyOf},
	{"missed_runs", "seq", "monitor_key = " + keyOf},
	{"rollups_minute", "monitor_key, bucket_start", "monitor_key = " + keyOf},
	{"rollups_hour", "monitor_key, bucket_start", "monitor_key = " + keyOf},
	{"monitor_state", "monitor_id", "monitor_id = ?"},
}

// DeleteOrphanResults finds the monitor IDs without a monitor, then deletes
// one batch of their rows in one write transaction.
func (s *SQLite) DeleteOrphanResults(ctx context.Context, limit int) (int64, error) {
	// The cached window sums may count what this deletes.
	defer s.sums.clear()
	if limit <= 0 {
		limit = DefaultDeleteBatch
	}
	ids, err := sqlReader{q: s.reader, d: s.d}.orphanMonitorIDs(ctx)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	var (
		n    int64
		keys []int64
	)
	s.roll.mu.Lock()
	defer s.roll.mu.Unlock()
	err = writeTx(ctx, s.writer, s.d, func(tx Tx) error {
		s.keys.forget(ids...)
		var err error
		if keys, err = tx.(sqlTx).resultKeys(ctx, ids); err != nil {
			return err
		}
		n, err = tx.(sqlTx).deleteOrphans(ctx, ids, limit)
		return err
	})
	s.forgetRollups(keys, err)
	return n, err
}

// orphanMonitorIDs lists the monitor IDs that have results (a key in
// result_monitors) or a state but no monitor: two small tables, one row
// per monitor, however many millions of results they have.
func (r sqlReader) orphanMonitorIDs(ctx context.Context) ([]string, error) {
	rows, err := r.query(ctx, `SELECT monitor_id FROM result_monitors
			WHERE NOT EXISTS (SELECT 1 FROM monitors WHERE monitors.id = result_monitors.monitor_id)
		UNION SELECT monitor_id FROM monitor_state
			WHERE NOT EXISTS (SELECT 1 FROM monitors WHERE monitors.id = monitor_state.monitor_id)
		ORDER BY 1`)
	return collect(rows, err, func(sc scanner) (string, error) {
		var id string
		err := sc.Scan(&id)
		return id, err
	})
}

// deleteOrphans deletes at most limit rows of the given monitors. The
// monitor's absence is checked again inside the transaction, so that the
// data of a monitor is never deleted while the monitor exists. A monitor's
// key goes last, once none of its rows are left (it is not counted).
func (t sqlTx) deleteOrphans(ctx context.Context, ids []string, limit int) (int64, error) {
	var total int64
	for _, id := range ids {
		for _, tb := range orphanTables {
			left := int64(limit) - total
			if left <= 0 {
				return total, nil
			}
			res, err := t.exec(ctx, `DELETE FROM `+tb.name+` WHERE (`+tb.key+`) IN
				(SELECT `+tb.key+` FROM `+tb.name+` WHERE `+tb.of+` LIMIT ?)
				AND NOT EXISTS (SELECT 1 FROM monitors WHERE id = ?)`, id, left, id)
			if err != nil {
				return total, fmt.Errorf("delete orphans from %s: %w", tb.name, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, err
			}
			total += n
			if n == left {
				// The batch is full: rows of this monitor may be left.
				return total, nil
			}
		}
		if _, err := t.exec(ctx, `DELETE FROM result_monitors WHERE monitor_id = ?
			AND NOT EXISTS (SELECT 1 FROM monitors WHERE id = ?)`, id, id); err != nil {
			return total, fmt.Errorf("delete orphan monitor key: %w", err)
		}
	}
	return total, nil
}
