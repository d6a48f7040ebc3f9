package store

// Alerting scenarios of the store contract: the machines' states, alert
// events, and the outbox of deliveries. TestContractAlerting
// (backends_test.go) runs them on every backend.

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// runAlertingContract runs every alerting scenario. open is as for
// runContract: a new database the first time for a t, the same one again
// after (Reopen opens it twice).
func runAlertingContract(t *testing.T, open func(t *testing.T) Store) {
	for _, sc := range []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) Store)
	}{
		{"States", testAlertStates},
		{"TransitionsAtomic", testAlertTransitionsAtomic},
		{"EventsRoundTrip", testAlertEventsRoundTrip},
		{"EventsPaging", testAlertEventsPaging},
		{"CurrentAlerts", testCurrentAlerts},
		{"CurrentAlertsByEndpointAndTags", testCurrentAlertsByScope},
		{"DueOrderAndLimit", testDueDeliveries},
		{"DeliveredNeverDueAgain", testDeliveredNeverDueAgain},
		{"RetryAndGiveUp", testDeliveryRetryAndGiveUp},
		{"CancelByChannel", testCancelDeliveries},
		{"ClaimLeases", testClaimDeliveries},
		{"ClaimPerChannel", testClaimPerChannel},
		{"DeliveriesListing", testDeliveriesListing},
		{"Reopen", testAlertingReopen},
		{"OutboxStats", testOutboxStats},
		{"Retention", testAlertingRetention},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, open) })
	}
}

// ---- fixture ----

// alBase is a time the store keeps exactly (whole microseconds).
var alBase = us(t0)

func alAt(d time.Duration) time.Time { return alBase.Add(d) }

// alEvent is a firing event of thr at alBase+d.
func alEvent(id, thr string, d time.Duration) api.AlertEvent {
	return api.AlertEvent{
		ID: id, ThresholdID: thr, ThresholdName: "name of " + thr, MonitorID: new("mon_1"),
		Severity: api.SeverityCritical, FromState: api.AlertPending, ToState: api.AlertFiring,
		Metric: "error_rate_percent", Window: new("5m"), Value: new(12.5),
		At: alAt(d), StartedAt: new(alAt(d)),
	}
}

// alDelivery is a new pending delivery of ev to channel ch, created at the
// event's time and due then.
func alDelivery(id string, ev api.AlertEvent, ch string) api.Delivery {
	return api.Delivery{ID: id, EventID: ev.ID, ChannelID: ch, State: api.DeliveryPending, CreatedAt: ev.At}
}

func record(t *testing.T, s Store, b AlertBatch) {
	t.Helper()
	if err := s.RecordTransitions(t.Context(), b); err != nil {
		t.Fatalf("RecordTransitions: %v", err)
	}
}

func attempt(t *testing.T, s Store, a DeliveryAttemptRecord) api.Delivery {
	t.Helper()
	d, err := s.RecordDeliveryAttempt(t.Context(), a)
	if err != nil {
		t.Fatalf("RecordDeliveryAttempt(%s): %v", a.DeliveryID, err)
	}
	return d
}

func dueIDs(t *testing.T, s Store, now time.Time, limit int) []string {
	t.Helper()
	due, err := s.DueDeliveries(t.Context(), now, limit)
	if err != nil {
		t.Fatalf("DueDeliveries: %v", err)
	}
	out := []string{}
	for _, d := range due {
		out = append(out, d.Delivery.ID)
	}
	return out
}

func wantIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func getDelivery(t *testing.T, s Store, id string) api.Delivery {
	t.Helper()
	l, _, err := s.ListDeliveries(t.Context(), DeliveryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range l {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("delivery %s not listed", id)
	return api.Delivery{}
}

// ---- scenarios ----

func testAlertStates(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := t.Context()
	firing := AlertStateRecord{ThresholdID: "thr_a", Severity: api.SeverityCritical, State: api.AlertFiring,
		Since: alAt(time.Minute), ClearSince: alAt(2 * time.Minute), Notified: true, LastNotified: alAt(time.Minute),
		Value: new(99.5), StartedAt: alAt(time.Minute), ThresholdRevision: 3}
	// The zero machine: every time zero, no value; State "" is stored as ok.
	zero := AlertStateRecord{ThresholdID: "thr_a", Severity: api.SeverityWarning}
	other := AlertStateRecord{ThresholdID: "thr_0", Severity: api.SeverityWarning, State: api.AlertPending, Since: alAt(0), StartedAt: alAt(0)}
	record(t, s, AlertBatch{States: []AlertStateRecord{firing, zero, other}})

	got, err := s.LoadAlertStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	zero.State = api.AlertOK
	if want := []AlertStateRecord{other, firing, zero}; !reflect.DeepEqual(got, want) {
		t.Errorf("states should've been stored as given, ordered by threshold and severity:\n got %+v\nwant %+v", got, want)
	}

	// A later batch replaces the machine of the same threshold and severity.
	resolved := AlertStateRecord{ThresholdID: "thr_a", Severity: api.SeverityCritical, State: api.AlertResolved, Since: alAt(3 * time.Minute),
		LastNotified: alAt(time.Minute), Value: new(1.0), ThresholdRevision: 4}
	record(t, s, AlertBatch{States: []AlertStateRecord{resolved}})
	got, err = s.LoadAlertStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []AlertStateRecord{other, resolved, zero}; !reflect.DeepEqual(got, want) {
		t.Errorf("the machine should've been replaced:\n got %+v\nwant %+v", got, want)
	}

	write(t, s, func(tx Tx) error { return tx.DeleteAlertStates(ctx, "thr_a") })
	got, err = s.LoadAlertStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []AlertStateRecord{other}; !reflect.DeepEqual(got, want) {
		t.Errorf("thr_a's machines should've been deleted:\n got %+v\nwant %+v", got, want)
	}
}

// An event and its deliveries and the machines are written together: when
// any insert fails, none of the batch is stored.
func testAlertTransitionsAtomic(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := t.Context()
	ev1 := alEvent("evt_1", "thr_a", 0)
	record(t, s, AlertBatch{Events: []api.AlertEvent{ev1}, Deliveries: []api.Delivery{alDelivery("dlv_1", ev1, "chan_a")}})

	ev2 := alEvent("evt_2", "thr_b", time.Minute)
	state := AlertStateRecord{ThresholdID: "thr_b", Severity: api.SeverityCritical, State: api.AlertFiring, Since: ev2.At}
	for _, bad := range []struct {
		name string
		d    api.Delivery
	}{
		{"a taken delivery ID", alDelivery("dlv_1", ev2, "chan_b")},
		{"a delivery of an event that was never stored", alDelivery("dlv_2", alEvent("evt_none", "thr_b", 0), "chan_b")},
	} {
		err := s.RecordTransitions(ctx, AlertBatch{Events: []api.AlertEvent{ev2},
			Deliveries: []api.Delivery{alDelivery("dlv_ok", ev2, "chan_a"), bad.d}, States: []AlertStateRecord{state}})
		if err == nil {
			t.Fatalf("%s: RecordTransitions should've failed", bad.name)
		}
		if _, err := s.GetAlertEvent(ctx, "evt_2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: the event should've been rolled back with its failed delivery, got %v", bad.name, err)
		}
		wantIDs(t, bad.name+": due deliveries", dueIDs(t, s, alAt(time.Hour), 0), []string{"dlv_1"})
		if st, err := s.LoadAlertStates(ctx); err != nil || len(st) != 0 {
			t.Errorf("%s: the machine should've been rolled back, got %+v, %v", bad.name, st, err)
		}
	}

	// Inside a caller's transaction, the batch commits or rolls back with
	// the rest of it.
	boom := fmt.Errorf("boom")
	err := s.Write(ctx, func(tx Tx) error {
		if err := tx.RecordTransitions(ctx, AlertBatch{Events: []api.AlertEvent{ev2}, Deliveries: []api.Delivery{alDelivery("dlv_2", ev2, "chan_a")}}); err != nil {
			return err
		}
		if _, err := tx.GetAlertEvent(ctx, "evt_2"); err != nil {
			t.Errorf("the transaction should've read its own event: %v", err)
		}
		return boom
	})
	wantErr(t, "Write", err, boom)
	if _, err := s.GetAlertEvent(ctx, "evt_2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the event should've been rolled back with the caller's transaction, got %v", err)
	}
	// An empty batch is no error.
	record(t, s, AlertBatch{})
}

func testAlertEventsRoundTrip(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := t.Context()
	full := alEvent("evt_full", "thr_a", 0)
	full.EndpointID, full.ResolvedAt, full.Reason, full.Reminder = new("ep_1"), new(alAt(time.Hour)), new("threshold deleted"), true
	full.MonitorName, full.EndpointName, full.RunbookURL = new("checkout"), new("payments"), new("https://runbooks.example.com/checkout")
	full.FromState, full.ToState = api.AlertFiring, api.AlertResolved
	// Every optional field null, and no value: a no-data event.
	bare := api.AlertEvent{ID: "evt_bare", ThresholdID: "thr_a", ThresholdName: "a", Severity: api.SeverityWarning,
		FromState: api.AlertResolved, ToState: api.AlertOK, Metric: "consecutive_failures", At: alAt(time.Second)}
	// A burn-rate event: the long window is the window, with the short.
	burn := alEvent("evt_burn", "thr_b", 2*time.Second)
	burn.Metric, burn.Window, burn.LongWindow, burn.ShortWindow = "error_budget_burn_rate", new("1h"), new("1h"), new("5m")
	record(t, s, AlertBatch{Events: []api.AlertEvent{full, bare, burn}})
	for _, want := range []api.AlertEvent{full, bare, burn} {
		got, err := s.GetAlertEvent(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event %s:\n got %+v\nwant %+v", want.ID, got, want)
		}
	}
	if _, err := s.GetAlertEvent(ctx, "evt_none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown event should've been ErrNotFound, got %v", err)
	}
	// An event ID is unique.
	err := s.RecordTransitions(ctx, AlertBatch{Events: []api.AlertEvent{alEvent("evt_full", "thr_b", 0)}})
	wantErr(t, "a taken event ID", err, ErrConflict)
}

func testAlertEventsPaging(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := t.Context()
	var all []string
	for i := range 7 {
		thr := []string{"thr_a", "thr_b"}[i%2]
		id := fmt.Sprintf("evt_%d", i)
		// One batch each, as evaluations record them.
		record(t, s, AlertBatch{Events: []api.AlertEvent{alEvent(id, thr, time.Duration(i)*time.Minute)}})
		all = append([]string{id}, all...) // newest first
	}
	list := func(q AlertEventQuery) []string {
		t.Helper()
		var out []string
		for range 10 {
			page, next, err := s.ListAlertEvents(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if q.Limit > 0 && len(page) > q.Limit {
				t.Fatalf("a page of %d, limit %d", len(page), q.Limit)
			}
			for _, e := range page {
				out = append(out, e.ID)
			}
			if next == "" {
				return out
			}
			q.After = next
		}
		t.Fatal("too many pages")
		return nil
	}
	wantIDs(t, "every event, newest first", list(AlertEventQuery{}), all)
	wantIDs(t, "pages of 3", list(AlertEventQuery{Limit: 3}), all)
	wantIDs(t, "pages of 7", list(AlertEventQuery{Limit: 7}), all)
	// A page that holds exactly what is left is the last one.
	if page, next, err := s.ListAlertEvents(ctx, AlertEventQuery{Limit: 7}); err != nil || len(page) != 7 || next != "" {
		t.Errorf("a page of exactly the 7 events: %d events, next %q, %v; want them all and no next page", len(page), next, err)
	}
	wantIDs(t, "thr_b", list(AlertEventQuery{ThresholdID: "thr_b", Limit: 2}), []string{"evt_5", "evt_3", "evt_1"})
	wantIDs(t, "since minute 4", list(AlertEventQuery{Since: alAt(4 * time.Minute), Limit: 2}), []string{"evt_6", "evt_5", "evt_4"})
	wantIDs(t, "no match", list(AlertEventQuery{ThresholdID: "thr_none"}), nil)
	// The smallest cursor there is, before the first event ever stored:
	// an empty last page, not a bad cursor.
	if page, next, err := s.ListAlertEvents(ctx, AlertEventQuery{After: "1"}); err != nil || len(page) != 0 || next != "" {
		t.Errorf("cursor \"1\": %d events, next %q, %v; want an empty last page", len(page), next, err)
	}
	for _, bad := range []string{"x", "-1", "0", "1.5"} {
		if _, _, err := s.ListAlertEvents(ctx, AlertEventQuery{After: bad}); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q should've been ErrBadCursor, got %v", bad, err)
		}
	}
}

func testCurrentAlerts(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := t.Context()
	st := func(thr, sev, state string) AlertStateRecord {
		r := AlertStateRecord{ThresholdID: thr, Severity: sev, State: state, Since: alAt(time.Minute), Value: new(3.0)}
		if state == api.AlertPending || state == api.AlertFiring {
			r.StartedAt = alAt(0)
		}
		return r
	}
	record(t, s, AlertBatch{States: []AlertStateRecord{
		st("thr_a", api.SeverityCritical, api.AlertFiring),
		st("thr_a", api.SeverityWarning, api.AlertFiring),
		st("thr_b", api.SeverityCritical, api.AlertOK),
		st("thr_b", api.SeverityWarning, api.AlertPending),
		st("thr_c", api.SeverityCritical, api.AlertResolved),
		st("thr_d", api.SeverityWarning, api.AlertFiring),
	}})
	keys := func(q AlertQuery) []string {
		t.Helper()
		var out []string
		for range 10 {
			page, next, err := s.CurrentAlerts(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page {
				out = append(out, a.ThresholdID+"/"+a.Severity+"/"+a.State)
			}
			if next == "" {
				return out
			}
			q.After = next
		}
		t.Fatal("too many pages")
		return nil
	}
	all := []string{"thr_a/critical/firing", "thr_a/warning/firing", "thr_b/warning/pending", "thr_d/warning/firing"}
	wantIDs(t, "pending and firing", keys(AlertQuery{}), all)
	wantIDs(t, "pages of 1", keys(AlertQuery{Limit: 1}), all)
	wantIDs(t, "firing", keys(AlertQuery{State: api.AlertFiring}), []string{"thr_a/critical/firing", "thr_a/warning/firing", "thr_d/warning/firing"})
	wantIDs(t, "warning", keys(AlertQuery{Severity: api.SeverityWarning, Limit: 2}), []string{"thr_a/warning/firing", "thr_b/warning/pending", "thr_d/warning/firing"})
	wantIDs(t, "thresholds b, c, d", keys(AlertQuery{ThresholdIDs: []string{"thr_b", "thr_c", "thr_d"}}), []string{"thr_b/warning/pending", "thr_d/warning/firing"})
	wantIDs(t, "resolved is not current", keys(AlertQuery{State: api.AlertResolved}), nil)
	// A page that holds exactly what is left is the last one.
	if page, next, err := s.CurrentAlerts(ctx, AlertQuery{Limit: len(all)}); err != nil || len(page) != len(all) || next != "" {
		t.Errorf("a page of exactly the %d alerts: %d alerts, next %q, %v; want them all and no next page", len(all), len(page), next, err)
	}
	// At most maxThresholdFilter threshold IDs: exactly that many is a
	// query, one more is refused.
	thrIDs := []string{"thr_d"}
	for i := 1; i < maxThresholdFilter; i++ {
		thrIDs = append(thrIDs, fmt.Sprintf("thr_x%04d", i))
	}
	wantIDs(t, "maxThresholdFilter threshold IDs", keys(AlertQuery{ThresholdIDs: thrIDs}), []string{"thr_d/warning/firing"})
	if _, _, err := s.CurrentAlerts(ctx, AlertQuery{ThresholdIDs: append(thrIDs, "thr_a")}); err == nil {
		t.Errorf("%d threshold IDs should've been refused", maxThresholdFilter+1)
	}

	page, _, err := s.CurrentAlerts(ctx, AlertQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := api.Alert{ThresholdID: "thr_a", Severity: api.SeverityCritical, State: api.AlertFiring, Value: new(3.0),
		StartedAt: new(alAt(0)), Since: alAt(time.Minute)}
	if len(page) != 1 || !reflect.DeepEqual(page[0], want) {
		t.Errorf("alert:\n got %+v\nwant %+v", page, want)
	}
	for _, bad := range []string{"x", "thr_a", " critical"} {
		if _, _, err := s.CurrentAlerts(ctx, AlertQuery{After: bad}); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q should've been ErrBadCursor, got %v", bad, err)
		}
	}
}

func testDueDeliveries(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ev := alEvent("evt_1", "thr_a", 0)
	d := func(id string, due time.Duration) api.Delivery {
		x := alDelivery(id, ev, "chan_a")
		x.NextAttemptAt = new(alAt(due))
		return x
	}
	// Recorded out of order of their due times; dlv_c has no next attempt
	// time, and is due at its creation.
	implicit := alDelivery("dlv_c", ev, "chan_b")
	implicit.CreatedAt = alAt(30 * time.Second)
	delivered := d("dlv_done", 0)
	delivered.State, delivered.NextAttemptAt, delivered.DeliveredAt = api.DeliveryDelivered, nil, new(alAt(0))
	record(t, s, AlertBatch{Events: []api.AlertEvent{ev}, Deliveries: []api.Delivery{
		d("dlv_e", 4*time.Minute), d("dlv_a", 0), implicit, d("dlv_d", 2*time.Minute), d("dlv_b", 0), delivered,
	}})
	wantIDs(t, "due at 0", dueIDs(t, s, alAt(0), 0), []string{"dlv_a", "dlv_b"})
	wantIDs(t, "due at 2m", dueIDs(t, s, alAt(2*time.Minute), 0), []string{"dlv_a", "dlv_b", "dlv_c", "dlv_d"})
	wantIDs(t, "due at 2m, limit 3", dueIDs(t, s, alAt(2*time.Minute), 3), []string{"dlv_a", "dlv_b", "dlv_c"})
	wantIDs(t, "due before everything", dueIDs(t, s, alAt(-time.Second), 0), []string{})

	due, err := s.DueDeliveries(t.Context(), alAt(0), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := DueDelivery{Delivery: d("dlv_a", 0), Event: ev}
	if len(due) != 1 || !reflect.DeepEqual(due[0], want) {
		t.Errorf("a due delivery should've come with its event:\n got %+v\nwant %+v", due, want)
	}
}

func testDeliveredNeverDueAgain(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := t.Context()
	ev := alEvent("evt_1", "thr_a", 0)
	record(t, s, AlertBatch{Events: []api.AlertEvent{ev}, Deliveries: []api.Delivery{alDelivery("dlv_1", ev, "chan_a")}})

	got := attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_1", At: alAt(time.Second),
		Status: new(200), DurationMS: 42}, State: api.DeliveryDelivered})
	want := api.Delivery{ID: "dlv_1", EventID: "evt_1", ChannelID: "chan_a", State: api.DeliveryDelivered, Attempts: 1,
		LastAttemptAt: new(alAt(time.Second)), LastStatus: new(200), LastDurationMS: new(int64(42)), CreatedAt: alAt(0),
		DeliveredAt: new(alAt(time.Second))}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("delivered:\n got %+v\nwant %+v", got, want)
	}
	if stored := getDelivery(t, s, "dlv_1"); !reflect.DeepEqual(stored, want) {
		t.Errorf("stored:\n got %+v\nwant %+v", stored, want)
	}
	wantIDs(t, "due after delivery", dueIDs(t, s, alAt(time.Hour), 0), []string{})

	// A late attempt of a second worker that failed is recorded, but does
	// not make the delivery pending again.
	got = attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_1", At: alAt(2 * time.Second),
		Status: new(500), DurationMS: 7, Error: new("status 500")}, State: api.DeliveryPending, NextAttemptAt: alAt(time.Minute)})
	if got.State != api.DeliveryDelivered || got.NextAttemptAt != nil || got.Attempts != 2 || !reflect.DeepEqual(got.DeliveredAt, new(alAt(time.Second))) {
		t.Errorf("a delivered delivery should've stayed delivered at its first time, got %+v", got)
	}
	wantIDs(t, "due after a late failed attempt", dueIDs(t, s, alAt(time.Hour), 0), []string{})
	attempts, err := s.ListDeliveryAttempts(ctx, "dlv_1")
	if err != nil {
		t.Fatal(err)
	}
	wantAttempts := []api.DeliveryAttempt{
		{DeliveryID: "dlv_1", At: alAt(time.Second), Status: new(200), DurationMS: 42},
		{DeliveryID: "dlv_1", At: alAt(2 * time.Second), Status: new(500), DurationMS: 7, Error: new("status 500")},
	}
	if !reflect.DeepEqual(attempts, wantAttempts) {
		t.Errorf("attempts:\n got %+v\nwant %+v", attempts, wantAttempts)
	}
	_, err = s.RecordDeliveryAttempt(ctx, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_none", At: alAt(0)},
		State: api.DeliveryDelivered})
	wantErr(t, "an attempt of an unknown delivery", err, ErrNotFound)
	for _, bad := range []string{"", api.DeliveryCancelled, "sent"} {
		_, err = s.RecordDeliveryAttempt(ctx, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_1", At: alAt(0)},
			State: bad})
		wantErr(t, fmt.Sprintf("an attempt leaving the state %q", bad), err, ErrBadDeliveryState)
	}
	if a, err := s.ListDeliveryAttempts(ctx, "dlv_1"); err != nil || len(a) != 2 {
		t.Errorf("refused attempts should've recorded nothing, got %d attempts, %v", len(a), err)
	}
	if a, err := s.ListDeliveryAttempts(ctx, "dlv_none"); err != nil || len(a) != 0 {
		t.Errorf("an unknown delivery should've had no attempts, got %+v, %v", a, err)
	}
}

func testDeliveryRetryAndGiveUp(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ev := alEvent("evt_1", "thr_a", 0)
	record(t, s, AlertBatch{Events: []api.AlertEvent{ev}, Deliveries: []api.Delivery{alDelivery("dlv_1", ev, "chan_a")}})
	// Connection refused: no status; retry in a minute.
	got := attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_1", At: alAt(0), DurationMS: 1,
		Error: new("connection refused")}, State: api.DeliveryPending, NextAttemptAt: alAt(time.Minute)})
	if got.State != api.DeliveryPending || !reflect.DeepEqual(got.NextAttemptAt, new(alAt(time.Minute))) || got.LastStatus != nil ||
		got.Attempts != 1 || got.LastError == nil || *got.LastError != "connection refused" {
		t.Errorf("after a failed attempt: %+v", got)
	}
	wantIDs(t, "due before the retry", dueIDs(t, s, alAt(59*time.Second), 0), []string{})
	wantIDs(t, "due at the retry", dueIDs(t, s, alAt(time.Minute), 0), []string{"dlv_1"})
	got = attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_1", At: alAt(time.Minute),
		Status: new(503), DurationMS: 3, Error: new("status 503")}, State: api.DeliveryFailed})
	if got.State != api.DeliveryFailed || got.NextAttemptAt != nil || got.DeliveredAt != nil || got.Attempts != 2 || *got.LastStatus != 503 {
		t.Errorf("after giving up: %+v", got)
	}
	if stored := getDelivery(t, s, "dlv_1"); !reflect.DeepEqual(stored, got) {
		t.Errorf("stored:\n got %+v\nwant %+v", stored, got)
	}
	wantIDs(t, "due after giving up", dueIDs(t, s, alAt(time.Hour), 0), []string{})
}

func testCancelDeliveries(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := t.Context()
	ev := alEvent("evt_1", "thr_a", 0)
	record(t, s, AlertBatch{Events: []api.AlertEvent{ev}, Deliveries: []api.Delivery{
		alDelivery("dlv_a1", ev, "chan_a"), alDelivery("dlv_a2", ev, "chan_a"), alDelivery("dlv_b", ev, "chan_b"),
	}})
	attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_a2", At: alAt(time.Second), Status: new(204)},
		State: api.DeliveryDelivered})
	n, err := s.CancelDeliveries(ctx, "chan_a")
	if err != nil || n != 1 {
		t.Errorf("CancelDeliveries should've cancelled the one pending delivery of chan_a: %d, %v", n, err)
	}
	wantIDs(t, "due after cancelling chan_a", dueIDs(t, s, alAt(time.Hour), 0), []string{"dlv_b"})
	if d := getDelivery(t, s, "dlv_a1"); d.State != api.DeliveryCancelled || d.NextAttemptAt != nil {
		t.Errorf("dlv_a1 should've been cancelled, got %+v", d)
	}
	if d := getDelivery(t, s, "dlv_a2"); d.State != api.DeliveryDelivered {
		t.Errorf("a delivered delivery should've stayed delivered, got %+v", d)
	}
	// An attempt that was in flight when the channel was disabled: a
	// failure leaves it cancelled; had it succeeded, the receiver has it.
	d := attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_a1", At: alAt(time.Second), Error: new("timeout")},
		State: api.DeliveryPending, NextAttemptAt: alAt(time.Minute)})
	if d.State != api.DeliveryCancelled || d.NextAttemptAt != nil {
		t.Errorf("a failed attempt should've left the cancelled delivery cancelled, got %+v", d)
	}
	d = attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_a1", At: alAt(2 * time.Second), Status: new(200)},
		State: api.DeliveryDelivered})
	if d.State != api.DeliveryDelivered {
		t.Errorf("an attempt that delivered should've marked the delivery delivered, got %+v", d)
	}
	// In the caller's transaction, as a channel update would do it.
	write(t, s, func(tx Tx) error {
		n, err := tx.CancelDeliveries(ctx, "chan_b")
		if n != 1 {
			t.Errorf("cancelled %d deliveries of chan_b, want 1", n)
		}
		return err
	})
	wantIDs(t, "due after cancelling chan_b", dueIDs(t, s, alAt(time.Hour), 0), []string{})
	if n, err := s.CancelDeliveries(ctx, "chan_none"); err != nil || n != 0 {
		t.Errorf("cancelling an unknown channel: %d, %v", n, err)
	}
}

func testDeliveriesListing(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := t.Context()
	ev1, ev2 := alEvent("evt_1", "thr_a", 0), alEvent("evt_2", "thr_a", time.Minute)
	record(t, s, AlertBatch{Events: []api.AlertEvent{ev1}, Deliveries: []api.Delivery{alDelivery("dlv_1", ev1, "chan_a"), alDelivery("dlv_2", ev1, "chan_b")}})
	record(t, s, AlertBatch{Events: []api.AlertEvent{ev2}, Deliveries: []api.Delivery{alDelivery("dlv_3", ev2, "chan_a"), alDelivery("dlv_4", ev2, "chan_b")}})
	attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_3", At: alAt(time.Minute), Status: new(200)},
		State: api.DeliveryDelivered})
	list := func(q DeliveryQuery) []string {
		t.Helper()
		var out []string
		for range 10 {
			page, next, err := s.ListDeliveries(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page {
				out = append(out, d.ID)
			}
			if next == "" {
				return out
			}
			q.After = next
		}
		t.Fatal("too many pages")
		return nil
	}
	wantIDs(t, "every delivery, newest first, pages of 3", list(DeliveryQuery{Limit: 3}), []string{"dlv_4", "dlv_3", "dlv_2", "dlv_1"})
	wantIDs(t, "chan_a", list(DeliveryQuery{ChannelID: "chan_a", Limit: 1}), []string{"dlv_3", "dlv_1"})
	wantIDs(t, "evt_1", list(DeliveryQuery{EventID: "evt_1"}), []string{"dlv_2", "dlv_1"})
	wantIDs(t, "pending of chan_a", list(DeliveryQuery{ChannelID: "chan_a", State: api.DeliveryPending}), []string{"dlv_1"})
	wantIDs(t, "delivered", list(DeliveryQuery{State: api.DeliveryDelivered}), []string{"dlv_3"})
	if _, _, err := s.ListDeliveries(ctx, DeliveryQuery{After: "dlv_1"}); !errors.Is(err, ErrBadCursor) {
		t.Errorf("a bad cursor should've been ErrBadCursor, got %v", err)
	}
	// A batch of deliveries alone, of an event stored before (a channel
	// added to a firing alert's threshold), is stored too.
	record(t, s, AlertBatch{Deliveries: []api.Delivery{alDelivery("dlv_5", ev1, "chan_c")}})
	wantIDs(t, "chan_c, after a batch of deliveries only", list(DeliveryQuery{ChannelID: "chan_c"}), []string{"dlv_5"})
}

// A store that went away without closing (a crash) and a new one on the
// same database: what was committed is there, and the pending deliveries
// are due again.
func testAlertingReopen(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ev := alEvent("evt_1", "thr_a", 0)
	state := AlertStateRecord{ThresholdID: "thr_a", Severity: api.SeverityCritical, State: api.AlertFiring, Since: ev.At,
		Notified: true, LastNotified: ev.At, StartedAt: ev.At, Value: new(12.5)}
	record(t, s, AlertBatch{Events: []api.AlertEvent{ev}, States: []AlertStateRecord{state},
		Deliveries: []api.Delivery{alDelivery("dlv_1", ev, "chan_a"), alDelivery("dlv_2", ev, "chan_b")}})
	attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_2", At: alAt(time.Second), Status: new(200)},
		State: api.DeliveryDelivered})

	again := open(t) // s is left open, as a crashed process leaves its files
	wantIDs(t, "due after reopening", dueIDs(t, again, alAt(time.Hour), 0), []string{"dlv_1"})
	states, err := again.LoadAlertStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := []AlertStateRecord{state}; !reflect.DeepEqual(states, want) {
		t.Errorf("machines after reopening:\n got %+v\nwant %+v", states, want)
	}
}

func testOutboxStats(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := t.Context()
	if st, err := s.OutboxStats(ctx, alAt(0)); err != nil || st != (OutboxStats{}) {
		t.Errorf("an empty outbox: %+v, %v", st, err)
	}
	ev1, ev2 := alEvent("evt_1", "thr_a", 0), alEvent("evt_2", "thr_a", time.Minute)
	record(t, s, AlertBatch{Events: []api.AlertEvent{ev1, ev2}, Deliveries: []api.Delivery{
		alDelivery("dlv_1", ev1, "chan_a"), alDelivery("dlv_2", ev2, "chan_a"), alDelivery("dlv_3", ev2, "chan_b"),
	}})
	st, err := s.OutboxStats(ctx, alAt(5*time.Minute))
	if err != nil || st != (OutboxStats{Depth: 3, OldestAge: 5 * time.Minute}) {
		t.Errorf("three pending, the oldest made 5 minutes ago: %+v, %v", st, err)
	}
	attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_1", At: alAt(time.Minute), Status: new(200)},
		State: api.DeliveryDelivered})
	st, err = s.OutboxStats(ctx, alAt(5*time.Minute))
	if err != nil || st != (OutboxStats{Depth: 2, OldestAge: 4 * time.Minute}) {
		t.Errorf("two pending, the oldest made 4 minutes ago: %+v, %v", st, err)
	}
}

func testAlertingRetention(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := t.Context()
	var (
		events     []api.AlertEvent
		deliveries []api.Delivery
	)
	// Five old events (minutes 0..4) and one new (minute 60), each with a
	// delivery; the deliveries of events 0..2 and 5 are delivered, event
	// 3's failed, event 4's is still pending.
	for i, m := range []int{0, 1, 2, 3, 4, 60} {
		ev := alEvent(fmt.Sprintf("evt_%d", i), "thr_a", time.Duration(m)*time.Minute)
		events = append(events, ev)
		deliveries = append(deliveries, alDelivery(fmt.Sprintf("dlv_%d", i), ev, "chan_a"))
	}
	// And an old event that notified no one.
	events = append(events, alEvent("evt_quiet", "thr_b", 0))
	record(t, s, AlertBatch{Events: events, Deliveries: deliveries})
	for i := range 6 {
		if i == 4 {
			continue
		}
		state := api.DeliveryDelivered
		if i == 3 {
			state = api.DeliveryFailed
		}
		attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: fmt.Sprintf("dlv_%d", i),
			At: deliveries[i].CreatedAt, Status: new(200)}, State: state})
	}
	before := alAt(30 * time.Minute)
	var batches []int64
	for {
		n, err := s.DeleteDeliveriesBefore(ctx, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, n)
		if n < 2 {
			break
		}
	}
	if want := []int64{2, 2, 0}; !slices.Equal(batches, want) {
		t.Errorf("delivery batches %v, want %v", batches, want)
	}
	l, _, err := s.ListDeliveries(ctx, DeliveryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, d := range l {
		left = append(left, d.ID)
	}
	wantIDs(t, "deliveries left: the pending one and the new one", left, []string{"dlv_5", "dlv_4"})
	if a, err := s.ListDeliveryAttempts(ctx, "dlv_0"); err != nil || len(a) != 0 {
		t.Errorf("the attempts of a deleted delivery should've gone with it, got %+v, %v", a, err)
	}
	if a, err := s.ListDeliveryAttempts(ctx, "dlv_5"); err != nil || len(a) != 1 {
		t.Errorf("the attempts of a kept delivery should've stayed, got %+v, %v", a, err)
	}

	n, err := s.DeleteAlertEventsBefore(ctx, before, 0)
	if err != nil || n != 5 {
		t.Errorf("DeleteAlertEventsBefore should've deleted the 5 old events without deliveries: %d, %v", n, err)
	}
	evs, _, err := s.ListAlertEvents(ctx, AlertEventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, e := range evs {
		kept = append(kept, e.ID)
	}
	wantIDs(t, "events left: the new one and the one still being delivered", kept, []string{"evt_5", "evt_4"})
	wantIDs(t, "due after retention", dueIDs(t, s, alAt(time.Hour), 0), []string{"dlv_4"})
	// A limit of 0 is DefaultDeleteBatch, not a batch of none: once
	// delivered, the last old delivery goes, then its event.
	attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_4", At: alAt(40 * time.Minute),
		Status: new(200)}, State: api.DeliveryDelivered})
	if n, err := s.DeleteDeliveriesBefore(ctx, before, 0); err != nil || n != 1 {
		t.Errorf("DeleteDeliveriesBefore with limit 0 should've deleted dlv_4: %d, %v", n, err)
	}
	if n, err := s.DeleteAlertEventsBefore(ctx, before, 0); err != nil || n != 1 {
		t.Errorf("DeleteAlertEventsBefore should've deleted evt_4 once its delivery went: %d, %v", n, err)
	}
}

func testClaimDeliveries(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := t.Context()
	ev := alEvent("evt_1", "thr_a", 0)
	later := alDelivery("dlv_later", ev, "chan_a")
	later.NextAttemptAt = new(alAt(time.Hour))
	record(t, s, AlertBatch{Events: []api.AlertEvent{ev}, Deliveries: []api.Delivery{
		alDelivery("dlv_1", ev, "chan_a"), alDelivery("dlv_2", ev, "chan_b"), alDelivery("dlv_3", ev, "chan_c"), later,
	}})
	claim := func(now, until time.Time, limit int) []string {
		t.Helper()
		due, err := s.ClaimDeliveries(ctx, now, until, ClaimLimits{Total: limit})
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, d := range due {
			out = append(out, d.Delivery.ID)
			if d.Event.ID != "evt_1" || !reflect.DeepEqual(d.Delivery.NextAttemptAt, new(until)) {
				t.Errorf("a claimed delivery should've come with its event and its lease, got %+v", d)
			}
		}
		return out
	}
	lease := alAt(time.Minute)
	wantIDs(t, "first claim, limit 2", claim(alAt(0), lease, 2), []string{"dlv_1", "dlv_2"})
	wantIDs(t, "second claim", claim(alAt(0), lease, 0), []string{"dlv_3"})
	wantIDs(t, "while leased", claim(alAt(30*time.Second), lease, 0), []string{})
	// dlv_1 is delivered under its lease; dlv_2's worker died.
	attempt(t, s, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_1", At: alAt(time.Second), Status: new(200)},
		State: api.DeliveryDelivered})
	wantIDs(t, "after the lease", dueIDs(t, s, lease, 0), []string{"dlv_2", "dlv_3"})
	wantIDs(t, "claimed again after the lease", claim(lease, alAt(2*time.Minute), 0), []string{"dlv_2", "dlv_3"})
	wantIDs(t, "at the hour", claim(alAt(time.Hour), alAt(2*time.Hour), 0), []string{"dlv_2", "dlv_3", "dlv_later"})
}

// A claim with a per-channel bound takes, in due order, only as many of
// a channel's deliveries as the bound leaves beside the caller's attempts
// in flight, and leaves the rest due and unleased (DueDeliveries still
// returns them at once), while other channels' deliveries are claimed.
func testClaimPerChannel(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := t.Context()
	ev := alEvent("evt_1", "thr_a", 0)
	var ds []api.Delivery
	for i := range 5 {
		ds = append(ds, alDelivery(fmt.Sprintf("dlv_a%d", i), ev, "chan_a"))
	}
	ds = append(ds, alDelivery("dlv_b0", ev, "chan_b"), alDelivery("dlv_c0", ev, "chan_c"))
	record(t, s, AlertBatch{Events: []api.AlertEvent{ev}, Deliveries: ds})
	claim := func(lim ClaimLimits) []string {
		t.Helper()
		due, err := s.ClaimDeliveries(ctx, alAt(0), alAt(time.Minute), lim)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, d := range due {
			out = append(out, d.Delivery.ID)
		}
		return out
	}
	wantIDs(t, "chan_a has 1 of 2 in flight, chan_c 2 of 2", claim(ClaimLimits{Total: 10, PerChannel: 2,
		InFlight: map[string]int{"chan_a": 1, "chan_c": 2}}), []string{"dlv_a0", "dlv_b0"})
	wantIDs(t, "left due, not leased", dueIDs(t, s, alAt(0), 0), []string{"dlv_a1", "dlv_a2", "dlv_a3", "dlv_a4", "dlv_c0"})
	wantIDs(t, "nothing in flight, total 3", claim(ClaimLimits{Total: 3, PerChannel: 2}), []string{"dlv_a1", "dlv_a2", "dlv_c0"})
	wantIDs(t, "no per-channel bound", claim(ClaimLimits{Total: 10}), []string{"dlv_a3", "dlv_a4"})
}

// The endpoint filter of CurrentAlerts selects the alerts of the
// thresholds on the endpoint and on each of its monitors, the tag filters
// those of the thresholds carrying every tag, without a bound on how many
// thresholds match: more than maxThresholdFilter are on ep_1 here.
func testCurrentAlertsByScope(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := t.Context()
	const many = maxThresholdFilter + 50
	var states []AlertStateRecord
	fire := func(id string) {
		states = append(states, AlertStateRecord{ThresholdID: id, Severity: api.SeverityCritical, State: api.AlertFiring,
			Since: alAt(0), StartedAt: alAt(0)})
	}
	write(t, s, func(tx Tx) error {
		for _, e := range []api.Endpoint{endpoint("ep_1", "one"), endpoint("ep_2", "two")} {
			if err := tx.InsertEndpoint(ctx, e); err != nil {
				return err
			}
		}
		m1, m2 := monitor("mon_1", "m1"), monitor("mon_2", "m2")
		m2.EndpointID = "ep_2"
		for _, m := range []api.Monitor{m1, m2} {
			if err := tx.InsertMonitor(ctx, m); err != nil {
				return err
			}
		}
		onEndpoint := threshold("thr_ep", "on endpoint")
		onEndpoint.MonitorID, onEndpoint.EndpointID, onEndpoint.Tags = nil, new("ep_1"), map[string]string{"env": "prod", "team": "a"}
		onMonitor := threshold("thr_mon", "on monitor")
		onMonitor.Tags = map[string]string{"env": "dev", "team": "a"}
		elsewhere := threshold("thr_zz", "elsewhere")
		elsewhere.MonitorID, elsewhere.Tags = new("mon_2"), map[string]string{"env": "prod"}
		quiet := threshold("thr_quiet", "quiet")
		for _, thr := range []api.AlertThreshold{onEndpoint, onMonitor, elsewhere, quiet} {
			if err := tx.InsertThreshold(ctx, thr); err != nil {
				return err
			}
			if thr.ID != "thr_quiet" {
				fire(thr.ID)
			}
		}
		for i := range many {
			thr := threshold(fmt.Sprintf("thr_bulk%05d", i), fmt.Sprintf("bulk %d", i))
			if err := tx.InsertThreshold(ctx, thr); err != nil {
				return err
			}
			fire(thr.ID)
		}
		return nil
	})
	record(t, s, AlertBatch{States: states})
	ids := func(q AlertQuery) []string {
		t.Helper()
		q.Limit = MaxLimit
		var out []string
		for range 100 {
			page, next, err := s.CurrentAlerts(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page {
				out = append(out, a.ThresholdID)
			}
			if next == "" {
				return out
			}
			q.After = next
		}
		t.Fatal("too many pages")
		return nil
	}
	got := ids(AlertQuery{EndpointID: "ep_1"})
	if len(got) != many+2 || !slices.Contains(got, "thr_ep") || !slices.Contains(got, "thr_mon") || slices.Contains(got, "thr_zz") {
		t.Errorf("endpoint ep_1: %d alerts (want %d), thr_ep, thr_mon and not thr_zz: %v", len(got), many+2, got[:min(len(got), 5)])
	}
	wantIDs(t, "endpoint ep_2", ids(AlertQuery{EndpointID: "ep_2"}), []string{"thr_zz"})
	wantIDs(t, "endpoint without thresholds", ids(AlertQuery{EndpointID: "ep_none"}), nil)
	wantIDs(t, "tag env:prod", ids(AlertQuery{Tags: []Tag{{Key: "env", Value: "prod"}}}), []string{"thr_ep", "thr_zz"})
	wantIDs(t, "tags env:dev and team:a", ids(AlertQuery{Tags: []Tag{{Key: "env", Value: "dev"}, {Key: "team", Value: "a"}}}), []string{"thr_mon"})
	wantIDs(t, "tag team:a on ep_2", ids(AlertQuery{EndpointID: "ep_2", Tags: []Tag{{Key: "team", Value: "a"}}}), nil)
	wantIDs(t, "tag env:prod on ep_1", ids(AlertQuery{EndpointID: "ep_1", Tags: []Tag{{Key: "env", Value: "prod"}}}), []string{"thr_ep"})
	wantIDs(t, "ep_1 and named", ids(AlertQuery{EndpointID: "ep_1", ThresholdIDs: []string{"thr_mon", "thr_zz"}}), []string{"thr_mon"})
}

// An attempt whose delivery cannot be updated (here a trigger on the
// writer's connection refuses it) is an error, and its attempt row is not
// kept: the engine must not believe a delivery moved on that did not.
func TestSQLiteDeliveryAttemptWhoseUpdateFailsIsAnError(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	ctx := t.Context()
	ev := alEvent("evt_1", "thr_a", 0)
	record(t, s, AlertBatch{Events: []api.AlertEvent{ev}, Deliveries: []api.Delivery{alDelivery("dlv_1", ev, "chan_a")}})
	refuse(t, s, "UPDATE", "deliveries")
	_, err := s.RecordDeliveryAttempt(ctx, DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{DeliveryID: "dlv_1", At: alAt(time.Second),
		Status: new(200), DurationMS: 42}, State: api.DeliveryDelivered})
	refusedError(t, "an attempt whose delivery update", err)
	if a, err := s.ListDeliveryAttempts(ctx, "dlv_1"); err != nil || len(a) != 0 {
		t.Errorf("attempts after the refused one: %v, %v; want none", a, err)
	}
	if d := getDelivery(t, s, "dlv_1"); d.State != api.DeliveryPending || d.Attempts != 0 {
		t.Errorf("delivery after the refused attempt: %+v, want pending with no attempt", d)
	}
}
