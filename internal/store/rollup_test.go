package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// TestRollerWritesClosedMinutes: the rollups of a minute are written once
// it closed, rollChunk monitors per batch; results that arrive for a part
// already written are merged into the rows, the others join the memory; a
// store reopened (memory lost) in the middle of a minute rebuilds it from
// the raw results without counting anything twice or losing it; every
// window reads the same figures before, during and after.
func TestRollerWritesClosedMinutes(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "aio.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	m0 := time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)
	const n = 2*rollChunk + 7
	id := monID
	res := func(i int, at time.Time, lat float64) api.ProbeResult {
		out := api.OutcomeUp
		if i%5 == 0 {
			out = api.OutcomeDown
		}
		return api.ProbeResult{MonitorID: id(i), Time: at, Outcome: out, LatencyMS: lat, Attempts: 1 + i%2, BytesReceived: 10}
	}
	write := func(s *SQLite, rs []api.ProbeResult, missed []MissedRun) {
		t.Helper()
		for len(rs) > 0 {
			k := min(len(rs), writerBatch)
			if err := s.WriteResults(ctx, rs[:k], missed); err != nil {
				t.Fatal(err)
			}
			rs, missed = rs[k:], nil
		}
	}
	// Two results a monitor in minute m0, a missed run for some.
	var rs []api.ProbeResult
	var missed []MissedRun
	for i := range n {
		rs = append(rs, res(i, m0.Add(5*time.Second), float64(i%90)+0.5), res(i, m0.Add(35*time.Second), 3.25))
		if i%7 == 0 {
			missed = append(missed, MissedRun{MonitorID: id(i), Time: m0.Add(45 * time.Second)})
		}
	}
	write(s, rs, missed)
	// late counts each monitor's results of m0 written after it closed,
	// later those of the next minutes.
	late, later := map[int]int{}, map[int]int{}
	window := func(s *SQLite, label string) {
		t.Helper()
		// Every monitor's minute m0 and its hour, as MonitorStatus and
		// WindowRollups and WindowCounts read them, against the raw
		// results counted here.
		ids := make([]string, n+1)
		for i := range n + 1 {
			ids[i] = id(i)
		}
		for _, w := range [][2]time.Time{{m0, m0.Add(time.Minute)}, {m0.Truncate(time.Hour), m0.Truncate(time.Hour).Add(2 * time.Hour)}} {
			many, err := s.WindowRollups(ctx, ids, w[0], w[1])
			if err != nil {
				t.Fatal(err)
			}
			counts, err := s.WindowCounts(ctx, ids, w[0], w[1])
			if err != nil {
				t.Fatal(err)
			}
			for i := range n + 1 {
				want := int64(late[i])
				if i < n {
					want += 2
				}
				var wantMissed int64
				if i%7 == 0 {
					wantMissed = 1
				}
				if w[1].Sub(w[0]) > time.Minute {
					want += int64(later[i])
				}
				got := many[id(i)]
				if got.Probes != want || got.Missed != wantMissed || int64(got.Latency.Count()) != want || counts[id(i)].Probes != want ||
					counts[id(i)].Missed != wantMissed {
					t.Fatalf("%s: %s %v–%v: %d probes (counts %d), %d missed, histogram %d; want %d probes, %d missed", label, id(i),
						w[0], w[1], got.Probes, counts[id(i)].Probes, got.Missed, got.Latency.Count(), want, wantMissed)
				}
			}
			one, _, err := s.MonitorStatus(ctx, id(3), w[0], w[1])
			if err != nil {
				t.Fatal(err)
			}
			if one.Probes != many[id(3)].Probes || one.LatencySumMS != many[id(3)].LatencySumMS {
				t.Fatalf("%s: MonitorStatus %+v, WindowRollups %+v", label, one, many[id(3)])
			}
		}
	}
	window(s, "before the minute closed")
	var progress [2]int64
	readProgress := func(s *SQLite) {
		t.Helper()
		if err := s.reader.QueryRowContext(ctx, `SELECT minute, next_key FROM rollup_progress`).Scan(&progress[0], &progress[1]); err != nil {
			t.Fatal(err)
		}
	}
	readProgress(s)
	if progress[0] > m0.Unix() {
		t.Fatalf("minute m0 written before it closed: progress %v", progress)
	}

	// A result past m0's end and the grace closes it: one batch writes
	// rollChunk monitors' rows.
	write(s, []api.ProbeResult{res(1, m0.Add(time.Minute+rollGrace+time.Second), 1)}, nil)
	later[1]++
	readProgress(s)
	var rows int
	if err := s.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM rollups_minute WHERE bucket_start = ?`, m0.Unix()).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if progress[0] != m0.Unix() || progress[1] == 0 || rows != rollChunk {
		t.Fatalf("after one closing batch: progress %v, %d minute rows; want minute %d, a next key, %d rows", progress, rows, m0.Unix(), rollChunk)
	}
	window(s, "one chunk written")

	// Late results of m0: one of a monitor written already (merged into
	// its rows), one of a monitor not yet written (into memory).
	write(s, []api.ProbeResult{res(0, m0.Add(50*time.Second), 7), res(n-1, m0.Add(55*time.Second), 8)}, nil)
	late[0]++
	late[n-1]++
	window(s, "late results")

	// The process ends with the minute half written: the memory is lost.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openSQLite(t, path)
	window(s, "reopened")
	// Batches go on; the rest of m0 is written, in chunks. Between them,
	// a late result of a monitor new to the minute, with the highest key:
	// it joins the keys still to write.
	for k := range 3 {
		write(s, []api.ProbeResult{res(2, m0.Add(time.Minute+rollGrace+time.Duration(2+k)*time.Second), 1)}, nil)
		later[2]++
		if k == 0 {
			write(s, []api.ProbeResult{res(n, m0.Add(58*time.Second), 9)}, nil)
			late[n]++
			window(s, "a new monitor's late result")
		}
	}
	readProgress(s)
	if progress[0] != m0.Add(time.Minute).Unix() {
		t.Fatalf("m0 should be written by now: progress %v", progress)
	}
	window(s, "m0 written")
	// Every row of m0: exactly what the raw results and missed runs add
	// up to, and the hour row the same.
	var wrong int
	if err := s.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM (
			SELECT monitor_key, COUNT(*) AS n FROM probe_results WHERE time >= ? AND time < ? GROUP BY monitor_key) r
		LEFT JOIN rollups_minute m ON m.monitor_key = r.monitor_key AND m.bucket_start = ?
		LEFT JOIN rollups_hour h ON h.monitor_key = r.monitor_key AND h.bucket_start = ?
		WHERE m.probes IS NOT r.n OR h.probes IS NOT r.n`,
		m0.UnixMicro(), m0.Add(time.Minute).UnixMicro(), m0.Unix(), m0.Truncate(time.Hour).Unix()).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Fatalf("%d monitors' rollups of m0 differ from their raw results", wrong)
	}

	// Deleting raw results by age writes the rollups they are in first.
	if _, err := s.DeleteResultsBefore(ctx, TierRaw, m0.Add(2*time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := s.DeleteResultsBefore(ctx, TierRaw, m0.Add(2*time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	window(s, "raw results deleted")
	// ... but no further than the minute after the newest result: later
	// results of the current minute still join the memory.
	readProgress(s)
	if want := m0.Add(2 * time.Minute).Unix(); progress[0] != want {
		t.Fatalf("after deleting up to 2 h ahead: progress %v, want minute %d", progress, want)
	}
}

// writerBatch is the results writer's batch (results.DefaultMaxBatch;
// package results imports this one).
const writerBatch = 500

// TestRollerWaitsOutTheGrace: a minute's rollups are written only once a
// result rollGrace past its end arrives, not at its end: a result that
// started in the minute may reach the writer up to a second after it,
// and one that arrives before the rows are written joins the memory
// instead of a read-merge-write of stored rows.
func TestRollerWaitsOutTheGrace(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	m0 := time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)
	res := func(at time.Time) api.ProbeResult {
		return api.ProbeResult{MonitorID: "mon_a", Time: at, Outcome: api.OutcomeUp, LatencyMS: 2, Attempts: 1}
	}
	rows := func() int {
		t.Helper()
		var n int
		if err := s.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM rollups_minute WHERE bucket_start = ?`, m0.Unix()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, step := range []struct {
		at   time.Time
		rows int
	}{
		{m0.Add(5 * time.Second), 0},
		// The minute has ended, but not its grace.
		{m0.Add(time.Minute + time.Second), 0},
		{m0.Add(time.Minute + rollGrace - time.Microsecond), 0},
		// Exactly the grace after its end: written.
		{m0.Add(time.Minute + rollGrace), 1},
	} {
		if err := s.WriteResults(ctx, []api.ProbeResult{res(step.at)}, nil); err != nil {
			t.Fatal(err)
		}
		if got := rows(); got != step.rows {
			t.Fatalf("after a result at m0+%v: %d rollup rows of m0, want %d", step.at.Sub(m0), got, step.rows)
		}
	}
}

// TestFloorDivRoundsDown: the minute and hour of a time are the floor of
// its Unix time, before 1970 (negative) too, where Go's division rounds
// toward zero instead.
func TestFloorDivRoundsDown(t *testing.T) {
	for _, c := range []struct{ a, b, want int64 }{
		{0, 60, 0}, {59, 60, 0}, {60, 60, 1}, {119, 60, 1},
		{-1, 60, -1}, {-59, 60, -1}, {-60, 60, -1}, {-61, 60, -2}, {-120, 60, -2},
		{-1, 3600, -1}, {-3600, 3600, -1},
	} {
		if got := floorDiv(c.a, c.b); got != c.want {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	for _, c := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(-1, 0), -60},
		{time.Unix(-60, 0), -60},
		{time.Unix(-61, 500), -120},
		{time.Unix(0, 0), 0},
		{time.Unix(61, 0), 60},
	} {
		if got := minuteOf(c.t); got != c.want {
			t.Errorf("minuteOf(%v) = %d, want %d", c.t.UTC(), got, c.want)
		}
	}
}

// Deleting a monitor's data drops its rollups not yet written and nothing
// else: another monitor's results in the same open minute are still
// rolled up when the minute closes.
func TestDeletingAMonitorKeepsOthersOpenMinute(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	m0 := time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)
	if err := s.WriteResults(ctx, []api.ProbeResult{upAt("mon_a", m0.Add(5*time.Second)), upAt("mon_b", m0.Add(6*time.Second))}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMonitorData(ctx, "mon_a"); err != nil {
		t.Fatal(err)
	}
	// mon_b's next result closes minute m0.
	if err := s.WriteResults(ctx, []api.ProbeResult{upAt("mon_b", m0.Add(time.Minute+rollGrace))}, nil); err != nil {
		t.Fatal(err)
	}
	var ids []string
	rows, err := s.reader.QueryContext(ctx, `SELECT m.monitor_id FROM rollups_minute r JOIN result_monitors m ON m.key = r.monitor_key WHERE r.bucket_start = ?`, m0.Unix())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{"mon_b"}) {
		t.Errorf("minute m0 rolled up for %v, want [mon_b]", ids)
	}
}

// A monitor deleted while its minute is half written (rollChunk monitors a
// results write) leaves the rest of the minute's order: the minute goes on
// with the other monitors and writes nothing for the deleted one.
func TestDeletingAMonitorMidMinute(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	m0 := time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)
	const n = rollChunk + 20
	var rs []api.ProbeResult
	for i := range n {
		rs = append(rs, upAt(monID(i), m0.Add(5*time.Second)))
	}
	if err := s.WriteResults(ctx, rs, nil); err != nil {
		t.Fatal(err)
	}
	// The minute closes: this write rolls up its first rollChunk monitors
	// (in key order, which is the order of first results here).
	if err := s.WriteResults(ctx, []api.ProbeResult{upAt(monID(0), m0.Add(time.Minute+rollGrace))}, nil); err != nil {
		t.Fatal(err)
	}
	gone := monID(n - 5) // among the monitors not yet written
	if err := s.DeleteMonitorData(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteResults(ctx, []api.ProbeResult{upAt(monID(1), m0.Add(time.Minute+rollGrace+time.Second))}, nil); err != nil {
		t.Fatal(err)
	}
	var rolled, ofGone int
	if err := s.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM rollups_minute WHERE bucket_start = ?`, m0.Unix()).Scan(&rolled); err != nil {
		t.Fatal(err)
	}
	if err := s.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM rollups_minute r JOIN result_monitors m ON m.key = r.monitor_key
		WHERE r.bucket_start = ? AND m.monitor_id = ?`, m0.Unix(), gone).Scan(&ofGone); err != nil {
		t.Fatal(err)
	}
	if rolled != n-1 || ofGone != 0 {
		t.Errorf("minute m0 rolled up for %d monitors (%d of the deleted one), want %d and 0", rolled, ofGone, n-1)
	}
}

// monID names the i-th monitor of a rollup test.
func monID(i int) string { return fmt.Sprintf("mon_%05d", i) }

// upAt is an up result of monitor id at at.
func upAt(id string, at time.Time) api.ProbeResult {
	return api.ProbeResult{MonitorID: id, Time: at, Outcome: api.OutcomeUp, LatencyMS: 2, Attempts: 1}
}

// minuteRows reads the rollup rows of minute m themselves (a window read
// counts raw results for recent windows) and the probes they count.
func minuteRows(t *testing.T, s *SQLite, m time.Time) (rows, probes int) {
	t.Helper()
	if err := s.reader.QueryRowContext(t.Context(), `SELECT COUNT(*), COALESCE(SUM(probes), 0) FROM rollups_minute WHERE bucket_start = ?`, m.Unix()).Scan(&rows, &probes); err != nil {
		t.Fatal(err)
	}
	return rows, probes
}

// A minute being rolled up when aiod stops is finished after a restart,
// each monitor's rollup written once: the progress saved names the minute
// being written and the next key (half written, more monitors than one
// write's rollChunk), or the next minute (finished exactly on a write's
// last chunk), so the monitors already written are not written again from
// the raw results.
func TestRollerResumesAfterARestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
	}{{"half written", rollChunk + 20}, {"finished on the last chunk", rollChunk}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "aio.db")
			s, err := OpenSQLite(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			m0 := time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)
			var rs []api.ProbeResult
			for i := range tc.n {
				rs = append(rs, upAt(monID(i), m0.Add(5*time.Second)))
			}
			if err := s.WriteResults(ctx, rs, nil); err != nil {
				t.Fatal(err)
			}
			// Closes m0 and writes its first rollChunk monitors.
			if err := s.WriteResults(ctx, []api.ProbeResult{upAt(monID(0), m0.Add(time.Minute+rollGrace))}, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openSQLite(t, path)
			if err := s.WriteResults(ctx, []api.ProbeResult{upAt(monID(1), m0.Add(2*time.Minute+rollGrace))}, nil); err != nil {
				t.Fatal(err)
			}
			if rows, probes := minuteRows(t, s, m0); rows != tc.n || probes != tc.n {
				t.Errorf("minute m0: %d rollup rows counting %d probes, want %d and %d", rows, probes, tc.n, tc.n)
			}
		})
	}
}

// A retention delete of results that comes before any results write since
// aiod started reads the roller's memory from the database first: it keeps
// the rollup progress where it was (a delete that deletes nothing must not
// send it back, or the minutes already written are written again), and it
// writes the open minutes it deletes the raw results of before deleting
// them (after another restart, nothing else would).
func TestRetentionDeleteAfterARestartKeepsTheRollups(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "aio.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	reopen := func() {
		t.Helper()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if s, err = OpenSQLite(ctx, path); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = s.Close() })
	m0 := time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)
	write := func(at time.Time) {
		t.Helper()
		if err := s.WriteResults(ctx, []api.ProbeResult{upAt("mon_a", at)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	del := func(before time.Time) {
		t.Helper()
		if _, err := s.RetentionDelete(ctx, RetentionSelector{DataKind: api.DataProbeResults, Before: before}, 0); err != nil {
			t.Fatal(err)
		}
	}
	// Minute m0 written (closed by the result of m0+1), m0+1 open.
	write(m0.Add(5 * time.Second))
	write(m0.Add(time.Minute + rollGrace))
	reopen()
	del(m0.Add(-time.Hour)) // deletes nothing
	write(m0.Add(time.Minute + rollGrace + time.Second))
	if rows, probes := minuteRows(t, s, m0); rows != 1 || probes != 1 {
		t.Errorf("after a delete of nothing: minute m0 has %d rollup rows counting %d probes, want 1 and 1", rows, probes)
	}
	reopen()
	// Deletes the raw results of m0 and of the open m0+1.
	del(m0.Add(2 * time.Minute))
	reopen()
	write(m0.Add(3*time.Minute + rollGrace))
	if rows, probes := minuteRows(t, s, m0.Add(time.Minute)); rows != 1 || probes != 2 {
		t.Errorf("minute m0+1, its raw results deleted: %d rollup rows counting %d probes, want 1 and 2", rows, probes)
	}
}

// refuse makes the writer's connection refuse op (INSERT, UPDATE or
// DELETE) on table, with the message "refused by the test", until the
// returned function is called.
func refuse(t *testing.T, s *SQLite, op, table string) (allow func()) {
	t.Helper()
	name := "refuse_" + strings.ToLower(op) + "_" + table
	if _, err := s.writer.ExecContext(t.Context(), `CREATE TEMP TRIGGER `+name+` BEFORE `+op+` ON `+table+
		` BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if _, err := s.writer.ExecContext(t.Context(), `DROP TRIGGER `+name); err != nil {
			t.Fatal(err)
		}
	}
}

// openMinute stores one up result of each of n monitors in minute m, which
// stays open (its rollups in the roller's memory only).
func openMinute(t *testing.T, s *SQLite, m time.Time, n int) {
	t.Helper()
	var rs []api.ProbeResult
	for i := range n {
		rs = append(rs, upAt(monID(i), m.Add(5*time.Second)))
	}
	if err := s.WriteResults(t.Context(), rs, nil); err != nil {
		t.Fatal(err)
	}
}

// refusedError fails the test unless err is the refusal of refuse.
func refusedError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), "refused by the test") {
		t.Fatalf("%s with a statement refused: %v, want the refusal", what, err)
	}
}

// A WriteRollups whose transaction fails after the roller took the
// minute's rollups out of its memory (here the progress update is refused
// by a trigger on the writer's connection) has written nothing, so the
// roller must forget what it thought it wrote: the next WriteRollups
// writes every monitor's rollup of the minute from the raw results.
func TestWriteRollupsAfterAFailedWriteWritesThemAll(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	m0 := time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)
	const n = 50
	openMinute(t, s, m0, n)
	allow := refuse(t, s, "UPDATE", "rollup_progress")
	refusedError(t, "WriteRollups", s.WriteRollups(ctx, m0.Add(time.Minute)))
	if rows, _ := minuteRows(t, s, m0); rows != 0 {
		t.Fatalf("a failed WriteRollups left %d rollup rows", rows)
	}
	allow()
	if err := s.WriteRollups(ctx, m0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if rows, probes := minuteRows(t, s, m0); rows != n || probes != n {
		t.Errorf("minute m0 after the retry: %d rollup rows counting %d probes, want %d and %d", rows, probes, n, n)
	}
}

// Deletes that fail after the roller's memory moved on forget that memory
// too, so that what the rolled-back transaction took from it is rolled up
// later from the raw results: a delete by age (whose transaction first
// rolls up the minutes it deletes), a delete of some monitors' data by
// age, a delete of one monitor's data (which drops that monitor's open
// minute from memory) and a retention policy's delete of raw results.
func TestFailedDeletesKeepTheOpenMinutes(t *testing.T) {
	m0 := time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)
	const n = 20
	for _, tc := range []struct {
		name string
		del  func(ctx context.Context, s *SQLite) error
	}{
		{"DeleteResultsBefore", func(ctx context.Context, s *SQLite) error {
			_, err := s.DeleteResultsBefore(ctx, TierRaw, m0.Add(time.Minute), 1000)
			return err
		}},
		{"DeleteMonitorResultsBefore", func(ctx context.Context, s *SQLite) error {
			_, err := s.DeleteMonitorResultsBefore(ctx, TierRaw, []string{monID(0)}, m0.Add(time.Minute), 1000)
			return err
		}},
		{"DeleteMonitorData", func(ctx context.Context, s *SQLite) error {
			return s.DeleteMonitorData(ctx, monID(0))
		}},
		{"RetentionDelete", func(ctx context.Context, s *SQLite) error {
			_, err := s.RetentionDelete(ctx, RetentionSelector{DataKind: api.DataProbeResults, Before: m0.Add(time.Minute)}, 1000)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
			openMinute(t, s, m0, n)
			allow := refuse(t, s, "DELETE", "probe_results")
			refusedError(t, tc.name, tc.del(ctx, s))
			allow()
			if err := s.WriteRollups(ctx, m0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if rows, probes := minuteRows(t, s, m0); rows != n || probes != n {
				t.Errorf("minute m0 after the failed delete: %d rollup rows counting %d probes, want %d and %d", rows, probes, n, n)
			}
		})
	}
}
