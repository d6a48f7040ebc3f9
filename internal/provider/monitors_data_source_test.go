package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccMonitorsDataSource(t *testing.T) {
	srv := newTestServer(t)
	cfg := monitorConfig(srv, fullMonitor) + `
resource "aio_monitor" "other" {
  name        = "svc-b-health"
  endpoint_id = aio_endpoint.b.id
  type        = "http"
  enabled     = false
  tags        = { team = "b" }
}
data "aio_monitor" "by_name" {
  name = aio_monitor.test.name
}
data "aio_monitor" "by_id" {
  id = aio_monitor.other.id
}
data "aio_monitors" "of_a" {
  endpoint_id = aio_endpoint.a.id
  depends_on  = [aio_monitor.test, aio_monitor.other]
}
data "aio_monitors" "team_b" {
  tags       = { team = "b" }
  depends_on = [aio_monitor.test, aio_monitor.other]
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.CompareValuePairs("data.aio_monitor.by_name", tfjsonpath.New("id"), monitorAddr, tfjsonpath.New("id"), compareEqual),
				statecheck.CompareValuePairs("data.aio_monitor.by_name", tfjsonpath.New("request"), monitorAddr, tfjsonpath.New("request"), compareEqual),
				statecheck.CompareValuePairs("data.aio_monitor.by_name", tfjsonpath.New("assertions"), monitorAddr, tfjsonpath.New("assertions"), compareEqual),
				statecheck.CompareValuePairs("data.aio_monitor.by_name", tfjsonpath.New("retry_strategy"), monitorAddr, tfjsonpath.New("retry_strategy"), compareEqual),
				statecheck.ExpectKnownValue("data.aio_monitor.by_id", tfjsonpath.New("name"), knownvalue.StringExact("svc-b-health")),
				statecheck.ExpectKnownValue("data.aio_monitors.of_a", tfjsonpath.New("monitors"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact("svc-a-health")}),
				})),
				statecheck.ExpectKnownValue("data.aio_monitors.team_b", tfjsonpath.New("monitors"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact("svc-b-health")}),
				})),
			},
		}},
	})
}
