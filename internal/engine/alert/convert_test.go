package alert

import (
	"reflect"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

func s(v string) *string { return &v }

func TestRuleFromAPI(t *testing.T) {
	cases := []struct {
		name    string
		in      api.AlertThreshold
		want    Rule
		wantErr string
	}{
		{
			name: "windowed, every field",
			in: api.AlertThreshold{Metric: api.MetricErrorRate, Comparison: s("above"), Warning: f(5), Critical: f(10),
				RecoveryWarning: f(4), RecoveryCritical: f(8), Window: s("5m"), PendingFor: s("30s"), RecoveryFor: s("1m"),
				NoData: api.NoDataAlerting, ReminderInterval: s("1h")},
			want: Rule{Metric: ErrorRatePercent, Comparison: Above, Warning: f(5), Critical: f(10), RecoveryWarning: f(4),
				RecoveryCritical: f(8), Window: 5 * time.Minute, PendingFor: 30 * time.Second, RecoveryFor: time.Minute,
				NoData: NoDataAlerting, ReminderInterval: time.Hour},
		},
		{
			name: "null reminder is never, empty no_data is ok, zero holds",
			in: api.AlertThreshold{Metric: api.MetricAvailability, Comparison: s("below"), Critical: f(99), Window: s("1h"),
				PendingFor: s("0s"), RecoveryFor: s("0m")},
			want: Rule{Metric: AvailabilityPercent, Comparison: Below, Critical: f(99), Window: time.Hour, NoData: NoDataOK},
		},
		{
			name: "null pending_for and recovery_for are 0",
			in:   api.AlertThreshold{Metric: api.MetricConsecutiveFailure, Comparison: s("above"), Warning: f(3), NoData: api.NoDataKeepLast},
			want: Rule{Metric: ConsecutiveFailures, Comparison: Above, Warning: f(3), NoData: NoDataKeepLast},
		},
		{
			name: "burn rate, default windows stay nil",
			in:   api.AlertThreshold{Metric: api.MetricBurnRate, SLO: &api.SLO{ObjectivePercent: 99.9, Period: "720h"}, PendingFor: s("0s")},
			want: Rule{Metric: ErrorBudgetBurnRate, NoData: NoDataOK, SLO: &SLO{ObjectivePercent: 99.9, Period: 720 * time.Hour}},
		},
		{
			name: "burn rate, own windows",
			in: api.AlertThreshold{Metric: api.MetricBurnRate, SLO: &api.SLO{ObjectivePercent: 99, Period: "168h"},
				BurnRateWindows: []api.BurnRateWindow{{LongWindow: "1h", ShortWindow: "5m", Factor: 10, Severity: api.SeverityCritical},
					{LongWindow: "24h", ShortWindow: "2h", Factor: 2, Severity: api.SeverityWarning}}},
			want: Rule{Metric: ErrorBudgetBurnRate, NoData: NoDataOK, SLO: &SLO{ObjectivePercent: 99, Period: 168 * time.Hour},
				BurnRateWindows: []BurnRateWindow{{Long: time.Hour, Short: 5 * time.Minute, Factor: 10, Severity: Critical},
					{Long: 24 * time.Hour, Short: 2 * time.Hour, Factor: 2, Severity: Warning}}},
		},
		{
			name:    "unreadable duration",
			in:      api.AlertThreshold{Metric: api.MetricErrorRate, Comparison: s("above"), Critical: f(1), Window: s("five minutes")},
			wantErr: `window: "five minutes" is not a duration`,
		},
		{
			name: "unreadable burn window",
			in: api.AlertThreshold{Metric: api.MetricBurnRate, SLO: &api.SLO{ObjectivePercent: 99, Period: "168h"},
				BurnRateWindows: []api.BurnRateWindow{{LongWindow: "1h", ShortWindow: "-5m", Factor: 10, Severity: api.SeverityCritical}}},
			wantErr: `burn_rate_windows.0.short_window: "-5m" is not a duration`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := RuleFromAPI(&c.in)
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got  %+v\nwant %+v", got, c.want)
			}
			if errs := got.Validate(); len(errs) > 0 {
				t.Fatalf("converted rule does not validate: %v", errs)
			}
		})
	}
}

// The values are copies: changing the API object later does not change a
// rule that is being evaluated.
func TestRuleFromAPICopiesValues(t *testing.T) {
	a := api.AlertThreshold{Metric: api.MetricErrorRate, Comparison: s("above"), Critical: f(10), Window: s("5m")}
	r, err := RuleFromAPI(&a)
	if err != nil {
		t.Fatal(err)
	}
	*a.Critical = 50
	if *r.Critical != 10 {
		t.Fatalf("rule shares the API's value: %v", *r.Critical)
	}
}
