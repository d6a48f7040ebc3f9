package crashtest

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/webhook"
	"github.com/aio-platform/terraform-provider-aio/internal/testutil/aiodproc"
)

// holdingReceiver is a webhook receiver on 127.0.0.1 that holds its first
// request without answering (until the sender goes away) and answers every
// later one 200. Only a 200 is an acknowledgement: the held request never
// gets one.
type holdingReceiver struct {
	secret []byte
	held   chan struct{}

	mu    sync.Mutex
	first bool
	calls []receivedCall
}

type receivedCall struct {
	DeliveryID, EventID string
	Acked               bool
	VerifyErr           error
}

func newHoldingReceiver(t *testing.T, secret string) (*holdingReceiver, *httptest.Server) {
	rv := &holdingReceiver{secret: []byte(secret), held: make(chan struct{}), first: true}
	hs := httptest.NewServer(rv)
	t.Cleanup(hs.Close)
	return rv, hs
}

func (rv *holdingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := make([]byte, 0, 1024)
	buf := make([]byte, 1024)
	for {
		n, err := r.Body.Read(buf)
		body = append(body, buf[:n]...)
		if err != nil {
			break
		}
	}
	c := receivedCall{DeliveryID: r.Header.Get(webhook.HeaderDeliveryID), EventID: r.Header.Get(webhook.HeaderEventID),
		VerifyErr: webhook.Verify(rv.secret, r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute)}
	rv.mu.Lock()
	hold := rv.first
	rv.first = false
	c.Acked = !hold
	rv.calls = append(rv.calls, c)
	rv.mu.Unlock()
	if hold {
		close(rv.held)
		// No answer: the sender is killed while it waits for one, and
		// the request ends when its connection does.
		<-r.Context().Done()
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (rv *holdingReceiver) all() []receivedCall {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]receivedCall(nil), rv.calls...)
}

// TestCrashDuringAlertDelivery is issue 10's "aiod killed with SIGKILL
// between event and delivery → delivered after restart, once": a
// threshold on a failing local target fires, the event and its delivery
// are stored, the worker sends the webhook and the receiver holds it
// unanswered; aiod is killed then (after a seeded delay). After the
// restart the delivery is sent again once its lease ends, and the
// receiver acknowledges exactly one request for the event — the same
// delivery ID and event ID as the interrupted one — while the store shows
// one firing event and one delivered delivery.
func TestCrashDuringAlertDelivery(t *testing.T) {
	eachSeed(t, 1, func(t *testing.T, rng *rand.Rand) {
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
		}))
		t.Cleanup(target.Close)
		const secret = "whsec-crash-0123456789"
		rv, hook := newHoldingReceiver(t, secret)
		p := aiodproc.Start(t, aiodproc.Options{Args: []string{"--probe-allow-cidrs", "127.0.0.0/8",
			"--alert-interval", "1s", "--delivery-attempt-timeout", "2s"}})

		ep := create(t, p, "/v1/endpoints", map[string]any{"name": "target", "url": target.URL + "/health"})
		mon := create(t, p, "/v1/monitors", map[string]any{"name": "target-health", "endpoint_id": ep, "type": "http",
			"enabled": true, "interval": "5s", "retry_strategy": map[string]any{"type": api.RetryNone}})
		ch := create(t, p, "/v1/notification-channels", map[string]any{"name": "hook", "type": api.ChannelWebhook,
			"url": hook.URL + "/hook", "secret": secret})
		thr := create(t, p, "/v1/alert-thresholds", map[string]any{"name": "target-down", "monitor_id": mon,
			"metric": api.MetricConsecutiveFailure, "comparison": "above", "critical": 1, "channel_ids": []string{ch}})

		select {
		case <-rv.held:
		case <-time.After(60 * time.Second):
			t.Fatalf("no webhook within 60s of the threshold's creation; aiod's log:\n%s", p.Logs())
		}
		time.Sleep(between(rng, 0, time.Second))
		p.Kill()
		p.CheckDB(t)
		calls := rv.all()
		if len(calls) != 1 || calls[0].Acked || calls[0].DeliveryID == "" || calls[0].EventID == "" || calls[0].VerifyErr != nil {
			t.Fatalf("before the kill the receiver saw %+v, want one held, signed request", calls)
		}
		held := calls[0]

		p.Start()
		// The interrupted attempt's lease (attempt timeout + 30 s) must
		// end before the delivery is due again.
		waitFor(t, 90*time.Second, "the delivery after the restart", func() bool {
			for _, c := range rv.all() {
				if c.Acked {
					return true
				}
			}
			return false
		})
		// Give a second send (the bug this test is for) time to happen:
		// several polls of the worker and ticks of the evaluator.
		time.Sleep(3 * time.Second)
		acked := map[string]int{}
		for _, c := range rv.all() {
			if c.VerifyErr != nil {
				t.Errorf("a request whose signature does not verify: %+v", c)
			}
			if c.EventID != held.EventID || c.DeliveryID != held.DeliveryID {
				t.Errorf("a request of another event or delivery: %+v (held %+v)", c, held)
			}
			if c.Acked {
				acked[c.DeliveryID+"/"+c.EventID]++
			}
		}
		if n := acked[held.DeliveryID+"/"+held.EventID]; n != 1 || len(acked) != 1 {
			t.Errorf("acknowledged deliveries %v, want exactly one of %s/%s", acked, held.DeliveryID, held.EventID)
		}
		events := p.ListAll(t, "/v1/alert-events?threshold_id="+url.QueryEscape(thr))
		firing := 0
		for _, e := range events {
			if e["to_state"] == api.AlertFiring {
				firing++
				if e["id"] != held.EventID {
					t.Errorf("firing event %v, the webhook carried %s", e["id"], held.EventID)
				}
			}
		}
		if firing != 1 {
			t.Errorf("%d firing events after the restart, want 1: %v", firing, events)
		}
		ds := p.ListAll(t, "/v1/deliveries?event_id="+url.QueryEscape(held.EventID))
		if len(ds) != 1 || ds[0]["id"] != held.DeliveryID || ds[0]["state"] != api.DeliveryDelivered {
			b, _ := json.Marshal(ds)
			t.Errorf("deliveries of the event: %s, want one delivered %s", b, held.DeliveryID)
		}
		p.Stop()
		p.CheckDB(t)
		total := 0
		for _, n := range acked {
			total += n
		}
		figures(t, "alert-delivery", p.Kills, aiodproc.Verdict{Acked: total, Duplicates: max(total-1, 0)})
	})
}
