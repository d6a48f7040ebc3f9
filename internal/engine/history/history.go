// Package history prunes the change history (revisions and tombstones of
// every configuration kind) past its age, in the engine's retention pass.
//
// The history is one retention data kind, store.DataKindRevisions: the
// retention policies, when they exist, cover it by mapping that data kind
// to Retention.Prune with their own age, one line in their table of data
// kinds. Until then every aiod keeps DefaultAge (--history-retention).
package history

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

const (
	// DataKind is the retention data kind of the history.
	DataKind = store.DataKindRevisions
	// DefaultAge keeps revisions and tombstones for 400 days: a year of
	// audit and a margin, as the hour rollups.
	DefaultAge = 400 * 24 * time.Hour
	// DefaultBatch is the most revisions (and tombstones) one write
	// transaction removes, so that pruning never holds the writer long.
	DefaultBatch = 500
)

// Config sets the retention of the history.
type Config struct {
	// Age is how long revisions and tombstones are kept (DefaultAge when
	// zero). The newest revision of an object that still exists is kept
	// whatever its age: it is what diffs and attributions start from.
	Age time.Duration
	// Batch is the most rows per transaction (DefaultBatch when zero).
	Batch  int
	Logger *slog.Logger
}

// Retention prunes the history of one store.
type Retention struct {
	st  store.Store
	cfg Config
	log *slog.Logger
}

// New returns the history retention of st.
func New(st store.Store, cfg Config) *Retention {
	if cfg.Age <= 0 {
		cfg.Age = DefaultAge
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Retention{st: st, cfg: cfg, log: log.With("component", "history-retention")}
}

// Age is the configured age of the history.
func (r *Retention) Age() time.Duration { return r.cfg.Age }

// Prune removes, batch by batch, what is older than the configured age at
// now; see PruneBefore.
func (r *Retention) Prune(ctx context.Context, now time.Time) (store.HistoryPruned, error) {
	return r.PruneBefore(ctx, now.Add(-r.cfg.Age))
}

// PruneBefore removes, batch by batch, the tombstones of objects deleted
// before cut (with their revisions) and the revisions written before cut
// that are not their object's newest. It stops at the first error or when
// ctx ends, and returns what it removed until then.
func (r *Retention) PruneBefore(ctx context.Context, cut time.Time) (store.HistoryPruned, error) {
	var total store.HistoryPruned
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var p store.HistoryPruned
		err := r.st.Write(ctx, func(tx store.Tx) error {
			var err error
			p, err = tx.PruneHistory(ctx, cut, r.cfg.Batch)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("prune the change history: %w", err)
		}
		total.Revisions += p.Revisions
		total.Tombstones += p.Tombstones
		if p.Revisions < int64(r.cfg.Batch) && p.Tombstones < int64(r.cfg.Batch) {
			break
		}
	}
	if total != (store.HistoryPruned{}) {
		r.log.Info("change history pruned", "revisions", total.Revisions, "tombstones", total.Tombstones)
	}
	return total, nil
}
