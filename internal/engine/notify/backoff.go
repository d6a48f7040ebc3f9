package notify

import "time"

// Defaults of Backoff.
const (
	// DefaultInitialDelay is the wait after the first failed attempt.
	DefaultInitialDelay = 5 * time.Second
	// DefaultMaxDelay caps one wait: a receiver back from an outage
	// should not wait hours for the next attempt.
	DefaultMaxDelay = 30 * time.Minute
	// DefaultGiveUpAfter is how long a delivery is retried, counted from
	// its first attempt: a day covers a weekend-long outage's first day
	// and a receiver's maintenance, and bounds the outbox.
	DefaultGiveUpAfter = 24 * time.Hour
	// DefaultMaxRetryAfter caps the wait a receiver may ask for with
	// Retry-After, so that a misconfigured receiver cannot park a
	// delivery for the whole retry period with one answer.
	DefaultMaxRetryAfter = time.Hour
)

// Backoff is the delivery worker's retry schedule: capped, jittered
// exponential waits, for up to GiveUpAfter. The zero value uses the
// defaults. Its methods are pure functions of their arguments (the caller
// passes the time and the random number), so the schedule is tested
// exactly.
type Backoff struct {
	// InitialDelay is the base wait after the first failed attempt.
	InitialDelay time.Duration
	// MaxDelay caps the base wait of any attempt.
	MaxDelay time.Duration
	// GiveUpAfter is how long after the first attempt the worker stops
	// retrying.
	GiveUpAfter time.Duration
	// MaxRetryAfter caps a receiver's Retry-After.
	MaxRetryAfter time.Duration
}

func (b Backoff) withDefaults() Backoff {
	if b.InitialDelay <= 0 {
		b.InitialDelay = DefaultInitialDelay
	}
	if b.MaxDelay <= 0 {
		b.MaxDelay = DefaultMaxDelay
	}
	if b.GiveUpAfter <= 0 {
		b.GiveUpAfter = DefaultGiveUpAfter
	}
	if b.MaxRetryAfter <= 0 {
		b.MaxRetryAfter = DefaultMaxRetryAfter
	}
	return b
}

// Delay returns the wait after attempt number attempt (1 for the first)
// failed: InitialDelay doubled per attempt, capped at MaxDelay, then
// jittered into [base/2, base) by jitter, a number in [0, 1). The jitter
// spreads the retries of the many deliveries that failed together (a
// receiver's outage) so that they do not return as one burst; keeping half
// the base makes the wait still grow with every attempt.
func (b Backoff) Delay(attempt int, jitter float64) time.Duration {
	b = b.withDefaults()
	base := b.MaxDelay
	// Doubling past the cap would overflow; 40 doublings of a nanosecond
	// already exceed any sensible cap.
	if attempt >= 1 && attempt <= 40 {
		if d := b.InitialDelay << (attempt - 1); d > 0 && d < base {
			base = d
		}
	} else if attempt < 1 {
		base = min(b.InitialDelay, b.MaxDelay)
	}
	jitter = min(max(jitter, 0), 1)
	return base/2 + time.Duration(float64(base/2)*jitter)
}

// Next returns when to make the next attempt after attempt number attempt
// failed at now, for a delivery first attempted at first, or false when the
// worker should give up. The wait is Delay, or the receiver's Retry-After
// (capped at MaxRetryAfter) when that is longer. The last attempt is made
// at first+GiveUpAfter at the latest, so that the whole retry period is
// used even when the computed wait would overshoot it.
func (b Backoff) Next(attempt int, first, now time.Time, retryAfter time.Duration, jitter float64) (time.Time, bool) {
	b = b.withDefaults()
	deadline := first.Add(b.GiveUpAfter)
	if !now.Before(deadline) {
		return time.Time{}, false
	}
	wait := b.Delay(attempt, jitter)
	if ra := min(retryAfter, b.MaxRetryAfter); ra > wait {
		wait = ra
	}
	at := now.Add(wait)
	if at.After(deadline) {
		at = deadline
	}
	return at, true
}
