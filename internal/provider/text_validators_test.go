package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// TestAccTextValidators_controlCharacters plans names and descriptions that
// carry an escape sequence, a NUL or a bidirectional override, and expects
// one error each, on the attribute, worded as the API words it; a
// description with tabs and line breaks plans cleanly.
func TestAccTextValidators_controlCharacters(t *testing.T) {
	srv := newTestServer(t)
	cfg := func(body string) string { return srv.ProviderConfig(api.RoleEditor) + body }
	step := func(body, want string) resource.TestStep {
		return resource.TestStep{Config: cfg(body), PlanOnly: true, ExpectError: regexp.MustCompile(want)}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			step(`resource "aio_endpoint" "e" {
  name = "pay\u001b[2Jments"
  url  = "https://payments.example.com/"
}`, `(?s)Invalid name.*name must not contain control characters \(such as NUL or ESC\)\s+or\s+bidirectional text\s+overrides; got "pay\\x1b\[2Jments"`),
			step(`resource "aio_endpoint" "e" {
  name        = "payments"
  url         = "https://payments.example.com/"
  description = "refund \u202egnp.exe"
}`, `(?s)Invalid characters.*description must not contain control characters other than tab and line\s+breaks`),
			step(`resource "aio_credential" "c" {
  name   = "c\u0000"
  allowed_hosts = ["x.example.com"]
  type   = "bearer"
  secret = "s"
}`, `(?s)Invalid name.*name must not contain control characters`),
			step(`resource "aio_credential" "c" {
  name        = "c"
  allowed_hosts = ["x.example.com"]
  description = "bell \u0007"
  type        = "bearer"
  secret      = "s"
}`, `(?s)Invalid characters.*description must not contain control characters`),
			step(`resource "aio_monitor" "m" {
  name        = "m\u2066"
  endpoint_id = "ep_x"
  type        = "http"
}`, `(?s)Invalid name.*name must not contain control characters`),
			{
				// Tabs and line breaks are what descriptions are made of.
				Config: cfg(`resource "aio_endpoint" "e" {
  name        = "payments"
  url         = "https://payments.example.com/"
  description = "Card payments.\n\tOwned by team-payments.\r\n"
}`),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}
