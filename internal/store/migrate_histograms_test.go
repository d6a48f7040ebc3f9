package store

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/stats"
)

// TestMigrationLeanHistograms builds a database at the schema before
// migration 00015, whose rollups hold every histogram in the sparse form,
// with more hour rollups than the migration reads in one batch. Opening it
// with the store re-encodes them: an hour's histogram becomes the shorter
// runs form, a minute's stays as it was, and every bucket count (so every
// figure of a window) is unchanged. The down migration writes the sparse
// bytes of before back.
func TestMigrationLeanHistograms(t *testing.T) {
	ctx := t.Context()
	path, db := sqliteAtVersion(t, 14)

	// Two monitors; mon_a has 1,300 hours (more than one batch), mon_b
	// one hour and one minute.
	r := rand.New(rand.NewPCG(3, 4))
	latency := func() float64 { return 5 + r.Float64()*50 + r.ExpFloat64()*40 }
	rollup := func(n int) stats.Rollup {
		var ru stats.Rollup
		for range n {
			ru.Probes++
			ru.Up++
			v := latency()
			ru.LatencySumMS += v
			ru.Latency.Add(v)
		}
		return ru
	}
	h0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	type stored struct {
		table       string
		key, bucket int64
		ru          stats.Rollup
		before      []byte
	}
	var rows []stored
	for i := range 1300 {
		rows = append(rows, stored{table: "rollups_hour", key: 1, bucket: h0.Add(time.Duration(i) * time.Hour).Unix(), ru: rollup(360)})
	}
	rows = append(rows, stored{table: "rollups_hour", key: 2, bucket: h0.Unix(), ru: rollup(360)},
		stored{table: "rollups_minute", key: 2, bucket: h0.Unix(), ru: rollup(6)})
	if _, err := db.ExecContext(ctx, `INSERT INTO result_monitors (key, monitor_id) VALUES (1, 'mon_a'), (2, 'mon_b')`); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		w := &rows[i]
		w.before = w.ru.Latency.MarshalSparse()
		if _, err := db.ExecContext(ctx, `INSERT INTO `+w.table+` (monitor_key, bucket_start, probes, up, degraded, down, retried,
			missed, bytes, latency_sum_ms, histogram) VALUES (?, ?, ?, ?, 0, 0, 0, 0, 0, ?, ?)`,
			w.key, w.bucket, w.ru.Probes, w.ru.Up, w.ru.LatencySumMS, w.before); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSQLite(t, path)
	read := func(w stored) []byte {
		t.Helper()
		var b []byte
		if err := s.writer.QueryRowContext(ctx, `SELECT histogram FROM `+w.table+` WHERE monitor_key = ? AND bucket_start = ?`,
			w.key, w.bucket).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	var before, after int
	for _, w := range rows {
		b := read(w)
		var h stats.Histogram
		if err := h.UnmarshalBinary(b); err != nil || !h.Equal(&w.ru.Latency) {
			t.Fatalf("%s (%d, %d): the histogram should've kept its counts (%v)", w.table, w.key, w.bucket, err)
		}
		switch w.table {
		case "rollups_hour":
			if b[0] != 2 || len(b) >= len(w.before) {
				t.Fatalf("hour (%d, %d): %d bytes in form %d, want the runs form, shorter than the sparse %d", w.key, w.bucket, len(b), b[0], len(w.before))
			}
		case "rollups_minute":
			if !bytes.Equal(b, w.before) {
				t.Errorf("a minute's 6 values should've stayed in the sparse form: %v, was %v", b, w.before)
			}
		}
		before, after = before+len(w.before), after+len(b)
	}
	t.Logf("histograms: %d bytes before, %d after", before, after)

	// Figures read through the store are those of the original rollups:
	// counts exactly, the quantiles from the same buckets, the average up
	// to the rounding of adding 1,300 float sums in another order.
	for _, c := range []struct {
		id       string
		from, to time.Time
		want     stats.Rollup
	}{
		{"mon_b", h0, h0.Add(time.Minute), rows[len(rows)-1].ru},
		{"mon_b", h0.Add(-72 * time.Hour), h0.Add(time.Hour), rows[len(rows)-2].ru},
		{"mon_a", h0, h0.Add(1300 * time.Hour), func() stats.Rollup {
			var m stats.Rollup
			for _, w := range rows[:1300] {
				m.Merge(&w.ru)
			}
			return m
		}()},
	} {
		got, _, err := s.MonitorStatus(ctx, c.id, c.from, c.to)
		if err != nil {
			t.Fatal(err)
		}
		g, w := stats.Status(&got, c.to.Sub(c.from)), stats.Status(&c.want, c.to.Sub(c.from))
		if got.Probes != c.want.Probes || !got.Latency.Equal(&c.want.Latency) || *g.LatencyP95MS != *w.LatencyP95MS ||
			*g.LatencyP99MS != *w.LatencyP99MS || math.Abs(*g.LatencyAvgMS-*w.LatencyAvgMS) > 1e-12**w.LatencyAvgMS {
			t.Errorf("%s %v–%v: %d probes p95 %v p99 %v avg %v, want %d probes p95 %v p99 %v avg %v", c.id, c.from, c.to,
				got.Probes, *g.LatencyP95MS, *g.LatencyP99MS, *g.LatencyAvgMS, c.want.Probes, *w.LatencyP95MS, *w.LatencyP99MS, *w.LatencyAvgMS)
		}
	}

	// Down to 00014: the sparse bytes of before, which older versions read.
	if _, err := migrationProvider(t, s.writer).DownTo(ctx, 14); err != nil {
		t.Fatal(err)
	}
	for _, w := range rows {
		if b := read(w); !bytes.Equal(b, w.before) {
			t.Fatalf("%s (%d, %d) after the down migration: %d bytes in form %d, want the %d sparse bytes of before",
				w.table, w.key, w.bucket, len(b), b[0], len(w.before))
		}
	}
}
