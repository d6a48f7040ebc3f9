package alert

import (
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/stats"
)

// benchThreshold is one threshold with its prepared figures: a healthy and
// a failing version of each rollup the engine would have read, so that a
// tick can flip some of them and make the machines move.
type benchThreshold struct {
	th            *Threshold
	good, bad     stats.Rollup
	pairsGood     [3][2]stats.Rollup // per pair: long, short
	pairsBad      [3][2]stats.Rollup
	outcomesGood  []string
	outcomesBad   []string
	expiry, fresh time.Time
}

// benchRollup makes a rollup of n probes with down of them down and
// latencies spread over a few buckets, like a real window.
func benchRollup(n, down int64) stats.Rollup {
	var r stats.Rollup
	for i := range n {
		o := api.OutcomeUp
		if i < down {
			o = api.OutcomeDown
		}
		r.Add(api.ProbeResult{Outcome: o, LatencyMS: float64(40 + i%23*7), Attempts: 1})
	}
	return r
}

// benchSet builds n thresholds: a fifth burn-rate (default pairs), the rest
// cycling through the other metrics, as the benchmark describes.
func benchSet(n int) []benchThreshold {
	now := t0
	good, bad := benchRollup(60, 0), benchRollup(60, 30)
	pairGood, pairBad := benchRollup(600, 0), benchRollup(600, 300)
	plain := []struct {
		m        Metric
		cmp      Comparison
		warn, cr float64
	}{
		{AvailabilityPercent, Below, 99, 95},
		{ErrorRatePercent, Above, 5, 10},
		{RetryRatePercent, Above, 10, 20},
		{LatencyAvgMS, Above, 500, 1000},
		{LatencyP95MS, Above, 800, 1500},
		{LatencyP99MS, Above, 1000, 2000},
		{ProbesPerMinute, Below, 5, 2},
		{ConsecutiveFailures, Above, 2, 4},
		{TLSCertExpiresInDays, Below, 14, 3},
		{CredentialExpiresInDays, Below, 14, 3},
	}
	out := make([]benchThreshold, n)
	for i := range out {
		b := &out[i]
		if i%5 == 0 {
			b.th = NewThreshold(Rule{Metric: ErrorBudgetBurnRate, SLO: &SLO{ObjectivePercent: 99.9, Period: 30 * 24 * time.Hour}, ReminderInterval: time.Hour})
			for p := range 3 {
				b.pairsGood[p] = [2]stats.Rollup{pairGood, good}
				b.pairsBad[p] = [2]stats.Rollup{pairBad, bad}
			}
			continue
		}
		p := plain[i%len(plain)]
		b.th = NewThreshold(Rule{
			Metric: p.m, Comparison: p.cmp, Warning: f(p.warn), Critical: f(p.cr),
			Window: 5 * time.Minute, PendingFor: 30 * time.Second, RecoveryFor: time.Minute,
			NoData: NoDataKeepLast, ReminderInterval: time.Hour,
		})
		b.good, b.bad = good, bad
		b.outcomesGood = []string{api.OutcomeUp, api.OutcomeDown, api.OutcomeUp}
		b.outcomesBad = []string{api.OutcomeDown, api.OutcomeDown, api.OutcomeDown, api.OutcomeDown, api.OutcomeDown, api.OutcomeUp}
		b.fresh, b.expiry = now.Add(60*24*time.Hour), now.Add(24*time.Hour)
	}
	return out
}

// tick evaluates every threshold once at now, the way the engine will:
// compute the figure from the prepared data, then step the machines. The
// thresholds with (i/7)%10 == failing use their failing figures: a tenth
// of them, runs of 7 so that burn-rate and plain thresholds both fail. With
// values set, the plain thresholds take their figure from it instead of
// computing it (values[i] healthy, values[len(set)+i] failing), to measure
// the machines without the figures. It returns the transitions, appended
// to dst.
func tick(set []benchThreshold, now time.Time, failing int, values []float64, dst []Transition) []Transition {
	var rates [3]PairRates
	for i := range set {
		b := &set[i]
		bad := (i/7)%10 == failing
		r := &b.th.Rule
		if r.Metric == ErrorBudgetBurnRate {
			pairs, budget := &b.pairsGood, r.SLO.Budget()
			if bad {
				pairs = &b.pairsBad
			}
			for p := range pairs {
				rates[p] = PairBurn(&pairs[p][0], &pairs[p][1], budget)
			}
			dst = b.th.AppendEvaluateBurnRates(dst, now, rates[:])
			continue
		}
		var (
			v  float64
			ok bool
		)
		if values != nil {
			v, ok = values[i], true
			if bad {
				v = values[len(set)+i]
			}
		} else {
			v, ok = b.figure(now, bad)
		}
		var vp *float64
		if ok {
			vp = &v
		}
		dst = b.th.AppendEvaluate(dst, now, vp)
	}
	return dst
}

// figure computes the plain threshold's figure from its prepared data, as
// the engine will from what it read.
func (b *benchThreshold) figure(now time.Time, bad bool) (float64, bool) {
	r := &b.th.Rule
	switch r.Metric {
	case ConsecutiveFailures:
		o := b.outcomesGood
		if bad {
			o = b.outcomesBad
		}
		return ConsecutiveFailuresOf(o)
	case TLSCertExpiresInDays, CredentialExpiresInDays:
		at := &b.fresh
		if bad {
			at = &b.expiry
		}
		return DaysUntil(now, at)
	}
	roll := &b.good
	if bad {
		roll = &b.bad
	}
	return FromRollup(r.Metric, roll, r.Window)
}

// BenchmarkTick10000 measures one evaluation tick of 10,000 thresholds
// over prepared figures: one op is the whole tick. In "steady" nothing
// changes state (the common tick); in "churn" a tenth of the thresholds
// flip between healthy and failing, each going pending, firing, clearing
// and resolving over and over, so ticks record transitions; "machines" is
// steady with the plain figures computed beforehand, leaving the machines
// and the burn-rate arithmetic.
func BenchmarkTick10000(b *testing.B) {
	for _, mode := range []string{"steady", "churn", "machines"} {
		b.Run(mode, func(b *testing.B) {
			set := benchSet(10000)
			var values []float64
			if mode == "machines" {
				values = make([]float64, 2*len(set))
				for i := range set {
					values[i], _ = set[i].figure(t0, false)
					values[len(set)+i], _ = set[i].figure(t0, true)
				}
			}
			dst := make([]Transition, 0, 4096)
			now := t0
			b.ReportAllocs()
			transitions := 0
			for i := 0; b.Loop(); i++ {
				failing := -1
				if mode == "churn" {
					// A tenth of the thresholds fail for 6 ticks of 10 s
					// (pending, then firing after pending_for 30 s), then
					// recover for 12 (resolving after recovery_for 1m).
					if i%18 < 6 {
						failing = 0
					}
				}
				now = now.Add(10 * time.Second)
				dst = tick(set, now, failing, values, dst[:0])
				transitions += len(dst)
			}
			b.ReportMetric(float64(transitions)/float64(b.N), "transitions/op")
		})
	}
}

// BenchmarkMachineStep measures one evaluation of one plain threshold
// without a transition: the floor of the per-threshold cost.
func BenchmarkMachineStep(b *testing.B) {
	th := NewThreshold(Rule{Metric: ErrorRatePercent, Comparison: Above, Warning: f(5), Critical: f(10), Window: time.Minute})
	v := 1.0
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(10 * time.Second)
		th.AppendEvaluate(nil, now, &v)
	}
}
