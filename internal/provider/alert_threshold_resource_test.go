package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

const thresholdAddr = "aio_alert_threshold.test"

func thresholdID(s *terraform.State) string {
	return s.RootModule().Resources[thresholdAddr].Primary.ID
}

// thresholdConfig is an endpoint, its monitor, an email channel and a
// threshold on the monitor whose body is given: every ID the threshold
// names is unknown at the first plan.
func thresholdConfig(srv *acctest.Server, body string) string {
	return srv.ProviderConfig(api.RoleEditor) + `
resource "aio_endpoint" "payments" {
  name = "payments"
  url  = "https://payments.example.com"
}

resource "aio_monitor" "health" {
  name        = "payments-health"
  endpoint_id = aio_endpoint.payments.id
  type        = "http"
  enabled     = false
}

resource "aio_notification_channel" "mail" {
  name = "payments-mail"
  type = "email"
  to   = ["oncall@example.com"]
}

resource "aio_alert_threshold" "test" {
` + body + `
}
`
}

const availabilityBody = `  name        = "payments-availability"
  monitor_id  = aio_monitor.health.id
  metric      = "availability_percent"
  comparison  = "below"
  warning     = 99.9
  critical    = 99.5
  window      = "1h"
  channel_ids = [aio_notification_channel.mail.id]
  runbook_url = "https://runbooks.example.com/payments"`

func TestAccThresholdResource_lifecycle(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	var id string
	updated := availabilityBody + `
  recovery_critical = 99.7
  pending_for       = "5m"
  reminder_interval = "4h"
  no_data           = "alerting"`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: thresholdConfig(srv, availabilityBody),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("pending_for"), knownvalue.StringExact("0s")),
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("recovery_for"), knownvalue.StringExact("0s")),
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("no_data"), knownvalue.StringExact("ok")),
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("critical"), knownvalue.Float64Exact(99.5)),
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("endpoint_id"), knownvalue.Null()),
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("slo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("burn_rate_windows"), knownvalue.Null()),
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("channel_ids"), knownvalue.SetSizeExact(1)),
				},
				Check: func(s *terraform.State) error { id = thresholdID(s); return nil },
			},
			{
				// The same duration written otherwise is the same value: the
				// plan keeps the state's spelling and plans no change.
				Config: thresholdConfig(srv, strings.Replace(availabilityBody, `"1h"`, `"60m"`, 1)+"\n  pending_for = \"0m\""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(thresholdAddr, plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("pending_for"), knownvalue.StringExact("0s")),
				},
			},
			{
				Config: thresholdConfig(srv, updated),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(thresholdAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("pending_for"), knownvalue.StringExact("5m")),
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("no_data"), knownvalue.StringExact("alerting")),
				},
			},
			{
				ResourceName:      thresholdAddr,
				ImportState:       true,
				ImportStateVerify: true,
				Config:            thresholdConfig(srv, updated),
			},
			{
				// Changed through the API: the plan shows it, and apply
				// restores the configuration.
				PreConfig: func() {
					cur, err := c.GetThreshold(testContext(), id)
					if err != nil {
						t.Fatal(err)
					}
					cur.Critical = new(98.0)
					cur.RecoveryCritical = nil
					if _, err := c.UpdateThreshold(testContext(), id, cur.Revision, cur); err != nil {
						t.Fatal(err)
					}
				},
				Config: thresholdConfig(srv, updated),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(thresholdAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("critical"), knownvalue.Float64Exact(99.5)),
				}},
			},
			{
				// Deleted outside Terraform: the plan creates it again.
				PreConfig: func() {
					if err := c.DeleteThreshold(testContext(), id, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: thresholdConfig(srv, updated),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(thresholdAddr, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

// A burn-rate threshold on an endpoint, with the SRE workbook's windows
// (null) and then its own, read back through both data sources; its values
// come from variables, and its endpoint is made in the same apply.
func TestAccThresholdResource_burnRateAndDataSources(t *testing.T) {
	srv := newTestServer(t)
	cfg := func(windows string) string {
		return srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
variable "objective" {
  type = number
}

variable "period" {
  type = string
}

resource "aio_endpoint" "ledger" {
  name = "ledger"
  url  = "https://ledger.example.com"
}

resource "aio_alert_threshold" "test" {
  name        = "ledger-slo"
  endpoint_id = aio_endpoint.ledger.id
  metric      = "error_budget_burn_rate"
  slo = {
    objective_percent = var.objective
    period            = var.period
  }
%s
}

data "aio_alert_threshold" "by_name" {
  name = aio_alert_threshold.test.name
}

data "aio_alert_thresholds" "burn" {
  metric      = "error_budget_burn_rate"
  endpoint_id = aio_endpoint.ledger.id
  name_prefix = aio_alert_threshold.test.name
}
`, windows)
	}
	vars := config.Variables{"objective": config.FloatVariable(99.9), "period": config.StringVariable("720h")}
	windows := `  burn_rate_windows = [
    { long_window = "1h", short_window = "5m", factor = 14.4, severity = "critical" },
    { long_window = "72h", short_window = "6h", factor = 1, severity = "warning" },
  ]`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:          cfg(""),
				ConfigVariables: vars,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("burn_rate_windows"), knownvalue.Null()),
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("window"), knownvalue.Null()),
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("slo").AtMapKey("period"), knownvalue.StringExact("720h")),
					statecheck.ExpectKnownValue("data.aio_alert_threshold.by_name", tfjsonpath.New("metric"), knownvalue.StringExact(api.MetricBurnRate)),
					statecheck.ExpectKnownValue("data.aio_alert_thresholds.burn", tfjsonpath.New("alert_thresholds"), knownvalue.ListSizeExact(1)),
				},
			},
			{
				Config:          cfg(windows),
				ConfigVariables: vars,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(thresholdAddr, tfjsonpath.New("burn_rate_windows").AtSliceIndex(0).AtMapKey("factor"), knownvalue.Float64Exact(14.4)),
				},
			},
			{
				ResourceName:      thresholdAddr,
				ImportState:       true,
				ImportStateVerify: true,
				Config:            cfg(windows),
				ConfigVariables:   vars,
			},
		},
	})
}

func TestAccThresholdResource_badInput(t *testing.T) {
	srv := newTestServer(t)
	head := "  name = \"bad\"\n  monitor_id = \"mon_x\"\n"
	steps := []struct{ body, want string }{
		{`  name = "bad"` + "\n" + `  metric = "availability_percent"` + "\n" + `  comparison = "below"` + "\n" + `  critical = 99` + "\n" + `  window = "1h"`,
			`(?s)monitor_id set exactly one of monitor_id and endpoint_id`},
		{head + `  endpoint_id = "ep_x"` + "\n" + `  metric = "availability_percent"` + "\n" + `  comparison = "below"` + "\n" + `  critical = 99` + "\n" + `  window = "1h"`,
			`(?s)endpoint_id set exactly one`},
		{head + `  metric = "uptime"`, `(?s)Attribute metric value must be one of`},
		{head + `  metric = "availability_percent"` + "\n" + `  critical = 99` + "\n" + `  window = "1h"`, `(?s)comparison is required for metric`},
		{head + `  metric = "availability_percent"` + "\n" + `  comparison = "below"` + "\n" + `  window = "1h"`, `(?s)critical set warning, critical or both`},
		{head + `  metric = "availability_percent"` + "\n" + `  comparison = "below"` + "\n" + `  warning = 99` + "\n" + `  critical = 99.5` + "\n" + `  window = "1h"`,
			`(?s)warning must be above critical \(99.5\)`},
		{head + `  metric = "latency_p95_ms"` + "\n" + `  comparison = "above"` + "\n" + `  critical = 500` + "\n" + `  recovery_critical = 600` + "\n" + `  window = "5m"`,
			`(?s)recovery_critical must be below critical \(500\)`},
		{head + `  metric = "availability_percent"` + "\n" + `  comparison = "below"` + "\n" + `  critical = 101` + "\n" + `  window = "1h"`, `(?s)critical must be a percentage`},
		{head + `  metric = "availability_percent"` + "\n" + `  comparison = "below"` + "\n" + `  critical = 99` + "\n" + `  window = "30s"`, `(?s)window must be from 1m`},
		{head + `  metric = "availability_percent"` + "\n" + `  comparison = "below"` + "\n" + `  critical = 99`, `(?s)window is required for metric`},
		{head + `  metric = "consecutive_failures"` + "\n" + `  comparison = "above"` + "\n" + `  critical = 3` + "\n" + `  window = "1h"`, `(?s)window is not used by metric`},
		{head + `  metric = "availability_percent"` + "\n" + `  comparison = "below"` + "\n" + `  critical = 99` + "\n" + `  window = "1h"` + "\n" + `  pending_for = "-1s"`, `(?s)Invalid duration.*from 0s`},
		{head + `  metric = "error_budget_burn_rate"`, `(?s)slo is required for metric`},
		{head + `  metric = "error_budget_burn_rate"` + "\n" + `  slo = { objective_percent = 99.9, period = "48h" }`, `(?s)slo.period must be at least 72h for the default burn_rate_windows`},
		{head + `  metric = "error_budget_burn_rate"` + "\n" + `  slo = { objective_percent = 99.9, period = "720h" }` + "\n" + `  critical = 2`, `(?s)critical is not used by metric`},
		{head + `  metric = "error_budget_burn_rate"` + "\n" + `  slo = { objective_percent = 99.9, period = "720h" }` + "\n" +
			`  burn_rate_windows = [{ long_window = "5m", short_window = "1h", factor = 2, severity = "critical" }]`,
			`(?s)burn_rate_windows\[0\].short_window must be shorter than long_window`},
		{head + `  metric = "availability_percent"` + "\n" + `  comparison = "below"` + "\n" + `  critical = 99` + "\n" + `  window = "1h"` + "\n" + `  channel_ids = ["ep_x"]`,
			`(?s)must be a notification channel ID`},
	}
	var ts []resource.TestStep
	for _, s := range steps {
		ts = append(ts, resource.TestStep{
			Config:      srv.ProviderConfig(api.RoleEditor) + "resource \"aio_alert_threshold\" \"test\" {\n" + s.body + "\n}\n",
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(s.want),
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps:                    ts,
	})
}

// A channel that a threshold uses cannot be deleted: the API's 409 names
// the threshold, and Terraform reports it.
func TestAccThresholdResource_channelInUse(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config: thresholdConfig(srv, availabilityBody),
			Check: func(s *terraform.State) error {
				ch := s.RootModule().Resources["aio_notification_channel.mail"].Primary.ID
				err := c.DeleteChannel(testContext(), ch, 0)
				if err == nil {
					return fmt.Errorf("deleting a channel in use succeeded, want a conflict naming %s", thresholdID(s))
				}
				if !strings.Contains(err.Error(), thresholdID(s)) {
					return fmt.Errorf("deleting a channel in use: %w; want a conflict naming %s", err, thresholdID(s))
				}
				return nil
			},
		}},
	})
}
