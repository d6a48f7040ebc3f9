package alerting_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/testutil"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/alerting"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

func ptr[T any](v T) *T { return &v }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// countingStore counts the write transactions and notes when the
// thresholds are read.
type countingStore struct {
	store.Store
	writes atomic.Int64
	clk    *clock.Fake

	mu sync.Mutex
	// thresholdReads holds the fake clock's time, as an offset from t0,
	// of every read of the thresholds (their first page).
	thresholdReads []time.Duration
	// monitorReads counts the reads of the monitors (their first page).
	monitorReads atomic.Int64
}

func (s *countingStore) ListMonitors(ctx context.Context, q store.MonitorQuery) ([]api.Monitor, string, error) {
	if q.After == "" {
		s.monitorReads.Add(1)
	}
	return s.Store.ListMonitors(ctx, q)
}

func (s *countingStore) ListThresholds(ctx context.Context, q store.ThresholdQuery) ([]api.AlertThreshold, string, error) {
	if q.After == "" {
		s.mu.Lock()
		s.thresholdReads = append(s.thresholdReads, s.clk.Now().Sub(t0))
		s.mu.Unlock()
	}
	return s.Store.ListThresholds(ctx, q)
}

func (s *countingStore) reads() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.thresholdReads)
}

func (s *countingStore) Write(ctx context.Context, fn func(tx store.Tx) error) error {
	s.writes.Add(1)
	return s.Store.Write(ctx, fn)
}

type fixture struct {
	t   *testing.T
	st  *countingStore
	clk *clock.Fake
}

func meta(id string) api.Meta { return api.Meta{ID: id, Revision: 1, CreatedAt: t0, UpdatedAt: t0} }

// newFixture stores an endpoint with two monitors and three channels: one
// that is told everything, one not told of resolutions, one disabled.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	sq, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "aio.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sq.Close() })
	err = sq.Write(ctx, func(tx store.Tx) error {
		if err := tx.InsertEndpoint(ctx, api.Endpoint{Meta: meta("ep_1"), Name: "payments", URL: "http://127.0.0.1:1",
			DataClassification: api.ClassInternal}); err != nil {
			return err
		}
		for _, m := range []api.Monitor{
			{Meta: meta("mon_1"), Name: "health", EndpointID: "ep_1", Type: api.MonitorHTTP, Enabled: ptr(true), Interval: ptr("10s")},
			{Meta: meta("mon_2"), Name: "orders", EndpointID: "ep_1", Type: api.MonitorHTTP, Enabled: ptr(true), Interval: ptr("10s")},
		} {
			if err := tx.InsertMonitor(ctx, m); err != nil {
				return err
			}
		}
		for _, c := range []api.NotificationChannel{
			{Meta: meta("chan_all"), Name: "all", Type: api.ChannelWebhook, URL: ptr("http://127.0.0.1:2")},
			{Meta: meta("chan_noresolve"), Name: "noresolve", Type: api.ChannelWebhook, URL: ptr("http://127.0.0.1:2"), SendResolved: ptr(false)},
			{Meta: meta("chan_off"), Name: "off", Type: api.ChannelWebhook, URL: ptr("http://127.0.0.1:2"), Enabled: ptr(false)},
		} {
			if err := tx.InsertChannel(ctx, store.ChannelRecord{NotificationChannel: c}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	return &fixture{t: t, st: &countingStore{Store: sq, clk: clk}, clk: clk}
}

func (f *fixture) evaluator() *alerting.Evaluator {
	return alerting.New(alerting.Config{Store: f.st, Clock: f.clk})
}

func (f *fixture) insertThreshold(a api.AlertThreshold) {
	f.t.Helper()
	a.Normalize()
	if err := f.st.Write(f.t.Context(), func(tx store.Tx) error { return tx.InsertThreshold(f.t.Context(), a) }); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) updateThreshold(a api.AlertThreshold) {
	f.t.Helper()
	a.Revision++
	if err := f.st.Write(f.t.Context(), func(tx store.Tx) error { return tx.UpdateThreshold(f.t.Context(), a) }); err != nil {
		f.t.Fatal(err)
	}
}

// probe stores one result of a monitor at the fake clock's time.
func (f *fixture) probe(monitorID, outcome string) {
	f.t.Helper()
	r := api.ProbeResult{MonitorID: monitorID, Time: f.clk.Now().Add(-time.Millisecond), Outcome: outcome, LatencyMS: 12, Attempts: 1}
	if err := f.st.WriteResults(f.t.Context(), []api.ProbeResult{r}, nil); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) tick(e *alerting.Evaluator) {
	f.t.Helper()
	if err := e.Tick(f.t.Context(), f.clk.Now()); err != nil {
		f.t.Fatal(err)
	}
}

// step moves the clock 10 s, probes, and ticks.
func (f *fixture) step(e *alerting.Evaluator, outcomes map[string]string) {
	f.t.Helper()
	f.clk.Advance(10 * time.Second)
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for k := range outcomes {
			if !yield(k) {
				return
			}
		}
	}) {
		f.probe(id, outcomes[id])
	}
	f.tick(e)
}

// events returns every alert event, oldest first.
func (f *fixture) events() []api.AlertEvent {
	f.t.Helper()
	evs, err := store.ListAll(f.t.Context(), func(ctx context.Context, q store.ListQuery) ([]api.AlertEvent, string, error) {
		return f.st.ListAlertEvents(ctx, store.AlertEventQuery{Limit: q.Limit, After: q.After})
	})
	if err != nil {
		f.t.Fatal(err)
	}
	slices.Reverse(evs)
	return evs
}

func (f *fixture) deliveries(eventID string) []string {
	f.t.Helper()
	ds, _, err := f.st.ListDeliveries(f.t.Context(), store.DeliveryQuery{EventID: eventID})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, d := range ds {
		if d.State != api.DeliveryPending || d.Attempts != 0 {
			f.t.Errorf("delivery %+v is not a new pending one", d)
		}
		out = append(out, d.ChannelID)
	}
	slices.Sort(out)
	return out
}

func (f *fixture) current() []api.Alert {
	f.t.Helper()
	as, _, err := f.st.CurrentAlerts(f.t.Context(), store.AlertQuery{})
	if err != nil {
		f.t.Fatal(err)
	}
	return as
}

func transitions(evs []api.AlertEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Severity + ":" + e.FromState + "→" + e.ToState
		if e.Reason != nil {
			out[i] += " (" + *e.Reason + ")"
		}
	}
	return out
}

func errorRateThreshold() api.AlertThreshold {
	return api.AlertThreshold{Meta: meta("thr_err"), Name: "payments errors", MonitorID: ptr("mon_1"), Metric: api.MetricErrorRate,
		Comparison: ptr(api.CompareAbove), Critical: ptr(40.0), Window: ptr("1m"), PendingFor: ptr("30s"), RecoveryFor: ptr("20s"),
		ChannelIDs: []string{"chan_all", "chan_noresolve", "chan_off"}, RunbookURL: ptr("https://runbooks.example.com/payments")}
}

// A monitor that starts failing fires after pending_for, with one delivery
// per enabled channel; it resolves after recovery_for, delivered only to
// the channels that want resolutions; a restarted evaluator continues
// without repeating anything.
func TestFiringAndResolving(t *testing.T) {
	f := newFixture(t)
	f.insertThreshold(errorRateThreshold())
	e := f.evaluator()
	up, down := map[string]string{"mon_1": api.OutcomeUp}, map[string]string{"mon_1": api.OutcomeDown}
	for range 3 {
		f.step(e, up)
	}
	if evs := f.events(); len(evs) != 0 {
		t.Fatalf("events while healthy: %v", transitions(evs))
	}
	// 1 down of 4 in the minute: 25 %, below 40.
	f.step(e, down)
	// 2 of 5: 40 %, not above.
	f.step(e, down)
	if evs := f.events(); len(evs) != 0 {
		t.Fatalf("events at 40 %%: %v", transitions(evs))
	}
	// 3 of 6: 50 %: pending.
	f.step(e, down)
	pendingAt := f.clk.Now()
	evs := f.events()
	if got := transitions(evs); !slices.Equal(got, []string{"critical:ok→pending"}) {
		t.Fatalf("after the breach: %v", got)
	}
	if d := f.deliveries(evs[0].ID); len(d) != 0 {
		t.Fatalf("pending was delivered: %v", d)
	}
	if cur := f.current(); len(cur) != 1 || cur[0].State != api.AlertPending || cur[0].StartedAt == nil || !cur[0].StartedAt.Equal(pendingAt) {
		t.Fatalf("current alerts while pending: %+v", cur)
	}
	// Still breaching, but pending_for (30 s) has not passed until the
	// third step.
	f.step(e, down)
	f.step(e, down)
	if n := len(f.events()); n != 1 {
		t.Fatalf("fired before pending_for: %v", transitions(f.events()))
	}
	writes := f.st.writes.Load()
	f.step(e, down)
	// The event, its deliveries and the state: one transaction.
	if f.st.writes.Load() != writes+1 {
		t.Fatalf("the firing tick made %d write transactions", f.st.writes.Load()-writes)
	}
	evs = f.events()
	if got := transitions(evs); !slices.Equal(got, []string{"critical:ok→pending", "critical:pending→firing"}) {
		t.Fatalf("after pending_for: %v", got)
	}
	fired := evs[1]
	if fired.ThresholdName != "payments errors" || *fired.MonitorID != "mon_1" || *fired.MonitorName != "health" ||
		*fired.EndpointID != "ep_1" || *fired.EndpointName != "payments" || *fired.RunbookURL != "https://runbooks.example.com/payments" ||
		fired.Metric != api.MetricErrorRate || *fired.Window != "1m" || fired.Value == nil || *fired.Value <= 40 ||
		!fired.At.Equal(pendingAt.Add(30*time.Second)) || fired.ResolvedAt != nil || fired.Reason != nil {
		t.Fatalf("firing event %+v", fired)
	}
	if d := f.deliveries(fired.ID); !slices.Equal(d, []string{"chan_all", "chan_noresolve"}) {
		t.Fatalf("firing delivered to %v", d)
	}
	// Nothing changed: nothing is written.
	writes = f.st.writes.Load()
	f.step(e, down)
	if f.st.writes.Load() != writes {
		t.Fatalf("a tick without changes made %d write transactions", f.st.writes.Load()-writes)
	}

	// A restart: a new evaluator on the same store goes on firing,
	// without a new event.
	e = f.evaluator()
	f.step(e, down)
	if n := len(f.events()); n != 2 {
		t.Fatalf("the restart added events: %v", transitions(f.events()))
	}
	// The target recovers: once the minute's error rate is back at or
	// under 40 %, recovery_for (20 s) later it resolves.
	var resolved *api.AlertEvent
	for i := 0; i < 12 && resolved == nil; i++ {
		f.step(e, up)
		evs = f.events()
		for i := range evs {
			if evs[i].ToState == api.AlertResolved {
				resolved = &evs[i]
			}
		}
	}
	if resolved == nil {
		t.Fatalf("no resolution: %v", transitions(evs))
	}
	if resolved.ResolvedAt == nil || !resolved.ResolvedAt.Equal(resolved.At) || resolved.StartedAt == nil || !resolved.StartedAt.Equal(fired.At) {
		t.Fatalf("resolved event %+v", resolved)
	}
	if d := f.deliveries(resolved.ID); !slices.Equal(d, []string{"chan_all"}) {
		t.Fatalf("resolution delivered to %v", d)
	}
	f.step(e, up)
	if got := transitions(f.events()); !slices.Equal(got, []string{"critical:ok→pending", "critical:pending→firing", "critical:firing→resolved", "critical:resolved→ok"}) {
		t.Fatalf("the whole episode: %v", got)
	}
	if cur := f.current(); len(cur) != 0 {
		t.Fatalf("current alerts after recovery: %+v", cur)
	}
}

// The resolution waits recovery_for from the first clear evaluation.
func TestRecoveryFor(t *testing.T) {
	f := newFixture(t)
	thr := errorRateThreshold()
	thr.PendingFor, thr.RecoveryFor = ptr("0s"), ptr("30s")
	f.insertThreshold(thr)
	e := f.evaluator()
	f.step(e, map[string]string{"mon_1": api.OutcomeDown})
	if got := transitions(f.events()); !slices.Equal(got, []string{"critical:ok→firing"}) {
		t.Fatalf("pending_for 0s: %v", got)
	}
	// Clear from the moment the window holds no failure: one minute on.
	var clearAt time.Time
	for i := 0; i < 20; i++ {
		f.step(e, map[string]string{"mon_1": api.OutcomeUp})
		st, _, err := f.st.MonitorStatus(t.Context(), "mon_1", f.clk.Now().Add(-time.Minute), f.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if clearAt.IsZero() && st.Down*100 <= 40*st.Probes {
			clearAt = f.clk.Now()
		}
		if n := len(f.events()); n > 1 {
			break
		}
	}
	evs := f.events()
	if len(evs) < 2 || evs[1].ToState != api.AlertResolved {
		t.Fatalf("no resolution: %v", transitions(evs))
	}
	if got := evs[1].At.Sub(clearAt); got != 30*time.Second {
		t.Fatalf("resolved %v after the figure cleared, want recovery_for 30s", got)
	}
}

// Changing what a threshold evaluates resolves its open alerts with the
// reason; a rename does not. Deleting it resolves them and removes its
// states.
func TestChangeAndDeleteResolve(t *testing.T) {
	f := newFixture(t)
	thr := errorRateThreshold()
	thr.PendingFor = ptr("0s")
	f.insertThreshold(thr)
	e := f.evaluator()
	down := map[string]string{"mon_1": api.OutcomeDown}
	f.step(e, down)
	thr, err := f.st.GetThreshold(t.Context(), "thr_err")
	if err != nil {
		t.Fatal(err)
	}
	// A rename keeps the alert.
	thr.Name = "payments error rate"
	f.updateThreshold(thr)
	e.Notify(api.KindThreshold, thr.ID)
	f.step(e, down)
	if got := transitions(f.events()); !slices.Equal(got, []string{"critical:ok→firing"}) {
		t.Fatalf("after a rename: %v", got)
	}
	// A new critical value resolves it with the reason; the next tick
	// evaluates the new rule and fires again.
	thr.Revision++
	thr.Critical = ptr(30.0)
	f.updateThreshold(thr)
	e.Notify(api.KindThreshold, thr.ID)
	f.step(e, down)
	evs := f.events()
	want := []string{"critical:ok→firing", "critical:firing→resolved (threshold changed)", "critical:ok→firing"}
	if got := transitions(evs); !slices.Equal(got, want) {
		t.Fatalf("after a change: %v, want %v", got, want)
	}
	if evs[1].ThresholdName != "payments error rate" {
		t.Fatalf("resolution names the threshold %q", evs[1].ThresholdName)
	}
	if d := f.deliveries(evs[1].ID); !slices.Equal(d, []string{"chan_all"}) {
		t.Fatalf("resolution delivered to %v", d)
	}
	// Deleted: resolved with the reason, states gone.
	if err := f.st.Write(t.Context(), func(tx store.Tx) error { return tx.DeleteThreshold(t.Context(), thr.ID) }); err != nil {
		t.Fatal(err)
	}
	e.Notify(api.KindThreshold, thr.ID)
	f.step(e, down)
	evs = f.events()
	last := evs[len(evs)-1]
	if last.ToState != api.AlertResolved || last.Reason == nil || *last.Reason != alerting.ReasonDeleted {
		t.Fatalf("after the delete: %v", transitions(evs))
	}
	states, err := f.st.LoadAlertStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 0 {
		t.Fatalf("states of a deleted threshold remain: %+v", states)
	}
	f.step(e, down)
	if n := len(f.events()); n != len(evs) {
		t.Fatalf("events after the delete: %v", transitions(f.events()))
	}
}

// A threshold deleted while aiod was down is resolved at the start, with
// the names of its latest event.
func TestDeletedWhileDown(t *testing.T) {
	f := newFixture(t)
	thr := errorRateThreshold()
	thr.PendingFor = ptr("0s")
	f.insertThreshold(thr)
	f.step(f.evaluator(), map[string]string{"mon_1": api.OutcomeDown})
	if err := f.st.Write(t.Context(), func(tx store.Tx) error { return tx.DeleteThreshold(t.Context(), thr.ID) }); err != nil {
		t.Fatal(err)
	}
	f.step(f.evaluator(), map[string]string{"mon_1": api.OutcomeDown})
	evs := f.events()
	if got := transitions(evs); !slices.Equal(got, []string{"critical:ok→firing", "critical:firing→resolved (threshold deleted)"}) {
		t.Fatalf("events: %v", got)
	}
	if evs[1].ThresholdName != "payments errors" || evs[1].MonitorName == nil || *evs[1].MonitorName != "health" {
		t.Fatalf("resolution %+v", evs[1])
	}
	if states, _ := f.st.LoadAlertStates(t.Context()); len(states) != 0 {
		t.Fatalf("states remain: %+v", states)
	}
}

// A threshold changed while no evaluator ran (aiod down) is recognised
// at the next start by the revision its states were stored under: its
// open alerts are resolved with the reason, then the new rule is
// evaluated. A rename seen while running stores the new revision, so a
// restart after it resolves nothing.
func TestChangedWhileDown(t *testing.T) {
	f := newFixture(t)
	thr := errorRateThreshold()
	thr.PendingFor = ptr("0s")
	f.insertThreshold(thr)
	down := map[string]string{"mon_1": api.OutcomeDown}
	e := f.evaluator()
	f.step(e, down)
	thr, err := f.st.GetThreshold(t.Context(), thr.ID)
	if err != nil {
		t.Fatal(err)
	}
	thr.Name = "payments error rate"
	f.updateThreshold(thr)
	e.Notify(api.KindThreshold, thr.ID)
	f.step(e, down)
	states, err := f.st.LoadAlertStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].ThresholdRevision != 2 {
		t.Fatalf("after a rename, states %+v, want revision 2", states)
	}
	// A restart after the rename: the alert goes on.
	e = f.evaluator()
	f.step(e, down)
	if got := transitions(f.events()); !slices.Equal(got, []string{"critical:ok→firing"}) {
		t.Fatalf("after a restart: %v", got)
	}

	// The evaluator stops; the threshold is changed in the store directly
	// (no Notify reaches anyone); a new evaluator starts.
	thr, err = f.st.GetThreshold(t.Context(), thr.ID)
	if err != nil {
		t.Fatal(err)
	}
	thr.Critical = ptr(30.0)
	f.updateThreshold(thr)
	f.step(f.evaluator(), down)
	evs := f.events()
	want := []string{"critical:ok→firing", "critical:firing→resolved (threshold changed)", "critical:ok→firing"}
	if got := transitions(evs); !slices.Equal(got, want) {
		t.Fatalf("after a change while down: %v, want %v", got, want)
	}
	if d := f.deliveries(evs[1].ID); !slices.Equal(d, []string{"chan_all"}) {
		t.Fatalf("resolution delivered to %v", d)
	}
	states, err = f.st.LoadAlertStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].ThresholdRevision != 3 || states[0].State != api.AlertFiring {
		t.Fatalf("states %+v, want firing at revision 3", states)
	}
}

// Disabling a threshold resolves its alerts; a disabled threshold is not
// evaluated.
func TestDisable(t *testing.T) {
	f := newFixture(t)
	thr := errorRateThreshold()
	thr.PendingFor = ptr("0s")
	f.insertThreshold(thr)
	e := f.evaluator()
	f.step(e, map[string]string{"mon_1": api.OutcomeDown})
	thr, _ = f.st.GetThreshold(t.Context(), thr.ID)
	thr.Enabled = ptr(false)
	f.updateThreshold(thr)
	e.Notify(api.KindThreshold, thr.ID)
	f.step(e, map[string]string{"mon_1": api.OutcomeDown})
	f.step(e, map[string]string{"mon_1": api.OutcomeDown})
	if got := transitions(f.events()); !slices.Equal(got, []string{"critical:ok→firing", "critical:firing→resolved (threshold disabled)"}) {
		t.Fatalf("events: %v", got)
	}
}

// An endpoint threshold reads the merged figures of all its monitors; a
// consecutive_failures threshold reads the latest outcomes.
func TestEndpointAndConsecutiveFailures(t *testing.T) {
	f := newFixture(t)
	f.insertThreshold(api.AlertThreshold{Meta: meta("thr_ep"), Name: "endpoint availability", EndpointID: ptr("ep_1"),
		Metric: api.MetricAvailability, Comparison: ptr(api.CompareBelow), Critical: ptr(60.0), Window: ptr("1m")})
	f.insertThreshold(api.AlertThreshold{Meta: meta("thr_cf"), Name: "streak", MonitorID: ptr("mon_2"),
		Metric: api.MetricConsecutiveFailure, Comparison: ptr(api.CompareAbove), Warning: ptr(2.0), Critical: ptr(3.0)})
	e := f.evaluator()
	// mon_1 up, mon_2 down: the endpoint is 50 % available.
	f.step(e, map[string]string{"mon_1": api.OutcomeUp, "mon_2": api.OutcomeDown})
	evs := f.events()
	if len(evs) != 1 || evs[0].ThresholdID != "thr_ep" || evs[0].Value == nil || *evs[0].Value != 50 ||
		evs[0].MonitorID != nil || *evs[0].EndpointName != "payments" {
		t.Fatalf("endpoint events: %+v", evs)
	}
	f.step(e, map[string]string{"mon_1": api.OutcomeUp, "mon_2": api.OutcomeDown})
	f.step(e, map[string]string{"mon_1": api.OutcomeUp, "mon_2": api.OutcomeDown})
	var streak []string
	for _, ev := range f.events() {
		if ev.ThresholdID == "thr_cf" {
			streak = append(streak, ev.Severity+":"+ev.ToState)
			if ev.Window != nil {
				t.Errorf("consecutive_failures event has a window: %q", *ev.Window)
			}
		}
	}
	// 3 failures: warning (above 2) fires; critical needs 4.
	if !slices.Equal(streak, []string{"warning:firing"}) {
		t.Fatalf("after 3 failures: %v", streak)
	}
	f.step(e, map[string]string{"mon_1": api.OutcomeUp, "mon_2": api.OutcomeDown})
	streak = streak[:0]
	for _, ev := range f.events() {
		if ev.ThresholdID == "thr_cf" {
			streak = append(streak, ev.Severity+":"+ev.ToState)
		}
	}
	if !slices.Equal(streak, []string{"warning:firing", "critical:firing"}) {
		t.Fatalf("after 4 failures: %v", streak)
	}
}

// No figure, no NaN: a threshold whose monitor has no results stores
// nothing under no_data ok, and every value stored is finite.
func TestNoDataStoresNoValue(t *testing.T) {
	f := newFixture(t)
	thr := errorRateThreshold()
	thr.NoData = api.NoDataAlerting
	thr.PendingFor = ptr("0s")
	f.insertThreshold(thr)
	e := f.evaluator()
	f.clk.Advance(10 * time.Second)
	f.tick(e)
	evs := f.events()
	if len(evs) != 1 || evs[0].ToState != api.AlertFiring || evs[0].Value != nil {
		t.Fatalf("no_data alerting: %+v", evs)
	}
	for _, a := range f.current() {
		if a.Value != nil && (math.IsNaN(*a.Value) || math.IsInf(*a.Value, 0)) {
			t.Fatalf("stored value %v", *a.Value)
		}
	}
}

// A burn-rate threshold fires when both windows of a pair burn faster
// than its factor; its events name the pair.
func TestBurnRate(t *testing.T) {
	f := newFixture(t)
	f.insertThreshold(api.AlertThreshold{Meta: meta("thr_burn"), Name: "budget", MonitorID: ptr("mon_1"), Metric: api.MetricBurnRate,
		SLO: &api.SLO{ObjectivePercent: 99, Period: "168h"}, ChannelIDs: []string{"chan_all"},
		BurnRateWindows: []api.BurnRateWindow{{LongWindow: "10m", ShortWindow: "2m", Factor: 10, Severity: api.SeverityCritical}}})
	e := f.evaluator()
	// 1 down in 12 probes over 10 minutes... first a healthy stretch.
	for range 12 {
		f.step(e, map[string]string{"mon_1": api.OutcomeUp})
	}
	// One failure: 1/13 ≈ 7.7 % over the long window (burn 7.7), 1/12
	// over the short one: not above 10 in both.
	f.step(e, map[string]string{"mon_1": api.OutcomeDown})
	if evs := f.events(); len(evs) != 0 {
		t.Fatalf("fired on a short burn: %v", transitions(evs))
	}
	// A second: 2/14 ≈ 14.3 % long, 2/12 short: both above 10 %.
	f.step(e, map[string]string{"mon_1": api.OutcomeDown})
	evs := f.events()
	if len(evs) != 1 || evs[0].ToState != api.AlertFiring || evs[0].Window == nil || *evs[0].Window != "10m" ||
		evs[0].LongWindow == nil || *evs[0].LongWindow != "10m" || evs[0].ShortWindow == nil || *evs[0].ShortWindow != "2m" ||
		evs[0].Value == nil || math.Abs(*evs[0].Value-100.0*2/14) > 1e-9 {
		t.Fatalf("burn-rate events: %+v", evs)
	}
	if d := f.deliveries(evs[0].ID); !slices.Equal(d, []string{"chan_all"}) {
		t.Fatalf("delivered to %v", d)
	}
	// The current alert (GET /v1/alerts) carries the same figure, the
	// pair's rate, and when it fired.
	cur := f.current()
	if len(cur) != 1 || cur[0].State != api.AlertFiring || cur[0].StartedAt == nil || cur[0].Value == nil ||
		math.Abs(*cur[0].Value-*evs[0].Value) > 1e-9 {
		t.Fatalf("current alerts: %+v", cur)
	}
}

// Run ticks at once, then every Interval of the injected clock, each tick
// as of its scheduled time.
func TestRunTicksOnTheClock(t *testing.T) {
	f := newFixture(t)
	var ticks atomic.Int64
	obs := &countingObserver{ticks: &ticks}
	e := alerting.New(alerting.Config{Store: f.st, Clock: f.clk, Interval: 10 * time.Second, Poll: 5 * time.Millisecond, Observer: obs})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("the first tick", func() bool { at, ok := e.LastTick(); return ok && at.Equal(t0) })
	time.Sleep(50 * time.Millisecond)
	if n := ticks.Load(); n != 1 {
		t.Fatalf("%d ticks without the clock moving", n)
	}
	f.clk.Advance(9 * time.Second)
	time.Sleep(50 * time.Millisecond)
	if n := ticks.Load(); n != 1 {
		t.Fatalf("ticked before the interval passed (%d ticks)", n)
	}
	f.clk.Advance(time.Second)
	waitFor("the second tick", func() bool { at, _ := e.LastTick(); return at.Equal(t0.Add(10 * time.Second)) })
	// A poll that notices the tick late evaluates as of the scheduled
	// time, so that ticks stay exactly Interval apart.
	f.clk.Advance(10*time.Second + 200*time.Millisecond)
	waitFor("the third tick, at its scheduled time", func() bool { at, _ := e.LastTick(); return at.Equal(t0.Add(20 * time.Second)) })
	// Behind by a whole interval or more: as of now.
	f.clk.Advance(25 * time.Second)
	waitFor("a late tick, at the poll's time", func() bool { at, _ := e.LastTick(); return at.Equal(t0.Add(45*time.Second + 200*time.Millisecond)) })
	// Exactly one interval late (the tick due at 55.2 s seen at 65.2 s):
	// as of now too.
	f.clk.Advance(20 * time.Second)
	waitFor("a tick exactly an interval late, at the poll's time", func() bool {
		at, _ := e.LastTick()
		return at.Equal(t0.Add(65*time.Second + 200*time.Millisecond))
	})
}

// waitFor polls cond (a goroutine of Run is expected to make it true)
// for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The every-minute reload is read by Run between ticks, half an interval
// before the tick that adopts it, and not by the tick: the thresholds are
// read at the first tick (which also restores the states) and then at
// 55 s, when no tick runs, never at a tick's time. The tick at 60 s
// evaluates what was read at 55 s: a threshold changed in the store
// without a notice (the reload is the safety net for those) is resolved
// as changed there, and not before.
func TestPeriodicReloadBetweenTicks(t *testing.T) {
	f := newFixture(t)
	thr := errorRateThreshold()
	thr.PendingFor = ptr("0s")
	f.insertThreshold(thr)
	e := alerting.New(alerting.Config{Store: f.st, Clock: f.clk, Interval: 10 * time.Second, ReloadEvery: time.Minute,
		Poll: 2 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	f.probe("mon_1", api.OutcomeDown)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	tickAt := func(d time.Duration) {
		t.Helper()
		waitFor(t, fmt.Sprintf("the tick at %s", d), func() bool { at, _ := e.LastTick(); return at.Equal(t0.Add(d)) })
	}
	tickAt(0)
	if got := transitions(f.events()); !slices.Equal(got, []string{"critical:ok→firing"}) {
		t.Fatalf("first tick: %v", got)
	}
	changed := false
	for s := 5 * time.Second; s <= 70*time.Second; s += 5 * time.Second {
		f.probe("mon_1", api.OutcomeDown)
		f.clk.Advance(5 * time.Second)
		switch {
		case s == 50*time.Second:
			// Changed out of band, before the reload is read.
			thr, err := f.st.GetThreshold(t.Context(), thr.ID)
			if err != nil {
				t.Fatal(err)
			}
			thr.Critical = ptr(30.0)
			f.updateThreshold(thr)
			changed = true
		case s == 55*time.Second:
			waitFor(t, "the reload between ticks", func() bool { return len(f.st.reads()) == 2 })
		case s%(10*time.Second) == 0:
			tickAt(s)
			evs := transitions(f.events())
			want := []string{"critical:ok→firing"}
			if changed && s >= 60*time.Second {
				want = append(want, "critical:firing→resolved (threshold changed)", "critical:ok→firing")
			}
			if !slices.Equal(evs, want) {
				t.Fatalf("after the tick at %s: %v, want %v", s, evs, want)
			}
		}
	}
	if got, want := f.st.reads(), []time.Duration{0, 55 * time.Second}; !slices.Equal(got, want) {
		t.Fatalf("thresholds read at %v, want %v (the first tick, then half an interval before the reload's tick)", got, want)
	}
}

// A change notified after the configuration was read between ticks is not
// missed: the tick drops what was read and reads again. A configuration
// read without a notice since is adopted without reading.
func TestNoticeAfterPrefetch(t *testing.T) {
	f := newFixture(t)
	thr := errorRateThreshold()
	thr.PendingFor = ptr("0s")
	f.insertThreshold(thr)
	e := f.evaluator()
	down := map[string]string{"mon_1": api.OutcomeDown}
	f.step(e, down)
	f.clk.Advance(5 * time.Second)
	if err := e.Prefetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	thr, err := f.st.GetThreshold(t.Context(), thr.ID)
	if err != nil {
		t.Fatal(err)
	}
	thr.Critical = ptr(30.0)
	f.updateThreshold(thr)
	e.Notify(api.KindThreshold, thr.ID)
	f.clk.Advance(5 * time.Second)
	f.probe("mon_1", api.OutcomeDown)
	f.tick(e)
	want := []string{"critical:ok→firing", "critical:firing→resolved (threshold changed)", "critical:ok→firing"}
	if got := transitions(f.events()); !slices.Equal(got, want) {
		t.Fatalf("after the notice: %v, want %v", got, want)
	}
	if got, want := f.st.reads(), []time.Duration{10 * time.Second, 15 * time.Second, 20 * time.Second}; !slices.Equal(got, want) {
		t.Fatalf("thresholds read at %v, want %v", got, want)
	}

	// Read between ticks after the notice (no further one): the next tick
	// takes it and reads nothing itself; it evaluates the change made
	// before it was read.
	thr, err = f.st.GetThreshold(t.Context(), thr.ID)
	if err != nil {
		t.Fatal(err)
	}
	thr.Critical = ptr(20.0)
	f.updateThreshold(thr)
	e.Notify(api.KindThreshold, thr.ID)
	f.clk.Advance(5 * time.Second)
	if err := e.Prefetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(5 * time.Second)
	f.probe("mon_1", api.OutcomeDown)
	f.tick(e)
	want = append(want, "critical:firing→resolved (threshold changed)", "critical:ok→firing")
	if got := transitions(f.events()); !slices.Equal(got, want) {
		t.Fatalf("after the prefetch: %v, want %v", got, want)
	}
	if got, want := f.st.reads(), []time.Duration{10 * time.Second, 15 * time.Second, 20 * time.Second, 25 * time.Second}; !slices.Equal(got, want) {
		t.Fatalf("thresholds read at %v, want %v", got, want)
	}
}

type countingObserver struct{ ticks *atomic.Int64 }

func (o *countingObserver) Evaluated(int, time.Duration, error) { o.ticks.Add(1) }
func (o *countingObserver) AlertsFiring(map[string]int)         {}

// Changes of monitors, endpoints and credentials make the next tick read
// the configuration again only while there are thresholds: with none,
// nothing reads what they changed (a burst of monitor creates read every
// monitor twice a tick for nothing), and the notice of the first threshold
// reads everything as it is then.
func TestSubjectNoticesReloadOnlyWithThresholds(t *testing.T) {
	f := newFixture(t)
	e := f.evaluator()
	f.tick(e)
	if got := len(f.st.reads()); got != 1 {
		t.Fatalf("the first tick read the thresholds %d times, want 1", got)
	}
	for _, kind := range []string{api.KindMonitor, api.KindEndpoint, api.KindCredential} {
		e.Notify(kind, "x")
		f.clk.Advance(10 * time.Second)
		f.tick(e)
	}
	if got := f.st.reads(); len(got) != 1 {
		t.Fatalf("with no threshold, monitor, endpoint and credential notices made ticks read at %v, want only the first", got)
	}
	// A reload with no threshold, as the periodic one: the thresholds are
	// read, the monitors (nothing would look at them) are not.
	e.Notify(api.KindThreshold, "thr_gone")
	f.clk.Advance(10 * time.Second)
	f.tick(e)
	if got := len(f.st.reads()); got != 2 {
		t.Fatalf("a threshold notice made %d reads in all, want 2", got)
	}
	if n := f.st.monitorReads.Load(); n != 0 {
		t.Fatalf("with no threshold the monitors were read %d times, want 0", n)
	}
	// Renamed while nothing watched it: the threshold's reload reads the
	// monitor's new name.
	mon, err := f.st.GetMonitor(t.Context(), "mon_1")
	if err != nil {
		t.Fatal(err)
	}
	mon.Name, mon.Revision = "health renamed", mon.Revision+1
	if err := f.st.Write(t.Context(), func(tx store.Tx) error { return tx.UpdateMonitor(t.Context(), mon) }); err != nil {
		t.Fatal(err)
	}
	e.Notify(api.KindMonitor, mon.ID)
	thr := errorRateThreshold()
	thr.PendingFor = ptr("0s")
	f.insertThreshold(thr)
	e.Notify(api.KindThreshold, thr.ID)
	f.step(e, map[string]string{"mon_1": api.OutcomeDown})
	if got := len(f.st.reads()); got != 3 {
		t.Fatalf("a threshold notice made %d reads in all, want 3", got)
	}
	if n := f.st.monitorReads.Load(); n == 0 {
		t.Fatalf("the first threshold's read did not read the monitors")
	}
	evs := f.events()
	if len(evs) == 0 || evs[len(evs)-1].MonitorName == nil || *evs[len(evs)-1].MonitorName != "health renamed" {
		t.Fatalf("the alert does not name the monitor as renamed: %+v", evs)
	}
	// Watched now: a monitor notice makes the next tick read again.
	e.Notify(api.KindMonitor, mon.ID)
	f.clk.Advance(10 * time.Second)
	f.tick(e)
	if got := len(f.st.reads()); got != 4 {
		t.Fatalf("with a threshold, a monitor notice made %d reads in all, want 4", got)
	}
}

// failingStore fails the reads of thresholds while fail is set.
type failingStore struct {
	*countingStore
	fail atomic.Bool
}

func (s *failingStore) ListThresholds(ctx context.Context, q store.ThresholdQuery) ([]api.AlertThreshold, string, error) {
	if s.fail.Load() {
		return nil, "", errors.New("injected read failure")
	}
	return s.countingStore.ListThresholds(ctx, q)
}

// Run with the default poll (250 ms, no Poll given) ticks on the clock and
// logs nothing while all goes well; a failing read between ticks and a
// failing tick are logged, with their errors, through the given logger.
func TestRunDefaultPollAndErrorLogs(t *testing.T) {
	f := newFixture(t)
	fs := &failingStore{countingStore: f.st}
	var logs testutil.SyncBuffer
	e := alerting.New(alerting.Config{Store: fs, Clock: f.clk, Interval: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	tickAt := func(d time.Duration) {
		t.Helper()
		waitFor(t, fmt.Sprintf("the tick at %s", d), func() bool { at, _ := e.LastTick(); return at.Equal(t0.Add(d)) })
	}
	tickAt(0)
	// A notice makes the next tick's configuration be read between ticks,
	// half an interval before it: not during the polls (250 ms) that pass
	// while the clock stays at the tick just made.
	e.Notify(api.KindThreshold, "thr_x")
	time.Sleep(600 * time.Millisecond)
	f.clk.Advance(5 * time.Second)
	waitFor(t, "the read between ticks", func() bool { return len(f.st.reads()) == 2 })
	f.clk.Advance(5 * time.Second)
	tickAt(10 * time.Second)
	// Half an interval before the tick, not at once after the one before.
	if got, want := f.st.reads(), []time.Duration{0, 5 * time.Second}; !slices.Equal(got, want) {
		t.Fatalf("thresholds read at %v, want %v", got, want)
	}
	if s := logs.String(); strings.Contains(s, "level=ERROR") {
		t.Fatalf("errors logged while all went well:\n%s", s)
	}
	fs.fail.Store(true)
	e.Notify(api.KindThreshold, "thr_x")
	f.clk.Advance(5 * time.Second)
	waitFor(t, "the failed read between ticks in the log", func() bool {
		return strings.Contains(logs.String(), `level=ERROR msg="read the alerting configuration"`)
	})
	f.clk.Advance(5 * time.Second)
	waitFor(t, "the failed tick in the log", func() bool {
		return strings.Contains(logs.String(), `level=ERROR msg="evaluate alert thresholds" error=`)
	})
	if s := logs.String(); !strings.Contains(s, "injected read failure") {
		t.Errorf("the log does not carry the error:\n%s", s)
	}
}

// evaluatedObserver records the count of every tick.
type evaluatedObserver struct {
	mu     sync.Mutex
	counts []int
}

func (o *evaluatedObserver) Evaluated(n int, _ time.Duration, _ error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counts = append(o.counts, n)
}
func (o *evaluatedObserver) AlertsFiring(map[string]int) {}

// The observer is told how many thresholds a tick evaluated, and Delivered
// is called after a tick that stored deliveries, not after one that
// stored an event without any (its only channel is disabled).
func TestObserverAndDeliveredHooks(t *testing.T) {
	f := newFixture(t)
	quiet := errorRateThreshold()
	quiet.ID, quiet.Name, quiet.PendingFor, quiet.ChannelIDs = "thr_quiet", "quiet errors", ptr("0s"), []string{"chan_off"}
	f.insertThreshold(quiet)
	obs := &evaluatedObserver{}
	var delivered atomic.Int64
	e := alerting.New(alerting.Config{Store: f.st, Clock: f.clk, Observer: obs, Delivered: func() { delivered.Add(1) }})
	f.step(e, map[string]string{"mon_1": api.OutcomeDown})
	if evs := f.events(); len(evs) != 1 || delivered.Load() != 0 {
		t.Fatalf("events %v, Delivered called %d times; want one event and no call", transitions(evs), delivered.Load())
	}
	loud := errorRateThreshold()
	loud.PendingFor = ptr("0s")
	f.insertThreshold(loud)
	e.Notify(api.KindThreshold, loud.ID)
	f.step(e, map[string]string{"mon_1": api.OutcomeDown})
	if delivered.Load() != 1 {
		t.Errorf("Delivered called %d times after a tick with deliveries, want 1", delivered.Load())
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if !slices.Equal(obs.counts, []int{1, 2}) {
		t.Errorf("the observer saw %v thresholds evaluated, want [1 2]", obs.counts)
	}
}

// A consecutive_failures threshold with only a warning level reads enough
// outcomes for it: above 2 fires at the third failure.
func TestConsecutiveFailuresWarningOnly(t *testing.T) {
	f := newFixture(t)
	f.insertThreshold(api.AlertThreshold{Meta: meta("thr_cf"), Name: "streak", MonitorID: ptr("mon_2"),
		Metric: api.MetricConsecutiveFailure, Comparison: ptr(api.CompareAbove), Warning: ptr(2.0)})
	e := f.evaluator()
	for range 3 {
		f.step(e, map[string]string{"mon_2": api.OutcomeDown})
	}
	if got := transitions(f.events()); !slices.Equal(got, []string{"warning:ok→firing"}) {
		t.Errorf("after 3 failures: %v, want the warning firing", got)
	}
}

// Over an endpoint, consecutive failures count the outcomes of all its
// monitors merged by time, newest first: mon_1 up then down twice, mon_2
// down three times is a streak of 4 (the up is the oldest), not mon_1's 2.
func TestEndpointConsecutiveFailuresMergedByTime(t *testing.T) {
	f := newFixture(t)
	f.insertThreshold(api.AlertThreshold{Meta: meta("thr_cf"), Name: "endpoint streak", EndpointID: ptr("ep_1"),
		Metric: api.MetricConsecutiveFailure, Comparison: ptr(api.CompareAbove), Warning: ptr(3.0)})
	e := f.evaluator()
	f.step(e, map[string]string{"mon_1": api.OutcomeUp, "mon_2": api.OutcomeDown})
	f.step(e, map[string]string{"mon_1": api.OutcomeDown, "mon_2": api.OutcomeDown})
	f.step(e, map[string]string{"mon_1": api.OutcomeDown, "mon_2": api.OutcomeDown})
	if got := transitions(f.events()); !slices.Equal(got, []string{"warning:ok→firing"}) {
		t.Errorf("after a streak of 4 over the endpoint: %v, want the warning firing", got)
	}
}

// A latency threshold is evaluated on the window's latencies: probes of
// 12 ms are above 10 ms at p95.
func TestLatencyThreshold(t *testing.T) {
	f := newFixture(t)
	f.insertThreshold(api.AlertThreshold{Meta: meta("thr_lat"), Name: "slow", MonitorID: ptr("mon_1"), Metric: api.MetricLatencyP95,
		Comparison: ptr(api.CompareAbove), Critical: ptr(10.0), Window: ptr("1m"), PendingFor: ptr("0s")})
	e := f.evaluator()
	f.step(e, map[string]string{"mon_1": api.OutcomeUp})
	evs := f.events()
	if len(evs) != 1 || evs[0].ToState != api.AlertFiring || evs[0].Value == nil || *evs[0].Value < 10 || *evs[0].Value > 20 {
		t.Fatalf("latency events: %+v", evs)
	}
}

// outcomesFailingStore fails the read of the latest outcomes.
type outcomesFailingStore struct{ *countingStore }

func (outcomesFailingStore) LatestOutcomesOf(context.Context, []string, int) (map[string][]store.OutcomeAt, error) {
	return nil, errors.New("injected outcomes failure")
}

// A tick whose read of the latest outcomes fails fails, rather than
// evaluate consecutive failures on no outcomes.
func TestOutcomesReadErrorFailsTheTick(t *testing.T) {
	f := newFixture(t)
	f.insertThreshold(api.AlertThreshold{Meta: meta("thr_cf"), Name: "streak", MonitorID: ptr("mon_2"),
		Metric: api.MetricConsecutiveFailure, Comparison: ptr(api.CompareAbove), Warning: ptr(2.0)})
	e := alerting.New(alerting.Config{Store: outcomesFailingStore{f.st}, Clock: f.clk})
	f.clk.Advance(10 * time.Second)
	f.probe("mon_2", api.OutcomeDown)
	if err := e.Tick(t.Context(), f.clk.Now()); err == nil || !strings.Contains(err.Error(), "injected outcomes failure") {
		t.Errorf("tick: %v, want the read's error", err)
	}
}

// A threshold that the rule's own validation refuses (stored before a rule
// existed: a burn-rate pair whose long window is shorter than its short
// one) is left out, not evaluated.
func TestInvalidRuleIsLeftOut(t *testing.T) {
	f := newFixture(t)
	f.insertThreshold(api.AlertThreshold{Meta: meta("thr_burn"), Name: "budget", MonitorID: ptr("mon_1"), Metric: api.MetricBurnRate,
		SLO: &api.SLO{ObjectivePercent: 99, Period: "168h"}, ChannelIDs: []string{"chan_all"},
		BurnRateWindows: []api.BurnRateWindow{{LongWindow: "2m", ShortWindow: "10m", Factor: 10, Severity: api.SeverityCritical}}})
	obs := &evaluatedObserver{}
	e := alerting.New(alerting.Config{Store: f.st, Clock: f.clk, Observer: obs})
	f.step(e, map[string]string{"mon_1": api.OutcomeDown})
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if !slices.Equal(obs.counts, []int{0}) {
		t.Errorf("thresholds evaluated %v, want [0]", obs.counts)
	}
}

// A configuration read between ticks is adopted only while it is current:
// not after a monitor changed since it was read (the thresholds watch
// monitors), and not once it is a whole interval old.
func TestPrefetchAdoption(t *testing.T) {
	f := newFixture(t)
	thr := errorRateThreshold()
	thr.PendingFor = ptr("0s")
	f.insertThreshold(thr)
	e := f.evaluator()
	halfStep := func() {
		f.clk.Advance(5 * time.Second)
		f.probe("mon_1", api.OutcomeDown)
		f.tick(e)
	}
	f.step(e, map[string]string{"mon_1": api.OutcomeDown}) // reads at 10 s
	e.Notify(api.KindThreshold, thr.ID)
	f.clk.Advance(5 * time.Second)
	if err := e.Prefetch(t.Context()); err != nil { // reads at 15 s
		t.Fatal(err)
	}
	e.Notify(api.KindMonitor, "mon_1")
	halfStep() // 5 s old, but a monitor changed since: reads at 20 s
	if got, want := f.st.reads(), []time.Duration{10 * time.Second, 15 * time.Second, 20 * time.Second}; !slices.Equal(got, want) {
		t.Fatalf("after a monitor notice: thresholds read at %v, want %v", got, want)
	}
	e.Notify(api.KindThreshold, thr.ID)
	if err := e.Prefetch(t.Context()); err != nil { // reads at 20 s
		t.Fatal(err)
	}
	f.step(e, map[string]string{"mon_1": api.OutcomeDown}) // an interval old: reads at 30 s
	if got, want := f.st.reads(), []time.Duration{10 * time.Second, 15 * time.Second, 20 * time.Second, 20 * time.Second, 30 * time.Second}; !slices.Equal(got, want) {
		t.Fatalf("after an interval: thresholds read at %v, want %v", got, want)
	}
}
