package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// Importing with a generated configuration (terraform plan
// -generate-config-out) plans no change for an endpoint and a monitor with
// every optional attribute set and unset: what aiod returns is what
// Terraform writes into the generated configuration. A credential's import
// plans the one update that sends its secret, which aiod never returns.
func TestAccResources_importWithGeneratedConfig(t *testing.T) {
	srv := newTestServer(t)
	cfg := monitorConfig(srv, fullMonitor) + `
resource "aio_endpoint" "full" {
  name                = "full"
  url                 = "https://full.example.com/api"
  api_version         = "v2"
  description         = "Every attribute."
  owner               = "team-full"
  data_classification = "pii"
  tags                = { team = "full" }
  credential_id       = aio_credential.key.id
}
resource "aio_monitor" "bare" {
  name        = "bare"
  endpoint_id = aio_endpoint.db.id
  type        = "tcp"
}
`
	importStep := func(addr string, nonEmpty bool) resource.TestStep {
		return resource.TestStep{
			ResourceName:       addr,
			ImportState:        true,
			ImportStateKind:    resource.ImportBlockWithID,
			GenerateConfig:     true,
			ExpectNonEmptyPlan: nonEmpty,
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{Config: cfg},
			importStep("aio_endpoint.full", false),
			importStep("aio_endpoint.a", false),
			importStep(monitorAddr, false),
			importStep("aio_monitor.bare", false),
			importStep("aio_credential.key", true),
		},
	})
}
