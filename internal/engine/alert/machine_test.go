package alert

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// t0 is the time of the first evaluation of every test series.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// parseSeries reads one value per minute: a number, or "-" for no data.
func parseSeries(t testing.TB, s string) []*float64 {
	t.Helper()
	var out []*float64
	for _, tok := range strings.Fields(s) {
		if tok == "-" {
			out = append(out, nil)
			continue
		}
		v, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			t.Fatalf("series token %q: %v", tok, err)
		}
		out = append(out, &v)
	}
	return out
}

// show renders a transition compactly for comparisons: the minute of the
// evaluation, c or w, from>to, then "!" when delivered and "r" for a
// reminder, and the value ("-" for none).
func show(tr Transition) string {
	flags := ""
	if tr.Notify {
		flags += "!"
	}
	if tr.Reminder {
		flags += "r"
	}
	val := "-"
	if tr.Value != nil {
		val = strconv.FormatFloat(*tr.Value, 'g', -1, 64)
	}
	return fmt.Sprintf("%d %c %s>%s%s %s", int(tr.At.Sub(t0)/time.Minute), tr.Severity[0], tr.From, tr.To, flags, val)
}

// runSeries evaluates th once a minute over the series from t0 and returns
// every transition, checking the invariants that hold for any series.
func runSeries(t testing.TB, th *Threshold, series string) []Transition {
	t.Helper()
	var all []Transition
	for i, v := range parseSeries(t, series) {
		now := t0.Add(time.Duration(i) * time.Minute)
		trs := th.Evaluate(now, v)
		for _, tr := range trs {
			if !tr.At.Equal(now) {
				t.Errorf("transition at %v, evaluated at %v", tr.At, now)
			}
			if v != nil && (tr.Value == nil || *tr.Value != *v) || v == nil && tr.Value != nil {
				t.Errorf("minute %d: transition value %v, evaluated with %v", i, tr.Value, v)
			}
		}
		all = append(all, trs...)
	}
	return all
}

func shows(trs []Transition) []string {
	out := make([]string, len(trs))
	for i, tr := range trs {
		out[i] = show(tr)
	}
	return out
}

func TestMachines(t *testing.T) {
	m := time.Minute
	// base is error_rate_percent above warning 5 / critical 10; cases set
	// what they need.
	cases := []struct {
		name   string
		rule   func(*Rule)
		series string
		want   []string
	}{
		{
			name:   "pending_for 0 fires at the first breach",
			rule:   func(r *Rule) { r.Warning = nil },
			series: "1 12 12 1 1",
			want:   []string{"1 c ok>firing! 12", "3 c firing>resolved! 1", "4 c resolved>ok 1"},
		},
		{
			name:   "pending_for holds the firing until it has elapsed",
			rule:   func(r *Rule) { r.Warning, r.PendingFor = nil, 2*m },
			series: "12 12 12 12",
			want:   []string{"0 c ok>pending 12", "2 c pending>firing! 12"},
		},
		{
			name:   "a breach shorter than pending_for never fires",
			rule:   func(r *Rule) { r.Warning, r.PendingFor = nil, 3*m },
			series: "12 12 1 12 12 12 1",
			want:   []string{"0 c ok>pending 12", "2 c pending>ok 1", "3 c ok>pending 12", "6 c pending>ok 1"},
		},
		{
			name:   "recovery_for needs a clear streak of that length",
			rule:   func(r *Rule) { r.Warning, r.RecoveryFor = nil, 3*m },
			series: "12 1 1 12 1 1 1 1",
			want:   []string{"0 c ok>firing! 12", "7 c firing>resolved! 1"},
		},
		{
			name: "hysteresis: between the value and the recovery value stays firing",
			rule: func(r *Rule) { r.Warning, r.RecoveryCritical = nil, f(8) },
			// 9 is not a breach (≤ 10) but not clear (> 8); 8 is clear.
			series: "12 9 9 10 9 8 9",
			want:   []string{"0 c ok>firing! 12", "5 c firing>resolved! 8", "6 c resolved>ok 9"},
		},
		{
			name:   "between resets the recovery streak",
			rule:   func(r *Rule) { r.Warning, r.RecoveryCritical, r.RecoveryFor = nil, f(8), 2*m },
			series: "12 7 9 7 7 7",
			want:   []string{"0 c ok>firing! 12", "5 c firing>resolved! 7"},
		},
		{
			name:   "a breach right after resolving fires again",
			rule:   func(r *Rule) { r.Warning = nil },
			series: "12 1 12",
			want:   []string{"0 c ok>firing! 12", "1 c firing>resolved! 1", "2 c resolved>firing! 12"},
		},
		{
			name:   "reminders every reminder_interval while firing",
			rule:   func(r *Rule) { r.Warning, r.ReminderInterval = nil, 10*m },
			series: strings.Repeat("12 ", 25) + "1",
			want:   []string{"0 c ok>firing! 12", "10 c firing>firing!r 12", "20 c firing>firing!r 12", "25 c firing>resolved! 1"},
		},
		{
			name:   "below",
			rule:   func(r *Rule) { r.Comparison, r.Warning, r.Critical = Below, f(99), f(95) },
			series: "100 98 90 99 100",
			// 99 is not below 99: both resolve at minute 3.
			want: []string{
				"1 w ok>firing! 98", "2 c ok>firing! 90",
				"3 c firing>resolved! 99", "3 w firing>resolved! 99",
				"4 c resolved>ok 100", "4 w resolved>ok 100",
			},
		},
		{
			name:   "escalation: a warning delivered before the critical stays delivered, its reminders wait",
			rule:   func(r *Rule) { r.ReminderInterval = 2 * m },
			series: "6 12 12 12 6 3",
			want: []string{
				"0 w ok>firing! 6",
				"1 c ok>firing! 12",
				// Minute 2: the warning's reminder is due but the critical fires.
				"3 c firing>firing!r 12",
				"4 c firing>resolved! 6", "4 w firing>firing!r 6",
				"5 c resolved>ok 3", "5 w firing>resolved! 3",
			},
		},
		{
			name:   "a jump past critical delivers only the critical, and the warning when left alone",
			rule:   func(*Rule) {},
			series: "12 12 6 3",
			want: []string{
				"0 c ok>firing! 12", "0 w ok>firing 12",
				"2 c firing>resolved! 6", "2 w firing>firing!r 6",
				"3 c resolved>ok 3", "3 w firing>resolved! 3",
			},
		},
		{
			name:   "a suppressed warning that resolves with the critical is never delivered",
			rule:   func(*Rule) {},
			series: "12 3",
			want:   []string{"0 c ok>firing! 12", "0 w ok>firing 12", "1 c firing>resolved! 3", "1 w firing>resolved 3"},
		},
		{
			name:   "no_data ok resolves",
			rule:   func(r *Rule) { r.Warning, r.NoData = nil, NoDataOK },
			series: "12 - -",
			want:   []string{"0 c ok>firing! 12", "1 c firing>resolved! -", "2 c resolved>ok -"},
		},
		{
			name:   "no_data alerting fires after pending_for",
			rule:   func(r *Rule) { r.NoData, r.PendingFor = NoDataAlerting, m },
			series: "1 - - - 1",
			want: []string{
				"1 c ok>pending -", "1 w ok>pending -",
				"2 c pending>firing! -", "2 w pending>firing -",
				"4 c firing>resolved! 1", "4 w firing>resolved 1",
			},
		},
		{
			name:   "no_data keep_last freezes a firing alert, reminders continue",
			rule:   func(r *Rule) { r.Warning, r.NoData, r.ReminderInterval = nil, NoDataKeepLast, 2*m },
			series: "12 - - - 1",
			want:   []string{"0 c ok>firing! 12", "2 c firing>firing!r -", "4 c firing>resolved! 1"},
		},
		{
			name:   "no_data keep_last freezes pending without restarting its timer",
			rule:   func(r *Rule) { r.Warning, r.NoData, r.PendingFor = nil, "", 3*m },
			series: "12 - - 12 -",
			want:   []string{"0 c ok>pending 12", "3 c pending>firing! 12"},
		},
		{
			name:   "no_data keep_last in ok stays ok",
			rule:   func(r *Rule) { r.NoData = NoDataKeepLast },
			series: "- - 1 -",
			want:   nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Rule{Metric: ErrorRatePercent, Comparison: Above, Warning: f(5), Critical: f(10), Window: 5 * m, NoData: NoDataOK}
			tc.rule(&r)
			if errs := r.Validate(); errs != nil {
				t.Fatalf("invalid rule: %v", errs)
			}
			got := shows(runSeries(t, NewThreshold(r), tc.series))
			if !slices.Equal(got, tc.want) {
				t.Errorf("transitions:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestFlappingNoStorm drives a figure that flaps around the critical value
// every minute for four hours, with a calm each hour, and counts what is
// recorded and delivered: with hysteresis or recovery_for, one firing and one
// resolution per calm instead of one pair per flap.
func TestFlappingNoStorm(t *testing.T) {
	// The figure swings between 11 (a breach) and 9 (below critical 10
	// but above the recovery value 6), with a 7-minute calm at 3 every
	// hour from minute 40.
	var b strings.Builder
	for i := range 240 {
		switch {
		case i%60 >= 40 && i%60 < 47:
			b.WriteString("3 ")
		case i%2 == 0:
			b.WriteString("11 ")
		default:
			b.WriteString("9 ")
		}
	}
	b.WriteString(strings.Repeat("3 ", 20))
	series := b.String()
	// Each hour holds 26 breaching minutes (the even minutes 0-38 and
	// 48-58), 27 flapping ones at 9 (odd 1-39 and 47-59) and the calm;
	// the series ends with 20 calm minutes (240-259).
	cases := []struct {
		name              string
		rule              func(*Rule)
		notified, records int
	}{
		// Without damping every flap is an incident: 4·26 firings and as
		// many resolutions, all delivered — the storm — plus resolved>ok
		// at the start of the 5 calms (40, 100, 160, 220, 240).
		{name: "no damping", rule: func(*Rule) {}, notified: 2 * 4 * 26, records: 2*4*26 + 5},
		// Hysteresis alone: 9 is not clear, so each calm ends one incident
		// and the next breach (0, 48, 108, 168, 228) starts one: 5
		// firings, 5 resolutions (40, 100, 160, 220, 240), 5 resolved>ok.
		{name: "hysteresis", rule: func(r *Rule) { r.RecoveryCritical = f(6) }, notified: 2 * 5, records: 3 * 5},
		// recovery_for alone: a single clear minute never lasts 2, so
		// the same 5 incidents, each resolving a minute into the calm.
		{name: "recovery_for", rule: func(r *Rule) { r.RecoveryFor = 2 * time.Minute }, notified: 2 * 5, records: 3 * 5},
		// pending_for alone keeps the deliveries away, since no breach
		// lasts 2 minutes, but every flap is recorded: 104 ok>pending
		// and 104 pending>ok.
		{name: "pending_for", rule: func(r *Rule) { r.PendingFor = 2 * time.Minute }, notified: 0, records: 2 * 4 * 26},
		// Hysteresis and recovery_for 5m, with reminders every 15
		// minutes: 5 incidents resolving 5 minutes into each calm (45,
		// 105, 165, 225, 245). The first fires at 0 with reminders at 15
		// and 30; the next three fire at 48, 108 and 168 with
		// reminders 15, 30 and 45 minutes in (the last of them in the
		// calm, before the resolution); the last fires at 228 with a
		// reminder at 243: 2 + 3·3 + 1 = 12 reminders, 5 firings, 5
		// resolutions, 5 resolved>ok.
		{name: "hysteresis, recovery_for and reminders", rule: func(r *Rule) {
			r.RecoveryCritical, r.RecoveryFor, r.ReminderInterval = f(6), 5*time.Minute, 15*time.Minute
		}, notified: 12 + 2*5, records: 12 + 3*5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Rule{Metric: ErrorRatePercent, Comparison: Above, Critical: f(10), Window: time.Minute, NoData: NoDataOK}
			tc.rule(&r)
			if errs := r.Validate(); errs != nil {
				t.Fatalf("invalid rule: %v", errs)
			}
			trs := runSeries(t, NewThreshold(r), series)
			notified := 0
			for _, tr := range trs {
				if tr.Notify {
					notified++
				}
			}
			if notified != tc.notified || len(trs) != tc.records {
				t.Errorf("notified %d of %d transitions, want %d of %d: %q", notified, len(trs), tc.notified, tc.records, shows(trs))
			}
		})
	}
}

func TestResolveAll(t *testing.T) {
	r := Rule{Metric: ErrorRatePercent, Comparison: Above, Warning: f(5), Critical: f(10), Window: time.Minute, PendingFor: 2 * time.Minute}
	th := NewThreshold(r)
	runSeries(t, th, "12 12 12 6")
	th.Rule.PendingFor = 0
	now := t0.Add(time.Hour)
	got := shows(th.ResolveAll(now))
	// The critical resolved at minute 3 and the warning, left firing
	// alone, was delivered then; so its resolution is delivered too.
	want := []string{"60 c resolved>ok -", "60 w firing>resolved! -"}
	if !slices.Equal(got, want) {
		t.Errorf("ResolveAll = %q, want %q", got, want)
	}
	if th.Critical.State != OK || th.Warning.State != OK {
		t.Errorf("states after ResolveAll: %s, %s", th.Critical.State, th.Warning.State)
	}
}

// TestMachineInvariants drives random rules over random series and checks
// what must hold whatever the figures: the transitions of a severity chain
// (each starts where the previous ended), deliveries pair up (a delivered
// resolution closes exactly one delivered firing, reminders come only in
// between), no warning is delivered while the critical fires, and a
// threshold restored from its stored machines carries on exactly as one
// that never stopped.
func TestMachineInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	values := []*float64{f(1), f(6), f(7.5), f(9), f(12), nil}
	durations := []time.Duration{0, 10 * time.Second, time.Minute, 3 * time.Minute}
	policies := []NoData{NoDataOK, NoDataAlerting, NoDataKeepLast}
	for run := range 300 {
		r := Rule{
			Metric: ErrorRatePercent, Comparison: Above, Warning: f(5), Critical: f(10), Window: time.Minute,
			PendingFor: durations[rng.IntN(4)], RecoveryFor: durations[rng.IntN(4)],
			ReminderInterval: durations[rng.IntN(4)], NoData: policies[rng.IntN(3)],
		}
		if rng.IntN(2) == 0 {
			r.RecoveryWarning, r.RecoveryCritical = f(3), f(8)
		}
		if errs := r.Validate(); errs != nil {
			t.Fatalf("invalid rule: %v", errs)
		}
		th, first := NewThreshold(r), NewThreshold(r)
		var second *Threshold
		state := map[Severity]State{Critical: OK, Warning: OK}
		open := map[Severity]bool{}
		n := 200
		for i := range n {
			now := t0.Add(time.Duration(i) * 20 * time.Second)
			v := values[rng.IntN(len(values))]
			trs := th.Evaluate(now, v)
			// The same series through a threshold stored and restored
			// half way.
			if i == n/2 {
				second = &Threshold{Rule: r, Critical: first.Critical, Warning: first.Warning}
				first = second
			}
			if got, want := shows(first.Evaluate(now, v)), shows(trs); !slices.Equal(got, want) {
				t.Fatalf("run %d step %d: restored threshold gave %q, want %q", run, i, got, want)
			}
			for _, tr := range trs {
				s := tr.Severity
				if tr.From != state[s] {
					t.Fatalf("run %d step %d: %s from %s, but it was %s", run, i, s, tr.From, state[s])
				}
				state[s] = tr.To
				switch {
				case !tr.Notify:
				case tr.To == Resolved:
					if !open[s] {
						t.Fatalf("run %d step %d: %s resolution delivered without a delivered firing", run, i, s)
					}
					open[s] = false
				case tr.To == Firing && tr.From == Firing && !tr.Reminder:
					t.Fatalf("run %d step %d: firing>firing that is not a reminder", run, i)
				case tr.To == Firing && tr.From != Firing:
					if open[s] {
						t.Fatalf("run %d step %d: %s delivered firing twice", run, i, s)
					}
					open[s] = true
				case tr.Reminder:
					// A reminder opens a suppressed firing or repeats an
					// open one; either way the alert is firing.
					open[s] = true
				default:
					t.Fatalf("run %d step %d: delivered %s>%s", run, i, tr.From, tr.To)
				}
				if s == Warning && tr.Notify && tr.To != Resolved && th.Critical.State == Firing {
					t.Fatalf("run %d step %d: warning delivered while critical fires", run, i)
				}
			}
			if th.Critical.state() != state[Critical] || th.Warning.state() != state[Warning] {
				t.Fatalf("run %d step %d: machines %s/%s, transitions say %s/%s", run, i,
					th.Critical.state(), th.Warning.state(), state[Critical], state[Warning])
			}
		}
	}
}
