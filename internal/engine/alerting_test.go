package engine_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/alerting"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// runningEngine is an engine running on a store until stop.
type runningEngine struct {
	*engine.Engine
	stop func()
}

func startEngine(t *testing.T, st store.Store, clk clock.Clock) *runningEngine {
	t.Helper()
	// The evaluator's own ticks would race with the probes' results on a
	// clock that jumps; the test ticks it itself, after each result is
	// stored. Its loop still runs (and ticks once at the start).
	e := engine.New(engine.Config{Store: st, Clock: clk, Egress: egress.AllowLoopback(), AlertInterval: 24 * time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	stopped := false
	re := &runningEngine{Engine: e}
	re.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(15 * time.Second):
			t.Error("engine did not stop")
		}
	}
	t.Cleanup(re.stop)
	return re
}

// A real local target starts failing: the threshold goes pending, fires
// once pending_for has passed on the engine's clock, with a pending
// delivery for its channel; a restarted engine goes on from the stored
// states without repeating an event; the target recovers and the alert
// resolves after recovery_for; deleting the threshold resolves with the
// reason.
func TestEngineAlertsOnAFailingTarget(t *testing.T) {
	ctx := context.Background()
	var failing atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(target.Close)
	sq, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "aio.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sq.Close() })
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	m := func(id string) api.Meta { return api.Meta{ID: id, Revision: 1, CreatedAt: t0, UpdatedAt: t0} }
	thr := api.AlertThreshold{Meta: m("thr_1"), Name: "target errors", MonitorID: ptr("mon_1"), Metric: api.MetricErrorRate,
		Comparison: ptr(api.CompareAbove), Critical: ptr(40.0), Window: ptr("1m"), PendingFor: ptr("30s"), RecoveryFor: ptr("30s"),
		ChannelIDs: []string{"chan_1"}}
	thr.Normalize()
	err = sq.Write(ctx, func(tx store.Tx) error {
		if err := tx.InsertEndpoint(ctx, api.Endpoint{Meta: m("ep_1"), Name: "target", URL: target.URL, DataClassification: api.ClassInternal}); err != nil {
			return err
		}
		if err := tx.InsertMonitor(ctx, api.Monitor{Meta: m("mon_1"), Name: "target-health", EndpointID: "ep_1",
			Type: api.MonitorHTTP, Enabled: ptr(true), Interval: ptr("10s")}); err != nil {
			return err
		}
		if err := tx.InsertChannel(ctx, store.ChannelRecord{NotificationChannel: api.NotificationChannel{Meta: m("chan_1"), Name: "hook",
			Type: api.ChannelWebhook, URL: ptr("http://127.0.0.1:9/hook")}}); err != nil {
			return err
		}
		return tx.InsertThreshold(ctx, thr)
	})
	if err != nil {
		t.Fatal(err)
	}

	e := startEngine(t, sq, clk)
	eventually(t, 10*time.Second, "the evaluator's first tick", func() bool { _, ok := e.Alerts.LastTick(); return ok })
	// step runs the monitor's next probe on the fake clock, waits for its
	// result to be stored, and evaluates at that time.
	step := func() {
		t.Helper()
		var due time.Time
		eventually(t, 10*time.Second, "the monitor to be scheduled", func() bool {
			var ok bool
			due, ok = e.Scheduler.NextDue()
			return ok && !due.Before(clk.Now())
		})
		clk.Set(due)
		eventually(t, 10*time.Second, "the result at "+due.Format(time.TimeOnly), func() bool {
			got, err := sq.LatestOutcomes(ctx, "mon_1", 1)
			return err == nil && len(got) == 1 && !got[0].Time.Before(due.Truncate(time.Microsecond))
		})
		// A window is [now-window, now): evaluate just after the probe
		// so that its result counts.
		clk.Advance(time.Millisecond)
		if err := e.Alerts.Tick(ctx, clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	events := func() []api.AlertEvent {
		t.Helper()
		evs, _, err := sq.ListAlertEvents(ctx, store.AlertEventQuery{ThresholdID: "thr_1", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(evs)
		return evs
	}
	states := func() []string {
		var out []string
		for _, ev := range events() {
			s := ev.FromState + "→" + ev.ToState
			if ev.Reason != nil {
				s += " (" + *ev.Reason + ")"
			}
			out = append(out, s)
		}
		return out
	}

	step()
	step()
	if got := states(); len(got) != 0 {
		t.Fatalf("events while the target is up: %v", got)
	}
	failing.Store(true)
	step()                                            // 1 of 3 down: 33 %
	step()                                            // 2 of 4: 50 %: pending
	pendingAt := clk.Now().Truncate(time.Microsecond) // as stored
	if got := states(); !slices.Equal(got, []string{"ok→pending"}) {
		t.Fatalf("after the target failed: %v", got)
	}
	for clk.Now().Truncate(time.Microsecond).Sub(pendingAt) < 30*time.Second {
		if got := states(); len(got) != 1 {
			t.Fatalf("fired %v after pending started, before pending_for: %v", clk.Now().Sub(pendingAt), got)
		}
		step()
	}
	evs := events()
	if got := states(); !slices.Equal(got, []string{"ok→pending", "pending→firing"}) {
		t.Fatalf("once pending_for passed: %v", got)
	}
	fired := evs[1]
	if fired.Severity != api.SeverityCritical || fired.Value == nil || *fired.Value <= 40 || fired.MonitorName == nil ||
		*fired.MonitorName != "target-health" || !fired.At.Equal(pendingAt.Add(30*time.Second)) {
		t.Fatalf("firing event %+v", fired)
	}
	ds, _, err := sq.ListDeliveries(ctx, store.DeliveryQuery{EventID: fired.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].ChannelID != "chan_1" || ds[0].State != api.DeliveryPending {
		t.Fatalf("deliveries of the firing: %+v", ds)
	}
	cur, _, err := sq.CurrentAlerts(ctx, store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) != 1 || cur[0].State != api.AlertFiring {
		t.Fatalf("current alerts: %+v", cur)
	}
	rec := httptest.NewRecorder()
	e.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	metrics := rec.Body.String()
	if !containsLine(metrics, `aio_alerts_firing{severity="critical"} 1`) {
		t.Fatalf("/metrics does not count the firing alert")
	}

	// A restart: a new engine on the same store goes on firing without a
	// new event.
	e.stop()
	e = startEngine(t, sq, clk)
	step()
	step()
	if got := states(); len(got) != 2 {
		t.Fatalf("after the restart: %v", got)
	}

	// The target recovers: once the minute's error rate is back at or
	// under 40 %, recovery_for later the alert resolves.
	failing.Store(false)
	var clearAt time.Time
	for i := 0; i < 15 && len(states()) == 2; i++ {
		step()
		if clearAt.IsZero() {
			ru, _, err := sq.MonitorStatus(ctx, "mon_1", clk.Now().Add(-time.Minute), clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			if ru.Down*100 <= 40*ru.Probes {
				clearAt = clk.Now().Truncate(time.Microsecond)
			}
		}
	}
	evs = events()
	if got := states(); !slices.Equal(got, []string{"ok→pending", "pending→firing", "firing→resolved"}) {
		t.Fatalf("after the recovery: %v", got)
	}
	if got := evs[2].At.Sub(clearAt); got != 30*time.Second {
		t.Fatalf("resolved %v after the figure cleared, want recovery_for (30s)", got)
	}
	if ds, _, _ := sq.ListDeliveries(ctx, store.DeliveryQuery{EventID: evs[2].ID}); len(ds) != 1 {
		t.Fatalf("deliveries of the resolution: %+v", ds)
	}

	// It fails again and fires; the threshold is deleted: resolved with
	// the reason, its states gone.
	failing.Store(true)
	for i := 0; i < 10 && states()[len(states())-1] != "pending→firing"; i++ {
		step()
	}
	if err := sq.Write(ctx, func(tx store.Tx) error { return tx.DeleteThreshold(ctx, "thr_1") }); err != nil {
		t.Fatal(err)
	}
	e.Notify(api.KindThreshold, "thr_1")
	step()
	got := states()
	if got[len(got)-1] != "firing→resolved ("+alerting.ReasonDeleted+")" {
		t.Fatalf("after the delete: %v", got)
	}
	if st, _ := sq.LoadAlertStates(ctx); len(st) != 0 {
		t.Fatalf("states of the deleted threshold: %+v", st)
	}
}

func containsLine(text, line string) bool {
	return slices.Contains(splitLines(text), line)
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
