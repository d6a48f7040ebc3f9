// Package slack sends alert events to a Slack incoming webhook as a Slack
// message: a link-free text summary (what notifications and screen readers
// show) and a coloured attachment whose blocks name the endpoint, the
// monitor, the figure, the threshold and the severity.
//
// The incoming-webhook URL is the channel's secret: whoever has it can post
// to the Slack channel. It is therefore never shown: error text names only
// its scheme and host.
package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
)

// Type is the channel type this package sends.
const Type = "slack"

// Colours of the attachment's bar, as Slack's own apps use them.
const (
	colorCritical = "#d00000"
	colorWarning  = "#f2c744"
	colorResolved = "#2eb886"
)

// Slack's limits on the text of a header block and of a field.
const (
	maxHeader = 150
	maxField  = 2000
)

// Settings are a Slack channel's settings: none, since the webhook URL
// (the secret) names the Slack channel. The type exists so that an unknown
// setting is refused rather than silently ignored.
type Settings struct{}

// Sender sends Slack deliveries.
type Sender struct {
	client *http.Client
}

var _ notify.Sender = (*Sender)(nil)

// New returns a Sender that posts with client (nil: Go's default
// transport; aiod passes a client whose dialer enforces the egress
// policy).
func New(client *http.Client) *Sender { return &Sender{client: client} }

// Validate checks a Slack channel's settings.
func (s *Sender) Validate(raw json.RawMessage) error {
	var st Settings
	return notify.DecodeSettings(raw, &st)
}

// Send posts the event's message to the webhook URL in the channel's
// secret.
func (s *Sender) Send(ctx context.Context, d notify.Delivery, ch notify.Channel) notify.Result {
	if err := s.Validate(ch.Settings); err != nil {
		return notify.Result{Outcome: notify.Failed, Error: "invalid settings: " + err.Error()}
	}
	u, err := url.Parse(string(ch.Secret))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// Neither the URL nor the parse error (which quotes it) is
		// shown.
		return notify.Result{Outcome: notify.Failed, Error: "the channel's secret is not a webhook URL"}
	}
	body, err := json.Marshal(Message(d.Event))
	if err != nil {
		return notify.Result{Outcome: notify.Failed, Error: "encoding the message: " + err.Error()}
	}
	return notify.PostJSON(ctx, s.client, notify.Post{
		URL:     u.String(),
		Show:    u.Scheme + "://" + u.Host + "/[redacted]",
		Body:    body,
		Secrets: secrets(ch.Secret, u),
	})
}

// secrets are the strings scrubbed from results: the URL, and its path
// alone (the part that holds the token) when it is long enough not to be
// common text.
func secrets(secret []byte, u *url.URL) [][]byte {
	out := [][]byte{secret}
	if p := strings.Trim(u.Path, "/"); len(p) >= 8 {
		out = append(out, []byte(p))
	}
	return out
}

// Msg is a Slack message as an incoming webhook takes it.
type Msg struct {
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments"`
	UnfurlLinks bool         `json:"unfurl_links"`
	UnfurlMedia bool         `json:"unfurl_media"`
}

// Attachment is a coloured attachment holding blocks.
type Attachment struct {
	Color  string  `json:"color"`
	Blocks []Block `json:"blocks"`
}

// Block is a Block Kit block (header, section or context).
type Block struct {
	Type     string `json:"type"`
	Text     *Text  `json:"text,omitempty"`
	Fields   []Text `json:"fields,omitempty"`
	Elements []Text `json:"elements,omitempty"`
}

// Text is a Block Kit text object.
type Text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Message renders an event as a Slack message. Every name comes from
// users, so it is escaped (Slack's &, < and > rules): a threshold named
// "<!channel>" must not page a whole channel. Unfurling is off so that a
// runbook link does not grow a preview.
func Message(e notify.Event) Msg {
	color := colorWarning
	switch {
	case e.State == notify.StateResolved:
		color = colorResolved
	case e.Severity == notify.SeverityCritical:
		color = colorCritical
	}
	header := strings.ToUpper(string(e.State)) + " · " + string(e.Severity) + " · " + e.Threshold.Name
	fields := []Text{
		field("Endpoint", refName(e.Endpoint)),
		field("Monitor", refName(e.Monitor)),
		field("Figure", e.Metric+" = "+notify.FormatValue(e.Value)+" over "+e.Window),
		field("Threshold", e.Threshold.Name),
		field("Severity", string(e.Severity)),
		field("Started", stamp(e.StartedAt)),
	}
	if e.ResolvedAt != nil {
		fields = append(fields, field("Resolved", stamp(*e.ResolvedAt)))
	}
	blocks := []Block{
		{Type: "header", Text: &Text{Type: "plain_text", Text: cut(header, maxHeader)}},
		{Type: "section", Fields: fields},
	}
	foot := "event " + escape(e.EventID)
	if e.RunbookURL != nil {
		if link := runbookLink(*e.RunbookURL); link != "" {
			foot = link + " · " + foot
		}
	}
	blocks = append(blocks, Block{Type: "context", Elements: []Text{{Type: "mrkdwn", Text: foot}}})
	return Msg{
		Text:        escape(notify.Describe(e)),
		Attachments: []Attachment{{Color: color, Blocks: blocks}},
	}
}

func field(label, value string) Text {
	return Text{Type: "mrkdwn", Text: cut("*"+label+"*\n"+escape(value), maxField)}
}

func refName(r *notify.Ref) string {
	if r == nil {
		return "—"
	}
	return r.Name
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// runbookLink is a Slack link to an http(s) runbook, "" for anything else:
// a javascript: or slack: URL in a threshold must not become a link.
func runbookLink(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(raw, "|<> ") {
		return ""
	}
	return "<" + strings.ReplaceAll(raw, "&", "&amp;") + "|Runbook>"
}

// escape applies Slack's escaping of control characters in text.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
