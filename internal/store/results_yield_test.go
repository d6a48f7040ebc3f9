package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// TestWriteResultsYielding: a batch written while no other write waits is
// one transaction; while a Write waits (counted in WritesWaiting from the
// moment it asks for the writer until its transaction begins), the store
// commits after the piece it is writing, results first, then missed runs,
// and says how many of each it stored. Writing the rest stores every item
// once, and the monitors' figures are those of the whole batch.
func TestWriteResultsYielding(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	at := time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)
	var rs []api.ProbeResult
	var missed []MissedRun
	for i := range 7 {
		rs = append(rs, api.ProbeResult{MonitorID: fmt.Sprintf("mon_%d", i%3), Time: at.Add(time.Duration(i) * time.Second),
			Outcome: api.OutcomeUp, Attempts: 1, LatencyMS: 2})
	}
	for i := range 3 {
		missed = append(missed, MissedRun{MonitorID: fmt.Sprintf("mon_%d", i), Time: at.Add(time.Duration(20+i) * time.Second)})
	}
	count := func() (int, int) {
		t.Helper()
		var nr, nm int
		if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM probe_results`).Scan(&nr); err != nil {
			t.Fatal(err)
		}
		if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM missed_runs`).Scan(&nm); err != nil {
			t.Fatal(err)
		}
		return nr, nm
	}

	// A write waiting for the writer connection: the real count Write
	// keeps, held up by hand so that the test decides when it waits.
	s.waiting.Add(1)
	if got := s.WritesWaiting(); got != 1 {
		t.Fatalf("WritesWaiting = %d, want 1", got)
	}
	nr, nm, err := s.WriteResultsYielding(ctx, rs, missed, 3)
	if err != nil || nr != 3 || nm != 0 {
		t.Fatalf("with a write waiting, a piece of 3 stored %d results and %d missed runs (%v), want 3 and 0", nr, nm, err)
	}
	if r, m := count(); r != 3 || m != 0 {
		t.Fatalf("after the first piece the database holds %d results and %d missed runs, want 3 and 0", r, m)
	}
	// The last piece of results is topped up with missed runs.
	nr2, nm2, err := s.WriteResultsYielding(ctx, rs[nr:], missed, 3)
	if err != nil || nr2 != 3 || nm2 != 0 {
		t.Fatalf("second piece: %d, %d, %v; want 3, 0", nr2, nm2, err)
	}
	nr3, nm3, err := s.WriteResultsYielding(ctx, rs[nr+nr2:], missed, 3)
	if err != nil || nr3 != 1 || nm3 != 2 {
		t.Fatalf("third piece: %d, %d, %v; want 1 result and 2 missed runs", nr3, nm3, err)
	}
	s.waiting.Add(-1)

	// Nothing waits: the rest in one transaction, whatever the piece.
	nr4, nm4, err := s.WriteResultsYielding(ctx, nil, missed[nm3:], 1)
	if err != nil || nr4 != 0 || nm4 != 1 {
		t.Fatalf("with nothing waiting the rest stored %d, %d (%v), want 0 and 1", nr4, nm4, err)
	}
	if r, m := count(); r != len(rs) || m != len(missed) {
		t.Fatalf("the database holds %d results and %d missed runs, want %d and %d", r, m, len(rs), len(missed))
	}
	ru, _, err := s.MonitorStatus(ctx, "mon_0", at, at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if ru.Probes != 3 || ru.Missed != 1 {
		t.Fatalf("mon_0's minute counts %d probes and %d missed, want 3 and 1", ru.Probes, ru.Missed)
	}

	// A real Write counts while it waits for the connection, and no
	// longer once its transaction began.
	hold, held := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.Write(ctx, func(Tx) error { close(held); <-hold; return nil })
	}()
	<-held
	if got := s.WritesWaiting(); got != 0 {
		t.Fatalf("WritesWaiting = %d while the only Write holds the writer, want 0", got)
	}
	done := make(chan error)
	go func() { done <- s.Write(ctx, func(Tx) error { return nil }) }()
	deadline := time.Now().Add(5 * time.Second)
	for s.WritesWaiting() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("WritesWaiting = %d while a second Write waits, want 1", s.WritesWaiting())
		}
		time.Sleep(time.Millisecond)
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := s.WritesWaiting(); got != 0 {
		t.Fatalf("WritesWaiting = %d after the Writes, want 0", got)
	}
}
