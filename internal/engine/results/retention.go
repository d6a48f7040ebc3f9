package results

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Default ages of the result tiers, until retention policies exist. Raw
// results serve the edges of windows and the results listing; minute
// rollups serve the whole minutes at the edges of windows (and the windows
// shorter than an hour); hour rollups serve the whole hours of windows (a
// status window is at most api.MaxStatusWindow, 90 days).
const (
	// DefaultRawAge keeps raw results and missed runs for 48 hours.
	DefaultRawAge = 48 * time.Hour
	// DefaultMinuteAge keeps minute rollups for 14 days.
	DefaultMinuteAge = 14 * 24 * time.Hour
	// DefaultHourAge keeps hour rollups for 400 days: a year and a margin.
	DefaultHourAge = 400 * 24 * time.Hour
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
// monitors that no longer exist. The engine calls Prune periodically.
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
// this their state and hour rollups would stay for ever (or 400 days).
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
