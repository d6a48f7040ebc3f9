package probe

import (
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

func TestWorstCaseDuration(t *testing.T) {
	ptr := func(s string) *string { return &s }
	n := func(v int64) *int64 { return &v }
	cases := []struct {
		name string
		m    api.Monitor
		want time.Duration
	}{
		{"no retries: one timeout", api.Monitor{Interval: ptr("30s"), Timeout: ptr("5s")}, 5 * time.Second},
		{"default timeout is min(10s, interval)", api.Monitor{Interval: ptr("6s")}, 6 * time.Second},
		{"exponential 3 retries", api.Monitor{Interval: ptr("60s"), Timeout: ptr("5s"),
			Retry: &api.RetryStrategy{Type: api.RetryExponential, MaxRetries: n(3), BaseBackoff: ptr("1s")}},
			4*5*time.Second + (1+2+4)*time.Second},
		{"default retries (2), fixed 1s, jitter ignored", api.Monitor{Interval: ptr("60s"), Timeout: ptr("2s"),
			Retry: &api.RetryStrategy{Type: api.RetryFixed, Jitter: new(true)}},
			3*2*time.Second + 2*time.Second},
	}
	for _, tc := range cases {
		if got := WorstCaseDuration(tc.m); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
