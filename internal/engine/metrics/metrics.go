// Package metrics exposes the engine's Prometheus metrics. Histograms carry
// no per-monitor label: 10,000 monitors times the buckets would be too many
// series. Per-monitor figures are gauges only, one series each.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// Metrics holds the engine's collectors on a registry of its own (no
// global state), and implements the scheduler's Observer.
type Metrics struct {
	reg          *prometheus.Registry
	probeSeconds prometheus.Histogram
	lagSeconds   prometheus.Histogram
	probes       *prometheus.CounterVec
	missed       prometheus.Counter
	monitors     *monitorCollector
	alerting     *alerting
	deliveries   *prometheus.CounterVec
}

// Config holds what the metrics read from the engine's other parts.
type Config struct {
	// ResultsDropped returns how many results and missed runs the results
	// writer has dropped so far (results.Writer.Dropped). Exported as
	// aio_results_dropped_total when set.
	ResultsDropped func() int64
	// Outbox, when set, reads the outbox's depth (pending deliveries) and
	// the age of its oldest pending delivery at each scrape; exported as
	// aio_outbox_depth and aio_outbox_oldest_age_seconds.
	Outbox func(ctx context.Context) (depth int64, oldest time.Duration, err error)
}

// outboxScrapeTimeout bounds the outbox read of one scrape.
const outboxScrapeTimeout = 2 * time.Second

// New registers the engine's metrics and the Go runtime's.
func New(cfg Config) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		// No label: the monitor's type is not in the result, and a guess
		// from the result's fields (a failed http probe looks like tcp)
		// would be wrong exactly when it matters.
		probeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "aio_probe_duration_seconds", Help: "Time a probe run took, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		lagSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "aio_scheduler_lag_seconds", Help: "How late a probe run started after it was due.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aio_probes_total", Help: "Probe runs by outcome.",
		}, []string{"outcome"}),
		missed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aio_probes_missed_total",
			Help: "Runs skipped because the previous run of the monitor was still going, or because the run could not be queued (every worker busy and the queue full).",
		}),
		monitors: newMonitorCollector(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aio_deliveries_total",
			Help: "Delivery attempts by outcome (delivered, retry, failed: given up or refused for good), and deliveries cancelled with their channel (cancelled).",
		}, []string{"outcome"}),
	}
	for _, o := range []string{"delivered", "retry", "failed", "cancelled"} {
		m.deliveries.WithLabelValues(o)
	}
	m.reg.MustRegister(m.probeSeconds, m.lagSeconds, m.probes, m.missed, m.monitors, m.deliveries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.alerting = newAlerting(m.reg)
	if f := cfg.ResultsDropped; f != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "aio_results_dropped_total",
			Help: "Probe results and missed runs that were never stored: the writer's queue was full, the writer was closed, or the store refused the batch.",
		}, func() float64 { return float64(f()) }))
	}
	if cfg.Outbox != nil {
		m.reg.MustRegister(&outboxCollector{read: cfg.Outbox})
	}
	return m
}

// Delivery counts a delivery attempt's outcome, or a cancellation.
func (m *Metrics) Delivery(outcome string) { m.deliveries.WithLabelValues(outcome).Inc() }

var (
	outboxDepthDesc = prometheus.NewDesc("aio_outbox_depth", "Deliveries waiting in the outbox (pending).", nil, nil)
	outboxAgeDesc   = prometheus.NewDesc("aio_outbox_oldest_age_seconds",
		"How long the oldest pending delivery has waited since its event; 0 when none is pending.", nil, nil)
)

// outboxCollector reads the outbox at scrape time, so that the figures are
// the store's, whichever worker or replica changed them.
type outboxCollector struct {
	read func(ctx context.Context) (int64, time.Duration, error)
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDepthDesc
	ch <- outboxAgeDesc
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), outboxScrapeTimeout)
	defer cancel()
	depth, age, err := c.read(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxDepthDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxDepthDesc, prometheus.GaugeValue, float64(depth))
	ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, age.Seconds())
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registerer is the registry served by Handler, for the metrics of aiod's
// other parts (the API's request counter), so that one /metrics serves all.
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }

// Dispatched records the scheduling lag of a run.
func (m *Metrics) Dispatched(lag time.Duration) { m.lagSeconds.Observe(max(lag, 0).Seconds()) }

// Completed records a finished run.
func (m *Metrics) Completed(r api.ProbeResult, took time.Duration) {
	m.probeSeconds.Observe(took.Seconds())
	m.probes.WithLabelValues(r.Outcome).Inc()
	up := 0.0
	switch r.Outcome {
	case api.OutcomeUp:
		up = 1
	case api.OutcomeDegraded:
		up = 0.5
	}
	var cert float64
	if r.TLSCertExpiresAt != nil {
		cert = float64(r.TLSCertExpiresAt.Unix())
	}
	m.monitors.set(r.MonitorID, up, r.LatencyMS/1000, cert, r.TLSCertExpiresAt != nil)
}

// Missed records a skipped run.
func (m *Metrics) Missed(string) { m.missed.Inc() }

// Forget drops the series of a deleted monitor.
func (m *Metrics) Forget(monitorID string) {
	m.monitors.forget(monitorID)
}
