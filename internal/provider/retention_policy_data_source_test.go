package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// The data source shows the last run: a run requested through the API
// appears in it (and in the resource's computed attributes) without a
// change to plan.
func TestAccRetentionPolicyDataSource_lastRun(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	cfg := retentionConfig(srv, retentionBody) + `
data "aio_retention_policy" "by_name" {
  name = aio_retention_policy.test.name
}

data "aio_retention_policies" "raw" {
  data_kind   = "probe_results"
  name_prefix = aio_retention_policy.test.name
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_retention_policy.by_name", tfjsonpath.New("last_run_at"), knownvalue.Null()),
					statecheck.ExpectKnownValue("data.aio_retention_policies.raw", tfjsonpath.New("retention_policies"), knownvalue.ListSizeExact(1)),
				},
			},
			{
				PreConfig: func() {
					l, err := c.ListAllRetentionPolicies(testContext(), client.RetentionListOptions{})
					if err != nil || len(l) != 1 {
						t.Fatalf("policies = %v, %v", l, err)
					}
					if _, err := c.RunRetentionPolicy(testContext(), l[0].ID, false); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_retention_policy.by_name", tfjsonpath.New("last_run_at"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue("data.aio_retention_policy.by_name", tfjsonpath.New("last_run_deleted"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue("data.aio_retention_policy.by_name", tfjsonpath.New("last_run_anonymized"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("last_run_deleted"), knownvalue.Int64Exact(0)),
				},
			},
		},
	})
}
