package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

func TestAccEndpointsDataSource(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	// More than one page of the client's listing would be needed at the
	// API's default page size only with 100+ objects; a few suffice to
	// test the filters, and the client's own tests cover paging.
	for _, e := range []api.Endpoint{
		{Name: "team-a-orders", URL: "https://orders.example", Tags: map[string]string{"team": "a", "env": "prod"}},
		{Name: "team-a-stock", URL: "https://stock.example", Tags: map[string]string{"team": "a", "env": "dev"}},
		{Name: "team-b-mail", URL: "https://mail.example", Tags: map[string]string{"team": "b", "env": "prod"}},
	} {
		if _, err := c.CreateEndpoint(testContext(), e); err != nil {
			t.Fatal(err)
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config: srv.ProviderConfig(api.RoleViewer) + `
data "aio_endpoints" "all" {}
data "aio_endpoints" "team_a" {
  name_prefix = "team-a-"
}
data "aio_endpoints" "prod" {
  tags = { env = "prod" }
}
data "aio_endpoints" "a_prod" {
  name_prefix = "team-"
  tags        = { env = "prod", team = "a" }
}
data "aio_endpoints" "none" {
  tags = { env = "nowhere" }
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.aio_endpoints.all", tfjsonpath.New("endpoints"), knownvalue.ListSizeExact(3)),
				statecheck.ExpectKnownValue("data.aio_endpoints.team_a", tfjsonpath.New("endpoints"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact("team-a-orders")}),
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact("team-a-stock")}),
				})),
				statecheck.ExpectKnownValue("data.aio_endpoints.prod", tfjsonpath.New("endpoints"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact("team-a-orders")}),
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact("team-b-mail")}),
				})),
				statecheck.ExpectKnownValue("data.aio_endpoints.a_prod", tfjsonpath.New("endpoints"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"name":                knownvalue.StringExact("team-a-orders"),
						"url":                 knownvalue.StringExact("https://orders.example"),
						"data_classification": knownvalue.StringExact("internal"),
						"revision":            knownvalue.Int64Exact(1),
						"api_version":         knownvalue.Null(),
						"tags":                knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("a"), "env": knownvalue.StringExact("prod")}),
					}),
				})),
				statecheck.ExpectKnownValue("data.aio_endpoints.none", tfjsonpath.New("endpoints"), knownvalue.ListSizeExact(0)),
			},
		}},
	})
}
