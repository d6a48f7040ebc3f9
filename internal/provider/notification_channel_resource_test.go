package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
)

const channelAddr = "aio_notification_channel.test"

// storedChannelSecret opens the secret aiod holds for a channel, straight
// from the store, to prove what was sent.
func storedChannelSecret(t *testing.T, srv *acctest.Server, id string) string {
	t.Helper()
	rec, err := srv.Store.GetChannel(context.Background(), id)
	if err != nil {
		t.Fatalf("get channel %s: %v", id, err)
	}
	plain, err := srv.Keyring.Open(rec.Sealed, secret.Binding{ObjectID: id, Revision: rec.SecretRevision})
	if err != nil {
		t.Fatalf("open secret of %s: %v", id, err)
	}
	return string(plain)
}

func channelID(s *terraform.State) string { return s.RootModule().Resources[channelAddr].Primary.ID }

// webhookChannelConfig is a webhook channel whose signing secret comes from
// an ephemeral variable into the write-only attribute, with the given
// provider role.
func webhookChannelConfig(srv *acctest.Server, role string, version int, extra string) string {
	return srv.ProviderConfig(role) + fmt.Sprintf(`
variable "signing_secret" {
  type      = string
  sensitive = true
  ephemeral = true
  default   = null
}

resource "aio_notification_channel" "test" {
  name              = "payments-hook"
  type              = "webhook"
  url               = "https://hooks.example.com/aio"
  headers           = { "x-team" = "payments" }
  secret_wo         = var.signing_secret
  secret_wo_version = %d
  tags              = { env = "prod" }
%s
}
`, version, extra)
}

func TestAccChannelResource_webhookWriteOnly(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	const first, second, outside = "first-SIGNING-5e1a", "second-SIGNING-9c77", "outside-SIGNING-02bd"
	vars := func(v string) config.Variables { return config.Variables{"signing_secret": config.StringVariable(v)} }
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:          webhookChannelConfig(srv, api.RoleEditor, 1, ""),
				ConfigVariables: vars(first),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(channelAddr, tfjsonpath.New("secret_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(channelAddr, tfjsonpath.New("secret"), knownvalue.Null()),
					statecheck.ExpectKnownValue(channelAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(channelAddr, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(channelAddr, tfjsonpath.New("send_resolved"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(channelAddr, tfjsonpath.New("events_url"), knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(noValueInState(first), func(s *terraform.State) error {
					id = channelID(s)
					if got := storedChannelSecret(t, srv, id); got != first {
						return fmt.Errorf("aiod holds %q, want the configured secret", got)
					}
					return nil
				}),
			},
			{
				// A drift check with a viewer token and no secret at all:
				// the plan is empty and needs none.
				Config:   webhookChannelConfig(srv, api.RoleViewer, 1, ""),
				PlanOnly: true,
			},
			{
				// Bumping the version sends the new secret.
				Config:          webhookChannelConfig(srv, api.RoleEditor, 2, `  send_resolved = false`),
				ConfigVariables: vars(second),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(channelAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(channelAddr, tfjsonpath.New("secret_revision")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(channelAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(channelAddr, tfjsonpath.New("send_resolved"), knownvalue.Bool(false)),
				},
				Check: resource.ComposeTestCheckFunc(noValueInState(first, second), func(s *terraform.State) error {
					if got := storedChannelSecret(t, srv, id); got != second {
						return fmt.Errorf("aiod holds %q after rotation, want the new secret", got)
					}
					return nil
				}),
			},
			{
				// A settings change without the secret leaves it alone.
				Config: webhookChannelConfig(srv, api.RoleEditor, 2, `  send_resolved = false
  description   = "Payments on-call"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(channelAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(channelAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(2)),
				}},
			},
			{
				// The secret changed through the API: the plan shows an
				// update and apply sends the configured secret again.
				PreConfig: func() {
					cur, err := c.GetChannel(testContext(), id)
					if err != nil {
						t.Fatal(err)
					}
					s := outside
					cur.Secret = &s
					if _, err := c.UpdateChannel(testContext(), id, cur.Revision, cur); err != nil {
						t.Fatal(err)
					}
				},
				Config: webhookChannelConfig(srv, api.RoleEditor, 2, `  send_resolved = false
  description   = "Payments on-call"`),
				ConfigVariables: vars(second),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(channelAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(channelAddr, tfjsonpath.New("secret_revision")),
				}},
				Check: func(s *terraform.State) error {
					if got := storedChannelSecret(t, srv, id); got != second {
						return fmt.Errorf("apply did not restore the secret: aiod holds %q", got)
					}
					return nil
				},
			},
			{
				// A setting changed through the API is drift that apply
				// restores.
				PreConfig: func() {
					cur, err := c.GetChannel(testContext(), id)
					if err != nil {
						t.Fatal(err)
					}
					u := "https://elsewhere.example.com/hook"
					cur.URL = &u
					if _, err := c.UpdateChannel(testContext(), id, cur.Revision, cur); err != nil {
						t.Fatal(err)
					}
				},
				Config: webhookChannelConfig(srv, api.RoleEditor, 2, `  send_resolved = false
  description   = "Payments on-call"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(channelAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(channelAddr, tfjsonpath.New("url"), knownvalue.StringExact("https://hooks.example.com/aio")),
				}},
			},
			{
				ResourceName:            channelAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"secret", "secret_wo", "secret_wo_version"},
				Config: webhookChannelConfig(srv, api.RoleEditor, 2, `  send_resolved = false
  description   = "Payments on-call"`),
			},
			{
				// Deleted outside Terraform: the plan creates it again.
				PreConfig: func() {
					if err := c.DeleteChannel(testContext(), id, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: webhookChannelConfig(srv, api.RoleEditor, 2, `  send_resolved = false
  description   = "Payments on-call"`),
				ConfigVariables: vars(second),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(channelAddr, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

// An email channel has no secret at all, and a Slack channel may keep its
// URL in the sensitive secret attribute; the data source reads either
// without a secret.
func TestAccChannelResource_emailAndSlack(t *testing.T) {
	srv := newTestServer(t)
	const slackURL = "https://hooks.slack.example/services/T0/B0/secretpart"
	cfg := func(to string) string {
		return srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
resource "aio_notification_channel" "test" {
  name = "ops-mail"
  type = "email"
  to   = [%s]
}

resource "aio_notification_channel" "slack" {
  name   = "ops-slack"
  type   = "slack"
  secret = %q
}

data "aio_notification_channel" "by_name" {
  name = aio_notification_channel.slack.name
}
`, to, slackURL)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: cfg(`"ops@example.com", "oncall@example.com"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(channelAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(channelAddr, tfjsonpath.New("to"), knownvalue.SetExact([]knownvalue.Check{
						knownvalue.StringExact("oncall@example.com"), knownvalue.StringExact("ops@example.com")})),
					statecheck.ExpectKnownValue("data.aio_notification_channel.by_name", tfjsonpath.New("type"), knownvalue.StringExact("slack")),
					statecheck.ExpectKnownValue("data.aio_notification_channel.by_name", tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(1)),
				},
			},
			{
				// Reordering a set is no change.
				Config:   cfg(`"oncall@example.com", "ops@example.com"`),
				PlanOnly: true,
			},
			{
				ResourceName:      channelAddr,
				ImportState:       true,
				ImportStateVerify: true,
				Config:            cfg(`"oncall@example.com", "ops@example.com"`),
			},
		},
	})
}

func TestAccChannelResource_badInput(t *testing.T) {
	srv := newTestServer(t)
	steps := []struct{ body, want string }{
		{`type = "sms"`, `(?s)Attribute type value must be one of`},
		{`type = "webhook"` + "\n" + `url = "ftp://x.example.com"` + "\n" + `secret = "k"`, `(?s)Invalid URL.*absolute http or https URL`},
		{`type = "webhook"` + "\n" + `secret = "k"`, `(?s)url is required for type webhook`},
		{`type = "webhook"` + "\n" + `url = "https://x.example.com"`, `(?s)Missing secret`},
		{`type = "webhook"` + "\n" + `url = "https://x.example.com"` + "\n" + `secret = "k"` + "\n" + `headers = { authorization = "Bearer x" }`, `(?s)Invalid header.*"authorization" is refused`},
		{`type = "webhook"` + "\n" + `url = "https://x.example.com"` + "\n" + `secret = "k"` + "\n" + `headers = { "X-Team" = "a" }`, `(?s)Invalid header.*lower-case`},
		{`type = "email"` + "\n" + `to = ["not an address"]`, `(?s)Invalid email address`},
		{`type = "email"` + "\n" + `to = []`, `(?s)Attribute to set must contain at least 1`},
		{`type = "email"` + "\n" + `to = ["a@example.com"]` + "\n" + `secret = "x"`, `(?s)has no secret: leave secret unset`},
		{`type = "email"` + "\n" + `to = ["a@example.com"]` + "\n" + `url = "https://x.example.com"`, `(?s)url is only valid for type webhook`},
		{`type = "slack"` + "\n" + `secret = "xoxb-not-a-url"`, `(?s)Invalid Slack webhook URL`},
		{`type = "webhook"` + "\n" + `url = "https://x.example.com"` + "\n" + `secret_wo = "sign-1\n"` + "\n" + `secret_wo_version = 1`, `(?s)Invalid secret.*secret_wo\s+=.*must not contain control`},
		{`type = "pagerduty"` + "\n" + `secret = "rk"` + "\n" + `events_url = "mailto:x@example.com"`, `(?s)Invalid URL`},
	}
	var ts []resource.TestStep
	for _, s := range steps {
		ts = append(ts, resource.TestStep{
			Config:      srv.ProviderConfig(api.RoleEditor) + "resource \"aio_notification_channel\" \"test\" {\n  name = \"bad\"\n" + s.body + "\n}\n",
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

// The channel's secret never reaches the provider's trace log, as the
// credential's does not.
func TestAccChannelResource_notInTraceLogs(t *testing.T) {
	srv := newTestServer(t)
	logPath := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "trace")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	// The token comes from the environment: the test harness itself logs
	// the configuration text, which would otherwise hold it.
	t.Setenv(EnvToken, srv.Tokens[api.RoleEditor])
	const secretValue = "TRACE-SIGNING-8d2c41"
	cfg := strings.Replace(webhookChannelConfig(srv, api.RoleEditor, 1, ""), srv.ProviderConfig(api.RoleEditor),
		fmt.Sprintf("provider \"aio\" {\n  address = %q\n}\n", srv.URL), 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config:          cfg,
			ConfigVariables: config.Variables{"signing_secret": config.StringVariable(secretValue)},
		}},
	})
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logs), "/v1/notification-channels") {
		t.Fatalf("the trace log (%d bytes) does not show the provider's requests; the check below would prove nothing", len(logs))
	}
	if strings.Contains(string(logs), secretValue) {
		t.Error("the channel's secret occurs in the TF_LOG=trace output")
	}
}
