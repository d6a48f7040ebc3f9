package api

import "time"

// DefaultRetries is the number of retries of a retry strategy whose type is
// not none but whose max_retries is unset: a strategy that names a backoff
// but no count clearly wants some retries, and two keeps a probe run short.
const DefaultRetries = 2

// RetrySchedule is a retry strategy's count and waits with the defaults
// resolved. The engine waits by it between attempts and the provider adds
// it up for its plan-time warning; both use this one arithmetic so that the
// warning tells what the engine does. The defaults are resolved when needed
// and never stored, so that what the provider planned is what the API
// returns.
type RetrySchedule struct {
	// Type is the strategy's type: RetryNone when there are no retries.
	Type string
	// Retries is how many retries may follow a failed first attempt,
	// from 0 to MaxRetries.
	Retries int
	// Base is the first wait and the unit of the longer ones.
	Base time.Duration
	// Max caps every wait; it is never below Base.
	Max time.Duration
}

// Schedule resolves rs: nil, an empty type or type none means a single
// attempt; max_retries defaults to DefaultRetries (and is clamped to
// 0..MaxRetries), base_backoff to DefaultRetryBase, max_backoff to
// DefaultRetryMax. A backoff that does not parse (refused by validation)
// keeps its default.
func (rs *RetryStrategy) Schedule() RetrySchedule {
	s := RetrySchedule{Type: RetryNone, Base: DefaultRetryBase, Max: DefaultRetryMax}
	if rs == nil || rs.Type == RetryNone || rs.Type == "" {
		return s
	}
	s.Type = rs.Type
	s.Retries = DefaultRetries
	if rs.MaxRetries != nil {
		s.Retries = int(min(max(*rs.MaxRetries, 0), MaxRetries))
	}
	if rs.BaseBackoff != nil {
		if d, err := ParseDuration(*rs.BaseBackoff); err == nil {
			s.Base = d
		}
	}
	if rs.MaxBackoff != nil {
		if d, err := ParseDuration(*rs.MaxBackoff); err == nil {
			s.Max = d
		}
	}
	// A max below the base (refused by validation) would make every wait
	// the max; take the base as the floor instead of waiting less than
	// asked for.
	s.Max = max(s.Max, s.Base)
	return s
}

// Backoff is the wait before retry n (1 for the first retry), before any
// jitter: fixed waits the base each time, linear base×n, exponential
// base×2^(n-1), all capped at Max. Jitter, which the engine draws on top,
// only ever shortens the wait, so this is also the longest wait.
func (s RetrySchedule) Backoff(n int) time.Duration {
	var d time.Duration
	switch s.Type {
	case RetryLinear:
		d = mulCap(s.Base, int64(n), s.Max)
	case RetryExponential:
		d = s.Base
		for i := 1; i < n && d < s.Max; i++ {
			d = mulCap(d, 2, s.Max)
		}
	default: // fixed
		d = s.Base
	}
	return min(d, s.Max)
}

// mulCap multiplies without overflowing past limit.
func mulCap(d time.Duration, k int64, limit time.Duration) time.Duration {
	if k > 0 && d > limit/time.Duration(k) {
		return limit
	}
	return d * time.Duration(k)
}

// WorstCaseDuration is the longest one run of m can take: every attempt
// timing out, with the longest waits between them (jitter only shortens
// them). A run longer than the interval makes the scheduler skip the runs
// that come due meanwhile, which the provider warns about at plan time.
func (m *Monitor) WorstCaseDuration() time.Duration {
	s := m.Retry.Schedule()
	total := time.Duration(s.Retries+1) * m.EffectiveTimeout()
	for n := 1; n <= s.Retries; n++ {
		total += s.Backoff(n)
	}
	return total
}
