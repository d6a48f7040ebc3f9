package store

// Retention scenarios of the store contract: the selections that
// RetentionDelete, RetentionAnonymize, RetentionCount and RetentionOldest
// make, the run records and the erasure queue (retention.go).
// TestContractRetention (backends_test.go) runs them on every backend.
//
// The retention engine's tests (internal/engine/retention) run the same
// calls through real policies; these check the store's half of the
// contract on its own: the edges a policy never reaches (limits, cursors,
// excluded scopes, refusals), so that a change to the SQL shows here.

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// runRetentionContract runs every retention scenario. open must return a
// store on a new, empty database each time it is called, closed with
// t.Cleanup.
func runRetentionContract(t *testing.T, open func(t *testing.T) Store) {
	for _, sc := range []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"RunRecords", testRetentionRunRecords},
		{"ErasureQueue", testRetentionErasureQueue},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, open(t)) })
	}
}

// ---- run records ----

// retRun returns run n of a policy: started n minutes after t0, with the
// given scopes and errors (nil ones stay nil).
func retRun(policyID string, n int, scopes []api.RetentionScopeCount, errs []string) api.RetentionRun {
	return api.RetentionRun{
		ID: fmt.Sprintf("rrn_%s_%d", policyID, n), PolicyID: policyID, Trigger: api.TriggerSchedule,
		StartedAt: at(time.Duration(n) * time.Minute), FinishedAt: at(time.Duration(n)*time.Minute + time.Second),
		Cutoff: at(time.Duration(n)*time.Minute - 24*time.Hour), FloorApplied: n%2 == 0,
		Deleted: int64(10 * n), Anonymized: int64(n), Scopes: scopes, Errors: errs,
	}
}

// storedRun is what the store gives back for r: times in microseconds, nil
// scopes and errors as empty lists (the API shows [] rather than null).
func storedRun(r api.RetentionRun) api.RetentionRun {
	r.StartedAt, r.FinishedAt, r.Cutoff = us(r.StartedAt), us(r.FinishedAt), us(r.Cutoff)
	if r.Scopes == nil {
		r.Scopes = []api.RetentionScopeCount{}
	}
	if r.Errors == nil {
		r.Errors = []string{}
	}
	return r
}

// testRetentionRunRecords: a run record round-trips with its scopes and
// errors (nil ones read back as empty lists), updates the policy's report
// and is audited in the same transaction; a policy's runs page newest
// first, a page of exactly limit runs, then a cursor, and the last page
// none; another policy's runs are not listed; a bad cursor is refused.
func testRetentionRunRecords(t *testing.T, s Store) {
	ctx := t.Context()
	write(t, s, func(tx Tx) error {
		if err := tx.InsertRetentionPolicy(ctx, retentionPolicy("ret_a", "a")); err != nil {
			return err
		}
		return tx.InsertRetentionPolicy(ctx, retentionPolicy("ret_b", "b"))
	})
	var want []api.RetentionRun
	for n := 1; n <= 5; n++ {
		var (
			scopes []api.RetentionScopeCount
			errs   []string
		)
		if n%2 == 1 {
			scopes = []api.RetentionScopeCount{{EndpointID: "ep_1", Deleted: int64(n)}, {Anonymized: 2}}
			errs = []string{fmt.Sprintf("error %d", n)}
		}
		r := retRun("ret_a", n, scopes, errs)
		ev := auditEvent(fmt.Sprintf("aud_%d", n), r.FinishedAt, "retention", api.KindRetention, "ret_a")
		if err := s.RecordRetentionRun(ctx, r, at(time.Hour+time.Duration(n)*time.Minute), ev); err != nil {
			t.Fatalf("RecordRetentionRun(%d): %v", n, err)
		}
		want = append([]api.RetentionRun{storedRun(r)}, want...)
	}
	if err := s.RecordRetentionRun(ctx, retRun("ret_b", 9, nil, nil), at(2*time.Hour), auditEvent("aud_b", at(9*time.Minute), "retention", api.KindRetention, "ret_b")); err != nil {
		t.Fatal(err)
	}

	var got []api.RetentionRun
	var pages []int
	after := ""
	for page := 0; ; page++ {
		if page == 10 {
			t.Fatal("ListRetentionRuns: the cursor never ends")
		}
		runs, next, err := s.ListRetentionRuns(ctx, "ret_a", 2, after)
		if err != nil {
			t.Fatalf("ListRetentionRuns(after %q): %v", after, err)
		}
		got, pages = append(got, runs...), append(pages, len(runs))
		if next == "" {
			break
		}
		after = next
	}
	if !reflect.DeepEqual(pages, []int{2, 2, 1}) {
		t.Errorf("pages of 2 of 5 runs = %v, want [2 2 1]", pages)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runs of ret_a, newest first:\ngot  %s\nwant %s", kindDump(got), kindDump(want))
	}
	// A page that holds every run has no cursor; one run short of it has.
	if runs, next, err := s.ListRetentionRuns(ctx, "ret_a", 5, ""); err != nil || len(runs) != 5 || next != "" {
		t.Errorf("ListRetentionRuns(limit 5 of 5) = %d runs, next %q, %v; want 5 and no cursor", len(runs), next, err)
	}
	if runs, next, err := s.ListRetentionRuns(ctx, "ret_a", 4, ""); err != nil || len(runs) != 4 || next == "" {
		t.Errorf("ListRetentionRuns(limit 4 of 5) = %d runs, next %q, %v; want 4 and a cursor", len(runs), next, err)
	}
	if runs, _, err := s.ListRetentionRuns(ctx, "ret_b", 0, ""); err != nil || len(runs) != 1 || runs[0].ID != "rrn_ret_b_9" {
		t.Errorf("runs of ret_b = %s, %v; want rrn_ret_b_9 only", kindDump(runs), err)
	}
	_, _, err := s.ListRetentionRuns(ctx, "ret_a", 2, "not-a-cursor")
	wantErr(t, "ListRetentionRuns with a bad cursor", err, ErrBadCursor)

	// The policy reports its last run, and each run is audited.
	p, err := s.GetRetentionPolicy(ctx, "ret_a")
	if err != nil || p.LastRunAt == nil || !p.LastRunAt.Equal(us(at(5*time.Minute+time.Second))) || *p.LastRunDeleted != 50 ||
		*p.LastRunAnonymized != 5 || p.NextRunAt == nil || !p.NextRunAt.Equal(us(at(time.Hour+5*time.Minute))) {
		t.Errorf("policy report after the runs = %s, %v", kindDump(p), err)
	}
	evs, _, err := s.ListAuditEvents(ctx, AuditQuery{ObjectID: "ret_a"})
	if err != nil || len(evs) != 5 {
		t.Errorf("audit events of ret_a = %d, %v; want 5", len(evs), err)
	}
	// A run whose audit event cannot be stored (its ID is taken) leaves
	// no record and no report.
	if err := s.RecordRetentionRun(ctx, retRun("ret_a", 6, nil, nil), at(3*time.Hour), auditEvent("aud_1", at(time.Hour), "retention", api.KindRetention, "ret_a")); err == nil {
		t.Error("RecordRetentionRun with a duplicate audit event ID succeeded")
	}
	if runs, _, _ := s.ListRetentionRuns(ctx, "ret_a", 0, ""); len(runs) != 5 {
		t.Errorf("runs of ret_a after a failed record = %d, want 5", len(runs))
	}

	// SetRetentionNextRun moves the next run of every enabled policy.
	if err := s.SetRetentionNextRun(ctx, at(7*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ret_a", "ret_b"} {
		if p, err := s.GetRetentionPolicy(ctx, id); err != nil || p.NextRunAt == nil || !p.NextRunAt.Equal(us(at(7*time.Hour))) {
			t.Errorf("%s next run after SetRetentionNextRun = %v, %v", id, p.NextRunAt, err)
		}
	}
}

// ---- erasure requests ----

func erasure(id string, created time.Time, ep, actor string) api.ErasureRequest {
	e := api.ErasureRequest{ID: id, State: api.ErasurePending, RequestedBy: "admin", CreatedAt: created}
	if ep != "" {
		e.EndpointID = &ep
	}
	if actor != "" {
		e.Actor = &actor
	}
	return e
}

// testRetentionErasureQueue: requests are claimed oldest first (by ID
// when they were made at the same time), a claimed request is running
// and is claimed again until it is finished (a crash leaves it running);
// finished requests are never claimed; the outcome round-trips, an empty
// error as none; finishing an unknown request is ErrNotFound; an empty
// queue is ErrNotFound.
func testRetentionErasureQueue(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.NextErasureRequest(ctx)
	wantErr(t, "NextErasureRequest on an empty queue", err, ErrNotFound)
	done := erasure("era_0", at(-time.Hour), "ep_0", "")
	done.State, done.CompletedAt = api.ErasureCompleted, new(at(-time.Minute))
	write(t, s, func(tx Tx) error {
		for _, e := range []api.ErasureRequest{
			erasure("era_c", at(2*time.Second), "", "carol"),
			erasure("era_b", at(time.Second), "ep_1", ""),
			erasure("era_a", at(2*time.Second), "ep_2", ""),
			done,
		} {
			if err := tx.InsertErasureRequest(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	next := func(want string) api.ErasureRequest {
		t.Helper()
		e, err := s.NextErasureRequest(ctx)
		if err != nil || e.ID != want || e.State != api.ErasureRunning {
			t.Fatalf("NextErasureRequest = %s, %v; want %s running", kindDump(e), err, want)
		}
		if got, err := s.GetErasureRequest(ctx, want); err != nil || got.State != api.ErasureRunning {
			t.Errorf("%s after it was claimed = %s, %v; want running", want, kindDump(got), err)
		}
		return e
	}
	b := next("era_b")
	// Not finished (as after a crash): claimed again.
	next("era_b")
	b.State, b.CompletedAt, b.Deleted, b.Anonymized, b.Error = api.ErasureCompleted, new(at(time.Minute)), 17, 0, ""
	if err := s.FinishErasureRequest(ctx, b, auditEvent("aud_b", at(time.Minute), "retention", api.KindErasure, "era_b")); err != nil {
		t.Fatal(err)
	}
	a := next("era_a")
	a.State, a.CompletedAt, a.Deleted, a.Error = api.ErasureFailed, new(at(2*time.Minute)), 3, "disk I/O error"
	if err := s.FinishErasureRequest(ctx, a, auditEvent("aud_a", at(2*time.Minute), "retention", api.KindErasure, "era_a")); err != nil {
		t.Fatal(err)
	}
	c := next("era_c")
	// The actor is stored pseudonymized once the request is done.
	c.State, c.CompletedAt, c.Anonymized, c.Actor = api.ErasureCompleted, new(at(3*time.Minute)), 4, new(api.PseudonymPrefix+"x")
	if err := s.FinishErasureRequest(ctx, c, auditEvent("aud_c", at(3*time.Minute), "retention", api.KindErasure, "era_c")); err != nil {
		t.Fatal(err)
	}
	_, err = s.NextErasureRequest(ctx)
	wantErr(t, "NextErasureRequest with every request finished", err, ErrNotFound)

	for _, want := range []api.ErasureRequest{b, a, c, done} {
		want.CreatedAt, want.CompletedAt = us(want.CreatedAt), usPtr(want.CompletedAt)
		if got, err := s.GetErasureRequest(ctx, want.ID); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("erasure request %s:\ngot  %s (%v)\nwant %s", want.ID, kindDump(got), err, kindDump(want))
		}
	}
	evs, _, err := s.ListAuditEvents(ctx, AuditQuery{})
	if err != nil || len(evs) != 3 {
		t.Errorf("audit events of the finished requests = %d, %v; want 3", len(evs), err)
	}
	ghost := erasure("era_ghost", at(0), "ep_9", "")
	err = s.FinishErasureRequest(ctx, ghost, auditEvent("aud_ghost", at(0), "retention", api.KindErasure, "era_ghost"))
	wantErr(t, "FinishErasureRequest of an unknown request", err, ErrNotFound)
	if evs, _, _ := s.ListAuditEvents(ctx, AuditQuery{ObjectID: "era_ghost"}); len(evs) != 0 {
		t.Errorf("the unknown request's audit event was stored: %s", kindDump(evs))
	}
	_, err = s.GetErasureRequest(ctx, "era_ghost")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("GetErasureRequest(era_ghost) = %v, want ErrNotFound", err)
	}
}
