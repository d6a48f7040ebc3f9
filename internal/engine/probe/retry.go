package probe

import (
	"slices"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// retryPolicy is a monitor's retry strategy with its defaults resolved. The
// defaults are resolved here, when the probe runs, and never stored, so that
// what the provider planned is what the API returns.
type retryPolicy struct {
	kind       string
	maxRetries int
	base, max  time.Duration
	jitter     bool

	// explicit is true when retry_on is set; without it every failed
	// attempt is retried (except fatal ones).
	explicit    bool
	network     bool
	timeout     bool
	statusCodes []int64
}

// newRetryPolicy resolves rs: nil or type none means a single attempt;
// max_retries defaults to DefaultRetries, base_backoff to 1s, max_backoff to
// 30s; retry_on's network_error and timeout default to true when retry_on is
// set but they are not.
func newRetryPolicy(rs *api.RetryStrategy) retryPolicy {
	p := retryPolicy{kind: api.RetryNone, base: api.DefaultRetryBase, max: api.DefaultRetryMax}
	if rs == nil || rs.Type == api.RetryNone || rs.Type == "" {
		return p
	}
	p.kind = rs.Type
	p.maxRetries = DefaultRetries
	if rs.MaxRetries != nil {
		p.maxRetries = int(min(max(*rs.MaxRetries, 0), api.MaxRetries))
	}
	if rs.BaseBackoff != nil {
		if d, err := api.ParseDuration(*rs.BaseBackoff); err == nil {
			p.base = d
		}
	}
	if rs.MaxBackoff != nil {
		if d, err := api.ParseDuration(*rs.MaxBackoff); err == nil {
			p.max = d
		}
	}
	// A max below the base (refused by validation) would make every wait
	// the max; take the base as the floor instead of waiting less than
	// asked for.
	p.max = max(p.max, p.base)
	p.jitter = rs.Jitter != nil && *rs.Jitter
	if on := rs.RetryOn; on != nil {
		p.explicit = true
		p.network = on.NetworkError == nil || *on.NetworkError
		p.timeout = on.Timeout == nil || *on.Timeout
		p.statusCodes = on.StatusCodes
	}
	return p
}

// shouldRetry tells whether a failed attempt is worth another try.
func (p retryPolicy) shouldRetry(a attempt) bool {
	if p.maxRetries == 0 || a.kind == failFatal {
		return false
	}
	if !p.explicit {
		return true
	}
	switch a.kind {
	case failNetwork:
		return p.network
	case failTimeout:
		return p.timeout
	case failResponse:
		return a.status != nil && slices.Contains(p.statusCodes, int64(*a.status))
	}
	return false
}

// backoff is the wait before retry n (1 for the first retry): fixed waits
// the base each time, linear base×n, exponential base×2^(n-1), all capped at
// max. With jitter the wait is drawn uniformly from [0, wait) ("full
// jitter"), which spreads retries of monitors that failed together.
func (p retryPolicy) backoff(n int, rnd func() float64) time.Duration {
	var d time.Duration
	switch p.kind {
	case api.RetryLinear:
		d = mulCap(p.base, int64(n), p.max)
	case api.RetryExponential:
		d = p.base
		for i := 1; i < n && d < p.max; i++ {
			d = mulCap(d, 2, p.max)
		}
	default: // fixed
		d = p.base
	}
	d = min(d, p.max)
	if p.jitter {
		d = time.Duration(rnd() * float64(d))
	}
	return d
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
// that come due meanwhile.
func WorstCaseDuration(m api.Monitor) time.Duration {
	p := newRetryPolicy(m.Retry)
	total := time.Duration(p.maxRetries+1) * m.EffectiveTimeout()
	noJitter := p
	noJitter.jitter = false
	for n := 1; n <= p.maxRetries; n++ {
		total += noJitter.backoff(n, nil)
	}
	return total
}
