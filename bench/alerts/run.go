package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/aio-platform/terraform-provider-aio/bench/internal/benchsys"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// phase is one measured stretch of the run.
type phase struct {
	start, end time.Time
	cpu        time.Duration // engine process CPU (user + system)
	targetsCPU time.Duration
	completed  int64 // probes started in the phase and completed
	down       int64
	missed     int64
	lag        benchsys.Summary
}

func (p *phase) seconds() float64 { return p.end.Sub(p.start).Seconds() }

// coresUsed is the engine process's CPU over the phase, in cores.
func (p *phase) coresUsed() float64 { return p.cpu.Seconds() / p.seconds() }

// tick is one evaluation the observer saw.
type tick struct {
	at         time.Time // when it ended
	took       time.Duration
	thresholds int
	err        error
}

// arrival is one failing threshold's alert: when its pending_for elapsed
// (due), when the evaluation fired it, when its webhook arrived.
type arrival struct {
	thresholdID   string
	pendingFor    time.Duration
	due, fired    time.Time
	received      time.Time
	receivedCount int
}

type result struct {
	setupTook, seedTook, thresholdsTook time.Duration
	seededRows                          int64
	probesOnly, alerting                phase
	loadTick                            tick
	ticks                               []tick // every tick after the load, in the alerting and failure phases
	tickErrors                          int
	failAt                              time.Time
	failing                             int
	arrivals                            []arrival
	received, rejected, duplicates      int
	unexpected                          int // webhooks of thresholds that were not made to fail
	missingEvents                       int
	waited                              time.Duration
	peakRSSKB                           int64
	dbBytes                             int64
	firing                              map[string]int
}

// recorder observes the scheduler (probe figures per phase) and the
// evaluator (every tick).
type recorder struct {
	mu        sync.Mutex
	cur       *phase
	lags      []time.Duration
	ticks     []tick
	tickSeen  chan struct{}
	lastFirng map[string]int
}

func (r *recorder) Dispatched(lag time.Duration) {
	r.mu.Lock()
	if r.cur != nil {
		r.lags = append(r.lags, lag)
	}
	r.mu.Unlock()
}

func (r *recorder) Completed(res api.ProbeResult, _ time.Duration) {
	r.mu.Lock()
	if p := r.cur; p != nil && !res.Time.Before(p.start) {
		p.completed++
		if res.Outcome == api.OutcomeDown {
			p.down++
		}
	}
	r.mu.Unlock()
}

func (r *recorder) Missed(string) {
	r.mu.Lock()
	if r.cur != nil {
		r.cur.missed++
	}
	r.mu.Unlock()
}

func (r *recorder) Evaluated(thresholds int, took time.Duration, err error) {
	r.mu.Lock()
	r.ticks = append(r.ticks, tick{at: time.Now(), took: took, thresholds: thresholds, err: err})
	r.mu.Unlock()
	select {
	case r.tickSeen <- struct{}{}:
	default:
	}
}

func (r *recorder) AlertsFiring(bySeverity map[string]int) {
	r.mu.Lock()
	r.lastFirng = bySeverity
	r.mu.Unlock()
}

// begin starts measuring p; end stops.
func (r *recorder) begin(p *phase, targetsPID int) {
	r.mu.Lock()
	r.cur, r.lags = p, r.lags[:0]
	r.mu.Unlock()
	p.start = time.Now()
	p.cpu, p.targetsCPU = -benchsys.CPUSelf(), -benchsys.CPUOf(targetsPID)
}

func (r *recorder) end(p *phase, targetsPID int) {
	p.cpu += benchsys.CPUSelf()
	p.targetsCPU += benchsys.CPUOf(targetsPID)
	p.end = time.Now()
	r.mu.Lock()
	r.cur = nil
	p.lag = benchsys.Summarize(r.lags)
	r.mu.Unlock()
}

func run(ctx context.Context, o options, key string) (*result, error) {
	if lim, err := benchsys.RaiseNoFile(); err != nil {
		fmt.Fprintf(os.Stderr, "warning: raising RLIMIT_NOFILE: %v (limit %d)\n", err, lim)
	}
	logLevel := slog.LevelWarn
	if o.verbose {
		logLevel = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))

	tg, err := startTargets(ctx, o, key)
	if err != nil {
		return nil, fmt.Errorf("start targets: %w", err)
	}
	defer tg.Stop()
	fmt.Fprintf(os.Stderr, "targets: pid %d, %d ports, receiver on %d\n", tg.Pid, len(tg.Ports), tg.Control)

	dir, err := os.MkdirTemp("", "bench-alerts-")
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
	kr, err := secret.NewKeyring(secret.NewKey())
	if err != nil {
		return nil, err
	}

	res := &result{}
	t0 := time.Now()
	if err := insertMonitors(ctx, st, o, tg.Ports); err != nil {
		return nil, fmt.Errorf("insert monitors: %w", err)
	}
	if err := insertChannels(ctx, st, kr, o, tg.Control, key); err != nil {
		return nil, fmt.Errorf("insert channels: %w", err)
	}
	res.setupTook = time.Since(t0)
	if o.history {
		t1 := time.Now()
		if res.seededRows, err = seedHistory(ctx, dbPath, o, t1); err != nil {
			return nil, err
		}
		res.seedTook = time.Since(t1)
	}
	fmt.Fprintf(os.Stderr, "setup: %d monitors and %d channels in %s; %d rollups of history seeded in %s\n",
		o.monitors, o.channels, res.setupTook.Round(time.Millisecond), res.seededRows, res.seedTook.Round(time.Millisecond))

	// The real engine as aiod wires it (internal/daemon: engine.New with
	// the store, the keyring, a real clock, the default workers and
	// evaluation tick). The targets and the receiver listen on loopback,
	// which the default egress policy denies, so loopback is allowed as
	// aiod serve --probe-allow-cidrs 127.0.0.0/8,::1/128 would; the policy
	// is checked on every dial, probes' and webhooks' alike.
	rec := &recorder{tickSeen: make(chan struct{}, 1)}
	e := engine.New(engine.Config{Store: st, Keyring: kr, Clock: clock.Real{}, Logger: logger, Workers: o.workers,
		Observer: rec, AlertObserver: rec, AlertInterval: o.alertInterval, Egress: egress.AllowLoopback()})
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- e.Run(ectx) }()
	stopEngine := func() error {
		cancel()
		select {
		case err := <-runErr:
			return err
		case <-time.After(2 * time.Minute):
			return errors.New("the engine did not stop within 2 minutes")
		}
	}

	fmt.Fprintf(os.Stderr, "engine: warming up for %s\n", o.warmup)
	if err := sleepCtx(ctx, o.warmup, runErr); err != nil {
		return nil, err
	}

	// 1. The probe engine alone: the evaluator ticks over no thresholds.
	fmt.Fprintf(os.Stderr, "phase 1: probes alone for %s\n", o.measure)
	rec.begin(&res.probesOnly, tg.Pid)
	if err := sleepCtx(ctx, o.measure, runErr); err != nil {
		return nil, err
	}
	rec.end(&res.probesOnly, tg.Pid)

	// 2. Every threshold at once, as one `terraform apply` would create
	// them; the engine is told as the API server tells it.
	t2 := time.Now()
	if err := insertThresholds(ctx, st, o); err != nil {
		return nil, fmt.Errorf("insert thresholds: %w", err)
	}
	res.thresholdsTook = time.Since(t2)
	e.Notify(api.KindThreshold, "")
	// The first tick over them also stores every threshold's state: on a
	// loaded machine that waits for the store's single writer behind the
	// probe results.
	loadDeadline := time.After(2*o.alertInterval + 4*time.Minute)
	for res.loadTick.thresholds < o.monitors {
		select {
		case <-rec.tickSeen:
		case <-loadDeadline:
			return nil, errors.New("the evaluator did not load the thresholds")
		case err := <-runErr:
			return nil, fmt.Errorf("the engine stopped early: %w", err)
		}
		rec.mu.Lock()
		res.loadTick = rec.ticks[len(rec.ticks)-1]
		rec.mu.Unlock()
		fmt.Fprintf(os.Stderr, "tick: %d thresholds in %s\n", res.loadTick.thresholds, dur(res.loadTick.took))
		if res.loadTick.err != nil {
			return nil, fmt.Errorf("the first tick over the thresholds failed: %w", res.loadTick.err)
		}
	}
	rec.mu.Lock()
	firstSteady := len(rec.ticks)
	rec.mu.Unlock()
	fmt.Fprintf(os.Stderr, "thresholds: %d stored in %s, loaded by a tick of %s; phase 2: probes + alerting for %s\n",
		o.monitors, res.thresholdsTook.Round(time.Millisecond), dur(res.loadTick.took), o.measure)

	stopProfile, err := startCPUProfile(o.cpuprof)
	if err != nil {
		return nil, err
	}
	rec.begin(&res.alerting, tg.Pid)
	err = sleepCtx(ctx, o.measure, runErr)
	rec.end(&res.alerting, tg.Pid)
	stopProfile()
	if err != nil {
		return nil, err
	}
	if err := writeHeapProfile(o.memprof); err != nil {
		return nil, err
	}

	// 3. A tenth of the targets fail at once.
	var ids []int
	want := map[string]time.Duration{}
	for i := range o.monitors {
		if failing(i) {
			ids = append(ids, i)
			want[thresholdID(i)] = pendingFor(i)
		}
	}
	res.failing = len(ids)
	fmt.Fprintf(os.Stderr, "phase 3: %d targets fail; waiting up to %s for their alerts\n", len(ids), o.fireTimeout)
	if err := tg.fail(ctx, ids); err != nil {
		return nil, err
	}
	res.failAt = time.Now()
	var got []receipt
	for {
		if err := sleepCtx(ctx, time.Second, runErr); err != nil {
			return nil, err
		}
		if got, res.rejected, err = tg.received(ctx); err != nil {
			return nil, err
		}
		if countFiring(got, want) >= len(want) || time.Since(res.failAt) > o.fireTimeout {
			break
		}
	}
	res.waited = time.Since(res.failAt)
	// One more tick, so that a second webhook for an alert (which must
	// not come) has the chance to.
	if err := sleepCtx(ctx, o.alertInterval+2*time.Second, runErr); err != nil {
		return nil, err
	}
	if got, res.rejected, err = tg.received(ctx); err != nil {
		return nil, err
	}
	rec.mu.Lock()
	res.ticks = slices.Clone(rec.ticks[firstSteady:])
	res.firing = rec.lastFirng
	rec.mu.Unlock()
	for _, t := range res.ticks {
		if t.err != nil {
			res.tickErrors++
		}
	}
	if err := stopEngine(); err != nil {
		return nil, fmt.Errorf("engine run: %w", err)
	}
	if err := arrivals(ctx, st, res, got, want); err != nil {
		return nil, err
	}
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(dbPath + suffix); err == nil {
			res.dbBytes += fi.Size()
		}
	}
	res.peakRSSKB = benchsys.StatusKB("self", "VmHWM")
	return res, nil
}

// countFiring counts the wanted thresholds with a firing webhook.
func countFiring(got []receipt, want map[string]time.Duration) int {
	seen := map[string]bool{}
	for _, r := range got {
		if _, ok := want[r.ThresholdID]; ok && r.State == "firing" {
			seen[r.ThresholdID] = true
		}
	}
	return len(seen)
}

// arrivals pairs each failing threshold's first firing webhook with the
// moment its pending_for elapsed, read from the stored alert events: the
// time of the pending event plus pending_for, or, with pending_for 0s,
// the evaluation that first saw the condition (which fires at once).
func arrivals(ctx context.Context, st store.Store, res *result, got []receipt, want map[string]time.Duration) error {
	first := map[string]receipt{}
	count := map[string]int{}
	deliveries := map[string]bool{}
	for _, r := range got {
		if deliveries[r.DeliveryID] {
			res.duplicates++
			continue
		}
		deliveries[r.DeliveryID] = true
		res.received++
		if _, ok := want[r.ThresholdID]; !ok {
			res.unexpected++
			continue
		}
		if r.State != "firing" {
			continue
		}
		count[r.ThresholdID]++
		if f, ok := first[r.ThresholdID]; !ok || r.ReceivedAt.Before(f.ReceivedAt) {
			first[r.ThresholdID] = r
		}
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		a := arrival{thresholdID: id, pendingFor: want[id], receivedCount: count[id]}
		evs, _, err := st.ListAlertEvents(ctx, store.AlertEventQuery{ThresholdID: id, Since: res.failAt.Add(-time.Second), Limit: 100})
		if err != nil {
			return err
		}
		// Oldest first.
		slices.SortFunc(evs, func(a, b api.AlertEvent) int { return a.At.Compare(b.At) })
		for _, ev := range evs {
			if ev.ToState == api.AlertPending && a.due.IsZero() {
				a.due = ev.At.Add(a.pendingFor)
			}
			if ev.ToState == api.AlertFiring && a.fired.IsZero() {
				a.fired = ev.At
				if a.pendingFor == 0 {
					a.due = ev.At
				}
			}
		}
		if a.due.IsZero() || a.fired.IsZero() {
			res.missingEvents++
		}
		if r, ok := first[id]; ok {
			a.received = r.ReceivedAt
		}
		res.arrivals = append(res.arrivals, a)
	}
	return nil
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
	return pprof.Lookup("allocs").WriteTo(f, 0)
}
