package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// An expiry written with an offset reads back as written (aiod returns the
// same instant in UTC), and the rotation is due when the secret expires.
func TestAccCredentialResource_expiryWithOffset(t *testing.T) {
	srv := newTestServer(t)
	cfg := func(expires string) string {
		return srv.ProviderConfig(api.RoleEditor) + `
resource "aio_credential" "test" {
  name       = "expiring"
  allowed_hosts = ["*.example.com", "*.partner.example", "127.0.0.1"]
  type       = "bearer"
  secret     = "s"
  expires_at = "` + expires + `"
}
`
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				// Finer than aiod keeps: refused at plan time.
				Config:      cfg("2030-01-01T00:00:00.0000001Z"),
				PlanOnly:    true,
				ExpectError: regexpMust(`at most 6 fractional digits`),
			},
			{
				Config: cfg("2030-01-01T02:00:00+02:00"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("expires_at"), knownvalue.StringExact("2030-01-01T02:00:00+02:00")),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("rotation_due_at"), knownvalue.StringExact("2030-01-01T00:00:00Z")),
				},
			},
			{
				// A refresh reads the instant back in UTC: still no change.
				Config:   cfg("2030-01-01T02:00:00+02:00"),
				PlanOnly: true,
			},
		},
	})
}
