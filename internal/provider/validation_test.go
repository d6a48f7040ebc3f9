package provider

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// noError matches any text without a line that starts with "Error:", as
// RE2 has no negative lookahead: every newline is followed by something
// other than "Error:".
const noError = `(?:[^\n]|\n+(?:[^E\n]|E[^r\n]|Er[^r\n]|Err[^o\n]|Erro[^r\n]|Error[^:\n]))*\n*`

// oneErrorAt matches the output of a failed Terraform command that holds
// exactly one error, whose source snippet is a line matching line (so the
// error is on that attribute, not on the resource or a neighbour) and
// whose summary and detail match text. Words in text may be wrapped by
// Terraform onto several lines.
//
// Terraform (1.11) places a diagnostic in the source only down to a
// top-level attribute or a nested block: for an attribute nested in an
// object attribute, such as request.method, it shows the resource's first
// line however exact the path the provider reports. Those errors are
// matched with oneError, on their text, which names the path, and their
// paths are checked over the plugin protocol in TestMonitorValidationPaths.
func oneErrorAt(line, text string) *regexp.Regexp {
	text = strings.ReplaceAll(text, " ", `\s+`)
	return regexp.MustCompile(`^Error running [^\n]*\n\nError: [^\n]*\n\n  with [^\n]*\n  on [^\n]*:\n\s*\d+:\s*` + line +
		`[^\n]*` + noError + text + noError + `$`)
}

// TestOneErrorAt makes sure the matcher itself tells one error from two,
// since every test below relies on it.
func TestOneErrorAt(t *testing.T) {
	one := "Error running non-refresh plan: exit status 1\n\nError: Invalid Attribute Value Match\n\n  with aio_monitor.test,\n  on terraform_plugin_test.tf line 9, in resource \"aio_monitor\" \"test\":\n   9:     method = \"get\"\n\nAttribute request.method value must be one of:\n[\"GET\"]\n"
	re := oneErrorAt(`method = "get"`, `Attribute request.method value must be one of`)
	if !re.MatchString(one) {
		t.Errorf("one error not matched")
	}
	two := one + "\nError: Invalid monitor configuration\n\n  with aio_monitor.test,\n  on terraform_plugin_test.tf line 9:\n   9: method = \"get\"\n\nagain\n"
	if re.MatchString(two) {
		t.Errorf("two errors matched as one")
	}
	if oneErrorAt(`resource "aio_monitor"`, `value must be one of`).MatchString(one) {
		t.Errorf("an error on another line matched")
	}
}

// Each mistake is reported once, on the attribute that holds it, worded
// once: nested attributes included, durations included.
func TestAccMonitorResource_oneErrorPerMistake(t *testing.T) {
	srv := newTestServer(t)
	cases := []struct{ body, line, text string }{
		{`type = "http"
  request = {
    method = "get"
  }`, ``, `Attribute request.method value must be one of`},
		{`type = "http"
  assertions = [
    { source = "status_code", comparison = "equals", target = "200" },
    {
      source     = "status_code"
      comparison = "bigger"
      target     = "300"
    },
  ]`, ``, `Attribute assertions\[1\].comparison value must be one of`},
		{`type = "http"
  retry_strategy = {
    type = "sometimes"
  }`, ``, `Attribute retry_strategy.type value must be one of`},
		{`type = "http"
  interval = "30d"`, `interval = "30d"`, `The value "30d" must be a positive Go duration`},
		{`type = "http"
  retry_strategy = {
    type         = "fixed"
    base_backoff = "-1s"
  }`, ``, `The value "-1s" must be a positive Go duration`},
		{`type = "http"
  request = {
    path = ""
  }`, ``, `request.path must not be empty; omit the attribute instead`},
		{`type = "http"
  request = {
    tls = {
      server_name = ""
    }
  }`, ``, `request.tls.server_name must not be empty; omit the attribute instead`},
		// Rules across attributes (the ValidateConfig part) are not
		// repeated by a schema validator either.
		{`type = "http"
  interval = "10s"
  timeout  = "20s"`, `timeout  = "20s"`, `timeout must be less than or equal to the interval`},
		{`type = "http"
  assertions = [
    { source = "json_body", comparison = "equals", target = "x" },
  ]`, ``, `assertions\[0\].property is required for source json_body`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config:      srv.ProviderConfig(api.RoleEditor) + "resource \"aio_monitor\" \"test\" {\n  name        = \"m\"\n  endpoint_id = \"ep_x\"\n  " + c.body + "\n}\n",
			PlanOnly:    true,
			ExpectError: oneErrorAt(c.line, c.text),
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps:                    steps,
	})
}

// Optional strings of every resource are refused when empty, with the
// message aiod gives too, once and on the attribute.
func TestAccResources_emptyOptionalStrings(t *testing.T) {
	srv := newTestServer(t)
	cases := []struct{ resource, body, line string }{
		{"aio_endpoint", `url = "https://x.example.com"
  description = ""`, `description = ""`},
		{"aio_endpoint", `url = "https://x.example.com"
  owner = ""`, `owner = ""`},
		{"aio_endpoint", `url = "https://x.example.com"
  api_version = ""`, `api_version = ""`},
		{"aio_endpoint", `url = "https://x.example.com"
  credential_id = ""`, `credential_id = ""`},
		{"aio_credential", `type = "bearer"
  allowed_hosts = ["x.example.com"]
  secret = "s"
  description = ""`, `description = ""`},
		{"aio_credential", `type = "api_key"
  allowed_hosts = ["x.example.com"]
  secret = "s"
  header = ""`, `header = ""`},
		{"aio_credential", `type = "api_key"
  allowed_hosts = ["x.example.com"]
  secret = "s"
  query_param = ""`, `query_param = ""`},
		{"aio_credential", `type = "basic"
  allowed_hosts = ["x.example.com"]
  secret = "s"
  username = ""`, `username = ""`},
		{"aio_credential", `type = "bearer"
  allowed_hosts = ["x.example.com"]
  secret = ""`, `secret = ""`},
		{"aio_monitor", `endpoint_id = "ep_x"
  type = "http"
  request = {
    body = ""
  }`, ``},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config:      srv.ProviderConfig(api.RoleEditor) + "resource \"" + c.resource + "\" \"test\" {\n  name = \"e\"\n  " + c.body + "\n}\n",
			PlanOnly:    true,
			ExpectError: oneErrorAt(c.line, `must not be empty; omit the attribute instead`),
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps:                    steps,
	})
}

// secret_wo without secret_wo_version is one mistake with one error.
func TestAccCredentialResource_secretWOWithoutVersion(t *testing.T) {
	srv := newTestServer(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config: srv.ProviderConfig(api.RoleEditor) + `resource "aio_credential" "test" {
  allowed_hosts = ["127.0.0.1"]
  name      = "c"
  type      = "bearer"
  secret_wo = "s"
}
`,
			PlanOnly:    true,
			ExpectError: oneErrorAt(`secret_wo = "s"`, `Attribute "secret_wo_version" must be specified when "secret_wo" is specified`),
		}},
	})
}
