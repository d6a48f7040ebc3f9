package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// alerting holds the alert evaluation's metrics. None carries a threshold
// label: 10,000 thresholds would be 10,000 series (times buckets for the
// histogram); the current alerts are in GET /v1/alerts.
type alerting struct {
	firing      *prometheus.GaugeVec
	evaluations *prometheus.CounterVec
	thresholds  prometheus.Counter
	duration    prometheus.Histogram
}

func newAlerting(reg *prometheus.Registry) *alerting {
	a := &alerting{
		firing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "aio_alerts_firing", Help: "Alerts firing, by severity, as of the latest evaluation.",
		}, []string{"severity"}),
		evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aio_alert_evaluations_total",
			Help: "Evaluation ticks of the alert thresholds, by outcome: ok, or error when the tick could not be read or stored (it is retried at the next tick).",
		}, []string{"outcome"}),
		thresholds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aio_alert_thresholds_evaluated_total", Help: "Evaluations of single alert thresholds.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "aio_alert_evaluation_duration_seconds", Help: "Time one evaluation tick of every enabled threshold took, storing included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
	}
	// Both severities are exported from the start, so that a dashboard
	// shows 0 rather than no data.
	for _, s := range api.Severities {
		a.firing.WithLabelValues(s)
	}
	for _, o := range []string{"ok", "error"} {
		a.evaluations.WithLabelValues(o)
	}
	reg.MustRegister(a.firing, a.evaluations, a.thresholds, a.duration)
	return a
}

// Evaluated records one evaluation tick: how many thresholds it evaluated,
// how long it took, and whether it was stored.
func (m *Metrics) Evaluated(thresholds int, took time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.alerting.evaluations.WithLabelValues(outcome).Inc()
	m.alerting.thresholds.Add(float64(thresholds))
	m.alerting.duration.Observe(max(took, 0).Seconds())
}

// AlertsFiring sets the number of firing alerts of each severity.
func (m *Metrics) AlertsFiring(bySeverity map[string]int) {
	for _, s := range api.Severities {
		m.alerting.firing.WithLabelValues(s).Set(float64(bySeverity[s]))
	}
}
