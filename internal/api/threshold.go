package api

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// KindThreshold names alert thresholds in audit events.
const KindThreshold = "alert_threshold"

// Threshold metrics: the health figures a threshold can watch.
const (
	MetricAvailability       = "availability_percent"
	MetricErrorRate          = "error_rate_percent"
	MetricRetryRate          = "retry_rate_percent"
	MetricLatencyAvg         = "latency_avg_ms"
	MetricLatencyP95         = "latency_p95_ms"
	MetricLatencyP99         = "latency_p99_ms"
	MetricProbesPerMinute    = "probes_per_minute"
	MetricConsecutiveFailure = "consecutive_failures"
	MetricTLSCertExpiry      = "tls_cert_expires_in_days"
	MetricCredentialExpiry   = "credential_expires_in_days" //nolint:gosec // G101: a metric name, not a credential.
	MetricBurnRate           = "error_budget_burn_rate"
)

// ThresholdMetrics lists every metric, in the order the docs show them.
var ThresholdMetrics = []string{MetricAvailability, MetricErrorRate, MetricRetryRate, MetricLatencyAvg, MetricLatencyP95,
	MetricLatencyP99, MetricProbesPerMinute, MetricConsecutiveFailure, MetricTLSCertExpiry, MetricCredentialExpiry, MetricBurnRate}

// WindowMetrics are the metrics computed over a window, which they need;
// the others are a state at the time of evaluation (the current run of
// failures, days to an expiry) or, for the burn rate, have windows of
// their own.
var WindowMetrics = []string{MetricAvailability, MetricErrorRate, MetricRetryRate, MetricLatencyAvg, MetricLatencyP95,
	MetricLatencyP99, MetricProbesPerMinute}

// PercentMetrics are the metrics whose values are percentages (0 to 100).
var PercentMetrics = []string{MetricAvailability, MetricErrorRate, MetricRetryRate}

// Threshold comparisons: the value fires when the figure is above (or
// below) it.
const (
	CompareAbove = "above"
	CompareBelow = "below"
)

// ThresholdComparisons lists every comparison.
var ThresholdComparisons = []string{CompareAbove, CompareBelow}

// No-data policies: what a threshold is when its window has no figure.
const (
	NoDataOK       = "ok"
	NoDataAlerting = "alerting"
	NoDataKeepLast = "keep_last"
)

// NoDataPolicies lists every no-data policy.
var NoDataPolicies = []string{NoDataOK, NoDataAlerting, NoDataKeepLast}

// The severities of an alert (SeverityWarning, SeverityCritical and
// Severities) are in alerting.go.

// Threshold limits and defaults. The defaults the provider plans too are
// applied by Normalize; the default burn-rate windows are applied when the
// threshold is evaluated, never stored.
const (
	DefaultPendingFor  = "0s"
	DefaultRecoveryFor = "0s"
	DefaultNoData      = NoDataOK
	MinThresholdWindow = time.Minute
	MaxThresholdWindow = 90 * 24 * time.Hour
	// MaxHoldDuration bounds pending_for, recovery_for and
	// reminder_interval.
	MaxHoldDuration      = 7 * 24 * time.Hour
	MinReminderInterval  = time.Minute
	MaxThresholdChannels = 20
	MaxBurnRateWindows   = 10
	MinSLOPeriod         = 24 * time.Hour
	MaxSLOPeriod         = 90 * 24 * time.Hour
	MaxBurnRateFactor    = 1000
)

// AlertThreshold turns a health figure of a monitor, or of all the
// monitors of an endpoint together, into alerts of two severities, sent to
// notification channels.
type AlertThreshold struct {
	Meta
	Name string `json:"name"`
	// MonitorID or EndpointID (exactly one) is what the figure is
	// computed over: one monitor, or every monitor of the endpoint.
	MonitorID  *string `json:"monitor_id"`
	EndpointID *string `json:"endpoint_id"`
	Metric     string  `json:"metric"`
	// Comparison, Warning and Critical (at least one of the two) say when
	// the figure is bad; none is used by error_budget_burn_rate.
	Comparison *string  `json:"comparison"`
	Warning    *float64 `json:"warning"`
	Critical   *float64 `json:"critical"`
	// Window is the span the figure is computed over (window metrics
	// only), a duration from 1m to 90d.
	Window *string `json:"window"`
	// PendingFor is how long the condition must hold before the alert
	// fires (default "0s").
	PendingFor *string `json:"pending_for"`
	// RecoveryFor is how long the condition must be clear before the
	// alert resolves (default "0s").
	RecoveryFor *string `json:"recovery_for"`
	// RecoveryWarning and RecoveryCritical are the hysteresis: an alert
	// resolves only once the figure is past them, on the clear side of
	// their value.
	RecoveryWarning  *float64 `json:"recovery_warning"`
	RecoveryCritical *float64 `json:"recovery_critical"`
	// NoData is what a window without a figure counts as (default ok).
	NoData string `json:"no_data,omitempty"`
	// ReminderInterval re-notifies while an alert fires; nil never does.
	ReminderInterval *string `json:"reminder_interval"`
	// ChannelIDs are the notification channels told, a set.
	ChannelIDs  []string          `json:"channel_ids"`
	Enabled     *bool             `json:"enabled"`
	Tags        map[string]string `json:"tags"`
	RunbookURL  *string           `json:"runbook_url"`
	Description *string           `json:"description"`
	// SLO and BurnRateWindows (error_budget_burn_rate only) say how fast
	// the error budget may burn; nil windows are DefaultBurnRateWindows.
	SLO             *SLO             `json:"slo"`
	BurnRateWindows []BurnRateWindow `json:"burn_rate_windows"`
}

// SLO is a service level objective: the share of good probes over a
// period that the error budget is computed from.
type SLO struct {
	// ObjectivePercent is the target availability, above 0 and below 100,
	// such as 99.9.
	ObjectivePercent float64 `json:"objective_percent"`
	// Period is the SLO's period, a duration from 1d to 90d, such as
	// "720h" (30 days).
	Period string `json:"period"`
}

// BurnRateWindow is one multiwindow burn-rate condition: it fires at its
// severity when both the long and the short window burn the error budget
// faster than factor times the rate that would spend it exactly over the
// SLO period.
type BurnRateWindow struct {
	LongWindow  string  `json:"long_window"`
	ShortWindow string  `json:"short_window"`
	Factor      float64 `json:"factor"`
	Severity    string  `json:"severity"`
}

// DefaultBurnRateWindows are the multiwindow pairs of the Google SRE
// workbook, used when a burn-rate threshold names none: they are applied
// when the threshold is evaluated, never stored.
var DefaultBurnRateWindows = []BurnRateWindow{
	{LongWindow: "1h", ShortWindow: "5m", Factor: 14.4, Severity: SeverityCritical},
	{LongWindow: "6h", ShortWindow: "30m", Factor: 6, Severity: SeverityCritical},
	{LongWindow: "72h", ShortWindow: "6h", Factor: 1, Severity: SeverityWarning},
}

// IsEnabled tells whether the threshold is evaluated (the default is yes).
func (a *AlertThreshold) IsEnabled() bool { return a.Enabled == nil || *a.Enabled }

// Normalize applies the defaults that the provider plans as well.
func (a *AlertThreshold) Normalize() {
	if a.Enabled == nil {
		t := true
		a.Enabled = &t
	}
	if a.PendingFor == nil {
		s := DefaultPendingFor
		a.PendingFor = &s
	}
	if a.RecoveryFor == nil {
		s := DefaultRecoveryFor
		a.RecoveryFor = &s
	}
	if a.NoData == "" {
		a.NoData = DefaultNoData
	}
}

// ParseHoldDuration reads a duration that may be zero ("0s"), the form of
// pending_for and recovery_for: a Go duration from 0 to max.
func ParseHoldDuration(s string, maxDuration time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > maxDuration {
		return 0, fmt.Errorf("must be a duration from 0s to %s, as in 0s, 90s or 5m", fmtDuration(maxDuration))
	}
	return d, nil
}

// durationBetween checks a positive duration between lo and hi.
func durationBetween(field, s string, lo, hi time.Duration) []FieldError {
	d, err := ParseDuration(s)
	if err != nil {
		return []FieldError{{Field: field, Message: err.Error()}}
	}
	if d < lo || d > hi {
		return []FieldError{{Field: field, Message: fmt.Sprintf("must be from %s to %s", fmtDuration(lo), fmtDuration(hi))}}
	}
	return nil
}

// fmtDuration renders a limit as people write it: "1m", "24h", "90d".
func fmtDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dh (%dd)", int(d.Hours()), int(d.Hours())/24)
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return d.String()
}

// MetricValueProblem returns why v is not a possible value of metric, or
// "": percentages lie from 0 to 100, counts and times are not negative,
// consecutive failures are a whole number of at least 1.
func MetricValueProblem(metric string, v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "must be a finite number"
	case slices.Contains(PercentMetrics, metric) && (v < 0 || v > 100):
		return "must be a percentage from 0 to 100"
	case metric == MetricConsecutiveFailure && (v < 1 || v != math.Trunc(v)):
		return "must be a whole number of at least 1"
	case (metric == MetricTLSCertExpiry || metric == MetricCredentialExpiry) && v < 0:
		return "must be a number of days of at least 0"
	case v < 0:
		return "must be at least 0"
	}
	return ""
}

// SeverityOrderProblem returns why warning and critical are in the wrong
// order for the comparison, or "": the warning is the less severe side, so
// it is below critical when alerting above, and above it when alerting
// below.
func SeverityOrderProblem(comparison string, warning, critical float64) string {
	switch {
	case comparison == CompareAbove && warning >= critical:
		return fmt.Sprintf("must be below critical (%g): with comparison above, the warning fires first", critical)
	case comparison == CompareBelow && warning <= critical:
		return fmt.Sprintf("must be above critical (%g): with comparison below, the warning fires first", critical)
	}
	return ""
}

// RecoveryProblem returns why a recovery value is not on the clear side of
// the value it recovers from, or "": below it when alerting above, above
// it when alerting below.
func RecoveryProblem(comparison, of string, recovery, value float64) string {
	switch {
	case comparison == CompareAbove && recovery >= value:
		return fmt.Sprintf("must be below %s (%g): with comparison above, the alert resolves once the figure falls below it", of, value)
	case comparison == CompareBelow && recovery <= value:
		return fmt.Sprintf("must be above %s (%g): with comparison below, the alert resolves once the figure rises above it", of, value)
	}
	return ""
}

// Validate checks a threshold as received, cross-field rules included.
// It does not check that the monitor, endpoint and channels exist; the
// server does, inside its write transaction.
func (a *AlertThreshold) Validate() []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	errs = append(errs, ValidateName("name", a.Name)...)
	errs = append(errs, validateDescription("description", a.Description)...)
	errs = append(errs, ValidateTags("tags", a.Tags)...)
	bad := map[string]bool{}
	for _, f := range []struct {
		name string
		v    *string
	}{
		{"monitor_id", a.MonitorID}, {"endpoint_id", a.EndpointID}, {"comparison", a.Comparison}, {"window", a.Window},
		{"pending_for", a.PendingFor}, {"recovery_for", a.RecoveryFor}, {"reminder_interval", a.ReminderInterval},
		{"runbook_url", a.RunbookURL},
	} {
		if fe := validateText(f.name, f.v, 0); fe != nil {
			errs = append(errs, fe...)
			bad[f.name] = true
		}
	}
	switch {
	case a.MonitorID == nil && a.EndpointID == nil:
		add("monitor_id", "set exactly one of monitor_id and endpoint_id")
	case a.MonitorID != nil && a.EndpointID != nil:
		add("endpoint_id", "set exactly one of monitor_id and endpoint_id, not both")
	}
	if a.MonitorID != nil && !bad["monitor_id"] && !strings.HasPrefix(*a.MonitorID, PrefixMonitor) {
		add("monitor_id", "must be a monitor ID, as in mon_...")
	}
	if a.EndpointID != nil && !bad["endpoint_id"] && !strings.HasPrefix(*a.EndpointID, PrefixEndpoint) {
		add("endpoint_id", "must be an endpoint ID, as in ep_...")
	}
	if !slices.Contains(ThresholdMetrics, a.Metric) {
		add("metric", "must be one of "+strings.Join(ThresholdMetrics, ", "))
	} else if a.Metric == MetricBurnRate {
		errs = append(errs, a.validateBurnRate()...)
	} else {
		errs = append(errs, a.validateValues(bad)...)
	}
	if a.PendingFor != nil && !bad["pending_for"] {
		if _, err := ParseHoldDuration(*a.PendingFor, MaxHoldDuration); err != nil {
			add("pending_for", err.Error())
		}
	}
	if a.RecoveryFor != nil && !bad["recovery_for"] {
		if _, err := ParseHoldDuration(*a.RecoveryFor, MaxHoldDuration); err != nil {
			add("recovery_for", err.Error())
		}
	}
	if a.ReminderInterval != nil && !bad["reminder_interval"] {
		errs = append(errs, durationBetween("reminder_interval", *a.ReminderInterval, MinReminderInterval, MaxHoldDuration)...)
	}
	if a.NoData != "" && !slices.Contains(NoDataPolicies, a.NoData) {
		add("no_data", "must be one of "+strings.Join(NoDataPolicies, ", "))
	}
	if a.RunbookURL != nil && !bad["runbook_url"] {
		if msg := HTTPURLProblem(*a.RunbookURL); msg != "" {
			add("runbook_url", msg)
		}
	}
	if len(a.ChannelIDs) > MaxThresholdChannels {
		add("channel_ids", fmt.Sprintf("must hold at most %d channels", MaxThresholdChannels))
	}
	seen := map[string]bool{}
	for i, id := range a.ChannelIDs {
		f := fmt.Sprintf("channel_ids.%d", i)
		switch {
		case !strings.HasPrefix(id, PrefixChannel) || len(id) == len(PrefixChannel):
			add(f, "must be a notification channel ID, as in chan_...")
		case seen[id]:
			add(f, "is repeated; channel_ids is a set")
		}
		seen[id] = true
	}
	return errs
}

// validateValues checks the fields of every metric but the burn rate:
// comparison, warning and critical in the right order, the recovery values
// on their clear side, and the window where the metric has one.
func (a *AlertThreshold) validateValues(bad map[string]bool) []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	if a.SLO != nil {
		add("slo", "is only valid for metric "+MetricBurnRate)
	}
	if a.BurnRateWindows != nil {
		add("burn_rate_windows", "is only valid for metric "+MetricBurnRate)
	}
	cmp := ""
	switch {
	case a.Comparison == nil:
		add("comparison", "is required for metric "+a.Metric)
	case bad["comparison"]:
	case !slices.Contains(ThresholdComparisons, *a.Comparison):
		add("comparison", "must be above or below")
	default:
		cmp = *a.Comparison
	}
	if a.Warning == nil && a.Critical == nil {
		add("critical", "set warning, critical or both")
	}
	okValue := map[string]bool{}
	for _, v := range []struct {
		field string
		v     *float64
	}{{"warning", a.Warning}, {"critical", a.Critical}, {"recovery_warning", a.RecoveryWarning}, {"recovery_critical", a.RecoveryCritical}} {
		if v.v == nil {
			continue
		}
		if msg := MetricValueProblem(a.Metric, *v.v); msg != "" {
			add(v.field, msg)
		} else {
			okValue[v.field] = true
		}
	}
	if cmp != "" && okValue["warning"] && okValue["critical"] {
		if msg := SeverityOrderProblem(cmp, *a.Warning, *a.Critical); msg != "" {
			add("warning", msg)
		}
	}
	recovery := func(field, of string, r, v *float64) {
		switch {
		case r == nil:
		case v == nil:
			add(field, "needs "+of+": it is the value the alert recovers from")
		case cmp != "" && okValue[field] && okValue[of]:
			if msg := RecoveryProblem(cmp, of, *r, *v); msg != "" {
				add(field, msg)
			}
		}
	}
	recovery("recovery_warning", "warning", a.RecoveryWarning, a.Warning)
	recovery("recovery_critical", "critical", a.RecoveryCritical, a.Critical)
	windowed := slices.Contains(WindowMetrics, a.Metric)
	switch {
	case windowed && a.Window == nil:
		add("window", "is required for metric "+a.Metric+": the figure is computed over it")
	case !windowed && a.Window != nil:
		add("window", "is not used by metric "+a.Metric+", which is read at each evaluation; leave it unset")
	case a.Window != nil && !bad["window"]:
		errs = append(errs, durationBetween("window", *a.Window, MinThresholdWindow, MaxThresholdWindow)...)
	}
	return errs
}

// validateBurnRate checks an error_budget_burn_rate threshold: an slo is
// required, its windows (when given) are sound, and the fields of the
// other metrics are not used.
func (a *AlertThreshold) validateBurnRate() []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"comparison", a.Comparison != nil}, {"warning", a.Warning != nil}, {"critical", a.Critical != nil},
		{"recovery_warning", a.RecoveryWarning != nil}, {"recovery_critical", a.RecoveryCritical != nil}, {"window", a.Window != nil},
	} {
		if f.set {
			add(f.name, "is not used by metric "+MetricBurnRate+", which alerts through slo and burn_rate_windows; leave it unset")
		}
	}
	var period time.Duration
	if a.SLO == nil {
		add("slo", "is required for metric "+MetricBurnRate)
	} else {
		if o := a.SLO.ObjectivePercent; math.IsNaN(o) || o <= 0 || o >= 100 {
			add("slo.objective_percent", "must be above 0 and below 100, as in 99.9")
		}
		if fe := durationBetween("slo.period", a.SLO.Period, MinSLOPeriod, MaxSLOPeriod); fe != nil {
			errs = append(errs, fe...)
		} else {
			period, _ = ParseDuration(a.SLO.Period)
		}
	}
	if a.BurnRateWindows == nil {
		// The workbook's pairs read a window of up to 3 days, which a
		// shorter SLO period cannot hold.
		if longest := DefaultBurnRateWindows[len(DefaultBurnRateWindows)-1].LongWindow; period > 0 {
			if d, _ := ParseDuration(longest); period < d {
				add("slo.period", fmt.Sprintf("must be at least %s for the default burn_rate_windows (their longest window), or set burn_rate_windows", longest))
			}
		}
		return errs
	}
	if len(a.BurnRateWindows) == 0 || len(a.BurnRateWindows) > MaxBurnRateWindows {
		add("burn_rate_windows", fmt.Sprintf("must hold 1 to %d windows; leave it unset for the SRE workbook's three", MaxBurnRateWindows))
	}
	for i, w := range a.BurnRateWindows {
		f := fmt.Sprintf("burn_rate_windows.%d", i)
		hi := MaxThresholdWindow
		if period > 0 {
			hi = period
		}
		longErrs := durationBetween(f+".long_window", w.LongWindow, MinThresholdWindow, hi)
		shortErrs := durationBetween(f+".short_window", w.ShortWindow, MinThresholdWindow, hi)
		errs = append(append(errs, longErrs...), shortErrs...)
		if longErrs == nil && shortErrs == nil {
			long, _ := ParseDuration(w.LongWindow)
			short, _ := ParseDuration(w.ShortWindow)
			if short >= long {
				add(f+".short_window", "must be shorter than long_window: the short window confirms that the burn is still going on")
			}
		}
		if math.IsNaN(w.Factor) || w.Factor <= 0 || w.Factor > MaxBurnRateFactor {
			add(f+".factor", fmt.Sprintf("must be above 0 and at most %d, as in 14.4", MaxBurnRateFactor))
		}
		if !slices.Contains(Severities, w.Severity) {
			add(f+".severity", "must be warning or critical")
		}
	}
	return errs
}
