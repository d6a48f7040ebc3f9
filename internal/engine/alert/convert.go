package alert

import (
	"fmt"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// RuleFromAPI converts a stored alert threshold into its rule: durations
// parsed, a null reminder_interval as 0 (never), a null burn_rate_windows
// as nil (DefaultBurnRateWindows), and an empty no_data as "ok", the API's
// default (the Rule's zero value would mean keep_last). A null pending_for
// or recovery_for is 0, as the API's defaults are "0s".
//
// It returns an error naming the field that cannot be read; a threshold
// that passed the API's validation never has one. The caller should also
// run Rule.Validate before evaluating.
func RuleFromAPI(a *api.AlertThreshold) (Rule, error) {
	r := Rule{
		Metric:           Metric(a.Metric),
		Warning:          copyFloat(a.Warning),
		Critical:         copyFloat(a.Critical),
		RecoveryWarning:  copyFloat(a.RecoveryWarning),
		RecoveryCritical: copyFloat(a.RecoveryCritical),
		NoData:           NoData(a.NoData),
	}
	if r.NoData == "" {
		r.NoData = NoData(api.DefaultNoData)
	}
	if a.Comparison != nil {
		r.Comparison = Comparison(*a.Comparison)
	}
	var err error
	hold := func(field string, s *string, dst *time.Duration) {
		if s == nil || err != nil {
			return
		}
		d, perr := time.ParseDuration(*s)
		if perr != nil || d < 0 {
			err = fmt.Errorf("%s: %q is not a duration", field, *s)
			return
		}
		*dst = d
	}
	hold("window", a.Window, &r.Window)
	hold("pending_for", a.PendingFor, &r.PendingFor)
	hold("recovery_for", a.RecoveryFor, &r.RecoveryFor)
	hold("reminder_interval", a.ReminderInterval, &r.ReminderInterval)
	if a.SLO != nil {
		r.SLO = &SLO{ObjectivePercent: a.SLO.ObjectivePercent}
		hold("slo.period", &a.SLO.Period, &r.SLO.Period)
	}
	if a.BurnRateWindows != nil {
		r.BurnRateWindows = make([]BurnRateWindow, len(a.BurnRateWindows))
		for i, w := range a.BurnRateWindows {
			p := fmt.Sprintf("burn_rate_windows.%d.", i)
			hold(p+"long_window", &w.LongWindow, &r.BurnRateWindows[i].Long)
			hold(p+"short_window", &w.ShortWindow, &r.BurnRateWindows[i].Short)
			r.BurnRateWindows[i].Factor = w.Factor
			r.BurnRateWindows[i].Severity = Severity(w.Severity)
		}
	}
	if err != nil {
		return Rule{}, err
	}
	return r, nil
}

func copyFloat(v *float64) *float64 {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}
