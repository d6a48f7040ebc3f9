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
		run  func(t *testing.T, open func(t *testing.T) Store)
	}{
		{"SelectResults", testRetentionSelectResults},
		{"SelectAlertEvents", testRetentionSelectAlertEvents},
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
		for ep, n := range got {
			total[ep] += n
		}
	}
	retCheck(t, "RetentionDelete, all batches", total, nil, want)
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
