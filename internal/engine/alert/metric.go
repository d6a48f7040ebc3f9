package alert

import (
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/stats"
)

// Metric names a figure a threshold can watch. The windowed ones are
// computed from the rollup of the threshold's window exactly as
// stats.Status computes the figures of GET /v1/monitors/{id}/status, so a
// threshold and the status page never disagree.
type Metric string

// The metrics.
const (
	// AvailabilityPercent is (up + degraded) / probes · 100 over the window.
	AvailabilityPercent Metric = "availability_percent"
	// ErrorRatePercent is down / probes · 100 over the window.
	ErrorRatePercent Metric = "error_rate_percent"
	// RetryRatePercent is the share of probes that needed more than one
	// attempt, · 100, over the window.
	RetryRatePercent Metric = "retry_rate_percent"
	// LatencyAvgMS is the mean total latency in milliseconds of the probes
	// of the window that reached the network.
	LatencyAvgMS Metric = "latency_avg_ms"
	// LatencyP95MS is the nearest-rank 95th percentile of those latencies
	// (log buckets, within 1 % relative error).
	LatencyP95MS Metric = "latency_p95_ms"
	// LatencyP99MS is the nearest-rank 99th percentile of those latencies.
	LatencyP99MS Metric = "latency_p99_ms"
	// ProbesPerMinute is probes / window minutes: it falls when probes are
	// missed (a probe still running when next due) or a monitor stalls.
	ProbesPerMinute Metric = "probes_per_minute"
	// ConsecutiveFailures is the number of the latest probes, newest
	// first, whose outcome is down, up to the first that is not. It is not
	// windowed: a failure streak is the same whatever the window.
	ConsecutiveFailures Metric = "consecutive_failures"
	// TLSCertExpiresInDays is the time until the certificate the latest
	// TLS probe saw expires, in days (fractional; negative once expired).
	TLSCertExpiresInDays Metric = "tls_cert_expires_in_days"
	// CredentialExpiresInDays is the time until the earlier of a
	// credential's expires_at and rotation_due_at, in days (fractional;
	// negative once past).
	CredentialExpiresInDays Metric = "credential_expires_in_days" //nolint:gosec // G101: a metric name, not a credential.
	// ErrorBudgetBurnRate is how fast the SLO's error budget is spent: the
	// error ratio (down / probes) of a window divided by the budget
	// (1 − objective). 1 spends exactly the budget over the SLO period;
	// 14.4 spends 2 % of a 30-day budget in an hour. It is evaluated over
	// the rule's burn-rate pairs, not over Rule.Window.
	ErrorBudgetBurnRate Metric = "error_budget_burn_rate"
)

// Metrics lists every metric, in the order the docs present them.
var Metrics = []Metric{
	AvailabilityPercent, ErrorRatePercent, RetryRatePercent,
	LatencyAvgMS, LatencyP95MS, LatencyP99MS, ProbesPerMinute,
	ConsecutiveFailures, TLSCertExpiresInDays, CredentialExpiresInDays,
	ErrorBudgetBurnRate,
}

// metricList is Metrics for error messages.
var metricList = func() string {
	s := make([]string, len(Metrics))
	for i, m := range Metrics {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}()

// Valid tells whether m is one of Metrics.
func (m Metric) Valid() bool {
	for _, k := range Metrics {
		if m == k {
			return true
		}
	}
	return false
}

// Windowed tells whether m is computed from the rollup of Rule.Window
// (FromRollup computes it); the others are computed from the latest outcomes,
// from expiry times, or over burn-rate pairs.
func (m Metric) Windowed() bool {
	switch m {
	case AvailabilityPercent, ErrorRatePercent, RetryRatePercent,
		LatencyAvgMS, LatencyP95MS, LatencyP99MS, ProbesPerMinute:
		return true
	}
	return false
}

// FromRollup computes a windowed metric from the rollup of a window of the
// given length. ok is false when the figure has no value — the window holds
// no probes (or no latencies), or window is not positive for
// probes_per_minute — and for metrics that are not windowed. It returns
// a value, not a pointer, so that evaluating thousands of thresholds does
// not allocate; pass &v to Evaluate.
func FromRollup(m Metric, r *stats.Rollup, window time.Duration) (v float64, ok bool) {
	if r.Probes == 0 {
		return 0, false
	}
	n := float64(r.Probes)
	switch m {
	case AvailabilityPercent:
		return float64(r.Up+r.Degraded) / n * 100, true
	case ErrorRatePercent:
		return float64(r.Down) / n * 100, true
	case RetryRatePercent:
		return float64(r.Retried) / n * 100, true
	case LatencyAvgMS, LatencyP95MS, LatencyP99MS:
		c := r.Latency.Count()
		if c == 0 {
			return 0, false
		}
		switch m {
		case LatencyP95MS:
			return r.Latency.Quantile(0.95), true
		case LatencyP99MS:
			return r.Latency.Quantile(0.99), true
		}
		return r.LatencySumMS / float64(c), true
	case ProbesPerMinute:
		if window <= 0 {
			return 0, false
		}
		return n / window.Minutes(), true
	}
	return 0, false
}

// ConsecutiveFailuresOf counts the down outcomes at the head of outcomes,
// which are the latest probe outcomes, newest first (api.OutcomeUp,
// OutcomeDegraded, OutcomeDown). Degraded is not a failure, as it counts
// as available. ok is false when there are no outcomes. The count cannot
// exceed len(outcomes), so the caller reads at least one more outcome than
// the largest value it compares with.
func ConsecutiveFailuresOf(outcomes []string) (v float64, ok bool) {
	if len(outcomes) == 0 {
		return 0, false
	}
	n := 0
	for _, o := range outcomes {
		if o != api.OutcomeDown {
			break
		}
		n++
	}
	return float64(n), true
}

// NextConsecutiveFailures updates a failure streak with one new outcome, for
// a caller that follows the stream of results instead of reading the latest
// ones back: it is prev + 1 for down and 0 otherwise.
func NextConsecutiveFailures(prev float64, outcome string) float64 {
	if outcome == api.OutcomeDown {
		return prev + 1
	}
	return 0
}

// day is the unit of the expiry metrics.
const day = 24 * time.Hour

// DaysUntil returns the time from now until at, in days (fractional,
// negative when at is past). ok is false when at is nil (unknown).
func DaysUntil(now time.Time, at *time.Time) (v float64, ok bool) {
	if at == nil {
		return 0, false
	}
	return float64(at.Sub(now)) / float64(day), true
}

// TLSCertExpiresIn computes tls_cert_expires_in_days from the certificate
// expiry the latest TLS probe saw (api.ProbeResult.TLSCertExpiresAt).
func TLSCertExpiresIn(now time.Time, certExpiresAt *time.Time) (v float64, ok bool) {
	return DaysUntil(now, certExpiresAt)
}

// CredentialExpiresIn computes credential_expires_in_days from a
// credential's expires_at and rotation_due_at: the days until the earlier of
// the two that is known, since a secret due for rotation is as much a
// problem as one that expires (the key-rotation practice).
func CredentialExpiresIn(now time.Time, expiresAt, rotationDueAt *time.Time) (v float64, ok bool) {
	at := expiresAt
	if rotationDueAt != nil && (at == nil || rotationDueAt.Before(*at)) {
		at = rotationDueAt
	}
	return DaysUntil(now, at)
}

// BurnRate computes the error-budget burn rate of a window from its rollup:
// (down / probes) / budget, where budget is 1 − objective as a ratio
// (SLO.Budget). ok is false when the window holds no probes or the budget is
// not positive.
func BurnRate(r *stats.Rollup, budget float64) (v float64, ok bool) {
	if r.Probes == 0 || !(budget > 0) {
		return 0, false
	}
	return float64(r.Down) / float64(r.Probes) / budget, true
}
