package store

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// revision returns revision n of object id, written at t0 plus n hours.
func revision(id string, n int64, snapshot string) api.Revision {
	return api.Revision{ObjectKind: api.KindEndpoint, ObjectID: id, Revision: n, Time: at(time.Duration(n) * time.Hour),
		Actor: "alice", ActorRole: api.RoleEditor, Action: api.ActionUpdate, Object: json.RawMessage(snapshot)}
}

func storedRevision(v api.Revision) api.Revision { v.Time = us(v.Time); return v }

func testRevisions(t *testing.T, s Store, open func(*testing.T) Store) {
	ctx := t.Context()
	revs := []api.Revision{
		revision("ep_1", 1, `{"id":"ep_1","name":"a"}`),
		revision("ep_1", 2, `{"id":"ep_1","name":"b","tags":{"team":"x"}}`),
		revision("ep_2", 1, `{"id":"ep_2","name":"c"}`),
	}
	revs[0].Action = api.ActionCreate
	write(t, s, func(tx Tx) error {
		for _, v := range revs {
			if err := tx.InsertRevision(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})
	// A revision number the object already has is refused; the rollback
	// leaves the others.
	err := s.Write(ctx, func(tx Tx) error { return tx.InsertRevision(ctx, revision("ep_1", 2, `{}`)) })
	wantErr(t, "second revision 2", err, ErrConflict)

	s = open(t) // What was written survives a reopen.
	got, next, err := s.ListRevisions(ctx, RevisionQuery{ObjectID: "ep_1"})
	if err != nil || next != "" {
		t.Fatalf("ListRevisions: %v, next %q", err, next)
	}
	want := []api.Revision{storedRevision(revs[1]), storedRevision(revs[0])}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListRevisions(ep_1), newest first:\ngot  %+v\nwant %+v", got, want)
	}
	one, err := s.GetRevision(ctx, "ep_1", 2)
	if err != nil || !reflect.DeepEqual(one, storedRevision(revs[1])) {
		t.Errorf("GetRevision(ep_1, 2) = %+v, %v", one, err)
	}
	_, err = s.GetRevision(ctx, "ep_1", 3)
	wantErr(t, "GetRevision(ep_1, 3)", err, ErrNotFound)
	_, err = s.GetRevision(ctx, "ep_9", 1)
	wantErr(t, "GetRevision(ep_9, 1)", err, ErrNotFound)
	none, _, err := s.ListRevisions(ctx, RevisionQuery{ObjectID: "ep_9"})
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("ListRevisions(ep_9) = %v, %v; want an empty list", none, err)
	}
	_, _, err = s.ListRevisions(ctx, RevisionQuery{ObjectID: "ep_1", After: "x"})
	wantErr(t, "bad cursor", err, ErrBadCursor)
}

func testRevisionsPaging(t *testing.T, s Store, _ func(*testing.T) Store) {
	ctx := t.Context()
	write(t, s, func(tx Tx) error {
		for n := int64(1); n <= 5; n++ {
			if err := tx.InsertRevision(ctx, revision("ep_1", n, `{}`)); err != nil {
				return err
			}
		}
		return nil
	})
	var seen []int64
	q := RevisionQuery{ObjectID: "ep_1", Limit: 2}
	for page := 0; ; page++ {
		got, next, err := s.ListRevisions(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range got {
			seen = append(seen, v.Revision)
		}
		if next == "" {
			break
		}
		if page > 5 {
			t.Fatal("paging does not end")
		}
		q.After = next
	}
	if want := []int64{5, 4, 3, 2, 1}; !reflect.DeepEqual(seen, want) {
		t.Errorf("paged revisions = %v, want %v", seen, want)
	}
	// A page that holds exactly what is left is the last one; the
	// smallest cursor, "1", is an empty last page; a cursor that is no
	// revision number is refused.
	if got, next, err := s.ListRevisions(ctx, RevisionQuery{ObjectID: "ep_1", Limit: 5}); err != nil || len(got) != 5 || next != "" {
		t.Errorf("a page of exactly the 5 revisions: %d, next %q, %v; want them all and no next page", len(got), next, err)
	}
	if got, next, err := s.ListRevisions(ctx, RevisionQuery{ObjectID: "ep_1", After: "1"}); err != nil || len(got) != 0 || next != "" {
		t.Errorf("cursor \"1\": %d revisions, next %q, %v; want an empty last page", len(got), next, err)
	}
	for _, bad := range []string{"0", "-3", "x"} {
		_, _, err := s.ListRevisions(ctx, RevisionQuery{ObjectID: "ep_1", After: bad})
		wantErr(t, fmt.Sprintf("cursor %q", bad), err, ErrBadCursor)
	}
}

func testTombstones(t *testing.T, s Store, _ func(*testing.T) Store) {
	ctx := t.Context()
	a := api.Tombstone{ObjectKind: api.KindEndpoint, ObjectID: "ep_a", Name: "a", Revision: 3, DeletedAt: at(time.Hour),
		Actor: "bob", ActorRole: api.RoleEditor, Object: json.RawMessage(`{"id":"ep_a","name":"a"}`)}
	b := a
	b.ObjectID, b.Name = "ep_b", "b"
	m := a
	m.ObjectKind, m.ObjectID = api.KindMonitor, "mon_a"
	write(t, s, func(tx Tx) error {
		for _, v := range []api.Tombstone{b, a, m} {
			if err := tx.InsertTombstone(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})
	stored := func(v api.Tombstone) api.Tombstone { v.DeletedAt = us(v.DeletedAt); return v }
	got, next, err := s.ListTombstones(ctx, TombstoneQuery{Kind: api.KindEndpoint, Limit: 1})
	if err != nil || next != "ep_a" || !reflect.DeepEqual(got, []api.Tombstone{stored(a)}) {
		t.Errorf("ListTombstones(endpoint, limit 1) = %+v, %q, %v", got, next, err)
	}
	got, next, err = s.ListTombstones(ctx, TombstoneQuery{Kind: api.KindEndpoint, After: next})
	if err != nil || next != "" || !reflect.DeepEqual(got, []api.Tombstone{stored(b)}) {
		t.Errorf("ListTombstones(endpoint, page 2) = %+v, %q, %v", got, next, err)
	}
	got, next, err = s.ListTombstones(ctx, TombstoneQuery{Kind: api.KindEndpoint, Limit: 2})
	if err != nil || next != "" || len(got) != 2 {
		t.Errorf("ListTombstones(endpoint, limit 2) = %d tombstones, %q, %v; want both and no next page", len(got), next, err)
	}
	// DeletedSince is inclusive.
	got, _, err = s.ListTombstones(ctx, TombstoneQuery{Kind: api.KindEndpoint, DeletedSince: at(time.Hour)})
	if err != nil || len(got) != 2 {
		t.Errorf("ListTombstones(since the deletes) = %+v, %v; want both", got, err)
	}
	got, _, err = s.ListTombstones(ctx, TombstoneQuery{Kind: api.KindEndpoint, DeletedSince: at(time.Hour + time.Microsecond)})
	if err != nil || len(got) != 0 {
		t.Errorf("ListTombstones(since after the deletes) = %+v, %v; want none", got, err)
	}
	if _, err := s.GetTombstone(ctx, api.KindMonitor, "ep_a"); err == nil {
		t.Error("GetTombstone of another kind's ID should've been ErrNotFound")
	}
	// A second delete of the same ID (restored, deleted again) replaces
	// the tombstone.
	a2 := a
	a2.Revision = 5
	write(t, s, func(tx Tx) error { return tx.InsertTombstone(ctx, a2) })
	got1, err := s.GetTombstone(ctx, api.KindEndpoint, "ep_a")
	if err != nil || got1.Revision != 5 {
		t.Errorf("GetTombstone after a second delete = %+v, %v; want revision 5", got1, err)
	}
	write(t, s, func(tx Tx) error { return tx.DeleteTombstone(ctx, "ep_a") })
	_, err = s.GetTombstone(ctx, api.KindEndpoint, "ep_a")
	wantErr(t, "GetTombstone after DeleteTombstone", err, ErrNotFound)
	err = s.Write(ctx, func(tx Tx) error { return tx.DeleteTombstone(ctx, "ep_a") })
	wantErr(t, "second DeleteTombstone", err, ErrNotFound)
}

// testRetentionDeleteRevisions: the change history's retention (data kind
// revisions) removes revisions older than the cut that are not their
// object's newest, and tombstones of objects deleted before the cut with
// every revision of those objects; a batch is bounded.
func testRetentionDeleteRevisions(t *testing.T, s Store, _ func(*testing.T) Store) {
	ctx := t.Context()
	// ep_1 has revisions at 1h..4h; ep_2 only one at 1h; ep_3 was deleted
	// at 2h with revisions at 1h and 2h; ep_4 was deleted at 9h.
	write(t, s, func(tx Tx) error {
		for _, v := range []api.Revision{revision("ep_1", 1, `{}`), revision("ep_1", 2, `{}`), revision("ep_1", 3, `{}`), revision("ep_1", 4, `{}`),
			revision("ep_2", 1, `{}`), revision("ep_3", 1, `{}`), revision("ep_3", 2, `{}`), revision("ep_4", 1, `{}`)} {
			if err := tx.InsertRevision(ctx, v); err != nil {
				return err
			}
		}
		for _, ts := range []api.Tombstone{
			{ObjectKind: api.KindEndpoint, ObjectID: "ep_3", Name: "c", Revision: 2, DeletedAt: at(2 * time.Hour), Actor: "a", ActorRole: "editor", Object: json.RawMessage(`{}`)},
			{ObjectKind: api.KindEndpoint, ObjectID: "ep_4", Name: "d", Revision: 1, DeletedAt: at(9 * time.Hour), Actor: "a", ActorRole: "editor", Object: json.RawMessage(`{}`)},
		} {
			if err := tx.InsertTombstone(ctx, ts); err != nil {
				return err
			}
		}
		return nil
	})
	deleted := func(before time.Time, limit int) int64 {
		t.Helper()
		counts, err := s.RetentionDelete(ctx, RetentionSelector{DataKind: api.DataRevisions, Before: before}, limit)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, c := range counts {
			n += c
		}
		return n
	}
	// ep_1: 1, 2, 3 are older than the cut and not the newest; so is
	// ep_3's 1; ep_3's tombstone goes, taking its newest revision along.
	if n := deleted(at(3*time.Hour+time.Minute), 100); n != 5 {
		t.Errorf("RetentionDelete of revisions = %d records, want 5 (4 revisions, 1 tombstone)", n)
	}
	left := func() map[string][]int64 {
		t.Helper()
		out := map[string][]int64{}
		for _, id := range []string{"ep_1", "ep_2", "ep_3", "ep_4"} {
			revs, _, err := s.ListRevisions(ctx, RevisionQuery{ObjectID: id})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range revs {
				out[id] = append(out[id], v.Revision)
			}
		}
		return out
	}
	if got, want := left(), map[string][]int64{"ep_1": {4}, "ep_2": {1}, "ep_4": {1}}; !reflect.DeepEqual(got, want) {
		t.Errorf("revisions left = %v, want %v", got, want)
	}
	if ts, _, _ := s.ListTombstones(ctx, TombstoneQuery{Kind: api.KindEndpoint}); len(ts) != 1 || ts[0].ObjectID != "ep_4" {
		t.Errorf("tombstones left = %+v, want ep_4 only", ts)
	}
	// Batches are bounded: two of ep_2's five old revisions (of six) in
	// the first batch, the rest and ep_4's tombstone (with its one
	// revision) in the following ones.
	write(t, s, func(tx Tx) error {
		for n := int64(2); n <= 6; n++ {
			if err := tx.InsertRevision(ctx, revision("ep_2", n, `{}`)); err != nil {
				return err
			}
		}
		return nil
	})
	if n := deleted(at(100*time.Hour), 2); n != 2 {
		t.Errorf("RetentionDelete of revisions with limit 2 = %d records, want 2", n)
	}
	// Bounded: a delete that never reports zero would loop forever.
	for batches := 0; deleted(at(100*time.Hour), 2) != 0; batches++ {
		if batches == 20 {
			t.Fatal("RetentionDelete of revisions still deletes after 20 batches of 2")
		}
	}
	if got, want := left(), map[string][]int64{"ep_1": {4}, "ep_2": {6}}; !reflect.DeepEqual(got, want) {
		t.Errorf("revisions left after every batch = %v, want %v", got, want)
	}
	if ts, _, _ := s.ListTombstones(ctx, TombstoneQuery{Kind: api.KindEndpoint}); len(ts) != 0 {
		t.Errorf("tombstones left = %+v, want none", ts)
	}
}

func testAuditChanges(t *testing.T, s Store, _ func(*testing.T) Store) {
	ctx := t.Context()
	ev := api.AuditEvent{ID: "aud_1", Time: t0, Actor: "alice", ActorRole: api.RoleEditor, Action: api.ActionUpdate,
		ObjectKind: api.KindEndpoint, ObjectID: "ep_1", Revision: 2, ChangedFields: []string{"tags.team", "secret"},
		Changes: []api.Change{
			{Path: "tags.team", Old: json.RawMessage(`null`), New: json.RawMessage(`"payments"`)},
			{Path: "secret", Sensitive: true},
		}}
	write(t, s, func(tx Tx) error { return tx.InsertAuditEvent(ctx, ev) })
	got, _, err := s.ListAuditEvents(ctx, AuditQuery{ObjectID: "ep_1"})
	if err != nil || len(got) != 1 {
		t.Fatalf("ListAuditEvents = %v, %v", got, err)
	}
	if !reflect.DeepEqual(got[0], storedEvent(ev)) {
		t.Errorf("audit event with changes:\ngot  %+v\nwant %+v", got[0], storedEvent(ev))
	}
}
