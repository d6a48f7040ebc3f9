package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/server"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// hookReceiver is a webhook receiver on 127.0.0.1 that answers status and
// counts the requests whose signature verifies with key.
type hookReceiver struct {
	URL      string
	status   int
	verified atomic.Int64
	requests atomic.Int64
}

func newHookReceiver(t testing.TB, key string, status int) *hookReceiver {
	t.Helper()
	rv := &hookReceiver{status: status}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rv.requests.Add(1)
		body, _ := io.ReadAll(r.Body)
		// The test clock may be a fake one: verify without an age limit.
		if webhook.Verify([]byte(key), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 100*365*24*time.Hour) == nil &&
			r.Header.Get(webhook.HeaderDeliveryID) != "" && r.Header.Get(webhook.HeaderEventID) != "" {
			rv.verified.Add(1)
		}
		w.WriteHeader(rv.status)
		_, _ = io.WriteString(w, "receiver says hi")
	}))
	t.Cleanup(hs.Close)
	rv.URL = hs.URL + "/hook"
	return rv
}

func TestChannelTestEndpoint(t *testing.T) {
	srv := acctest.NewServer(t)
	const key = "whsec-endpoint-test"
	for _, tc := range []struct {
		status  int
		outcome string
	}{{http.StatusOK, "delivered"}, {http.StatusInternalServerError, "retry"}, {http.StatusNotFound, "failed"}} {
		rv := newHookReceiver(t, key, tc.status)
		c := createChannel(t, srv, srv.AdminToken, with(chanBody("test-endpoint-"+tc.outcome, api.ChannelWebhook, key), "url", rv.URL, "enabled", false))
		r := call(t, srv, http.MethodPost, "/v1/notification-channels/"+c.ID+"/test", srv.Tokens[api.RoleEditor], nil)
		wantStatus(t, r, http.StatusOK)
		if strings.Contains(string(r.Body), key) {
			t.Fatalf("the answer carries the secret: %s", r.Body)
		}
		var res api.ChannelTestResult
		decode(t, r, &res)
		if res.Outcome != tc.outcome || res.Status == nil || *res.Status != tc.status {
			t.Errorf("receiver answering %d: %+v", tc.status, res)
		}
		if (res.Error == nil) != (tc.outcome == "delivered") || !strings.Contains(res.Reply, "receiver says hi") {
			t.Errorf("receiver answering %d: error %v, reply %q", tc.status, res.Error, res.Reply)
		}
		if !strings.HasPrefix(res.EventID, api.PrefixAlertEvent) || !strings.HasPrefix(res.DeliveryID, api.PrefixDelivery) {
			t.Errorf("IDs %q, %q", res.EventID, res.DeliveryID)
		}
		if rv.requests.Load() != 1 || rv.verified.Load() != 1 {
			t.Errorf("receiver got %d requests, %d signed, want 1 and 1", rv.requests.Load(), rv.verified.Load())
		}
	}
	// Nothing stored: a test message is not a delivery.
	l, _, err := srv.Store.ListDeliveries(t.Context(), store.DeliveryQuery{})
	if err != nil || len(l) != 0 {
		t.Errorf("deliveries after tests: %v, %v", l, err)
	}
	r := call(t, srv, http.MethodPost, "/v1/notification-channels/chan_nope/test", srv.AdminToken, nil)
	wantProblem(t, r, http.StatusNotFound)
}

func TestDisablingChannelCancelsItsDeliveries(t *testing.T) {
	srv := acctest.NewServer(t)
	body := chanBody("cancel-on-disable", api.ChannelWebhook, "k")
	c := createChannel(t, srv, srv.AdminToken, body)
	other := createChannel(t, srv, srv.AdminToken, chanBody("stays-enabled", api.ChannelWebhook, "k"))
	now := time.Now().UTC().Truncate(time.Microsecond)
	ev := api.AlertEvent{ID: ids.New(api.PrefixAlertEvent, now), ThresholdID: "thr_1", ThresholdName: "t", Severity: api.SeverityCritical,
		FromState: api.AlertPending, ToState: api.AlertFiring, Metric: "availability_percent", At: now, StartedAt: new(now)}
	mine := api.Delivery{ID: ids.New(api.PrefixDelivery, now), EventID: ev.ID, ChannelID: c.ID, State: api.DeliveryPending, CreatedAt: now}
	theirs := api.Delivery{ID: ids.New(api.PrefixDelivery, now), EventID: ev.ID, ChannelID: other.ID, State: api.DeliveryPending, CreatedAt: now}
	if err := srv.Store.RecordTransitions(t.Context(), store.AlertBatch{Events: []api.AlertEvent{ev}, Deliveries: []api.Delivery{mine, theirs}}); err != nil {
		t.Fatal(err)
	}
	state := func(id string) string {
		l, _, err := srv.Store.ListDeliveries(t.Context(), store.DeliveryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range l {
			if d.ID == id {
				return d.State
			}
		}
		return "missing"
	}
	// A change that keeps it enabled cancels nothing.
	r := call(t, srv, http.MethodPut, "/v1/notification-channels/"+c.ID, srv.AdminToken, with(body, "description", "still on"))
	wantStatus(t, r, http.StatusOK)
	if got := state(mine.ID); got != api.DeliveryPending {
		t.Fatalf("after an update that keeps the channel enabled: %s", got)
	}
	r = call(t, srv, http.MethodPut, "/v1/notification-channels/"+c.ID, srv.AdminToken, with(body, "enabled", false))
	wantStatus(t, r, http.StatusOK)
	if got := state(mine.ID); got != api.DeliveryCancelled {
		t.Errorf("the disabled channel's delivery is %s, want cancelled", got)
	}
	if got := state(theirs.ID); got != api.DeliveryPending {
		t.Errorf("another channel's delivery is %s, want pending", got)
	}
	// Enabling it again does not revive what was cancelled.
	r = call(t, srv, http.MethodPut, "/v1/notification-channels/"+c.ID, srv.AdminToken, with(body, "enabled", true))
	wantStatus(t, r, http.StatusOK)
	if got := state(mine.ID); got != api.DeliveryCancelled {
		t.Errorf("after re-enabling: %s, want cancelled", got)
	}
}

// A channel test is a labelled firing message, which every receiver
// shows; for PagerDuty it opens the test incident and closes it at once:
// a trigger, then a resolve with the same dedup_key, keyed by the test's
// event ID. A resolve that fails says the incident stays open.
func TestChannelTestFiresAndPagerDutyResolves(t *testing.T) {
	// A fake clock, moved past the interval between two tests of one
	// channel (TestChannelTestIsAuditedAndPaced).
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	var (
		mu        sync.Mutex
		got       []map[string]any
		refuseAll atomic.Bool
	)
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		_ = json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		got = append(got, ev)
		n := len(got)
		mu.Unlock()
		if refuseAll.Load() && n%2 == 0 {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"status":"invalid event"}`)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"success","message":"Event processed"}`)
	}))
	t.Cleanup(pd.Close)
	const routingKey = "R0utingKeyForTheChannelTest0001"
	c := createChannel(t, srv, srv.AdminToken, with(chanBody("test-pagerduty", api.ChannelPagerDuty, routingKey), "events_url", pd.URL+"/v2/enqueue"))
	r := call(t, srv, http.MethodPost, "/v1/notification-channels/"+c.ID+"/test", srv.Tokens[api.RoleEditor], nil)
	wantStatus(t, r, http.StatusOK)
	var res api.ChannelTestResult
	decode(t, r, &res)
	if res.Outcome != "delivered" || res.Error != nil || strings.Contains(string(r.Body), routingKey) {
		t.Fatalf("result %s", r.Body)
	}
	mu.Lock()
	events := slices.Clone(got)
	mu.Unlock()
	if len(events) != 2 {
		t.Fatalf("PagerDuty got %d events, want a trigger and a resolve: %v", len(events), events)
	}
	trig, res2 := events[0], events[1]
	wantKey := "aio/test/" + res.EventID
	if trig["event_action"] != "trigger" || res2["event_action"] != "resolve" || trig["dedup_key"] != wantKey || res2["dedup_key"] != wantKey {
		t.Errorf("trigger %v/%v, resolve %v/%v, want both keyed %s", trig["event_action"], trig["dedup_key"], res2["event_action"], res2["dedup_key"], wantKey)
	}
	payload, _ := trig["payload"].(map[string]any)
	if summary, _ := payload["summary"].(string); !strings.HasPrefix(summary, "TEST FIRING warning: ") || !strings.Contains(summary, "AIO test message") {
		t.Errorf("trigger summary %q, want a labelled test", summary)
	}

	// The resolve refused: the answer says the test incident stays open.
	refuseAll.Store(true)
	fake.Advance(server.DefaultChannelTestInterval)
	r = call(t, srv, http.MethodPost, "/v1/notification-channels/"+c.ID+"/test", srv.Tokens[api.RoleEditor], nil)
	wantStatus(t, r, http.StatusOK)
	res = api.ChannelTestResult{}
	decode(t, r, &res)
	if res.Outcome != "failed" || res.Error == nil || !strings.Contains(*res.Error, "test incident was opened") {
		t.Errorf("a refused resolve: %s", r.Body)
	}

	// A webhook receives the firing test message.
	var body map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	wc := createChannel(t, srv, srv.AdminToken, with(chanBody("test-webhook-firing", api.ChannelWebhook, "k"), "url", hook.URL))
	r = call(t, srv, http.MethodPost, "/v1/notification-channels/"+wc.ID+"/test", srv.Tokens[api.RoleEditor], nil)
	wantStatus(t, r, http.StatusOK)
	thr, _ := body["threshold"].(map[string]any)
	if body["state"] != "firing" || body["resolved_at"] != nil || thr["id"] != "" || thr["name"] != "AIO test message" {
		t.Errorf("webhook test body %v", body)
	}
}

// TestChannelTestIsAuditedAndPaced: a channel test reaches people, so each
// one is an audit event under the token that asked, and one channel is
// tested at most once per interval: sooner gets 429 with Retry-After and
// sends nothing, whoever asks; another channel is not held back, and the
// interval passed, the channel may be tested again. Before, an editor
// could send a channel 200 tests in a row, unaudited.
func TestChannelTestIsAuditedAndPaced(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	var got atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	c := createChannel(t, srv, srv.AdminToken, with(chanBody("paced", api.ChannelWebhook, "k"), "url", hook.URL, "enabled", false))
	other := createChannel(t, srv, srv.AdminToken, with(chanBody("paced-other", api.ChannelWebhook, "k"), "url", hook.URL))
	test := func(id, token string) response {
		return call(t, srv, http.MethodPost, "/v1/notification-channels/"+id+"/test", token, nil)
	}
	editor := srv.Tokens[api.RoleEditor]
	wantStatus(t, test(c.ID, editor), http.StatusOK)
	fake.Advance(3 * time.Second)
	for _, token := range []string{editor, srv.AdminToken} {
		r := test(c.ID, token)
		wantProblem(t, r, http.StatusTooManyRequests)
		wantHeader(t, r, "Retry-After", "7")
	}
	wantStatus(t, test(other.ID, editor), http.StatusOK)
	if n := got.Load(); n != 2 {
		t.Fatalf("the receiver got %d tests, want 2", n)
	}
	fake.Advance(7 * time.Second)
	wantStatus(t, test(c.ID, srv.AdminToken), http.StatusOK)
	if n := got.Load(); n != 3 {
		t.Fatalf("the receiver got %d tests, want 3", n)
	}

	var evs api.List[api.AuditEvent]
	decode(t, call(t, srv, http.MethodGet, "/v1/audit-events?object_id="+c.ID, srv.AdminToken, nil), &evs)
	var actors []string
	for _, ev := range evs.Items {
		if ev.Action == api.ActionTest {
			if ev.ObjectKind != api.KindChannel || ev.Revision != c.Revision {
				t.Errorf("test audited as %+v", ev)
			}
			actors = append(actors, ev.Actor)
		}
	}
	slices.Sort(actors)
	if !slices.Equal(actors, []string{"test-admin", "test-editor"}) {
		t.Errorf("tests audited under %v, want one by test-admin and one by test-editor (the refused ones not at all)", actors)
	}
}
