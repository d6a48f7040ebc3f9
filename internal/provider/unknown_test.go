package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// nestedFromVariablesConfig declares three monitors whose nested
// attributes come from elsewhere: from root variables (null by default),
// whole from a terraform_data output (unknown until apply), and piecewise
// with unknown values deep inside known objects.
func nestedFromVariablesConfig(srv *acctest.Server) string {
	return srv.ProviderConfig(api.RoleEditor) + `
variable "request" {
  type = object({
    method  = optional(string)
    path    = optional(string)
    headers = optional(map(string))
    tls     = optional(object({ server_name = optional(string) }))
  })
  default = null
}

variable "assertions" {
  type = list(object({
    source     = string
    property   = optional(string)
    comparison = string
    target     = optional(string)
  }))
  default = null
}

variable "retry_strategy" {
  type = object({
    type        = string
    max_retries = optional(number)
    retry_on    = optional(object({ status_codes = optional(set(number)) }))
  })
  default = null
}

resource "aio_endpoint" "svc" {
  name = "svc"
  url  = "http://127.0.0.1:9/api"
}

resource "aio_monitor" "vars" {
  name           = "from-variables"
  endpoint_id    = aio_endpoint.svc.id
  type           = "http"
  request        = var.request
  assertions     = var.assertions
  retry_strategy = var.retry_strategy
}

# Known only after apply, as a module input fed from another resource is.
resource "terraform_data" "later" {
  input = {
    request = { method = "POST", path = "/later", tls = { server_name = "svc.internal" } }
    assertions = [
      { source = "status_code", comparison = "equals", target = "200" },
      { source = "json_body", property = "$.ok", comparison = "equals", target = "true" },
    ]
    retry_strategy = { type = "fixed", max_retries = 1, retry_on = { status_codes = [503] } }
    path  = "/deep"
    code  = "204"
    retry = "linear"
    sni   = "deep.internal"
  }
}

resource "aio_monitor" "whole" {
  name           = "whole-unknown"
  endpoint_id    = aio_endpoint.svc.id
  type           = "http"
  request        = terraform_data.later.output.request
  assertions     = terraform_data.later.output.assertions
  retry_strategy = terraform_data.later.output.retry_strategy
}

resource "aio_monitor" "deep" {
  name        = "deep-unknown"
  endpoint_id = aio_endpoint.svc.id
  type        = "http"
  request = {
    path = terraform_data.later.output.path
    tls  = { server_name = terraform_data.later.output.sni }
  }
  assertions = [
    { source = "status_code", comparison = "equals", target = terraform_data.later.output.code },
  ]
  retry_strategy = {
    type        = terraform_data.later.output.retry
    max_retries = 2
  }
}
`
}

// Nested attributes set from variables (null or known) and from values
// unknown at plan time validate, plan and apply, and the next plan is
// empty.
func TestAccMonitorResource_nestedFromVariablesAndUnknowns(t *testing.T) {
	srv := newTestServer(t)
	cfg := nestedFromVariablesConfig(srv)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue("aio_monitor.whole", tfjsonpath.New("request")),
					plancheck.ExpectUnknownValue("aio_monitor.whole", tfjsonpath.New("assertions")),
					plancheck.ExpectUnknownValue("aio_monitor.whole", tfjsonpath.New("retry_strategy")),
					plancheck.ExpectUnknownValue("aio_monitor.deep", tfjsonpath.New("request").AtMapKey("path")),
					plancheck.ExpectUnknownValue("aio_monitor.deep", tfjsonpath.New("assertions").AtSliceIndex(0).AtMapKey("target")),
					plancheck.ExpectUnknownValue("aio_monitor.deep", tfjsonpath.New("retry_strategy").AtMapKey("type")),
					plancheck.ExpectKnownValue("aio_monitor.vars", tfjsonpath.New("request"), knownvalue.Null()),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("aio_monitor.vars", tfjsonpath.New("assertions"), knownvalue.Null()),
					statecheck.ExpectKnownValue("aio_monitor.whole", tfjsonpath.New("request").AtMapKey("method"), knownvalue.StringExact("POST")),
					statecheck.ExpectKnownValue("aio_monitor.whole", tfjsonpath.New("request").AtMapKey("tls").AtMapKey("server_name"), knownvalue.StringExact("svc.internal")),
					statecheck.ExpectKnownValue("aio_monitor.whole", tfjsonpath.New("assertions"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue("aio_monitor.whole", tfjsonpath.New("retry_strategy").AtMapKey("retry_on").AtMapKey("status_codes"),
						knownvalue.SetExact([]knownvalue.Check{knownvalue.Int64Exact(503)})),
					statecheck.ExpectKnownValue("aio_monitor.deep", tfjsonpath.New("request").AtMapKey("path"), knownvalue.StringExact("/deep")),
					statecheck.ExpectKnownValue("aio_monitor.deep", tfjsonpath.New("assertions").AtSliceIndex(0).AtMapKey("target"), knownvalue.StringExact("204")),
					statecheck.ExpectKnownValue("aio_monitor.deep", tfjsonpath.New("retry_strategy").AtMapKey("type"), knownvalue.StringExact("linear")),
				},
			},
			{
				// The same variables, now known.
				Config: cfg,
				ConfigVariables: config.Variables{
					"request": config.ObjectVariable(map[string]config.Variable{
						"method": config.StringVariable("HEAD"), "path": config.StringVariable("/health"),
						"headers": config.MapVariable(map[string]config.Variable{"x-probe": config.StringVariable("aio")}),
					}),
					"assertions": config.ListVariable(config.ObjectVariable(map[string]config.Variable{
						"source": config.StringVariable("response_time"), "comparison": config.StringVariable("less_than"), "target": config.StringVariable("2s"),
					})),
					"retry_strategy": config.ObjectVariable(map[string]config.Variable{
						"type": config.StringVariable("exponential"), "max_retries": config.IntegerVariable(3),
					}),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("aio_monitor.vars", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("aio_monitor.vars", tfjsonpath.New("request").AtMapKey("method"), knownvalue.StringExact("HEAD")),
					statecheck.ExpectKnownValue("aio_monitor.vars", tfjsonpath.New("request").AtMapKey("follow_redirects"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("aio_monitor.vars", tfjsonpath.New("assertions").AtSliceIndex(0).AtMapKey("target"), knownvalue.StringExact("2s")),
					statecheck.ExpectKnownValue("aio_monitor.vars", tfjsonpath.New("retry_strategy").AtMapKey("max_retries"), knownvalue.Int64Exact(3)),
				},
			},
		},
	})
}

// The cross-field rules still run once unknown values are known: Terraform
// validates again during apply, and the mistake fails there, on its path.
func TestAccMonitorResource_unknownValidatedAtApply(t *testing.T) {
	srv := newTestServer(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config: srv.ProviderConfig(api.RoleEditor) + `
resource "aio_endpoint" "svc" {
  name = "svc"
  url  = "http://127.0.0.1:9/api"
}
resource "terraform_data" "later" {
  input = "is_empty"
}
resource "aio_monitor" "test" {
  name        = "m"
  endpoint_id = aio_endpoint.svc.id
  type        = "http"
  assertions = [
    { source = "text_body", comparison = terraform_data.later.output, target = "x" },
  ]
}
`,
			ExpectError: regexp.MustCompile(`(?s)assertions\[0\]\.target must not be set for is_empty`),
		}},
	})
}

// A type-specific attribute from a variable that is null, or unknown at
// plan time, does not fail a credential of another type.
func TestAccCredentialResource_typeAttributesFromVariables(t *testing.T) {
	srv := newTestServer(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config: srv.ProviderConfig(api.RoleEditor) + `
variable "header" {
  type    = string
  default = null
}
# Its id is unknown until apply; the conditionals below are then null.
resource "terraform_data" "later" {
  input = "x"
}
resource "aio_credential" "null_default" {
  allowed_hosts = ["127.0.0.1"]
  name   = "bearer-a"
  type   = "bearer"
  header = var.header
  secret = "s"
}
resource "aio_credential" "unknown" {
  allowed_hosts = ["127.0.0.1"]
  name     = "bearer-b"
  type     = "bearer"
  header   = terraform_data.later.id == "" ? "x-key" : null
  username = terraform_data.later.id == "" ? "user" : null
  secret   = "s"
}
`,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue("aio_credential.unknown", tfjsonpath.New("header")),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("aio_credential.null_default", tfjsonpath.New("header"), knownvalue.Null()),
				statecheck.ExpectKnownValue("aio_credential.unknown", tfjsonpath.New("header"), knownvalue.Null()),
			},
		}},
	})
}

// ciConfig is a credential whose write-only secret comes from an
// ephemeral variable that may be left unset, as in a plan-only CI job.
func ciConfig(srv *acctest.Server, role string, version int) string {
	return srv.ProviderConfig(role) + fmt.Sprintf(`
variable "api_key" {
  type      = string
  sensitive = true
  ephemeral = true
  default   = null
}

resource "aio_credential" "test" {
  allowed_hosts = ["127.0.0.1"]
  name              = "ci-key"
  type              = "api_key"
  secret_wo         = var.api_key
  secret_wo_version = %d
}
`, version)
}

// A plan that sends no secret needs none: after an apply with the secret,
// a plan with a viewer token and the secret variable unset shows no
// changes. Bumping secret_wo_version without the secret fails the plan on
// secret_wo; with the secret, it applies.
func TestAccCredentialResource_planWithoutSecret(t *testing.T) {
	srv := newTestServer(t)
	key := func(v string) config.Variables { return config.Variables{"api_key": config.StringVariable(v)} }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:          ciConfig(srv, api.RoleEditor, 1),
				ConfigVariables: key("first"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(1)),
				},
			},
			{
				// The nightly drift check: viewer token, no secret.
				Config:   ciConfig(srv, api.RoleViewer, 1),
				PlanOnly: true,
			},
			{
				Config:      ciConfig(srv, api.RoleEditor, 2),
				PlanOnly:    true,
				ExpectError: oneErrorAt(`secret_wo`, `secret_wo_version \(or secret\) changed, so the apply sends the secret, but neither secret_wo nor secret has a value`),
			},
			{
				Config:          ciConfig(srv, api.RoleEditor, 2),
				ConfigVariables: key("second"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(2)),
				},
			},
			{
				Config:   ciConfig(srv, api.RoleViewer, 2),
				PlanOnly: true,
			},
			{
				// The editor plans without the secret too; the post-test
				// destroy runs with this last configuration.
				Config:   ciConfig(srv, api.RoleEditor, 2),
				PlanOnly: true,
			},
		},
	})
}

// rotation_due_at is planned null when neither expires_at nor
// rotation_period is set, and unknown when one is.
func TestAccCredentialResource_rotationDueAtPlannedNull(t *testing.T) {
	srv := newTestServer(t)
	cred := func(extra string) string {
		return srv.ProviderConfig(api.RoleEditor) + "resource \"aio_credential\" \"test\" {\n  name = \"c\"\n  type = \"bearer\"\n  allowed_hosts = [\"x.example.com\"]\n  secret = \"s\"\n" + extra + "}\n"
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: cred(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("rotation_due_at"), knownvalue.Null()),
				}},
			},
			{
				Config: cred("  rotation_period = \"720h\"\n"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(credentialAddr, tfjsonpath.New("rotation_due_at")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("rotation_due_at"), knownvalue.NotNull()),
				},
			},
			{
				// Removing the period plans it null again, not unknown.
				Config: cred(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("rotation_due_at"), knownvalue.Null()),
				}},
			},
		},
	})
}

// unknownTargetConfig is a credential and a PagerDuty channel whose
// secret's destination (allowed_hosts, events_url) may come from a
// terraform_data output, unknown until the apply.
func unknownTargetConfig(srv *acctest.Server, later bool) string {
	hosts, events, data := `["a.example.com"]`, `"https://events.example.com/v2/enqueue"`, ""
	if later {
		// Created in the same apply, so its output is unknown at plan.
		hosts, events = `["a.example.com", terraform_data.later.output.host]`, `terraform_data.later.output.events`
		data = `
resource "terraform_data" "later" {
  input = { host = "b.example.com", events = "https://events2.example.com/v2/enqueue" }
}
`
	}
	return srv.ProviderConfig(api.RoleEditor) + data + fmt.Sprintf(`
variable "secret" {
  type      = string
  sensitive = true
  ephemeral = true
  default   = "s3cr3t-value-1"
}
resource "aio_credential" "test" {
  name              = "unknown-target"
  type              = "bearer"
  allowed_hosts     = %s
  secret_wo         = var.secret
  secret_wo_version = 1
}
resource "aio_notification_channel" "test" {
  name              = "unknown-events-url"
  type              = "pagerduty"
  events_url        = %s
  secret_wo         = var.secret
  secret_wo_version = 1
}
`, hosts, events)
}

// A value that decides where a secret goes, unknown at plan (a module
// input computed during the apply), leaves the apply to decide whether the
// secret is sent: what a send changes is planned unknown. Before, it was
// planned as it was, and the apply, which found the widening and sent the
// secret, failed with "Provider produced inconsistent final plan".
func TestAccSecretTargetUnknownAtPlan(t *testing.T) {
	srv := newTestServer(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{Config: unknownTargetConfig(srv, false)},
			{
				Config: unknownTargetConfig(srv, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue("aio_credential.test", tfjsonpath.New("secret_revision")),
					plancheck.ExpectUnknownValue("aio_credential.test", tfjsonpath.New("last_rotated_at")),
					plancheck.ExpectUnknownValue("aio_notification_channel.test", tfjsonpath.New("secret_revision")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("aio_credential.test", tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue("aio_notification_channel.test", tfjsonpath.New("events_url"), knownvalue.StringExact("https://events2.example.com/v2/enqueue")),
				},
			},
			{Config: unknownTargetConfig(srv, true), PlanOnly: true},
		},
	})
}
