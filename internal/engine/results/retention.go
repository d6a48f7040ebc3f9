package results

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Default ages of the result tiers: the built-in retention of the results
// no retention policy covers (package retention enforces them). They are
// chosen so that at the probe engine's design load (10,000 monitors every
// 10 s, 1,000 results a second) the result store's steady state fits in
// 10 GB with a margin: at the bytes per row that `make bench-retention`
// measures (README, "Storage at full load") raw results take about 1.5 GB,
// minute rollups 2.0 GB and hour rollups 4.7 GB, 8.2 GB in all. Every
// window reads its whole hours from the hour rollups, the whole minutes
// at its edges from the minute rollups and the partial minutes from raw
// results (store.planWindow), so each tier still serves what reads it:
//
//   - Raw results serve the results listing (a few hours of every probe's
//     detail to debug with), consecutive_failures (the latest outcomes)
//     and the partial minutes at the edges of windows.
//   - Minute rollups serve the partial hours at the edges of windows, at
//     the start edge exactly for windows up to 48 hours.
//   - Hour rollups serve the whole hours of every window, up to the
//     longest one the API accepts: a status window (api.MaxStatusWindow),
//     a threshold window (api.MaxThresholdWindow) or a burn-rate window
//     within an SLO period (api.MaxSLOPeriod), all 90 days.
const (
	// DefaultRawAge keeps raw results and missed runs for 4 hours.
	DefaultRawAge = 4 * time.Hour
	// DefaultMinuteAge keeps minute rollups for 49 hours: 48 hours and an
	// hour, so that a window of up to 48 hours still finds the minutes of
	// its start edge when retention has just run (every 10 minutes).
	DefaultMinuteAge = 49 * time.Hour
	// DefaultHourAge keeps hour rollups for 91 days: the longest window,
	// 90 days, and a day.
	DefaultHourAge = 91 * 24 * time.Hour
	// DefaultPruneBatch is how many rows one delete transaction removes,
	// so that pruning never holds the writer for long.
	DefaultPruneBatch = 1000
)

// RetentionConfig sets the ages of the tiers. Zero values take the
// defaults.
type RetentionConfig struct {
	RawAge, MinuteAge, HourAge time.Duration
	// Batch is the most rows per delete transaction (DefaultPruneBatch).
	Batch int
	// Logger receives what was pruned (nothing is logged when nil).
	Logger *slog.Logger
}

// Retention deletes results past their tier's age, and the results of
// monitors that no longer exist, with no regard to retention policies:
// what the results benchmarks prune with. The engine enforces retention
// with package retention, which applies these ages to what no policy
// covers.
type Retention struct {
	st  store.ResultStore
	cfg RetentionConfig
	log *slog.Logger
}

// NewRetention returns the retention of st's results.
func NewRetention(st store.ResultStore, cfg RetentionConfig) *Retention {
	if cfg.RawAge <= 0 {
		cfg.RawAge = DefaultRawAge
	}
	if cfg.MinuteAge <= 0 {
		cfg.MinuteAge = DefaultMinuteAge
	}
	if cfg.HourAge <= 0 {
		cfg.HourAge = DefaultHourAge
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultPruneBatch
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Retention{st: st, cfg: cfg, log: log.With("component", "results-retention")}
}

// Pruned counts the rows Prune deleted per tier, and the rows (of every
// tier and state) of monitors that no longer exist.
type Pruned struct {
	Raw, Minute, Hour int64
	Orphans           int64
}

// Total is the number of rows deleted.
func (p Pruned) Total() int64 { return p.Raw + p.Minute + p.Hour + p.Orphans }

// Prune deletes, in batches, the rows of monitors that no longer exist,
// then tier by tier every row older than the tier's age at now. It stops
// at the first error (or when ctx ends) and returns what it deleted until
// then.
//
// Orphans come from results the writer still held when their monitor was
// deleted: they are stored after the monitor's data was removed. Without
// this their state and hour rollups would stay for ever (or 91 days).
func (r *Retention) Prune(ctx context.Context, now time.Time) (Pruned, error) {
	var p Pruned
	for {
		if err := ctx.Err(); err != nil {
			return p, err
		}
		n, err := r.st.DeleteOrphanResults(ctx, r.cfg.Batch)
		p.Orphans += n
		if err != nil {
			return p, fmt.Errorf("prune results of deleted monitors: %w", err)
		}
		if n < int64(r.cfg.Batch) {
			break
		}
	}
	for _, tier := range []struct {
		name string
		age  time.Duration
		n    *int64
	}{
		{store.TierRaw, r.cfg.RawAge, &p.Raw},
		{store.TierMinute, r.cfg.MinuteAge, &p.Minute},
		{store.TierHour, r.cfg.HourAge, &p.Hour},
	} {
		before := now.Add(-tier.age)
		for {
			if err := ctx.Err(); err != nil {
				return p, err
			}
			n, err := r.st.DeleteResultsBefore(ctx, tier.name, before, r.cfg.Batch)
			*tier.n += n
			if err != nil {
				return p, fmt.Errorf("prune %s results: %w", tier.name, err)
			}
			if n < int64(r.cfg.Batch) {
				break
			}
		}
	}
	if p != (Pruned{}) {
		r.log.Info("probe results pruned", "raw", p.Raw, "minute", p.Minute, "hour", p.Hour, "orphans", p.Orphans)
	}
	return p, nil
}
