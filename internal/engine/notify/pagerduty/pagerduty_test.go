package pagerduty_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/notifytest"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/pagerduty"
)

var routingKey = []byte("R0UT1NGKEY0123456789abcdefabcdef")

func channel(eventsURL string) notify.Channel {
	st, _ := json.Marshal(pagerduty.Settings{EventsURL: eventsURL})
	return notify.Channel{ID: "chan_pd", Type: pagerduty.Type, Settings: st, Secret: routingKey}
}

func send(t *testing.T, ctx context.Context, client *http.Client, ch notify.Channel, e notify.Event) notify.Result {
	t.Helper()
	res := pagerduty.New(client).Send(ctx, notify.Delivery{ID: "dlv_1", Event: e}, ch)
	notifytest.NoSecret(t, routingKey, res.Error, res.Reply)
	return res
}

// accepted answers as PagerDuty does when it takes an event.
func accepted(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"success","message":"Event processed","dedup_key":"x"}`))
}

// TestTriggerAndResolve: a firing event triggers and its resolution
// resolves with the same dedup_key, in the Events API v2 format.
func TestTriggerAndResolve(t *testing.T) {
	rcv := notifytest.NewReceiver(t, accepted)
	firing := notifytest.Event()
	resolved := notifytest.Event()
	resolved.State = notify.StateResolved
	r := firing.StartedAt.Add(10 * time.Minute)
	resolved.ResolvedAt = &r

	for _, e := range []notify.Event{firing, resolved} {
		res := send(t, context.Background(), rcv.Client(), channel(rcv.URL+"/v2/enqueue"), e)
		if res.Outcome != notify.Delivered || res.Status != 202 || !strings.Contains(res.Reply, "Event processed") {
			t.Fatalf("result %+v", res)
		}
	}
	reqs := rcv.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/v2/enqueue" {
		t.Fatalf("requests %+v", reqs)
	}
	notifytest.GoldenJSON(t, "pagerduty_trigger.json", reqs[0].Body)
	notifytest.GoldenJSON(t, "pagerduty_resolve.json", reqs[1].Body)

	var trig, res pagerduty.Event
	if err := json.Unmarshal(reqs[0].Body, &trig); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(reqs[1].Body, &res); err != nil {
		t.Fatal(err)
	}
	if trig.EventAction != "trigger" || res.EventAction != "resolve" || trig.DedupKey != res.DedupKey || trig.DedupKey == "" {
		t.Errorf("trigger %s/%s, resolve %s/%s", trig.EventAction, trig.DedupKey, res.EventAction, res.DedupKey)
	}
	if trig.RoutingKey != string(routingKey) || trig.Payload.Severity != "critical" || trig.Payload.Source != "payments-api" {
		t.Errorf("trigger %+v", trig)
	}
}

// TestDedupKey: stable per threshold, severity and alert start.
func TestDedupKey(t *testing.T) {
	e := notifytest.Event()
	k := pagerduty.DedupKey(e)
	if k != "aio/thr_checkout_avail/critical/1795946400" {
		t.Errorf("DedupKey = %s", k)
	}
	reminder := e
	reminder.EventID = "evt_other"
	v := 50.0
	reminder.Value = &v
	if pagerduty.DedupKey(reminder) != k {
		t.Error("another event of the same alert has another key")
	}
	for name, change := range map[string]func(*notify.Event){
		"severity":  func(e *notify.Event) { e.Severity = notify.SeverityWarning },
		"threshold": func(e *notify.Event) { e.Threshold.ID = "thr_other" },
		"start":     func(e *notify.Event) { e.StartedAt = e.StartedAt.Add(time.Hour) },
	} {
		o := notifytest.Event()
		change(&o)
		if pagerduty.DedupKey(o) == k {
			t.Errorf("a different %s gives the same key", name)
		}
	}
}

func TestValidate(t *testing.T) {
	s := pagerduty.New(nil)
	for in, want := range map[string]string{
		`{}`: "",
		`{"events_url":"https://events.eu.pagerduty.com/v2/enqueue","source":"prod"}`: "",
		`{"events_url":"mailto:x@example.com"}`:                                       "events_url: must be an absolute http or https URL",
		`{"events_url":"https://u:p@events.pagerduty.com/"}`:                          "events_url: must not carry user info",
		`{"routing_key":"x"}`: `settings: json: unknown field "routing_key"`,
	} {
		err := s.Validate(json.RawMessage(in))
		if (want == "") != (err == nil) || (err != nil && err.Error() != want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

// TestDefaultEventsURL: without a setting, events go to PagerDuty. The
// test gives the sender a client whose dialer refuses to connect and
// checks the URL the error names, so that nothing leaves the machine.
func TestDefaultEventsURL(t *testing.T) {
	var dialed string
	client := &http.Client{Transport: &http.Transport{DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
		dialed = addr
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errString("refused by the test")}
	}}}
	ch := channel("")
	ch.Settings = nil
	res := send(t, context.Background(), client, ch, notifytest.Event())
	if dialed != "events.pagerduty.com:443" || res.Outcome != notify.Retry || !strings.HasPrefix(res.Error, "POST https://events.pagerduty.com/v2/enqueue: ") {
		t.Errorf("dialed %q, result %+v", dialed, res)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestClassification(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    notify.Outcome
	}{
		{"invalid event", func(w http.ResponseWriter, r *http.Request) {
			// PagerDuty's error answer, plus an echo of the key.
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"status":"invalid event","message":"Event object is invalid","errors":["'routing_key' ` + string(routingKey) + ` is invalid"]}`))
		}, notify.Failed},
		{"throttled", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }, notify.Retry},
		{"server error", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }, notify.Retry},
	}
	for _, c := range cases {
		rcv := notifytest.NewReceiver(t, c.handler)
		res := send(t, context.Background(), rcv.Client(), channel(rcv.URL), notifytest.Event())
		if res.Outcome != c.want {
			t.Errorf("%s: result %+v", c.name, res)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if res := send(t, context.Background(), nil, channel("http://"+addr), notifytest.Event()); res.Outcome != notify.Retry {
		t.Errorf("refused: %+v", res)
	}
	if res := send(t, context.Background(), nil, notify.Channel{Type: pagerduty.Type}, notifytest.Event()); res.Outcome != notify.Failed {
		t.Errorf("no routing key: %+v", res)
	}
}

// TestRunbookLinks: http and https runbooks become links; other schemes
// do not.
func TestRunbookLinks(t *testing.T) {
	for url, want := range map[string]bool{"http://runbooks.example.com/x": true, "https://runbooks.example.com/x": true, "javascript:alert(1)": false} {
		e := notifytest.Event()
		e.RunbookURL = &url
		ev := pagerduty.Build(e, string(routingKey), "")
		if got := len(ev.Links) == 1 && ev.Links[0].Href == url; got != want {
			t.Errorf("runbook %q: links %+v, want a link %v", url, ev.Links, want)
		}
	}
}

// TestSummaryCut: a summary of exactly 1024 bytes is kept whole.
func TestSummaryCut(t *testing.T) {
	e := notifytest.Event()
	e.Threshold.Name = "x"
	pad := 1024 - len(notify.Describe(e))
	e.Threshold.Name = "x" + strings.Repeat("y", pad)
	whole := notify.Describe(e)
	if len(whole) != 1024 {
		t.Fatalf("the test's summary is %d bytes, want 1024", len(whole))
	}
	if got := pagerduty.Build(e, string(routingKey), "").Payload.Summary; got != whole {
		t.Errorf("a 1024-byte summary became %d bytes: ...%q", len(got), got[len(got)-10:])
	}
}
