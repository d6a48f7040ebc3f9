// Package notify sends alert events to people: the Sender interface that
// every notification channel type implements, the one JSON event schema all
// of them carry, a registry from channel type to Sender, and the retry
// backoff of the delivery worker.
//
// The package and its implementations (one package per channel type:
// webhook, slack, pagerduty, email) know nothing about storage. The outbox
// worker reads a delivery, decrypts the channel's secret, calls Send once
// per attempt with a context that bounds the attempt, records the Result and
// asks Backoff when to try again. Keeping the senders pure lets each be
// tested against a real local receiver without a database.
//
// Secrets: a channel's secret (a webhook signing key, a Slack webhook URL, a
// PagerDuty routing key, the SMTP password) reaches a sender only as an
// argument, is never logged, and never appears in a Result: error text is
// built without it and then scrubbed of it in every common encoding (see
// Scrub), because results are stored and shown by the API.
package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// State is the state an alert event reports.
type State string

// The states an event reports. Pending is not notified: an alert tells
// people only when it fires and when it resolves.
const (
	StateFiring   State = "firing"
	StateResolved State = "resolved"
)

// Severity is the severity of the threshold level that fired.
type Severity string

// The severities of a threshold's levels.
const (
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Ref names an object by its ID and its name.
type Ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Event is an alert event as every channel receives it. Its JSON encoding
// is the documented webhook body, field for field; the other channel types
// render the same fields in their receivers' formats.
type Event struct {
	// EventID identifies the event (an alert transition). It is stable
	// across the attempts and the channels of one event, so receivers
	// deduplicate on it; webhooks also carry it as AIO-Event-Id.
	EventID string `json:"event_id"`
	// State is firing or resolved.
	State State `json:"state"`
	// Severity is the level that fired (or resolved).
	Severity Severity `json:"severity"`
	// Threshold is the alert threshold that fired.
	Threshold Ref `json:"threshold"`
	// Monitor is the threshold's monitor, nil when the threshold is on an
	// endpoint (the figure then covers all of the endpoint's monitors).
	Monitor *Ref `json:"monitor"`
	// Endpoint is the endpoint the figure is about, nil when unknown.
	Endpoint *Ref `json:"endpoint"`
	// Metric is the figure's name, such as availability_percent.
	Metric string `json:"metric"`
	// Value is the figure that caused the transition, nil when there
	// was no data (a no_data = alerting threshold fires without one).
	Value *float64 `json:"value"`
	// Window is the window the figure was computed over, as the threshold
	// spells it ("5m"). For error_budget_burn_rate it is the long window
	// of the pair of windows behind the value ("1h"), which LongWindow
	// repeats and ShortWindow completes ("5m"): both windows burnt faster
	// than the pair's factor. LongWindow and ShortWindow are null for
	// every other metric.
	Window      string  `json:"window"`
	LongWindow  *string `json:"long_window"`
	ShortWindow *string `json:"short_window"`
	// StartedAt is when the alert started firing. Together with the
	// threshold and the severity it identifies one alert, which is why
	// PagerDuty's dedup key is built from it.
	StartedAt time.Time `json:"started_at"`
	// ResolvedAt is when the alert resolved, nil while it fires.
	ResolvedAt *time.Time `json:"resolved_at"`
	// RunbookURL is the threshold's runbook, nil when it has none.
	RunbookURL *string `json:"runbook_url"`
	// Test marks the message of a channel test (TestEvent): Describe
	// labels it, and PagerDuty keys it by its event ID so that it never
	// merges with a real alert. It is not part of the JSON schema: a
	// webhook receiver tells a test by its threshold, whose ID is "".
	Test bool `json:"-"`
}

// Delivery is one event addressed to one channel: the unit the outbox
// stores, retries and deduplicates.
type Delivery struct {
	// ID identifies the delivery (the ID GET /v1/deliveries lists). It is
	// the same on every attempt, so that a receiver that acknowledged an
	// attempt whose answer was lost can drop the retry.
	ID string
	// Event is the event to deliver.
	Event Event
}

// Channel is what a sender needs of a notification channel.
type Channel struct {
	// ID and Name identify the channel; senders may show the name.
	ID   string
	Name string
	// Type is the channel type, the registry's key.
	Type string
	// Settings are the type's settings as a JSON object, validated by
	// the type's Sender.Validate.
	Settings json.RawMessage
	// Secret is the decrypted secret: the webhook signing key, the Slack
	// webhook URL or the PagerDuty routing key; nil for email, whose
	// server credentials are aiod-wide. The caller zeroes it after Send.
	Secret []byte
}

// Sender sends deliveries over one channel type. Implementations are safe
// for concurrent use: one Sender serves every channel of its type.
type Sender interface {
	// Validate checks a channel's settings (a JSON object) and returns an
	// error naming the offending setting, so that the API can refuse a
	// channel that could never deliver.
	Validate(settings json.RawMessage) error
	// Send makes one attempt to deliver d over ch. The context bounds the
	// attempt (the worker gives each attempt its own timeout, so a
	// receiver that hangs delays only its own deliveries). Send never
	// retries by itself: it reports in the Result whether another attempt
	// may succeed, and the worker schedules it.
	Send(ctx context.Context, d Delivery, ch Channel) Result
}

// DefaultAttemptTimeout is the per-attempt timeout the delivery worker
// should give Send: long enough for a slow receiver on another continent,
// short enough that a hanging one holds a worker only briefly.
const DefaultAttemptTimeout = 10 * time.Second

// Outcome is how an attempt ended.
type Outcome string

// The outcomes of an attempt.
const (
	// Delivered: the receiver acknowledged the delivery.
	Delivered Outcome = "delivered"
	// Retry: the attempt failed in a way another attempt may not (a
	// timeout, a refused connection, a 5xx, 408 or 429, an SMTP 4xx).
	Retry Outcome = "retry"
	// Failed: the receiver refused the delivery for good (a 4xx, an SMTP
	// 5xx, invalid settings, an egress denial); retrying would only
	// repeat the refusal.
	Failed Outcome = "failed"
)

// Result reports one attempt. None of its fields ever contains the
// channel's secret.
type Result struct {
	// Outcome is how the attempt ended.
	Outcome Outcome
	// Status is the HTTP status the receiver answered, 0 when there was
	// no HTTP answer.
	Status int
	// Reply is the receiver's answer in short: an excerpt of the HTTP
	// response body, or the SMTP server's last reply ("250 2.0.0 Ok").
	// It is scrubbed of the secret like Error.
	Reply string
	// Duration is how long the attempt took.
	Duration time.Duration
	// Error says why the attempt did not deliver, "" when it did.
	Error string
	// RetryAfter is the wait the receiver asked for (Retry-After), capped
	// by MaxRetryAfter; 0 when it asked for none.
	RetryAfter time.Duration
}

// Retryable tells whether another attempt may succeed.
func (r Result) Retryable() bool { return r.Outcome == Retry }

// Registry maps channel types to their senders. Build it once at start-up;
// it is read-only afterwards and so safe for concurrent use.
type Registry struct {
	senders map[string]Sender
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{senders: map[string]Sender{}} }

// Register adds the sender of a channel type. Registering a type twice is a
// programming error and panics, so that a wiring mistake shows at start-up
// rather than as deliveries going to the wrong sender.
func (r *Registry) Register(typ string, s Sender) {
	if _, dup := r.senders[typ]; dup {
		panic(fmt.Sprintf("notify: channel type %q registered twice", typ))
	}
	r.senders[typ] = s
}

// Lookup returns the sender of a channel type.
func (r *Registry) Lookup(typ string) (Sender, bool) {
	s, ok := r.senders[typ]
	return s, ok
}

// Types returns the registered channel types, sorted.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.senders))
	for t := range r.senders {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Validate checks a channel's type and settings.
func (r *Registry) Validate(typ string, settings json.RawMessage) error {
	s, ok := r.senders[typ]
	if !ok {
		return fmt.Errorf("type %q is not one of %v", typ, r.Types())
	}
	return s.Validate(settings)
}

// Send sends d over ch with the sender of ch's type. An unknown type fails
// the delivery for good: no later attempt would know it either.
func (r *Registry) Send(ctx context.Context, d Delivery, ch Channel) Result {
	s, ok := r.senders[ch.Type]
	if !ok {
		return Result{Outcome: Failed, Error: fmt.Sprintf("no sender for channel type %q", ch.Type)}
	}
	res := s.Send(ctx, d, ch)
	// A last line of defence: whatever a sender (or a library it calls)
	// put into the result, the stored text is scrubbed of the secret.
	res.Error = Scrub(res.Error, ch.Secret)
	res.Reply = Scrub(res.Reply, ch.Secret)
	return res
}

// DecodeSettings decodes a channel's settings into v, refusing unknown
// settings so that a misspelt one is an error instead of silently ignored.
// Empty settings decode as an empty object.
func DecodeSettings(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	return nil
}

// Describe is a one-line, link-free summary of an event for humans, shared
// by the chat, paging and mail formats so that they say the same thing:
//
//	FIRING critical: availability_percent is 97.5 over 5m (threshold "checkout up", monitor "checkout", endpoint "payments")
//
// A burn rate names both windows: "... is 15.2 over 1h and 5m (...".
//
// A channel test's message starts with "TEST ".
func Describe(e Event) string {
	prefix := ""
	if e.Test {
		prefix = "TEST "
	}
	window := e.Window
	if e.ShortWindow != nil {
		window += " and " + *e.ShortWindow
	}
	s := fmt.Sprintf("%s%s %s: %s is %s over %s (threshold %q", prefix, stateWord(e.State), e.Severity, e.Metric, FormatValue(e.Value), window, e.Threshold.Name)
	if e.Monitor != nil {
		s += fmt.Sprintf(", monitor %q", e.Monitor.Name)
	}
	if e.Endpoint != nil {
		s += fmt.Sprintf(", endpoint %q", e.Endpoint.Name)
	}
	return s + ")"
}

func stateWord(s State) string {
	switch s {
	case StateFiring:
		return "FIRING"
	case StateResolved:
		return "RESOLVED"
	}
	return string(s)
}

// FormatValue formats a figure for humans: up to three decimals without
// trailing zeros, "no data" for nil.
func FormatValue(v *float64) string {
	if v == nil {
		return "no data"
	}
	return strconv.FormatFloat(math.Round(*v*1000)/1000, 'f', -1, 64)
}

// TestEvent is the event a channel test (POST
// /v1/notification-channels/{id}/test) sends: a firing warning in the real
// schema, so that the receiver sees exactly the format of a real alert
// and a chat or mail reader sees a message. It is labelled: the
// threshold's ID is empty, its name is "AIO test message", Test is set
// (Describe starts with "TEST ") and there is no value. A PagerDuty
// channel test follows it with its resolution (Resolution), so the test
// incident is opened and closed at once.
func TestEvent(eventID string, now time.Time) Event {
	now = now.UTC().Truncate(time.Second)
	return Event{
		EventID:   eventID,
		State:     StateFiring,
		Severity:  SeverityWarning,
		Threshold: Ref{ID: "", Name: "AIO test message"},
		Metric:    "availability_percent",
		Window:    "5m",
		StartedAt: now,
		Test:      true,
	}
}

// Resolution is the resolved event of a firing one at now: the same
// event ID, threshold, severity and start (so the same PagerDuty
// dedup_key).
func Resolution(e Event, now time.Time) Event {
	now = now.UTC().Truncate(time.Second)
	e.State, e.ResolvedAt = StateResolved, &now
	return e
}
