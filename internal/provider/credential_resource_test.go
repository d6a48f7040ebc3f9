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
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/daemon"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
)

const credentialAddr = "aio_credential.test"

// storedSecret opens the secret aiod holds for a credential, straight
// from the store, to prove what was sent.
func storedSecret(t *testing.T, srv *acctest.Server, id string) string {
	t.Helper()
	rec, err := srv.Store.GetCredential(context.Background(), id)
	if err != nil {
		t.Fatalf("get credential %s: %v", id, err)
	}
	plain, err := srv.Keyring.Open(rec.Sealed, secret.Binding{ObjectID: id, Revision: rec.SecretRevision})
	if err != nil {
		t.Fatalf("open secret of %s: %v", id, err)
	}
	return string(plain)
}

// noValueInState fails when any attribute of any resource in state holds
// one of the given values.
func noValueInState(values ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for addr, rs := range s.RootModule().Resources {
			for k, v := range rs.Primary.Attributes {
				for _, bad := range values {
					if strings.Contains(v, bad) {
						return fmt.Errorf("state of %s holds the secret in %s", addr, k)
					}
				}
			}
		}
		return nil
	}
}

func credentialID(s *terraform.State) string {
	return s.RootModule().Resources[credentialAddr].Primary.ID
}

// woConfig is a credential whose secret comes from an ephemeral variable
// into the write-only attribute.
func woConfig(srv *acctest.Server, version int, extra string) string {
	return srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
variable "api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "aio_credential" "test" {
  name              = "payments-key"
  type              = "api_key"
  header            = "x-payments-key"
  secret_wo         = var.api_key
  secret_wo_version = %d
  rotation_period   = "720h"
%s
}
`, version, extra)
}

func TestAccCredentialResource_writeOnly(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	const first, second, outside = "first-SECRET-7f3a9c", "second-SECRET-b81d2e", "outside-SECRET-44c0aa"
	vars := func(v string) config.Variables { return config.Variables{"api_key": config.StringVariable(v)} }
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:          woConfig(srv, 1, ""),
				ConfigVariables: vars(first),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("header"), knownvalue.StringExact("x-payments-key")),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("query_param"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("rotation_due_at"), knownvalue.NotNull()),
				},
				Check: resource.ComposeTestCheckFunc(noValueInState(first), func(s *terraform.State) error {
					id = credentialID(s)
					if got := storedSecret(t, srv, id); got != first {
						return fmt.Errorf("aiod holds %q, want the configured secret", got)
					}
					return nil
				}),
			},
			{
				// The same configuration with another secret value but the
				// same version sends nothing: write-only values never diff.
				Config:          woConfig(srv, 1, ""),
				ConfigVariables: vars(second),
				PlanOnly:        true,
			},
			{
				// Bumping the version sends the new secret.
				Config:          woConfig(srv, 2, ""),
				ConfigVariables: vars(second),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(credentialAddr, tfjsonpath.New("secret_revision")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_wo_version"), knownvalue.Int64Exact(2)),
				},
				Check: resource.ComposeTestCheckFunc(noValueInState(first, second), func(s *terraform.State) error {
					if got := storedSecret(t, srv, id); got != second {
						return fmt.Errorf("aiod holds %q after rotation, want the new secret", got)
					}
					return nil
				}),
			},
			{
				// A metadata change leaves the secret alone.
				Config:          woConfig(srv, 2, `  description = "rotated monthly"`),
				ConfigVariables: vars(second),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(2)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("revision"), knownvalue.Int64Exact(3)),
				},
			},
			{
				// Someone changes the secret through the API: the plan shows
				// an update, and apply sends the configured secret again.
				PreConfig: func() {
					cur, err := c.GetCredential(testContext(), id)
					if err != nil {
						t.Fatal(err)
					}
					s := outside
					cur.Secret = &s
					if _, err := c.UpdateCredential(testContext(), id, cur.Revision, cur); err != nil {
						t.Fatal(err)
					}
				},
				Config:          woConfig(srv, 2, `  description = "rotated monthly"`),
				ConfigVariables: vars(second),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(credentialAddr, tfjsonpath.New("secret_revision")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(4)),
				},
				Check: func(s *terraform.State) error {
					if got := storedSecret(t, srv, id); got != second {
						return fmt.Errorf("apply did not restore the secret: aiod holds %q", got)
					}
					return nil
				},
			},
			{
				// Someone changes the metadata through the API.
				PreConfig: func() {
					cur, err := c.GetCredential(testContext(), id)
					if err != nil {
						t.Fatal(err)
					}
					h := "x-other"
					cur.Header = &h
					if _, err := c.UpdateCredential(testContext(), id, cur.Revision, cur); err != nil {
						t.Fatal(err)
					}
				},
				Config:             woConfig(srv, 2, `  description = "rotated monthly"`),
				ConfigVariables:    vars(second),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config:          woConfig(srv, 2, `  description = "rotated monthly"`),
				ConfigVariables: vars(second),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("header"), knownvalue.StringExact("x-payments-key")),
				}},
				Check: func(s *terraform.State) error {
					cur, err := c.GetCredential(testContext(), id)
					if err != nil {
						return err
					}
					if cur.Header == nil || *cur.Header != "x-payments-key" || cur.SecretRevision != 4 {
						return fmt.Errorf("apply did not restore the header alone: %+v", cur)
					}
					return nil
				},
			},
			{
				ResourceName:            credentialAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"secret", "secret_wo", "secret_wo_version"},
				Config:                  woConfig(srv, 2, `  description = "rotated monthly"`),
				ConfigVariables:         vars(second),
			},
		},
	})
}

func TestAccCredentialResource_sensitiveSecret(t *testing.T) {
	srv := newTestServer(t)
	cfg := func(secretValue, extra string) string {
		return srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
resource "aio_credential" "test" {
  name     = "crm-basic"
  type     = "basic"
  username = "svc-monitor"
  secret   = %q
%s
}
`, secretValue, extra)
	}
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: cfg("pw-one", ""),
				ConfigStateChecks: []statecheck.StateCheck{
					// In this mode the secret is in state, as the docs say.
					statecheck.ExpectSensitiveValue(credentialAddr, tfjsonpath.New("secret")),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("rotation_due_at"), knownvalue.Null()),
				},
				Check: func(s *terraform.State) error {
					id = credentialID(s)
					if got := storedSecret(t, srv, id); got != "pw-one" {
						return fmt.Errorf("aiod holds %q", got)
					}
					return nil
				},
			},
			{
				Config: cfg("pw-two", `  expires_at = "2030-01-01T00:00:00Z"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("expires_at"), knownvalue.StringExact("2030-01-01T00:00:00Z")),
				},
				Check: func(s *terraform.State) error {
					if got := storedSecret(t, srv, id); got != "pw-two" {
						return fmt.Errorf("aiod holds %q", got)
					}
					return nil
				},
			},
			{
				// After an import Terraform has no record of the secret, so
				// the first apply sends it once; then the plan is empty.
				ResourceName:            credentialAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"secret", "secret_wo", "secret_wo_version"},
			},
			{
				// The credential disappears: the plan re-creates it.
				PreConfig: func() {
					if err := apiClient(t, srv).DeleteCredential(testContext(), id, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg("pw-two", `  expires_at = "2030-01-01T00:00:00Z"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func TestAccCredentialResource_oauth2AndEndpointReference(t *testing.T) {
	srv := newTestServer(t)
	cfg := srv.ProviderConfig(api.RoleEditor) + `
resource "aio_credential" "test" {
  name          = "partner-oauth"
  type          = "oauth2_client_credentials"
  token_url     = "https://auth.partner.example/oauth/token"
  client_id     = "aio-monitor"
  scopes        = ["read:status", "read:orders"]
  secret        = "client-secret"
}

resource "aio_endpoint" "partner" {
  name          = "partner-api"
  url           = "https://api.partner.example"
  credential_id = aio_credential.test.id
}

data "aio_credential" "by_name" {
  name = aio_credential.test.name
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("scopes"), knownvalue.SetExact([]knownvalue.Check{
					knownvalue.StringExact("read:orders"), knownvalue.StringExact("read:status"),
				})),
				statecheck.CompareValuePairs("aio_endpoint.partner", tfjsonpath.New("credential_id"), credentialAddr, tfjsonpath.New("id"), compareEqual),
				statecheck.CompareValuePairs("data.aio_credential.by_name", tfjsonpath.New("id"), credentialAddr, tfjsonpath.New("id"), compareEqual),
				statecheck.ExpectKnownValue("data.aio_credential.by_name", tfjsonpath.New("client_id"), knownvalue.StringExact("aio-monitor")),
				statecheck.ExpectKnownValue("data.aio_credential.by_name", tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(1)),
			},
		}},
	})
}

func TestAccCredentialResource_badInput(t *testing.T) {
	srv := newTestServer(t)
	cases := []struct{ body, want string }{
		{`type = "bearer"`, `(?s)Exactly one of these attributes must be configured: \[secret,secret_wo\]`},
		{`type = "bearer"` + "\n" + `secret = "a"` + "\n" + `secret_wo = "b"` + "\n" + `secret_wo_version = 1`, `(?s)Invalid Attribute Combination.*Exactly one of these attributes must be configured: \[secret,secret_wo\]`},
		{`type = "bearer"` + "\n" + `secret_wo = "b"`, `(?s)secret_wo_version`},
		{`type = "bearer"` + "\n" + `secret = "a"` + "\n" + `header = "x-key"`, `(?s)header is only valid for type api_key`},
		{`type = "basic"` + "\n" + `secret = "a"`, `(?s)username is required for type basic`},
		{`type = "api_key"` + "\n" + `secret = "a"` + "\n" + `header = "X-Api-Key"`, `(?s)lower-case HTTP header name`},
		{`type = "api_key"` + "\n" + `secret = "a"` + "\n" + `header = "x-a"` + "\n" + `query_param = "key"`, `(?s)Invalid Attribute Combination`},
		{`type = "oauth2_client_credentials"` + "\n" + `secret = "a"` + "\n" + `client_id = "c"` + "\n" + `token_url = "ftp://x"`, `(?s)must be an absolute http or https URL`},
		{`type = "token"` + "\n" + `secret = "a"`, `(?s)value must be one of`},
		{`type = "bearer"` + "\n" + `secret = "a"` + "\n" + `rotation_period = "monthly"`, `(?s)Invalid Time Duration String Value`},
		{`type = "bearer"` + "\n" + `secret = "a"` + "\n" + `expires_at = "tomorrow"`, `(?s)Invalid RFC3339 String Value`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config:      srv.ProviderConfig(api.RoleEditor) + "resource \"aio_credential\" \"test\" {\n  name = \"bad\"\n" + c.body + "\n}\n",
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(c.want),
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps:                    steps,
	})
}

// The secret and the token never reach Terraform's or the provider's
// TF_LOG=trace output.
func TestAccCredentialResource_notInTraceLogs(t *testing.T) {
	srv := newTestServer(t)
	logPath := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "trace")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	// The token comes from the environment: the test harness itself logs
	// the configuration text, which would otherwise hold it.
	t.Setenv(EnvToken, srv.Tokens[api.RoleEditor])
	const secretValue = "TRACE-SECRET-5e1f0b77"
	cfg := strings.Replace(woConfig(srv, 1, ""), srv.ProviderConfig(api.RoleEditor), fmt.Sprintf("provider \"aio\" {\n  address = %q\n}\n", srv.URL), 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config:          cfg,
			ConfigVariables: config.Variables{"api_key": config.StringVariable(secretValue)},
		}},
	})
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// A control: the log is the provider's trace output, so the request
	// the provider made must be in it.
	if !strings.Contains(string(logs), "/v1/credentials") {
		t.Fatalf("the trace log (%d bytes) does not show the provider's requests; the check below would prove nothing", len(logs))
	}
	for name, v := range map[string]string{"secret": secretValue, "token": srv.Tokens[api.RoleEditor]} {
		if strings.Contains(string(logs), v) {
			t.Errorf("the %s occurs in the TF_LOG=trace output", name)
		}
	}
}

// Rotating aiod's encryption key re-wraps every secret without changing
// anything a plan compares: the next plan is empty.
func TestAccCredentialResource_keyRotationShowsNoDrift(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "aio.key")
	if err := daemon.EnsureKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	kr, err := daemon.LoadKeyring(keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := acctest.NewServer(t, acctest.Options{Keyring: kr})
	const value = "rotation-SECRET-91aa"
	vars := config.Variables{"api_key": config.StringVariable(value)}
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:          woConfig(srv, 1, ""),
				ConfigVariables: vars,
				Check:           func(s *terraform.State) error { id = credentialID(s); return nil },
			},
			{
				PreConfig: func() {
					other, err := daemon.LoadKeyring(keyFile, "")
					if err != nil {
						t.Fatal(err)
					}
					res, err := daemon.RotateKeys(context.Background(), srv.Store, clock.Real{}, other, keyFile)
					if err != nil || res.Rewrapped != 1 {
						t.Fatalf("rotate: %+v %v", res, err)
					}
				},
				Config:          woConfig(srv, 1, ""),
				ConfigVariables: vars,
				PlanOnly:        true,
			},
			{
				Config:          woConfig(srv, 1, ""),
				ConfigVariables: vars,
				Check: func(s *terraform.State) error {
					if got := storedSecret(t, srv, id); got != value {
						return fmt.Errorf("after rotation aiod holds %q", got)
					}
					return nil
				},
			},
		},
	})
}
