package alert

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func f(v float64) *float64 { return &v }

// validRule is a rule that passes Validate; cases change one thing.
func validRule() Rule {
	return Rule{
		Metric: ErrorRatePercent, Comparison: Above,
		Warning: f(5), Critical: f(10), RecoveryWarning: f(4), RecoveryCritical: f(8),
		Window: 5 * time.Minute, NoData: NoDataOK,
	}
}

func burnRule() Rule {
	return Rule{Metric: ErrorBudgetBurnRate, SLO: &SLO{ObjectivePercent: 99.9, Period: 30 * 24 * time.Hour}}
}

func TestRuleValidate(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(*Rule)
		burn   bool
		fields []string // the offending fields, in order; nil: valid
	}{
		{name: "valid above", edit: func(*Rule) {}},
		{name: "valid below", edit: func(r *Rule) {
			r.Metric, r.Comparison = AvailabilityPercent, Below
			r.Warning, r.Critical, r.RecoveryWarning, r.RecoveryCritical = f(99), f(95), f(99.5), f(96)
		}},
		{name: "only critical", edit: func(r *Rule) { r.Warning, r.RecoveryWarning = nil, nil }},
		{name: "only warning", edit: func(r *Rule) { r.Critical, r.RecoveryCritical = nil, nil }},
		{name: "recovery equal to the value is no hysteresis", edit: func(r *Rule) { r.RecoveryCritical = f(10) }},
		{name: "no_data empty means keep_last", edit: func(r *Rule) { r.NoData = "" }},
		{name: "consecutive_failures needs no window", edit: func(r *Rule) { r.Metric, r.Window = ConsecutiveFailures, 0 }},
		{name: "unknown metric", edit: func(r *Rule) { r.Metric = "latency_p50_ms" }, fields: []string{"metric"}},
		{name: "bad comparison", edit: func(r *Rule) { r.Comparison = "equals" }, fields: []string{"comparison"}},
		{name: "no values", edit: func(r *Rule) {
			r.Warning, r.Critical, r.RecoveryWarning, r.RecoveryCritical = nil, nil, nil, nil
		}, fields: []string{"critical"}},
		{name: "warning past critical above", edit: func(r *Rule) { r.Warning = f(12) }, fields: []string{"warning"}},
		{name: "warning equal to critical", edit: func(r *Rule) { r.Warning = f(10) }, fields: []string{"warning"}},
		{name: "warning past critical below", edit: func(r *Rule) {
			r.Comparison, r.RecoveryWarning, r.RecoveryCritical = Below, nil, nil
		}, fields: []string{"warning"}},
		{name: "recovery past its value", edit: func(r *Rule) { r.RecoveryWarning, r.RecoveryCritical = f(6), f(11) },
			fields: []string{"recovery_warning", "recovery_critical"}},
		{name: "recovery past its value below", edit: func(r *Rule) {
			r.Metric, r.Comparison = AvailabilityPercent, Below
			r.Warning, r.Critical, r.RecoveryWarning, r.RecoveryCritical = f(99), f(95), f(98), f(96)
		}, fields: []string{"recovery_warning"}},
		{name: "recovery without its value", edit: func(r *Rule) { r.Warning = nil }, fields: []string{"recovery_warning"}},
		{name: "not finite", edit: func(r *Rule) { r.Critical = f(math.NaN()) }, fields: []string{"critical"}},
		{name: "windowed metric without window", edit: func(r *Rule) { r.Window = 0 }, fields: []string{"window"}},
		{name: "negative durations", edit: func(r *Rule) {
			r.PendingFor, r.RecoveryFor, r.ReminderInterval = -1, -1, -1
		}, fields: []string{"pending_for", "recovery_for", "reminder_interval"}},
		{name: "bad no_data", edit: func(r *Rule) { r.NoData = "ignore" }, fields: []string{"no_data"}},
		{name: "slo on a plain metric", edit: func(r *Rule) {
			r.SLO, r.BurnRateWindows = &SLO{ObjectivePercent: 99}, DefaultBurnRateWindows()
		}, fields: []string{"slo", "burn_rate_windows"}},

		{name: "burn valid with defaults", burn: true, edit: func(*Rule) {}},
		{name: "burn valid with own pairs", burn: true, edit: func(r *Rule) {
			r.Comparison = Above
			r.BurnRateWindows = []BurnRateWindow{{Long: time.Hour, Short: 5 * time.Minute, Factor: 10, Severity: Warning}}
		}},
		{name: "burn below", burn: true, edit: func(r *Rule) { r.Comparison = Below }, fields: []string{"comparison"}},
		{name: "burn bad comparison", burn: true, edit: func(r *Rule) { r.Comparison = "equals" }, fields: []string{"comparison"}},
		{name: "burn with values", burn: true, edit: func(r *Rule) { r.Critical, r.RecoveryWarning = f(14), f(1) },
			fields: []string{"critical", "recovery_warning"}},
		{name: "burn without slo", burn: true, edit: func(r *Rule) { r.SLO = nil }, fields: []string{"slo"}},
		{name: "burn bad slo", burn: true, edit: func(r *Rule) { r.SLO = &SLO{ObjectivePercent: 100} },
			fields: []string{"slo.objective_percent", "slo.period"}},
		// The objective's bounds are exclusive at both ends: 0 % is no
		// objective and 100 % leaves no budget to burn.
		{name: "burn zero objective", burn: true, edit: func(r *Rule) { r.SLO.ObjectivePercent = 0 },
			fields: []string{"slo.objective_percent"}},
		// A missing period is reported once, on slo.period, not again as
		// every pair being longer than it.
		{name: "burn own pairs without period", burn: true, edit: func(r *Rule) {
			r.SLO.Period = 0
			r.BurnRateWindows = []BurnRateWindow{{Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4, Severity: Critical}}
		}, fields: []string{"slo.period"}},
		// A long window as long as the period fits in it.
		{name: "burn long window equal to the period", burn: true, edit: func(r *Rule) {
			r.SLO.Period = 24 * time.Hour
			r.BurnRateWindows = []BurnRateWindow{{Long: 24 * time.Hour, Short: time.Hour, Factor: 1, Severity: Warning}}
		}},
		{name: "burn short period with default pairs", burn: true, edit: func(r *Rule) { r.SLO.Period = 24 * time.Hour },
			fields: []string{"slo.period"}},
		{name: "burn period as long as the longest default window", burn: true, edit: func(r *Rule) { r.SLO.Period = 72 * time.Hour }},
		{name: "burn pair with equal windows", burn: true, edit: func(r *Rule) {
			r.BurnRateWindows = []BurnRateWindow{{Long: time.Hour, Short: time.Hour, Factor: 14.4, Severity: Critical}}
		}, fields: []string{"burn_rate_windows.0.long"}},
		{name: "burn short period with own pairs", burn: true, edit: func(r *Rule) {
			r.SLO.Period = 24 * time.Hour
			r.BurnRateWindows = []BurnRateWindow{{Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4, Severity: Critical}}
		}},
		{name: "burn empty pairs", burn: true, edit: func(r *Rule) { r.BurnRateWindows = []BurnRateWindow{} },
			fields: []string{"burn_rate_windows"}},
		{name: "burn bad pair", burn: true, edit: func(r *Rule) {
			r.BurnRateWindows = []BurnRateWindow{
				{Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4, Severity: Critical},
				{Long: 5 * time.Minute, Short: 10 * time.Minute, Factor: 0, Severity: "page"},
				{Long: time.Hour, Short: 0, Factor: 2, Severity: Warning},
				{Long: 40 * 24 * time.Hour, Short: time.Hour, Factor: 1, Severity: Warning},
			}
		}, fields: []string{
			"burn_rate_windows.1.long", "burn_rate_windows.1.factor", "burn_rate_windows.1.severity",
			"burn_rate_windows.2.short", "burn_rate_windows.3.long",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := validRule()
			if tc.burn {
				r = burnRule()
			}
			tc.edit(&r)
			var got []string
			for _, e := range r.Validate() {
				got = append(got, e.Field)
				if e.Message == "" {
					t.Errorf("%s: empty message", e.Field)
				}
			}
			if !slices.Equal(got, tc.fields) {
				t.Errorf("fields = %v, want %v; errors %v", got, tc.fields, r.Validate())
			}
		})
	}
}

// TestWarningMessageSaysTheSide checks that the message tells which way
// warning must lie, since "less severe" is not obvious for below.
func TestWarningMessageSaysTheSide(t *testing.T) {
	r := validRule()
	r.Comparison, r.RecoveryWarning, r.RecoveryCritical = Below, nil, nil
	errs := r.Validate()
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "greater than critical (10)") {
		t.Errorf("errors = %v", errs)
	}
}

func TestDefaultBurnRateWindowsAreCopies(t *testing.T) {
	a := DefaultBurnRateWindows()
	a[0].Factor = 1
	if DefaultBurnRateWindows()[0].Factor != 14.4 {
		t.Error("DefaultBurnRateWindows returned a shared slice")
	}
	r := burnRule()
	if got := r.Windows(); len(got) != 3 || got[0].Factor != 14.4 || got[2].Severity != Warning {
		t.Errorf("Windows() = %+v", got)
	}
	if (&Rule{Metric: ErrorRatePercent}).Windows() != nil {
		t.Error("plain metric has pairs")
	}
}
