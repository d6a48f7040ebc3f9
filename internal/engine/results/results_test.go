package results_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/testutil"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/results"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// countingStore is the real SQLite store, counting the calls that reach
// it. It can be told to fail the next few writes.
type countingStore struct {
	store.Store
	mu        sync.Mutex
	batches   []int // items per successful write (one transaction each)
	failNext  int
	deletes   map[string][]int64
	deleteMax int
	// gate, when set, holds every result write until it is closed: a
	// store that has fallen behind.
	gate chan struct{}
	// yieldNext makes the next writes store only their first piece, the
	// results first, as the store does when another write waits for it.
	yieldNext int
}

func (c *countingStore) WriteResultsYielding(ctx context.Context, rs []api.ProbeResult, missed []store.MissedRun, piece int) (int, int, error) {
	c.mu.Lock()
	gate := c.gate
	c.mu.Unlock()
	if gate != nil {
		<-gate
	}
	c.mu.Lock()
	if c.failNext > 0 {
		c.failNext--
		c.mu.Unlock()
		return 0, 0, errors.New("disk on fire")
	}
	if c.yieldNext > 0 {
		c.yieldNext--
		nr := min(piece, len(rs))
		rs, missed = rs[:nr], missed[:min(piece-nr, len(missed))]
	}
	c.mu.Unlock()
	nr, nm, err := c.Store.WriteResultsYielding(ctx, rs, missed, piece)
	if err != nil {
		return 0, 0, err
	}
	c.mu.Lock()
	c.batches = append(c.batches, nr+nm)
	c.mu.Unlock()
	return nr, nm, nil
}

func (c *countingStore) DeleteResultsBefore(ctx context.Context, tier string, before time.Time, limit int) (int64, error) {
	n, err := c.Store.DeleteResultsBefore(ctx, tier, before, limit)
	c.mu.Lock()
	if c.deletes == nil {
		c.deletes = map[string][]int64{}
	}
	c.deletes[tier] = append(c.deletes[tier], n)
	c.deleteMax = max(c.deleteMax, limit)
	c.mu.Unlock()
	return n, err
}

func (c *countingStore) calls() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.batches)
}

func openStore(t *testing.T) *countingStore {
	t.Helper()
	s, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "aio.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &countingStore{Store: s}
}

var base = time.Date(2025, time.March, 14, 12, 0, 0, 0, time.UTC)

func result(monitorID string, at time.Time) api.ProbeResult {
	return api.ProbeResult{MonitorID: monitorID, Time: at, Outcome: api.OutcomeUp, LatencyMS: 12.5, BytesReceived: 100, Attempts: 1}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// probes returns the probes and missed runs of a monitor stored over
// [base-1h, base+24h).
func probes(t *testing.T, s store.Store, monitorID string) (int64, int64) {
	t.Helper()
	r, _, err := s.MonitorStatus(t.Context(), monitorID, base.Add(-time.Hour), base.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return r.Probes, r.Missed
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFlushWritesBatchesOfMaxBatch(t *testing.T) {
	st := openStore(t)
	w := results.New(st, results.Config{MaxBatch: 500, Logger: quietLogger()})
	for i := range 1200 {
		w.Record(result("mon_a", base.Add(time.Duration(i)*time.Second)))
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := st.calls(); !slices.Equal(got, []int{500, 500, 200}) {
		t.Errorf("1200 results should've been stored in 3 transactions of 500, 500 and 200, got %v", got)
	}
	if n, _ := probes(t, st, "mon_a"); n != 1200 {
		t.Errorf("1200 probes should've been stored, got %d", n)
	}
	if w.Written() != 1200 || w.Dropped() != 0 {
		t.Errorf("written %d, dropped %d", w.Written(), w.Dropped())
	}
	// Nothing pending: no empty transaction.
	if err := w.Flush(t.Context()); err != nil || len(st.calls()) != 3 {
		t.Errorf("an empty flush should've written nothing: %v, %v", err, st.calls())
	}
}

func TestRunWritesFullBatchesAndDrainsOnClose(t *testing.T) {
	st := openStore(t)
	w := results.New(st, results.Config{MaxBatch: 500, FlushInterval: time.Hour, Logger: quietLogger()})
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	for i := range 1200 {
		w.Record(result("mon_a", base.Add(time.Duration(i)*time.Second)))
	}
	waitFor(t, "two full batches", func() bool { return len(st.calls()) == 2 })
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if got := st.calls(); !slices.Equal(got, []int{500, 500, 200}) {
		t.Errorf("1200 results should've been stored in 3 transactions of 500, 500 and 200, got %v", got)
	}
	if n, _ := probes(t, st, "mon_a"); n != 1200 {
		t.Errorf("1200 probes should've been stored, got %d", n)
	}
}

// TestRunWritesAnExactlyFullBatchAtOnce: Run stores a batch as soon as
// exactly MaxBatch items are pending, not at the next tick (an hour away
// here) nor when one more arrives. Mutation testing found the boundary
// unpinned: the 1,200 results above cannot tell ">=" from ">".
func TestRunWritesAnExactlyFullBatchAtOnce(t *testing.T) {
	st := openStore(t)
	w := results.New(st, results.Config{MaxBatch: 10, FlushInterval: time.Hour, Logger: quietLogger()})
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	for i := range 10 {
		w.Record(result("mon_a", base.Add(time.Duration(i)*time.Second)))
	}
	waitFor(t, "the full batch of 10", func() bool { return w.Written() == 10 })
	if got := st.calls(); !slices.Equal(got, []int{10}) {
		t.Errorf("10 results with MaxBatch 10 should've been one transaction of 10, got %v", got)
	}
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestSpillLargerThanABatchIsStoredWhole: missed runs that found the
// queue full (the spill) and are more than a batch are all stored, in full
// batches and then the rest; the part of a batch left over after the
// full ones is kept, not forgotten. (Mutation testing: writeLocked's
// "nothing left" check negated dropped that rest unnoticed.)
func TestSpillLargerThanABatchIsStoredWhole(t *testing.T) {
	st := openStore(t)
	w := results.New(st, results.Config{Buffer: 1, MaxBatch: 4, Logger: quietLogger()})
	for i := range 10 {
		w.Missed("mon_a", base.Add(time.Duration(i)*time.Minute))
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := st.calls(); !slices.Equal(got, []int{4, 4, 2}) {
		t.Errorf("10 missed runs with MaxBatch 4 should've been stored as 4, 4 and 2, got %v", got)
	}
	if w.Written() != 10 || w.Dropped() != 0 {
		t.Errorf("written %d, dropped %d; want 10 and 0", w.Written(), w.Dropped())
	}
}

// TestPartlyStoredBatchKeepsTheRest: when the store commits only a first
// piece of a batch (another write waited for it), the writer keeps the
// rest, results and missed runs alike, and stores it next. Each case
// leaves a different part over: results only, missed runs only, and the
// missed runs after a piece that took all the results and some of them.
func TestPartlyStoredBatchKeepsTheRest(t *testing.T) {
	const piece = results.YieldPiece
	for _, tc := range []struct {
		name              string
		nResults, nMissed int
	}{
		{"results only", 2*piece + piece/2, 0},
		{"missed runs only", 0, 2*piece + piece/2},
		{"results then missed runs", piece / 2, piece + piece/2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			st.yieldNext = 1
			w := results.New(st, results.Config{MaxBatch: 1000, Logger: quietLogger()})
			// Interleaved, as the probes record them.
			for i := range max(tc.nResults, tc.nMissed) {
				at := base.Add(time.Duration(i) * time.Second)
				if i < tc.nResults {
					w.Record(result("mon_a", at))
				}
				if i < tc.nMissed {
					w.Missed("mon_a", at)
				}
			}
			if err := w.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			total := tc.nResults + tc.nMissed
			if got, want := st.calls(), []int{piece, total - piece}; !slices.Equal(got, want) {
				t.Errorf("transactions of %v, want %v", got, want)
			}
			r, m := probes(t, st, "mon_a")
			if r != int64(tc.nResults) || m != int64(tc.nMissed) {
				t.Errorf("stored %d results and %d missed runs, want %d and %d", r, m, tc.nResults, tc.nMissed)
			}
			if w.Written() != int64(total) || w.Dropped() != 0 {
				t.Errorf("written %d, dropped %d; want %d, 0", w.Written(), w.Dropped(), total)
			}
		})
	}
}

func TestFlushOnInterval(t *testing.T) {
	st := openStore(t)
	w := results.New(st, results.Config{FlushInterval: 20 * time.Millisecond, Logger: quietLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	w.Record(result("mon_a", base))
	w.Record(result("mon_a", base.Add(time.Second)))
	w.Missed("mon_a", base.Add(2*time.Second))
	waitFor(t, "the interval flush", func() bool { return len(st.calls()) > 0 })
	if got := st.calls(); !slices.Equal(got, []int{3}) {
		t.Errorf("the interval should've flushed one batch of 3, got %v", got)
	}
	if n, m := probes(t, st, "mon_a"); n != 2 || m != 1 {
		t.Errorf("2 probes and 1 missed run should've been stored, got %d, %d", n, m)
	}
	// And again for what comes later.
	w.Record(result("mon_a", base.Add(3*time.Second)))
	waitFor(t, "the second interval flush", func() bool { return len(st.calls()) == 2 })
}

func TestDrainOnContextEnd(t *testing.T) {
	st := openStore(t)
	w := results.New(st, results.Config{FlushInterval: time.Hour, Logger: quietLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	for i := range 10 {
		w.Record(result("mon_a", base.Add(time.Duration(i)*time.Second)))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if n, _ := probes(t, st, "mon_a"); n != 10 {
		t.Errorf("10 probes should've been stored when Run's context ended, got %d", n)
	}
}

func TestCloseWithoutRun(t *testing.T) {
	st := openStore(t)
	w := results.New(st, results.Config{Logger: quietLogger()})
	for i := range 10 {
		w.Record(result("mon_a", base.Add(time.Duration(i)*time.Second)))
	}
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n, _ := probes(t, st, "mon_a"); n != 10 {
		t.Errorf("Close should've stored the 10 queued results, got %d", n)
	}
	w.Record(result("mon_a", base.Add(time.Hour)))
	if w.Dropped() != 1 {
		t.Errorf("a result recorded after Close should've been dropped, dropped %d", w.Dropped())
	}
	if err := w.Close(t.Context()); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	if err := w.Run(t.Context()); err != nil {
		t.Errorf("Run after Close should've returned at once: %v", err)
	}
}

// TestRecordWaitsWhenFull: a writer that falls behind holds the probes
// back instead of dropping their results, and missed runs (recorded under
// the scheduler's lock) spill instead of waiting. Nothing is lost.
func TestRecordWaitsWhenFull(t *testing.T) {
	st := openStore(t)
	st.gate = make(chan struct{})
	var logs testutil.SyncBuffer
	w := results.New(st, results.Config{Buffer: 5, MaxBatch: 4, FlushInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()

	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		for i := range 40 {
			w.Record(result("mon_a", base.Add(time.Duration(i)*time.Second)))
		}
	}()
	// The writer holds one batch in the gated store and 5 wait in the
	// queue: Record must wait for room rather than return.
	deadline := time.Now().Add(5 * time.Second)
	for w.Waited() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if w.Waited() == 0 {
		t.Fatal("Record should've waited for room in the full queue")
	}
	select {
	case <-recorded:
		t.Fatal("40 results cannot all fit while the store is stalled; Record should've waited")
	default:
	}
	// Missed runs must not wait: the scheduler calls Missed under its lock.
	missedDone := make(chan struct{})
	go func() {
		for i := range 20 {
			w.Missed("mon_a", base.Add(time.Duration(100+i)*time.Second))
		}
		close(missedDone)
	}()
	select {
	case <-missedDone:
	case <-time.After(5 * time.Second):
		t.Fatal("Missed blocked on a full queue")
	}
	if w.Dropped() != 0 {
		t.Fatalf("a writer that falls behind should drop nothing, dropped %d", w.Dropped())
	}

	st.mu.Lock()
	close(st.gate)
	st.gate = nil
	st.mu.Unlock()
	select {
	case <-recorded:
	case <-time.After(10 * time.Second):
		t.Fatal("Record still waiting after the store caught up")
	}
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, missed := probes(t, st, "mon_a"); n != 40 || missed != 20 || w.Dropped() != 0 || w.Written() != 60 {
		t.Errorf("every result and missed run should've been stored: %d probes, %d missed, written %d, dropped %d",
			n, missed, w.Written(), w.Dropped())
	}
	if strings.Contains(logs.String(), "dropped") {
		t.Errorf("nothing should've been logged as dropped:\n%s", logs.String())
	}
}

func TestFailedBatchIsRetriedThenDropped(t *testing.T) {
	st := openStore(t)
	w := results.New(st, results.Config{Logger: quietLogger()})
	st.failNext = 1
	w.Record(result("mon_a", base))
	if err := w.Flush(t.Context()); err == nil {
		t.Fatal("the failed write should've been reported")
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if n, _ := probes(t, st, "mon_a"); n != 1 || w.Dropped() != 0 {
		t.Errorf("the retried batch should've been stored: %d probes, %d dropped", n, w.Dropped())
	}

	st.failNext = 3
	w.Record(result("mon_b", base))
	for range 2 {
		if err := w.Flush(t.Context()); err == nil {
			t.Fatal("the failed write should've been reported")
		}
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Errorf("the third failure should've dropped the batch: %v", err)
	}
	if n, _ := probes(t, st, "mon_b"); n != 0 || w.Dropped() != 1 {
		t.Errorf("the batch should've been dropped after 3 attempts: %d probes, %d dropped", n, w.Dropped())
	}
	w.Record(result("mon_b", base))
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n, _ := probes(t, st, "mon_b"); n != 1 {
		t.Errorf("the writer should've gone on after a dropped batch, got %d", n)
	}
}

func TestConcurrentRecord(t *testing.T) {
	st := openStore(t)
	w := results.New(st, results.Config{MaxBatch: 100, FlushInterval: 10 * time.Millisecond, Logger: quietLogger()})
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				if i%50 == 0 {
					_ = w.Flush(t.Context())
				}
				w.Record(result("mon_a", base.Add(time.Duration(g*500+i)*time.Millisecond)))
			}
		})
	}
	wg.Wait()
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, _ := probes(t, st, "mon_a"); n != 4000 || w.Written() != 4000 {
		t.Errorf("4000 probes should've been stored, got %d (written %d, dropped %d)", n, w.Written(), w.Dropped())
	}
	for _, b := range st.calls() {
		if b > 100 {
			t.Errorf("a batch of %d exceeds MaxBatch", b)
		}
	}
}

// addMonitor stores a monitor row with the given ID: results of IDs
// without one are orphans that Prune deletes.
func addMonitor(t *testing.T, st store.Store, id string) {
	t.Helper()
	enabled, interval := true, "10s"
	m := api.Monitor{Meta: api.Meta{ID: id, Revision: 1, CreatedAt: base, UpdatedAt: base}, Name: "m-" + id, EndpointID: "ep_x", Type: api.MonitorHTTP, Enabled: &enabled, Interval: &interval}
	if err := st.Write(t.Context(), func(tx store.Tx) error { return tx.InsertMonitor(t.Context(), m) }); err != nil {
		t.Fatal(err)
	}
}

// TestPrune puts results just past and just within each tier's default
// age (4 h raw, 49 h minute, 91 days hour), so that a default moved to
// either neighbour changes what is deleted.
func TestPrune(t *testing.T) {
	st := openStore(t)
	addMonitor(t, st, "mon_a")
	now := time.Date(2026, time.June, 1, 0, 0, 0, 0, time.UTC)
	var rs []api.ProbeResult
	old := now.Add(-92 * 24 * time.Hour) // past every tier's age
	hourIn := now.Add(-90 * 24 * time.Hour)
	mid := now.Add(-50 * time.Hour) // past the raw and minute ages
	minuteIn := now.Add(-48 * time.Hour)
	rs = append(rs, result("mon_a", old), result("mon_a", hourIn), result("mon_a", mid), result("mon_a", minuteIn))
	recent := now.Add(-5 * time.Hour) // past the raw age only
	for i := range 2500 {             // minutes 0..41 of one hour
		rs = append(rs, result("mon_a", recent.Add(time.Duration(i)*time.Second)))
	}
	rawIn := now.Add(-4*time.Hour + time.Minute)
	fresh := now.Add(-time.Hour)
	rs = append(rs, result("mon_a", rawIn), result("mon_a", fresh))
	if err := st.WriteResults(t.Context(), rs, []store.MissedRun{{MonitorID: "mon_a", Time: old.Add(30 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	if results.DefaultRawAge != 4*time.Hour || results.DefaultMinuteAge != 49*time.Hour || results.DefaultHourAge != 91*24*time.Hour {
		t.Fatalf("the default ages changed (%v, %v, %v): move the results of this test and the arithmetic in README, \"Storage at full load\"",
			results.DefaultRawAge, results.DefaultMinuteAge, results.DefaultHourAge)
	}

	r := results.NewRetention(st, results.RetentionConfig{Logger: quietLogger()})
	got, err := r.Prune(t.Context(), now)
	if err != nil {
		t.Fatal(err)
	}
	// Raw: old, its missed run, hourIn, mid, minuteIn, the 2500 recent
	// ones. Minute: the buckets of old, hourIn and mid. Hour: the bucket
	// of old.
	if want := (results.Pruned{Raw: 2505, Minute: 3, Hour: 1}); got != want {
		t.Errorf("Prune should've deleted %+v, got %+v", want, got)
	}
	if !slices.Equal(st.deletes[store.TierRaw], []int64{1000, 1000, 505}) || st.deleteMax != results.DefaultPruneBatch {
		t.Errorf("raw rows should've been deleted in batches of 1000: %v (limit %d)", st.deletes[store.TierRaw], st.deleteMax)
	}
	// What is left of each tier.
	page, _, err := st.ListResults(t.Context(), "mon_a", store.ResultQuery{Limit: 1000})
	if err != nil || len(page) != 2 || !page[0].Time.Equal(rawIn) || !page[1].Time.Equal(fresh) {
		t.Errorf("only the raw results within 4 hours should've been left, got %d (%v)", len(page), err)
	}
	status := func(from, to time.Time) (int64, int64) {
		t.Helper()
		ru, _, err := st.MonitorStatus(t.Context(), "mon_a", from, to)
		if err != nil {
			t.Fatal(err)
		}
		return ru.Probes, ru.Missed
	}
	if n, _ := status(recent.Add(-time.Hour), recent.Add(time.Hour)); n != 2500 {
		t.Errorf("the recent minute rollups should've stayed: %d probes", n)
	}
	if n, m := status(now.Add(-48*time.Hour), now); n != 2503 || m != 0 {
		t.Errorf("a 48-hour window should've held minuteIn, recent, rawIn and fresh: %d probes, %d missed", n, m)
	}
	if n, m := status(now.Add(-90*24*time.Hour), now); n != 2505 || m != 0 {
		t.Errorf("a 90-day window should've held hourIn, mid, minuteIn, recent, rawIn and fresh: %d probes, %d missed", n, m)
	}
	if n, m := status(old.Add(-24*time.Hour), old.Add(24*time.Hour)); n != 0 || m != 0 {
		t.Errorf("old should've been gone from every tier: %d probes, %d missed", n, m)
	}

	// Nothing more to prune.
	if got, err = r.Prune(t.Context(), now); err != nil || got != (results.Pruned{}) {
		t.Errorf("a second Prune should've deleted nothing: %+v, %v", got, err)
	}
	// Custom ages and batches.
	r = results.NewRetention(st, results.RetentionConfig{RawAge: time.Minute, Batch: 1, Logger: quietLogger()})
	if got, err = r.Prune(t.Context(), now); err != nil || got.Raw != 2 {
		t.Errorf("a 1-minute raw age should've deleted rawIn and fresh: %+v, %v", got, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.Prune(ctx, now); !errors.Is(err, context.Canceled) {
		t.Errorf("Prune should've stopped with its context: %v", err)
	}
}

// TestPruneDeletesResultsOfDeletedMonitors: results still queued in the
// writer when their monitor is deleted are stored after the monitor's data
// was removed. Prune must delete them, and any other row of a monitor ID
// that has no monitor, from every tier and the state.
func TestPruneDeletesResultsOfDeletedMonitors(t *testing.T) {
	st := openStore(t)
	now := base.Add(time.Hour)
	addMonitor(t, st, "mon_kept")
	addMonitor(t, st, "mon_deleted")

	w := results.New(st, results.Config{Logger: quietLogger()})
	for i := range 30 {
		at := base.Add(time.Duration(i) * 10 * time.Second)
		w.Record(result("mon_kept", at))
		w.Record(result("mon_deleted", at))
	}
	w.Missed("mon_deleted", base.Add(time.Second))
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The monitor is deleted as the server does it, while more of its
	// results wait in the writer.
	w.Record(result("mon_deleted", base.Add(5*time.Minute)))
	w.Missed("mon_deleted", base.Add(6*time.Minute))
	if err := st.Write(t.Context(), func(tx store.Tx) error { return tx.DeleteMonitor(t.Context(), "mon_deleted") }); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMonitorData(t.Context(), "mon_deleted"); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	// And a monitor ID that never had a monitor row at all, with enough
	// rows to take several batches.
	var rs []api.ProbeResult
	for i := range 250 {
		rs = append(rs, result("mon_never", base.Add(time.Duration(i)*time.Second)))
	}
	if err := st.WriteResults(t.Context(), rs, []store.MissedRun{{MonitorID: "mon_never", Time: base}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := probes(t, st, "mon_deleted"); n != 1 {
		t.Fatalf("setup: the late result of the deleted monitor should've been stored, got %d probes", n)
	}

	r := results.NewRetention(st, results.RetentionConfig{Batch: 100, Logger: quietLogger()})
	got, err := r.Prune(t.Context(), now)
	if err != nil {
		t.Fatal(err)
	}
	// mon_deleted: 1 result, 1 missed run, 1 state (minutes 5 and 6 are
	// not closed: their rollups are in the store's memory, and go with
	// the orphan). mon_never: 250 results, 1 missed run, 5 minute
	// rollups, 1 hour rollup, 1 state (minutes 0 to 4 were closed by
	// then: merged into the stored rollups at once).
	if want := (results.Pruned{Orphans: 3 + 258}); got != want {
		t.Errorf("Prune should've deleted %+v, got %+v", want, got)
	}
	for _, id := range []string{"mon_deleted", "mon_never"} {
		for _, w := range [][2]time.Time{{base.Add(-time.Hour), now}, {now.Add(-90 * 24 * time.Hour), now}} {
			ru, state, err := st.MonitorStatus(t.Context(), id, w[0], w[1])
			if err != nil {
				t.Fatal(err)
			}
			if ru.Probes != 0 || ru.Missed != 0 || state != (store.MonitorState{}) {
				t.Errorf("%s over %v: %d probes, %d missed, state %+v left", id, w[1].Sub(w[0]), ru.Probes, ru.Missed, state)
			}
		}
		if page, _, err := st.ListResults(t.Context(), id, store.ResultQuery{}); err != nil || len(page) != 0 {
			t.Errorf("%s: %d raw results left (%v)", id, len(page), err)
		}
	}
	// The monitor that exists keeps everything.
	if n, _ := probes(t, st, "mon_kept"); n != 30 {
		t.Errorf("mon_kept should've kept its 30 probes, got %d", n)
	}
	if _, state, _ := st.MonitorStatus(t.Context(), "mon_kept", base, now); state.LastCheckedAt == nil {
		t.Errorf("mon_kept should've kept its state")
	}
	if got, err := r.Prune(t.Context(), now); err != nil || got != (results.Pruned{}) {
		t.Errorf("a second Prune should've deleted nothing: %+v, %v", got, err)
	}
}

// TestNilLoggerDiscards: without a Logger, the writer and the retention
// log nothing, and in particular not to the process-wide slog.Default().
func TestNilLoggerDiscards(t *testing.T) {
	var logs testutil.SyncBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	st := openStore(t)
	w := results.New(st, results.Config{Buffer: 1})
	w.Record(result("mon_a", base))
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	w.Record(result("mon_a", base.Add(time.Second))) // dropped: logged as a warning
	if w.Dropped() != 1 {
		t.Fatalf("dropped %d, want 1", w.Dropped())
	}
	r := results.NewRetention(st, results.RetentionConfig{})
	if p, err := r.Prune(t.Context(), base.Add(1000*24*time.Hour)); err != nil || p.Total() == 0 {
		t.Fatalf("prune: %+v %v", p, err) // something pruned: logged as info
	}
	if s := logs.String(); s != "" {
		t.Errorf("a nil Logger should've discarded, but the default logger got:\n%s", s)
	}
}

// TestPruneDefaultAges pins each tier's default age with results an hour
// either side of it, so that a default changed by an hour or more fails
// here: raw results live 4 h, minute rollups 49 h, hour rollups 91 days
// (the ages that fit 10,000 monitors in 10 GB, README "Storage at full
// load").
func TestPruneDefaultAges(t *testing.T) {
	st := openStore(t)
	addMonitor(t, st, "mon_a")
	now := time.Date(2026, time.June, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	ages := []time.Duration{3 * time.Hour, 5 * time.Hour, 48 * time.Hour, 50 * time.Hour,
		91*day - time.Hour, 91*day + time.Hour}
	var rs []api.ProbeResult
	for _, age := range ages {
		rs = append(rs, result("mon_a", now.Add(-age)))
	}
	if err := st.WriteResults(t.Context(), rs, nil); err != nil {
		t.Fatal(err)
	}
	got, err := results.NewRetention(st, results.RetentionConfig{Logger: quietLogger()}).Prune(t.Context(), now)
	if err != nil {
		t.Fatal(err)
	}
	// Raw: everything past 4 h. Minute: past 49 h. Hour: past 91 days.
	if want := (results.Pruned{Raw: 5, Minute: 3, Hour: 1}); got != want {
		t.Errorf("Prune with the default ages deleted %+v, want %+v", got, want)
	}
	page, _, err := st.ListResults(t.Context(), "mon_a", store.ResultQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var left []time.Duration
	for _, r := range page {
		left = append(left, now.Sub(r.Time))
	}
	slices.Sort(left)
	if want := ages[:1]; !slices.Equal(left, want) {
		t.Errorf("raw results left are %v old, want %v (those younger than 4 h)", left, want)
	}
	if results.DefaultRawAge != 4*time.Hour {
		t.Errorf("DefaultRawAge = %s, the README promises 4h", results.DefaultRawAge)
	}
}

// TestPruneLogsOnlyWhatItDeleted: a Prune that deletes rows logs what it
// deleted per tier and in all; one that deletes nothing logs nothing (it
// runs every few minutes). Found by mutation testing.
func TestPruneLogsOnlyWhatItDeleted(t *testing.T) {
	if got := (results.Pruned{Raw: 1, Minute: 2, Hour: 4, Orphans: 8}).Total(); got != 15 {
		t.Errorf("Total() = %d, want 15", got)
	}
	st := openStore(t)
	addMonitor(t, st, "mon_a")
	now := time.Date(2026, time.June, 1, 0, 0, 0, 0, time.UTC)
	if err := st.WriteResults(t.Context(), []api.ProbeResult{result("mon_a", now.Add(-72*time.Hour))}, nil); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	r := results.NewRetention(st, results.RetentionConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if p, err := r.Prune(t.Context(), now); err != nil || p.Raw != 1 {
		t.Fatalf("first Prune: %+v, %v", p, err)
	}
	if !strings.Contains(logs.String(), "probe results pruned") || !strings.Contains(logs.String(), "raw=1") {
		t.Errorf("a Prune that deleted a row logged %q", logs.String())
	}
	logs.Reset()
	if _, err := r.Prune(t.Context(), now); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Errorf("a Prune that deleted nothing logged %q", logs.String())
	}
}

// TestDroppedResultsWarnAtMostEvery10s: with the queue full (no writer
// running), every dropped result is counted, but the warning comes at
// most once per 10 s, saying how many were dropped since the last one.
// Found by mutation testing.
func TestDroppedResultsWarnAtMostEvery10s(t *testing.T) {
	clk := clock.NewFake(base)
	var logs strings.Builder
	w := results.New(openStore(t), results.Config{Buffer: 1, Clock: clk, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	// A full queue holds the caller rather than dropping (backpressure):
	// only a result recorded after Close is dropped.
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		w.Record(result("mon_a", base)) // dropped
	}
	clk.Advance(10*time.Second - time.Nanosecond)
	w.Record(result("mon_a", base))
	clk.Advance(time.Nanosecond)
	w.Record(result("mon_a", base))
	if w.Dropped() != 5 {
		t.Fatalf("%d dropped, want 5", w.Dropped())
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "dropped_total=1 since_last_warning=1") ||
		!strings.Contains(lines[1], "dropped_total=5 since_last_warning=4") {
		t.Errorf("warnings:\n%s\nwant two: the first drop, then 10 s later the four since", logs.String())
	}
}

// TestBatchGivesWayToWaitingWrite: a write transaction (an API change)
// that asks for the store while the writer's batch of 2,000 is waiting for
// it or being written never waits for the whole batch: the writer commits
// after the piece of YieldPiece items it is writing and lets the waiting write go
// first, then stores the rest, every result and missed run once. Which of
// the two gets the store first after the one holding it lets go is up to
// database/sql, so the race is run a few times.
func TestBatchGivesWayToWaitingWrite(t *testing.T) {
	const n, rounds = 2000, 4
	st := openStore(t)
	ctx := t.Context()
	w := results.New(st, results.Config{MaxBatch: n, Buffer: n, Logger: quietLogger()})
	yielded := 0
	for round := range rounds {
		from := base.Add(time.Duration(round*n) * time.Second)
		for i := range n {
			if i%10 == 9 {
				w.Missed("mon_m", from.Add(time.Duration(i)*time.Second))
				continue
			}
			w.Record(result("mon_r", from.Add(time.Duration(i)*time.Second)))
		}
		calls := len(st.calls())
		// Something holds the store while the batch and the API write
		// line up for it.
		hold, held := make(chan struct{}), make(chan struct{})
		holder := make(chan error, 1)
		go func() { holder <- st.Write(ctx, func(store.Tx) error { close(held); <-hold; return nil }) }()
		<-held
		flushed := make(chan error, 1)
		go func() { flushed <- w.Flush(ctx) }()
		time.Sleep(20 * time.Millisecond)
		var before int64
		api := make(chan error, 1)
		go func() {
			api <- st.Write(ctx, func(store.Tx) error {
				// What was committed when this transaction began: the
				// writer connection is this transaction's meanwhile.
				r, _, err := st.MonitorStatus(ctx, "mon_r", base.Add(-time.Hour), base.Add(24*time.Hour))
				before = r.Probes
				return err
			})
		}()
		waitFor(t, "the API write to wait for the store", func() bool { return st.WritesWaiting() == 1 })
		close(hold)
		for _, ch := range []chan error{holder, api, flushed} {
			if err := <-ch; err != nil {
				t.Fatal(err)
			}
		}
		stored := int64(round * n * 9 / 10)
		got := st.calls()[calls:]
		switch {
		case before == stored:
			// The API write went first; the batch then had the store
			// to itself.
			if len(got) != 1 {
				t.Errorf("round %d: with nothing waiting the batch took %d transactions (%v), want 1", round, len(got), got)
			}
		case before > stored && before < stored+n*9/10:
			yielded++
			if len(got) < 2 || got[0] != results.YieldPiece {
				t.Errorf("round %d: the batch gave way after %d results, in transactions of %v; want a first piece of %d", round, before-stored, got, results.YieldPiece)
			}
		default:
			t.Errorf("round %d: the API write saw %d probes stored, %d before the batch: it waited for the whole batch of %d", round, before, stored, n)
		}
	}
	r, m := probes(t, st, "mon_r")
	_, mm := probes(t, st, "mon_m")
	if r != rounds*n*9/10 || m != 0 || mm != rounds*n/10 {
		t.Errorf("stored %d results and %d missed runs, want %d and %d", r, m+mm, rounds*n*9/10, rounds*n/10)
	}
	if w.Written() != rounds*n || w.Dropped() != 0 {
		t.Errorf("written %d, dropped %d; want %d, 0", w.Written(), w.Dropped(), rounds*n)
	}
	t.Logf("the batch gave way in %d of %d rounds (the others, the API write got the store first)", yielded, rounds)
}
