package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	monUpDesc = prometheus.NewDesc("aio_monitor_up",
		"Outcome of a monitor's last run: 1 up, 0.5 degraded, 0 down.", []string{"monitor_id"}, nil)
	monLatencyDesc = prometheus.NewDesc("aio_monitor_latency_seconds",
		"Latency of a monitor's last run.", []string{"monitor_id"}, nil)
	monCertExpDesc = prometheus.NewDesc("aio_monitor_tls_cert_expiry_timestamp_seconds",
		"Expiry of the certificate a monitor's last run saw, as a Unix time.", []string{"monitor_id"}, nil)
)

// monitorFigures are one monitor's last figures. hasCert says whether any
// run has seen a certificate: the expiry stays exported after a run that
// saw none, as a gauge keeps its last value.
type monitorFigures struct {
	up, latency, certExpiry float64
	hasCert                 bool
}

// monitorCollector exports the per-monitor gauges from one map of plain
// values, built into metrics only when scraped. Three GaugeVecs held a
// child per monitor and series (label pairs, a hash entry, a mutex): at
// 50,000 monitors 39 MB of the engine's 110 MB live heap, all of it
// pointers the collector scans on every cycle, and every probe hashed its
// monitor ID three times to find them.
type monitorCollector struct {
	mu   sync.Mutex
	figs map[string]monitorFigures
}

func newMonitorCollector() *monitorCollector {
	return &monitorCollector{figs: map[string]monitorFigures{}}
}

// set records a run's figures; sawCert is false when the run saw no
// certificate, and then cert is ignored.
func (c *monitorCollector) set(id string, up, latency, cert float64, sawCert bool) {
	c.mu.Lock()
	f := c.figs[id]
	f.up, f.latency = up, latency
	if sawCert {
		f.certExpiry, f.hasCert = cert, true
	}
	c.figs[id] = f
	c.mu.Unlock()
}

func (c *monitorCollector) forget(id string) {
	c.mu.Lock()
	delete(c.figs, id)
	c.mu.Unlock()
}

func (c *monitorCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- monUpDesc
	ch <- monLatencyDesc
	ch <- monCertExpDesc
}

// Collect copies the figures and builds the metrics after the lock is
// released, so that a scrape never holds up the probes for long.
func (c *monitorCollector) Collect(ch chan<- prometheus.Metric) {
	type row struct {
		id string
		monitorFigures
	}
	c.mu.Lock()
	rows := make([]row, 0, len(c.figs))
	for id, f := range c.figs {
		rows = append(rows, row{id, f})
	}
	c.mu.Unlock()
	for _, r := range rows {
		ch <- prometheus.MustNewConstMetric(monUpDesc, prometheus.GaugeValue, r.up, r.id)
		ch <- prometheus.MustNewConstMetric(monLatencyDesc, prometheus.GaugeValue, r.latency, r.id)
		if r.hasCert {
			ch <- prometheus.MustNewConstMetric(monCertExpDesc, prometheus.GaugeValue, r.certExpiry, r.id)
		}
	}
}
