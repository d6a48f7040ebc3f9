package probe

import (
	"slices"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// retryPolicy is a monitor's retry strategy with its defaults resolved. The
// count and the waits are api.RetrySchedule, the same arithmetic the
// provider's plan-time warning adds up; this type adds what only a running
// probe needs: jitter and which failures are retried.
type retryPolicy struct {
	api.RetrySchedule
	jitter bool

	// explicit is true when retry_on is set; without it every failed
	// attempt is retried (except fatal ones).
	explicit    bool
	network     bool
	timeout     bool
	statusCodes []int64
}

// newRetryPolicy resolves rs (see api.RetryStrategy.Schedule for the count
// and waits); retry_on's network_error and timeout default to true when
// retry_on is set but they are not.
func newRetryPolicy(rs *api.RetryStrategy) retryPolicy {
	p := retryPolicy{RetrySchedule: rs.Schedule()}
	if p.Type == api.RetryNone {
		// Also covers a nil rs: a single attempt, nothing more to read.
		return p
	}
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
	if p.Retries == 0 || a.kind == failFatal {
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

// backoff is the wait before retry n (1 for the first retry): the
// schedule's wait, and with jitter a wait drawn uniformly from [0, wait)
// ("full jitter"), which spreads retries of monitors that failed together.
func (p retryPolicy) backoff(n int, rnd func() float64) time.Duration {
	d := p.Backoff(n)
	if p.jitter {
		d = time.Duration(rnd() * float64(d))
	}
	return d
}
