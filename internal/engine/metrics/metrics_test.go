package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// lines returns the sample lines of a metric family.
func lines(text, name string) []string {
	var out []string
	for l := range strings.Lines(text) {
		if strings.HasPrefix(l, name+"{") || strings.HasPrefix(l, name+" ") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

func TestProbeDurationHasNoGuessedType(t *testing.T) {
	m := metrics.New(metrics.Config{})
	code := 200
	// An http probe that got no response and one that did: both are
	// counted in the one series, nothing guesses their type.
	m.Completed(api.ProbeResult{MonitorID: "mon_a", Outcome: api.OutcomeDown}, 20*time.Millisecond)
	m.Completed(api.ProbeResult{MonitorID: "mon_b", Outcome: api.OutcomeUp, StatusCode: &code}, 10*time.Millisecond)
	text := scrape(t, m)
	if got := lines(text, "aio_probe_duration_seconds_count"); len(got) != 1 || got[0] != "aio_probe_duration_seconds_count 2" {
		t.Errorf("probe duration count: %q", got)
	}
	if strings.Contains(text, "tcp_or_failed") || strings.Contains(text, `aio_probe_duration_seconds_bucket{type=`) {
		t.Errorf("probe duration still carries a type label:\n%s", strings.Join(lines(text, "aio_probe_duration_seconds_bucket"), "\n"))
	}
}

func TestResultsDroppedIsExported(t *testing.T) {
	var dropped int64
	m := metrics.New(metrics.Config{ResultsDropped: func() int64 { return dropped }})
	if got := lines(scrape(t, m), "aio_results_dropped_total"); len(got) != 1 || got[0] != "aio_results_dropped_total 0" {
		t.Errorf("before any drop: %q", got)
	}
	dropped = 7
	text := scrape(t, m)
	if got := lines(text, "aio_results_dropped_total"); len(got) != 1 || got[0] != "aio_results_dropped_total 7" {
		t.Errorf("after 7 drops: %q", got)
	}
	if !strings.Contains(text, "# TYPE aio_results_dropped_total counter") {
		t.Errorf("aio_results_dropped_total is not a counter")
	}
}

func TestMissedHelpSaysItCountsUnqueuedRuns(t *testing.T) {
	text := scrape(t, metrics.New(metrics.Config{}))
	var help string
	for l := range strings.Lines(text) {
		if strings.HasPrefix(l, "# HELP aio_probes_missed_total ") {
			help = l
		}
	}
	if !strings.Contains(help, "still going") || !strings.Contains(help, "could not be queued") {
		t.Errorf("help of aio_probes_missed_total: %q", help)
	}
}

func TestAlertingMetrics(t *testing.T) {
	m := metrics.New(metrics.Config{})
	text := scrape(t, m)
	for _, want := range []string{`aio_alerts_firing{severity="critical"} 0`, `aio_alerts_firing{severity="warning"} 0`,
		`aio_alert_evaluations_total{outcome="ok"} 0`} {
		if !strings.Contains(text, want) {
			t.Errorf("before any evaluation, /metrics lacks %q", want)
		}
	}
	// Two good ticks and one failed: the outcomes cannot be swapped unseen.
	m.Evaluated(3, 20*time.Millisecond, nil)
	m.Evaluated(2, 25*time.Millisecond, nil)
	m.Evaluated(3, 30*time.Millisecond, errors.New("database is locked"))
	m.AlertsFiring(map[string]int{api.SeverityCritical: 2})
	text = scrape(t, m)
	for _, want := range []string{`aio_alerts_firing{severity="critical"} 2`, `aio_alerts_firing{severity="warning"} 0`,
		`aio_alert_evaluations_total{outcome="ok"} 2`, `aio_alert_evaluations_total{outcome="error"} 1`,
		`aio_alert_thresholds_evaluated_total 8`, `aio_alert_evaluation_duration_seconds_count 3`} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestDeliveryMetrics(t *testing.T) {
	m := metrics.New(metrics.Config{Outbox: func(context.Context) (int64, time.Duration, error) {
		return 3, 90 * time.Second, nil
	}})
	m.Delivery("delivered")
	m.Delivery("retry")
	m.Delivery("retry")
	text := scrape(t, m)
	for _, want := range []string{
		`aio_deliveries_total{outcome="delivered"} 1`, `aio_deliveries_total{outcome="retry"} 2`,
		`aio_deliveries_total{outcome="failed"} 0`, `aio_deliveries_total{outcome="cancelled"} 0`,
		"aio_outbox_depth 3", "aio_outbox_oldest_age_seconds 90",
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("missing %q in\n%s", want, strings.Join(append(lines(text, "aio_deliveries_total"), lines(text, "aio_outbox_depth")...), "\n"))
		}
	}
}

// A scrape gives the outbox read two seconds: a slow database makes the
// outbox gauges invalid for that scrape instead of hanging /metrics, and a
// healthy one has the time it needs.
func TestOutboxReadIsBoundedByTwoSeconds(t *testing.T) {
	var left time.Duration
	m := metrics.New(metrics.Config{Outbox: func(ctx context.Context) (int64, time.Duration, error) {
		deadline, ok := ctx.Deadline()
		if !ok {
			return 0, 0, errors.New("the outbox read has no deadline")
		}
		left = time.Until(deadline)
		return 1, time.Second, ctx.Err()
	}})
	text := scrape(t, m)
	if !strings.Contains(text, "aio_outbox_depth 1\n") {
		t.Errorf("no outbox depth in\n%s", strings.Join(lines(text, "aio_outbox"), "\n"))
	}
	if left <= time.Second || left > 2*time.Second {
		t.Errorf("the outbox read had %v left, want up to 2s", left)
	}
}

// TestPerMonitorGauges pins the per-monitor series: one of each gauge per
// monitor with its last run's figures, the certificate's expiry kept after
// a run that saw none, and every series of a forgotten monitor gone.
func TestPerMonitorGauges(t *testing.T) {
	m := metrics.New(metrics.Config{})
	exp := time.Unix(1_900_000_000, 0)
	m.Completed(api.ProbeResult{MonitorID: "mon_a", Outcome: api.OutcomeUp, LatencyMS: 250, TLSCertExpiresAt: &exp}, time.Second)
	m.Completed(api.ProbeResult{MonitorID: "mon_b", Outcome: api.OutcomeDegraded, LatencyMS: 1500}, time.Second)
	m.Completed(api.ProbeResult{MonitorID: "mon_c", Outcome: api.OutcomeDown}, time.Second)
	// mon_a's next run sees no certificate (a connection refused, say):
	// its expiry stays, its other figures move on.
	m.Completed(api.ProbeResult{MonitorID: "mon_a", Outcome: api.OutcomeDown, LatencyMS: 10}, time.Second)
	text := scrape(t, m)
	want := map[string][]string{
		"aio_monitor_up":                                {`aio_monitor_up{monitor_id="mon_a"} 0`, `aio_monitor_up{monitor_id="mon_b"} 0.5`, `aio_monitor_up{monitor_id="mon_c"} 0`},
		"aio_monitor_latency_seconds":                   {`aio_monitor_latency_seconds{monitor_id="mon_a"} 0.01`, `aio_monitor_latency_seconds{monitor_id="mon_b"} 1.5`, `aio_monitor_latency_seconds{monitor_id="mon_c"} 0`},
		"aio_monitor_tls_cert_expiry_timestamp_seconds": {`aio_monitor_tls_cert_expiry_timestamp_seconds{monitor_id="mon_a"} 1.9e+09`},
	}
	for name, w := range want {
		if got := lines(text, name); strings.Join(got, "\n") != strings.Join(w, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", name, got, w)
		}
		if !strings.Contains(text, "# TYPE "+name+" gauge") {
			t.Errorf("%s is not a gauge", name)
		}
	}
	m.Completed(api.ProbeResult{MonitorID: "mon_b", Outcome: api.OutcomeUp, LatencyMS: 20}, time.Second)
	m.Forget("mon_a")
	text = scrape(t, m)
	if strings.Contains(text, `monitor_id="mon_a"`) {
		t.Errorf("series of a forgotten monitor left:\n%s", text)
	}
	if got := lines(text, "aio_monitor_up"); strings.Join(got, "\n") != `aio_monitor_up{monitor_id="mon_b"} 1`+"\n"+`aio_monitor_up{monitor_id="mon_c"} 0` {
		t.Errorf("after forgetting mon_a: %q", got)
	}
	if got := lines(text, "aio_monitor_tls_cert_expiry_timestamp_seconds"); len(got) != 0 {
		t.Errorf("certificate series left: %q", got)
	}
}

// BenchmarkGather50k measures a scrape's gathering of the per-monitor
// gauges of 50,000 monitors (go test -bench Gather50k -benchmem).
func BenchmarkGather50k(b *testing.B) {
	m := metrics.New(metrics.Config{})
	exp := time.Unix(1_900_000_000, 0)
	for i := range 50_000 {
		m.Completed(api.ProbeResult{MonitorID: fmt.Sprintf("mon_%026d", i), Outcome: api.OutcomeUp, LatencyMS: 12, TLSCertExpiresAt: &exp}, time.Millisecond)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
