package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aio-platform/terraform-provider-aio/bench/internal/benchsys"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/results"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Probe lag while enforcement runs (issue 11: "probe lag p99 unchanged
// within noise"). The real probe engine, the scheduler and the results
// writer as aiod wires them with engine.New, probes every monitor of the
// benchmark on the local targets at the design rate and stores its results
// in the same database, first without retention, then with results.Retention
// pruning the synthetic backlog every -prune-every as fast as rows are
// written. The scheduler's Observer reports every dispatch's lag (how late
// a run started relative to when it was due).

// Within noise: the p99 with retention is at most 1.5 times the p99 without
// it, or at most 20 ms above it. Back to back runs of the same phase on this
// shared two-core machine differ by tens of percent at a p99 of a few
// milliseconds (GC, other processes on the cores), so a ratio alone would
// flag noise; enforcement starving the engine, by holding SQLite's write lock
// until the writer's queue backs up into the scheduler or by taking a core,
// shows up as lags of hundreds of milliseconds, far beyond either bound.
const (
	lagNoiseRatio = 1.5
	lagNoiseSlack = 20 * time.Millisecond
)

func lagWithinNoise(with, without time.Duration) bool {
	return float64(with) <= lagNoiseRatio*float64(without) || with <= without+lagNoiseSlack
}

// lagRecorder is the scheduler Observer of the probe-lag phases: it keeps
// what happens while a phase is on.
type lagRecorder struct {
	mu        sync.Mutex
	on        bool
	lags      []time.Duration
	completed int64
	notUp     int64
	missed    int64
}

func (r *lagRecorder) Dispatched(lag time.Duration) {
	r.mu.Lock()
	if r.on {
		r.lags = append(r.lags, lag)
	}
	r.mu.Unlock()
}

func (r *lagRecorder) Completed(res api.ProbeResult, _ time.Duration) {
	r.mu.Lock()
	if r.on {
		r.completed++
		if res.Outcome != api.OutcomeUp {
			r.notUp++
		}
	}
	r.mu.Unlock()
}

func (r *lagRecorder) Missed(string) {
	r.mu.Lock()
	if r.on {
		r.missed++
	}
	r.mu.Unlock()
}

func (r *lagRecorder) begin() {
	r.mu.Lock()
	r.on, r.lags, r.completed, r.notUp, r.missed = true, make([]time.Duration, 0, 1<<15), 0, 0, 0
	r.mu.Unlock()
}

func (r *lagRecorder) end(p *lagPhase) {
	r.mu.Lock()
	r.on = false
	p.lag = benchsys.Summarize(r.lags)
	p.completed, p.notUp, p.missed = r.completed, r.notUp, r.missed
	r.lags = nil
	r.mu.Unlock()
}

type lagPhase struct {
	wall, cpu, targetsCPU time.Duration
	lag                   benchsys.Summary
	completed, notUp      int64
	missed                int64
	deleted               results.Pruned
	runs                  int
	pruneWall             time.Duration
}

func (p lagPhase) print(name string) {
	fmt.Printf("  %-18s %d runs dispatched, %d completed (%d not up), %d missed in %.1f s; scheduling lag p50 %v p99 %v max %v; CPU engine %.2f cores, targets %.2f cores\n",
		name, p.lag.N, p.completed, p.notUp, p.missed, p.wall.Seconds(), p.lag.P50.Round(10*time.Microsecond), p.lag.P99.Round(10*time.Microsecond),
		p.lag.Max.Round(10*time.Microsecond), p.cpu.Seconds()/p.wall.Seconds(), p.targetsCPU.Seconds()/p.wall.Seconds())
	if p.runs > 0 {
		fmt.Printf("  %-18s retention deleted raw %d, minute %d, hour %d in %d runs (%.2f s busy)\n", "", p.deleted.Raw, p.deleted.Minute,
			p.deleted.Hour, p.runs, p.pruneWall.Seconds())
	}
}

// probeLag runs the engine for o.probeWarmup, then o.probeLive without and
// o.probeLive with retention. The synthetic results still stored (g wrote
// them, times in the simulated past) are the backlog retention works
// through: its horizon starts at the oldest and moves with the real clock,
// so rows age out at the design rate while the engine adds its own, with
// real times that the horizon never reaches.
func probeLag(ctx context.Context, st store.Store, db *sql.DB, g *gen, o options, tg *benchsys.Targets) (a, b lagPhase, err error) {
	var oldest int64
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MIN(time), 0) FROM probe_results`).Scan(&oldest); err != nil {
		return a, b, err
	}
	horizon0 := time.UnixMicro(oldest).UTC()
	if oldest == 0 || horizon0.After(g.now) {
		horizon0 = g.now
	}
	// Enough backlog for the whole phase with retention and a minute more.
	if _, err := g.fillTo(ctx, st, horizon0.Add(o.probeLive+time.Minute)); err != nil {
		return a, b, err
	}

	rec := &lagRecorder{}
	// Only the scheduler and the results writer run, as Engine.Run starts
	// them: Engine.Run would also start the engine's own retention
	// enforcer, whose first pass at the real now would delete the whole
	// synthetic backlog (it is months old) inside the phase without
	// retention.
	e := engine.New(engine.Config{Store: st, Clock: clock.Real{}, Logger: slog.New(slog.DiscardHandler), Observer: rec,
		Egress: egress.AllowLoopback()})
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		_ = e.Writer.Run(context.WithoutCancel(ectx))
	}()
	schedDone := make(chan error, 1)
	go func() { schedDone <- e.Scheduler.Run(ectx) }()
	stop := func() error {
		cancel()
		err := <-schedDone
		cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer ccancel()
		if cerr := e.Writer.Close(cctx); cerr != nil && err == nil {
			err = cerr
		}
		<-writerDone
		e.Prober.CloseIdleConnections()
		return err
	}
	sleep := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-schedDone:
			return fmt.Errorf("the scheduler stopped early: %w", err)
		case <-time.After(d):
			return nil
		}
	}
	measure := func(p *lagPhase, ret *results.Retention) error {
		pctx, pcancel := context.WithCancel(ctx)
		defer pcancel()
		start, cpu0, tcpu0 := time.Now(), benchsys.CPUSelf(), benchsys.CPUOf(tg.Pid)
		rec.begin()
		pruneDone := make(chan error, 1)
		go func() {
			if ret == nil {
				pruneDone <- nil
				return
			}
			t := time.NewTicker(o.pruneEvery)
			defer t.Stop()
			for {
				select {
				case <-pctx.Done():
					pruneDone <- nil
					return
				case <-t.C:
				}
				s := time.Now()
				d, err := ret.Prune(pctx, horizon0.Add(time.Hour+time.Since(start)))
				if err != nil {
					if pctx.Err() != nil {
						err = nil
					}
					pruneDone <- err
					return
				}
				p.pruneWall += time.Since(s)
				p.deleted.Raw += d.Raw
				p.deleted.Minute += d.Minute
				p.deleted.Hour += d.Hour
				p.runs++
			}
		}()
		err := sleep(o.probeLive)
		rec.end(p)
		p.wall, p.cpu, p.targetsCPU = time.Since(start), benchsys.CPUSelf()-cpu0, benchsys.CPUOf(tg.Pid)-tcpu0
		pcancel()
		if perr := <-pruneDone; err == nil {
			err = perr
		}
		return err
	}

	if err := sleep(o.probeWarmup); err != nil {
		_ = stop()
		return a, b, err
	}
	if err := measure(&a, nil); err != nil {
		_ = stop()
		return a, b, err
	}
	// Ages of an hour from a horizon an hour past the oldest row: the
	// first run deletes what aged out since the phase began.
	ret := results.NewRetention(st, results.RetentionConfig{RawAge: time.Hour, MinuteAge: time.Hour, Batch: o.batch})
	if err := measure(&b, ret); err != nil {
		_ = stop()
		return a, b, err
	}
	if err := stop(); err != nil {
		return a, b, fmt.Errorf("engine: %w", err)
	}
	if n := e.Writer.Dropped(); n > 0 {
		fmt.Printf("  the results writer dropped %d results\n", n)
	}
	return a, b, nil
}
