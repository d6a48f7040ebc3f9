package results_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/results"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// BenchmarkWriteBesideResults measures what an API write waits for while
// the engine's results writer stores 5,000 results a second (50,000
// monitors on a 10 s interval) on a real SQLite file: each iteration is one
// configuration change as a handler makes it (a read by name, the object,
// its audit event, in one transaction), about 300 a second, as a burst of
// applies sends them. It reports the writes' latency p50/p99/max in ms,
// the figure behind bench-probe's "POST p99 < 100 ms" burst goal without
// the HTTP and CPU of the probes around it.
func BenchmarkWriteBesideResults(b *testing.B) {
	for _, clients := range []int{1, 10} {
		for _, feed := range []bool{false, true} {
			b.Run(fmt.Sprintf("clients=%d/results=%v", clients, feed), func(b *testing.B) { benchWriteBesideResults(b, clients, feed) })
		}
	}
}

func benchWriteBesideResults(b *testing.B, clients int, feed bool) {
	ctx := b.Context()
	st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "aio.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	w := results.New(st, results.Config{Logger: quietLogger()})
	wctx, stop := context.WithCancel(ctx)
	var feeders sync.WaitGroup
	feeders.Add(2)
	go func() { defer feeders.Done(); _ = w.Run(wctx) }()
	// The feeder records 50 results every 10 ms of real time; their
	// timestamps move on at the same pace, so rollup minutes close.
	go func() {
		defer feeders.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		const monitors = 50000
		next, tm := 0, base
		for feed {
			select {
			case <-wctx.Done():
				return
			case <-tick.C:
			}
			for range 50 {
				w.Record(result(fmt.Sprintf("mon_%05d", next%monitors), tm))
				next++
				tm = tm.Add(200 * time.Microsecond)
			}
		}
	}()
	// Let the writer reach its steady state (full batches, rollups).
	time.Sleep(3 * time.Second)

	var (
		mu       sync.Mutex
		lat      []time.Duration
		next     atomic.Int64
		written0 = w.Written()
		began    = time.Now()
	)
	write := func() error {
		i := next.Add(1)
		id := fmt.Sprintf("ep_%07d", i)
		start := time.Now()
		err := st.Write(ctx, func(tx store.Tx) error {
			if _, _, err := tx.ListEndpoints(ctx, store.ListQuery{Name: "name-" + id}); err != nil {
				return err
			}
			now := base.Add(time.Duration(i) * time.Millisecond)
			if err := tx.InsertEndpoint(ctx, api.Endpoint{Meta: api.Meta{ID: id, Revision: 1, CreatedAt: now, UpdatedAt: now},
				Name: "name-" + id, URL: "https://" + id + ".example.com/v1", DataClassification: api.ClassInternal}); err != nil {
				return err
			}
			return tx.InsertAuditEvent(ctx, api.AuditEvent{ID: "aud_" + id, Time: now, Actor: "bench", ActorRole: api.RoleEditor,
				Action: api.ActionCreate, ObjectKind: api.KindEndpoint, ObjectID: id, Revision: 1})
		})
		d := time.Since(start)
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
		return err
	}
	// Each iteration starts one write every 3 ms; with several clients,
	// up to that many run at once, as concurrent applies send them.
	sem := make(chan struct{}, clients)
	var inflight sync.WaitGroup
	pace := time.NewTicker(3 * time.Millisecond)
	defer pace.Stop()
	for b.Loop() {
		<-pace.C
		sem <- struct{}{}
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			defer func() { <-sem }()
			if err := write(); err != nil {
				b.Error(err)
			}
		}()
	}
	inflight.Wait()
	b.StopTimer()
	rate := float64(w.Written()-written0) / time.Since(began).Seconds()
	stop()
	feeders.Wait()
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
	if w.Dropped() != 0 || feed && w.Written() == 0 {
		b.Fatalf("results written %d, dropped %d", w.Written(), w.Dropped())
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(rate, "results/s")
}
