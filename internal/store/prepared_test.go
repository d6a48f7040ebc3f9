package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// TestWriteResultsPreparedStatements: full pieces of results go through
// the statements prepared once on the writer connection, pieces of other
// sizes do not, and what is stored is the same either way: every result,
// and each monitor's latest state.
func TestWriteResultsPreparedStatements(t *testing.T) {
	s, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "aio.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	batch := resultsOfMonitors
	// 40 results: no full piece of 100, nothing prepared.
	if _, _, err := s.WriteResultsYielding(t.Context(), batch(40, 0, resBase), nil, 100); err != nil {
		t.Fatal(err)
	}
	if n := s.stmts.used.Load(); n != 0 {
		t.Fatalf("%d executions of prepared statements for a batch smaller than a piece", n)
	}
	// 250 results of 250 monitors in pieces of 100: two full pieces, each
	// one INSERT of results and one upsert of states, and a tail of 50.
	second := resBase.Add(time.Second)
	if _, _, err := s.WriteResultsYielding(t.Context(), batch(250, 0, second), nil, 100); err != nil {
		t.Fatal(err)
	}
	if n := s.stmts.used.Load(); n != 4 {
		t.Errorf("%d executions of prepared statements, want 4 (two full pieces, results and states each)", n)
	}
	// The same statements serve the next transaction.
	if _, _, err := s.WriteResultsYielding(t.Context(), batch(100, 0, resBase.Add(2*time.Second)), nil, 100); err != nil {
		t.Fatal(err)
	}
	if n := s.stmts.used.Load(); n != 6 {
		t.Errorf("%d executions of prepared statements after another full piece, want 6", n)
	}
	var results, states int
	if err := s.writer.QueryRowContext(t.Context(), `SELECT count(*) FROM probe_results`).Scan(&results); err != nil {
		t.Fatal(err)
	}
	if err := s.writer.QueryRowContext(t.Context(), `SELECT count(*) FROM monitor_state`).Scan(&states); err != nil {
		t.Fatal(err)
	}
	if results != 390 || states != 250 {
		t.Errorf("%d results and %d monitor states stored, want 390 and 250", results, states)
	}
	// Monitor 99's newest result is from the third batch (at +2s + 99 ms);
	// monitor 100's from the second (+1s + 100 ms).
	for id, want := range map[string]time.Time{"mon_099": resBase.Add(2*time.Second + 99*time.Millisecond), "mon_100": second.Add(100 * time.Millisecond)} {
		var got string
		if err := s.writer.QueryRowContext(t.Context(), `SELECT last_checked_at FROM monitor_state WHERE monitor_id = ?`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != fmtTime(want) {
			t.Errorf("%s: last checked %s, want %s", id, got, fmtTime(want))
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// resultsOfMonitors is n results of monitors mon_<first> to
// mon_<first+n-1>, a millisecond apart from tm.
func resultsOfMonitors(n, first int, tm time.Time) []api.ProbeResult {
	rs := make([]api.ProbeResult, n)
	for i := range rs {
		rs[i] = resProbe(i)
		rs[i].MonitorID = fmt.Sprintf("mon_%03d", first+i)
		rs[i].Time = tm.Add(time.Duration(i) * time.Millisecond)
	}
	return rs
}

// A batch of exactly one full piece, the first a store writes, is written
// with the prepared statements: the piece is full at its size, not only
// past it.
func TestWriteResultsPreparesForExactlyOneFullPiece(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	if _, _, err := s.WriteResultsYielding(t.Context(), resultsOfMonitors(100, 0, resBase), nil, 100); err != nil {
		t.Fatal(err)
	}
	if n := s.stmts.used.Load(); n != 2 {
		t.Errorf("%d executions of prepared statements, want 2 (the piece's results and states)", n)
	}
}

// BenchmarkWriteResultsEngine stores batches as the engine's results
// writer does at 50,000 monitors: 750 results of distinct monitors a
// commit, written 100 at a time (WriteResultsYielding, piece 100), the
// monitors' rollup minutes closing as the time moves on.
func BenchmarkWriteResultsEngine(b *testing.B) {
	s, err := OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "aio.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const monitors, batch = 50000, 750
	ids := make([]string, monitors)
	for i := range ids {
		ids[i] = fmt.Sprintf("mon_%05d", i)
	}
	results := make([]api.ProbeResult, batch)
	tm, next := resBase, 0
	for b.Loop() {
		for i := range results {
			results[i] = resProbe(next)
			results[i].MonitorID = ids[next%monitors]
			results[i].Time = tm
			next++
		}
		// 750 results of a 5,000-a-second stream: 150 ms of it.
		tm = tm.Add(150 * time.Millisecond)
		if _, _, err := s.WriteResultsYielding(b.Context(), results, nil, 100); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/result")
}
