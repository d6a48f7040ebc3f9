package provider

import (
	"fmt"
	"os"
	"path/filepath"
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

// useProviderSource makes the provider under test answer to its real
// source address, aio-platform/aio, which modules and examples declare in
// required_providers; by default the test harness serves it as
// hashicorp/aio, and Terraform would then look for aio-platform/aio in the
// registry.
func useProviderSource(t *testing.T) {
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "aio-platform")
}

// rootHeader is the terraform block and the provider block of a root
// configuration that uses the provider by its source address.
func rootHeader(srv *acctest.Server, role string) string {
	return `terraform {
  required_providers {
    aio = {
      source = "aio-platform/aio"
    }
  }
}
` + srv.ProviderConfig(role)
}

// configDirectory writes files into a new directory and returns it for
// TestStep.ConfigDirectory. A configuration that calls modules must come
// as a directory: the test harness runs terraform init, which installs
// modules, on a ConfigDirectory, but on a Config string it runs init
// before the configuration is written, and the plan then fails with
// "Module not installed".
func configDirectory(t *testing.T, files map[string]string) config.TestStepConfigFunc {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return config.StaticDirectory(dir)
}

// moduleTestConfig calls examples/modules/integration three ways: with
// every input known, with inputs known only after apply (terraform_data
// outputs), and with for_each over a map of integrations.
func moduleTestConfig(t *testing.T, srv *acctest.Server) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "examples", "modules", "integration"))
	if err != nil {
		t.Fatal(err)
	}
	return rootHeader(srv, api.RoleEditor) + fmt.Sprintf(`
variable "secret" {
  type      = string
  sensitive = true
  ephemeral = true
  default   = null
}

module "known" {
  source = %[1]q

  name                = "known"
  url                 = "http://127.0.0.1:9/api"
  api_version         = "v2"
  description         = "Every input known at plan time."
  owner               = "team-known"
  data_classification = "confidential"
  tags                = { team = "known" }

  credential = {
    type              = "api_key"
    allowed_hosts     = ["127.0.0.1", "svc.internal"]
    description       = "The known API key."
    header            = "x-api-key"
    secret_wo_version = 1
    rotation_period   = "720h"
  }
  secret = var.secret

  monitors = {
    health = {
      type                   = "http"
      enabled                = false
      interval               = "30s"
      timeout                = "5s"
      degraded_response_time = "1s"
      tags                   = { tier = "critical" }
      request = {
        method           = "POST"
        path             = "/health"
        query            = { deep = "1" }
        headers          = { accept = "application/json" }
        body             = "{}"
        follow_redirects = false
        tls              = { insecure_skip_verify = true, server_name = "svc.internal" }
      }
      assertions = [
        { source = "status_code", comparison = "equals", target = "200" },
        { source = "json_body", property = "$.status", comparison = "equals", target = "ok" },
      ]
      retry_strategy = {
        type         = "exponential"
        max_retries  = 2
        base_backoff = "500ms"
        max_backoff  = "2s"
        jitter       = true
        retry_on     = { network_error = true, timeout = false, status_codes = [502, 503] }
      }
    }
  }

  thresholds = {
    availability = {
      monitor           = "health"
      metric            = "availability_percent"
      comparison        = "below"
      warning           = 99.9
      critical          = 99.5
      recovery_critical = 99.7
      window            = "1h"
      pending_for       = "2m"
      runbook_url       = "https://runbooks.example.com/known"
    }
    slo = {
      metric = "error_budget_burn_rate"
      slo    = { objective_percent = 99.9, period = "720h" }
    }
  }
}

# Every value below is known only after apply, as it is when a module input
# comes from another resource.
resource "terraform_data" "inputs" {
  input = {
    url      = "http://127.0.0.1:9/later"
    host     = "127.0.0.1:9"
    owner    = "team-later"
    header   = "x-later-key"
    interval = "45s"
    request  = { method = "GET", path = "/later", headers = { "x-probe" = "aio" } }
    assertions = [
      { source = "response_time", comparison = "less_than", target = "2s" },
    ]
    retry_strategy = { type = "fixed", max_retries = 1, retry_on = { status_codes = [503] } }
    window         = "15m"
    critical       = 5
    slo_period     = "168h"
  }
}

module "unknown" {
  source = %[1]q

  name  = "unknown"
  url   = terraform_data.inputs.output.url
  owner = terraform_data.inputs.output.owner

  credential = {
    type              = "api_key"
    allowed_hosts     = [terraform_data.inputs.output.host]
    header            = terraform_data.inputs.output.header
    secret_wo_version = 1
  }
  secret = var.secret

  monitors = {
    health = {
      type           = "http"
      interval       = terraform_data.inputs.output.interval
      request        = terraform_data.inputs.output.request
      assertions     = terraform_data.inputs.output.assertions
      retry_strategy = terraform_data.inputs.output.retry_strategy
    }
  }

  thresholds = {
    errors = {
      monitor    = "health"
      metric     = "error_rate_percent"
      comparison = "above"
      critical   = terraform_data.inputs.output.critical
      window     = terraform_data.inputs.output.window
    }
    slo = {
      metric = "error_budget_burn_rate"
      slo    = { objective_percent = 99.5, period = terraform_data.inputs.output.slo_period }
      burn_rate_windows = [
        { long_window = "1h", short_window = "5m", factor = 14.4, severity = "critical" },
      ]
    }
  }
}

locals {
  integrations = {
    orders = {
      url        = "https://127.0.0.1:9/orders"
      credential = { type = "bearer", allowed_hosts = ["127.0.0.1:9"], secret_wo_version = 1 }
      monitors = {
        health = { type = "http", request = { path = "/health" } }
      }
    }
    ledger-db = {
      url        = "tcp://127.0.0.1:5432"
      credential = null
      monitors = {
        reach = {
          type       = "tcp"
          assertions = [{ source = "response_time", comparison = "less_than", target = "250ms" }]
        }
      }
    }
  }
}

module "each" {
  source   = %[1]q
  for_each = local.integrations

  name       = each.key
  url        = each.value.url
  credential = each.value.credential
  secret     = var.secret
  monitors   = each.value.monitors
}

output "known_health" {
  value = module.known.monitors["health"]
}

output "unknown_health" {
  value = module.unknown.monitors["health"]
}

output "known_thresholds" {
  value = module.known.threshold_ids
}

output "unknown_thresholds" {
  value = module.unknown.threshold_ids
}

output "each_credentials" {
  value = { for k, m in module.each : k => m.credential_id }
}

output "each_monitor_types" {
  value = { for k, m in module.each : k => [for mon in m.monitors : mon.type] }
}
`, dir)
}

// The integration module validates, plans and applies with known inputs,
// with inputs unknown at plan time and under for_each; then a plan with
// the secret unset (as a CI drift check runs) shows no changes.
func TestAccModuleIntegration(t *testing.T) {
	useProviderSource(t)
	srv := newTestServer(t)
	cfg := configDirectory(t, map[string]string{"main.tf": moduleTestConfig(t, srv)})
	health := func(name string) string { return `module.` + name + `.aio_monitor.this["health"]` }
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks: testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				// With a directory that has a provider block, the harness
				// wants the providers on each step.
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigDirectory:          cfg,
				ConfigVariables:          config.Variables{"secret": config.StringVariable("module-SECRET-1")},
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(health("unknown"), tfjsonpath.New("request")),
					plancheck.ExpectUnknownValue(health("unknown"), tfjsonpath.New("assertions")),
					plancheck.ExpectUnknownValue(health("unknown"), tfjsonpath.New("retry_strategy")),
					plancheck.ExpectUnknownValue(health("unknown"), tfjsonpath.New("interval")),
					plancheck.ExpectUnknownValue(`module.unknown.aio_credential.this[0]`, tfjsonpath.New("header")),
					plancheck.ExpectUnknownValue(`module.unknown.aio_alert_threshold.this["errors"]`, tfjsonpath.New("window")),
					plancheck.ExpectUnknownValue(`module.unknown.aio_alert_threshold.this["slo"]`, tfjsonpath.New("slo").AtMapKey("period")),
					plancheck.ExpectKnownValue(health("known"), tfjsonpath.New("request").AtMapKey("tls").AtMapKey("server_name"), knownvalue.StringExact("svc.internal")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValueAtPath("known_health", tfjsonpath.New("request").AtMapKey("method"), knownvalue.StringExact("POST")),
					statecheck.ExpectKnownOutputValueAtPath("known_health", tfjsonpath.New("request").AtMapKey("follow_redirects"), knownvalue.Bool(false)),
					statecheck.ExpectKnownOutputValueAtPath("known_health", tfjsonpath.New("assertions").AtSliceIndex(1).AtMapKey("property"), knownvalue.StringExact("$.status")),
					statecheck.ExpectKnownOutputValueAtPath("known_health", tfjsonpath.New("retry_strategy").AtMapKey("retry_on").AtMapKey("timeout"), knownvalue.Bool(false)),
					statecheck.ExpectKnownOutputValueAtPath("unknown_health", tfjsonpath.New("interval"), knownvalue.StringExact("45s")),
					statecheck.ExpectKnownOutputValueAtPath("unknown_health", tfjsonpath.New("request").AtMapKey("headers").AtMapKey("x-probe"), knownvalue.StringExact("aio")),
					statecheck.ExpectKnownOutputValueAtPath("unknown_health", tfjsonpath.New("request").AtMapKey("tls"), knownvalue.Null()),
					statecheck.ExpectKnownOutputValueAtPath("unknown_health", tfjsonpath.New("retry_strategy").AtMapKey("type"), knownvalue.StringExact("fixed")),
					statecheck.ExpectKnownOutputValueAtPath("known_thresholds", tfjsonpath.New("availability"), knownvalue.StringRegexp(regexpMust(`^thr_`))),
					statecheck.ExpectKnownOutputValueAtPath("known_thresholds", tfjsonpath.New("slo"), knownvalue.StringRegexp(regexpMust(`^thr_`))),
					statecheck.ExpectKnownOutputValueAtPath("unknown_thresholds", tfjsonpath.New("errors"), knownvalue.StringRegexp(regexpMust(`^thr_`))),
					statecheck.ExpectKnownOutputValueAtPath("each_credentials", tfjsonpath.New("ledger-db"), knownvalue.Null()),
					statecheck.ExpectKnownOutputValueAtPath("each_credentials", tfjsonpath.New("orders"), knownvalue.StringRegexp(regexpMust(`^cred_`))),
					statecheck.ExpectKnownOutputValue("each_monitor_types", knownvalue.MapExact(map[string]knownvalue.Check{
						"orders":    knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("http")}),
						"ledger-db": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("tcp")}),
					})),
				},
			},
			{
				// The drift check of CI: no secret, nothing to change.
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigDirectory:          cfg,
				PlanOnly:                 true,
			},
			{
				// Removing the module calls destroys what they made. The
				// harness reads the final state through a shim that knows
				// no child modules, so the test must end without them.
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigDirectory:          configDirectory(t, map[string]string{"main.tf": rootHeader(srv, api.RoleEditor)}),
			},
		},
	})
}
