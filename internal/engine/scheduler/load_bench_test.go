package scheduler

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// benchLoadMonitors is issue 13's five times the first goal: 50,000
// monitors, each on its own endpoint, as make bench-probe stores them.
const benchLoadMonitors = 50000

// BenchmarkLoad50k times the periodic full reload of a scheduler that
// already holds 50,000 monitors and nothing changed, the reload aiod runs
// every 30 s. Its allocations (B/op), the peak of the heap's objects during
// a reload (peak-MB) and those live after it (live-MB) are what the
// engine's peak RSS at 50,000 monitors follows; profile with -memprofile.
func BenchmarkLoad50k(b *testing.B) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "aio.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	now := t0
	interval := "10s"
	for base := 0; base < benchLoadMonitors; base += 500 {
		err := st.Write(ctx, func(tx store.Tx) error {
			for i := base; i < base+500; i++ {
				ep := api.Endpoint{Meta: api.Meta{ID: fmt.Sprintf("%sbench%06d", api.PrefixEndpoint, i), Revision: 1, CreatedAt: now, UpdatedAt: now},
					Name: fmt.Sprintf("bench-endpoint-%06d", i), URL: fmt.Sprintf("http://127.0.0.1:8080/health/%d", i),
					DataClassification: api.ClassInternal}
				if err := tx.InsertEndpoint(ctx, ep); err != nil {
					return err
				}
				m := api.Monitor{Meta: api.Meta{ID: fmt.Sprintf("%sbench%06d", api.PrefixMonitor, i), Revision: 1, CreatedAt: now, UpdatedAt: now},
					Name: fmt.Sprintf("bench-monitor-%06d", i), EndpointID: ep.ID, Type: api.MonitorHTTP, Enabled: ptr(true), Interval: &interval}
				if err := tx.InsertMonitor(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	s := New(Config{Store: st, Prober: nil, Sink: nil, Clock: clock.NewFake(t0), Rand: func() float64 { return 0.5 }})
	if err := s.Load(ctx); err != nil {
		b.Fatal(err)
	}
	if got := len(s.entries); got != benchLoadMonitors {
		b.Fatalf("the schedule holds %d monitors, want %d", got, benchLoadMonitors)
	}
	// The peak of the heap's objects during a reload, sampled every
	// millisecond with the collector run often (GOGC=10), so that the
	// objects still counted are close to the live ones: what a reload
	// holds at once, which the heap (and RSS) grows to at any GOGC.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(sample)
				if v := sample[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := s.Load(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	<-sampled
	runtime.GC()
	metrics.Read(sample)
	b.ReportMetric(float64(peak.Load())/1e6, "peak-MB")
	b.ReportMetric(float64(sample[0].Value.Uint64())/1e6, "live-MB")
	if got := len(s.entries); got != benchLoadMonitors {
		b.Fatalf("the schedule holds %d monitors after the reloads, want %d", got, benchLoadMonitors)
	}
}
