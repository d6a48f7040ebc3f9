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

func TestAccCredentialDataSource(t *testing.T) {
	srv := newTestServer(t)
	const secretValue = "ds-SECRET-0c9d"
	base := srv.ProviderConfig(api.RoleEditor) + `
resource "aio_credential" "src" {
  name            = "billing-basic"
  allowed_hosts   = ["billing.example.com", "[::1]:8080"]
  type            = "basic"
  username        = "svc"
  secret          = "` + secretValue + `"
  rotation_period = "720h"
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:      base + `data "aio_credential" "x" { name = "nope" }`,
				ExpectError: regexp.MustCompile(`No credential is named "nope"`),
			},
			{
				Config:      base + `data "aio_credential" "x" { id = "cred_nope" }`,
				ExpectError: regexp.MustCompile(`No credential has the ID "cred_nope"`),
			},
			{
				Config: base + `
data "aio_credential" "by_id" {
  id = aio_credential.src.id
}
data "aio_credential" "by_name" {
  name = aio_credential.src.name
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs("data.aio_credential.by_id", tfjsonpath.New("name"), "aio_credential.src", tfjsonpath.New("name"), compareEqual),
					statecheck.CompareValuePairs("data.aio_credential.by_name", tfjsonpath.New("id"), "aio_credential.src", tfjsonpath.New("id"), compareEqual),
					statecheck.CompareValuePairs("data.aio_credential.by_name", tfjsonpath.New("rotation_due_at"), "aio_credential.src", tfjsonpath.New("rotation_due_at"), compareEqual),
					statecheck.ExpectKnownValue("data.aio_credential.by_id", tfjsonpath.New("username"), knownvalue.StringExact("svc")),
					statecheck.ExpectKnownValue("data.aio_credential.by_name", tfjsonpath.New("allowed_hosts"),
						knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("billing.example.com"), knownvalue.StringExact("[::1]:8080")})),
					statecheck.ExpectKnownValue("data.aio_credential.by_id", tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(1)),
				},
				// Metadata only: the data sources hold nothing of the secret
				// (the resource itself holds it in this `secret` mode).
				Check: func(s *terraformState) error {
					return noValueInResources(s, []string{"data.aio_credential.by_id", "data.aio_credential.by_name"}, secretValue)
				},
			},
		},
	})
}
