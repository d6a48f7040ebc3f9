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

// TestAccNotificationChannelDataSource reads a webhook channel by ID and
// by name, and a missing one by either, and checks that the data source
// holds nothing of the signing secret.
func TestAccNotificationChannelDataSource(t *testing.T) {
	srv := newTestServer(t)
	const secretValue = "ds-signing-SECRET-7f3a"
	base := srv.ProviderConfig(api.RoleEditor) + `
resource "aio_notification_channel" "src" {
  name    = "ops-webhook"
  type    = "webhook"
  url     = "https://hooks.example.com/aio"
  headers = { "x-team" = "ops" }
  secret  = "` + secretValue + `"
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:      base + `data "aio_notification_channel" "x" { name = "nope" }`,
				ExpectError: regexp.MustCompile(`No notification channel is named "nope"`),
			},
			{
				Config:      base + `data "aio_notification_channel" "x" { id = "chan_nope" }`,
				ExpectError: regexp.MustCompile(`No notification channel has the ID "chan_nope"`),
			},
			{
				Config: base + `
data "aio_notification_channel" "by_id" {
  id = aio_notification_channel.src.id
}
data "aio_notification_channel" "by_name" {
  name = aio_notification_channel.src.name
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs("data.aio_notification_channel.by_name", tfjsonpath.New("id"), "aio_notification_channel.src", tfjsonpath.New("id"), compareEqual),
					statecheck.ExpectKnownValue("data.aio_notification_channel.by_id", tfjsonpath.New("url"), knownvalue.StringExact("https://hooks.example.com/aio")),
					statecheck.ExpectKnownValue("data.aio_notification_channel.by_id", tfjsonpath.New("headers"),
						knownvalue.MapExact(map[string]knownvalue.Check{"x-team": knownvalue.StringExact("ops")})),
					statecheck.ExpectKnownValue("data.aio_notification_channel.by_name", tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(1)),
				},
				Check: func(s *terraformState) error {
					return noValueInResources(s, []string{"data.aio_notification_channel.by_id", "data.aio_notification_channel.by_name"}, secretValue)
				},
			},
		},
	})
}
