package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	_ "modernc.org/sqlite" // seeding the history (the store registers it too)

	"github.com/aio-platform/terraform-provider-aio/bench/internal/benchsys"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/stats"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// insertBatch is how many objects one setup transaction stores.
const insertBatch = 500

// The five kinds of threshold, by monitor index i % 5: a fifth are burn
// rates, as the issue asks; three kinds watch failures; the last kind
// watches figures that a failing local target does not move (latency,
// retries, probes per minute), so that the mix of metrics is wide.
const (
	kindBurn = iota
	kindErrorRate
	kindAvailability
	kindConsecutive
	kindQuiet
	kinds
)

// failing tells whether monitor i's target fails in the failure phase: a
// tenth of the monitors, all of them with a threshold that watches
// failures (i % 10 < 4 is a burn rate, error rate, availability or
// consecutive-failures threshold), a quarter of each kind.
func failing(i int) bool { return i%10 < 4 && (i/10)%4 == 0 }

// pendingFor spreads the failing thresholds' pending_for over 0s, 10s and
// 30s (multiples of the 10 s tick, as people write them).
func pendingFor(i int) time.Duration {
	return []time.Duration{0, 10 * time.Second, 30 * time.Second}[(i/20)%3]
}

func monitorID(i int) string   { return fmt.Sprintf("%sbench%06d", api.PrefixMonitor, i) }
func thresholdID(i int) string { return fmt.Sprintf("%sbench%06d", api.PrefixThreshold, i) }
func channelID(c int) string   { return fmt.Sprintf("%sbench%02d", api.PrefixChannel, c) }

// insertMonitors stores one endpoint and one enabled http monitor per
// monitor, spread round-robin over the target ports; monitor i probes
// /health/<i>, which the targets process can make fail.
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
					Meta:       api.Meta{ID: monitorID(i), Revision: 1, CreatedAt: now, UpdatedAt: now},
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

// insertChannels stores o.channels signed webhook channels to the
// receiver, their signing key sealed as the server seals it.
func insertChannels(ctx context.Context, st store.Store, kr *secret.Keyring, o options, receiver int, key string) error {
	now := time.Now().UTC()
	return st.Write(ctx, func(tx store.Tx) error {
		for c := range o.channels {
			id := channelID(c)
			sealed, err := kr.Seal([]byte(key), secret.Binding{ObjectID: id, Revision: 1})
			if err != nil {
				return err
			}
			ch := store.ChannelRecord{NotificationChannel: api.NotificationChannel{
				Meta: api.Meta{ID: id, Revision: 1, CreatedAt: now, UpdatedAt: now},
				Name: fmt.Sprintf("bench-hook-%02d", c), Type: api.ChannelWebhook, Enabled: new(true), SendResolved: new(true),
				URL: new(fmt.Sprintf("http://127.0.0.1:%d/hook/%s", receiver, id)), SecretRevision: 1,
			}, Sealed: sealed}
			if err := tx.InsertChannel(ctx, ch); err != nil {
				return err
			}
		}
		return nil
	})
}

// threshold is monitor i's threshold. The failure kinds trip within a
// few failed probes; none trips on a healthy local target.
func threshold(i int, o options, now time.Time) api.AlertThreshold {
	mon := monitorID(i)
	t := api.AlertThreshold{
		Meta:       api.Meta{ID: thresholdID(i), Revision: 1, CreatedAt: now, UpdatedAt: now},
		Name:       fmt.Sprintf("bench-threshold-%06d", i),
		MonitorID:  &mon,
		PendingFor: new(pendingFor(i).String()),
		ChannelIDs: []string{channelID((i / 40) % o.channels)},
	}
	window := []string{"1m", "5m", "15m"}[(i/5)%3]
	switch i % kinds {
	case kindBurn:
		// The SRE workbook's pairs (the default windows): 1h/5m and
		// 6h/30m critical, 3d/6h warning.
		t.Metric, t.SLO = api.MetricBurnRate, &api.SLO{ObjectivePercent: 99.9, Period: "720h"}
	case kindErrorRate:
		t.Metric, t.Comparison, t.Critical, t.Window = api.MetricErrorRate, new(api.CompareAbove), new(1.0), &window
	case kindAvailability:
		t.Metric, t.Comparison, t.Critical, t.Window = api.MetricAvailability, new(api.CompareBelow), new(99.0), &window
	case kindConsecutive:
		t.Metric, t.Comparison, t.Critical = api.MetricConsecutiveFailure, new(api.CompareAbove), new(2.0)
	default:
		// Limits far from what a local target does even on a loaded
		// machine (a probe of a local target takes a millisecond), so
		// that the only alerts are those of the failing targets.
		switch (i / 5) % 5 {
		case 0:
			t.Metric, t.Comparison, t.Warning, t.Critical = api.MetricLatencyP95, new(api.CompareAbove), new(3000.0), new(8000.0)
		case 1:
			t.Metric, t.Comparison, t.Critical = api.MetricLatencyP99, new(api.CompareAbove), new(8000.0)
		case 2:
			t.Metric, t.Comparison, t.Critical = api.MetricLatencyAvg, new(api.CompareAbove), new(5000.0)
		case 3:
			t.Metric, t.Comparison, t.Critical = api.MetricRetryRate, new(api.CompareAbove), new(50.0)
		default:
			t.Metric, t.Comparison, t.Critical = api.MetricProbesPerMinute, new(api.CompareBelow), new(0.5)
		}
		t.Window = &window
	}
	t.Normalize()
	return t
}

// insertThresholds stores one threshold per monitor, each validated as
// the API validates it.
func insertThresholds(ctx context.Context, st store.Store, o options) error {
	now := time.Now().UTC()
	for base := 0; base < o.monitors; base += insertBatch {
		n := min(insertBatch, o.monitors-base)
		err := st.Write(ctx, func(tx store.Tx) error {
			for i := base; i < base+n; i++ {
				t := threshold(i, o, now)
				if errs := t.Validate(); len(errs) > 0 {
					return fmt.Errorf("threshold %d: %s %s", i, errs[0].Field, errs[0].Message)
				}
				if err := tx.InsertThreshold(ctx, t); err != nil {
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

// seedHistory gives every monitor the rollups an aiod that has run for
// days holds, so that each tick reads what it reads in production: the
// minute rollups of the last 15 minutes (the longest window of their
// thresholds) for every monitor, and for the burn-rate monitors those of
// the last six hours and the hour rollups of the last 73 hours. No minute
// rollups at the far edge of the 3-day window: with the default ages
// (minute rollups 49 hours) they are gone, and that edge is read from the
// hour rollups. Every bucket is healthy: six probes a minute, all up, 1 ms.
//
// The rows are written with SQL, as WriteResults would leave them, because
// producing days of raw results through the engine would take days (or
// hours of writes); the store reads them through its own queries. They are
// made inside SQLite (a recursive CTE of buckets crossed with the
// monitors), bucket by bucket, every monitor's row of a bucket together,
// as the results writer stores them: a monitor's rows are spread over the
// table as in production, not packed together.
func seedHistory(ctx context.Context, path string, o options, now time.Time) (int64, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(normal)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	minute, hour := now.Truncate(time.Minute), now.Truncate(time.Hour)
	var all, burn []string
	for i := range o.monitors {
		all = append(all, monitorID(i))
		if i%kinds == kindBurn {
			burn = append(burn, monitorID(i))
		}
	}
	const days3 = 72 * time.Hour
	var rows int64
	for _, sp := range []struct {
		table    string
		ids      []string
		from, to time.Time
		step     time.Duration
	}{
		{"rollups_minute", all, minute.Add(-15 * time.Minute), minute, time.Minute},
		{"rollups_minute", burn, minute.Add(-6 * time.Hour), minute.Add(-15 * time.Minute), time.Minute},
		{"rollups_hour", burn, hour.Add(-days3 - time.Hour), hour, time.Hour},
	} {
		n := int64(sp.step / o.interval)
		var h stats.Histogram
		h.AddN(1, uint64(n))
		ids, err := json.Marshal(sp.ids)
		if err != nil {
			return rows, err
		}
		// The lean layout (migration 00014): rows keyed by the monitor's
		// key in result_monitors, buckets in Unix seconds.
		if _, err := db.ExecContext(ctx, `INSERT OR IGNORE INTO result_monitors (monitor_id) SELECT value FROM json_each(?)`,
			string(ids)); err != nil {
			return rows, fmt.Errorf("seed result_monitors: %w", err)
		}
		res, err := db.ExecContext(ctx, `INSERT INTO `+sp.table+` (monitor_key, bucket_start, probes, up, degraded, down, retried,
			missed, bytes, latency_sum_ms, histogram)
			WITH RECURSIVE t(b) AS (SELECT ? UNION ALL SELECT b + ? FROM t WHERE b + ? < ?),
			m(key) AS (SELECT k.key FROM result_monitors k JOIN json_each(?) j ON k.monitor_id = j.value)
			SELECT m.key, t.b, ?, ?, 0, 0, 0, 0, ?, ?, ?
			FROM t CROSS JOIN m ORDER BY t.b, m.key`,
			sp.from.Unix(), int64(sp.step/time.Second), int64(sp.step/time.Second), sp.to.Unix(), string(ids),
			n, n, n*int64(len(benchsys.TargetBody)), float64(n), h.Marshal())
		if err != nil {
			return rows, fmt.Errorf("seed %s: %w", sp.table, err)
		}
		k, _ := res.RowsAffected()
		rows += k
	}
	// The rollups are written up to minute, as the results writer leaves
	// them (migration 00018): windows read the seeded rows before it and
	// the raw results after it.
	if _, err := db.ExecContext(ctx, `UPDATE rollup_progress SET minute = ?, next_key = 0 WHERE minute < ?`,
		minute.Unix(), minute.Unix()); err != nil {
		return rows, fmt.Errorf("seed rollup progress: %w", err)
	}
	return rows, nil
}
