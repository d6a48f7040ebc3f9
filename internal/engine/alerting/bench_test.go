package alerting_test

import (
	"database/sql"
	"flag"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/alerting"
	"github.com/aio-platform/terraform-provider-aio/internal/stats"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// BenchmarkTick measures one tick over 1,000 monitors with one 5-minute
// error-rate threshold each and an hour of results every 10 s. Most of the
// cost is reading the figures: with one MonitorStatus per monitor it was
// about 330 ms a tick on 2 cores, with WindowRollups (every monitor of a
// window length together) about 90 ms; an error rate is now read with
// WindowCounts (the counts summed by SQLite). BenchmarkTickMixed is the
// mix that make bench-alerts runs.
func BenchmarkTick(b *testing.B) {
	ctx := b.Context()
	sq, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "aio.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sq.Close() })
	const n = 1000
	m := func(id string) api.Meta { return api.Meta{ID: id, Revision: 1, CreatedAt: t0, UpdatedAt: t0} }
	err = sq.Write(ctx, func(tx store.Tx) error {
		if err := tx.InsertEndpoint(ctx, api.Endpoint{Meta: m("ep_1"), Name: "ep", URL: "http://127.0.0.1:1", DataClassification: api.ClassInternal}); err != nil {
			return err
		}
		for i := range n {
			id := fmt.Sprintf("mon_%04d", i)
			if err := tx.InsertMonitor(ctx, api.Monitor{Meta: m(id), Name: id, EndpointID: "ep_1", Type: api.MonitorHTTP,
				Enabled: ptr(true), Interval: ptr("10s")}); err != nil {
				return err
			}
			thr := api.AlertThreshold{Meta: m(fmt.Sprintf("thr_%04d", i)), Name: id, MonitorID: &id, Metric: api.MetricErrorRate,
				Comparison: ptr(api.CompareAbove), Critical: ptr(50.0), Window: ptr("5m")}
			thr.Normalize()
			if err := tx.InsertThreshold(ctx, thr); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var results []api.ProbeResult
	for s := range 360 {
		for i := range n {
			results = append(results, api.ProbeResult{MonitorID: fmt.Sprintf("mon_%04d", i), Time: t0.Add(time.Duration(s) * 10 * time.Second),
				Outcome: api.OutcomeUp, LatencyMS: 10, Attempts: 1})
		}
		if len(results) >= 10000 {
			if err := sq.WriteResults(ctx, results, nil); err != nil {
				b.Fatal(err)
			}
			results = results[:0]
		}
	}
	if err := sq.WriteResults(ctx, results, nil); err != nil {
		b.Fatal(err)
	}
	clk := clock.NewFake(t0.Add(time.Hour))
	e := alerting.New(alerting.Config{Store: sq, Clock: clk})
	if err := e.Tick(ctx, clk.Now()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		clk.Advance(10 * time.Second)
		if err := e.Tick(ctx, clk.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTickMixed measures one tick over the mix of bench-alerts
// (make bench-alerts), at a fifth of its size by default: 2,000 monitors
// with one threshold each, a fifth burn rates (the SRE workbook's pairs:
// windows of 5m, 30m, 1h, 6h and 3d), the rest error rate, availability,
// consecutive failures, latency, retry rate and probes per minute over
// windows of 1m, 5m and 15m. The rollups the windows read are seeded as
// an aiod that has run for days holds them (bucket by bucket, so that a
// monitor's rows are spread over the table as the results writer leaves
// them); the last ten minutes are real results stored by WriteResults.
//
// -bench-monitors sets the size (10000 is bench-alerts' own).
func BenchmarkTickMixed(b *testing.B) {
	ctx := b.Context()
	n := *benchMonitors
	path := filepath.Join(b.TempDir(), "aio.db")
	sq, err := store.OpenSQLite(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sq.Close() })
	now := t0.Add(30 * 24 * time.Hour)
	m := func(id string) api.Meta { return api.Meta{ID: id, Revision: 1, CreatedAt: t0, UpdatedAt: t0} }
	var burn, all []string
	err = sq.Write(ctx, func(tx store.Tx) error {
		if err := tx.InsertEndpoint(ctx, api.Endpoint{Meta: m("ep_1"), Name: "ep", URL: "http://127.0.0.1:1", DataClassification: api.ClassInternal}); err != nil {
			return err
		}
		for i := range n {
			id := fmt.Sprintf("mon_%05d", i)
			all = append(all, id)
			if err := tx.InsertMonitor(ctx, api.Monitor{Meta: m(id), Name: id, EndpointID: "ep_1", Type: api.MonitorHTTP,
				Enabled: ptr(true), Interval: ptr("10s")}); err != nil {
				return err
			}
			thr := api.AlertThreshold{Meta: m(fmt.Sprintf("thr_%05d", i)), Name: id, MonitorID: &id}
			window := ptr([]string{"1m", "5m", "15m"}[(i/5)%3])
			switch i % 5 {
			case 0:
				burn = append(burn, id)
				thr.Metric, thr.SLO = api.MetricBurnRate, &api.SLO{ObjectivePercent: 99.9, Period: "720h"}
			case 1:
				thr.Metric, thr.Comparison, thr.Critical, thr.Window = api.MetricErrorRate, ptr(api.CompareAbove), ptr(1.0), window
			case 2:
				thr.Metric, thr.Comparison, thr.Critical, thr.Window = api.MetricAvailability, ptr(api.CompareBelow), ptr(99.0), window
			case 3:
				thr.Metric, thr.Comparison, thr.Critical = api.MetricConsecutiveFailure, ptr(api.CompareAbove), ptr(2.0)
			default:
				thr.Metric, thr.Comparison, thr.Critical, thr.Window = []string{api.MetricLatencyP95, api.MetricLatencyP99,
					api.MetricLatencyAvg, api.MetricRetryRate, api.MetricProbesPerMinute}[(i/5)%5], ptr(api.CompareAbove), ptr(5000.0), window
			}
			thr.Normalize()
			if err := tx.InsertThreshold(ctx, thr); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// The history before the last ten minutes, as SQL rows: producing
	// days of it through WriteResults would take far longer than the
	// benchmark. The store reads them through its own queries.
	live := now.Add(-10 * time.Minute).Truncate(time.Minute)
	hour := live.Truncate(time.Hour)
	seedRollups(b, path, "rollups_minute", all, live.Add(-15*time.Minute), live, time.Minute)
	seedRollups(b, path, "rollups_minute", burn, live.Add(-6*time.Hour), live.Add(-15*time.Minute), time.Minute)
	seedRollups(b, path, "rollups_minute", burn, hour.Add(-73*time.Hour), hour.Add(-71*time.Hour), time.Minute)
	seedRollups(b, path, "rollups_hour", burn, hour.Add(-73*time.Hour), hour, time.Hour)
	var results []api.ProbeResult
	for t := live; t.Before(now); t = t.Add(10 * time.Second) {
		for _, id := range all {
			results = append(results, api.ProbeResult{MonitorID: id, Time: t, Outcome: api.OutcomeUp, LatencyMS: 1, Attempts: 1, BytesReceived: 16})
		}
		if len(results) >= 10000 {
			if err := sq.WriteResults(ctx, results, nil); err != nil {
				b.Fatal(err)
			}
			results = results[:0]
		}
	}
	if err := sq.WriteResults(ctx, results, nil); err != nil {
		b.Fatal(err)
	}
	clk := clock.NewFake(now)
	cfg := alerting.Config{Store: sq, Clock: clk}
	switch *benchReload {
	case "":
	case "tick", "between":
		cfg.ReloadEvery = time.Nanosecond
	default:
		b.Fatalf("-bench-reload %q: want tick or between", *benchReload)
	}
	e := alerting.New(cfg)
	if err := e.Tick(ctx, clk.Now()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	// The process's CPU per tick beside the wall time: on a shared
	// machine the wall time says as much about the neighbours.
	cpu0 := processCPU()
	for b.Loop() {
		if *benchReload == "between" {
			// Read between ticks, as Run does, outside the timer (and
			// outside cpu-ms/op).
			clk.Advance(5 * time.Second)
			b.StopTimer()
			c := processCPU()
			if err := e.Prefetch(ctx); err != nil {
				b.Fatal(err)
			}
			cpu0 += processCPU() - c
			b.StartTimer()
			clk.Advance(5 * time.Second)
		} else {
			clk.Advance(10 * time.Second)
		}
		if err := e.Tick(ctx, clk.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// processCPU is this process's user + system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var benchMonitors = flag.Int("bench-monitors", 2000, "BenchmarkTickMixed: monitors, one threshold each")

// benchReload makes every tick of BenchmarkTickMixed a reload's: "between"
// adopts a configuration read between ticks (Prefetch, untimed), as the
// every-minute reload's tick does under Run; "tick" reads it inside the
// tick, as every reload did before (and as a tick called without Run or
// after a notice still does). The difference is what the reload's tick
// saves.
var benchReload = flag.String("bench-reload", "", `BenchmarkTickMixed: every tick reloads, reading the configuration "between" ticks or in the "tick"`)

// seedRollups writes healthy rollups (six probes a minute, all up, 1 ms)
// of the monitors for the buckets of step in [from, to), bucket by bucket.
func seedRollups(b *testing.B, path, table string, ids []string, from, to time.Time, step time.Duration) {
	b.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	probes := int64(step / (10 * time.Second))
	var h stats.Histogram
	h.AddN(1, uint64(probes))
	blob := h.Marshal()
	tx, err := db.BeginTx(b.Context(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	// The lean layout (migration 00014): rows keyed by the monitor's key
	// in result_monitors, buckets in Unix seconds.
	for _, id := range ids {
		if _, err := tx.ExecContext(b.Context(), `INSERT OR IGNORE INTO result_monitors (monitor_id) VALUES (?)`, id); err != nil {
			b.Fatal(err)
		}
	}
	stmt, err := tx.PrepareContext(b.Context(), `INSERT INTO `+table+` (monitor_key, bucket_start, probes, up, degraded, down, retried,
		missed, bytes, latency_sum_ms, histogram)
		VALUES ((SELECT key FROM result_monitors WHERE monitor_id = ?), ?, ?, ?, 0, 0, 0, 0, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	for t := from; t.Before(to); t = t.Add(step) {
		bucket := t.Unix()
		for _, id := range ids {
			if _, err := stmt.ExecContext(b.Context(), id, bucket, probes, probes, 16*probes, float64(probes), blob); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}
