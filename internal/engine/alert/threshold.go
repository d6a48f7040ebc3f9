package alert

import (
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/stats"
)

// Threshold is a rule with its two state machines, one per severity. A
// machine runs only when its severity is configured (a value for plain
// metrics, a pair for error_budget_burn_rate).
//
// Warning and critical are independent machines, both always evaluated and
// both recorded, so the current alerts show each severity's true state. Their
// notifications are not independent: while the critical machine is firing,
// the warning machine's transitions are recorded without Notify and its
// reminders are not sent, because a breach past critical is also past
// warning and the receivers would get two pages for one incident. A warning
// that fired before the critical keeps its delivered firing and its
// delivered resolution; one that fired while the critical was firing and
// is still firing when the critical resolves is delivered then, as a
// reminder, so that the receivers learn it is not over; one delivered before
// the critical fired resumes its reminders when the critical resolves, the
// first one at once if it fell due meanwhile.
//
// A Threshold is not safe for concurrent use; the engine evaluates each one
// from one goroutine at a time.
type Threshold struct {
	// Rule is the threshold's rule; it should have passed Validate.
	Rule Rule
	// Critical and Warning are the machines, exported for the store.
	Critical, Warning Machine
}

// NewThreshold returns a threshold for r with both machines OK.
func NewThreshold(r Rule) *Threshold { return &Threshold{Rule: r} }

func (t *Threshold) timing() timing {
	return timing{pendingFor: t.Rule.PendingFor, recoveryFor: t.Rule.RecoveryFor, reminder: t.Rule.ReminderInterval}
}

// noData turns the rule's no-data policy into an observation.
func (t *Threshold) noData() obs {
	switch t.Rule.NoData {
	case NoDataOK:
		return obsClear
	case NoDataAlerting:
		return obsBreach
	}
	return obsFrozen
}

// classify compares value with a severity's value and recovery value.
func classify(c Comparison, v, limit float64, recovery *float64) obs {
	if severer(c, v, limit) {
		return obsBreach
	}
	if recovery != nil && severer(c, v, *recovery) {
		return obsBetween
	}
	return obsClear
}

// Evaluate evaluates a threshold of a metric other than
// error_budget_burn_rate with the figure seen at now (nil: no data) and
// returns the transitions, critical first; nil when nothing changed.
func (t *Threshold) Evaluate(now time.Time, value *float64) []Transition {
	return t.AppendEvaluate(nil, now, value)
}

// AppendEvaluate is Evaluate appending to dst, so that an engine evaluating
// many thresholds can reuse one slice and not allocate.
func (t *Threshold) AppendEvaluate(dst []Transition, now time.Time, value *float64) []Transition {
	r := &t.Rule
	tm := t.timing()
	cmp := r.Comparison
	see := func(limit, recovery *float64) obs {
		if value == nil {
			return t.noData()
		}
		return classify(cmp, *value, *limit, recovery)
	}
	if r.Critical != nil {
		dst = t.Critical.step(dst, now, see(r.Critical, r.RecoveryCritical), value, Critical, tm, false, nil)
	}
	if r.Warning != nil {
		dst = t.Warning.step(dst, now, see(r.Warning, r.RecoveryWarning), value, Warning, tm, t.Critical.state() == Firing, nil)
	}
	return dst
}

// PairRates are the burn rates of one burn-rate pair's long and short
// windows; HasLong and HasShort are false for a window without probes.
type PairRates struct {
	Long, Short       float64
	HasLong, HasShort bool
}

// PairBurn computes the rates of a pair from the rollups of its long and
// short windows and the SLO's budget (SLO.Budget).
func PairBurn(long, short *stats.Rollup, budget float64) PairRates {
	var p PairRates
	p.Long, p.HasLong = BurnRate(long, budget)
	p.Short, p.HasShort = BurnRate(short, budget)
	return p
}

// EvaluateBurnRates evaluates an error_budget_burn_rate threshold at now.
// rates holds the burn rates of the rule's pairs (Rule.Windows), in order;
// missing entries count as no data.
//
// A pair breaches when both of its rates exceed its factor. A severity
// breaches when any of its pairs does, and is clear when none does and at
// least one has both rates; without that, the no-data policy applies. The
// value of a severity is the one of its pair that is furthest past its
// factor (relative to the factor): the smaller of the pair's two rates,
// which is the rate both windows exceed. There is no hysteresis value: the
// short window is what makes a burn-rate alert resolve promptly once the
// errors stop, and recovery_for still applies.
func (t *Threshold) EvaluateBurnRates(now time.Time, rates []PairRates) []Transition {
	return t.AppendEvaluateBurnRates(nil, now, rates)
}

// AppendEvaluateBurnRates is EvaluateBurnRates appending to dst.
func (t *Threshold) AppendEvaluateBurnRates(dst []Transition, now time.Time, rates []PairRates) []Transition {
	pairs := t.Rule.Windows()
	tm := t.timing()
	for _, sev := range [...]Severity{Critical, Warning} {
		var (
			present, seen, breach bool
			best                  = -1
			bestScore             float64
			value                 float64
		)
		for i := range pairs {
			p := &pairs[i]
			if p.Severity != sev {
				continue
			}
			present = true
			if i >= len(rates) || !rates[i].HasLong || !rates[i].HasShort {
				continue
			}
			seen = true
			v := min(rates[i].Long, rates[i].Short)
			// Compared directly, not through the score, so that the
			// rounding of a division cannot move the boundary.
			breach = breach || v > p.Factor
			if s := v / p.Factor; best < 0 || s > bestScore {
				best, bestScore, value = i, s, v
			}
		}
		if !present {
			continue
		}
		m, suppress := &t.Critical, false
		if sev == Warning {
			m, suppress = &t.Warning, t.Critical.state() == Firing
		}
		if !seen {
			dst = m.step(dst, now, t.noData(), nil, sev, tm, suppress, nil)
			continue
		}
		o := obsClear
		if breach {
			o = obsBreach
		}
		dst = m.step(dst, now, o, &value, sev, tm, suppress, &pairs[best])
	}
	return dst
}

// ResolveAll ends both machines' episodes at now, for a threshold that was
// changed or deleted: firing alerts resolve (delivered when their firing
// was), pending ones go ok. The engine stores the transitions with the
// reason.
func (t *Threshold) ResolveAll(now time.Time) []Transition {
	dst := t.Critical.reset(nil, now, Critical)
	return t.Warning.reset(dst, now, Warning)
}
