package provider

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// concatExamples joins the example files that match pattern (relative to
// the repository root) into one configuration text, as a reader pasting
// every documentation page's example into one file would.
func concatExamples(t *testing.T, pattern string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples match %s: %v", pattern, err)
	}
	var b strings.Builder
	for _, f := range files {
		text, err := os.ReadFile(f) //nolint:gosec // G304: the repository's own example files.
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n# ---- " + filepath.ToSlash(f) + "\n")
		b.Write(text)
	}
	return b.String()
}

// Every documented example, pasted together into one configuration,
// validates, plans and applies against aiod: names are unique, and the
// examples that refer to each other agree. The resource examples are
// applied first, so that the data-source examples, which look objects up
// by name, find them when they are read at plan time.
func TestAccExamples_togetherInOneConfiguration(t *testing.T) {
	useProviderSource(t)
	srv := newTestServer(t)
	resources := concatExamples(t, "examples/resources/*/resource.tf")
	dataSources := concatExamples(t, "examples/data-sources/*/data-source.tf")
	secrets := config.Variables{
		"payments_api_key":      config.StringVariable("payments-SECRET"),
		"partner_key":           config.StringVariable("partner-SECRET"),
		"webhook_token":         config.StringVariable("webhook-SECRET"),
		"oauth_client_secret":   config.StringVariable("oauth-SECRET"),
		"orders_admin_password": config.StringVariable("orders-SECRET"),
		// The notification channels' secrets; Slack's is an https URL.
		"alerts_webhook_signing_secret": config.StringVariable("signing-SECRET"),
		"slack_webhook_url":             config.StringVariable("https://hooks.slack.example/services/T0/B0/SECRET"),
		"pagerduty_routing_key":         config.StringVariable("routing-SECRET"),
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:          rootHeader(srv, api.RoleEditor) + resources,
				ConfigVariables: secrets,
			},
			{
				Config:          rootHeader(srv, api.RoleEditor) + resources + dataSources,
				ConfigVariables: secrets,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs("data.aio_endpoint.payments", tfjsonpath.New("id"), "aio_endpoint.payments", tfjsonpath.New("id"), compareEqual),
					statecheck.CompareValuePairs("data.aio_credential.payments", tfjsonpath.New("id"), "aio_credential.payments", tfjsonpath.New("id"), compareEqual),
					statecheck.ExpectKnownValue("data.aio_monitors.critical", tfjsonpath.New("monitors"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue("data.aio_alert_thresholds.slo", tfjsonpath.New("alert_thresholds"), knownvalue.ListSizeExact(2)),
					statecheck.CompareValuePairs("data.aio_alert_threshold.payments_slo", tfjsonpath.New("id"), "aio_alert_threshold.payments_slo", tfjsonpath.New("id"), compareEqual),
					statecheck.ExpectKnownValue("data.aio_alerts.payments", tfjsonpath.New("firing_critical"), knownvalue.Int64Exact(0)),
					statecheck.CompareValuePairs("data.aio_notification_channel.payments_mail", tfjsonpath.New("id"), "aio_notification_channel.payments_mail", tfjsonpath.New("id"), compareEqual),
				},
			},
		},
	})
}

// TestAccExamples_alertingGuide applies the configuration of the guide
// "Alerting on an integration" (docs/guides), file by file as the guide
// shows it, and runs its gate: it passes while no alert fires and fails
// once a critical one does.
func TestAccExamples_alertingGuide(t *testing.T) {
	useProviderSource(t)
	srv := newTestServer(t)
	guide := concatExamples(t, "examples/guides/alerting-on-an-integration/*.tf")
	secrets := config.Variables{
		"orders_api_token":              config.StringVariable("orders-SECRET"),
		"orders_slack_webhook_url":      config.StringVariable("https://hooks.slack.example/services/T0/B1/SECRET"),
		"orders_webhook_signing_secret": config.StringVariable("signing-SECRET"),
	}
	var availability string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:          rootHeader(srv, api.RoleEditor) + guide,
				ConfigVariables: secrets,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_alerts.orders", tfjsonpath.New("firing_critical"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue("aio_alert_threshold.orders_slo", tfjsonpath.New("slo").AtMapKey("objective_percent"), knownvalue.Float64Exact(99.9)),
				},
				Check: func(s *terraform.State) error {
					availability = s.RootModule().Resources["aio_alert_threshold.orders_availability"].Primary.ID
					return nil
				},
			},
			{
				PreConfig:       func() { recordAlert(t, srv, availability, api.SeverityCritical, api.AlertFiring, 95) },
				Config:          rootHeader(srv, api.RoleEditor) + guide,
				ConfigVariables: secrets,
				ExpectError:     regexp.MustCompile(`A critical alert is firing for orders-api`),
			},
		},
	})
}

// TestAccExamples_retentionGuide applies the configuration of the guide
// "Retention and GDPR/CCPA" and runs its gate: it passes while the data is
// within policy and fails once a raw result of the pii endpoint is held
// past its 24 hours.
func TestAccExamples_retentionGuide(t *testing.T) {
	useProviderSource(t)
	srv := newTestServer(t)
	guide := rootHeader(srv, api.RoleEditor) + concatExamples(t, "examples/guides/retention-and-gdpr/*.tf")
	var held string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: guide,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_retention_compliance.gdpr", tfjsonpath.New("compliant"), knownvalue.Bool(true)),
				},
			},
			{
				// Overdue for the 24 h delete and for the 1 h anonymize.
				PreConfig:   func() { held = holdPIIResult(t, srv, "customer-portal", 30*time.Hour) },
				Config:      guide,
				ExpectError: regexp.MustCompile(`Retention breached: 2 records are held past their policy`),
			},
			{
				// Once the data is gone, the gate passes again.
				PreConfig: func() { dropHeld(t, srv, held) },
				Config:    guide,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_retention_compliance.gdpr", tfjsonpath.New("overdue"), knownvalue.Int64Exact(0)),
				},
			},
		},
	})
}
