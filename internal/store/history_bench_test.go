package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// BenchmarkHistoryWriteOverhead measures what the history adds to a write:
// each iteration times an endpoint update with its audit event (the write
// before history), and the same with its revision snapshot (the write now),
// alternating so that both see the same database, and reports both and
// their ratio.
func BenchmarkHistoryWriteOverhead(b *testing.B) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "aio.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	base, hist := endpoint("ep_base", "base"), endpoint("ep_hist", "hist")
	base.Tags = map[string]string{"team": "payments", "env": "prod"}
	hist.Tags = base.Tags
	if err := s.Write(ctx, func(tx Tx) error {
		if err := tx.InsertEndpoint(ctx, base); err != nil {
			return err
		}
		return tx.InsertEndpoint(ctx, hist)
	}); err != nil {
		b.Fatal(err)
	}
	write := func(e api.Endpoint, n int64, withRevision bool) time.Duration {
		start := time.Now()
		err := s.Write(ctx, func(tx Tx) error {
			e.Revision, e.UpdatedAt = n, t0.Add(time.Duration(n)*time.Second)
			desc := fmt.Sprintf("revision %d of the payments API", n)
			e.Description = &desc
			if err := tx.UpdateEndpoint(ctx, e); err != nil {
				return err
			}
			ev := api.AuditEvent{ID: fmt.Sprintf("aud_%s_%d", e.ID, n), Time: e.UpdatedAt, Actor: "bench", ActorRole: api.RoleEditor,
				Action: api.ActionUpdate, ObjectKind: api.KindEndpoint, ObjectID: e.ID, Revision: n, ChangedFields: []string{"description"},
				Changes: []api.Change{{Path: "description", Old: json.RawMessage(`"before"`), New: json.RawMessage(`"after"`)}}}
			if err := tx.InsertAuditEvent(ctx, ev); err != nil {
				return err
			}
			if !withRevision {
				return nil
			}
			snap, err := json.Marshal(e)
			if err != nil {
				return err
			}
			return tx.InsertRevision(ctx, api.Revision{ObjectKind: api.KindEndpoint, ObjectID: e.ID, Revision: n, Time: e.UpdatedAt,
				Actor: "bench", ActorRole: api.RoleEditor, Action: api.ActionUpdate, Object: snap})
		})
		if err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var tb, th time.Duration
	b.ResetTimer()
	for i := range b.N {
		n := int64(i + 2)
		tb += write(base, n, false)
		th += write(hist, n, true)
	}
	b.StopTimer()
	b.ReportMetric(float64(tb.Nanoseconds())/float64(b.N), "base-ns/write")
	b.ReportMetric(float64(th.Nanoseconds())/float64(b.N), "history-ns/write")
	b.ReportMetric(float64(th)/float64(tb), "ratio")
}
