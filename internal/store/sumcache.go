package store

import (
	"sync"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/stats"
)

// sumCache keeps the per-monitor sums that WindowCounts had SQLite compute
// over the rollup segments of a window (whole hours of rollups_hour, whole
// minutes of rollups_minute), so that the next tick of the alert evaluator
// reads only what it has not read before. A segment ends before the open
// bucket of its tier, so its sums change only when a late result or missed
// run lands in a closed bucket, when rows are deleted or when the database
// is written outside WriteResults; each of those evicts what it may have
// changed (see touched and clear), and a read that overlapped such a write
// does not fill the cache (see the generations). The figures are therefore
// exactly those of the uncached query.
//
// A segment not cached is derived, where that reads less, from a cached
// one whose ends are a few buckets away (see near): a window that moved
// forward a minute reads the minute it gained and the one it lost, not
// every minute again. The raw rows of the closed minute where a window
// starts (its leading edge, which moves within that minute at every tick)
// are kept too (see rawLookup), under the same eviction rules.
//
// The cache holds at most sumCacheRanges segments (a few windows' edges
// change every minute, the hours every hour) and rawMinutesKept minutes;
// the one used least recently goes first.
type sumCache struct {
	mu sync.Mutex
	// gen counts, per tier, the writes that may have changed a segment
	// that is cached or being read; bound is the end of the latest
	// segment a read may fill, per tier (buckets at or after it are
	// open and never cached).
	gen   [2]uint64
	bound [2]int64
	// use orders the segments (and the minutes) by their last use.
	use    uint64
	ranges map[sumRange]*sumEntry
	// minutes holds the raw rows of closed minutes, by the minute's start
	// in Unix seconds (see rawLookup).
	minutes map[int64]*minuteEntry
}

// rawMinutesKept bounds the minutes of raw rows kept: a tick reads the
// leading edges of as many minutes as there are window lengths (seven in
// bench-alerts' mix); the least recently used go first.
const rawMinutesKept = 16

type minuteEntry struct {
	used uint64
	// rows has an entry (nil when it had no rows) for every monitor read.
	rows map[string][]rawRow
}

// rawRow is a raw result or a missed run, with what counting it needs.
type rawRow struct {
	// micros is its time in Unix microseconds, bytes its bytes received.
	micros, bytes int64
	// outcome is the stored outcome code, or rawMissed for a missed run.
	outcome int8
	retried bool
}

const rawMissed = -1

// add counts the row into c as rawCountsSQL and missedCountsSQL count it.
func (rw rawRow) add(c *counts) {
	if rw.outcome == rawMissed {
		c.missed++
		return
	}
	c.probes++
	switch rw.outcome {
	case 1:
		c.up++
	case 2:
		c.degraded++
	case 3:
		c.down++
	}
	if rw.retried {
		c.retried++
	}
	c.bytes += rw.bytes
}

// rawLookup adds to got the counts of the cached raw rows of the closed
// minute (start in Unix seconds) with from <= time < to (Unix
// microseconds), and returns the monitors it has no rows for. A window's
// leading edge lies inside one closed minute and moves forward within it
// at every tick (six times a minute at 10 s), so its minute is read once.
func (c *sumCache) rawLookup(minute int64, ids []string, from, to int64, got map[string]counts) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.minutes[minute]
	if e == nil {
		return ids
	}
	c.use++
	e.used = c.use
	var missing []string
	for _, id := range ids {
		rows, ok := e.rows[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		countRows(rows, from, to, id, got)
	}
	return missing
}

// countRows adds the rows with from <= time < to to got[id], if any.
func countRows(rows []rawRow, from, to int64, id string, got map[string]counts) {
	var n counts
	hit := false
	for _, rw := range rows {
		if rw.micros >= from && rw.micros < to {
			rw.add(&n)
			hit = true
		}
	}
	if hit {
		got[id] = got[id].plus(n, 1)
	}
}

// rawFill stores the raw rows of the closed minute read for the monitors
// ids (none for those without a row), unless a write may have changed the
// minute since begin returned gen.
func (c *sumCache) rawFill(minute int64, gen [2]uint64, ids []string, rows map[string][]rawRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen[0] != gen[0] || minute+60 > c.bound[0] {
		return
	}
	if c.minutes == nil {
		c.minutes = map[int64]*minuteEntry{}
	}
	e := c.minutes[minute]
	if e == nil {
		if len(c.minutes) >= rawMinutesKept {
			oldest, first := int64(0), true
			for k, v := range c.minutes {
				if first || v.used < c.minutes[oldest].used {
					oldest, first = k, false
				}
			}
			delete(c.minutes, oldest)
		}
		e = &minuteEntry{rows: make(map[string][]rawRow, len(ids))}
		c.minutes[minute] = e
	}
	c.use++
	e.used = c.use
	for _, id := range ids {
		e.rows[id] = rows[id]
	}
}

// sumCacheRanges bounds the segments kept: a tick of bench-alerts' mix
// (windows of 1m to 3d) uses about two dozen, most of them minute edges
// that move every minute; the least recently used go first, so the stale
// edges leave before the hours used every tick. At 10,000 monitors that is
// some 100,000 sums of 56 bytes.
const sumCacheRanges = 48

// sumRange is one segment: tier (0 minute, 1 hour) and its bucket starts
// from <= bucket_start < to, in Unix seconds.
type sumRange struct {
	tier     int
	from, to int64
}

type sumEntry struct {
	used uint64
	sums map[string]counts
}

// counts are the summed counts of a rollup segment of one monitor.
type counts struct{ probes, up, degraded, down, retried, missed, bytes int64 }

// plus returns c + o, or c - o for sign -1.
func (c counts) plus(o counts, sign int64) counts {
	return counts{c.probes + sign*o.probes, c.up + sign*o.up, c.degraded + sign*o.degraded, c.down + sign*o.down,
		c.retried + sign*o.retried, c.missed + sign*o.missed, c.bytes + sign*o.bytes}
}

func (c counts) rollup() stats.Rollup {
	return stats.Rollup{Probes: c.probes, Up: c.up, Degraded: c.degraded, Down: c.down, Retried: c.retried, Missed: c.missed,
		Bytes: c.bytes}
}

func tierIndex(tier string) int {
	if tier == TierHour {
		return 1
	}
	return 0
}

// begin is called before a read transaction that may fill segments of the
// window ending at to: it raises the bounds, so that a write landing in a
// bucket the read may cache moves the generation, and returns the
// generations to hand to fill.
func (c *sumCache) begin(to time.Time) [2]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bound[0] = max(c.bound[0], to.Truncate(time.Minute).Unix())
	c.bound[1] = max(c.bound[1], to.Truncate(time.Hour).Unix())
	return c.gen
}

// cacheable tells whether a segment ends no later than the bound begin set
// for the window ending at to.
func cacheable(r sumRange, to time.Time) bool {
	if r.tier == 1 {
		return r.to <= to.Truncate(time.Hour).Unix()
	}
	return r.to <= to.Truncate(time.Minute).Unix()
}

// lookup copies the cached sums of the segment to got and returns the
// monitors it has none for.
func (c *sumCache) lookup(r sumRange, ids []string, got map[string]counts) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.ranges[r]
	if e == nil {
		return ids
	}
	c.use++
	e.used = c.use
	var missing []string
	for _, id := range ids {
		s, ok := e.sums[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		got[id] = s
	}
	return missing
}

// sumSeekCost is what one more statement over a segment costs, in buckets
// read: each monitor's rows are found with an index seek, which costs about
// as much as reading several rows once found. near weighs the buckets a
// derivation reads against those a full read does with it.
const sumSeekCost = 8

// near finds the cached segment of r's tier from which r's sums are
// cheapest to derive: the one whose ends differ from r's by the fewest
// buckets (of size step), if reading those differences (one statement for
// each end that differs) costs less than reading r. It returns the segment
// and a copy of its sums of the monitors ids that it has. As windows move
// forward a minute (or an hour) at a time, their segments move one bucket
// at one end or at both, and the sums of the new segment are the old
// sums with a bucket added or taken off at each end.
func (c *sumCache) near(r sumRange, step int64, ids []string) (sumRange, map[string]counts, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	best, bestCost := sumRange{}, (r.to-r.from)/step+sumSeekCost
	var found *sumEntry
	for k, e := range c.ranges {
		if k.tier != r.tier || k == r {
			continue
		}
		cost := int64(0)
		for _, d := range [2]int64{k.from - r.from, k.to - r.to} {
			if d != 0 {
				cost += max(d, -d)/step + sumSeekCost
			}
		}
		if cost < bestCost {
			best, bestCost, found = k, cost, e
		}
	}
	if found == nil {
		return best, nil, false
	}
	c.use++
	found.used = c.use
	sums := make(map[string]counts, len(ids))
	for _, id := range ids {
		if s, ok := found.sums[id]; ok {
			sums[id] = s
		}
	}
	return best, sums, true
}

// fill stores the sums read for the monitors ids (those without a row sum
// to zero), unless a write may have changed the segment since begin
// returned gen.
func (c *sumCache) fill(r sumRange, gen [2]uint64, ids []string, got map[string]counts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen[r.tier] != gen[r.tier] {
		return
	}
	if c.ranges == nil {
		c.ranges = map[sumRange]*sumEntry{}
	}
	e := c.ranges[r]
	if e == nil {
		if len(c.ranges) >= sumCacheRanges {
			var oldest sumRange
			first := true
			for k, v := range c.ranges {
				if first || v.used < c.ranges[oldest].used {
					oldest, first = k, false
				}
			}
			delete(c.ranges, oldest)
		}
		e = &sumEntry{sums: make(map[string]counts, len(ids))}
		c.ranges[r] = e
	}
	c.use++
	e.used = c.use
	for _, id := range ids {
		e.sums[id] = got[id]
	}
}

// touched is called after WriteResults (committed or not): it evicts the
// monitors' sums of every cached segment holding a bucket the batch may
// have changed, and moves the tier's generation if a bucket lies before the
// bound (a read under way may have seen the rows before the batch). The
// buckets of a batch are open ones but for late results.
func (c *sumCache) touched(results []api.ProbeResult, missed []MissedRun) {
	c.mu.Lock()
	defer c.mu.Unlock()
	touch := func(id string, t time.Time) {
		for tier, d := range [2]time.Duration{time.Minute, time.Hour} {
			b := t.Truncate(d).Unix()
			if b >= c.bound[tier] {
				continue
			}
			c.gen[tier]++
			for r, e := range c.ranges {
				if r.tier == tier && r.from <= b && b < r.to {
					delete(e.sums, id)
				}
			}
			if e := c.minutes[b]; tier == 0 && e != nil {
				delete(e.rows, id)
			}
		}
	}
	for _, r := range results {
		touch(r.MonitorID, r.Time)
	}
	for _, m := range missed {
		touch(m.MonitorID, m.Time)
	}
}

// clear forgets everything: called after any other write, which may have
// deleted or rewritten rollups.
func (c *sumCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ranges = nil
	c.minutes = nil
	c.gen[0]++
	c.gen[1]++
}
