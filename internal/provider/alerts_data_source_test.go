package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// alertsConfig is two endpoints, each with a monitor and a threshold on
// it, followed by extra (the aio_alerts data sources under test).
func alertsConfig(srv *acctest.Server, extra string) string {
	return srv.ProviderConfig(api.RoleEditor) + `
resource "aio_endpoint" "gated" {
  name = "gated-api"
  url  = "https://gated.example.com"
}

resource "aio_monitor" "gated" {
  name        = "gated-health"
  endpoint_id = aio_endpoint.gated.id
  type        = "http"
  enabled     = false
}

resource "aio_alert_threshold" "gated" {
  name       = "gated-error-rate"
  monitor_id = aio_monitor.gated.id
  metric     = "error_rate_percent"
  comparison = "above"
  warning    = 1
  critical   = 5
  window     = "5m"
  tags       = { team = "gate" }
}

resource "aio_endpoint" "other" {
  name = "other-api"
  url  = "https://other.example.com"
}

resource "aio_alert_threshold" "other" {
  name        = "other-error-rate"
  endpoint_id = aio_endpoint.other.id
  metric      = "error_rate_percent"
  comparison  = "above"
  critical    = 5
  window      = "5m"
}
` + extra
}

// alertsGate is a data source over the gated endpoint whose postcondition
// fails while a critical alert fires there.
const alertsGate = `
data "aio_alerts" "gate" {
  endpoint_id = aio_endpoint.gated.id

  lifecycle {
    postcondition {
      condition     = length([for a in self.alerts : a if a.severity == "critical" && a.state == "firing"]) == 0
      error_message = "A critical alert is firing for the gated endpoint."
    }
  }
}
`

// alertsCheck is the same gate as a check block: a warning, not an error.
const alertsCheck = `
check "gated_no_critical_alert" {
  data "aio_alerts" "gate" {
    endpoint_id = aio_endpoint.gated.id
    severity    = "critical"
    state       = "firing"
  }

  assert {
    condition     = data.aio_alerts.gate.firing_critical == 0
    error_message = "A critical alert is firing for the gated endpoint."
  }
}
`

// alertsListing lists the alerts with each filter.
const alertsListing = `
data "aio_alerts" "gated" {
  endpoint_id = aio_endpoint.gated.id
}

data "aio_alerts" "gated_critical" {
  endpoint_id = aio_endpoint.gated.id
  severity    = "critical"
}

data "aio_alerts" "pending" {
  state = "pending"
}

data "aio_alerts" "by_threshold" {
  threshold_ids = [aio_alert_threshold.other.id]
}

data "aio_alerts" "by_tag" {
  tags = { team = "gate" }
}

data "aio_alerts" "no_tag" {
  tags = { team = "nobody" }
}

data "aio_alerts" "all" {}
`

// recordAlert stores the machine of one severity of threshold thr in
// state, as the alert engine would.
func recordAlert(t *testing.T, srv *acctest.Server, thr, severity, state string, value float64) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	rec := store.AlertStateRecord{ThresholdID: thr, Severity: severity, State: state, Since: now, Value: &value}
	if state != api.AlertOK {
		rec.StartedAt = now
		rec.Notified = state == api.AlertFiring
	}
	if err := srv.Store.RecordTransitions(context.Background(), store.AlertBatch{States: []store.AlertStateRecord{rec}}); err != nil {
		t.Fatalf("record the %s %s alert of %s: %v", state, severity, thr, err)
	}
}

func TestAccAlertsDataSource(t *testing.T) {
	srv := newTestServer(t)
	var gated, other string
	ids := func(s *terraform.State) error {
		gated = s.RootModule().Resources["aio_alert_threshold.gated"].Primary.ID
		other = s.RootModule().Resources["aio_alert_threshold.other"].Primary.ID
		return nil
	}
	alert := func(thr *string, state, severity string) knownvalue.Check {
		return knownvalue.ObjectPartial(map[string]knownvalue.Check{
			"threshold_id": knownvalue.StringFunc(func(v string) error {
				if v != *thr {
					return fmt.Errorf("threshold_id %q, want %q", v, *thr)
				}
				return nil
			}),
			"state": knownvalue.StringExact(state), "severity": knownvalue.StringExact(severity),
			"started_at": knownvalue.NotNull(), "since": knownvalue.NotNull(),
		})
	}
	gateFails := regexp.MustCompile(`A critical alert is firing for the gated endpoint`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				// No alert yet: the gate passes.
				Config: alertsConfig(srv, alertsGate),
				Check:  ids,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_alerts.gate", tfjsonpath.New("alerts"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue("data.aio_alerts.gate", tfjsonpath.New("firing_critical"), knownvalue.Int64Exact(0)),
				},
			},
			{
				// The gated threshold fires critical and is pending at
				// warning; the other endpoint's fires critical.
				PreConfig: func() {
					recordAlert(t, srv, gated, api.SeverityCritical, api.AlertFiring, 12.5)
					recordAlert(t, srv, gated, api.SeverityWarning, api.AlertPending, 12.5)
					recordAlert(t, srv, other, api.SeverityCritical, api.AlertFiring, 7)
				},
				Config: alertsConfig(srv, alertsListing),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_alerts.gated", tfjsonpath.New("alerts"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue("data.aio_alerts.gated", tfjsonpath.New("firing_critical"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue("data.aio_alerts.gated_critical", tfjsonpath.New("alerts"), knownvalue.ListExact([]knownvalue.Check{
						alert(&gated, api.AlertFiring, api.SeverityCritical),
					})),
					statecheck.ExpectKnownValue("data.aio_alerts.gated_critical", tfjsonpath.New("alerts").AtSliceIndex(0).AtMapKey("value"), knownvalue.Float64Exact(12.5)),
					statecheck.ExpectKnownValue("data.aio_alerts.pending", tfjsonpath.New("alerts"), knownvalue.ListExact([]knownvalue.Check{
						alert(&gated, api.AlertPending, api.SeverityWarning),
					})),
					statecheck.ExpectKnownValue("data.aio_alerts.by_threshold", tfjsonpath.New("alerts"), knownvalue.ListExact([]knownvalue.Check{
						alert(&other, api.AlertFiring, api.SeverityCritical),
					})),
					statecheck.ExpectKnownValue("data.aio_alerts.by_tag", tfjsonpath.New("alerts"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue("data.aio_alerts.no_tag", tfjsonpath.New("alerts"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue("data.aio_alerts.all", tfjsonpath.New("alerts"), knownvalue.ListSizeExact(3)),
					statecheck.ExpectKnownValue("data.aio_alerts.all", tfjsonpath.New("firing_critical"), knownvalue.Int64Exact(2)),
				},
			},
			{
				// The postcondition stops the run while the alert fires.
				Config:      alertsConfig(srv, alertsGate),
				ExpectError: gateFails,
			},
			{
				// A check block only warns: the run succeeds. A data
				// source scoped to a check block is read again at every
				// plan, so the plan after the apply is not empty.
				Config:             alertsConfig(srv, alertsCheck),
				ExpectNonEmptyPlan: true,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_alerts.gate", tfjsonpath.New("firing_critical"), knownvalue.Int64Exact(1)),
				},
			},
			{
				// The critical alert resolves (the warning stays pending):
				// the gate passes again.
				PreConfig: func() { recordAlert(t, srv, gated, api.SeverityCritical, api.AlertOK, 0.5) },
				Config:    alertsConfig(srv, alertsGate),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_alerts.gate", tfjsonpath.New("alerts"), knownvalue.ListExact([]knownvalue.Check{
						alert(&gated, api.AlertPending, api.SeverityWarning),
					})),
					statecheck.ExpectKnownValue("data.aio_alerts.gate", tfjsonpath.New("firing_critical"), knownvalue.Int64Exact(0)),
				},
			},
		},
	})
}

func TestAccAlertsDataSource_validation(t *testing.T) {
	srv := newTestServer(t)
	for name, tc := range map[string]struct{ body, want string }{
		"state":         {`state = "resolved"`, `(?s)Invalid Attribute Value Match.*state`},
		"severity":      {`severity = "info"`, `(?s)Invalid Attribute Value Match.*severity`},
		"endpoint_id":   {`endpoint_id = "mon_1"`, `must be an endpoint ID`},
		"threshold_ids": {`threshold_ids = ["ep_1"]`, `must be an alert threshold ID`},
	} {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				TerraformVersionChecks:   testAccVersionChecks,
				Steps: []resource.TestStep{{
					Config:      srv.ProviderConfig(api.RoleViewer) + "data \"aio_alerts\" \"test\" {\n  " + tc.body + "\n}\n",
					ExpectError: regexp.MustCompile(tc.want),
					PlanOnly:    true,
				}},
			})
		})
	}
}
