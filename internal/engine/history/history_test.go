package history_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/history"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

var t0 = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// TestPruneKeepsDefaultAgeAndNewest writes a year and a half of history
// and prunes it with the default age, in batches smaller than the work:
// what is older than 400 days goes, the newest revision of a live object
// stays whatever its age, and a deleted object's history goes with its
// tombstone.
func TestPruneKeepsDefaultAgeAndNewest(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "aio.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	day := 24 * time.Hour
	rev := func(id string, n int64, at time.Time) api.Revision {
		return api.Revision{ObjectKind: api.KindEndpoint, ObjectID: id, Revision: n, Time: at, Actor: "a", ActorRole: api.RoleEditor,
			Action: api.ActionUpdate, Object: json.RawMessage(`{}`)}
	}
	err = st.Write(ctx, func(tx store.Tx) error {
		// ep_live: a revision a day for 500 days; ep_old: one revision 450
		// days ago and nothing since; ep_gone: deleted 420 days ago;
		// ep_recent: deleted 10 days ago.
		for n := int64(1); n <= 500; n++ {
			if err := tx.InsertRevision(ctx, rev("ep_live", n, t0.Add(time.Duration(n)*day))); err != nil {
				return err
			}
		}
		for _, v := range []api.Revision{rev("ep_old", 1, t0.Add(50*day)), rev("ep_gone", 1, t0.Add(60*day)), rev("ep_recent", 1, t0.Add(70*day))} {
			if err := tx.InsertRevision(ctx, v); err != nil {
				return err
			}
		}
		for id, at := range map[string]time.Time{"ep_gone": t0.Add(80 * day), "ep_recent": t0.Add(490 * day)} {
			if err := tx.InsertTombstone(ctx, api.Tombstone{ObjectKind: api.KindEndpoint, ObjectID: id, Name: id, Revision: 1,
				DeletedAt: at, Actor: "a", ActorRole: api.RoleEditor, Object: json.RawMessage(`{}`)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := history.New(st, history.Config{Batch: 7})
	if r.Age() != 400*day {
		t.Errorf("default age %s", r.Age())
	}
	now := t0.Add(500 * day)
	p, err := r.Prune(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	// ep_live: revisions 1..99 are older than day 100 (the cut), 99 of
	// them; ep_gone's tombstone and its one revision.
	if want := (store.HistoryPruned{Revisions: 100, Tombstones: 1}); p != want {
		t.Errorf("Prune = %+v, want %+v", p, want)
	}
	count := func(id string) int {
		revs, err := store.ListAll(ctx, func(ctx context.Context, q store.ListQuery) ([]api.Revision, string, error) {
			return st.ListRevisions(ctx, store.RevisionQuery{ObjectID: id, Limit: q.Limit, After: q.After})
		})
		if err != nil {
			t.Fatal(err)
		}
		return len(revs)
	}
	for id, want := range map[string]int{"ep_live": 401, "ep_old": 1, "ep_gone": 0, "ep_recent": 1} {
		if got := count(id); got != want {
			t.Errorf("%s keeps %d revisions, want %d", id, got, want)
		}
	}
	// A second pass finds nothing more.
	if p, err := r.Prune(ctx, now); err != nil || p != (store.HistoryPruned{}) {
		t.Errorf("second Prune = %+v, %v", p, err)
	}
}
