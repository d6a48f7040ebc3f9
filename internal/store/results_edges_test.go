package store

// Edges of the result store that the contract's fixture does not reach:
// bounds between two stored microseconds or seconds, late results of more
// monitors than one statement takes, a yielding write with nothing
// waiting, the writer's key cache and the grace before a minute's rollups
// are written. Each pins down a behaviour that a mutant of results.go
// (make mutate, issue 14) changed without any other test noticing.

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// TestContractResultEdges runs the edge scenarios on every backend.
func TestContractResultEdges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, sc := range []struct {
			name string
			run  func(t *testing.T, s Store)
		}{
			{"SubMicrosecondBounds", testResultsSubMicrosecondBounds},
			{"SubSecondRollupBounds", testResultsSubSecondRollupBounds},
			{"LateResultsOfManyMonitors", testResultsLateResultsOfManyMonitors},
			{"StateOfAnUnorderedBatch", testResultsStateOfAnUnorderedBatch},
		} {
			t.Run(sc.name, func(t *testing.T) { sc.run(t, b.newStore(t)) })
		}
	})
}

// testResultsSubMicrosecondBounds: results are stored to the microsecond,
// and a bound between two microseconds selects what the bound itself
// would: "time >= since" and "time < until" round the bound up, never
// down, in the listing, the figures of a window and the delete by age.
func testResultsSubMicrosecondBounds(t *testing.T, s Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 4, 1, 8, 0, 10, 7000, time.UTC) // 7 µs past the second
	at := []time.Time{t0, t0.Add(time.Microsecond), t0.Add(2 * time.Microsecond)}
	var rs []api.ProbeResult
	for i, tm := range at {
		rs = append(rs, api.ProbeResult{MonitorID: resA, Time: tm, Outcome: []string{api.OutcomeUp, api.OutcomeDown, api.OutcomeUp}[i],
			LatencyMS: float64(i + 1), Attempts: 1})
	}
	resWrite(t, s, rs, []MissedRun{{MonitorID: resA, Time: at[0]}})
	half := 500 * time.Nanosecond

	// [t0 + 0.5 µs, t1 + 0.5 µs) holds t1 alone.
	page, _ := resList(t, s, resA, ResultQuery{Since: at[0].Add(half), Until: at[1].Add(half)})
	if len(page) != 1 || !page[0].Time.Equal(at[1]) {
		t.Errorf("Since t0+0.5µs, Until t1+0.5µs should've listed the result at t1 alone, got %d: %+v", len(page), page)
	}
	r, _ := resStatus(t, s, resA, at[0].Add(half), at[1].Add(half))
	resCheckCounts(t, "[t0+0.5µs, t1+0.5µs)", r, resCounts{probes: 1, down: 1})
	counts, err := s.WindowCounts(ctx, []string{resA}, at[0].Add(half), at[1].Add(half))
	if err != nil {
		t.Fatal(err)
	}
	if c := counts[resA]; c == nil || c.Probes != 1 || c.Down != 1 || c.Missed != 0 {
		t.Errorf("WindowCounts over [t0+0.5µs, t1+0.5µs) should've counted the down result at t1 alone, got %+v", c)
	}

	// Deleting before t0 + 0.5 µs deletes the result and the missed run
	// at t0, and nothing else.
	if n, err := s.DeleteResultsBefore(ctx, TierRaw, at[0].Add(half), 0); err != nil || n != 2 {
		t.Errorf("DeleteResultsBefore(raw, t0+0.5µs) should've deleted 2 rows, got %d, %v", n, err)
	}
	if page, _ = resList(t, s, resA, ResultQuery{}); len(page) != 2 || !page[0].Time.Equal(at[1]) {
		t.Errorf("the results at t1 and t2 should've been left, got %d: %+v", len(page), page)
	}
}

// testResultsSubSecondRollupBounds: rollup buckets start on whole seconds,
// and a delete by age before a time just past a bucket's start deletes
// that bucket, in both rollup tiers, for every monitor or for some.
func testResultsSubSecondRollupBounds(t *testing.T, s Store) {
	ctx := t.Context()
	h0 := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	var rs []api.ProbeResult
	for _, id := range []string{resA, resB} {
		for _, tm := range []time.Time{h0.Add(10 * time.Second), h0.Add(70 * time.Second), h0.Add(time.Hour + 10*time.Second)} {
			rs = append(rs, api.ProbeResult{MonitorID: id, Time: tm, Outcome: api.OutcomeUp, LatencyMS: 1, Attempts: 1})
		}
	}
	resWrite(t, s, rs, nil)
	half := 500 * time.Millisecond

	// resA's minutes h0 and h0+1m start before h0+1m+0.5s; its minute
	// h0+1h does not.
	if n, err := s.DeleteMonitorResultsBefore(ctx, TierMinute, []string{resA}, h0.Add(time.Minute+half), 0); err != nil || n != 2 {
		t.Errorf("DeleteMonitorResultsBefore(minute, resA, h0+1m+0.5s) should've deleted 2 rows, got %d, %v", n, err)
	}
	// Then every monitor's: resB's two.
	if n, err := s.DeleteResultsBefore(ctx, TierMinute, h0.Add(time.Minute+half), 0); err != nil || n != 2 {
		t.Errorf("DeleteResultsBefore(minute, h0+1m+0.5s) should've deleted 2 rows, got %d, %v", n, err)
	}
	// Hours h0 and h0+1h of both start before h0+1h+0.5s.
	if n, err := s.DeleteMonitorResultsBefore(ctx, TierHour, []string{resB}, h0.Add(time.Hour+half), 0); err != nil || n != 2 {
		t.Errorf("DeleteMonitorResultsBefore(hour, resB, h0+1h+0.5s) should've deleted 2 rows, got %d, %v", n, err)
	}
	if n, err := s.DeleteResultsBefore(ctx, TierHour, h0.Add(time.Hour+half), 0); err != nil || n != 2 {
		t.Errorf("DeleteResultsBefore(hour, h0+1h+0.5s) should've deleted 2 rows, got %d, %v", n, err)
	}
}

// testResultsLateResultsOfManyMonitors: late results of more monitors than
// one statement reads or writes (rollupRowsPerRead, resultRowsPerInsert),
// in two closed minutes, are merged into every monitor's rows of both.
func testResultsLateResultsOfManyMonitors(t *testing.T, s Store) {
	ctx := t.Context()
	const n = rollupRowsPerRead + 44
	m0 := time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("mon_%04d", i)
	}
	batch := func(offsets ...time.Duration) []api.ProbeResult {
		var rs []api.ProbeResult
		for _, id := range ids {
			for _, d := range offsets {
				rs = append(rs, api.ProbeResult{MonitorID: id, Time: m0.Add(d), Outcome: api.OutcomeUp, LatencyMS: 2, BytesReceived: 1,
					Attempts: 1})
			}
		}
		return rs
	}
	resWrite(t, s, batch(10*time.Second, 70*time.Second), nil)
	// Deleting the raw results of minutes m0 and m0+1m writes their
	// rollups first; the results that come next for them are late.
	if n, err := s.DeleteResultsBefore(ctx, TierRaw, m0.Add(2*time.Minute), 0); err != nil || n != 2*int64(len(ids)) {
		t.Fatalf("DeleteResultsBefore(raw, m0+2m) should've deleted %d rows, got %d, %v", 2*len(ids), n, err)
	}
	resWrite(t, s, batch(20*time.Second, 80*time.Second), nil)

	for _, w := range [][2]time.Time{{m0, m0.Add(time.Minute)}, {m0.Add(time.Minute), m0.Add(2 * time.Minute)}} {
		counts, err := s.WindowCounts(ctx, ids, w[0], w[1])
		if err != nil {
			t.Fatal(err)
		}
		var wrong []string
		for _, id := range ids {
			if c := counts[id]; c == nil || c.Probes != 2 || c.Up != 2 || c.Bytes != 2 {
				wrong = append(wrong, id)
			}
		}
		if len(wrong) > 0 {
			t.Errorf("minute %s: %d of %d monitors do not count their 2 results (the first %s: %+v)", w[0].Format("15:04"),
				len(wrong), len(ids), wrong[0], counts[wrong[0]])
		}
		for _, id := range []string{ids[0], ids[rollupRowsPerRead-1], ids[rollupRowsPerRead], ids[n-1]} {
			r, _ := resStatus(t, s, id, w[0], w[1])
			if r.Probes != 2 || r.Latency.Count() != 2 || r.LatencySumMS != 4 {
				t.Errorf("minute %s of %s: %d probes, %d latencies summing to %v; want 2, 2 and 4", w[0].Format("15:04"), id,
					r.Probes, r.Latency.Count(), r.LatencySumMS)
			}
		}
	}
}

// testResultsStateOfAnUnorderedBatch: within one batch the state is that
// of the newest result, and the certificate that of the newest result that
// saw one, whatever their order in the batch.
func testResultsStateOfAnUnorderedBatch(t *testing.T, s Store) {
	at := time.Date(2026, 4, 1, 17, 0, 0, 0, time.UTC)
	older, newer := at.Add(30*24*time.Hour), at.Add(60*24*time.Hour)
	resWrite(t, s, []api.ProbeResult{
		{MonitorID: resA, Time: at.Add(20 * time.Second), Outcome: api.OutcomeDegraded, LatencyMS: 1, Attempts: 1, TLSCertExpiresAt: &newer},
		{MonitorID: resA, Time: at.Add(30 * time.Second), Outcome: api.OutcomeDown, LatencyMS: 1, Attempts: 1},
		{MonitorID: resA, Time: at.Add(10 * time.Second), Outcome: api.OutcomeUp, LatencyMS: 1, Attempts: 1, TLSCertExpiresAt: &older},
	}, nil)
	_, st := resStatus(t, s, resA, at, at.Add(time.Minute))
	want := MonitorState{LastCheckedAt: new(at.Add(30 * time.Second)), LastOutcome: new(api.OutcomeDown), TLSCertExpiresAt: &newer}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("state should've been %s, got %s", resDumpState(want), resDumpState(st))
	}
}

// TestWriteResultsYieldingWithNothingWaiting: while no write waits, a
// yielding write stores the whole batch in one transaction, however small
// its piece.
func TestWriteResultsYieldingWithNothingWaiting(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	at := time.Date(2026, 4, 1, 11, 0, 0, 0, time.UTC)
	var rs []api.ProbeResult
	for i := range 7 {
		rs = append(rs, api.ProbeResult{MonitorID: fmt.Sprintf("mon_%d", i%3), Time: at.Add(time.Duration(i) * time.Second),
			Outcome: api.OutcomeUp, Attempts: 1, LatencyMS: 2})
	}
	missed := []MissedRun{{MonitorID: "mon_0", Time: at.Add(20 * time.Second)}, {MonitorID: "mon_1", Time: at.Add(21 * time.Second)}}
	nr, nm, err := s.WriteResultsYielding(t.Context(), rs, missed, 1)
	if err != nil || nr != len(rs) || nm != len(missed) {
		t.Fatalf("with nothing waiting, a yielding write with pieces of 1 stored %d results and %d missed runs (%v), want %d and %d",
			nr, nm, err, len(rs), len(missed))
	}
	page, _ := resList(t, s, "mon_0", ResultQuery{})
	if len(page) != 3 {
		t.Errorf("mon_0 should've had 3 results stored, got %d", len(page))
	}
}

// TestResultKeyCacheHoldsWrittenKeys: once a batch is written, the keys
// of its monitors (those of results and of missed runs) are cached, so
// that the next batch need not look them up; a monitor whose data is
// deleted leaves the cache, the others stay.
func TestResultKeyCacheHoldsWrittenKeys(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	at := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	resWrite(t, s, []api.ProbeResult{{MonitorID: "mon_r", Time: at, Outcome: api.OutcomeUp, LatencyMS: 1, Attempts: 1}},
		[]MissedRun{{MonitorID: "mon_m", Time: at}})
	stored := map[string]int64{}
	rows, err := s.reader.QueryContext(ctx, `SELECT monitor_id, key FROM result_monitors`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			id string
			k  int64
		)
		if err := rows.Scan(&id, &k); err != nil {
			t.Fatal(err)
		}
		stored[id] = k
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	cached := func() map[string]int64 {
		s.keys.mu.Lock()
		defer s.keys.mu.Unlock()
		out := map[string]int64{}
		for id, k := range s.keys.m {
			out[id] = k
		}
		return out
	}
	if got := cached(); len(stored) != 2 || len(got) != 2 || got["mon_r"] != stored["mon_r"] || got["mon_m"] != stored["mon_m"] {
		t.Fatalf("after the first batch the cache should've held the stored keys %v, got %v", stored, got)
	}
	if err := s.DeleteMonitorData(ctx, "mon_r"); err != nil {
		t.Fatal(err)
	}
	if got := cached(); len(got) != 1 || got["mon_m"] != stored["mon_m"] {
		t.Errorf("after deleting mon_r's data the cache should've held mon_m's key alone, got %v", got)
	}
	// Written again, mon_r gets a new key, cached once the batch commits.
	resWrite(t, s, []api.ProbeResult{{MonitorID: "mon_r", Time: at.Add(time.Second), Outcome: api.OutcomeUp, LatencyMS: 1, Attempts: 1}}, nil)
	var k int64
	if err := s.reader.QueryRowContext(ctx, `SELECT key FROM result_monitors WHERE monitor_id = 'mon_r'`).Scan(&k); err != nil {
		t.Fatal(err)
	}
	if got := cached(); got["mon_r"] != k || len(got) != 2 {
		t.Errorf("mon_r's new key %d should've been cached beside mon_m's, got %v", k, got)
	}
}

// TestRollupsWaitOutTheGrace: a minute's rollups are written only once a
// result rollGrace past its end arrives: the results of the minute still
// on their way join the memory instead of being merged into written rows.
func TestRollupsWaitOutTheGrace(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	m0 := time.Date(2026, 4, 1, 13, 0, 0, 0, time.UTC)
	progress := func() int64 {
		t.Helper()
		var m int64
		if err := s.reader.QueryRowContext(ctx, `SELECT minute FROM rollup_progress`).Scan(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, d := range []time.Duration{50 * time.Second, time.Minute + rollGrace - time.Second} {
		resWrite(t, s, []api.ProbeResult{{MonitorID: resA, Time: m0.Add(d), Outcome: api.OutcomeUp, LatencyMS: 1, Attempts: 1}}, nil)
		if p := progress(); p > m0.Unix() {
			t.Fatalf("after a result at m0+%v, minute m0 should've waited for the grace (%v past its end); progress is m0+%ds",
				d, rollGrace, p-m0.Unix())
		}
	}
	resWrite(t, s, []api.ProbeResult{{MonitorID: resA, Time: m0.Add(time.Minute + rollGrace), Outcome: api.OutcomeUp, LatencyMS: 1,
		Attempts: 1}}, nil)
	if p := progress(); p != m0.Add(time.Minute).Unix() {
		t.Errorf("a result at m0+1m+grace should've closed minute m0: progress is m0+%ds", p-m0.Unix())
	}
}

// TestWriteResultsRollsOneChunkPerBatch: a batch of results and missed runs
// that closes a minute writes the rollups of rollChunk monitors of it, not
// more, however the batch divides between results and missed runs: the
// rest of the minute waits for the next batches, so that no batch holds
// the writer for the whole minute's rows.
func TestWriteResultsRollsOneChunkPerBatch(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	m0 := time.Date(2026, 4, 1, 14, 0, 0, 0, time.UTC)
	const n = 2*rollChunk + 50
	var rs []api.ProbeResult
	for i := range n {
		rs = append(rs, api.ProbeResult{MonitorID: fmt.Sprintf("mon_%04d", i), Time: m0.Add(10 * time.Second), Outcome: api.OutcomeUp,
			LatencyMS: 1, Attempts: 1})
	}
	resWrite(t, s, rs, nil)
	closing := []api.ProbeResult{
		{MonitorID: "mon_0000", Time: m0.Add(80 * time.Second), Outcome: api.OutcomeUp, LatencyMS: 1, Attempts: 1},
		{MonitorID: "mon_0001", Time: m0.Add(81 * time.Second), Outcome: api.OutcomeUp, LatencyMS: 1, Attempts: 1},
	}
	resWrite(t, s, closing, []MissedRun{{MonitorID: "mon_0002", Time: m0.Add(82 * time.Second)}})
	var rows int
	if err := s.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM rollups_minute WHERE bucket_start = ?`, m0.Unix()).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != rollChunk {
		t.Errorf("the batch that closed minute m0 should've written %d monitors' rollups of it, got %d", rollChunk, rows)
	}
}

// TestWindowCountsDeriveFromANearbySegment: a window that moved a minute
// forward (or back) has its sums derived from the cached segment next to
// it, reading only the minutes at its ends, not every minute again. To see
// which minutes a read reads, the test changes a minute in the middle of
// both segments behind the store's back (the store never does: every
// write of its own evicts what it changes): a derived read does not see
// the change, a full read would.
func TestWindowCountsDeriveFromANearbySegment(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	h0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	const id = "mon_slide"
	var rs []api.ProbeResult
	for i := range 120 {
		rs = append(rs, api.ProbeResult{MonitorID: id, Time: h0.Add(time.Duration(i)*time.Minute + 10*time.Second),
			Outcome: []string{api.OutcomeUp, api.OutcomeDegraded, api.OutcomeDown}[i%3], LatencyMS: 1, BytesReceived: int64(i), Attempts: 1})
	}
	resWrite(t, s, rs, nil)
	if err := s.WriteRollups(ctx, h0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// want counts the results of [from, to), whole minutes.
	want := func(from, to time.Time) (probes, bytes int64) {
		for _, r := range rs {
			if !r.Time.Before(from) && r.Time.Before(to) {
				probes++
				bytes += r.BytesReceived
			}
		}
		return probes, bytes
	}
	read := func(from, to time.Time) {
		t.Helper()
		got, err := s.WindowCounts(ctx, []string{id}, from, to)
		if err != nil {
			t.Fatal(err)
		}
		p, b := want(from, to)
		if c := got[id]; c == nil || c.Probes != p || c.Bytes != b {
			t.Errorf("[%s, %s): got %+v, want %d probes and %d bytes: the minutes both segments share should've been "+
				"taken from the cached sums, not read again", from.Format("15:04"), to.Format("15:04"), got[id], p, b)
		}
	}
	// A one-hour window of minutes [0:02, 1:02), read in full and cached.
	read(h0.Add(2*time.Minute), h0.Add(62*time.Minute))
	if _, err := s.writer.ExecContext(ctx, `UPDATE rollups_minute SET probes = probes + 1000, bytes = bytes + 1000
		WHERE bucket_start = ?`, h0.Add(30*time.Minute).Unix()); err != nil {
		t.Fatal(err)
	}
	// A minute later: minute 0:02 taken off, minute 1:02 added.
	read(h0.Add(3*time.Minute), h0.Add(63*time.Minute))
	// A minute earlier than the first: minute 0:01 added, 1:01 taken off.
	read(h0.Add(time.Minute), h0.Add(61*time.Minute))
}

// TestDeleteResultsBeforeCountsMissedRunsInTheBatch: a batch of the raw
// tier deletes results first and fills what is left of the limit with
// missed runs, never more than limit rows in all.
func TestDeleteResultsBeforeCountsMissedRunsInTheBatch(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	at := time.Date(2026, 4, 1, 15, 0, 0, 0, time.UTC)
	var missed []MissedRun
	for i := range 5 {
		missed = append(missed, MissedRun{MonitorID: resA, Time: at.Add(time.Duration(10+i) * time.Second)})
	}
	resWrite(t, s, []api.ProbeResult{
		{MonitorID: resA, Time: at, Outcome: api.OutcomeUp, LatencyMS: 1, Attempts: 1},
		{MonitorID: resA, Time: at.Add(time.Second), Outcome: api.OutcomeUp, LatencyMS: 1, Attempts: 1},
	}, missed)
	var calls []int64
	for range 5 {
		n, err := s.DeleteResultsBefore(ctx, TierRaw, at.Add(time.Minute), 4)
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, n)
		if n < 4 {
			break
		}
	}
	if !slices.Equal(calls, []int64{4, 3}) {
		t.Errorf("2 results and 5 missed runs should've been deleted in batches of 4 and 3, got %v", calls)
	}
}

// TestLatestOutcomesOfOrdersByTime: a monitor's latest outcomes are
// newest first by the time of the probe, not by the order in which they
// were stored (a result that waited in a batch is stored after newer ones).
func TestLatestOutcomesOfOrdersByTime(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	at := time.Date(2026, 4, 1, 16, 0, 0, 0, time.UTC)
	resWrite(t, s, []api.ProbeResult{{MonitorID: resA, Time: at.Add(20 * time.Second), Outcome: api.OutcomeDown, LatencyMS: 1, Attempts: 1}}, nil)
	resWrite(t, s, []api.ProbeResult{{MonitorID: resA, Time: at.Add(10 * time.Second), Outcome: api.OutcomeUp, LatencyMS: 1, Attempts: 1}}, nil)
	want := []OutcomeAt{{at.Add(20 * time.Second), api.OutcomeDown}, {at.Add(10 * time.Second), api.OutcomeUp}}
	one, err := s.LatestOutcomes(ctx, resA, 5)
	if err != nil || !slices.Equal(one, want) {
		t.Errorf("LatestOutcomes: %v, %v; want %v", one, err, want)
	}
	many, err := s.LatestOutcomesOf(ctx, []string{resA}, 5)
	if err != nil || !slices.Equal(many[resA], want) {
		t.Errorf("LatestOutcomesOf: %v, %v; want %v", many[resA], err, want)
	}
}
