package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccMonitorDataSource(t *testing.T) {
	srv := newTestServer(t)
	base := monitorConfig(srv, fullMonitor)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:      base + `data "aio_monitor" "x" { name = "no-such-monitor" }`,
				ExpectError: regexp.MustCompile(`No monitor is named "no-such-monitor"`),
			},
			{
				Config:      base + `data "aio_monitor" "x" { id = "mon_doesnotexist" }`,
				ExpectError: regexp.MustCompile(`No monitor has the ID "mon_doesnotexist"`),
			},
			{
				Config: base + `
data "aio_monitor" "x" {
  id   = aio_monitor.test.id
  name = aio_monitor.test.name
}`,
				ExpectError: regexp.MustCompile(`Invalid Attribute Combination`),
			},
			{
				// Read by ID and by name, the data source holds every
				// attribute the resource has, nested ones included.
				Config: base + `
data "aio_monitor" "by_id" {
  id = aio_monitor.test.id
}
data "aio_monitor" "by_name" {
  name = aio_monitor.test.name
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs("data.aio_monitor.by_id", tfjsonpath.New("name"), monitorAddr, tfjsonpath.New("name"), compareEqual),
					statecheck.CompareValuePairs("data.aio_monitor.by_name", tfjsonpath.New("id"), monitorAddr, tfjsonpath.New("id"), compareEqual),
					statecheck.CompareValuePairs("data.aio_monitor.by_id", tfjsonpath.New("request"), monitorAddr, tfjsonpath.New("request"), compareEqual),
					statecheck.CompareValuePairs("data.aio_monitor.by_id", tfjsonpath.New("retry_strategy"), monitorAddr, tfjsonpath.New("retry_strategy"), compareEqual),
					statecheck.ExpectKnownValue("data.aio_monitor.by_id", tfjsonpath.New("interval"), knownvalue.StringExact("30s")),
					statecheck.ExpectKnownValue("data.aio_monitor.by_id", tfjsonpath.New("assertions"), knownvalue.ListSizeExact(4)),
				},
			},
		},
	})
}
