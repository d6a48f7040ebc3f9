package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
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

// hostsConfig is a credential with the given allowed_hosts (HCL list
// elements) and an endpoint at url that uses it.
func hostsConfig(srv *acctest.Server, hosts, url string) string {
	return srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
resource "aio_credential" "test" {
  name          = "payments-key"
  type          = "api_key"
  secret        = "hosts-SECRET-5e1f"
  allowed_hosts = [%s]
}

resource "aio_endpoint" "test" {
  name          = "payments"
  url           = %q
  credential_id = aio_credential.test.id
}
`, hosts, url)
}

func hostsValue(hosts ...string) knownvalue.Check {
	checks := make([]knownvalue.Check, len(hosts))
	for i, h := range hosts {
		checks[i] = knownvalue.StringExact(h)
	}
	return knownvalue.SetExact(checks)
}

func TestAccCredentialResource_allowedHosts(t *testing.T) {
	srv := newTestServer(t)
	const narrow = `"api.payments.example.com"`
	const wide = `"api.payments.example.com", "*.partner.example"`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: hostsConfig(srv, narrow, "https://api.payments.example.com/v1"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("allowed_hosts"), hostsValue("api.payments.example.com")),
				},
			},
			{
				// What was applied reads back unchanged.
				Config: hostsConfig(srv, narrow, "https://api.payments.example.com/v1"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				ResourceName:            credentialAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"secret"},
			},
			{
				// A widening is an in-place update that shows the new set:
				// the one change reviewers must read.
				Config: hostsConfig(srv, wide, "https://api.payments.example.com/v1"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("allowed_hosts"),
						hostsValue("api.payments.example.com", "*.partner.example")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("allowed_hosts"),
						hostsValue("api.payments.example.com", "*.partner.example")),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
				},
			},
			{
				// Moving the endpoint to a host the credential does not
				// allow fails at apply, on url.
				Config:      hostsConfig(srv, wide, "https://evil.example/v1"),
				ExpectError: regexp.MustCompile(`(?s)url: credential cred_\w+ is not allowed for host\s+evil\.example:443`),
			},
			{
				// So does narrowing the hosts under the endpoint.
				Config:      hostsConfig(srv, `"*.partner.example"`, "https://api.payments.example.com/v1"),
				ExpectError: regexp.MustCompile(`(?s)allowed_hosts: these allowed_hosts no longer allow`),
			},
		},
	})
}

func TestAccCredentialResource_allowedHostsValidation(t *testing.T) {
	srv := newTestServer(t)
	cfg := func(hosts, extra string) string {
		return srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
resource "aio_credential" "test" {
  name          = "k"
  type          = "bearer"
  secret        = "s"
  allowed_hosts = [%s]
%s
}
`, hosts, extra)
	}
	oauth := `
  type      = "oauth2_client_credentials"
  token_url = "https://idp.example.net/token"
  client_id = "c"
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				// Each bad entry is an error on its element, at plan time.
				Config:      cfg(`"ok.example.com", "https://x.example/", "*.com"`, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid host pattern.*Invalid host pattern`),
			},
			{
				// A wildcard directly above a public suffix covers names
				// anyone can register: refused at plan time, on the entry.
				Config:   cfg(`"api.example.com", "*.herokuapp.com"`, ""),
				PlanOnly: true,
				// Terraform wraps the detail, so words may be apart by any space.
				ExpectError: regexp.MustCompile(`(?s)Invalid host pattern.*"\*\.herokuapp\.com" is invalid: it must not be a\s+wildcard` +
					`.*public\s+suffix\s+herokuapp\.com.*anyone\s+can\s+register`),
			},
			{
				Config:      cfg("", ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)allowed_hosts.*at least 1`),
			},
			{
				Config:      strings.Replace(cfg(`"api.example.com"`, oauth), `type          = "bearer"`, "", 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)token_url.*idp\.example\.net:443`),
			},
			{
				// Only http:// and https:// may lead an entry, and a
				// host must follow.
				Config:      cfg(`"http://legacy.example.com:8080", "ftp://x.example", "http://"`, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid host pattern.*Invalid host pattern`),
			},
			{
				// A plain http token_url needs an http:// entry for its
				// host and port: the client secret travels in its body.
				Config: strings.Replace(cfg(`"idp.example.net"`, strings.Replace(oauth, "https://", "http://", 1)),
					`type          = "bearer"`, "", 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Token URL over plain http.*add\s+http://idp\.example\.net:80\s+to\s+allowed_hosts`),
			},
			{
				Config: strings.Replace(cfg(`"http://idp.example.net:80"`, strings.Replace(oauth, "https://", "http://", 1)),
					`type          = "bearer"`, "", 1),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

func TestHostPatternValidatorReportsOnTheElement(t *testing.T) {
	bad := types.StringValue("*.com")
	set := types.SetValueMust(types.StringType, []attr.Value{types.StringValue("api.example.com"), bad, types.StringUnknown()})
	req := validator.SetRequest{Path: path.Root("allowed_hosts"), ConfigValue: set}
	resp := &validator.SetResponse{}
	setvalidator.ValueStringsAre(hostPatternValidator{}).ValidateSet(context.Background(), req, resp)
	if n := resp.Diagnostics.ErrorsCount(); n != 1 {
		t.Fatalf("%d errors, want 1 (the unknown element is skipped): %v", n, resp.Diagnostics)
	}
	want := path.Root("allowed_hosts").AtSetValue(bad)
	d, ok := resp.Diagnostics.Errors()[0].(diag.DiagnosticWithPath)
	if !ok || !d.Path().Equal(want) {
		t.Errorf("error %v, want it on %s", resp.Diagnostics.Errors()[0], want)
	}
}

// woHostsConfig is a credential with a write-only secret from an ephemeral
// variable that may be left unset, as in a plan run without secrets.
func woHostsConfig(srv *acctest.Server, hosts string) string {
	return srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
variable "api_key" {
  type      = string
  sensitive = true
  ephemeral = true
  default   = null
}

resource "aio_credential" "test" {
  name              = "payments-key"
  type              = "api_key"
  secret_wo         = var.api_key
  secret_wo_version = 1
  allowed_hosts     = [%s]
}
`, hosts)
}

// TestAccCredentialResource_wideningNeedsTheSecret: aiod accepts a
// widening of allowed_hosts only with the secret, so the plan asks for it;
// a narrowing needs none.
func TestAccCredentialResource_wideningNeedsTheSecret(t *testing.T) {
	srv := newTestServer(t)
	const value = "widen-SECRET-3d9e"
	vars := config.Variables{"api_key": config.StringVariable(value)}
	const narrow = `"api.payments.example.com"`
	const wide = `"api.payments.example.com", "status.partner.example"`
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:          woHostsConfig(srv, narrow),
				ConfigVariables: vars,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(1)),
				},
				Check: func(s *terraform.State) error { id = credentialID(s); return nil },
			},
			{
				// Without the secret, the widening fails at plan, on
				// secret_wo, naming what needs it.
				Config:      woHostsConfig(srv, wide),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Missing secret.*This\s+update\s+widens\s+allowed_hosts.*secret_wo`),
			},
			{
				// With it, the widening applies and the secret is sent
				// again at the next secret_revision.
				Config:          woHostsConfig(srv, wide),
				ConfigVariables: vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(credentialAddr, tfjsonpath.New("secret_revision")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("allowed_hosts"),
						hostsValue("api.payments.example.com", "status.partner.example")),
				},
				Check: func(s *terraform.State) error {
					if got := storedSecret(t, srv, id); got != value {
						return fmt.Errorf("aiod holds %q after the widening", got)
					}
					return nil
				},
			},
			{
				// A plan that changes nothing still needs no secret.
				Config:   woHostsConfig(srv, wide),
				PlanOnly: true,
			},
			{
				// A narrowing needs no secret and leaves it alone.
				Config: woHostsConfig(srv, narrow),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credentialAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(2)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("secret_revision"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(credentialAddr, tfjsonpath.New("allowed_hosts"), hostsValue("api.payments.example.com")),
				},
			},
			{
				// An http:// entry lets the secret travel in cleartext:
				// a widening, which needs the secret like a new host.
				Config:      woHostsConfig(srv, narrow+`, "http://api.payments.example.com"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Missing secret.*This\s+update\s+widens\s+allowed_hosts.*secret_wo`),
			},
			{
				// Another header moves the secret too: it needs the secret.
				Config:      strings.Replace(woHostsConfig(srv, narrow), `type              = "api_key"`, `type              = "api_key"`+"\n  header = \"x-echo\"", 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Missing secret.*changes\s+header`),
			},
		},
	})
}
