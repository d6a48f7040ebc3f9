package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// TestAccMonitorResource_typeMustFitEndpoint: an http monitor of a tcp://
// endpoint is refused at apply, with the error on the monitor's type line.
func TestAccMonitorResource_typeMustFitEndpoint(t *testing.T) {
	srv := newTestServer(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config: monitorConfig(srv, `
  name        = "db-over-http"
  endpoint_id = aio_endpoint.db.id
  type        = "http"
  enabled     = false
`),
			ExpectError: regexp.MustCompile(`(?s)Could not create the monitor.*with aio_monitor.test,.*type\s+= "http".*type: an http monitor cannot probe a tcp:// endpoint; use type tcp`),
		}},
	})
}
