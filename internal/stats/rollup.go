package stats

import (
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// Rollup sums the probe results of a span of time: a minute, an hour, or a
// whole window made of those and of raw results. Rollups merge exactly:
// the rollup of a window is the merge of the rollups of its parts.
type Rollup struct {
	// Probes counts the probe runs; Up, Degraded and Down split them by
	// outcome.
	Probes, Up, Degraded, Down int64
	// Retried counts the probes that needed more than one attempt.
	Retried int64
	// Missed counts the runs skipped because the previous probe of the
	// same monitor was still running. They are not probes.
	Missed int64
	// Bytes sums the bytes received.
	Bytes int64
	// LatencySumMS sums the total latencies, in milliseconds.
	LatencySumMS float64
	// Latency counts the total latencies, for the percentiles.
	Latency Histogram
}

// Add counts one probe result.
func (r *Rollup) Add(res api.ProbeResult) {
	r.AddCounts(res)
	// A run that never reached the network (its endpoint or credential
	// was gone, its secret could not be opened) has no response time: it
	// counts as down, but a latency of 0 would pull the figures down.
	if res.Attempts > 0 {
		r.LatencySumMS += res.LatencyMS
		r.Latency.Add(res.LatencyMS)
	}
}

// AddCounts counts one probe result without its latency: what Add does
// but for LatencySumMS and Latency.
func (r *Rollup) AddCounts(res api.ProbeResult) {
	r.Probes++
	switch res.Outcome {
	case api.OutcomeUp:
		r.Up++
	case api.OutcomeDegraded:
		r.Degraded++
	case api.OutcomeDown:
		r.Down++
	}
	if res.Attempts > 1 {
		r.Retried++
	}
	r.Bytes += res.BytesReceived
}

// Merge adds o to r.
func (r *Rollup) Merge(o *Rollup) {
	r.Probes += o.Probes
	r.Up += o.Up
	r.Degraded += o.Degraded
	r.Down += o.Down
	r.Retried += o.Retried
	r.Missed += o.Missed
	r.Bytes += o.Bytes
	r.LatencySumMS += o.LatencySumMS
	r.Latency.Merge(&o.Latency)
}

// Clone returns an independent copy of r (the histogram is not shared).
func (r *Rollup) Clone() Rollup {
	c := *r
	c.Latency = r.Latency.Clone()
	return c
}

// Status computes the figures of a window of the given length from its
// rollup:
//
//	availability_percent = (up + degraded) / probes · 100
//	error_rate_percent   = down / probes · 100
//	retry_rate_percent   = retried / probes · 100
//	latency_avg_ms       = latency sum / probes
//	latency_p95_ms, _p99 = nearest-rank quantiles of the histogram
//	probes_per_minute    = probes / window minutes
//	bytes_per_minute     = bytes / window minutes
//
// Every figure is nil when the window holds no probes (or when window is
// not positive, for the per-minute ones). Probes and Missed are set always.
// The caller fills in the monitor, the window's name and the current state.
func Status(r *Rollup, window time.Duration) api.MonitorStatus {
	st := api.MonitorStatus{Probes: r.Probes, Missed: r.Missed}
	if r.Probes == 0 {
		return st
	}
	n := float64(r.Probes)
	pct := func(k int64) *float64 { return new(float64(k) / n * 100) }
	st.AvailabilityPercent = pct(r.Up + r.Degraded)
	st.ErrorRatePercent = pct(r.Down)
	st.RetryRatePercent = pct(r.Retried)
	if c := r.Latency.Count(); c > 0 {
		st.LatencyAvgMS = new(r.LatencySumMS / float64(c))
		st.LatencyP95MS = new(r.Latency.Quantile(0.95))
		st.LatencyP99MS = new(r.Latency.Quantile(0.99))
	}
	if window > 0 {
		minutes := window.Minutes()
		st.ProbesPerMinute = new(n / minutes)
		st.BytesPerMinute = new(float64(r.Bytes) / minutes)
	}
	return st
}
