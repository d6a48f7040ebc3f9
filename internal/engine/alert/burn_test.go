package alert

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/stats"
)

// minuteSeries is a synthetic per-minute history of one monitor: the same
// number of probes every minute, a number of them down. It answers the
// rollup of any window ending at a minute, as the store's rollups would.
type minuteSeries struct {
	probes int64
	// downSum[i] is the number of down probes in minutes [0, i).
	downSum []int64
}

// phase is a run of minutes with the same number of down probes.
type phase struct {
	minutes int
	down    int64
}

func newMinuteSeries(probes int64, phases []phase) *minuteSeries {
	s := &minuteSeries{probes: probes, downSum: []int64{0}}
	for _, p := range phases {
		for range p.minutes {
			s.downSum = append(s.downSum, s.downSum[len(s.downSum)-1]+p.down)
		}
	}
	return s
}

func (s *minuteSeries) minutes() int { return len(s.downSum) - 1 }

// window returns the rollup of the n minutes ending with minute i
// (inclusive), cut at the start of the series.
func (s *minuteSeries) window(i, n int) stats.Rollup {
	from := max(i+1-n, 0)
	down := s.downSum[i+1] - s.downSum[from]
	probes := s.probes * int64(i+1-from)
	return stats.Rollup{Probes: probes, Up: probes - down, Down: down}
}

// TestBurnRateFiresWhenTheArithmeticSays runs the default pairs of the SRE
// workbook (1h/5m > 14.4 and 6h/30m > 6 critical, 3d/6h > 1 warning) over
// a 99.9 % SLO (budget 0.1 %) on series that start with three days of
// clean history, so every window is full. The evaluation after minute i
// sees the windows ending with minute i; "m" counts the minutes since the
// errors began (m = 1 is their first minute), and the wanted transitions
// name the m at which the arithmetic in the comments predicts them, the
// value (the smaller of the two rates of the pair furthest past its
// factor) and that pair.
func TestBurnRateFiresWhenTheArithmeticSays(t *testing.T) {
	const history = 3 * 24 * 60 // minutes
	cases := []struct {
		name   string
		probes int64
		phases []phase // after the clean history
		want   []string
	}{
		{
			// 40 of 2000 down = 2 % = 20× the budget. 1h/5m: the short
			// window exceeds 14.4 once 20·m/5 > 14.4, m ≥ 4; the long one
			// once 20·m/60 > 14.4, m > 43.2: it fires at m = 44 (the
			// workbook: 1h·14.4/20 = 43.2 minutes to detect a 20× burn).
			// 6h/30m needs 20·m/360 > 6, m > 108: it never breaches in
			// 100 minutes; 3d/6h needs 20·m/4320 > 1, m > 216: neither.
			// After the errors stop (m = 101 is the first clean minute)
			// the 5m window holds 5−k bad minutes after k clean ones:
			// 20·4/5 = 16 still breaches at m = 101, 20·3/5 = 12 does not
			// at m = 102: resolved, though the 1h window still burns at
			// 20·58/60 = 19.3. The value is then 6h/30m's, the closest to
			// its factor: min(20·100/360, 20·28/30) = 5.556.
			name:   "2% errors are a 20x burn: 1h/5m fires at minute 44",
			probes: 2000,
			phases: []phase{{100, 40}, {60, 0}},
			want: []string{
				"44 c ok>firing! 14.667 1h0m0s/5m0s",
				"102 c firing>resolved! 5.556 6h0m0s/30m0s",
				"103 c resolved>ok 5.556 6h0m0s/30m0s",
			},
		},
		{
			// 50 of 2000 down = 2.5 % = 25×. 1h/5m: short 25·m/5 > 14.4
			// from m = 3, long 25·m/60 > 14.4 from m > 34.56: m = 35.
			// 6h/30m breaches too from 25·m/360 > 6, m > 86.4, m = 87,
			// while already firing. The errors stop after 150 minutes;
			// with k clean minutes 1h/5m's short window burns 25·(5−k)/5:
			// 15 at k = 2, 10 at k = 3, clear; 6h/30m's burns
			// 25·(30−k)/30: 6.67 at k = 22, 5.83 at k = 23, clear. The
			// critical resolves when no critical pair breaches: m = 173.
			name:   "2.5% errors long enough for 6h/30m: resolves when its short window does",
			probes: 2000,
			phases: []phase{{150, 50}, {60, 0}},
			want: []string{
				"35 c ok>firing! 14.583 1h0m0s/5m0s",
				"173 c firing>resolved! 5.833 6h0m0s/30m0s",
				"174 c resolved>ok 5.000 6h0m0s/30m0s",
			},
		},
		{
			// One minute with every probe down: 1000× for a minute. 1h/5m:
			// long 1000/60 = 16.67, short 1000/5 = 200: fires at once.
			// 6h/30m: long 1000/360 = 2.78 < 6. After 5 clean minutes the
			// 5m window is clean again and the alert resolves at m = 6,
			// while the 1h window still burns at 16.67: the short window
			// is what stops the page once the errors stop.
			name:   "a one-minute outage pages, and resolves as the short window clears",
			probes: 2000,
			phases: []phase{{1, 2000}, {30, 0}},
			want: []string{
				"1 c ok>firing! 16.667 1h0m0s/5m0s",
				"6 c firing>resolved! 2.778 6h0m0s/30m0s",
				"7 c resolved>ok 2.778 6h0m0s/30m0s",
			},
		},
		{
			// 1 of 2000 down = 0.05 % = 0.5×: below every factor, for
			// four days. Nothing fires.
			name:   "a 0.5x burn never fires",
			probes: 2000,
			phases: []phase{{4 * 24 * 60, 1}},
			want:   nil,
		},
		{
			// 13 of 10000 down = 0.13 % = 1.3×. 3d/6h: short 1.3·m/360 > 1
			// from m > 276.9; long 1.3·m/4320 > 1 from m > 3323.08: the
			// warning fires at m = 3324 (1.3·3324/4320 = 1.0003). The
			// critical pairs never breach. After 3400 bad minutes the 6h
			// window burns 1.3·(360−k)/360 after k clean ones: 1.0003 at
			// k = 83, 0.9967 at k = 84 (m = 3484): resolved.
			name:   "a 1.3x burn warns after three days minus the slack",
			probes: 10000,
			phases: []phase{{3400, 13}, {100, 0}},
			want: []string{
				"3324 w ok>firing! 1.000 72h0m0s/6h0m0s",
				"3484 w firing>resolved! 0.997 72h0m0s/6h0m0s",
				"3485 w resolved>ok 0.993 72h0m0s/6h0m0s",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newMinuteSeries(tc.probes, append([]phase{{history, 0}}, tc.phases...))
			r := Rule{Metric: ErrorBudgetBurnRate, SLO: &SLO{ObjectivePercent: 99.9, Period: 30 * 24 * time.Hour}}
			if errs := r.Validate(); errs != nil {
				t.Fatalf("invalid rule: %v", errs)
			}
			th := NewThreshold(r)
			budget := r.SLO.Budget()
			pairs := r.Windows()
			rates := make([]PairRates, len(pairs))
			var got []string
			for i := range s.minutes() {
				for j, p := range pairs {
					long := s.window(i, int(p.Long/time.Minute))
					short := s.window(i, int(p.Short/time.Minute))
					rates[j] = PairBurn(&long, &short, budget)
				}
				now := t0.Add(time.Duration(i+1) * time.Minute)
				for _, tr := range th.EvaluateBurnRates(now, rates) {
					if tr.Pair == nil || tr.Value == nil {
						t.Fatalf("transition without pair or value: %+v", tr)
					}
					m := i - history + 1
					got = append(got, fmt.Sprintf("%d %c %s>%s%s %.3f %s/%s", m, tr.Severity[0], tr.From, tr.To,
						map[bool]string{true: "!"}[tr.Notify], *tr.Value, tr.Pair.Long, tr.Pair.Short))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("transitions:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestBurnRateNoData(t *testing.T) {
	cases := []struct {
		name   string
		noData NoData
		rates  []PairRates
		want   []string
	}{
		{name: "keep_last: nothing", noData: NoDataKeepLast, rates: nil, want: nil},
		{name: "alerting: both severities", noData: NoDataAlerting, rates: nil,
			want: []string{"0 c ok>firing! -", "0 w ok>firing -"}},
		// A pair whose short window is empty is no data; another pair of
		// the same severity with data decides.
		{name: "one pair without data, another breaching", noData: NoDataAlerting, rates: []PairRates{
			{Long: 20, HasLong: true}, {Long: 7, Short: 8, HasLong: true, HasShort: true},
		}, want: []string{"0 c ok>firing! 7", "0 w ok>firing -"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := burnRule()
			r.NoData = tc.noData
			th := NewThreshold(r)
			got := shows(th.EvaluateBurnRates(t0, tc.rates))
			if !slices.Equal(got, tc.want) {
				t.Errorf("transitions = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBurnRateBoundaryAndTies pins the two choices EvaluateBurnRates makes
// among a severity's pairs: a pair breaches only when the smaller of its
// rates is strictly past its factor, and when pairs are equally far past
// their factors the first pair in order gives the value and the Pair. A
// severity whose rates are all zero still names one of its own pairs.
func TestBurnRateBoundaryAndTies(t *testing.T) {
	both := func(long, short float64) PairRates {
		return PairRates{Long: long, Short: short, HasLong: true, HasShort: true}
	}
	t.Run("exactly at the factor does not breach", func(t *testing.T) {
		r := burnRule()
		r.BurnRateWindows = []BurnRateWindow{{Long: time.Hour, Short: 5 * time.Minute, Factor: 2, Severity: Critical}}
		th := NewThreshold(r)
		if got := shows(th.EvaluateBurnRates(t0, []PairRates{both(2.5, 2)})); len(got) != 0 {
			t.Errorf("rates 2.5/2 against factor 2: transitions %q, want none", got)
		}
		if got, want := shows(th.EvaluateBurnRates(t0.Add(time.Minute), []PairRates{both(2.5, 2.0001)})), []string{"1 c ok>firing! 2.0001"}; !slices.Equal(got, want) {
			t.Errorf("rates 2.5/2.0001 against factor 2: transitions %q, want %q", got, want)
		}
	})
	t.Run("a tie goes to the first pair", func(t *testing.T) {
		r := burnRule()
		r.BurnRateWindows = []BurnRateWindow{
			{Long: time.Hour, Short: 5 * time.Minute, Factor: 2, Severity: Critical},
			{Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 3, Severity: Critical},
		}
		th := NewThreshold(r)
		// Both pairs are at twice their factor.
		trs := th.EvaluateBurnRates(t0, []PairRates{both(4, 4), both(6, 6)})
		if got, want := shows(trs), []string{"0 c ok>firing! 4"}; !slices.Equal(got, want) {
			t.Fatalf("transitions %q, want %q", got, want)
		}
		if trs[0].Pair != &th.Rule.BurnRateWindows[0] {
			t.Errorf("Pair = %+v, want the first pair", trs[0].Pair)
		}
	})
	t.Run("zero rates name a pair of the severity", func(t *testing.T) {
		th := NewThreshold(burnRule())
		// The warning pair (the third default) fires, then every rate drops
		// to zero: the resolution's value is 0 and its pair the warning's.
		if got, want := shows(th.EvaluateBurnRates(t0, []PairRates{both(0, 0), both(0, 0), both(2, 2)})), []string{"0 w ok>firing! 2"}; !slices.Equal(got, want) {
			t.Fatalf("transitions %q, want %q", got, want)
		}
		trs := th.EvaluateBurnRates(t0.Add(time.Minute), []PairRates{both(0, 0), both(0, 0), both(0, 0)})
		if got, want := shows(trs), []string{"1 w firing>resolved! 0"}; !slices.Equal(got, want) {
			t.Fatalf("transitions %q, want %q", got, want)
		}
		if p := trs[0].Pair; p == nil || p.Severity != Warning || *p != DefaultBurnRateWindows()[2] {
			t.Errorf("resolution's Pair = %+v, want the default warning pair", p)
		}
	})
}
