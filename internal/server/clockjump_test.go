package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
)

// TestClockJumpsAndTokens: with the wall clock set forward and back, a
// token's expiry stays the absolute time it was given (refused once the
// clock is past it, whichever way the clock got there), and the per-token
// rate limit recovers on the clock's new time rather than staying shut
// until the old time comes round again.
func TestClockJumpsAndTokens(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake, RateLimit: 5, RateBurst: 5})
	tok, secret := storeToken(t, srv, fake, "short", api.RoleViewer, time.Hour)
	if tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(t0.Add(time.Hour).Truncate(time.Microsecond)) {
		t.Fatalf("expires_at = %v, want %v", tok.ExpiresAt, t0.Add(time.Hour))
	}
	whoami := func(secret string) int {
		t.Helper()
		return call(t, srv, http.MethodGet, "/v1/whoami", secret, nil).Status
	}
	for _, step := range []struct {
		name string
		at   time.Time
		want int
	}{
		{"before expiry", t0.Add(30 * time.Minute), http.StatusOK},
		{"clock jumped two hours forward", t0.Add(2 * time.Hour), http.StatusUnauthorized},
		{"clock set back before the expiry", t0.Add(10 * time.Minute), http.StatusOK},
		{"clock set back a day", t0.Add(-24 * time.Hour), http.StatusOK},
		{"a second after the expiry", t0.Add(time.Hour + time.Second), http.StatusUnauthorized},
	} {
		fake.Set(step.at)
		if got := whoami(secret); got != step.want {
			t.Errorf("%s: the 1 h token answered %d, want %d", step.name, got, step.want)
		}
	}

	// The rate limit: spend the burst with the clock ahead, set it back
	// an hour; a second later on the new time, requests pass again.
	viewer := srv.Tokens[api.RoleViewer]
	fake.Set(t0.Add(3 * time.Hour))
	limited := false
	for range 20 {
		if whoami(viewer) == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("the rate limit never answered 429")
	}
	fake.Set(t0.Add(2 * time.Hour))
	fake.Advance(time.Second)
	if got := whoami(viewer); got != http.StatusOK {
		t.Errorf("a second after the clock went back an hour, a request answered %d, want 200", got)
	}
}
