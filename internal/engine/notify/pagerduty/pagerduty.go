// Package pagerduty sends alert events to PagerDuty's Events API v2: a
// firing event triggers an incident, a resolved one resolves it. The
// channel's secret is the integration's routing key; the events URL is a
// setting (PagerDuty's by default) so that EU accounts, proxies and tests
// can point elsewhere.
package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
)

// Type is the channel type this package sends.
const Type = "pagerduty"

// DefaultEventsURL is PagerDuty's Events API v2 endpoint.
const DefaultEventsURL = "https://events.pagerduty.com/v2/enqueue"

// maxSummary is PagerDuty's limit on payload.summary.
const maxSummary = 1024

// Settings are a PagerDuty channel's settings.
type Settings struct {
	// EventsURL is where events are sent; DefaultEventsURL when empty.
	EventsURL string `json:"events_url,omitempty"`
	// Source overrides payload.source (the affected system); by default
	// the endpoint's name, else the monitor's, else "aio".
	Source string `json:"source,omitempty"`
}

// Sender sends PagerDuty deliveries.
type Sender struct {
	client *http.Client
}

var _ notify.Sender = (*Sender)(nil)

// New returns a Sender that posts with client (nil: Go's default
// transport; aiod passes a client whose dialer enforces the egress
// policy).
func New(client *http.Client) *Sender { return &Sender{client: client} }

// Validate checks a PagerDuty channel's settings.
func (s *Sender) Validate(raw json.RawMessage) error {
	_, err := parseSettings(raw)
	return err
}

func parseSettings(raw json.RawMessage) (Settings, error) {
	var st Settings
	if err := notify.DecodeSettings(raw, &st); err != nil {
		return st, err
	}
	if st.EventsURL == "" {
		st.EventsURL = DefaultEventsURL
	}
	u, err := url.Parse(st.EventsURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return st, errors.New("events_url: must be an absolute http or https URL")
	}
	if u.User != nil {
		return st, errors.New("events_url: must not carry user info")
	}
	return st, nil
}

// Event is an Events API v2 event.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload,omitempty"`
	Client      string   `json:"client,omitempty"`
	Links       []Link   `json:"links,omitempty"`
}

// Payload is the description of a triggered event.
type Payload struct {
	Summary       string       `json:"summary"`
	Source        string       `json:"source"`
	Severity      string       `json:"severity"`
	Timestamp     string       `json:"timestamp,omitempty"`
	Component     string       `json:"component,omitempty"`
	Group         string       `json:"group,omitempty"`
	Class         string       `json:"class,omitempty"`
	CustomDetails notify.Event `json:"custom_details"`
}

// Link is a link shown on the incident.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// DedupKey identifies one alert to PagerDuty: the threshold, the severity
// and the alert's start. A firing event and its resolution share it, so the
// resolve closes the incident the trigger opened; a retried trigger (or a
// reminder) is merged into the open incident instead of paging again; and
// the next alert of the same threshold, starting later, opens a new one.
// A channel test's message (and its resolution) is keyed by its event ID,
// "aio/test/<event ID>", so it never touches a real alert's incident.
func DedupKey(e notify.Event) string {
	if e.Test {
		return "aio/test/" + e.EventID
	}
	return "aio/" + e.Threshold.ID + "/" + string(e.Severity) + "/" + strconv.FormatInt(e.StartedAt.Unix(), 10)
}

// Build renders the Events API v2 event for e, with routingKey.
func Build(e notify.Event, routingKey, source string) Event {
	ev := Event{RoutingKey: routingKey, DedupKey: DedupKey(e)}
	if e.State == notify.StateResolved {
		// A resolve needs only the key; PagerDuty ignores a payload.
		ev.EventAction = "resolve"
		return ev
	}
	ev.EventAction = "trigger"
	ev.Client = "AIO"
	if source == "" {
		switch {
		case e.Endpoint != nil:
			source = e.Endpoint.Name
		case e.Monitor != nil:
			source = e.Monitor.Name
		default:
			source = "aio"
		}
	}
	p := &Payload{
		Summary:       cut(notify.Describe(e), maxSummary),
		Source:        source,
		Severity:      severity(e.Severity),
		Timestamp:     e.StartedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		Class:         e.Metric,
		CustomDetails: e,
	}
	if e.Monitor != nil {
		p.Component = e.Monitor.Name
	}
	if e.Endpoint != nil {
		p.Group = e.Endpoint.Name
	}
	ev.Payload = p
	if e.RunbookURL != nil {
		if u, err := url.Parse(*e.RunbookURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			ev.Links = []Link{{Href: *e.RunbookURL, Text: "Runbook"}}
		}
	}
	return ev
}

// severity maps a threshold level to PagerDuty's severities (critical,
// error, warning, info).
func severity(s notify.Severity) string {
	if s == notify.SeverityCritical {
		return "critical"
	}
	return "warning"
}

// Send posts the event to the events URL. PagerDuty answers 202 when it
// accepted the event, 400 when it is invalid (not retried) and 429 when
// the routing key is over its rate (retried).
func (s *Sender) Send(ctx context.Context, d notify.Delivery, ch notify.Channel) notify.Result {
	st, err := parseSettings(ch.Settings)
	if err != nil {
		return notify.Result{Outcome: notify.Failed, Error: "invalid settings: " + err.Error()}
	}
	if len(ch.Secret) == 0 {
		return notify.Result{Outcome: notify.Failed, Error: "the channel has no routing key"}
	}
	body, err := json.Marshal(Build(d.Event, string(ch.Secret), st.Source))
	if err != nil {
		return notify.Result{Outcome: notify.Failed, Error: "encoding the event: " + err.Error()}
	}
	return notify.PostJSON(ctx, s.client, notify.Post{
		URL:     st.EventsURL,
		Show:    notify.ShowURL(st.EventsURL),
		Body:    body,
		Secrets: [][]byte{ch.Secret},
	})
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s[:n-len("…")])
	if len(r) > 0 && r[len(r)-1] == '\uFFFD' {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
