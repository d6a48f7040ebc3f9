package provider

import (
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// The compliance view in a check block (which warns) passes while the data
// is within policy; once a raw result is held past the built-in 4 hours a
// postcondition on it (which fails the run) fails, naming the reason.
func TestAccRetentionComplianceDataSource_checkBlock(t *testing.T) {
	srv := newTestServer(t)
	base := srv.ProviderConfig(api.RoleViewer)
	check := base + `
data "aio_retention_compliance" "all" {}

check "retention" {
  data "aio_retention_compliance" "raw" {
    data_kind = "probe_results"
  }

  assert {
    condition     = data.aio_retention_compliance.raw.compliant
    error_message = "Raw probe results are held past their retention: ${data.aio_retention_compliance.raw.overdue} overdue."
  }
}
`
	gate := base + `
data "aio_retention_compliance" "gate" {
  data_kind = "probe_results"

  lifecycle {
    postcondition {
      condition     = self.compliant
      error_message = "Retention breached: ${self.overdue} raw results held past their policy."
    }
  }
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				// A data source scoped to a check block is read again at
				// every plan, so the plan after the apply is not empty.
				Config:             check,
				ExpectNonEmptyPlan: true,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_retention_compliance.raw", tfjsonpath.New("compliant"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("data.aio_retention_compliance.all", tfjsonpath.New("compliant"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("data.aio_retention_compliance.all", tfjsonpath.New("items"), knownvalue.ListSizeExact(len(api.DataKinds))),
					statecheck.ExpectKnownValue("data.aio_retention_compliance.all", tfjsonpath.New("items").AtSliceIndex(0).AtMapKey("scope"),
						knownvalue.StringExact("default")),
					statecheck.ExpectKnownValue("data.aio_retention_compliance.all", tfjsonpath.New("items").AtSliceIndex(0).AtMapKey("max_age"),
						knownvalue.StringExact("4h0m0s")),
				},
			},
			{
				PreConfig: func() {
					e := "held too long"
					old := []api.ProbeResult{{MonitorID: "mon_gone", Time: time.Now().Add(-72 * time.Hour), Outcome: api.OutcomeDown, Error: &e}}
					if err := srv.Store.WriteResults(testContext(), old, nil); err != nil {
						t.Fatal(err)
					}
				},
				Config:      gate,
				ExpectError: regexp.MustCompile(`(?s)Retention breached: 1 raw results held past their policy`),
			},
			{
				// The check block only warns: the run succeeds, and its
				// data source shows the breach.
				Config:             check,
				ExpectNonEmptyPlan: true,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_retention_compliance.raw", tfjsonpath.New("compliant"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("data.aio_retention_compliance.raw", tfjsonpath.New("overdue"), knownvalue.Int64Exact(1)),
				},
			},
		},
	})
}
