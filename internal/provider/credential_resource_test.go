package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
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
  allowed_hosts     = ["*.example.com", "*.partner.example", "127.0.0.1"]
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
				// Someone changes the metadata through the API (a field that
				// does not move the secret, which aiod would refuse without
				// it).
				PreConfig: func() {
					cur, err := c.GetCredential(testContext(), id)
					if err != nil {
						t.Fatal(err)
					}
					d := "changed elsewhere"
					cur.Description = &d
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
					plancheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("description"), knownvalue.StringExact("rotated monthly")),
					plancheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(4)),
				}},
				Check: func(s *terraform.State) error {
					cur, err := c.GetCredential(testContext(), id)
					if err != nil {
						return err
					}
					if cur.Description == nil || *cur.Description != "rotated monthly" || cur.SecretRevision != 4 {
						return fmt.Errorf("apply did not restore the description alone: %+v", cur)
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
  allowed_hosts = ["*.example.com", "*.partner.example", "127.0.0.1"]
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
  allowed_hosts = ["*.example.com", "*.partner.example", "127.0.0.1"]
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
		{`type = "bearer"`, `(?s)Missing secret.*The\s+credential\s+is\s+created\s+with\s+its\s+secret,\s+but\s+neither\s+secret_wo\s+nor\s+secret\s+has\s+a\s+value`},
		{`type = "bearer"` + "\n" + `secret = "a"` + "\n" + `secret_wo = "b"` + "\n" + `secret_wo_version = 1`, `(?s)Invalid Attribute Combination.*"secret_wo" cannot be specified when "secret" is specified`},
		{`type = "bearer"` + "\n" + `secret_wo = "b"`, `(?s)secret_wo_version`},
		{`type = "bearer"` + "\n" + `secret = "a"` + "\n" + `header = "x-key"`, `(?s)header is only valid for type api_key`},
		{`type = "basic"` + "\n" + `secret = "a"`, `(?s)username is required for type basic`},
		{`type = "api_key"` + "\n" + `secret = "a"` + "\n" + `header = "X-Api-Key"`, `(?s)lower-case HTTP header name`},
		{`type = "api_key"` + "\n" + `secret = "a"` + "\n" + `header = "x-a"` + "\n" + `query_param = "key"`, `(?s)Invalid Attribute Combination`},
		{`type = "oauth2_client_credentials"` + "\n" + `secret = "a"` + "\n" + `client_id = "c"` + "\n" + `token_url = "ftp://x"`, `(?s)must be an absolute http or https URL`},
		{`type = "token"` + "\n" + `secret = "a"`, `(?s)value must be one of`},
		{`type = "bearer"` + "\n" + `secret = "a"` + "\n" + `rotation_period = "monthly"`, `(?s)Invalid duration.*must be a positive Go duration`},
		{`type = "bearer"` + "\n" + `secret = "a"` + "\n" + `expires_at = "tomorrow"`, `(?s)Invalid RFC3339 String Value`},
		// A token read with file() keeps its trailing newline: refused at
		// plan time, on the attribute set, without quoting the value.
		{`type = "bearer"` + "\n" + `secret_wo = "s3cr3t-value-1\n"` + "\n" + `secret_wo_version = 1`, `(?s)Invalid secret.*secret_wo\s+=.*must not contain control\s+characters`},
		{`type = "api_key"` + "\n" + `header = "x-key"` + "\n" + `secret = "k\r\n"`, `(?s)Invalid secret.*sent in an HTTP header`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config:      srv.ProviderConfig(api.RoleEditor) + "resource \"aio_credential\" \"test\" {\n  name = \"bad\"\n  allowed_hosts = [\"x\"]\n" + c.body + "\n}\n",
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

// importThenApply checks that after an import, where Terraform has no
// record of the secret, the first apply sends the configured secret once
// and the plan after it is empty. cfg is the configuration to import into;
// create makes the credential, outside Terraform, that cfg describes.
func importThenApply(t *testing.T, srv *acctest.Server, cfg string, vars config.Variables, create api.Credential) {
	t.Helper()
	const outside, configured = "outside-value", "configured-value"
	s := outside
	create.Secret = &s
	cred, err := apiClient(t, srv).CreateCredential(testContext(), create)
	if err != nil {
		t.Fatal(err)
	}
	if got := storedSecret(t, srv, cred.ID); got != outside {
		t.Fatalf("aiod holds %q after the API create", got)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				ResourceName:       credentialAddr,
				ImportState:        true,
				ImportStatePersist: true,
				ImportStateId:      cred.ID,
				Config:             cfg,
				ConfigVariables:    vars,
			},
			{
				// The import left no record of the secret: the plan is an
				// update that sends it.
				Config:          cfg,
				ConfigVariables: vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(credentialAddr, tfjsonpath.New("secret_revision")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("id"), knownvalue.StringExact(cred.ID)),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_wo"), knownvalue.Null()),
				},
				Check: func(s *terraform.State) error {
					if got := storedSecret(t, srv, cred.ID); got != configured {
						return fmt.Errorf("after the first apply aiod holds %q, want the configured secret", got)
					}
					return nil
				},
			},
			{
				// Sent once: from now on the plan is empty.
				Config:          cfg,
				ConfigVariables: vars,
				PlanOnly:        true,
			},
		},
	})
	if got, err := apiClient(t, srv).GetCredential(testContext(), cred.ID); err == nil {
		t.Errorf("the credential still exists after the test's destroy: %+v", got)
	}
}

func TestAccCredentialResource_importSendsSecretOnceWriteOnly(t *testing.T) {
	srv := newTestServer(t)
	header, period := "x-payments-key", "720h"
	importThenApply(t, srv, woConfig(srv, 1, ""),
		config.Variables{"api_key": config.StringVariable("configured-value")},
		api.Credential{Name: "payments-key", Type: api.CredAPIKey, Header: &header, RotationPeriod: &period,
			AllowedHosts: []string{"*.example.com", "*.partner.example", "127.0.0.1"}})
}

func TestAccCredentialResource_importSendsSecretOnceSensitive(t *testing.T) {
	srv := newTestServer(t)
	username := "svc-import"
	cfg := srv.ProviderConfig(api.RoleEditor) + `
resource "aio_credential" "test" {
  name     = "imported-basic"
  allowed_hosts = ["*.example.com", "*.partner.example", "127.0.0.1"]
  type     = "basic"
  username = "svc-import"
  secret   = "configured-value"
}
`
	importThenApply(t, srv, cfg, nil, api.Credential{Name: "imported-basic", Type: api.CredBasic, Username: &username,
		AllowedHosts: []string{"*.example.com", "*.partner.example", "127.0.0.1"}})
}

// planWarningCount counts, in the log at path, the warning that a secret
// was changed outside Terraform.
func planWarningCount(t *testing.T, path string) int {
	t.Helper()
	logs, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Count(string(logs), "Secret changed outside Terraform")
}

// In `secret` mode a secret changed through the API shows in the plan,
// with a warning, and apply restores the configured secret.
func TestAccCredentialResource_sensitiveSecretDrift(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	// The provider's warnings reach the log, the one place
	// terraform-plugin-testing lets a test see them.
	logPath := filepath.Join(t.TempDir(), "warn.log")
	t.Setenv("TF_LOG", "warn")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	const configured, outside = "drift-configured-1c9e", "drift-outside-77ab"
	cfg := srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
resource "aio_credential" "test" {
  name   = "drift-bearer"
  allowed_hosts = ["*.example.com", "*.partner.example", "127.0.0.1"]
  type   = "bearer"
  secret = %q
}
`, configured)
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(s *terraform.State) error {
					id = credentialID(s)
					if got := storedSecret(t, srv, id); got != configured {
						return fmt.Errorf("aiod holds %q", got)
					}
					return nil
				},
			},
			{
				// Nothing changed yet: an empty plan, and no warning so far.
				Config:   cfg,
				PlanOnly: true,
			},
			{
				PreConfig: func() {
					if n := planWarningCount(t, logPath); n != 0 {
						t.Errorf("the drift warning appeared %d times before any drift", n)
					}
					cur, err := c.GetCredential(testContext(), id)
					if err != nil {
						t.Fatal(err)
					}
					s := outside
					cur.Secret = &s
					if _, err := c.UpdateCredential(testContext(), id, cur.Revision, cur); err != nil {
						t.Fatal(err)
					}
					if got := storedSecret(t, srv, id); got != outside {
						t.Fatalf("the API update left %q", got)
					}
				},
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				PreConfig: func() {
					if n := planWarningCount(t, logPath); n == 0 {
						t.Errorf("the plan after the drift gave no %q warning (log %s)", "Secret changed outside Terraform", logPath)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(credentialAddr, tfjsonpath.New("secret_revision")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(3)),
				},
				Check: func(s *terraform.State) error {
					if got := storedSecret(t, srv, id); got != configured {
						return fmt.Errorf("apply did not restore the secret: aiod holds %q", got)
					}
					return nil
				},
			},
			{
				Config:   cfg,
				PlanOnly: true,
			},
		},
	})
}

// Switching between `secret` and `secret_wo` is an in-place update that
// sends the secret; the write-only value never reaches state.
func TestAccCredentialResource_switchModes(t *testing.T) {
	srv := newTestServer(t)
	const one, two, three = "mode-one-SECRET-a1", "mode-two-SECRET-b2", "mode-three-SECRET-c3"
	sensitiveCfg := func(v string) string {
		return srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
resource "aio_credential" "test" {
  name   = "switching"
  allowed_hosts = ["*.example.com", "*.partner.example", "127.0.0.1"]
  type   = "bearer"
  secret = %q
}
`, v)
	}
	woCfg := srv.ProviderConfig(api.RoleEditor) + `
variable "api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "aio_credential" "test" {
  name              = "switching"
  allowed_hosts     = ["*.example.com", "*.partner.example", "127.0.0.1"]
  type              = "bearer"
  secret_wo         = var.api_key
  secret_wo_version = 1
}
`
	woVars := config.Variables{"api_key": config.StringVariable(two)}
	var id string
	sameID := func(s *terraform.State) error {
		if got := credentialID(s); got != id {
			return fmt.Errorf("the credential was replaced: %s became %s", id, got)
		}
		return nil
	}
	stored := func(want string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if got := storedSecret(t, srv, id); got != want {
				return fmt.Errorf("aiod holds %q, want %q", got, want)
			}
			return nil
		}
	}
	update := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionUpdate),
		plancheck.ExpectUnknownValue(credentialAddr, tfjsonpath.New("secret_revision")),
	}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: sensitiveCfg(one),
				Check: resource.ComposeTestCheckFunc(func(s *terraform.State) error {
					id = credentialID(s)
					return nil
				}, stored(one)),
			},
			{
				// secret → secret_wo.
				Config:           woCfg,
				ConfigVariables:  woVars,
				ConfigPlanChecks: update,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_wo_version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(2)),
				},
				Check: resource.ComposeTestCheckFunc(sameID, stored(two), noValueInState(one, two)),
			},
			{
				Config:          woCfg,
				ConfigVariables: woVars,
				PlanOnly:        true,
			},
			{
				// secret_wo → secret, with another value.
				Config:           sensitiveCfg(three),
				ConfigPlanChecks: update,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectSensitiveValue(credentialAddr, tfjsonpath.New("secret")),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_wo_version"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(3)),
				},
				Check: resource.ComposeTestCheckFunc(sameID, stored(three), noValueInState(one, two),
					resource.TestCheckResourceAttr(credentialAddr, "secret", three)),
			},
			{
				Config:   sensitiveCfg(three),
				PlanOnly: true,
			},
		},
	})
}

// The plan of aio_credential, asked of the provider through the plugin
// protocol as Terraform asks it, with the private state Terraform keeps:
// a secret_revision that moved since Terraform's last write gives the
// "Secret changed outside Terraform" warning and an update that sends the
// secret; without a record (after an import) the secret is sent without a
// warning; in sync with nothing changed, nothing is sent.
func TestCredentialResource_planSecretDecision(t *testing.T) {
	ctx := context.Background()
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || len(schemas.Diagnostics) > 0 {
		t.Fatalf("schema: %v %v", err, schemas.Diagnostics)
	}
	objType, ok := schemas.ResourceSchemas["aio_credential"].ValueType().(tftypes.Object)
	if !ok {
		t.Fatal("aio_credential has no object schema")
	}
	// object builds a value of the resource's type: the given attributes,
	// every other one null.
	object := func(attrs map[string]tftypes.Value) tftypes.Value {
		vals := map[string]tftypes.Value{}
		for name, typ := range objType.AttributeTypes {
			if v, ok := attrs[name]; ok {
				vals[name] = v
			} else {
				vals[name] = tftypes.NewValue(typ, nil)
			}
		}
		return tftypes.NewValue(objType, vals)
	}
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	num := func(n int64) tftypes.Value { return tftypes.NewValue(tftypes.Number, n) }
	with := func(base map[string]tftypes.Value, extra map[string]tftypes.Value) map[string]tftypes.Value {
		m := map[string]tftypes.Value{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	dyn := func(v tftypes.Value) *tfprotov6.DynamicValue {
		d, err := tfprotov6.NewDynamicValue(objType, v)
		if err != nil {
			t.Fatal(err)
		}
		return &d
	}
	private := func(rev string) []byte {
		if rev == "" {
			return nil
		}
		b, err := json.Marshal(map[string][]byte{privateSecretRevision: []byte(rev)})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	const credID = "cred_01jtest0000000000000000000"
	// Configured, and in the prior state (secret_wo never is).
	configured := map[string]tftypes.Value{
		"name": str("planned"), "type": str("bearer"), "secret_wo_version": num(1),
	}
	computed := map[string]tftypes.Value{
		"id": str(credID), "secret_revision": num(3), "revision": num(5),
		"last_rotated_at": str("2025-01-02T03:04:05Z"), "created_at": str("2025-01-01T00:00:00Z"),
		"updated_at": str("2025-01-02T03:04:05Z"),
	}
	prior := with(configured, computed)
	hosts := func(hs ...string) map[string]tftypes.Value {
		vals := make([]tftypes.Value, len(hs))
		for i, h := range hs {
			vals[i] = str(h)
		}
		return map[string]tftypes.Value{"allowed_hosts": tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, vals)}
	}
	sensitivePrior := with(with(prior, map[string]tftypes.Value{"secret": str("pw-a")}), map[string]tftypes.Value{"secret_wo_version": tftypes.NewValue(tftypes.Number, nil)})

	cases := []struct {
		name        string
		prior       map[string]tftypes.Value
		config      map[string]tftypes.Value // without secret_wo
		wo          bool                     // secret_wo is set in config
		private     string
		wantWarning bool
		wantSend    bool // secret_revision planned unknown
		unchanged   bool // the plan is the prior state
	}{
		{name: "in sync, unchanged", prior: prior, config: configured, wo: true, private: "3", unchanged: true},
		{name: "in sync, description changed", prior: prior, config: with(configured, map[string]tftypes.Value{"description": str("new")}), wo: true, private: "3"},
		{name: "changed outside Terraform", prior: prior, config: configured, wo: true, private: "2", wantWarning: true, wantSend: true},
		{name: "changed outside Terraform, unreadable record", prior: prior, config: configured, wo: true, private: `"x"`, wantWarning: true, wantSend: true},
		{name: "no record (imported)", prior: prior, config: configured, wo: true, private: "", wantSend: true},
		{name: "secret_wo_version bumped", prior: prior, config: with(configured, map[string]tftypes.Value{"secret_wo_version": num(2)}), wo: true, private: "3", wantSend: true},
		{name: "allowed_hosts widened", prior: with(prior, hosts("a.example.com")), config: with(configured, hosts("a.example.com", "b.example.com")), wo: true, private: "3", wantSend: true},
		{name: "allowed_hosts narrowed, no secret", prior: with(prior, hosts("a.example.com", "b.example.com")), config: with(configured, hosts("b.example.com")), private: "3"},
		// The apply decides whether the hosts widen (and then fails for
		// want of the secret), so what a send changes is planned unknown
		// (TestAccSecretTargetUnknownAtPlan).
		{name: "allowed_hosts not known yet, no secret", prior: with(prior, hosts("a.example.com")),
			config: with(configured, map[string]tftypes.Value{"allowed_hosts": tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, tftypes.UnknownValue)}), private: "3",
			wantSend: true},
		{name: "sensitive, unchanged", prior: sensitivePrior, config: map[string]tftypes.Value{"name": str("planned"), "type": str("bearer"), "secret": str("pw-a")}, private: "3", unchanged: true},
		{name: "sensitive, secret changed", prior: sensitivePrior, config: map[string]tftypes.Value{"name": str("planned"), "type": str("bearer"), "secret": str("pw-b")}, private: "3", wantSend: true},
		{name: "sensitive, changed outside Terraform", prior: sensitivePrior, config: map[string]tftypes.Value{"name": str("planned"), "type": str("bearer"), "secret": str("pw-a")}, private: "4", wantWarning: true, wantSend: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.config
			if tc.wo {
				cfg = with(cfg, map[string]tftypes.Value{"secret_wo": str("wo-value")})
			}
			// Terraform's proposed new state: the configuration, computed
			// attributes from the prior state, write-only ones null.
			proposed := with(with(tc.prior, map[string]tftypes.Value{"description": tftypes.NewValue(tftypes.String, nil)}), tc.config)
			resp, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
				TypeName:         "aio_credential",
				PriorState:       dyn(object(tc.prior)),
				ProposedNewState: dyn(object(proposed)),
				Config:           dyn(object(cfg)),
				PriorPrivate:     private(tc.private),
			})
			if err != nil {
				t.Fatal(err)
			}
			var warnings []*tfprotov6.Diagnostic
			for _, d := range resp.Diagnostics {
				if d.Severity == tfprotov6.DiagnosticSeverityError {
					t.Fatalf("plan error: %s: %s", d.Summary, d.Detail)
				}
				warnings = append(warnings, d)
			}
			switch {
			case tc.wantWarning && (len(warnings) != 1 || warnings[0].Summary != "Secret changed outside Terraform" || !strings.Contains(warnings[0].Detail, credID)):
				t.Errorf("want one warning that the secret of %s changed outside Terraform, got %+v", credID, warnings)
			case !tc.wantWarning && len(warnings) != 0:
				t.Errorf("want no warning, got %s: %s", warnings[0].Summary, warnings[0].Detail)
			}
			planned, err := resp.PlannedState.Unmarshal(objType)
			if err != nil {
				t.Fatal(err)
			}
			var attrs map[string]tftypes.Value
			if err := planned.As(&attrs); err != nil {
				t.Fatal(err)
			}
			if !attrs["secret_wo"].IsNull() {
				t.Errorf("secret_wo is in the plan: %v", attrs["secret_wo"])
			}
			rev := attrs["secret_revision"]
			if tc.wantSend {
				if rev.IsKnown() {
					t.Errorf("secret_revision is planned as %v; want unknown, so that the secret is sent", rev)
				}
			} else if !rev.Equal(num(3)) {
				t.Errorf("secret_revision is planned as %v; want 3 as in state (nothing to send)", rev)
			}
			if tc.unchanged && !planned.Equal(object(tc.prior)) {
				t.Errorf("the plan differs from the prior state though nothing changed:\n%v\n%v", planned, object(tc.prior))
			}
		})
	}
}

// terraformState is the state a TestCheckFunc receives.
type terraformState = terraform.State

// noValueInResources fails when any attribute of the named resources holds
// value.
func noValueInResources(s *terraform.State, addrs []string, value string) error {
	for _, addr := range addrs {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s is not in state", addr)
		}
		for k, v := range rs.Primary.Attributes {
			if strings.Contains(v, value) {
				return fmt.Errorf("%s holds the secret in %s", addr, k)
			}
		}
	}
	return nil
}

// A rotation_period written otherwise (43200m for 720h) is no change: the
// plan keeps the state's spelling and plans nothing, without the secret.
// With the duration modifier but without the credential's call of
// keepStateWhenUnchanged, this planned an update of revision and
// updated_at after every apply.
func TestAccCredentialResource_rotationPeriodSpelling(t *testing.T) {
	srv := newTestServer(t)
	cfg := func(period string) string {
		return srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
resource "aio_credential" "test" {
  name            = "spelled"
  type            = "bearer"
  allowed_hosts   = ["a.example.com"]
  secret          = "s"
  rotation_period = %q
}
`, period)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{Config: cfg("720h")},
			{
				Config: cfg("43200m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("rotation_period"), knownvalue.StringExact("720h")),
				},
			},
			{Config: cfg("43200m"), PlanOnly: true},
			{
				Config: cfg("721h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionUpdate),
				}},
			},
		},
	})
}
