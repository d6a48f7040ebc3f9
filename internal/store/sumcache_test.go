package store

// Unit tests of the window sums cache (sumcache.go). The results contract
// (TestContractResults) proves that windows read through the cache give
// the uncached figures; these pin what it cannot see from outside: the
// cache stays within its bounds and drops the least recently used entry,
// it refuses a fill that a write may have overtaken, it evicts exactly
// the sums a late result may have changed, and it derives a segment only
// from the cached one that is cheapest to derive from.

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// scBase is the start of an hour, in Unix seconds.
const scBase = int64(1_772_445_600)

func scTime(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func TestSumCacheCountsRows(t *testing.T) {
	var c counts
	for _, rw := range []rawRow{
		{outcome: 1, bytes: 10}, {outcome: 1, bytes: 5, retried: true}, {outcome: 2, bytes: 7}, {outcome: 3},
		{outcome: 3, retried: true}, {outcome: rawMissed}, {outcome: rawMissed},
	} {
		rw.add(&c)
	}
	if want := (counts{probes: 5, up: 2, degraded: 1, down: 2, retried: 2, missed: 2, bytes: 22}); c != want {
		t.Errorf("counted %+v, want %+v", c, want)
	}
	a, b := counts{100, 90, 80, 70, 60, 50, 40}, counts{1, 2, 3, 4, 5, 6, 7}
	if got, want := a.plus(b, 1), (counts{101, 92, 83, 74, 65, 56, 47}); got != want {
		t.Errorf("plus: %+v, want %+v", got, want)
	}
	if got, want := a.plus(b, -1), (counts{99, 88, 77, 66, 55, 44, 33}); got != want {
		t.Errorf("minus: %+v, want %+v", got, want)
	}
	// countRows counts from <= time < to, and adds nothing for a
	// monitor without a row in the range.
	us := func(sec int64) int64 { return sec * 1_000_000 }
	rows := []rawRow{{micros: us(9), outcome: 1}, {micros: us(10), outcome: 1}, {micros: us(19), outcome: 2}, {micros: us(20), outcome: 3}}
	got := map[string]counts{}
	countRows(rows, us(10), us(20), "mon_a", got)
	countRows(rows, us(30), us(40), "mon_b", got)
	if want := map[string]counts{"mon_a": {probes: 2, up: 1, degraded: 1}}; !maps.Equal(got, want) {
		t.Errorf("countRows: %+v, want %+v", got, want)
	}
}

func TestSumCacheCacheable(t *testing.T) {
	hour := scBase
	for _, c := range []struct {
		r    sumRange
		to   time.Time
		want bool
	}{
		// An hour segment may end at the hour that holds to, not after.
		{sumRange{1, hour - 3600, hour}, scTime(hour + 1800), true},
		{sumRange{1, hour, hour + 3600}, scTime(hour + 1800), false},
		// A minute segment may end at the minute that holds to.
		{sumRange{0, hour, hour + 600}, scTime(hour + 610), true},
		{sumRange{0, hour, hour + 660}, scTime(hour + 610), false},
	} {
		if got := cacheable(c.r, c.to); got != c.want {
			t.Errorf("cacheable(%+v, %v) = %v, want %v", c.r, c.to, got, c.want)
		}
	}
}

// TestSumCacheRawMinutesBoundAndLRU: at most rawMinutesKept minutes of raw
// rows, the least recently used (filled or looked up) going first.
func TestSumCacheRawMinutesBoundAndLRU(t *testing.T) {
	var c sumCache
	gen := c.begin(scTime(scBase + 3*3600))
	minute := func(i int) int64 { return scBase + int64(i)*60 }
	fill := func(i int) {
		m := minute(i)
		c.rawFill(m, gen, []string{"mon_a", "mon_b"}, map[string][]rawRow{"mon_a": {{micros: m * 1_000_000, outcome: 1}}})
	}
	for i := range rawMinutesKept {
		fill(i)
	}
	// Minute 0, looked up, becomes the most recently used.
	got := map[string]counts{}
	missing := c.rawLookup(minute(0), []string{"mon_a", "mon_b", "mon_c"}, minute(0)*1_000_000, minute(1)*1_000_000, got)
	if !slices.Equal(missing, []string{"mon_c"}) || !maps.Equal(got, map[string]counts{"mon_a": {probes: 1, up: 1}}) {
		t.Fatalf("lookup of minute 0: missing %v, got %+v; want mon_c missing, mon_a's row (mon_b has none)", missing, got)
	}
	for i := rawMinutesKept; i < 2*rawMinutesKept-1; i++ {
		fill(i)
		if len(c.minutes) != rawMinutesKept {
			t.Fatalf("after filling minute %d: %d minutes kept, want %d", i, len(c.minutes), rawMinutesKept)
		}
	}
	for i := range 2*rawMinutesKept - 1 {
		kept := c.minutes[minute(i)] != nil
		if want := i == 0 || i >= rawMinutesKept; kept != want {
			t.Errorf("minute %d kept %v, want %v (the least recently used go first)", i, kept, want)
		}
	}
}

// TestSumCacheRangesBoundAndLRU: at most sumCacheRanges segments, the
// least recently used (filled, looked up or derived from) going first.
func TestSumCacheRangesBoundAndLRU(t *testing.T) {
	rng := func(i int) sumRange { return sumRange{1, scBase, scBase + int64(i+1)*3600} }
	for _, used := range []string{"looked up", "derived from"} {
		var c sumCache
		gen := c.begin(scTime(scBase + 1000*3600))
		fill := func(i int) { c.fill(rng(i), gen, []string{"mon_a"}, map[string]counts{"mon_a": {probes: int64(i)}}) }
		for i := range sumCacheRanges {
			fill(i)
		}
		// Segment 5 becomes the most recently used.
		if used == "looked up" {
			got := map[string]counts{}
			if missing := c.lookup(rng(5), []string{"mon_a", "mon_b"}, got); !slices.Equal(missing, []string{"mon_b"}) || got["mon_a"].probes != 5 {
				t.Fatalf("lookup of segment 5: missing %v, got %+v", missing, got)
			}
		} else {
			// The nearest to a segment one hour longer.
			base, sums, ok := c.near(sumRange{1, scBase - 3600, scBase + 6*3600}, 3600, []string{"mon_a"})
			if !ok || base != rng(5) || sums["mon_a"].probes != 5 {
				t.Fatalf("near: %+v %+v %v, want segment 5", base, sums, ok)
			}
		}
		for i := sumCacheRanges; i < 2*sumCacheRanges-1; i++ {
			fill(i)
			if len(c.ranges) != sumCacheRanges {
				t.Fatalf("after filling segment %d: %d segments kept, want %d", i, len(c.ranges), sumCacheRanges)
			}
		}
		for i := range 2*sumCacheRanges - 1 {
			kept := c.ranges[rng(i)] != nil
			if want := i == 5 || i >= sumCacheRanges; kept != want {
				t.Errorf("segment 5 %s: segment %d kept %v, want %v (the least recently used go first)", used, i, kept, want)
			}
		}
	}
}

// TestSumCacheRefusesOvertakenFills: a fill is refused when a write may
// have changed its segment since the read began (the generation moved),
// and a raw minute is kept only when it is closed (before the bound begin
// set).
func TestSumCacheRefusesOvertakenFills(t *testing.T) {
	ids := []string{"mon_a"}
	sums := map[string]counts{"mon_a": {probes: 3}}
	seg := sumRange{0, scBase, scBase + 600}
	cached := func(c *sumCache) bool {
		return len(c.lookup(seg, ids, map[string]counts{})) == 0
	}
	// The minute bound is scBase+1200: a result in the minute that starts
	// there lands in an open bucket and overtakes nothing.
	to := scTime(scBase + 1200 + 30)
	var c sumCache
	gen := c.begin(to)
	c.touched([]api.ProbeResult{{MonitorID: "mon_b", Time: scTime(scBase + 1200)}}, nil)
	c.fill(seg, gen, ids, sums)
	if !cached(&c) {
		t.Error("a result in an open bucket refused the fill")
	}
	// A late result in a closed bucket (even of another monitor) moves
	// the generation: a fill begun before it is refused.
	c = sumCache{}
	gen = c.begin(to)
	c.touched([]api.ProbeResult{{MonitorID: "mon_b", Time: scTime(scBase + 1199)}}, nil)
	c.fill(seg, gen, ids, sums)
	if cached(&c) {
		t.Error("a fill overtaken by a late result was cached")
	}
	c = sumCache{}
	gen = c.begin(to)
	c.touched(nil, []MissedRun{{MonitorID: "mon_b", Time: scTime(scBase + 5)}})
	c.fill(seg, gen, ids, sums)
	if cached(&c) {
		t.Error("a fill overtaken by a late missed run was cached")
	}
	// Any other write clears the cache and moves the generation; a late
	// result and a clear together never bring it back to where it was,
	// in either tier.
	for _, tc := range []struct {
		seg  sumRange
		late int64
	}{{seg, scBase + 60}, {sumRange{1, scBase - 7200, scBase}, scBase - 60}} {
		for _, order := range []string{"touched, clear", "clear, touched"} {
			c = sumCache{}
			gen = c.begin(to)
			late := func() { c.touched([]api.ProbeResult{{MonitorID: "mon_b", Time: scTime(tc.late)}}, nil) }
			if order == "touched, clear" {
				late()
				c.clear()
			} else {
				c.clear()
				late()
			}
			in := func() bool { return len(c.lookup(tc.seg, ids, map[string]counts{})) == 0 }
			c.fill(tc.seg, gen, ids, sums)
			if in() {
				t.Errorf("tier %d, %s: a fill begun before both was cached", tc.seg.tier, order)
			}
			c.fill(tc.seg, c.begin(to), ids, sums)
			if !in() {
				t.Errorf("tier %d, %s: a fill begun after both was refused", tc.seg.tier, order)
			}
		}
	}
	// The raw rows of a minute are kept only once it has closed.
	c = sumCache{}
	gen = c.begin(to) // minute bound scBase+1200
	rows := map[string][]rawRow{"mon_a": {{micros: (scBase + 1140) * 1_000_000, outcome: 1}}}
	for _, m := range []struct {
		start int64
		keep  bool
	}{{scBase + 1140, true}, {scBase + 1200, false}, {scBase + 1260, false}} {
		c.rawFill(m.start, gen, ids, rows)
		if kept := c.minutes[m.start] != nil; kept != m.keep {
			t.Errorf("raw minute %d s after the hour kept %v, want %v", m.start-scBase, kept, m.keep)
		}
	}
	c.touched([]api.ProbeResult{{MonitorID: "mon_b", Time: scTime(scBase + 10)}}, nil)
	c.rawFill(scBase+60, gen, ids, rows)
	if c.minutes[scBase+60] != nil {
		t.Error("a raw minute filled after a late result was kept")
	}
}

// TestSumCacheTouchedEvictsWhatChanged: a late result evicts its monitor's
// sums of exactly the segments (of either tier) holding its bucket, and
// its monitor's raw rows of its minute.
func TestSumCacheTouchedEvictsWhatChanged(t *testing.T) {
	var c sumCache
	gen := c.begin(scTime(scBase + 3*3600))
	ids := []string{"mon_a", "mon_b"}
	sums := map[string]counts{"mon_a": {probes: 1}, "mon_b": {probes: 2}}
	segs := []sumRange{
		{0, scBase, scBase + 600},         // ends where the result's minute starts
		{0, scBase + 600, scBase + 1200},  // starts with it
		{0, scBase + 660, scBase + 1200},  // starts after it
		{1, scBase - 3600, scBase},        // the hour before
		{1, scBase, scBase + 3600},        // its hour
		{1, scBase + 3600, scBase + 7200}, // the hour after
	}
	for _, r := range segs {
		c.fill(r, gen, ids, sums)
	}
	rows := map[string][]rawRow{"mon_a": {{micros: (scBase + 600) * 1_000_000, outcome: 1}}, "mon_b": nil}
	c.rawFill(scBase+600, gen, ids, rows)
	c.rawFill(scBase+540, gen, ids, rows)
	c.touched([]api.ProbeResult{{MonitorID: "mon_a", Time: scTime(scBase + 600 + 15)}}, nil)
	for i, r := range segs {
		missing := c.lookup(r, ids, map[string]counts{})
		var want []string
		if i == 1 || i == 4 {
			want = []string{"mon_a"}
		}
		if !slices.Equal(missing, want) {
			t.Errorf("segment %+v: missing %v, want %v", r, missing, want)
		}
	}
	for _, m := range []struct {
		start int64
		want  []string
	}{{scBase + 600, []string{"mon_a"}}, {scBase + 540, nil}} {
		missing := c.rawLookup(m.start, ids, m.start*1_000_000, (m.start+60)*1_000_000, map[string]counts{})
		if !slices.Equal(missing, m.want) {
			t.Errorf("raw minute %d s after the hour: missing %v, want %v", m.start-scBase, missing, m.want)
		}
	}
}

// TestSumCacheNearPicksTheCheapest: near derives from the cached segment
// of the same tier whose ends are the fewest buckets away, counting
// sumSeekCost per end that differs, and only if that costs less than
// reading the segment in full; never from the segment itself.
func TestSumCacheNearPicksTheCheapest(t *testing.T) {
	const m = int64(60)
	hourLong := sumRange{0, scBase, scBase + 60*m}   // full read: 60 + 8
	tenMinutes := sumRange{0, scBase, scBase + 10*m} // full read: 10 + 8
	for _, c := range []struct {
		name   string
		cached []sumRange
		r      sumRange
		want   sumRange // zero: none
	}{
		{"nothing cached", nil, hourLong, sumRange{}},
		{"another tier only", []sumRange{{1, scBase, scBase + 3600}}, hourLong, sumRange{}},
		{"itself only", []sumRange{hourLong}, hourLong, sumRange{}},
		{"both ends a minute off", []sumRange{{0, scBase + m, scBase + 61*m}}, hourLong, sumRange{0, scBase + m, scBase + 61*m}},
		{
			"one end off beats both ends off",
			[]sumRange{{0, scBase + m, scBase + 61*m}, {0, scBase, scBase + 61*m}, hourLong},
			hourLong, sumRange{0, scBase, scBase + 61*m},
		},
		{
			"one end a minute off beats one end ten minutes off, earlier",
			[]sumRange{{0, scBase - 10*m, scBase + 60*m}, {0, scBase, scBase + 61*m}},
			hourLong, sumRange{0, scBase, scBase + 61*m},
		},
		{"one end off, short segment", []sumRange{{0, scBase, scBase + 11*m}}, tenMinutes, sumRange{0, scBase, scBase + 11*m}},
		{"costs as much as a full read", []sumRange{{0, scBase + m, scBase + 11*m}}, tenMinutes, sumRange{}},
		{"costs more than a full read", []sumRange{{0, scBase + 5*m, scBase + 15*m}}, tenMinutes, sumRange{}},
	} {
		var sc sumCache
		gen := sc.begin(scTime(scBase + 100*3600))
		for i, r := range c.cached {
			sc.fill(r, gen, []string{"mon_a", "mon_b"}, map[string]counts{"mon_a": {probes: int64(i + 1)}})
		}
		got, sums, ok := sc.near(c.r, m, []string{"mon_a", "mon_c"})
		if ok != (c.want != sumRange{}) || got != c.want {
			t.Errorf("%s: near %+v, %v; want %+v", c.name, got, ok, c.want)
			continue
		}
		if !ok {
			continue
		}
		i := slices.Index(c.cached, c.want)
		if want := map[string]counts{"mon_a": {probes: int64(i + 1)}}; !maps.Equal(sums, want) {
			t.Errorf("%s: sums %+v, want %+v (only the monitors asked for that it has)", c.name, sums, want)
		}
	}
}
