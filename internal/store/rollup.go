package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/stats"
)

// The rollups of a minute are written once, after the minute closed.
//
// Merging every batch of results into the stored rollups (read each
// monitor's minute and hour rows, decode their histograms, merge, encode,
// rewrite) was the results writer's largest cost: at 50,000 monitors every
// 10 s a monitor's two rows were rewritten six times a minute, 10,000 row
// merges a second, 60 % of the writer's time in a profile of make
// bench-probe. Instead, the store keeps the rollups of the minutes not yet
// written in memory (a roller) and writes each monitor's minute row, and
// merges it into its hour row, once per minute: a sixth of the merges, and
// the minute row without any.
//
// What is durable is the raw results and rollup_progress (migration
// 00018): every minute before progress.minute is in the rollup tables, and
// of that minute the monitors whose key is below progress.nextKey. The
// roller's memory is what the raw results at and after that point add up
// to, so it can always be rebuilt from them (after a restart, or after a
// write transaction failed). Reads take the part of a window at and after
// progress.minute from the raw results (see planWindow), so they see every
// result as soon as WriteResults returns, as before.
//
// A result of a minute already written (a probe that ran long, a batch
// that waited) is merged into the stored rows at once, as every result
// used to be.
type roller struct {
	// mu serializes the writes that use or change the roller: it is held
	// across the write transaction and the update of memory after it.
	mu sync.Mutex
	// loaded is false until the memory has been built from the database,
	// and again after a write that changed it failed.
	loaded bool
	// minute and nextKey are rollup_progress as last committed or about
	// to be: minute in Unix seconds.
	minute, nextKey int64
	// open holds, per minute (Unix seconds) at or after minute, the
	// rollup of each monitor key not yet written.
	open map[int64]map[int64]*stats.Rollup
	// order is the keys of open[minute] still to write, ascending, while
	// that minute is being written (nil before its first chunk).
	order []int64
	// newest is the latest minute anything was added to.
	newest int64
}

// rollGrace is how long after a minute ends its rollups wait for the
// results still coming (a probe's result carries its start time and
// reaches the writer when it ends, up to a second later in a batch).
// Results later than that are merged into the written rows.
const rollGrace = 15 * time.Second

// rollChunk is the most monitors whose minute one piece of a results
// write (see WriteResultsYielding) writes, so that a piece stays short
// when another write waits: at 50,000 monitors a minute takes 500 pieces,
// 10 s of the writer's batches at 5,000 results a second.
const rollChunk = 100

// minuteOf is the start of the minute of t, in Unix seconds.
func minuteOf(t time.Time) int64 { return floorDiv(t.Unix(), 60) * 60 }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// written tells whether the rollups of key's minute m are in the tables.
func (r *roller) written(m, key int64) bool {
	return m < r.minute || (m == r.minute && key < r.nextKey)
}

// add counts a result or missed run of key in minute m, not yet written.
func (r *roller) add(m, key int64) *stats.Rollup {
	r.newest = max(r.newest, m)
	keys := r.open[m]
	if keys == nil {
		keys = map[int64]*stats.Rollup{}
		r.open[m] = keys
	}
	ru := keys[key]
	if ru == nil {
		ru = &stats.Rollup{}
		keys[key] = ru
		if m == r.minute && r.order != nil {
			// A key new to the minute being written joins its order.
			i, _ := slices.BinarySearch(r.order, key)
			r.order = slices.Insert(r.order, i, key)
		}
	}
	return ru
}

// reset forgets the memory; the next write rebuilds it.
func (r *roller) reset() {
	r.loaded, r.open, r.order, r.newest = false, nil, nil, 0
}

// dropKeys forgets the given keys' rollups not yet written (their monitor's
// data is being deleted).
func (r *roller) dropKeys(keys []int64) {
	for m, ks := range r.open {
		for _, k := range keys {
			delete(ks, k)
		}
		if len(ks) == 0 {
			delete(r.open, m)
		}
	}
	if r.order != nil {
		r.order = slices.DeleteFunc(r.order, func(k int64) bool { return slices.Contains(keys, k) })
	}
}

// rawResult is the part of a raw result that a rollup counts, as stored:
// the latency rounded to the nanosecond, so that memory built from the
// batch and memory rebuilt from the table are the same.
func rawResult(outcome string, attempts int, latencyNS, bytes int64) api.ProbeResult {
	return api.ProbeResult{Outcome: outcome, Attempts: attempts, LatencyMS: nsToMS(latencyNS), BytesReceived: bytes}
}

// load builds the memory from the database: the progress, and the raw
// results and missed runs at and after it.
func (t sqlTx) loadRoller(ctx context.Context, r *roller) error {
	r.reset()
	if err := t.queryRow(ctx, `SELECT minute, next_key FROM rollup_progress WHERE id = 1`).Scan(&r.minute, &r.nextKey); err != nil {
		return fmt.Errorf("read rollup progress: %w", err)
	}
	r.open = map[int64]map[int64]*stats.Rollup{}
	from := r.minute * 1_000_000
	rows, err := t.query(ctx, `SELECT monitor_key, time, outcome, attempts, latency_ns, bytes_received
		FROM probe_results WHERE time >= ?`, from)
	if err != nil {
		return err
	}
	for rows.Next() {
		var key, tm, outc, lat, bytes int64
		var attempts int
		if err := rows.Scan(&key, &tm, &outc, &attempts, &lat, &bytes); err != nil {
			rows.Close()
			return err
		}
		if m := floorDiv(tm, 60_000_000) * 60; !r.written(m, key) {
			r.add(m, key).Add(rawResult(outcomeName(outc), attempts, lat, bytes))
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return err
	}
	rows, err = t.query(ctx, `SELECT monitor_key, time FROM missed_runs WHERE time >= ?`, from)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key, tm int64
		if err := rows.Scan(&key, &tm); err != nil {
			return err
		}
		if m := floorDiv(tm, 60_000_000) * 60; !r.written(m, key) {
			r.add(m, key).Missed++
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	r.loaded = true
	return nil
}

// roll writes the rollups of the minutes before cutoff (Unix seconds),
// oldest first, at most budget monitors' worth (all of them when budget
// is negative), and records the progress.
func (t sqlTx) roll(ctx context.Context, r *roller, cutoff int64, budget int) error {
	minute, next := r.minute, r.nextKey
	for budget != 0 {
		m, ok := r.oldestOpen()
		if !ok || m >= cutoff {
			// Nothing left to write before cutoff.
			if r.minute < cutoff {
				r.minute, r.nextKey, r.order = cutoff, 0, nil
			}
			break
		}
		if m > r.minute {
			r.minute, r.nextKey, r.order = m, 0, nil
		}
		if r.order == nil {
			r.order = slices.Sorted(maps.Keys(r.open[m]))
		}
		n := len(r.order)
		if budget > 0 {
			n = min(n, budget)
			budget -= n
		}
		chunk := r.order[:n]
		minutes, hours := rollupSet{}, rollupSet{}
		hour := floorDiv(m, 3600) * 3600
		for _, k := range chunk {
			ru := r.open[m][k]
			minutes[rollupKey{k, m}] = ru
			h := &stats.Rollup{}
			h.Merge(ru)
			hours[rollupKey{k, hour}] = h
		}
		if err := t.mergeRollups(ctx, "rollups_minute", minutes); err != nil {
			return err
		}
		if err := t.mergeRollups(ctx, "rollups_hour", hours); err != nil {
			return err
		}
		for _, k := range chunk {
			delete(r.open[m], k)
		}
		r.order = r.order[n:]
		if len(r.order) == 0 {
			delete(r.open, m)
			r.minute, r.nextKey, r.order = m+60, 0, nil
		} else {
			r.nextKey = chunk[len(chunk)-1] + 1
		}
	}
	if r.minute == minute && r.nextKey == next {
		return nil
	}
	if _, err := t.exec(ctx, `UPDATE rollup_progress SET minute = ?, next_key = ? WHERE id = 1`, r.minute, r.nextKey); err != nil {
		return fmt.Errorf("write rollup progress: %w", err)
	}
	return nil
}

// oldestOpen is the earliest minute with rollups not yet written.
func (r *roller) oldestOpen() (int64, bool) {
	var (
		oldest int64
		ok     bool
	)
	for m := range r.open {
		if !ok || m < oldest {
			oldest, ok = m, true
		}
	}
	return oldest, ok
}

// rollThrough writes, inside the transaction of a delete by age, every
// rollup of the minutes before `before`: the rows about to be deleted
// must be in the rollups first (or be deleted with them), as they were
// when every batch was merged at once.
func (s *SQLite) rollThrough(ctx context.Context, t sqlTx, before time.Time) error {
	r := &s.roll
	if !r.loaded {
		if err := t.loadRoller(ctx, r); err != nil {
			return err
		}
	}
	cutoff := minuteOf(before)
	if !before.Equal(time.Unix(cutoff, 0)) {
		cutoff += 60
	}
	// No further than the minute after the newest result held: an
	// erasure deletes up to an hour ahead, and progress that far ahead
	// would send every result of that hour down the merge path.
	cutoff = min(cutoff, max(r.newest+60, r.minute))
	if cutoff <= r.minute {
		return nil
	}
	return t.roll(ctx, r, cutoff, -1)
}

// rolledTo reads the first minute whose rollups are not all written:
// windows read from the raw results at and after it.
func (r sqlReader) rolledTo(ctx context.Context) (time.Time, error) {
	var m int64
	if err := r.queryRow(ctx, `SELECT minute FROM rollup_progress WHERE id = 1`).Scan(&m); err != nil {
		return time.Time{}, fmt.Errorf("read rollup progress: %w", err)
	}
	return time.Unix(m, 0).UTC(), nil
}

// WriteRollups writes, in one transaction, the rollups of every minute
// before `before` still held in memory. The results writer does this by
// itself as minutes close (rollChunk monitors per batch); this is for a
// caller that needs every rollup row of the past in the tables now, such
// as a test or a tool that reads them directly.
func (s *SQLite) WriteRollups(ctx context.Context, before time.Time) error {
	s.roll.mu.Lock()
	defer s.roll.mu.Unlock()
	err := writeTx(ctx, s.writer, s.d, func(tx Tx) error { return s.rollThrough(ctx, tx.(sqlTx), before) })
	if err != nil {
		s.roll.reset()
	}
	return err
}
