package api

import "time"

// The states of an alert, one machine per threshold and severity. An alert
// goes ok → pending → firing → resolved → ok (see internal/engine/alert,
// whose State values these are).
const (
	AlertOK       = "ok"
	AlertPending  = "pending"
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// AlertStates lists every state an alert event can name.
var AlertStates = []string{AlertOK, AlertPending, AlertFiring, AlertResolved}

// CurrentAlertStates lists the states that GET /v1/alerts lists: an alert
// that is ok is no alert, and resolved lasts only until the next evaluation.
var CurrentAlertStates = []string{AlertPending, AlertFiring}

// The severities of an alert, least severe first.
const (
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Severities lists every severity.
var Severities = []string{SeverityWarning, SeverityCritical}

// The states of a delivery of an alert event to one channel.
const (
	// DeliveryPending: not yet acknowledged by the receiver; sent when
	// next_attempt_at is due.
	DeliveryPending = "pending"
	// DeliveryDelivered: the receiver acknowledged it. Never sent again.
	DeliveryDelivered = "delivered"
	// DeliveryFailed: every attempt failed until the delivery gave up.
	DeliveryFailed = "failed"
	// DeliveryCancelled: no longer to be sent, as its channel was disabled.
	DeliveryCancelled = "cancelled"
)

// DeliveryStates lists every delivery state.
var DeliveryStates = []string{DeliveryPending, DeliveryDelivered, DeliveryFailed, DeliveryCancelled}

// Alert is the current state of one severity of one alert threshold, as
// GET /v1/alerts lists it.
type Alert struct {
	ThresholdID string `json:"threshold_id"`
	Severity    string `json:"severity"`
	State       string `json:"state"`
	// Value is the figure of the latest stored evaluation, null when
	// there was none (no data).
	Value *float64 `json:"value"`
	// StartedAt is when the alert went pending, or, once firing, when it
	// fired.
	StartedAt *time.Time `json:"started_at"`
	// Since is when the alert entered its state.
	Since time.Time `json:"since"`
}

// AlertEvent is one transition of an alert (or a reminder of a firing
// one), as GET /v1/alert-events lists it. It keeps the threshold's name and
// runbook and the monitor and endpoint it watched, with their names, as
// they were at the time, so that the event (and the notifications made
// from it, retried for hours) still reads right after any of them is
// renamed or deleted.
type AlertEvent struct {
	ID            string  `json:"id"`
	ThresholdID   string  `json:"threshold_id"`
	ThresholdName string  `json:"threshold_name"`
	MonitorID     *string `json:"monitor_id"`
	MonitorName   *string `json:"monitor_name"`
	EndpointID    *string `json:"endpoint_id"`
	EndpointName  *string `json:"endpoint_name"`
	RunbookURL    *string `json:"runbook_url"`
	Severity      string  `json:"severity"`
	FromState     string  `json:"from_state"`
	ToState       string  `json:"to_state"`
	// Metric and Window are the threshold's at the time; Window is null
	// for a metric that is not computed over a window. For
	// error_budget_burn_rate, Window is the long window of the pair of
	// windows behind the value, LongWindow repeats it and ShortWindow is
	// the pair's short window ("1h", "1h", "5m"); LongWindow and
	// ShortWindow are null for every other metric.
	Metric      string  `json:"metric"`
	Window      *string `json:"window"`
	LongWindow  *string `json:"long_window"`
	ShortWindow *string `json:"short_window"`
	// Value is the figure the evaluation saw, null when there was none.
	Value *float64 `json:"value"`
	// At is the time of the evaluation.
	At time.Time `json:"at"`
	// StartedAt is when the episode began (see alert.Transition); null for
	// the return to ok after a resolution.
	StartedAt *time.Time `json:"started_at"`
	// ResolvedAt is set on the transition to resolved.
	ResolvedAt *time.Time `json:"resolved_at"`
	// Reason says why a transition was not the figure's doing, such as
	// "threshold changed" or "threshold deleted"; null otherwise.
	Reason *string `json:"reason"`
	// Reminder marks a re-notification of a firing alert.
	Reminder bool `json:"reminder"`
}

// Delivery is the sending of one alert event to one notification channel,
// through the outbox, as GET /v1/deliveries lists it. Its ID is the
// AIO-Delivery-Id header receivers deduplicate by.
type Delivery struct {
	ID        string `json:"id"`
	EventID   string `json:"event_id"`
	ChannelID string `json:"channel_id"`
	State     string `json:"state"`
	// Attempts counts the attempts made so far.
	Attempts int `json:"attempts"`
	// NextAttemptAt is when a pending delivery is sent next; null once it
	// is no longer pending.
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	// LastStatus is the receiver's answer to the latest attempt: an HTTP
	// status, or an SMTP reply code; null when there was no answer.
	LastStatus *int `json:"last_status"`
	// LastError says, shortly, why the latest attempt failed. It never
	// carries a secret.
	LastError      *string    `json:"last_error"`
	LastDurationMS *int64     `json:"last_duration_ms"`
	CreatedAt      time.Time  `json:"created_at"`
	DeliveredAt    *time.Time `json:"delivered_at"`
}

// DeliveryAttempt is one attempt to send a delivery.
type DeliveryAttempt struct {
	DeliveryID string    `json:"delivery_id"`
	At         time.Time `json:"at"`
	// Status is the receiver's answer, null when there was none
	// (connection refused, timeout).
	Status     *int    `json:"status"`
	DurationMS int64   `json:"duration_ms"`
	Error      *string `json:"error"`
}
