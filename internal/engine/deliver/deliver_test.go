package deliver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/testutil"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/deliver"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/senders"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/webhook"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

const signingKey = "whsec-test-signing-key"

// fixture is a store on a temporary SQLite file with a keyring.
type fixture struct {
	path string
	st   store.Store
	kr   *secret.Keyring
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	kr, err := secret.NewKeyring(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{path: filepath.Join(t.TempDir(), "aio.db"), kr: kr}
	f.st = f.open(t)
	return f
}

func (f *fixture) open(t *testing.T) store.Store {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// webhookChannel stores an enabled webhook channel to url with its signing
// secret sealed as the server seals it.
func (f *fixture) webhookChannel(t *testing.T, url string, enabled bool) string {
	t.Helper()
	now := time.Now().UTC()
	id := ids.New(api.PrefixChannel, now)
	sealed, err := f.kr.Seal([]byte(signingKey), secret.Binding{ObjectID: id, Revision: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := store.ChannelRecord{NotificationChannel: api.NotificationChannel{
		Meta: api.Meta{ID: id, Revision: 1, CreatedAt: now, UpdatedAt: now},
		Name: "hook-" + id, Type: api.ChannelWebhook, Enabled: new(enabled), SendResolved: new(true), URL: new(url),
		SecretRevision: 1,
	}, Sealed: sealed}
	if err := f.st.Write(t.Context(), func(tx store.Tx) error { return tx.InsertChannel(t.Context(), c) }); err != nil {
		t.Fatal(err)
	}
	return id
}

// event stores a firing event with one pending delivery to channel, as the
// evaluation does, and returns the delivery's and the event's IDs.
func (f *fixture) event(t *testing.T, channel string) (deliveryID, eventID string) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	ev := api.AlertEvent{
		ID: ids.New(api.PrefixAlertEvent, now), ThresholdID: "thr_1", ThresholdName: "checkout up",
		MonitorID: new("mon_1"), MonitorName: new("checkout"), Severity: api.SeverityCritical,
		FromState: api.AlertPending, ToState: api.AlertFiring, Metric: "availability_percent", Value: new(97.5),
		At: now, StartedAt: new(now),
	}
	d := api.Delivery{ID: ids.New(api.PrefixDelivery, now), EventID: ev.ID, ChannelID: channel, State: api.DeliveryPending, CreatedAt: now}
	if err := f.st.RecordTransitions(t.Context(), store.AlertBatch{Events: []api.AlertEvent{ev}, Deliveries: []api.Delivery{d}}); err != nil {
		t.Fatal(err)
	}
	return d.ID, ev.ID
}

func (f *fixture) delivery(t *testing.T, st store.Store, id string) api.Delivery {
	t.Helper()
	l, _, err := st.ListDeliveries(t.Context(), store.DeliveryQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range l {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("no delivery %s", id)
	return api.Delivery{}
}

// worker runs a worker on st until the test ends (or stop is called).
func (f *fixture) worker(t *testing.T, st store.Store, mod func(*deliver.Config)) (w *deliver.Worker, stop func()) {
	t.Helper()
	cfg := deliver.Config{
		Store: st, Keyring: f.kr,
		Registry:       senders.Registry(senders.Options{HTTPClient: senders.NewHTTPClient(egress.AllowLoopback())}),
		AttemptTimeout: 300 * time.Millisecond, PollInterval: 20 * time.Millisecond,
		Backoff: notify.Backoff{InitialDelay: 20 * time.Millisecond, MaxDelay: 80 * time.Millisecond},
	}
	if mod != nil {
		mod(&cfg)
	}
	w = deliver.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return w, stop
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// receipt is one request a receiver acknowledged.
type receipt struct {
	header http.Header
	body   []byte
}

// receiver is a webhook receiver on 127.0.0.1 whose answer the test sets.
type receiver struct {
	mu       sync.Mutex
	mode     string // ok, 500, hang
	got      []receipt
	requests atomic.Int64
	// quit, when set, ends hanging answers once closed.
	quit chan struct{}
}

func (rv *receiver) setMode(m string) {
	rv.mu.Lock()
	rv.mode = m
	rv.mu.Unlock()
}

func (rv *receiver) acked() []receipt {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]receipt(nil), rv.got...)
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rv.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	rv.mu.Lock()
	mode := rv.mode
	rv.mu.Unlock()
	switch mode {
	case "500":
		http.Error(w, "receiver is down", http.StatusInternalServerError)
	case "hang":
		select {
		case <-r.Context().Done():
		case <-rv.quit:
		}
	default:
		rv.mu.Lock()
		rv.got = append(rv.got, receipt{header: r.Header.Clone(), body: body})
		rv.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
}

// serve serves rv on ln until the test ends.
func serve(t *testing.T, ln net.Listener, rv http.Handler) {
	hs := &http.Server{Handler: rv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
}

func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func checkSigned(t *testing.T, r receipt, deliveryID, eventID string) {
	t.Helper()
	if err := webhook.Verify([]byte(signingKey), r.header.Get(webhook.HeaderSignature), r.body, time.Now(), webhook.DefaultTolerance); err != nil {
		t.Errorf("signature: %v", err)
	}
	if got := r.header.Get(webhook.HeaderDeliveryID); got != deliveryID {
		t.Errorf("%s = %q, want %q", webhook.HeaderDeliveryID, got, deliveryID)
	}
	if got := r.header.Get(webhook.HeaderEventID); got != eventID {
		t.Errorf("%s = %q, want %q", webhook.HeaderEventID, got, eventID)
	}
}

func TestDeliversOnceSigned(t *testing.T) {
	f := newFixture(t)
	rv := &receiver{}
	ln := listen(t, "127.0.0.1:0")
	serve(t, ln, rv)
	ch := f.webhookChannel(t, "http://"+ln.Addr().String()+"/hook", true)
	did, eid := f.event(t, ch)
	var outcomes sync.Map
	f.worker(t, f.st, func(c *deliver.Config) {
		c.Observe = func(o string) { outcomes.Store(o, true) }
	})
	eventually(t, "the delivery", func() bool { return f.delivery(t, f.st, did).State == api.DeliveryDelivered })
	time.Sleep(200 * time.Millisecond) // room for a duplicate to show
	got := rv.acked()
	if len(got) != 1 {
		t.Fatalf("%d deliveries arrived, want 1", len(got))
	}
	checkSigned(t, got[0], did, eid)
	d := f.delivery(t, f.st, did)
	if d.Attempts != 1 || d.DeliveredAt == nil || d.LastStatus == nil || *d.LastStatus != http.StatusNoContent {
		t.Errorf("stored delivery %+v, want delivered after one attempt with 204", d)
	}
	atts, err := f.st.ListDeliveryAttempts(t.Context(), did)
	if err != nil || len(atts) != 1 {
		t.Fatalf("attempts %v, %v; want 1", atts, err)
	}
	if _, ok := outcomes.Load("delivered"); !ok {
		t.Error("the observer was not told of the delivery")
	}
}

func TestReceiverDownThenBack(t *testing.T) {
	f := newFixture(t)
	// A reserved address nothing listens on yet: connections are refused
	// until the receiver starts on it.
	addr := testutil.ReservedAddr(t)
	ch := f.webhookChannel(t, "http://"+addr+"/hook", true)
	did, eid := f.event(t, ch)
	f.worker(t, f.st, nil)
	attempts := func() int { return f.delivery(t, f.st, did).Attempts }

	eventually(t, "two refused attempts", func() bool { return attempts() >= 2 })
	rv := &receiver{mode: "500"}
	serve(t, listen(t, addr), rv)
	n := attempts()
	eventually(t, "two 500 attempts", func() bool { return attempts() >= n+2 })
	rv.setMode("hang")
	n = attempts()
	eventually(t, "two timed-out attempts", func() bool { return attempts() >= n+2 })
	rv.setMode("ok")
	eventually(t, "the delivery", func() bool { return f.delivery(t, f.st, did).State == api.DeliveryDelivered })
	time.Sleep(200 * time.Millisecond)

	got := rv.acked()
	if len(got) != 1 {
		t.Fatalf("%d deliveries acknowledged, want exactly 1", len(got))
	}
	checkSigned(t, got[0], did, eid)
	d := f.delivery(t, f.st, did)
	atts, err := f.st.ListDeliveryAttempts(t.Context(), did)
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != d.Attempts || d.Attempts < 7 {
		t.Fatalf("%d attempts recorded, delivery counts %d; want at least 7 and the same", len(atts), d.Attempts)
	}
	var refused, fivexx, timeouts int
	for _, a := range atts[:len(atts)-1] {
		switch {
		case a.Status != nil && *a.Status == 500:
			fivexx++
		case a.Status == nil && a.Error != nil && strings.Contains(*a.Error, "timed out"):
			timeouts++
		case a.Status == nil && a.Error != nil && strings.Contains(*a.Error, "refused"):
			refused++
		default:
			t.Errorf("unexpected failed attempt %+v", a)
		}
	}
	if refused < 2 || fivexx < 2 || timeouts < 2 {
		t.Errorf("refused %d, 500 %d, timed out %d; want at least 2 of each", refused, fivexx, timeouts)
	}
	if last := atts[len(atts)-1]; last.Status == nil || *last.Status != http.StatusNoContent || last.Error != nil {
		t.Errorf("last attempt %+v, want 204 without error", last)
	}
	if int(rv.requests.Load()) != len(atts)-refused {
		t.Errorf("receiver saw %d requests, %d attempts reached it", rv.requests.Load(), len(atts)-refused)
	}
}

func TestGivesUpAfterRetryPeriod(t *testing.T) {
	f := newFixture(t)
	rv := &receiver{mode: "500"}
	ln := listen(t, "127.0.0.1:0")
	serve(t, ln, rv)
	ch := f.webhookChannel(t, "http://"+ln.Addr().String()+"/hook", true)
	did, _ := f.event(t, ch)
	// The period counts from the event's creation, before its durable
	// write and the worker's first claim: a second leaves room for both
	// on a slow disk and for several retries 20 to 80 ms apart.
	f.worker(t, f.st, func(c *deliver.Config) { c.Backoff.GiveUpAfter = time.Second })
	eventually(t, "the delivery to fail", func() bool { return f.delivery(t, f.st, did).State == api.DeliveryFailed })
	if d := f.delivery(t, f.st, did); d.Attempts < 2 {
		t.Errorf("gave up after %d attempts, want retries first", d.Attempts)
	}
}

func TestRestartDoesNotResend(t *testing.T) {
	f := newFixture(t)
	rv := &receiver{}
	ln := listen(t, "127.0.0.1:0")
	serve(t, ln, rv)
	ch := f.webhookChannel(t, "http://"+ln.Addr().String()+"/hook", true)
	first, _ := f.event(t, ch)
	_, stop := f.worker(t, f.st, nil)
	eventually(t, "the first delivery", func() bool { return f.delivery(t, f.st, first).State == api.DeliveryDelivered })
	stop()

	// An event stored while no worker runs, then a new worker on the same
	// file (a new store, as after a restart).
	second, eid := f.event(t, ch)
	st2 := f.open(t)
	f.worker(t, st2, nil)
	eventually(t, "the second delivery", func() bool { return f.delivery(t, st2, second).State == api.DeliveryDelivered })
	time.Sleep(300 * time.Millisecond)
	got := rv.acked()
	if len(got) != 2 {
		t.Fatalf("%d deliveries arrived, want 2 (one each)", len(got))
	}
	checkSigned(t, got[1], second, eid)
	if d := f.delivery(t, st2, first); d.Attempts != 1 {
		t.Errorf("the first delivery has %d attempts after the restart, want 1", d.Attempts)
	}
}

func TestDisabledAndDeletedChannelsCancelled(t *testing.T) {
	f := newFixture(t)
	rv := &receiver{}
	ln := listen(t, "127.0.0.1:0")
	serve(t, ln, rv)
	disabled := f.webhookChannel(t, "http://"+ln.Addr().String()+"/hook", false)
	d1, _ := f.event(t, disabled)
	d2, _ := f.event(t, "chan_deleted")
	var cancelled atomic.Int64
	f.worker(t, f.st, func(c *deliver.Config) {
		c.Observe = func(o string) {
			if o == api.DeliveryCancelled {
				cancelled.Add(1)
			}
		}
	})
	eventually(t, "cancellations", func() bool {
		return f.delivery(t, f.st, d1).State == api.DeliveryCancelled && f.delivery(t, f.st, d2).State == api.DeliveryCancelled
	})
	// The observer (aiod's metrics) is told of each cancellation.
	eventually(t, "two cancellations observed", func() bool { return cancelled.Load() == 2 })
	if n := rv.requests.Load(); n != 0 {
		t.Errorf("receiver got %d requests, want none", n)
	}
}

// A receiver that hangs delays only its own channel's deliveries.
func TestHangingReceiverDelaysOnlyItsOwn(t *testing.T) {
	f := newFixture(t)
	hang := &receiver{mode: "hang", quit: make(chan struct{})}
	lnHang := listen(t, "127.0.0.1:0")
	serve(t, lnHang, hang)
	ok := &receiver{}
	lnOK := listen(t, "127.0.0.1:0")
	serve(t, lnOK, ok)
	slow := f.webhookChannel(t, "http://"+lnHang.Addr().String()+"/hook", true)
	fast := f.webhookChannel(t, "http://"+lnOK.Addr().String()+"/hook", true)
	for range 30 {
		f.event(t, slow)
	}
	f.worker(t, f.st, func(c *deliver.Config) {
		c.AttemptTimeout = 5 * time.Second
		c.Concurrency, c.PerChannel = 4, 2
	})
	// Runs before the worker's stop: its hanging attempts end at once.
	t.Cleanup(func() { close(hang.quit) })
	time.Sleep(100 * time.Millisecond) // the hanging attempts have started
	did, _ := f.event(t, fast)
	start := time.Now()
	eventually(t, "the healthy channel's delivery", func() bool { return f.delivery(t, f.st, did).State == api.DeliveryDelivered })
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Errorf("the healthy delivery took %v behind a hanging receiver, want well under the 5 s attempt timeout", took)
	}
}

func TestEventOf(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	e := deliver.EventOf(api.AlertEvent{ID: "evt_1", ThresholdID: "thr_1", ThresholdName: "t", EndpointID: new("ep_1"),
		Severity: api.SeverityWarning, ToState: api.AlertResolved, Metric: "latency_p95_ms", At: now, ResolvedAt: new(now)})
	if e.Window != "" || e.Monitor != nil || e.Endpoint == nil || e.Endpoint.ID != "ep_1" || e.State != notify.StateResolved ||
		!e.StartedAt.Equal(now) || e.ResolvedAt == nil {
		t.Errorf("EventOf = %+v", e)
	}
}

// End to end through aiod's own wiring: a channel created through the API
// (its secret sealed by the server), an event stored as the evaluation
// stores it, the engine's worker sending under the engine's egress policy.
func TestEngineDeliversThroughAPIChannel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy *egress.Policy
		want   string
	}{
		{"loopback allowed", egress.AllowLoopback(), api.DeliveryDelivered},
		{"default policy denies loopback", &egress.Policy{}, api.DeliveryFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := acctest.NewServer(t, acctest.Options{Engine: true, Egress: tc.policy})
			rv := &receiver{}
			ln := listen(t, "127.0.0.1:0")
			serve(t, ln, rv)
			body := fmt.Sprintf(`{"name":"e2e","type":"webhook","url":"http://%s/hook","secret":%q}`, ln.Addr(), signingKey)
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/notification-channels", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var c api.NotificationChannel
			_ = json.NewDecoder(resp.Body).Decode(&c)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("create channel: %d", resp.StatusCode)
			}
			f := &fixture{st: srv.Store}
			did, eid := f.event(t, c.ID)
			eventually(t, "the delivery to end", func() bool { return f.delivery(t, srv.Store, did).State != api.DeliveryPending })
			d := f.delivery(t, srv.Store, did)
			if d.State != tc.want {
				t.Fatalf("delivery %s (%v), want %s", d.State, d.LastError, tc.want)
			}
			got := rv.acked()
			if tc.want == api.DeliveryDelivered {
				if len(got) != 1 {
					t.Fatalf("%d deliveries arrived, want 1", len(got))
				}
				checkSigned(t, got[0], did, eid)
				return
			}
			if n := rv.requests.Load(); n != 0 || d.LastError == nil || !strings.Contains(*d.LastError, "egress") {
				t.Errorf("receiver got %d requests, last error %v; want none and an egress denial", n, d.LastError)
			}
		})
	}
}

// A worker that claimed a delivery and died before recording its attempt
// (aiod killed mid-send): the delivery is due again when the lease ends
// and is sent once by the next worker.
func TestLeaseOfDeadWorkerEnds(t *testing.T) {
	f := newFixture(t)
	rv := &receiver{}
	ln := listen(t, "127.0.0.1:0")
	serve(t, ln, rv)
	ch := f.webhookChannel(t, "http://"+ln.Addr().String()+"/hook", true)
	did, eid := f.event(t, ch)
	// The lease is long beside the 250 ms looked at below, so that a
	// slow commit or open cannot let it end before the check.
	now := time.Now().UTC()
	claimed, err := f.st.ClaimDeliveries(t.Context(), now, now.Add(2*time.Second), store.ClaimLimits{Total: 10})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	f.worker(t, f.open(t), nil)
	time.Sleep(250 * time.Millisecond)
	if n := rv.requests.Load(); n != 0 {
		t.Fatalf("sent %d times while another worker's lease ran", n)
	}
	eventually(t, "the delivery after the lease", func() bool { return f.delivery(t, f.st, did).State == api.DeliveryDelivered })
	time.Sleep(200 * time.Millisecond)
	if got := rv.acked(); len(got) != 1 {
		t.Fatalf("%d deliveries arrived, want 1", len(got))
	} else {
		checkSigned(t, got[0], did, eid)
	}
}

// concurrency wraps a receiver and records the most requests it served at
// once; each answer takes a few milliseconds, so that attempts overlap.
type concurrency struct {
	next     http.Handler
	now, max atomic.Int64
}

func (c *concurrency) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.now.Add(1)
	defer c.now.Add(-1)
	for m := c.max.Load(); n > m && !c.max.CompareAndSwap(m, n); m = c.max.Load() {
	}
	time.Sleep(5 * time.Millisecond)
	c.next.ServeHTTP(w, r)
}

// Many alerts to one channel: the worker claims only what the channel's
// PerChannel bound lets it start, so the rest stay due and are sent as
// soon as attempts end, never held back by a lease. The worker's clock is
// frozen: a delivery it leased without starting would never be due again
// and the test would time out (before the fix, 12 of the first 16 claimed
// waited out the attempt timeout and 30 s). Each delivery arrives once,
// with one attempt, and the channel never has more than PerChannel
// attempts in flight.
func TestOneChannelManyDeliveriesNoLeaseWait(t *testing.T) {
	f := newFixture(t)
	rv := &receiver{}
	c := &concurrency{next: rv}
	ln := listen(t, "127.0.0.1:0")
	serve(t, ln, c)
	ch := f.webhookChannel(t, "http://"+ln.Addr().String()+"/hook", true)
	const n = 40
	dids := make([]string, 0, n)
	for range n {
		did, _ := f.event(t, ch)
		dids = append(dids, did)
	}
	frozen := clock.NewFake(time.Now().Add(time.Second))
	f.worker(t, f.st, func(cfg *deliver.Config) {
		cfg.Clock = frozen
		cfg.AttemptTimeout = 5 * time.Second
		cfg.Concurrency, cfg.PerChannel = 16, 4
	})
	eventually(t, "every delivery of the one channel", func() bool { return len(rv.acked()) == n })
	for _, did := range dids {
		if d := f.delivery(t, f.st, did); d.State != api.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("delivery %s: state %s after %d attempts, want delivered after 1", did, d.State, d.Attempts)
		}
	}
	if got := rv.requests.Load(); got != n {
		t.Errorf("the receiver got %d requests, want %d (one per delivery)", got, n)
	}
	if m := c.max.Load(); m > 4 || m == 0 {
		t.Errorf("at most %d attempts of the channel were in flight at once, want 1 to 4 (PerChannel 4)", m)
	}
}

// gate is a receiver on several paths (one per channel) that holds every
// request until opened, and records the most requests it held at once, in
// all and per path.
type gate struct {
	open   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	now    map[string]int
	max    map[string]int
	total  int
	maxAll int
	served atomic.Int64
}

func newGate() *gate {
	return &gate{open: make(chan struct{}), now: map[string]int{}, max: map[string]int{}}
}

// release lets every held request, and every later one, through.
func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	g.mu.Lock()
	g.now[r.URL.Path]++
	g.total++
	g.max[r.URL.Path] = max(g.max[r.URL.Path], g.now[r.URL.Path])
	g.maxAll = max(g.maxAll, g.total)
	g.mu.Unlock()
	select {
	case <-g.open:
	case <-r.Context().Done():
	}
	g.mu.Lock()
	g.now[r.URL.Path]--
	g.total--
	g.mu.Unlock()
	g.served.Add(1)
	w.WriteHeader(http.StatusNoContent)
}

// held returns the requests held now and the maxima so far.
func (g *gate) held() (total, maxAll int, maxPer map[string]int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.total, g.maxAll, maps.Clone(g.max)
}

// Three channels with four deliveries each, receivers that hold every
// request until released: at most Concurrency (3) attempts are in flight
// in all and PerChannel (2) per channel, and once released every delivery
// arrives with one attempt on a frozen clock, none of them claimed and left
// waiting for its lease.
func TestConcurrencyAndPerChannelBounds(t *testing.T) {
	f := newFixture(t)
	g := newGate()
	ln := listen(t, "127.0.0.1:0")
	serve(t, ln, g)
	var dids []string
	for _, path := range []string{"/a", "/b", "/c"} {
		ch := f.webhookChannel(t, "http://"+ln.Addr().String()+path, true)
		for range 4 {
			did, _ := f.event(t, ch)
			dids = append(dids, did)
		}
	}
	frozen := clock.NewFake(time.Now().Add(time.Second))
	f.worker(t, f.st, func(cfg *deliver.Config) {
		cfg.Clock = frozen
		cfg.AttemptTimeout = 10 * time.Second
		cfg.Concurrency, cfg.PerChannel = 3, 2
	})
	// Runs before the worker's stop: a failed test does not wait out the
	// held attempts.
	t.Cleanup(g.release)
	eventually(t, "three held attempts", func() bool { n, _, _ := g.held(); return n >= 3 })
	time.Sleep(300 * time.Millisecond) // room for a fourth to start
	check := func(when string) {
		_, maxAll, maxPer := g.held()
		if maxAll != 3 {
			t.Errorf("%s: at most %d attempts in flight at once, want 3 (Concurrency)", when, maxAll)
		}
		for path, m := range maxPer {
			if m > 2 {
				t.Errorf("%s: channel %s had %d attempts in flight at once, want at most 2 (PerChannel)", when, path, m)
			}
		}
	}
	check("held")
	g.release()
	eventually(t, "every delivery", func() bool { return g.served.Load() == int64(len(dids)) })
	for _, did := range dids {
		eventually(t, "delivery "+did, func() bool { return f.delivery(t, f.st, did).State == api.DeliveryDelivered })
		if d := f.delivery(t, f.st, did); d.Attempts != 1 {
			t.Errorf("delivery %s took %d attempts, want 1", did, d.Attempts)
		}
	}
	check("released")
}

// countingStore counts the worker's claims and can fail its reads of due
// deliveries.
type countingStore struct {
	store.Store
	claims  atomic.Int64
	failDue atomic.Bool
}

func (s *countingStore) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, lim store.ClaimLimits) ([]store.DueDelivery, error) {
	s.claims.Add(1)
	return s.Store.ClaimDeliveries(ctx, now, leaseUntil, lim)
}

func (s *countingStore) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.DueDelivery, error) {
	if s.failDue.Load() {
		return nil, errors.New("injected read failure")
	}
	return s.Store.DueDeliveries(ctx, now, limit)
}

// A channel at its PerChannel bound with more deliveries due, and free
// slots elsewhere: the worker claims what it can and then waits for an
// attempt to end or the next poll; it does not claim again and again.
func TestFullChannelDoesNotSpin(t *testing.T) {
	f := newFixture(t)
	g := newGate()
	ln := listen(t, "127.0.0.1:0")
	serve(t, ln, g)
	ch := f.webhookChannel(t, "http://"+ln.Addr().String()+"/a", true)
	for range 3 {
		f.event(t, ch)
	}
	cs := &countingStore{Store: f.st}
	f.worker(t, cs, func(cfg *deliver.Config) {
		cfg.AttemptTimeout = 10 * time.Second
		cfg.PollInterval = time.Hour
		cfg.Concurrency, cfg.PerChannel = 16, 1
	})
	t.Cleanup(g.release)
	eventually(t, "one held attempt", func() bool { n, _, _ := g.held(); return n == 1 })
	time.Sleep(300 * time.Millisecond)
	if n := cs.claims.Load(); n > 3 {
		t.Errorf("%d claims while the only channel was full, want at most 3", n)
	}
	g.release()
	eventually(t, "every delivery", func() bool { return g.served.Load() == 3 })
}

// An idle worker logs no error; a failing read of the outbox is logged,
// with its error.
func TestReadErrorsAreLogged(t *testing.T) {
	f := newFixture(t)
	var logs testutil.SyncBuffer
	cs := &countingStore{Store: f.st}
	f.worker(t, cs, func(cfg *deliver.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	time.Sleep(200 * time.Millisecond) // ten polls of an empty outbox
	if s := logs.String(); strings.Contains(s, "level=ERROR") {
		t.Errorf("an idle worker logged an error:\n%s", s)
	}
	cs.failDue.Store(true)
	eventually(t, "the read error in the log", func() bool {
		return strings.Contains(logs.String(), `level=ERROR msg="read due deliveries" error="injected read failure"`)
	})
}

// A failing receiver's delivery waits longer after each attempt: Backoff
// gets the attempt's number (1, 2, ...). With jitter 0 the wait is half
// the base: 30 s after the first attempt, 60 s after the second.
func TestRetryWaitGrowsWithAttempts(t *testing.T) {
	f := newFixture(t)
	rv := &receiver{mode: "500"}
	ln := listen(t, "127.0.0.1:0")
	serve(t, ln, rv)
	ch := f.webhookChannel(t, "http://"+ln.Addr().String()+"/hook", true)
	did, _ := f.event(t, ch)
	fake := clock.NewFake(time.Now().Add(time.Second))
	f.worker(t, f.st, func(cfg *deliver.Config) {
		cfg.Clock = fake
		cfg.Backoff = notify.Backoff{InitialDelay: time.Minute, MaxDelay: time.Hour, GiveUpAfter: 24 * time.Hour}
		cfg.Jitter = func() float64 { return 0 }
	})
	next := func(attempts int) time.Time {
		var d api.Delivery
		eventually(t, fmt.Sprintf("attempt %d", attempts), func() bool {
			d = f.delivery(t, f.st, did)
			return d.Attempts == attempts && d.State == api.DeliveryPending && d.NextAttemptAt != nil
		})
		return *d.NextAttemptAt
	}
	first := fake.Now()
	if got, want := next(1), first.Add(30*time.Second); got.Sub(want).Abs() > time.Millisecond {
		t.Errorf("after attempt 1: next attempt at %v, want %v (30 s)", got, want)
	}
	fake.Advance(30 * time.Second)
	second := fake.Now()
	if got, want := next(2), second.Add(time.Minute); got.Sub(want).Abs() > time.Millisecond {
		t.Errorf("after attempt 2: next attempt at %v, want %v (60 s)", got, want)
	}
}

// slowSender is a sender that takes a while and, like a third-party
// sender may, reports no duration of its own.
type slowSender struct{}

func (slowSender) Validate(json.RawMessage) error { return nil }

func (slowSender) Send(context.Context, notify.Delivery, notify.Channel) notify.Result {
	time.Sleep(60 * time.Millisecond)
	return notify.Result{Outcome: notify.Delivered, Status: http.StatusNoContent}
}

// An attempt's duration is measured by the worker when the sender reports
// none.
func TestDurationWhenTheSenderReportsNone(t *testing.T) {
	f := newFixture(t)
	ch := f.webhookChannel(t, "http://127.0.0.1:1/unused", true)
	did, _ := f.event(t, ch)
	reg := notify.NewRegistry()
	reg.Register(api.ChannelWebhook, slowSender{})
	f.worker(t, f.st, func(cfg *deliver.Config) { cfg.Registry = reg })
	eventually(t, "the delivery", func() bool { return f.delivery(t, f.st, did).State == api.DeliveryDelivered })
	atts, err := f.st.ListDeliveryAttempts(t.Context(), did)
	if err != nil || len(atts) != 1 {
		t.Fatalf("attempts %v, %v; want 1", atts, err)
	}
	if ms := atts[0].DurationMS; ms < 60 || ms > 10_000 {
		t.Errorf("duration_ms = %d for a 60 ms send, want at least 60", ms)
	}
}
