package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccAlertThresholdDataSources reads a threshold by ID and by name,
// refuses a missing one, and lists thresholds filtered by monitor and
// metric.
func TestAccAlertThresholdDataSources(t *testing.T) {
	srv := newTestServer(t)
	base := thresholdConfig(srv, availabilityBody)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:      base + `data "aio_alert_threshold" "x" { id = "thr_nope" }`,
				ExpectError: regexp.MustCompile(`No alert threshold has the ID "thr_nope"`),
			},
			{
				Config: base + `
data "aio_alert_threshold" "by_id" {
  id = aio_alert_threshold.test.id
}
data "aio_alert_threshold" "by_name" {
  name = aio_alert_threshold.test.name
}
data "aio_alert_thresholds" "of_monitor" {
  monitor_id = aio_monitor.health.id
  metric     = "availability_percent"
  depends_on = [aio_alert_threshold.test]
}
data "aio_alert_thresholds" "other_metric" {
  monitor_id = aio_monitor.health.id
  metric     = "latency_p95_ms"
  depends_on = [aio_alert_threshold.test]
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs("data.aio_alert_threshold.by_name", tfjsonpath.New("id"), thresholdAddr, tfjsonpath.New("id"), compareEqual),
					statecheck.ExpectKnownValue("data.aio_alert_threshold.by_id", tfjsonpath.New("critical"), knownvalue.Float64Exact(99.5)),
					statecheck.ExpectKnownValue("data.aio_alert_threshold.by_id", tfjsonpath.New("comparison"), knownvalue.StringExact("below")),
					statecheck.ExpectKnownValue("data.aio_alert_thresholds.of_monitor", tfjsonpath.New("alert_thresholds"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue("data.aio_alert_thresholds.other_metric", tfjsonpath.New("alert_thresholds"), knownvalue.ListSizeExact(0)),
				},
			},
		},
	})
}
