package alert

import (
	"math"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/stats"
)

// TestFromRollupMatchesStatus checks every windowed metric against the
// figures of the status page (stats.Status), so that a threshold and the
// page cannot disagree.
func TestFromRollupMatchesStatus(t *testing.T) {
	var r stats.Rollup
	outcomes := []string{api.OutcomeUp, api.OutcomeUp, api.OutcomeDegraded, api.OutcomeDown, api.OutcomeUp}
	for i := range 200 {
		r.Add(api.ProbeResult{Outcome: outcomes[i%len(outcomes)], LatencyMS: float64(10 + i%37*3), Attempts: 1 + i%7/6, BytesReceived: 100})
	}
	// A run that never reached the network: down, and no latency.
	r.Add(api.ProbeResult{Outcome: api.OutcomeDown})
	window := 10 * time.Minute
	st := stats.Status(&r, window)
	want := map[Metric]*float64{
		AvailabilityPercent: st.AvailabilityPercent,
		ErrorRatePercent:    st.ErrorRatePercent,
		RetryRatePercent:    st.RetryRatePercent,
		LatencyAvgMS:        st.LatencyAvgMS,
		LatencyP95MS:        st.LatencyP95MS,
		LatencyP99MS:        st.LatencyP99MS,
		ProbesPerMinute:     st.ProbesPerMinute,
	}
	for _, m := range Metrics {
		v, ok := FromRollup(m, &r, window)
		w, windowed := want[m]
		if windowed != m.Windowed() {
			t.Errorf("%s: Windowed() = %v", m, m.Windowed())
		}
		if !windowed {
			if ok {
				t.Errorf("%s is not windowed but FromRollup gave %v", m, v)
			}
			continue
		}
		if w == nil || !ok || v != *w {
			t.Errorf("%s = %v (%v), status says %v", m, v, ok, w)
		}
	}
	if _, ok := FromRollup(ErrorRatePercent, &stats.Rollup{}, window); ok {
		t.Error("empty window has an error rate")
	}
	if _, ok := FromRollup(ProbesPerMinute, &r, 0); ok {
		t.Error("probes per minute of no window")
	}
	if _, ok := FromRollup(LatencyAvgMS, &stats.Rollup{Probes: 1, Down: 1}, window); ok {
		t.Error("latency of a window without latencies")
	}
}

func TestConsecutiveFailures(t *testing.T) {
	up, down, deg := api.OutcomeUp, api.OutcomeDown, api.OutcomeDegraded
	cases := []struct {
		name     string
		outcomes []string
		want     float64
		ok       bool
	}{
		{"none", nil, 0, false},
		{"latest up", []string{up, down, down}, 0, true},
		{"streak", []string{down, down, down, up, down}, 3, true},
		{"degraded ends the streak", []string{down, deg, down}, 1, true},
		{"all down", []string{down, down}, 2, true},
	}
	for _, tc := range cases {
		v, ok := ConsecutiveFailuresOf(tc.outcomes)
		if v != tc.want || ok != tc.ok {
			t.Errorf("%s: %v, %v; want %v, %v", tc.name, v, ok, tc.want, tc.ok)
		}
		// The streaming form agrees, fed oldest first.
		var s float64
		for i := len(tc.outcomes) - 1; i >= 0; i-- {
			s = NextConsecutiveFailures(s, tc.outcomes[i])
		}
		if s != tc.want {
			t.Errorf("%s: streamed %v, want %v", tc.name, s, tc.want)
		}
	}
}

func TestExpiryDays(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	cases := []struct {
		name           string
		expires, rotue *time.Time
		want           float64
		ok             bool
	}{
		{"unknown", nil, nil, 0, false},
		{"expiry only", at(36 * time.Hour), nil, 1.5, true},
		{"rotation only", nil, at(-12 * time.Hour), -0.5, true},
		{"rotation due first", at(30 * 24 * time.Hour), at(7 * 24 * time.Hour), 7, true},
		{"expiry first", at(2 * 24 * time.Hour), at(7 * 24 * time.Hour), 2, true},
	}
	for _, tc := range cases {
		v, ok := CredentialExpiresIn(now, tc.expires, tc.rotue)
		if v != tc.want || ok != tc.ok {
			t.Errorf("%s: %v, %v; want %v, %v", tc.name, v, ok, tc.want, tc.ok)
		}
	}
	if v, ok := TLSCertExpiresIn(now, at(6*time.Hour)); !ok || v != 0.25 {
		t.Errorf("TLSCertExpiresIn = %v, %v", v, ok)
	}
	if _, ok := TLSCertExpiresIn(now, nil); ok {
		t.Error("TLSCertExpiresIn of no certificate")
	}
}

func TestBurnRate(t *testing.T) {
	budget := (&SLO{ObjectivePercent: 99.9}).Budget()
	cases := []struct {
		name         string
		probes, down int64
		budget       float64
		want         float64
		ok           bool
	}{
		{"2% against 99.9", 1000, 20, budget, 20, true},
		{"0.05% against 99.9", 2000, 1, budget, 0.5, true},
		{"clean", 1000, 0, budget, 0, true},
		{"no probes", 0, 0, budget, 0, false},
		{"no budget", 10, 1, 0, 0, false},
	}
	for _, tc := range cases {
		v, ok := BurnRate(&stats.Rollup{Probes: tc.probes, Down: tc.down}, tc.budget)
		if math.Abs(v-tc.want) > 1e-9 || ok != tc.ok {
			t.Errorf("%s: %v, %v; want %v, %v", tc.name, v, ok, tc.want, tc.ok)
		}
	}
}
