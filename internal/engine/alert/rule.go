package alert

import (
	"fmt"
	"math"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// Comparison says on which side of its values a threshold is breached.
type Comparison string

// The comparisons.
const (
	// Above breaches when the figure is strictly greater than the value.
	Above Comparison = "above"
	// Below breaches when the figure is strictly less than the value.
	Below Comparison = "below"
)

// NoData says what an evaluation without a figure (nil value: no probes in
// the window, no certificate seen, no expiry known) does to the machines.
type NoData string

// The no-data policies.
const (
	// NoDataOK treats a missing figure as a clear one: a pending alert
	// drops back to ok and a firing one resolves (after recovery_for).
	NoDataOK NoData = "ok"
	// NoDataAlerting treats a missing figure as a breach of every
	// configured severity: the alert goes pending and fires after
	// pending_for, with a nil value in its transitions.
	NoDataAlerting NoData = "alerting"
	// NoDataKeepLast freezes the machines: no state changes while the
	// figure is missing, and the timers of pending_for and recovery_for
	// keep their start times. A firing alert still sends its reminders,
	// since it is still firing as far as anyone knows. It is the policy of
	// the zero value, because a monitor that stops producing data (it was
	// disabled, aiod restarted) should neither resolve nor raise alerts.
	NoDataKeepLast NoData = "keep_last"
)

// Severity is the severity of an alert. Each threshold has one state machine
// per severity it configures.
type Severity string

// The severities, least severe first.
const (
	Warning  Severity = "warning"
	Critical Severity = "critical"
)

// SLO is a service level objective on availability: the share of probes that
// must not be down over a period. Its error budget is 1 − objective.
type SLO struct {
	// ObjectivePercent is the objective in percent, in (0, 100): 99.9.
	ObjectivePercent float64
	// Period is the SLO's compliance period (30 days). Burn rates do not
	// depend on it, but every burn-rate window must fit in it.
	Period time.Duration
}

// Budget returns the error budget as a ratio: 1 − objective (0.001 for 99.9).
func (s SLO) Budget() float64 { return (100 - s.ObjectivePercent) / 100 }

// BurnRateWindow is one multiwindow pair of burn-rate alerting: it breaches
// when the burn rate over both its long and its short window exceeds Factor.
// The long window makes it significant (enough budget is spent); the short
// one makes it current (it stops as soon as the errors stop).
type BurnRateWindow struct {
	// Long and Short are the two windows; Short < Long.
	Long, Short time.Duration
	// Factor is the burn rate both windows must exceed, strictly.
	Factor float64
	// Severity is the severity the pair raises.
	Severity Severity
}

// DefaultBurnRateWindows returns the multiwindow pairs the Google SRE
// workbook recommends in "Alerting on SLOs" for a 30-day SLO: 1h/5m at 14.4×
// (2 % of the budget spent in an hour) and 6h/30m at 6× (5 % in six hours)
// page as critical; 3d/6h at 1× (10 % in three days) is a warning (a ticket).
// It returns a new slice each time, so callers may change it.
func DefaultBurnRateWindows() []BurnRateWindow {
	return []BurnRateWindow{
		{Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4, Severity: Critical},
		{Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 6, Severity: Critical},
		{Long: 72 * time.Hour, Short: 6 * time.Hour, Factor: 1, Severity: Warning},
	}
}

// Rule is the evaluation part of an alert threshold: what is watched and
// when it alerts. The API's threshold type maps onto it field by field: the
// durations parsed, a null reminder_interval as 0, a null
// burn_rate_windows as nil (the defaults).
type Rule struct {
	// Metric is the figure watched.
	Metric Metric
	// Comparison is the side of the values that breaches. For
	// error_budget_burn_rate it must be Above or empty (which means Above).
	Comparison Comparison
	// Warning and Critical are the values that breach; at least one is
	// set, and Warning is on the less severe side of Critical. Both must
	// be nil for error_budget_burn_rate, whose pairs carry their factors.
	Warning, Critical *float64
	// RecoveryWarning and RecoveryCritical add hysteresis: a firing alert
	// of that severity resolves only once the figure is at or past this
	// value (at or below it for Above, at or above it for Below). Nil means
	// the alert resolves as soon as the figure no longer breaches.
	RecoveryWarning, RecoveryCritical *float64
	// Window is the span the figure is computed over. It is required for
	// the windowed metrics (Metric.Windowed) and ignored by the others.
	Window time.Duration
	// PendingFor is how long the breach must last before the alert fires;
	// 0 fires at the first evaluation that sees it.
	PendingFor time.Duration
	// RecoveryFor is how long the figure must stay clear before a firing
	// alert resolves; 0 resolves at the first clear evaluation.
	RecoveryFor time.Duration
	// NoData is the policy for evaluations without a figure; empty means
	// NoDataKeepLast.
	NoData NoData
	// ReminderInterval re-notifies a firing alert this often; 0 never.
	ReminderInterval time.Duration
	// SLO is required for error_budget_burn_rate and must be nil otherwise.
	SLO *SLO
	// BurnRateWindows are the pairs of error_budget_burn_rate; nil means
	// DefaultBurnRateWindows. They must be nil for other metrics.
	BurnRateWindows []BurnRateWindow
}

// Windows returns the burn-rate pairs the rule evaluates: its own, or the
// defaults when it sets none. It is nil for metrics other than
// error_budget_burn_rate.
func (r *Rule) Windows() []BurnRateWindow {
	if r.Metric != ErrorBudgetBurnRate {
		return nil
	}
	if r.BurnRateWindows == nil {
		return defaultWindows
	}
	return r.BurnRateWindows
}

// defaultWindows is shared by every rule without pairs of its own; it is
// never handed out for writing (DefaultBurnRateWindows copies).
var defaultWindows = DefaultBurnRateWindows()

// severer tells whether a is on the more severe side of b for comparison c.
func severer(c Comparison, a, b float64) bool {
	if c == Below {
		return a < b
	}
	return a > b
}

// Validate checks the rule and returns one error per offending field, named
// as the API names it (snake_case, list elements by index), so that the API
// and the provider can report them on their attribute paths.
func (r *Rule) Validate() []api.FieldError {
	var errs []api.FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, api.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	finite := func(field string, v *float64) bool {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			add(field, "must be a finite number")
			return false
		}
		return true
	}
	if !r.Metric.Valid() {
		add("metric", "must be one of %s", metricList)
	}
	burn := r.Metric == ErrorBudgetBurnRate
	switch {
	case burn && r.Comparison == Below:
		add("comparison", "must be %q for error_budget_burn_rate: a burn rate alerts when it is high", Above)
	case burn && (r.Comparison == "" || r.Comparison == Above):
	case r.Comparison != Above && r.Comparison != Below:
		add("comparison", "must be %q or %q", Above, Below)
	}
	okW := finite("warning", r.Warning)
	okC := finite("critical", r.Critical)
	okRW := finite("recovery_warning", r.RecoveryWarning)
	okRC := finite("recovery_critical", r.RecoveryCritical)
	if burn {
		// The pairs carry the factors and severities of a burn-rate
		// threshold; values here would be a second, conflicting source.
		for _, f := range []struct {
			name string
			v    *float64
		}{{"warning", r.Warning}, {"critical", r.Critical}, {"recovery_warning", r.RecoveryWarning}, {"recovery_critical", r.RecoveryCritical}} {
			if f.v != nil {
				add(f.name, "must be null for error_budget_burn_rate: set the factors in burn_rate_windows")
			}
		}
	} else {
		if r.Warning == nil && r.Critical == nil {
			add("critical", "at least one of warning and critical must be set")
		}
		cmp := r.Comparison
		if r.Warning != nil && r.Critical != nil && okW && okC && (cmp == Above || cmp == Below) && !severer(cmp, *r.Critical, *r.Warning) {
			side := "less"
			if cmp == Below {
				side = "greater"
			}
			add("warning", "must be the less severe side of critical: with comparison %q, %s than critical (%g)", cmp, side, *r.Critical)
		}
		recovery := func(field, of string, rec, v *float64, okRec, okV bool) {
			switch {
			case rec == nil:
			case v == nil:
				add(field, "needs %s: it is the value at which a firing %s alert resolves", of, of)
			case okRec && okV && (cmp == Above || cmp == Below) && severer(cmp, *rec, *v):
				add(field, "must not be past %s (%g): an alert resolves only once the figure is back at or beyond it", of, *v)
			}
		}
		recovery("recovery_warning", "warning", r.RecoveryWarning, r.Warning, okRW, okW)
		recovery("recovery_critical", "critical", r.RecoveryCritical, r.Critical, okRC, okC)
	}
	if r.Metric.Windowed() && r.Window <= 0 {
		add("window", "must be a positive duration: %s is computed over a window", r.Metric)
	}
	if r.Window < 0 {
		add("window", "must not be negative")
	}
	if r.PendingFor < 0 {
		add("pending_for", "must not be negative")
	}
	if r.RecoveryFor < 0 {
		add("recovery_for", "must not be negative")
	}
	if r.ReminderInterval < 0 {
		add("reminder_interval", "must be positive, or null for no reminders")
	}
	switch r.NoData {
	case "", NoDataOK, NoDataAlerting, NoDataKeepLast:
	default:
		add("no_data", "must be %q, %q or %q", NoDataOK, NoDataAlerting, NoDataKeepLast)
	}
	if !burn {
		if r.SLO != nil {
			add("slo", "is only for error_budget_burn_rate")
		}
		if r.BurnRateWindows != nil {
			add("burn_rate_windows", "is only for error_budget_burn_rate")
		}
		return errs
	}
	if r.SLO == nil {
		add("slo", "is required for error_budget_burn_rate")
	} else {
		if o := r.SLO.ObjectivePercent; !(o > 0 && o < 100) {
			add("slo.objective_percent", "must be greater than 0 and less than 100")
		}
		if r.SLO.Period <= 0 {
			add("slo.period", "must be a positive duration")
		}
	}
	if r.BurnRateWindows == nil && r.SLO != nil && r.SLO.Period > 0 && r.SLO.Period < defaultWindows[2].Long {
		// The workbook's pairs are tuned for a 30-day period; the 3-day
		// window cannot be read against a shorter one.
		add("slo.period", "must be at least %s for the default burn_rate_windows, or set burn_rate_windows", defaultWindows[2].Long)
	}
	if r.BurnRateWindows != nil && len(r.BurnRateWindows) == 0 {
		add("burn_rate_windows", "must hold at least one pair, or be null for the defaults")
	}
	for i, w := range r.BurnRateWindows {
		p := fmt.Sprintf("burn_rate_windows.%d.", i)
		if w.Short <= 0 {
			add(p+"short", "must be a positive duration")
		}
		if w.Long <= w.Short {
			add(p+"long", "must be longer than short (%s)", w.Short)
		}
		if r.SLO != nil && r.SLO.Period > 0 && w.Long > r.SLO.Period {
			add(p+"long", "must not be longer than the SLO period (%s)", r.SLO.Period)
		}
		if !(w.Factor > 0) || math.IsInf(w.Factor, 0) {
			add(p+"factor", "must be a positive number")
		}
		if w.Severity != Warning && w.Severity != Critical {
			add(p+"severity", "must be %q or %q", Warning, Critical)
		}
	}
	return errs
}
