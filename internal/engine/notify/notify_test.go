package notify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/notifytest"
)

// TestEventSchema pins the JSON every channel's event is: the documented
// webhook body, with null for the missing monitor, resolution and runbook.
func TestEventSchema(t *testing.T) {
	for name, e := range map[string]notify.Event{"event_firing.json": notifytest.Event(), "event_resolved.json": notifytest.Resolved()} {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		notifytest.GoldenJSON(t, name, b)
	}
	// Every documented field is present, null or not, so that receivers
	// can rely on the keys.
	b, _ := json.Marshal(notifytest.Resolved())
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"event_id", "state", "severity", "threshold", "monitor", "endpoint", "metric", "value", "window",
		"long_window", "short_window", "started_at", "resolved_at", "runbook_url"} {
		if _, ok := m[k]; !ok {
			t.Errorf("the event has no %q key", k)
		}
	}
	if len(m) != 14 {
		t.Errorf("the event has %d keys, want the 14 documented", len(m))
	}
	// A burn-rate event: window is the long window, repeated by
	// long_window, with the short one beside it.
	burn := notifytest.Event()
	burn.Metric, burn.Window, burn.LongWindow, burn.ShortWindow = "error_budget_burn_rate", "1h", new("1h"), new("5m")
	b, _ = json.Marshal(burn)
	notifytest.GoldenJSON(t, "event_burn_rate.json", b)
}

func TestDescribe(t *testing.T) {
	got := notify.Describe(notifytest.Event())
	want := `FIRING critical: availability_percent is 97.25 over 5m (threshold "checkout availability", monitor "checkout health", endpoint "payments-api")`
	if got != want {
		t.Errorf("Describe = %s\nwant       %s", got, want)
	}
	e := notifytest.Resolved()
	e.Value = nil
	e.Endpoint = nil
	if got, want := notify.Describe(e), `RESOLVED critical: availability_percent is no data over 5m (threshold "checkout availability")`; got != want {
		t.Errorf("Describe = %s\nwant       %s", got, want)
	}
	e.Metric, e.Window, e.LongWindow, e.ShortWindow = "error_budget_burn_rate", "1h", new("1h"), new("5m")
	if got, want := notify.Describe(e), `RESOLVED critical: error_budget_burn_rate is no data over 1h and 5m (threshold "checkout availability")`; got != want {
		t.Errorf("Describe = %s\nwant       %s", got, want)
	}
}

func TestFormatValue(t *testing.T) {
	for v, want := range map[float64]string{99.95: "99.95", 100: "100", 0.0004: "0", 1234.5678: "1234.568", -2: "-2"} {
		if got := notify.FormatValue(&v); got != want {
			t.Errorf("FormatValue(%v) = %s, want %s", v, got, want)
		}
	}
}

// TestBackoffDelay pins the schedule: doubling from 5 s, capped at 30 min,
// jittered into [base/2, base).
func TestBackoffDelay(t *testing.T) {
	var b notify.Backoff
	cases := []struct {
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{1, 0, 2500 * time.Millisecond},
		{1, 0.5, 3750 * time.Millisecond},
		{1, 1, 5 * time.Second},
		{2, 0, 5 * time.Second},
		{3, 0, 10 * time.Second},
		{10, 0, 15 * time.Minute}, // 5s·2⁹ = 42m40s, capped at 30m
		{10, 0.999, 15*time.Minute + time.Duration(float64(15*time.Minute)*0.999)},
		{63, 0, 15 * time.Minute},   // no overflow
		{1000, 0, 15 * time.Minute}, // no overflow
		{0, 0, 2500 * time.Millisecond},
		{1, -3, 2500 * time.Millisecond}, // jitter clamped
	}
	for _, c := range cases {
		if got := b.Delay(c.attempt, c.jitter); got != c.want {
			t.Errorf("Delay(%d, %v) = %v, want %v", c.attempt, c.jitter, got, c.want)
		}
	}
	custom := notify.Backoff{InitialDelay: time.Second, MaxDelay: 4 * time.Second}
	for attempt, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second, 4: 2 * time.Second} {
		if got := custom.Delay(attempt, 0); got != want {
			t.Errorf("custom Delay(%d) = %v, want %v", attempt, got, want)
		}
	}
	// The wait never shrinks from one attempt to the next at equal jitter.
	prev := time.Duration(0)
	for a := 1; a < 50; a++ {
		d := b.Delay(a, 0.3)
		if d < prev {
			t.Fatalf("Delay(%d) = %v < Delay(%d) = %v", a, d, a-1, prev)
		}
		prev = d
	}
}

// TestBackoffNext: Retry-After wins when longer (capped), the last attempt
// lands on the deadline, and nothing is scheduled after it.
func TestBackoffNext(t *testing.T) {
	b := notify.Backoff{GiveUpAfter: time.Hour}
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	at, ok := b.Next(1, first, first, 0, 1)
	if !ok || at != first.Add(5*time.Second) {
		t.Errorf("Next after the first attempt = %v %v, want +5s", at, ok)
	}
	at, ok = b.Next(1, first, first, 90*time.Second, 0)
	if !ok || at != first.Add(90*time.Second) {
		t.Errorf("with Retry-After 90s = %v, want +90s", at)
	}
	at, _ = b.Next(1, first, first, 48*time.Hour, 0)
	if at != first.Add(time.Hour) {
		t.Errorf("a huge Retry-After gives %v, want it capped (and at the deadline)", at)
	}
	now := first.Add(59 * time.Minute)
	at, ok = b.Next(12, first, now, 0, 0)
	if !ok || at != first.Add(time.Hour) {
		t.Errorf("near the deadline Next = %v %v, want the deadline itself", at, ok)
	}
	if _, ok := b.Next(13, first, first.Add(time.Hour), 0, 0); ok {
		t.Error("an attempt at the deadline is followed by another")
	}
	// Default: 24 h.
	if _, ok := (notify.Backoff{}).Next(99, first, first.Add(24*time.Hour-time.Second), 0, 0); !ok {
		t.Error("gave up before 24 h by default")
	}
	if _, ok := (notify.Backoff{}).Next(99, first, first.Add(24*time.Hour), 0, 0); ok {
		t.Error("retries past 24 h by default")
	}
	// Over a whole outage the schedule makes a bounded number of attempts.
	n, now := 1, first
	day := notify.Backoff{}
	for {
		next, ok := day.Next(n, first, now, 0, 0.5)
		if !ok {
			break
		}
		n, now = n+1, next
	}
	if n < 40 || n > 100 {
		t.Errorf("a day-long outage costs %d attempts, want between 40 and 100", n)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		" 120 ":                         2 * time.Minute,
		"-5":                            0,
		"0":                             0,
		"soon":                          0,
		"999999999999":                  time.Hour,
		"Thu, 01 Jan 2026 12:00:30 GMT": 30 * time.Second,
		"Thu, 01 Jan 2026 11:00:00 GMT": 0,
		"Fri, 02 Jan 2026 12:00:00 GMT": time.Hour,
	}
	for in, want := range cases {
		if got := notify.ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestScrub(t *testing.T) {
	secret := []byte("s3cr3t/k+y?=&\"x")
	var texts []string
	for _, f := range notify.SecretForms(secret) {
		texts = append(texts, notify.Scrub("before "+f+" after", secret))
	}
	notifytest.NoSecret(t, secret, texts...)
	for _, s := range texts {
		if !strings.Contains(s, notify.Redacted) {
			t.Errorf("nothing redacted in %q", s)
		}
	}
	long := strings.Repeat("é", notify.MaxErrorText)
	if got := notify.Scrub(long); len(got) > notify.MaxErrorText || !strings.HasSuffix(got, "…") {
		t.Errorf("long text is %d bytes, ends %q", len(got), got[len(got)-5:])
	}
}

// stubSender is a Sender that records what it was given; it lets the
// registry be tested without a network.
type stubSender struct {
	result notify.Result
}

func (s *stubSender) Validate(json.RawMessage) error { return nil }
func (s *stubSender) Send(context.Context, notify.Delivery, notify.Channel) notify.Result {
	return s.result
}

// TestRegistry: lookup by type, unknown types fail for good, and the
// registry scrubs what a careless sender returns.
func TestRegistry(t *testing.T) {
	r := notify.NewRegistry()
	secret := []byte("hunter2-routing-key")
	r.Register("stub", &stubSender{result: notify.Result{Outcome: notify.Retry, Error: "echo hunter2-routing-key", Reply: "aHVudGVyMi1yb3V0aW5nLWtleQ=="}})
	if got := r.Types(); len(got) != 1 || got[0] != "stub" {
		t.Errorf("Types = %v", got)
	}
	res := r.Send(context.Background(), notify.Delivery{}, notify.Channel{Type: "stub", Secret: secret})
	notifytest.NoSecret(t, secret, res.Error, res.Reply)
	res = r.Send(context.Background(), notify.Delivery{}, notify.Channel{Type: "carrier-pigeon"})
	if res.Outcome != notify.Failed || res.Retryable() {
		t.Errorf("unknown type: %+v", res)
	}
	if err := r.Validate("carrier-pigeon", nil); err == nil || !strings.Contains(err.Error(), "stub") {
		t.Errorf("Validate of an unknown type = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a type twice did not panic")
		}
	}()
	r.Register("stub", &stubSender{})
}

// TestPostJSONClassification covers the answers the channel-specific
// tests do not: redirects are not followed and refusals are final.
func TestPostJSONClassification(t *testing.T) {
	cases := []struct {
		status int
		want   notify.Outcome
	}{
		{200, notify.Delivered}, {202, notify.Delivered}, {204, notify.Delivered},
		{301, notify.Failed}, {307, notify.Failed},
		{400, notify.Failed}, {401, notify.Failed}, {404, notify.Failed}, {410, notify.Failed},
		{408, notify.Retry}, {429, notify.Retry}, {500, notify.Retry}, {502, notify.Retry}, {503, notify.Retry},
	}
	for _, c := range cases {
		var target *notifytest.Receiver
		rcv := notifytest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			if c.status/100 == 3 {
				w.Header().Set("Location", target.URL+"/elsewhere?token=abc")
			}
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte("answer\n\twith  whitespace"))
		})
		target = rcv
		res := notify.PostJSON(context.Background(), rcv.Client(), notify.Post{URL: rcv.URL + "/hook?token=abc", Show: notify.ShowURL(rcv.URL + "/hook?token=abc"), Body: []byte(`{}`)})
		if res.Outcome != c.want || res.Status != c.status {
			t.Errorf("%d: outcome %s status %d, want %s", c.status, res.Outcome, res.Status, c.want)
		}
		if n := len(rcv.Requests()); n != 1 {
			t.Errorf("%d: the receiver got %d requests (redirect followed?)", c.status, n)
		}
		if c.status != 204 && res.Reply != "answer with whitespace" {
			t.Errorf("%d: reply %q", c.status, res.Reply)
		}
		if strings.Contains(res.Error, "token") {
			t.Errorf("%d: error text carries the query: %s", c.status, res.Error)
		}
		if (c.want == notify.Delivered) != (res.Error == "") {
			t.Errorf("%d: error %q", c.status, res.Error)
		}
	}
}

// TestTestEvent: a channel test is a labelled firing warning, so that a
// receiver shows it; its resolution keeps what identifies the alert.
func TestTestEvent(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	e := notify.TestEvent("evt_test", now)
	if e.State != notify.StateFiring || e.ResolvedAt != nil || !e.StartedAt.Equal(now.Truncate(time.Second)) || e.EventID != "evt_test" ||
		!e.Test || e.Threshold.ID != "" {
		t.Errorf("TestEvent = %+v", e)
	}
	if got := notify.Describe(e); !strings.HasPrefix(got, "TEST FIRING warning: ") || !strings.Contains(got, "AIO test message") {
		t.Errorf("Describe = %s", got)
	}
	r := notify.Resolution(e, now.Add(2*time.Second))
	if r.State != notify.StateResolved || r.ResolvedAt == nil || !r.ResolvedAt.Equal(now.Add(2*time.Second).Truncate(time.Second)) ||
		r.EventID != e.EventID || !r.StartedAt.Equal(e.StartedAt) || !r.Test {
		t.Errorf("Resolution = %+v", r)
	}
	if e.ResolvedAt != nil {
		t.Error("Resolution changed the firing event")
	}
}

// TestReplyScrubbedBeforeCut: a receiver that echoes the secret (a routing
// key, a signing secret) where the reply's 200-byte cut falls must not get
// any beginning of it into the stored reply or error text. It fails when
// the reply is cut before it is scrubbed.
func TestReplyScrubbedBeforeCut(t *testing.T) {
	secret := []byte("R0utingKey-Zq7-0123456789abcdef")
	for pad := 150; pad < 205; pad++ {
		for _, sep := range []string{" ", "\n\t  "} {
			rcv := notifytest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(strings.Repeat("x", pad) + sep + string(secret) + " invalid"))
			})
			res := notify.PostJSON(context.Background(), rcv.Client(), notify.Post{URL: rcv.URL, Show: "receiver", Body: []byte(`{}`), Secrets: [][]byte{secret}})
			for what, text := range map[string]string{"reply": res.Reply, "error": res.Error} {
				for _, f := range notify.SecretForms(secret) {
					for k := 3; k <= len(f); k++ {
						if strings.Contains(text, f[:k]) {
							t.Fatalf("pad %d: the %s holds %q, the start of the secret's form %q: %q", pad, what, f[:k], f, text)
						}
					}
				}
			}
			if len(res.Reply) > 200 {
				t.Fatalf("pad %d: reply of %d bytes", pad, len(res.Reply))
			}
		}
	}
}

// TestBackoffDelayNearTheShiftLimit: attempt 40 still doubles
// InitialDelay (1 ns << 39 is about 9 minutes, under a 1 h cap), and a
// doubling that overflows to exactly 0 (2^25 ns << 39 = 2^64) takes the
// cap, never a zero wait.
func TestBackoffDelayNearTheShiftLimit(t *testing.T) {
	tiny := notify.Backoff{InitialDelay: time.Nanosecond, MaxDelay: time.Hour}
	if got, want := tiny.Delay(40, 0), time.Duration(1<<39)/2; got != want {
		t.Errorf("Delay(40) from 1 ns = %v, want %v", got, want)
	}
	wraps := notify.Backoff{InitialDelay: 1 << 25, MaxDelay: time.Hour}
	if got := wraps.Delay(40, 0); got != 30*time.Minute {
		t.Errorf("Delay(40) from 2^25 ns = %v, want the cap's 30m", got)
	}
}

// TestSecretFormsHoldTheSecret: the forms tests check outputs against are
// there: the secret itself among them, none empty.
func TestSecretFormsHoldTheSecret(t *testing.T) {
	secret := []byte("s3cr3t/k+y")
	forms := notify.SecretForms(secret)
	if len(forms) < 3 || !slices.Contains(forms, string(secret)) || slices.Contains(forms, "") {
		t.Errorf("SecretForms = %q, want the secret and its encodings, none empty", forms)
	}
}

// TestPostJSONUsesTheGivenClient: the client (its dialer, so the egress
// policy) is the one given; nil is Go's default client.
func TestPostJSONUsesTheGivenClient(t *testing.T) {
	rcv := notifytest.NewReceiver(t, nil)
	denyAll := &http.Client{Transport: &http.Transport{DialContext: (&egress.Dialer{Policy: &egress.Policy{}}).DialContext}}
	res := notify.PostJSON(context.Background(), denyAll, notify.Post{URL: rcv.URL, Show: "receiver", Body: []byte(`{}`)})
	if res.Outcome != notify.Failed || !strings.Contains(res.Error, "egress") || len(rcv.Requests()) != 0 {
		t.Errorf("through a client whose policy denies loopback: %+v, %d requests; want failed by egress, none", res, len(rcv.Requests()))
	}
	if res := notify.PostJSON(context.Background(), nil, notify.Post{URL: rcv.URL, Show: "receiver", Body: []byte(`{}`)}); res.Outcome != notify.Delivered {
		t.Errorf("with a nil client: %+v, want delivered", res)
	}
}

// TestPostJSONReplyAndError: a refusal's error text quotes the reply, a
// refusal without a body adds nothing, and a whole reply that ends with
// the beginning of a secret keeps it (only a reply cut at the read limit
// loses such a tail).
func TestPostJSONReplyAndError(t *testing.T) {
	secret := []byte("R0utingKey-Zq7-0123456789abcdef")
	var body atomic.Value
	rcv := notifytest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(body.Load().(string)))
	})
	post := notify.Post{URL: rcv.URL, Show: "receiver", Body: []byte(`{}`), Secrets: [][]byte{secret}}
	body.Store("unknown routing key R0ut")
	res := notify.PostJSON(context.Background(), rcv.Client(), post)
	if res.Reply != "unknown routing key R0ut" || res.Error != "POST receiver: receiver answered 400 Bad Request: unknown routing key R0ut" {
		t.Errorf("reply %q, error %q", res.Reply, res.Error)
	}
	body.Store("")
	res = notify.PostJSON(context.Background(), rcv.Client(), post)
	if res.Reply != "" || res.Error != "POST receiver: receiver answered 400 Bad Request" {
		t.Errorf("empty body: reply %q, error %q", res.Reply, res.Error)
	}
}

// TestRetryAfterDateIsTheReceiversTime: an HTTP-date Retry-After is
// measured from the receiver's Date header, not the local clock.
func TestRetryAfterDateIsTheReceiversTime(t *testing.T) {
	rcv := notifytest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "Thu, 01 Jan 2026 12:00:00 GMT")
		w.Header().Set("Retry-After", "Thu, 01 Jan 2026 12:00:30 GMT")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	res := notify.PostJSON(context.Background(), rcv.Client(), notify.Post{URL: rcv.URL, Show: "receiver", Body: []byte(`{}`)})
	if res.Outcome != notify.Retry || res.RetryAfter != 30*time.Second {
		t.Errorf("outcome %s, retry after %v; want retry after 30s", res.Outcome, res.RetryAfter)
	}
}

func TestShowURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@hooks.example.com/services/x?token=abc#frag": "https://hooks.example.com/services/x",
		"http://127.0.0.1:8080/hook":                                  "http://127.0.0.1:8080/hook",
		"/relative/path":                                              "(invalid URL)",
		"http://[::1":                                                 "(invalid URL)",
	} {
		if got := notify.ShowURL(in); got != want {
			t.Errorf("ShowURL(%q) = %q, want %q", in, got, want)
		}
	}
}
