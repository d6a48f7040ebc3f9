package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

func TestAccEndpointDataSource(t *testing.T) {
	srv := newTestServer(t)
	base := srv.ProviderConfig(api.RoleEditor) + `
resource "aio_endpoint" "src" {
  name        = "billing"
  url         = "https://billing.example.com"
  api_version = "v3"
  owner       = "team-billing"
  tags        = { env = "prod" }
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:      base + `data "aio_endpoint" "x" { name = "no-such-endpoint" }`,
				ExpectError: regexp.MustCompile(`No endpoint is named "no-such-endpoint"`),
			},
			{
				Config:      base + `data "aio_endpoint" "x" { id = "ep_doesnotexist" }`,
				ExpectError: regexp.MustCompile(`No endpoint has the ID "ep_doesnotexist"`),
			},
			{
				Config: base + `
data "aio_endpoint" "x" {
  id   = aio_endpoint.src.id
  name = "billing"
}`,
				ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Combination`),
			},
			{
				Config:      base + `data "aio_endpoint" "x" {}`,
				ExpectError: regexp.MustCompile(`(?s)Exactly one of these attributes must be configured: \[id,name\]`),
			},
			// The last step is valid, so that the test's final destroy can run.
			{
				Config: base + `
data "aio_endpoint" "by_id" {
  id = aio_endpoint.src.id
}
data "aio_endpoint" "by_name" {
  name = aio_endpoint.src.name
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs("data.aio_endpoint.by_id", tfjsonpath.New("id"), "aio_endpoint.src", tfjsonpath.New("id"), compareEqual),
					statecheck.CompareValuePairs("data.aio_endpoint.by_name", tfjsonpath.New("id"), "aio_endpoint.src", tfjsonpath.New("id"), compareEqual),
					statecheck.CompareValuePairs("data.aio_endpoint.by_name", tfjsonpath.New("updated_at"), "aio_endpoint.src", tfjsonpath.New("updated_at"), compareEqual),
					statecheck.ExpectKnownValue("data.aio_endpoint.by_id", tfjsonpath.New("name"), knownvalue.StringExact("billing")),
					statecheck.ExpectKnownValue("data.aio_endpoint.by_id", tfjsonpath.New("api_version"), knownvalue.StringExact("v3")),
					statecheck.ExpectKnownValue("data.aio_endpoint.by_name", tfjsonpath.New("url"), knownvalue.StringExact("https://billing.example.com")),
					statecheck.ExpectKnownValue("data.aio_endpoint.by_name", tfjsonpath.New("owner"), knownvalue.StringExact("team-billing")),
					statecheck.ExpectKnownValue("data.aio_endpoint.by_name", tfjsonpath.New("description"), knownvalue.Null()),
					statecheck.ExpectKnownValue("data.aio_endpoint.by_name", tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{"env": knownvalue.StringExact("prod")})),
					statecheck.ExpectKnownValue("data.aio_endpoint.by_name", tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
				},
			},
		},
	})
}
