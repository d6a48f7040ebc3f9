package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/webhook"
	"github.com/aio-platform/terraform-provider-aio/internal/testutil"
)

// hookCall is one request the e2e receiver got.
type hookCall struct {
	DeliveryID, EventID, State string
	// Status is what the receiver answered.
	Status int
	// VerifyErr is webhook.Verify's verdict on AIO-Signature.
	VerifyErr error
}

// e2eReceiver is a webhook receiver on 127.0.0.1 that verifies every
// request's signature on the test's clock and records it. It can be taken
// down (connection refused) and brought back on the same address, told
// to answer 500, or told to hang: accept the request and never answer
// (until the client gives up), which it records with Status 0.
type e2eReceiver struct {
	t      *testing.T
	secret []byte
	clk    clock.Clock
	addr   string
	status atomic.Int32
	hang   atomic.Bool
	// hanging counts the requests it holds unanswered now.
	hanging atomic.Int32

	mu    sync.Mutex
	hs    *httptest.Server
	calls []hookCall
}

func newE2EReceiver(t *testing.T, secret string, clk clock.Clock) *e2eReceiver {
	// The receiver is taken down and brought back on the same address.
	rv := &e2eReceiver{t: t, secret: []byte(secret), clk: clk, addr: testutil.ReservedAddr(t)}
	rv.status.Store(http.StatusOK)
	rv.up()
	t.Cleanup(rv.down)
	return rv
}

func (rv *e2eReceiver) URL() string { return "http://" + rv.addr + "/hook" }

func (rv *e2eReceiver) up() {
	rv.t.Helper()
	l, err := net.Listen("tcp", rv.addr)
	if err != nil {
		rv.t.Fatalf("receiver listen on %s: %v", rv.addr, err)
	}
	rv.addr = l.Addr().String()
	hs := httptest.NewUnstartedServer(http.HandlerFunc(rv.serve))
	_ = hs.Listener.Close()
	hs.Listener = l
	hs.Start()
	rv.mu.Lock()
	rv.hs = hs
	rv.mu.Unlock()
}

func (rv *e2eReceiver) down() {
	rv.mu.Lock()
	hs := rv.hs
	rv.hs = nil
	rv.mu.Unlock()
	if hs != nil {
		hs.Close()
	}
}

func (rv *e2eReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev struct {
		EventID string `json:"event_id"`
		State   string `json:"state"`
	}
	_ = json.Unmarshal(body, &ev)
	c := hookCall{DeliveryID: r.Header.Get(webhook.HeaderDeliveryID), EventID: r.Header.Get(webhook.HeaderEventID), State: ev.State,
		Status:    int(rv.status.Load()),
		VerifyErr: webhook.Verify(rv.secret, r.Header.Get(webhook.HeaderSignature), body, rv.clk.Now(), 5*time.Minute)}
	if c.EventID != ev.EventID {
		c.VerifyErr = fmt.Errorf("AIO-Event-Id %q, body's event_id %q", c.EventID, ev.EventID)
	}
	if rv.hang.Load() {
		// Hold the request until aiod's attempt times out and drops the
		// connection (bounded, so that a broken timeout cannot hang the
		// test): no answer ever reaches aiod.
		rv.hanging.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
		rv.hanging.Add(-1)
		c.Status = 0
		rv.mu.Lock()
		rv.calls = append(rv.calls, c)
		rv.mu.Unlock()
		return
	}
	rv.mu.Lock()
	rv.calls = append(rv.calls, c)
	rv.mu.Unlock()
	w.WriteHeader(c.Status)
}

// accepted returns the requests answered 200.
func (rv *e2eReceiver) accepted() []hookCall {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	var out []hookCall
	for _, c := range rv.calls {
		if c.Status == http.StatusOK {
			out = append(out, c)
		}
	}
	return out
}

func (rv *e2eReceiver) all() []hookCall {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return slices.Clone(rv.calls)
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// e2eStepper returns a step function: it runs the monitor's next probe
// on the fake clock, flushes the results writer until its result is
// stored, evaluates the thresholds just after it (a window is [now-window,
// now)) and wakes the delivery worker (its real-time poll would find the
// deliveries too, later).
func e2eStepper(t *testing.T, srv *acctest.Server, clk *clock.Fake, monitorID string) func() {
	eng, ctx := srv.Engine, t.Context()
	waitFor(t, 10*time.Second, "the evaluator's first tick", func() bool { _, ok := eng.Alerts.LastTick(); return ok })
	return func() {
		t.Helper()
		var due time.Time
		waitFor(t, 10*time.Second, "the monitor to be scheduled", func() bool {
			var ok bool
			due, ok = eng.Scheduler.NextDue()
			return ok && !due.Before(clk.Now())
		})
		clk.Set(due)
		// Start the run now: the scheduler's loop sleeps up to a real
		// second while its next run is ahead of the (fake) clock.
		eng.Scheduler.Tick(due)
		waitFor(t, 10*time.Second, "the result at "+due.Format(time.TimeOnly), func() bool {
			// Store what the probe recorded now rather than at the
			// writer's next real-time flush (a second).
			if err := eng.Writer.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := srv.Store.LatestOutcomes(ctx, monitorID, 1)
			return err == nil && len(got) == 1 && !got[0].Time.Before(due.Truncate(time.Microsecond))
		})
		clk.Advance(time.Millisecond)
		if err := eng.Alerts.Tick(ctx, clk.Now()); err != nil {
			t.Fatal(err)
		}
		eng.Deliver.Wake()
	}
}

// switchableTarget is a local HTTP target that answers 500 while failing
// is set.
func switchableTarget(t *testing.T) (*httptest.Server, *atomic.Bool) {
	var failing atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(target.Close)
	return target, &failing
}

// e2eMonitor creates, through the API, an endpoint on the target and an
// enabled 5 s http monitor of it that does not retry (a retry waits a real
// second).
func e2eMonitor(t *testing.T, srv *acctest.Server, targetURL string) api.Monitor {
	ep := createEndpoint(t, srv, srv.AdminToken, map[string]any{"name": "target", "url": targetURL + "/health", "data_classification": "internal"})
	r := call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, with(monitorBody("target-health", ep.ID), "enabled", true, "interval", "5s",
		"retry_strategy", map[string]any{"type": api.RetryNone}))
	wantStatus(t, r, http.StatusCreated)
	var mon api.Monitor
	decode(t, r, &mon)
	return mon
}

// TestAlertingEndToEnd drives the whole chain on 127.0.0.1 through the
// API: a local target, an endpoint and a 5 s http monitor of it, a webhook
// channel to a local receiver and a consecutive_failures threshold with
// pending_for and recovery_for, all created over HTTP; the real engine
// (scheduler, results writer, evaluator, delivery worker) runs on a fake
// clock that the test moves from probe to probe.
//
//  1. The target fails: pending, firing after pending_for, exactly one
//     signed firing webhook whose AIO-Event-Id is the event's of GET
//     /v1/alert-events; it recovers: exactly one resolved webhook,
//     recovery_for after the figure cleared.
//  2. The receiver is down (connection refused, then 500) while the alert
//     fires again; once back, each delivery arrives exactly once and GET
//     /v1/deliveries shows the failed attempts. (A receiver that hangs is
//     TestAlertingHangingReceiverEndToEnd's.)
//  3. The target flaps: the deliveries stay within the bound that
//     pending_for and recovery_for allow.
func TestAlertingEndToEnd(t *testing.T) {
	start := time.Now()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: clk, Engine: true, AlertInterval: 24 * time.Hour})
	ctx := t.Context()

	target, failing := switchableTarget(t)
	const secret = "whsec-e2e-0123456789"
	rv := newE2EReceiver(t, secret, clk)
	mon := e2eMonitor(t, srv, target.URL)
	ch := createChannel(t, srv, srv.AdminToken, with(chanBody("hook", api.ChannelWebhook, secret), "url", rv.URL()))
	const pendingFor, recoveryFor = 15 * time.Second, 15 * time.Second
	thr := createThreshold(t, srv, srv.AdminToken, map[string]any{"name": "target-down", "monitor_id": mon.ID,
		"metric": api.MetricConsecutiveFailure, "comparison": "above", "critical": 1,
		"pending_for": "15s", "recovery_for": "15s", "channel_ids": []string{ch.ID}})

	step := e2eStepper(t, srv, clk, mon.ID)
	// events are the threshold's events through the API, oldest first.
	events := func() []api.AlertEvent {
		t.Helper()
		evs := listAll[api.AlertEvent](t, srv, "/v1/alert-events", url.Values{"threshold_id": {thr.ID}})
		slices.Reverse(evs)
		return evs
	}
	lastState := func() string {
		evs := events()
		if len(evs) == 0 {
			return api.AlertOK
		}
		return evs[len(evs)-1].ToState
	}
	deliveriesOf := func(eventID string) []api.Delivery {
		t.Helper()
		return listAll[api.Delivery](t, srv, "/v1/deliveries", url.Values{"event_id": {eventID}})
	}
	// settled waits until no delivery is pending any more and every
	// delivered one has reached the receiver.
	settled := func(what string) {
		t.Helper()
		waitFor(t, 10*time.Second, what, func() bool {
			ds := listAll[api.Delivery](t, srv, "/v1/deliveries", url.Values{"state": {api.DeliveryPending}})
			return len(ds) == 0
		})
	}
	wantVerified := func() {
		t.Helper()
		for _, c := range rv.all() {
			if c.VerifyErr != nil || c.DeliveryID == "" || c.EventID == "" {
				t.Fatalf("a request that does not verify: %+v", c)
			}
		}
	}

	// 1. Healthy: nothing happens.
	step()
	step()
	if evs := events(); len(evs) != 0 {
		t.Fatalf("events while the target is up: %+v", evs)
	}
	// The target fails: pending once the figure is past critical, firing
	// pending_for later, one signed firing webhook.
	failing.Store(true)
	for i := 0; i < 5 && lastState() != api.AlertPending; i++ {
		step()
	}
	evs := events()
	if len(evs) != 1 || evs[0].ToState != api.AlertPending {
		t.Fatalf("after the target failed: %+v", evs)
	}
	pendingAt := evs[0].At
	for i := 0; i < 10 && lastState() == api.AlertPending; i++ {
		if len(rv.all()) != 0 {
			t.Fatalf("a webhook while pending: %+v", rv.all())
		}
		step()
	}
	evs = events()
	if len(evs) != 2 || evs[1].ToState != api.AlertFiring {
		t.Fatalf("after pending_for: %+v", evs)
	}
	fired := evs[1]
	if got := fired.At.Sub(pendingAt); got < pendingFor || got >= pendingFor+5*time.Second {
		t.Fatalf("fired %v after pending, want pending_for (%v) rounded up to a probe", got, pendingFor)
	}
	waitFor(t, 10*time.Second, "the firing webhook", func() bool { return len(rv.accepted()) == 1 })
	settled("the firing delivery to be recorded")
	got := rv.accepted()[0]
	ds := deliveriesOf(fired.ID)
	if got.State != "firing" || got.EventID != fired.ID || len(ds) != 1 || got.DeliveryID != ds[0].ID ||
		ds[0].State != api.DeliveryDelivered || ds[0].Attempts != 1 || ds[0].ChannelID != ch.ID {
		t.Fatalf("firing webhook %+v, event %s, deliveries %+v", got, fired.ID, ds)
	}
	wantVerified()

	// The target recovers: resolved recovery_for after the first clear
	// evaluation, one resolved webhook.
	failing.Store(false)
	step()
	clearAt := clk.Now().Truncate(time.Microsecond)
	for i := 0; i < 10 && lastState() == api.AlertFiring; i++ {
		if n := len(rv.all()); n != 1 {
			t.Fatalf("%d webhooks before the resolution", n)
		}
		step()
	}
	evs = events()
	if len(evs) != 3 || evs[2].ToState != api.AlertResolved {
		t.Fatalf("after the recovery: %+v", evs)
	}
	resolved := evs[2]
	if got := resolved.At.Sub(clearAt); got < recoveryFor || got >= recoveryFor+5*time.Second {
		t.Fatalf("resolved %v after the figure cleared, want recovery_for (%v) rounded up to a probe", got, recoveryFor)
	}
	waitFor(t, 10*time.Second, "the resolved webhook", func() bool { return len(rv.accepted()) == 2 })
	settled("the resolved delivery to be recorded")
	if got := rv.accepted()[1]; got.State != "resolved" || got.EventID != resolved.ID {
		t.Fatalf("resolved webhook %+v, event %s", got, resolved.ID)
	}
	step()
	step()
	if n := len(rv.all()); n != 2 {
		t.Fatalf("%d webhooks after the resolution, want 2: %+v", n, rv.all())
	}
	wantVerified()

	// 2. The receiver goes down; the target fails again and the alert
	// fires: the delivery's attempts are refused.
	rv.down()
	failing.Store(true)
	for i := 0; i < 10 && lastState() != api.AlertFiring; i++ {
		step()
	}
	evs = events()
	fired2 := evs[len(evs)-1]
	if fired2.ToState != api.AlertFiring {
		t.Fatalf("the second episode did not fire: %+v", evs)
	}
	var d2 api.Delivery
	waitFor(t, 10*time.Second, "a refused attempt", func() bool {
		ds := deliveriesOf(fired2.ID)
		if len(ds) == 1 {
			d2 = ds[0]
		}
		return len(ds) == 1 && ds[0].Attempts >= 1
	})
	if d2.State != api.DeliveryPending || d2.LastStatus != nil || d2.LastError == nil || d2.NextAttemptAt == nil {
		t.Fatalf("after a refused attempt: %+v", d2)
	}
	refused := d2.Attempts
	// Back, but answering 500: the next attempts (due on the fake clock
	// as the probes move it) get the 500.
	rv.status.Store(http.StatusInternalServerError)
	rv.up()
	for i := 0; i < 10; i++ {
		if ds := deliveriesOf(fired2.ID); ds[0].LastStatus != nil && *ds[0].LastStatus == http.StatusInternalServerError {
			d2 = ds[0]
			break
		}
		step()
		time.Sleep(50 * time.Millisecond)
	}
	if d2.LastStatus == nil || *d2.LastStatus != http.StatusInternalServerError || d2.State != api.DeliveryPending {
		t.Fatalf("after the receiver answered 500: %+v", d2)
	}
	// Healthy again: the delivery arrives, once.
	rv.status.Store(http.StatusOK)
	for i := 0; i < 12 && !slices.ContainsFunc(rv.accepted(), func(c hookCall) bool { return c.EventID == fired2.ID }); i++ {
		step()
		time.Sleep(50 * time.Millisecond)
	}
	settled("the retried delivery to be recorded")
	d2 = deliveriesOf(fired2.ID)[0]
	if d2.State != api.DeliveryDelivered || d2.LastStatus == nil || *d2.LastStatus != http.StatusOK || d2.Attempts < refused+2 {
		t.Fatalf("after the receiver came back: %+v", d2)
	}
	calls500 := 0
	for _, c := range rv.all() {
		if c.DeliveryID == d2.ID && c.EventID != fired2.ID {
			t.Fatalf("an attempt of %s carries event id %s, want %s", d2.ID, c.EventID, fired2.ID)
		}
		if c.DeliveryID == d2.ID && c.Status == http.StatusInternalServerError {
			calls500++
		}
	}
	if want := d2.Attempts - refused - 1; calls500 != want {
		t.Fatalf("the receiver answered 500 to %d requests of %s; the delivery counts %d attempts after %d refused ones (want %d 500s)",
			calls500, d2.ID, d2.Attempts, refused, want)
	}
	attempts, err := srv.Store.ListDeliveryAttempts(ctx, d2.ID)
	if err != nil || len(attempts) != d2.Attempts || attempts[0].Status != nil || *attempts[len(attempts)-1].Status != http.StatusOK {
		t.Fatalf("attempts of %s: %+v (%v)", d2.ID, attempts, err)
	}

	// Recover, then count: every delivery was accepted exactly once.
	failing.Store(false)
	for i := 0; i < 10 && lastState() != api.AlertResolved; i++ {
		step()
	}
	settled("the second resolution's delivery")
	wantExactlyOnce := func() map[string]int {
		t.Helper()
		byID := map[string]int{}
		for _, c := range rv.accepted() {
			byID[c.DeliveryID]++
		}
		all := listAll[api.Delivery](t, srv, "/v1/deliveries", url.Values{"channel_id": {ch.ID}})
		for _, d := range all {
			if d.State != api.DeliveryDelivered || byID[d.ID] != 1 {
				t.Fatalf("delivery %+v accepted %d times", d, byID[d.ID])
			}
		}
		if len(byID) != len(all) {
			t.Fatalf("%d deliveries accepted, %d in GET /v1/deliveries", len(byID), len(all))
		}
		return byID
	}
	before := len(wantExactlyOnce())
	if before != 4 {
		t.Fatalf("%d deliveries after two episodes, want 4", before)
	}
	wantVerified()

	// 3. The target flaps: five failures, one success, over and over. The
	// figure crosses critical every 30 s (a storm of a firing and a
	// resolution per cycle without damping), but it never stays clear for
	// recovery_for: the alert fires once and stays firing.
	const cycles = 6
	flapStart := clk.Now()
	crossings := 0
	for i := range cycles * 6 {
		failing.Store(i%6 != 5)
		if i%6 == 1 {
			crossings++
		}
		step()
	}
	flapped := clk.Now().Sub(flapStart)
	failing.Store(false)
	time.Sleep(200 * time.Millisecond)
	settled("the flapping's deliveries")
	n := len(wantExactlyOnce()) - before
	// An episode takes at least pending_for then recovery_for, so it
	// starts at most once per pending_for+recovery_for, plus one already
	// begun: a firing and a resolution each.
	bound := 2 * (int(flapped/(pendingFor+recoveryFor)) + 1)
	t.Logf("flapping for %v: the figure crossed critical %d times; %d deliveries (bound %d)", flapped, crossings, n, bound)
	if n > bound || n < 1 {
		t.Fatalf("%d deliveries while flapping for %v, want 1 to %d", n, flapped, bound)
	}
	wantVerified()
	t.Logf("took %v", time.Since(start))
}

// TestAlertingHysteresisEndToEnd: an error_rate_percent threshold with
// hysteresis (critical 40, recovery_critical 20) and no pending_for or
// recovery_for, on a target that fails four probes in eight. The minute's
// figure swings between 33 % and 67 %, across critical again and again
// (each swing would be a firing and a resolution without hysteresis), but
// never down to 20 %: one firing webhook, no resolution, until the target
// is healthy for good and the alert resolves once.
func TestAlertingHysteresisEndToEnd(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	srv := acctest.NewServer(t, acctest.Options{Clock: clk, Engine: true, AlertInterval: 24 * time.Hour})
	target, failing := switchableTarget(t)
	const secret = "whsec-e2e-hysteresis"
	rv := newE2EReceiver(t, secret, clk)
	mon := e2eMonitor(t, srv, target.URL)
	ch := createChannel(t, srv, srv.AdminToken, with(chanBody("hook", api.ChannelWebhook, secret), "url", rv.URL()))
	thr := createThreshold(t, srv, srv.AdminToken, map[string]any{"name": "target-errors", "monitor_id": mon.ID,
		"metric": api.MetricErrorRate, "comparison": "above", "critical": 40, "recovery_critical": 20, "window": "1m",
		"channel_ids": []string{ch.ID}})
	step := e2eStepper(t, srv, clk, mon.ID)

	// history holds the probes' outcomes; rate is the figure an
	// evaluation just after the latest probe sees: the last 12 probes (a
	// minute at 5 s).
	var history []bool
	rate := func() float64 {
		w := history[max(0, len(history)-12):]
		n := 0
		for _, f := range w {
			if f {
				n++
			}
		}
		return 100 * float64(n) / float64(len(w))
	}
	probe := func(fail bool) float64 {
		failing.Store(fail)
		step()
		history = append(history, fail)
		return rate()
	}
	probe(false)
	probe(false)
	rises, fired := 0, false
	minAfterFiring := 100.0
	prev := rate()
	for i := range 64 {
		r := probe(i%8 < 4)
		if r > 40 && prev <= 40 {
			rises++
		}
		if fired {
			minAfterFiring = min(minAfterFiring, r)
		}
		fired = fired || r > 40
		prev = r
	}
	if rises < 4 || minAfterFiring <= 20 {
		t.Fatalf("the pattern does not test hysteresis: %d rises past critical, lowest figure after firing %.1f %%", rises, minAfterFiring)
	}
	waitFor(t, 10*time.Second, "the firing webhook", func() bool { return len(rv.accepted()) >= 1 })
	time.Sleep(200 * time.Millisecond) // let a stray delivery show
	if got := rv.all(); len(got) != 1 || got[0].State != "firing" || got[0].VerifyErr != nil {
		t.Fatalf("%d rises past critical: webhooks %+v, want one firing", rises, got)
	}
	evs := listAll[api.AlertEvent](t, srv, "/v1/alert-events", url.Values{"threshold_id": {thr.ID}})
	if len(evs) == 0 || evs[0].ToState != api.AlertFiring || evs[0].ID != rv.all()[0].EventID {
		t.Fatalf("events %+v, webhook %+v", evs, rv.all())
	}
	// Healthy for good: resolved once the figure is at or under 20 %.
	for i := 0; i < 14 && len(rv.accepted()) < 2; i++ {
		if r := probe(false); r <= 20 {
			waitFor(t, 10*time.Second, "the resolved webhook", func() bool { return len(rv.accepted()) == 2 })
		}
	}
	if got := rv.all(); len(got) != 2 || got[1].State != "resolved" || got[1].VerifyErr != nil {
		t.Fatalf("after the recovery: webhooks %+v", got)
	}
	evs = listAll[api.AlertEvent](t, srv, "/v1/alert-events", url.Values{"threshold_id": {thr.ID}})
	if res := evs[0]; res.ToState != api.AlertResolved || res.ID != rv.all()[1].EventID || res.Value == nil || *res.Value > 20 {
		t.Fatalf("resolved event %+v, want the figure at or under recovery_critical (20)", res)
	}
	t.Logf("%d rises past critical over %d probes: %d webhooks", rises, len(history), len(rv.all()))
}

// TestAlertingHangingReceiverEndToEnd: one alert notifies two webhook
// channels; one receiver hangs (accepts, never answers) while the other
// answers. The healthy channel's delivery arrives while the hanging one's
// first attempt is still waiting; the hanging channel's attempts time out
// after the attempt timeout and are recorded with a timeout error; once
// the receiver answers again, its deliveries arrive, each exactly once,
// and so do the resolution's on both channels.
func TestAlertingHangingReceiverEndToEnd(t *testing.T) {
	// Real seconds: the healthy delivery must be seen recorded before the
	// hanging attempt times out, which on a loaded machine takes a while.
	const attemptTimeout = 2 * time.Second
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: clk, Engine: true, AlertInterval: 24 * time.Hour,
		DeliveryAttemptTimeout: attemptTimeout})
	ctx := t.Context()

	target, failing := switchableTarget(t)
	const secret = "whsec-e2e-hang-0123456789"
	slow, fast := newE2EReceiver(t, secret, clk), newE2EReceiver(t, secret, clk)
	mon := e2eMonitor(t, srv, target.URL)
	chSlow := createChannel(t, srv, srv.AdminToken, with(chanBody("hangs", api.ChannelWebhook, secret), "url", slow.URL()))
	chFast := createChannel(t, srv, srv.AdminToken, with(chanBody("answers", api.ChannelWebhook, secret), "url", fast.URL()))
	thr := createThreshold(t, srv, srv.AdminToken, map[string]any{"name": "target-down", "monitor_id": mon.ID,
		"metric": api.MetricConsecutiveFailure, "comparison": "above", "critical": 1,
		"pending_for": "0s", "recovery_for": "0s", "channel_ids": []string{chSlow.ID, chFast.ID}})
	step := e2eStepper(t, srv, clk, mon.ID)
	lastEvent := func() api.AlertEvent {
		t.Helper()
		evs := listAll[api.AlertEvent](t, srv, "/v1/alert-events", url.Values{"threshold_id": {thr.ID}})
		if len(evs) == 0 {
			return api.AlertEvent{ToState: api.AlertOK}
		}
		return evs[0] // newest first
	}
	deliveryTo := func(eventID, channelID string) api.Delivery {
		t.Helper()
		for _, d := range listAll[api.Delivery](t, srv, "/v1/deliveries", url.Values{"event_id": {eventID}}) {
			if d.ChannelID == channelID {
				return d
			}
		}
		t.Fatalf("no delivery of %s to %s", eventID, channelID)
		return api.Delivery{}
	}

	slow.hang.Store(true)
	step()
	failing.Store(true)
	for i := 0; i < 5 && lastEvent().ToState != api.AlertFiring; i++ {
		step()
	}
	fired := lastEvent()
	if fired.ToState != api.AlertFiring {
		t.Fatalf("the alert did not fire: %+v", fired)
	}
	// The healthy channel is not held up: its delivery is recorded
	// delivered while the hanging channel's first attempt still waits
	// (the attempt timeout is two real seconds).
	waitFor(t, 10*time.Second, "the healthy channel's delivery", func() bool {
		return deliveryTo(fired.ID, chFast.ID).State == api.DeliveryDelivered
	})
	if d := deliveryTo(fired.ID, chSlow.ID); d.Attempts != 0 || d.State != api.DeliveryPending {
		t.Fatalf("the healthy delivery waited for the hanging one: %+v", d)
	}
	waitFor(t, 5*time.Second, "the hanging receiver to hold a request", func() bool { return slow.hanging.Load() >= 1 })

	// The hanging attempts time out, one attempt timeout each, and are
	// recorded with a timeout error; the retries (due on the fake clock as
	// the probes move it) hang too.
	var hung api.Delivery
	for i := 0; i < 10; i++ {
		waitFor(t, 5*attemptTimeout, "the hanging attempt to be recorded", func() bool {
			hung = deliveryTo(fired.ID, chSlow.ID)
			return hung.Attempts >= 1 && slow.hanging.Load() == 0
		})
		if hung.Attempts >= 2 {
			break
		}
		step()
	}
	if hung.Attempts < 2 || hung.State != api.DeliveryPending || hung.LastStatus != nil || hung.LastError == nil ||
		*hung.LastError != "POST "+slow.URL()+": timed out waiting for the receiver" {
		t.Fatalf("after the hanging attempts: %+v (last error %v)", hung, hung.LastError)
	}
	attempts, err := srv.Store.ListDeliveryAttempts(ctx, hung.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range attempts {
		if a.Status != nil || a.Error == nil || !strings.Contains(*a.Error, "timed out") ||
			a.DurationMS < attemptTimeout.Milliseconds()*9/10 {
			t.Fatalf("a hanging attempt recorded as %+v, want a timeout after about %v", a, attemptTimeout)
		}
	}
	if n := len(slow.accepted()); n != 0 {
		t.Fatalf("the hanging receiver answered %d requests", n)
	}

	// Back: the delivery arrives, once; then the resolution reaches both.
	slow.hang.Store(false)
	for i := 0; i < 12 && deliveryTo(fired.ID, chSlow.ID).State != api.DeliveryDelivered; i++ {
		step()
		time.Sleep(50 * time.Millisecond)
	}
	failing.Store(false)
	for i := 0; i < 5 && lastEvent().ToState != api.AlertResolved; i++ {
		step()
	}
	resolved := lastEvent()
	if resolved.ToState != api.AlertResolved {
		t.Fatalf("the alert did not resolve: %+v", resolved)
	}
	waitFor(t, 10*time.Second, "every delivery to be delivered", func() bool {
		return len(listAll[api.Delivery](t, srv, "/v1/deliveries", url.Values{"state": {api.DeliveryPending}})) == 0
	})
	for _, c := range []struct {
		rv *e2eReceiver
		ch api.NotificationChannel
	}{{slow, chSlow}, {fast, chFast}} {
		byID := map[string]int{}
		for _, call := range c.rv.accepted() {
			if call.VerifyErr != nil {
				t.Fatalf("%s: a request that does not verify: %+v", c.ch.Name, call)
			}
			byID[call.DeliveryID]++
		}
		ds := listAll[api.Delivery](t, srv, "/v1/deliveries", url.Values{"channel_id": {c.ch.ID}})
		if len(ds) != 2 || len(byID) != 2 {
			t.Fatalf("%s: %d deliveries, %d accepted, want the firing and the resolution: %+v", c.ch.Name, len(ds), len(byID), ds)
		}
		for _, d := range ds {
			if d.State != api.DeliveryDelivered || byID[d.ID] != 1 {
				t.Fatalf("%s: delivery %+v accepted %d times, want delivered once", c.ch.Name, d, byID[d.ID])
			}
		}
	}
	// The firing delivery to the hanging channel: its timed-out attempts,
	// then the one the receiver acknowledged, last.
	d := deliveryTo(fired.ID, chSlow.ID)
	attempts, err = srv.Store.ListDeliveryAttempts(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != d.Attempts || d.Attempts < hung.Attempts+1 {
		t.Fatalf("the hanging channel's firing delivery %+v has %d attempts recorded", d, len(attempts))
	}
	for i, a := range attempts {
		last := i == len(attempts)-1
		if ok := a.Status != nil && *a.Status == http.StatusOK; ok != last {
			t.Fatalf("attempt %d of %d: %+v", i+1, len(attempts), a)
		}
	}
}
