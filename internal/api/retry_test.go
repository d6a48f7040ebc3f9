package api

import (
	"testing"
	"time"
)

func TestWorstCaseDuration(t *testing.T) {
	cases := []struct {
		name string
		m    Monitor
		want time.Duration
	}{
		{"no retries: one timeout", Monitor{Interval: ptr("30s"), Timeout: ptr("5s")}, 5 * time.Second},
		{"default timeout is min(10s, interval)", Monitor{Interval: ptr("6s")}, 6 * time.Second},
		{"exponential 3 retries", Monitor{Interval: ptr("60s"), Timeout: ptr("5s"),
			Retry: &RetryStrategy{Type: RetryExponential, MaxRetries: ptr[int64](3), BaseBackoff: ptr("1s")}},
			4*5*time.Second + (1+2+4)*time.Second},
		{"default retries (2), fixed 1s, jitter ignored", Monitor{Interval: ptr("60s"), Timeout: ptr("2s"),
			Retry: &RetryStrategy{Type: RetryFixed, Jitter: ptr(true)}},
			3*2*time.Second + 2*time.Second},
	}
	for _, tc := range cases {
		if got := tc.m.WorstCaseDuration(); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRetryScheduleBackoff(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		typ       string
		base, max time.Duration
		want      []time.Duration // waits before retries 1, 2, ...
	}{
		{RetryFixed, 100 * ms, time.Second, []time.Duration{100 * ms, 100 * ms, 100 * ms}},
		{RetryLinear, 100 * ms, time.Second, []time.Duration{100 * ms, 200 * ms, 300 * ms}},
		{RetryLinear, 400 * ms, time.Second, []time.Duration{400 * ms, 800 * ms, time.Second}},
		{RetryExponential, 100 * ms, time.Second, []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second}},
	}
	for _, tc := range cases {
		s := RetrySchedule{Type: tc.typ, Base: tc.base, Max: tc.max}
		for i, want := range tc.want {
			if got := s.Backoff(i + 1); got != want {
				t.Errorf("%s base %v max %v: retry %d waits %v, want %v", tc.typ, tc.base, tc.max, i+1, got, want)
			}
		}
	}
	// Huge exponents saturate at the cap instead of overflowing.
	s := RetrySchedule{Type: RetryExponential, Base: time.Hour, Max: 30 * time.Second}
	if got := s.Backoff(64); got != 30*time.Second {
		t.Errorf("retry 64 waits %v, want the cap", got)
	}
}

func TestRetryStrategySchedule(t *testing.T) {
	cases := []struct {
		name string
		rs   *RetryStrategy
		want RetrySchedule
	}{
		{"nil is one attempt", nil, RetrySchedule{Type: RetryNone, Base: time.Second, Max: 30 * time.Second}},
		{"none is one attempt", &RetryStrategy{Type: RetryNone, MaxRetries: ptr[int64](5)},
			RetrySchedule{Type: RetryNone, Base: time.Second, Max: 30 * time.Second}},
		{"defaults", &RetryStrategy{Type: RetryExponential},
			RetrySchedule{Type: RetryExponential, Retries: DefaultRetries, Base: time.Second, Max: 30 * time.Second}},
		{"max_retries clamped", &RetryStrategy{Type: RetryFixed, MaxRetries: ptr[int64](99)},
			RetrySchedule{Type: RetryFixed, Retries: MaxRetries, Base: time.Second, Max: 30 * time.Second}},
		{"max below base takes the base", &RetryStrategy{Type: RetryLinear, BaseBackoff: ptr("5s"), MaxBackoff: ptr("2s")},
			RetrySchedule{Type: RetryLinear, Retries: DefaultRetries, Base: 5 * time.Second, Max: 5 * time.Second}},
	}
	for _, tc := range cases {
		if got := tc.rs.Schedule(); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
