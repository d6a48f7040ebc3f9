package alerting_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/alerting"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// BenchmarkTick measures one tick over 1,000 monitors with one 5-minute
// error-rate threshold each and an hour of results every 10 s. Most of the
// cost is reading the figures: with one MonitorStatus per monitor it was
// about 330 ms a tick on 2 cores, with WindowRollups (every monitor of a
// window length together) about 90 ms.
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
