package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	_ "modernc.org/sqlite" // counting the stored results (the store registers it too)

	"github.com/aio-platform/terraform-provider-aio/bench/internal/benchsys"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// insertBatch is how many endpoint+monitor pairs one setup transaction
// stores.
const insertBatch = 500

// stopGrace is how long the engine keeps running after the window, so that
// every run started in it completes (a local probe takes milliseconds).
const stopGrace = 3 * time.Second

// engineResult is what the engine run measured.
type engineResult struct {
	start, end time.Time // the measured window
	due        int64     // runs due in the window: monitors × window ÷ interval

	// From the observer, for runs dispatched (lag, missed) or started
	// (completed: a result's Time is its start) within the window.
	lag       benchsys.Summary
	latency   benchsys.Summary // probe latency (ProbeResult.LatencyMS)
	dispatch  int64
	completed int64
	outcomes  map[string]int64
	missed    int64

	// From the database after the engine stopped: results whose time is in
	// the window, by outcome, and missed runs due in the window.
	stored       int64
	storedByOut  map[string]int64
	storedMissed int64

	// Whole run.
	missedTotal  int64
	spikes       []spike
	writes       benchsys.Summary // result batch commits in the window
	apiWait      benchsys.Summary // other write transactions in the window: wait for the writer
	apiHold      benchsys.Summary // and hold of it
	burst        *burstResult
	writeN       int
	reloads      []span // config reload reads in the window
	reloadIdle   time.Duration
	describe     string
	written      int64 // results + missed runs the writer stored
	dropped      int64 // results + missed runs the writer dropped
	setupTook    time.Duration
	stopTook     time.Duration
	cpu          time.Duration // engine process CPU in the window
	targetsCPU   time.Duration // targets process CPU in the window
	peakRSSKB    int64         // VmHWM of this process at the end
	rssEndKB     int64         // VmRSS at the end of the window
	heapInuse    uint64        // at the end of the window
	numGC        uint32        // GCs during the window
	targetsRSSKB int64
	dbBytes      int64
}

// recorder is the scheduler Observer the benchmark adds beside the
// engine's metrics: it keeps what happens inside the measured window.
type recorder struct {
	mu         sync.Mutex
	start, end time.Time // zero until the window is set
	lags       []time.Duration
	latencies  []time.Duration
	dispatch   int64
	completed  int64
	outcomes   map[string]int64
	missed     int64
	missedAll  int64
	late       []spike // dispatches later than spikeLag
}

func (r *recorder) window(start, end time.Time) {
	r.mu.Lock()
	r.start, r.end = start, end
	r.mu.Unlock()
}

func (r *recorder) in(t time.Time) bool {
	return !r.start.IsZero() && !t.Before(r.start) && t.Before(r.end)
}

func (r *recorder) Dispatched(lag time.Duration) {
	now := time.Now()
	r.mu.Lock()
	if r.in(now) {
		r.dispatch++
		r.lags = append(r.lags, lag)
		if lag >= spikeLag {
			r.late = append(r.late, spike{at: now, maxLag: lag})
		}
	}
	r.mu.Unlock()
}

func (r *recorder) Completed(res api.ProbeResult, _ time.Duration) {
	r.mu.Lock()
	if r.in(res.Time) {
		r.completed++
		r.outcomes[res.Outcome]++
		r.latencies = append(r.latencies, time.Duration(res.LatencyMS*float64(time.Millisecond)))
	}
	r.mu.Unlock()
}

func (r *recorder) Missed(string) {
	now := time.Now()
	r.mu.Lock()
	r.missedAll++
	if r.in(now) {
		r.missed++
	}
	r.mu.Unlock()
}

// runEngine sets up the store, runs the engine through warm-up and the
// measured window, stops it and counts what it stored.
func runEngine(ctx context.Context, o options, tg *benchsys.Targets, logger *slog.Logger) (*engineResult, error) {
	dir, err := os.MkdirTemp("", "bench-probe-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "database kept in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	dbPath := filepath.Join(dir, "aio.db")
	st, err := store.OpenSQLite(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ts := &timedStore{Store: st}

	res := &engineResult{}
	setup := time.Now()
	if err := insertMonitors(ctx, ts, o, tg.Ports); err != nil {
		return nil, fmt.Errorf("insert monitors: %w", err)
	}
	res.setupTook = time.Since(setup)
	fmt.Fprintf(os.Stderr, "setup: %d endpoints and monitors stored in %s\n", o.monitors, res.setupTook.Round(time.Millisecond))

	// The real engine, as aiod wires it (internal/daemon: engine.New with
	// the store, a real clock and the default workers), with the recorder
	// observing beside the engine's own metrics. The targets listen on
	// loopback, which the default egress policy denies, so loopback is
	// allowed as aiod serve --probe-allow-cidrs 127.0.0.0/8,::1/128 would;
	// the policy is checked on every dial all the same.
	rec := &recorder{outcomes: map[string]int64{}, lags: make([]time.Duration, 0, 1<<16), latencies: make([]time.Duration, 0, 1<<16)}
	e := engine.New(engine.Config{Store: ts, Clock: clock.Real{}, Logger: logger, Workers: o.workers, Resolution: o.resol, Observer: rec,
		Egress: egress.AllowLoopback()})

	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- e.Run(ectx) }()

	var apiSrv *apiServer
	if o.burst > 0 {
		total := o.monitors + o.burst
		if apiSrv, err = startAPI(ctx, ts, e, total, float64(total)/o.interval.Seconds()); err != nil {
			return nil, fmt.Errorf("start the API for the burst: %w", err)
		}
		defer apiSrv.close()
	}
	fmt.Fprintf(os.Stderr, "engine: warming up for %s\n", o.warmup)
	if err := sleepCtx(ctx, o.warmup, runErr); err != nil {
		return nil, err
	}
	res.start = time.Now()
	res.end = res.start.Add(o.measure)
	rec.window(res.start, res.end)
	res.due = int64(float64(o.monitors) * o.measure.Seconds() / o.interval.Seconds())
	cpu0, tcpu0 := benchsys.CPUSelf(), benchsys.CPUOf(tg.Pid)
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	stopProfile, err := startCPUProfile(o.cpuprof)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "engine: measuring for %s\n", o.measure)
	burstDone := make(chan burstResult, 1)
	if apiSrv != nil {
		fmt.Fprintf(os.Stderr, "burst: creating %d monitors through the API, %d clients\n", o.burst, burstClients)
		// A burst still going a window's length after the window ends is
		// cut short and reported with what it created.
		bctx, bcancel := context.WithDeadline(ctx, res.end.Add(o.measure))
		defer bcancel()
		go func() { burstDone <- runBurst(bctx, apiSrv, o.burst, o.monitors, o.interval) }()
	}
	err = sleepCtx(ctx, time.Until(res.end), runErr)
	stopProfile()
	if err != nil {
		return nil, err
	}
	res.cpu, res.targetsCPU = benchsys.CPUSelf()-cpu0, benchsys.CPUOf(tg.Pid)-tcpu0
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	res.heapInuse, res.numGC = ms1.HeapInuse, ms1.NumGC-ms0.NumGC
	res.rssEndKB = benchsys.StatusKB("self", "VmRSS")
	if err := writeHeapProfile(o.memprof); err != nil {
		return nil, err
	}

	if apiSrv != nil {
		b := <-burstDone
		res.burst = &b
	}

	// Let the runs started in the window finish and reach the writer:
	// stopping the engine discards the results of runs cut short.
	if err := sleepCtx(ctx, stopGrace, runErr); err != nil {
		return nil, err
	}
	stopAt := time.Now()
	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			return nil, fmt.Errorf("engine run: %w", err)
		}
	case <-time.After(2 * time.Minute):
		return nil, errors.New("the engine did not stop within 2 minutes")
	}
	res.stopTook = time.Since(stopAt)

	rec.mu.Lock()
	res.lag, res.latency = benchsys.Summarize(rec.lags), benchsys.Summarize(rec.latencies)
	res.dispatch, res.completed, res.outcomes = rec.dispatch, rec.completed, rec.outcomes
	res.missed, res.missedTotal = rec.missed, rec.missedAll
	res.spikes = groupSpikes(rec.late)
	rec.lags, rec.latencies, rec.late = nil, nil, nil
	rec.mu.Unlock()
	ts.mu.Lock()
	w := within(ts.writes, res.start, res.end)
	res.writes, res.writeN = benchsys.Summarize(spanDurations(w)), len(w)
	res.apiWait = benchsys.Summarize(spanDurations(within(ts.apiWait, res.start, res.end)))
	res.apiHold = benchsys.Summarize(spanDurations(within(ts.apiHold, res.start, res.end)))
	allReloads := reloads(ts.listing)
	res.reloads = within(allReloads, res.start, res.end)
	if len(allReloads) > 0 {
		res.reloadIdle = allReloads[0].took // the first, before any probe ran
	}
	res.describe = describeSpikes(res.spikes, res.start, allReloads, ts.writes)
	ts.mu.Unlock()
	res.written, res.dropped = e.Writer.Written(), e.Writer.Dropped()

	if err := countStored(ctx, dbPath, res); err != nil {
		return nil, fmt.Errorf("count stored results: %w", err)
	}
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(dbPath + suffix); err == nil {
			res.dbBytes += fi.Size()
		}
	}
	res.peakRSSKB = benchsys.StatusKB("self", "VmHWM")
	res.targetsRSSKB = tg.PeakRSSKB()
	return res, nil
}

// sleepCtx waits d, failing early when ctx ends or the engine stopped.
func sleepCtx(ctx context.Context, d time.Duration, runErr <-chan error) error {
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-runErr:
		return fmt.Errorf("the engine stopped early: %w", err)
	case <-t.C:
		return nil
	}
}

// insertMonitors stores one endpoint and one enabled http monitor per
// monitor, spread round-robin over the target ports, in transactions of
// insertBatch pairs.
func insertMonitors(ctx context.Context, st store.Store, o options, ports []int) error {
	now := time.Now().UTC()
	enabled := true
	interval := o.interval.String()
	for base := 0; base < o.monitors; base += insertBatch {
		n := min(insertBatch, o.monitors-base)
		err := st.Write(ctx, func(tx store.Tx) error {
			for i := base; i < base+n; i++ {
				ep := api.Endpoint{
					Meta:               api.Meta{ID: fmt.Sprintf("%sbench%06d", api.PrefixEndpoint, i), Revision: 1, CreatedAt: now, UpdatedAt: now},
					Name:               fmt.Sprintf("bench-endpoint-%06d", i),
					URL:                fmt.Sprintf("http://127.0.0.1:%d/health/%d", ports[i%len(ports)], i),
					DataClassification: api.ClassInternal,
				}
				if err := tx.InsertEndpoint(ctx, ep); err != nil {
					return err
				}
				m := api.Monitor{
					Meta:       api.Meta{ID: fmt.Sprintf("%sbench%06d", api.PrefixMonitor, i), Revision: 1, CreatedAt: now, UpdatedAt: now},
					Name:       fmt.Sprintf("bench-monitor-%06d", i),
					EndpointID: ep.ID,
					Type:       api.MonitorHTTP,
					Enabled:    &enabled,
					Interval:   &interval,
				}
				if err := tx.InsertMonitor(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// countStored counts, in the database the engine wrote, the results whose
// time (the probe's start) is in the window, and the missed runs due in it.
func countStored(ctx context.Context, path string, res *engineResult) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	// Times are stored as Unix microseconds and outcomes as codes
	// (migration 00014, the lean result encoding).
	from, to := res.start.UnixMicro(), res.end.UnixMicro()
	rows, err := db.QueryContext(ctx, `SELECT CASE outcome WHEN 1 THEN 'up' WHEN 2 THEN 'degraded' ELSE 'down' END, count(*)
		FROM probe_results WHERE time >= ? AND time < ? GROUP BY outcome`, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	res.storedByOut = map[string]int64{}
	for rows.Next() {
		var out string
		var n int64
		if err := rows.Scan(&out, &n); err != nil {
			return err
		}
		res.storedByOut[out] = n
		res.stored += n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return db.QueryRowContext(ctx, `SELECT count(*) FROM missed_runs WHERE time >= ? AND time < ?`, from, to).Scan(&res.storedMissed)
}

func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path) //nolint:gosec // the path is the user's flag
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

func writeHeapProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path) //nolint:gosec // the path is the user's flag
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("heap").WriteTo(f, 0)
}
