package server

import (
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
)

// TestDefaultRateLimitFitsTerraform checks the arithmetic behind
// DefaultRateLimit and DefaultRateBurst on the limiter itself: a refresh of
// 10,000 resources, one GET each, sent at 500 requests per second (above
// the ~480 resources per second that Terraform itself manages with a
// provider that does nothing, issue 13) is never refused, even right after
// a plan's burst; a runaway client at 5,000 requests per second is held to
// the limit.
func TestDefaultRateLimitFitsTerraform(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	s := &Server{cfg: Config{RateLimit: DefaultRateLimit, RateBurst: DefaultRateBurst}, clock: clk}
	tok := api.Token{ID: "tok_ci"}
	refresh := func(n int, every time.Duration) (refused int) {
		for range n {
			if !s.limiter(tok).AllowN(now, 1) {
				refused++
			}
			now = now.Add(every)
			clk.Set(now)
		}
		return refused
	}
	// Two refreshes back to back (a plan, then the apply's own refresh).
	for i := range 2 {
		if refused := refresh(10000, 2*time.Millisecond); refused != 0 {
			t.Errorf("refresh %d of 10,000 at 500/s: %d requests refused", i+1, refused)
		}
	}
	// Bursts: 10 operations at once, all 10,000 sent as fast as aiod answers
	// a plain client on the benchmark machine (about 5,000 GETs per second).
	now = now.Add(time.Minute)
	clk.Set(now)
	refused := refresh(10000, 200*time.Microsecond)
	// 2 s at 1,000/s plus the burst of 2,000 lets about 4,000 through.
	if refused < 5000 || refused > 7000 {
		t.Errorf("a runaway client at 5,000/s: %d of 10,000 refused, want about 6,000", refused)
	}

	// A token's own rate_limit wins over the default, with a burst of
	// twice it.
	slow := 5.0
	tok = api.Token{ID: "tok_slow", RateLimit: &slow}
	if l := s.limiter(tok); float64(l.Limit()) != 5 || l.Burst() != 10 {
		t.Errorf("token rate_limit 5: limiter %v/s burst %d, want 5/s burst 10", l.Limit(), l.Burst())
	}
}
