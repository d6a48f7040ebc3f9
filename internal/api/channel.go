package api

import (
	"fmt"
	"maps"
	"net/mail"
	"net/url"
	"slices"
	"strings"
)

// KindChannel names notification channels in audit events.
const KindChannel = "notification_channel"

// Notification channel types.
const (
	ChannelWebhook   = "webhook"
	ChannelSlack     = "slack"
	ChannelPagerDuty = "pagerduty"
	ChannelEmail     = "email"
)

// ChannelTypes lists every notification channel type.
var ChannelTypes = []string{ChannelWebhook, ChannelSlack, ChannelPagerDuty, ChannelEmail}

// ChannelSecretTypes lists the channel types that carry a secret: the
// webhook's signing secret, Slack's incoming-webhook URL and PagerDuty's
// routing key. An email channel has none (the SMTP server is aiod's).
var ChannelSecretTypes = []string{ChannelWebhook, ChannelSlack, ChannelPagerDuty}

// DefaultPagerDutyEventsURL is where a pagerduty channel that names no
// events_url sends its events. It is applied when sending, never stored,
// so that what the provider planned is what comes back.
const DefaultPagerDutyEventsURL = "https://events.pagerduty.com/v2/enqueue"

// Limits of a notification channel's settings.
const (
	MaxChannelHeaders    = 20
	MaxEmailRecipients   = 50
	MaxChannelURL        = 2048
	MaxEmailAddressBytes = 254
)

// NotificationChannel is where alerts are sent: a signed webhook, a Slack
// incoming webhook, PagerDuty's Events API v2 or email. The settings of
// each type are fields of their own, set only for that type. The secret
// is write-only, as a credential's: accepted on create and update (left
// out of a PUT, it is unchanged) and never returned.
type NotificationChannel struct {
	Meta
	Name        string  `json:"name"`
	Type        string  `json:"type"`
	Description *string `json:"description"`
	// Enabled: a disabled channel receives nothing (default true).
	Enabled *bool `json:"enabled"`
	// SendResolved: the channel is also told when an alert resolves
	// (default true).
	SendResolved *bool             `json:"send_resolved"`
	Tags         map[string]string `json:"tags"`
	// URL (webhook) is where deliveries are POSTed.
	URL *string `json:"url"`
	// Headers (webhook) are sent with every delivery.
	Headers map[string]string `json:"headers"`
	// EventsURL (pagerduty) overrides DefaultPagerDutyEventsURL.
	EventsURL *string `json:"events_url"`
	// To (email) are the recipients, a set of addresses.
	To []string `json:"to"`
	// Secret is write-only: never set in a response.
	Secret *string `json:"secret,omitempty"`
	// SecretRevision counts secret changes (computed); 0 for a channel
	// without a secret.
	SecretRevision int64 `json:"secret_revision,omitempty"`
}

// IsEnabled tells whether the channel receives deliveries (the default is
// yes).
func (c *NotificationChannel) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }

// HasSecret tells whether channels of the given type carry a secret.
func HasSecret(channelType string) bool { return slices.Contains(ChannelSecretTypes, channelType) }

// Normalize applies the defaults that the provider plans as well.
func (c *NotificationChannel) Normalize() {
	t := true
	if c.Enabled == nil {
		c.Enabled = &t
	}
	if c.SendResolved == nil {
		c.SendResolved = &t
	}
}

// Validate checks a channel as received. creating tells whether a secret
// is required (on create) or may be left out (on update, unchanged); the
// server requires one too when an update changes the type.
func (c *NotificationChannel) Validate(creating bool) []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	errs = append(errs, ValidateName("name", c.Name)...)
	errs = append(errs, validateDescription("description", c.Description)...)
	errs = append(errs, ValidateTags("tags", c.Tags)...)
	if !slices.Contains(ChannelTypes, c.Type) {
		add("type", "must be one of "+strings.Join(ChannelTypes, ", "))
	}
	// Settings of another type are refused rather than ignored: ignoring
	// them would store what the provider did not plan.
	known := slices.Contains(ChannelTypes, c.Type)
	only := func(field string, set bool, typ string) {
		// Against an unknown type only the type's own error is reported.
		if set && known && c.Type != typ {
			add(field, "is only valid for type "+typ)
		}
	}
	only("url", c.URL != nil, ChannelWebhook)
	only("headers", c.Headers != nil, ChannelWebhook)
	only("events_url", c.EventsURL != nil, ChannelPagerDuty)
	only("to", c.To != nil, ChannelEmail)
	if c.Type == ChannelWebhook && c.URL == nil {
		add("url", "is required for type webhook")
	}
	if c.URL != nil {
		if msg := HTTPURLProblem(*c.URL); msg != "" {
			add("url", msg)
		}
	}
	if c.EventsURL != nil {
		if msg := HTTPURLProblem(*c.EventsURL); msg != "" {
			add("events_url", msg)
		}
	}
	errs = append(errs, ValidateChannelHeaders("headers", c.Headers)...)
	if c.Type == ChannelEmail {
		errs = append(errs, ValidateEmailRecipients("to", c.To)...)
	}
	errs = append(errs, c.validateSecret(creating)...)
	return errs
}

// validateSecret checks the secret against the type: required on create
// for the types that carry one, refused for email, and for slack an https
// URL (the incoming webhook). The secret itself is never echoed in a
// message.
func (c *NotificationChannel) validateSecret(creating bool) []FieldError {
	fe := func(msg string) []FieldError { return []FieldError{{Field: "secret", Message: msg}} }
	switch {
	case c.Secret == nil && creating && HasSecret(c.Type):
		return fe("is required for type " + c.Type)
	case c.Secret == nil:
		return nil
	case c.Type == ChannelEmail:
		return fe("is not valid for type email, which has no secret")
	}
	if msg := ChannelSecretProblem(c.Type, *c.Secret); msg != "" {
		return fe(msg)
	}
	return nil
}

// ChannelSecretProblem returns why secret cannot be the secret of a
// channel of type typ (one that has a secret), or "". The message never
// quotes the secret. The provider asks it at plan time.
func ChannelSecretProblem(typ, secret string) string {
	switch {
	case secret == "" || len(secret) > MaxSecret:
		return fmt.Sprintf("must be 1 to %d characters", MaxSecret)
	case HasForbiddenRune(secret, false):
		return ControlMessage
	case typ == ChannelSlack:
		return SlackWebhookProblem(secret)
	}
	return ""
}

// SlackWebhookProblem returns why a slack channel's secret is not an
// incoming-webhook URL (an absolute https URL), or "". The message never
// quotes the secret.
func SlackWebhookProblem(s string) string {
	if u, err := url.Parse(s); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return "must be a Slack incoming-webhook URL: an absolute https URL"
	}
	return ""
}

// HTTPURLProblem returns why raw is not an absolute http or https URL with
// a host and without user information, or "".
func HTTPURLProblem(raw string) string {
	if raw == "" {
		return EmptyMessage
	}
	if len(raw) > MaxChannelURL {
		return fmt.Sprintf("must be at most %d characters", MaxChannelURL)
	}
	if HasForbiddenRune(raw, false) {
		return ControlMessage
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an absolute http or https URL"
	}
	if u.User != nil {
		return "must not carry user information"
	}
	return ""
}

// ValidateChannelHeaders checks a webhook's headers: lower-case names, no
// authorization header (a receiver verifies the AIO-Signature instead), no
// header that aiod sets itself, and values without control characters.
func ValidateChannelHeaders(field string, headers map[string]string) []FieldError {
	var errs []FieldError
	if len(headers) > MaxChannelHeaders {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf("must hold at most %d headers", MaxChannelHeaders)})
	}
	for _, k := range slices.Sorted(maps.Keys(headers)) {
		if msg := ChannelHeaderProblem(k, headers[k]); msg != "" {
			errs = append(errs, FieldError{Field: field + "." + k, Message: msg})
		}
	}
	return errs
}

// ReservedChannelHeaders are the headers a webhook channel may not set:
// aiod sets them on every delivery, or they change how the request is
// framed, routed or authenticated. Every header that starts with "aio-" is
// aiod's own too (IsReservedChannelHeader). The API refuses them when a
// channel is written and the webhook sender when it sends, from this one
// list: a channel the API accepts is one the sender sends.
var ReservedChannelHeaders = []string{"authorization", "proxy-authorization", "cookie", "content-type", "content-length",
	"content-encoding", "transfer-encoding", "connection", "host", "te", "trailer", "upgrade", "keep-alive", "user-agent",
	"aio-signature", "aio-delivery-id", "aio-event-id"}

// IsReservedChannelHeader tells whether a channel may not set the header of
// that lower-case name.
func IsReservedChannelHeader(lower string) bool {
	return slices.Contains(ReservedChannelHeaders, lower) || strings.HasPrefix(lower, "aio-")
}

// ChannelHeaderProblem returns why a webhook header is refused, or "".
func ChannelHeaderProblem(name, value string) string {
	switch {
	case !HeaderNameRegexp.MatchString(name):
		return "header names must be lower-case HTTP header names, as in x-team"
	case name == "authorization":
		return "is refused: receivers authenticate deliveries by their AIO-Signature, made with the channel's secret"
	case strings.HasPrefix(name, "aio-"):
		return "is refused: AIO- headers are aiod's own"
	case IsReservedChannelHeader(name):
		return "is set by aiod on every delivery, or changes how the delivery is sent, and cannot be set by a channel"
	case !HeaderValueRegexp.MatchString(value):
		return HeaderValueMessage
	case len(value) > MaxShortText*4:
		return fmt.Sprintf("values must be at most %d characters", MaxShortText*4)
	}
	return ""
}

// ValidateEmailRecipients checks an email channel's recipients: 1 to 50
// distinct plain addresses (as in ops@example.com, without a display
// name), each read with net/mail.
func ValidateEmailRecipients(field string, to []string) []FieldError {
	if len(to) == 0 || len(to) > MaxEmailRecipients {
		return []FieldError{{Field: field, Message: fmt.Sprintf("must hold 1 to %d addresses for type email", MaxEmailRecipients)}}
	}
	var errs []FieldError
	seen := map[string]bool{}
	for i, a := range to {
		f := fmt.Sprintf("%s.%d", field, i)
		if msg := EmailAddressProblem(a); msg != "" {
			errs = append(errs, FieldError{Field: f, Message: msg})
		} else if seen[a] {
			errs = append(errs, FieldError{Field: f, Message: "is repeated; recipients are a set"})
		}
		seen[a] = true
	}
	return errs
}

// EmailAddressProblem returns why s is not a plain email address, or "".
func EmailAddressProblem(s string) string {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" || len(s) > MaxEmailAddressBytes {
		return "must be a plain email address, as in ops@example.com"
	}
	return ""
}

// ChannelTestResult is the answer of POST /v1/notification-channels/{id}/test:
// how the receiver took a test message sent through the channel now. It
// never carries the channel's secret.
type ChannelTestResult struct {
	// Outcome is delivered, retry (another attempt may succeed) or failed.
	Outcome string `json:"outcome"`
	// Status is the receiver's HTTP status or SMTP reply code, null when
	// there was no answer (a refused connection, a timeout).
	Status *int `json:"status"`
	// Reply is a short excerpt of the receiver's answer.
	Reply string `json:"reply"`
	// Error says why the message was not delivered, null when it was.
	Error      *string `json:"error"`
	DurationMS int64   `json:"duration_ms"`
	// EventID and DeliveryID are the IDs the test message carried (as
	// AIO-Event-Id and AIO-Delivery-Id for a webhook); they are not stored.
	EventID    string `json:"event_id"`
	DeliveryID string `json:"delivery_id"`
}
