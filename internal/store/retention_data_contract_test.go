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
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// runRetentionContract runs every retention scenario. open must return a
// store on a new, empty database the first time it is called for a given
// t, and a new store on that same database when it is called again for
// the same t (RollsBeforeDeleting reopens its store), closed with
// t.Cleanup; Close must be safe to call twice.
func runRetentionContract(t *testing.T, open func(t *testing.T) Store) {
	for _, sc := range []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) Store)
	}{
		{"SelectResults", testRetentionSelectResults},
		{"SelectAlertEvents", testRetentionSelectAlertEvents},
		{"AuditEvents", testRetentionAuditEvents},
		{"Deliveries", testRetentionDeliveries},
		{"RollsBeforeDeleting", testRetentionRollsBeforeDeleting},
		{"Refusals", func(t *testing.T, open func(t *testing.T) Store) { testRetentionRefusals(t, open(t)) }},
		{"Oldest", func(t *testing.T, open func(t *testing.T) Store) { testRetentionOldest(t, open(t)) }},
		{"Anonymize", func(t *testing.T, open func(t *testing.T) Store) { testRetentionAnonymize(t, open(t)) }},
		{"RunRecords", func(t *testing.T, open func(t *testing.T) Store) { testRetentionRunRecords(t, open(t)) }},
		{"ErasureQueue", func(t *testing.T, open func(t *testing.T) Store) { testRetentionErasureQueue(t, open(t)) }},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, open) })
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

// ---- selections ----

// retAges are the ages (before t0) of every fixture record: with a cut an
// hour before t0, the first is kept and the other three are selected.
var retAges = []time.Duration{30 * time.Minute, 3 * time.Hour, 30 * time.Hour, 72 * time.Hour}

// retCut is the Before of the fixture's selections.
var retCut = at(-time.Hour)

// retFixture stores three endpoints, one monitor each, and their data:
//
//	ep_a  pii       team=pay env=prod  mon_a
//	ep_b  public    team=web env=prod  mon_b
//	ep_c  internal  team=pay env=dev   mon_c
//
// Per monitor (and mon_gone, a monitor that no longer exists: its records
// belong to no endpoint) one result per age, each with an error and a body
// excerpt but the 3-hour one, which has no excerpt, and a missed run 72
// hours old. Per endpoint one alert event per age, each with a failed
// delivery and its attempt; ep_b has one more old event that names it
// through its monitor only, and one old event names neither; the 30-hour
// event of ep_c still has a pending delivery too. Audit events: alice and
// bob, one per age each.
func retFixture(t *testing.T, s Store) {
	t.Helper()
	ctx := t.Context()
	write(t, s, func(tx Tx) error {
		for _, e := range []struct{ ep, class, team, env string }{
			{"ep_a", api.ClassPII, "pay", "prod"}, {"ep_b", api.ClassPublic, "web", "prod"}, {"ep_c", api.ClassInternal, "pay", "dev"},
		} {
			ep := endpoint(e.ep, e.ep)
			ep.DataClassification, ep.Tags = e.class, map[string]string{"team": e.team, "env": e.env}
			if err := tx.InsertEndpoint(ctx, ep); err != nil {
				return err
			}
			m := monitor("mon"+e.ep[2:], "mon"+e.ep[2:])
			m.EndpointID = e.ep
			if err := tx.InsertMonitor(ctx, m); err != nil {
				return err
			}
		}
		for i, a := range retAges {
			for _, actor := range []string{"alice", "bob"} {
				if err := tx.InsertAuditEvent(ctx, auditEvent(fmt.Sprintf("aud_%s_%d", actor, i), at(-a), actor, api.KindEndpoint, "ep_a")); err != nil {
					return err
				}
			}
		}
		return nil
	})
	var (
		results []api.ProbeResult
		missed  []MissedRun
	)
	for _, mon := range []string{"mon_a", "mon_b", "mon_c", "mon_gone"} {
		for i, a := range retAges {
			r := api.ProbeResult{MonitorID: mon, Time: at(-a), Outcome: api.OutcomeDown, LatencyMS: 5, Attempts: 1,
				Error: new(fmt.Sprintf("error of %s %d", mon, i))}
			if i != 1 {
				r.BodyExcerpt = new(fmt.Sprintf("body of %s %d", mon, i))
			}
			results = append(results, r)
		}
		missed = append(missed, MissedRun{MonitorID: mon, Time: at(-72 * time.Hour)})
	}
	resWrite(t, s, results, missed)
	if err := s.(*SQLite).WriteRollups(ctx, t0); err != nil {
		t.Fatal(err)
	}

	var b AlertBatch
	event := func(id string, a time.Duration, ep, mon *string) {
		ev := api.AlertEvent{ID: id, ThresholdID: "thr_x", ThresholdName: "x", EndpointID: ep, MonitorID: mon, Severity: api.SeverityWarning,
			FromState: api.AlertPending, ToState: api.AlertFiring, Metric: api.MetricAvailability, At: at(-a), Reason: new("reason of " + id)}
		b.Events = append(b.Events, ev)
		b.Deliveries = append(b.Deliveries, api.Delivery{ID: "dlv" + id[3:], EventID: id, ChannelID: "chan_x", State: api.DeliveryPending, CreatedAt: ev.At})
	}
	for _, ep := range []string{"ep_a", "ep_b", "ep_c"} {
		for i, a := range retAges[:3] {
			event(fmt.Sprintf("evt_%s_%d", ep, i), a, new(ep), nil)
		}
	}
	event("evt_mon_b", 3*time.Hour, nil, new("mon_b"))
	event("evt_none", 3*time.Hour, nil, nil)
	record(t, s, b)
	for _, d := range b.Deliveries {
		attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: d.ID, At: d.CreatedAt, DurationMS: 3,
			Error: new("error of " + d.ID)}, State: api.DeliveryFailed})
	}
	record(t, s, AlertBatch{Deliveries: []api.Delivery{{ID: "dlv_pending", EventID: "evt_ep_c_2", ChannelID: "chan_y",
		State: api.DeliveryPending, CreatedAt: at(-30 * time.Hour)}}})
}

// retCount runs a COUNT query on the store's tables.
func retCount(t *testing.T, s Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.(*SQLite).reader.QueryRowContext(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// retMonitorRows counts a monitor's rows in a result table.
func retMonitorRows(t *testing.T, s Store, table, mon string) int {
	t.Helper()
	return retCount(t, s, `SELECT COUNT(*) FROM `+table+` WHERE monitor_key = (SELECT key FROM result_monitors WHERE monitor_id = ?)`, mon)
}

// retCheck checks a per-endpoint count (a nil want is no record at all).
func retCheck(t *testing.T, what string, got map[string]int64, err error, want map[string]int64) {
	t.Helper()
	if want == nil {
		want = map[string]int64{}
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, %v; want %v", what, got, err, want)
	}
}

// retDeleteAll counts what sel selects, deletes it in batches of limit
// and checks that both are want, and that nothing is left to count.
func retDeleteAll(t *testing.T, s Store, sel RetentionSelector, limit int, want map[string]int64) {
	t.Helper()
	ctx := t.Context()
	counted, err := s.RetentionCount(ctx, sel, false)
	retCheck(t, "RetentionCount", counted, err, want)
	total := map[string]int64{}
	var sizes []int64
	for batches := 0; ; batches++ {
		if batches == 50 {
			t.Fatal("RetentionDelete still deletes after 50 batches")
		}
		got, err := s.RetentionDelete(ctx, sel, limit)
		if err != nil {
			t.Fatalf("RetentionDelete: %v", err)
		}
		if len(got) == 0 {
			break
		}
		var size int64
		for ep, n := range got {
			total[ep] += n
			size += n
		}
		sizes = append(sizes, size)
	}
	retCheck(t, "RetentionDelete, all batches", total, nil, want)
	// Every batch is full (it goes on from one table to the next) but
	// the last, which may be short.
	for i, n := range sizes {
		if limit > 0 && (n > int64(limit) || n < int64(limit) && i < len(sizes)-1) {
			t.Errorf("RetentionDelete batches of %d = %v, want every one full but the last", limit, sizes)
			break
		}
	}
	counted, err = s.RetentionCount(ctx, sel, false)
	retCheck(t, "RetentionCount after the deletes", counted, err, nil)
}

// testRetentionSelectResults: the result tables (raw results and missed
// runs, selected by monitor key) by endpoint IDs, classifications, tags
// (every one of them), every endpoint, and with excluded scopes; the
// records of a monitor that is gone belong to no endpoint, and only a
// selection of every endpoint or the default takes them; an excluded scope
// of every endpoint leaves nothing. Counts and deletes agree.
func testRetentionSelectResults(t *testing.T, open func(t *testing.T) Store) {
	for _, c := range []struct {
		name string
		sel  RetentionSelector
		want map[string]int64
	}{
		{"endpoint_ids", RetentionSelector{Scope: RetentionScope{EndpointIDs: []string{"ep_a", "ep_x"}}}, map[string]int64{"ep_a": 4}},
		{"classifications", RetentionSelector{Scope: RetentionScope{Classifications: []string{api.ClassPublic, api.ClassInternal}}},
			map[string]int64{"ep_b": 4, "ep_c": 4}},
		{"tags", RetentionSelector{Scope: RetentionScope{EndpointTags: map[string]string{"team": "pay", "env": "prod"}}}, map[string]int64{"ep_a": 4}},
		{"all", RetentionSelector{}, map[string]int64{"ep_a": 4, "ep_b": 4, "ep_c": 4, "": 4}},
		{"default", RetentionSelector{Exclude: []RetentionScope{{EndpointIDs: []string{"ep_a"}}, {EndpointTags: map[string]string{"team": "web"}}}},
			map[string]int64{"ep_c": 4, "": 4}},
		{"excluded_all", RetentionSelector{Exclude: []RetentionScope{{Classifications: []string{api.ClassPII}}, {}}}, nil},
		{"scope_excluded", RetentionSelector{Scope: RetentionScope{EndpointIDs: []string{"ep_a", "ep_b"}},
			Exclude: []RetentionScope{{Classifications: []string{api.ClassPII}}}}, map[string]int64{"ep_b": 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			retFixture(t, s)
			sel := c.sel
			sel.DataKind, sel.Before = api.DataProbeResults, retCut
			// Batches of 3: a batch takes the rest of a table and goes on
			// to the next one.
			retDeleteAll(t, s, sel, 3, c.want)
			for _, mon := range []string{"mon_a", "mon_b", "mon_c", "mon_gone"} {
				ep := "ep" + mon[3:]
				if mon == "mon_gone" {
					ep = ""
				}
				wantResults, wantMissed := 4, 1
				if _, ok := c.want[ep]; ok {
					wantResults, wantMissed = 1, 0
				}
				if n, m := retMonitorRows(t, s, "probe_results", mon), retMonitorRows(t, s, "missed_runs", mon); n != wantResults || m != wantMissed {
					t.Errorf("%s keeps %d results and %d missed runs, want %d and %d", mon, n, m, wantResults, wantMissed)
				}
			}
		})
	}
}

// testRetentionSelectAlertEvents: alert events belong to their endpoint,
// or to their monitor's; excluded scopes leave the events of no endpoint
// to the default; an event that still has a pending delivery is held,
// unless the selection is an erasure, which takes the pending delivery
// too; an event's deliveries and their attempts go with it.
func testRetentionSelectAlertEvents(t *testing.T, open func(t *testing.T) Store) {
	for _, c := range []struct {
		name string
		sel  RetentionSelector
		want map[string]int64
		// gone are the events deleted.
		gone []string
	}{
		{"all", RetentionSelector{}, map[string]int64{"ep_a": 2, "ep_b": 3, "ep_c": 1, "": 1},
			[]string{"evt_ep_a_1", "evt_ep_a_2", "evt_ep_b_1", "evt_ep_b_2", "evt_mon_b", "evt_ep_c_1", "evt_none"}},
		{"through_the_monitor", RetentionSelector{Scope: RetentionScope{EndpointIDs: []string{"ep_b"}}}, map[string]int64{"ep_b": 3},
			[]string{"evt_ep_b_1", "evt_ep_b_2", "evt_mon_b"}},
		{"default", RetentionSelector{Exclude: []RetentionScope{{EndpointIDs: []string{"ep_a"}}, {Classifications: []string{api.ClassPublic}}}},
			map[string]int64{"ep_c": 1, "": 1}, []string{"evt_ep_c_1", "evt_none"}},
		{"excluded_all", RetentionSelector{Exclude: []RetentionScope{{EndpointIDs: []string{"ep_a"}}, {}}}, nil, nil},
		{"erasure", RetentionSelector{Scope: RetentionScope{EndpointIDs: []string{"ep_c"}}, Erasure: true}, map[string]int64{"ep_c": 2},
			[]string{"evt_ep_c_1", "evt_ep_c_2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			retFixture(t, s)
			sel := c.sel
			sel.DataKind, sel.Before = api.DataAlertEvents, retCut
			events, deliveries, attempts := retCount(t, s, `SELECT COUNT(*) FROM alert_events`),
				retCount(t, s, `SELECT COUNT(*) FROM deliveries`), retCount(t, s, `SELECT COUNT(*) FROM delivery_attempts`)
			retDeleteAll(t, s, sel, 2, c.want)
			for _, id := range c.gone {
				if n := retCount(t, s, `SELECT COUNT(*) FROM alert_events WHERE id = ?`, id); n != 0 {
					t.Errorf("%s is still there", id)
				}
			}
			gone := len(c.gone)
			pending := 0
			if c.sel.Erasure {
				pending = 1
			}
			if n := retCount(t, s, `SELECT COUNT(*) FROM alert_events`); n != events-gone {
				t.Errorf("events left = %d, want %d", n, events-gone)
			}
			if n := retCount(t, s, `SELECT COUNT(*) FROM deliveries`); n != deliveries-gone-pending {
				t.Errorf("deliveries left = %d, want %d", n, deliveries-gone-pending)
			}
			if n := retCount(t, s, `SELECT COUNT(*) FROM delivery_attempts`); n != attempts-gone {
				t.Errorf("delivery attempts left = %d, want %d", n, attempts-gone)
			}
		})
	}
}

// retPseudonym is the pseudonym function of the anonymization scenarios.
func retPseudonym(a string) string { return api.PseudonymPrefix + "of-" + a }

// testRetentionRefusals: what no selection can mean is an error, for
// every call that selects: an unknown data kind, a scope on records that
// belong to no endpoint, an actor on records that have none, a field the
// data kind does not have, an anonymization of no field, actors without a
// pseudonym function. Nothing is changed.
func testRetentionRefusals(t *testing.T, s Store) {
	ctx := t.Context()
	retFixture(t, s)
	scoped := RetentionScope{EndpointIDs: []string{"ep_a"}}
	for _, c := range []struct {
		name string
		sel  RetentionSelector
		// anonymize is false for a selection refused before its fields
		// are looked at.
		anonymize bool
	}{
		{"unknown data kind", RetentionSelector{DataKind: "nope", Fields: []string{"actor"}}, true},
		{"scoped audit events", RetentionSelector{DataKind: api.DataAuditEvents, Scope: scoped, Fields: []string{"actor"}}, true},
		{"scoped revisions", RetentionSelector{DataKind: api.DataRevisions, Scope: RetentionScope{Classifications: []string{api.ClassPII}}, Fields: []string{"actor"}}, true},
		{"results by actor", RetentionSelector{DataKind: api.DataProbeResults, Actor: "alice", Fields: []string{"error"}}, true},
		{"alert events by actor", RetentionSelector{DataKind: api.DataAlertEvents, Actor: "alice", Fields: []string{"reason"}}, true},
	} {
		sel := c.sel
		sel.Before = t0
		if _, err := s.RetentionDelete(ctx, sel, 0); err == nil {
			t.Errorf("RetentionDelete(%s) succeeded", c.name)
		}
		if _, err := s.RetentionCount(ctx, sel, false); err == nil {
			t.Errorf("RetentionCount(%s) succeeded", c.name)
		}
		if _, err := s.RetentionCount(ctx, sel, true); err == nil {
			t.Errorf("RetentionCount(%s, anonymize) succeeded", c.name)
		}
		if _, err := s.RetentionAnonymize(ctx, sel, 0, retPseudonym); err == nil {
			t.Errorf("RetentionAnonymize(%s) succeeded", c.name)
		}
		if _, err := s.RetentionOldest(ctx, sel); err == nil {
			t.Errorf("RetentionOldest(%s) succeeded", c.name)
		}
	}
	for _, c := range []struct {
		name      string
		sel       RetentionSelector
		pseudonym func(string) string
	}{
		{"unknown field", RetentionSelector{DataKind: api.DataProbeResults, Fields: []string{"error", "latency_ms"}}, retPseudonym},
		{"a field of another data kind", RetentionSelector{DataKind: api.DataAlertEvents, Fields: []string{"actor"}}, retPseudonym},
		{"no field", RetentionSelector{DataKind: api.DataProbeResults}, retPseudonym},
		{"no pseudonym", RetentionSelector{DataKind: api.DataAuditEvents, Fields: []string{"actor"}}, nil},
	} {
		sel := c.sel
		sel.Before = t0
		if _, err := s.RetentionAnonymize(ctx, sel, 0, c.pseudonym); err == nil {
			t.Errorf("RetentionAnonymize(%s) succeeded", c.name)
		}
		if c.pseudonym != nil {
			if _, err := s.RetentionCount(ctx, sel, true); err == nil {
				t.Errorf("RetentionCount(%s, anonymize) succeeded", c.name)
			}
		}
	}
	if n := retCount(t, s, `SELECT COUNT(*) FROM probe_results WHERE error LIKE 'error of %'`); n != 16 {
		t.Errorf("results with their error after the refusals = %d, want 16", n)
	}
	if n := retCount(t, s, `SELECT COUNT(*) FROM audit_events WHERE actor IN ('alice', 'bob')`); n != 8 {
		t.Errorf("audit events with their actor after the refusals = %d, want 8", n)
	}
}

// testRetentionAuditEvents: audit events belong to no endpoint: an
// excluded scope of some endpoints leaves them to the selection, one of
// every endpoint leaves nothing; an actor selects that actor's events; a
// batch of 0 is the default batch. The oldest selected event's time is
// read from its text (Before does not matter); none is nil.
func testRetentionAuditEvents(t *testing.T, open func(t *testing.T) Store) {
	sel := RetentionSelector{DataKind: api.DataAuditEvents, Before: retCut}
	s := open(t)
	retFixture(t, s)
	ctx := t.Context()
	for _, c := range []struct {
		name string
		sel  RetentionSelector
		want time.Time
	}{
		{"all", sel, at(-72 * time.Hour)},
		{"before ignored", RetentionSelector{DataKind: api.DataAuditEvents, Before: at(-1000 * time.Hour)}, at(-72 * time.Hour)},
		{"bob", RetentionSelector{DataKind: api.DataAuditEvents, Actor: "bob"}, at(-72 * time.Hour)},
	} {
		if got, err := s.RetentionOldest(ctx, c.sel); err != nil || got == nil || !got.Equal(us(c.want)) {
			t.Errorf("RetentionOldest(%s) = %v, %v; want %v", c.name, got, err, us(c.want))
		}
	}
	if got, err := s.RetentionOldest(ctx, RetentionSelector{DataKind: api.DataAuditEvents, Actor: "carol"}); err != nil || got != nil {
		t.Errorf("RetentionOldest of carol's events = %v, %v; want nil", got, err)
	}
	if got, err := s.RetentionOldest(ctx, RetentionSelector{DataKind: api.DataAuditEvents, Exclude: []RetentionScope{{}}}); err != nil || got != nil {
		t.Errorf("RetentionOldest with every endpoint excluded = %v, %v; want nil", got, err)
	}

	excludedAll := sel
	excludedAll.Exclude = []RetentionScope{{EndpointIDs: []string{"ep_a"}}, {}}
	retDeleteAll(t, s, excludedAll, 0, nil)
	alice := sel
	alice.Actor, alice.Exclude = "alice", []RetentionScope{{EndpointIDs: []string{"ep_a"}}}
	retDeleteAll(t, s, alice, 0, map[string]int64{"": 3})
	if n, m := retCount(t, s, `SELECT COUNT(*) FROM audit_events WHERE actor = 'alice'`), retCount(t, s, `SELECT COUNT(*) FROM audit_events WHERE actor = 'bob'`); n != 1 || m != 4 {
		t.Errorf("audit events left: alice %d, bob %d; want 1, 4", n, m)
	}
	retDeleteAll(t, s, sel, -1, map[string]int64{"": 3})
	if got, err := s.RetentionOldest(ctx, sel); err != nil || got == nil || !got.Equal(us(at(-30*time.Minute))) {
		t.Errorf("RetentionOldest after the deletes = %v, %v; want %v", got, err, us(at(-30*time.Minute)))
	}
}

// testRetentionOldest: the oldest selected record of the first table of
// a data kind, in each time encoding: raw results (microseconds), the
// rollups (seconds), alert events (text), per scope; nil when the scope
// has none.
func testRetentionOldest(t *testing.T, s Store) {
	ctx := t.Context()
	retFixture(t, s)
	a := RetentionScope{EndpointIDs: []string{"ep_a"}}
	for _, c := range []struct {
		sel  RetentionSelector
		want *time.Time
	}{
		{RetentionSelector{DataKind: api.DataProbeResults, Scope: a}, new(us(at(-72 * time.Hour)))},
		{RetentionSelector{DataKind: api.DataProbeResults, Scope: RetentionScope{EndpointIDs: []string{"ep_x"}}}, nil},
		{RetentionSelector{DataKind: api.DataHourRollups, Scope: a}, new(at(-72 * time.Hour).Truncate(time.Hour))},
		{RetentionSelector{DataKind: api.DataMinuteRollups, Scope: a}, new(at(-72 * time.Hour).Truncate(time.Minute))},
		{RetentionSelector{DataKind: api.DataMinuteRollups, Scope: RetentionScope{EndpointIDs: []string{"ep_x"}}}, nil},
		{RetentionSelector{DataKind: api.DataAlertEvents, Scope: a}, new(us(at(-30 * time.Hour)))},
		{RetentionSelector{DataKind: api.DataDeliveries, Scope: a}, new(us(at(-30 * time.Hour)))},
	} {
		got, err := s.RetentionOldest(ctx, c.sel)
		if err != nil || (got == nil) != (c.want == nil) || got != nil && (!got.Equal(*c.want) || got.Location() != time.UTC) {
			t.Errorf("RetentionOldest(%s, %v) = %v, %v; want %v in UTC", c.sel.DataKind, c.sel.Scope.EndpointIDs, got, err, c.want)
		}
	}
	// A missed run older than every result of its endpoint is the oldest
	// raw record: every table of a data kind is read, not the first only.
	resWrite(t, s, nil, []MissedRun{{MonitorID: "mon_b", Time: at(-100 * time.Hour)}})
	sel := RetentionSelector{DataKind: api.DataProbeResults, Scope: RetentionScope{EndpointIDs: []string{"ep_b"}}}
	if got, err := s.RetentionOldest(ctx, sel); err != nil || got == nil || !got.Equal(us(at(-100*time.Hour))) {
		t.Errorf("RetentionOldest(probe_results, ep_b) = %v, %v; want the missed run's %v", got, err, us(at(-100*time.Hour)))
	}
}

// testRetentionAnonymize: results of a scope have their error and body
// excerpt replaced, in batches, each record once (a NULL excerpt stays
// NULL and a record whose fields are all anonymized or NULL is not
// selected again); the missed runs, which have no such field, are
// untouched; counts and changes agree. Actors get their pseudonym, in
// audit events and in both tables of the change history, the newest
// revision too; a pseudonym is never pseudonymized again.
func testRetentionAnonymize(t *testing.T, s Store) {
	ctx := t.Context()
	retFixture(t, s)
	anonAll := func(sel RetentionSelector, limit int, want map[string]int64, batches int) {
		t.Helper()
		counted, err := s.RetentionCount(ctx, sel, true)
		retCheck(t, "RetentionCount(anonymize)", counted, err, want)
		total := map[string]int64{}
		calls := 0
		for ; ; calls++ {
			if calls == 50 {
				t.Fatal("RetentionAnonymize still changes after 50 batches")
			}
			got, err := s.RetentionAnonymize(ctx, sel, limit, retPseudonym)
			if err != nil {
				t.Fatalf("RetentionAnonymize: %v", err)
			}
			if len(got) == 0 {
				break
			}
			for ep, n := range got {
				total[ep] += n
			}
		}
		retCheck(t, "RetentionAnonymize, all batches", total, nil, want)
		if calls != batches {
			t.Errorf("RetentionAnonymize took %d batches of %d, want %d", calls, limit, batches)
		}
		counted, err = s.RetentionCount(ctx, sel, true)
		retCheck(t, "RetentionCount(anonymize) after", counted, err, nil)
	}
	// Only excerpts first: the 3-hour result has none to anonymize.
	sel := RetentionSelector{DataKind: api.DataProbeResults, Before: retCut, Scope: RetentionScope{EndpointIDs: []string{"ep_a"}}, Fields: []string{"body_excerpt"}}
	anonAll(sel, 0, map[string]int64{"ep_a": 2}, 1)
	sel.Fields = []string{"error", "body_excerpt"}
	anonAll(sel, 2, map[string]int64{"ep_a": 3}, 2)
	for _, c := range []struct {
		q    string
		want int
	}{
		{`SELECT COUNT(*) FROM probe_results WHERE error = '` + api.AnonymizedText + `'`, 3},
		{`SELECT COUNT(*) FROM probe_results WHERE body_excerpt = '` + api.AnonymizedText + `'`, 2},
		{`SELECT COUNT(*) FROM probe_results WHERE body_excerpt IS NULL`, 4},
		{`SELECT COUNT(*) FROM probe_results WHERE error LIKE 'error of %'`, 13},
		{`SELECT COUNT(*) FROM missed_runs`, 4},
	} {
		if n := retCount(t, s, c.q); n != c.want {
			t.Errorf("%s = %d, want %d", c.q, n, c.want)
		}
	}

	// Audit events: alice's and bob's three old events each, in batches
	// of 4; one pseudonym per actor.
	audit := RetentionSelector{DataKind: api.DataAuditEvents, Before: retCut, Fields: []string{"actor"}}
	write(t, s, func(tx Tx) error {
		return tx.InsertAuditEvent(ctx, auditEvent("aud_anon", at(-5*time.Hour), retPseudonym("dave"), api.KindEndpoint, "ep_a"))
	})
	anonAll(audit, 4, map[string]int64{"": 6}, 2)
	for actor, want := range map[string]int{"alice": 1, "bob": 1, retPseudonym("alice"): 3, retPseudonym("bob"): 3, retPseudonym("dave"): 1} {
		if n := retCount(t, s, `SELECT COUNT(*) FROM audit_events WHERE actor = ?`, actor); n != want {
			t.Errorf("audit events of %q = %d, want %d", actor, n, want)
		}
	}

	// The change history: every revision (the newest too) and the
	// tombstone.
	write(t, s, func(tx Tx) error {
		for n := int64(1); n <= 3; n++ {
			v := revision("ep_a", n, `{}`)
			v.Time = at(time.Duration(n-10) * time.Hour)
			if err := tx.InsertRevision(ctx, v); err != nil {
				return err
			}
		}
		return tx.InsertTombstone(ctx, api.Tombstone{ObjectKind: api.KindEndpoint, ObjectID: "ep_z", Name: "z", Revision: 1,
			DeletedAt: at(-8 * time.Hour), Actor: "alice", ActorRole: api.RoleEditor, Object: []byte(`{}`)})
	})
	anonAll(RetentionSelector{DataKind: api.DataRevisions, Before: retCut, Fields: []string{"actor"}}, 0, map[string]int64{"": 4}, 1)
	if n := retCount(t, s, `SELECT COUNT(*) FROM object_revisions WHERE actor = ?`, retPseudonym("alice")) +
		retCount(t, s, `SELECT COUNT(*) FROM object_tombstones WHERE actor = ?`, retPseudonym("alice")); n != 4 {
		t.Errorf("history rows with alice's pseudonym = %d, want 4 (3 revisions, 1 tombstone)", n)
	}
}

// testRetentionDeliveries: deliveries belong to their event's endpoint
// (or its monitor's); a pending delivery is held unless the selection is
// an erasure; a delivery's attempts go with it, its event stays.
func testRetentionDeliveries(t *testing.T, open func(t *testing.T) Store) {
	for _, c := range []struct {
		name string
		sel  RetentionSelector
		want map[string]int64
		// attempts is how many attempts are deleted.
		attempts int
	}{
		{"all", RetentionSelector{}, map[string]int64{"ep_a": 2, "ep_b": 3, "ep_c": 2, "": 1}, 8},
		{"default", RetentionSelector{Exclude: []RetentionScope{{EndpointIDs: []string{"ep_b"}}}}, map[string]int64{"ep_a": 2, "ep_c": 2, "": 1}, 5},
		{"erasure", RetentionSelector{Scope: RetentionScope{Classifications: []string{api.ClassInternal}}, Erasure: true}, map[string]int64{"ep_c": 3}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			retFixture(t, s)
			sel := c.sel
			sel.DataKind, sel.Before = api.DataDeliveries, retCut
			events, deliveries, attempts := retCount(t, s, `SELECT COUNT(*) FROM alert_events`),
				retCount(t, s, `SELECT COUNT(*) FROM deliveries`), retCount(t, s, `SELECT COUNT(*) FROM delivery_attempts`)
			retDeleteAll(t, s, sel, 3, c.want)
			var gone int
			for _, n := range c.want {
				gone += int(n)
			}
			if n := retCount(t, s, `SELECT COUNT(*) FROM deliveries`); n != deliveries-gone {
				t.Errorf("deliveries left = %d, want %d", n, deliveries-gone)
			}
			if n := retCount(t, s, `SELECT COUNT(*) FROM delivery_attempts`); n != attempts-c.attempts {
				t.Errorf("delivery attempts left = %d, want %d", n, attempts-c.attempts)
			}
			if n := retCount(t, s, `SELECT COUNT(*) FROM alert_events`); n != events {
				t.Errorf("events left = %d, want all %d", n, events)
			}
			pending := 1
			if c.sel.Erasure {
				pending = 0
			}
			if n := retCount(t, s, `SELECT COUNT(*) FROM deliveries WHERE id = 'dlv_pending'`); n != pending {
				t.Errorf("pending deliveries left = %d, want %d", n, pending)
			}
		})
	}
}

// testRetentionRollsBeforeDeleting: a delete by age of raw results or of
// rollups first writes the rollups of the minutes it reaches that are
// still held in memory (the newest minute of results is, until a later
// result closes it): the raw results it deletes are counted in the
// rollups, and rollups it deletes do not come back when the held minutes
// are written later, nor after a restart, which rebuilds the held minutes
// from the raw results left.
func testRetentionRollsBeforeDeleting(t *testing.T, open func(t *testing.T) Store) {
	for _, c := range []struct {
		kind    string
		deleted int64
		// minutes and hours are the rollup rows left, probes the results
		// they count.
		minutes, hours, probes int
	}{
		{api.DataProbeResults, 3, 1, 1, 3},
		{api.DataMinuteRollups, 1, 0, 1, 0},
		{api.DataHourRollups, 1, 1, 0, 3},
	} {
		t.Run(c.kind, func(t *testing.T) {
			s := open(t)
			// Three results of one minute, two hours old, and nothing
			// newer: that minute is held in memory.
			start := at(-2 * time.Hour).Truncate(time.Minute)
			var rs []api.ProbeResult
			for i := range 3 {
				rs = append(rs, api.ProbeResult{MonitorID: "mon_x", Time: start.Add(time.Duration(10*i) * time.Second), Outcome: api.OutcomeUp, LatencyMS: 5, Attempts: 1})
			}
			resWrite(t, s, rs, nil)
			if n := retCount(t, s, `SELECT COUNT(*) FROM rollups_minute`); n != 0 {
				t.Fatalf("%d minute rollups written before the delete: the minute is not held, so this checks nothing", n)
			}
			got, err := s.RetentionDelete(t.Context(), RetentionSelector{DataKind: c.kind, Before: retCut}, 0)
			retCheck(t, "RetentionDelete", got, err, map[string]int64{"": c.deleted})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open(t)
			if err := s.(*SQLite).WriteRollups(t.Context(), t0); err != nil {
				t.Fatal(err)
			}
			minutes, hours := retCount(t, s, `SELECT COUNT(*) FROM rollups_minute`), retCount(t, s, `SELECT COUNT(*) FROM rollups_hour`)
			probes := retCount(t, s, `SELECT COALESCE(SUM(probes), 0) FROM rollups_minute`)
			if minutes != c.minutes || hours != c.hours || probes != c.probes {
				t.Errorf("rollups after the delete: %d minutes (%d probes), %d hours; want %d (%d), %d", minutes, probes, hours, c.minutes, c.probes, c.hours)
			}
		})
	}
}

// TestSQLiteCheckpointTruncateError: a TRUNCATE checkpoint that cannot
// run (here its context is cancelled before it starts) is an error, never
// a checkpoint reported done: EraseResidue would otherwise say the WAL's
// old page images are gone while they are still in the file.
func TestSQLiteCheckpointTruncateError(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.checkpointTruncate(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("checkpointTruncate with a cancelled context = %v, want context.Canceled", err)
	}
}
