package metrics

import dto "github.com/prometheus/client_model/go"

// Gather gathers the registry, for the package's external tests and
// benchmarks.
func (m *Metrics) Gather() ([]*dto.MetricFamily, error) { return m.reg.Gather() }
