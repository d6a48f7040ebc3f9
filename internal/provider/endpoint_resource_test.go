package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

const endpointAddr = "aio_endpoint.test"

func endpointConfig(srv *acctest.Server, body string) string {
	return srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf("resource \"aio_endpoint\" \"test\" {\n%s\n}\n", body)
}

// endpointID reads the ID of the test endpoint from state.
func endpointID(s *terraform.State) string {
	return s.RootModule().Resources[endpointAddr].Primary.ID
}

func TestAccEndpointResource_lifecycle(t *testing.T) {
	srv := newTestServer(t)
	var firstID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: endpointConfig(srv, `
  name = "payments"
  url  = "https://payments.example.com/api"
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(endpointAddr, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^ep_[0-9a-z]{26}$`))),
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("name"), knownvalue.StringExact("payments")),
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("data_classification"), knownvalue.StringExact("internal")),
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("api_version"), knownvalue.Null()),
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("tags"), knownvalue.Null()),
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
				},
				Check: func(s *terraform.State) error { firstID = endpointID(s); return nil },
			},
			{
				// Every attribute set, in place: the ID stays, the revision moves.
				Config: endpointConfig(srv, `
  name                = "payments-v2"
  url                 = "https://payments.example.com/api"
  api_version         = "2024-06-01"
  description         = "Card payments and refunds."
  owner               = "team-payments"
  data_classification = "pii"
  tags                = { env = "prod", team = "payments" }
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(endpointAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(endpointAddr, tfjsonpath.New("revision")),
					plancheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("id"), knownvalue.NotNull()),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("description"), knownvalue.StringExact("Card payments and refunds.")),
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{
						"env": knownvalue.StringExact("prod"), "team": knownvalue.StringExact("payments"),
					})),
				},
				Check: func(s *terraform.State) error {
					if id := endpointID(s); id != firstID {
						return fmt.Errorf("endpoint was replaced: ID %s became %s", firstID, id)
					}
					return nil
				},
			},
			{
				// The api_version bump is an in-place update that the plan shows.
				Config: endpointConfig(srv, `
  name                = "payments-v2"
  url                 = "https://payments.example.com/api"
  api_version         = "2025-01-01"
  description         = "Card payments and refunds."
  owner               = "team-payments"
  data_classification = "pii"
  tags                = { env = "prod", team = "payments" }
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(endpointAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("api_version"), knownvalue.StringExact("2025-01-01")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("api_version"), knownvalue.StringExact("2025-01-01")),
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("revision"), knownvalue.Int64Exact(3)),
				},
			},
			{
				// Import by ID reads back exactly what was applied.
				ResourceName:      endpointAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// Unsetting optional attributes goes back to null, and an
				// empty tag map stays empty rather than null.
				Config: endpointConfig(srv, `
  name = "payments-v2"
  url  = "tcp://db.internal:5432"
  tags = {}
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(endpointAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("api_version"), knownvalue.Null()),
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("owner"), knownvalue.Null()),
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("data_classification"), knownvalue.StringExact("internal")),
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("tags"), knownvalue.MapSizeExact(0)),
				},
			},
		},
	})
}

func TestAccEndpointResource_drift(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	cfg := endpointConfig(srv, `
  name        = "crm"
  url         = "https://crm.example.com"
  description = "CRM partner API"
  tags        = { env = "prod" }
`)
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check:  func(s *terraform.State) error { id = endpointID(s); return nil },
			},
			{
				// Someone changes the endpoint through the API: the plan
				// shows an update, not a replacement.
				PreConfig: func() {
					e, err := c.GetEndpoint(testContext(), id)
					if err != nil {
						t.Fatal(err)
					}
					changed := "changed by hand"
					e.Description = &changed
					e.Tags = map[string]string{"env": "staging"}
					if _, err := c.UpdateEndpoint(testContext(), id, e.Revision, e); err != nil {
						t.Fatal(err)
					}
				},
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// Apply restores the configuration, and the next plan is
				// empty (the framework checks that after every apply).
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(endpointAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("description"), knownvalue.StringExact("CRM partner API")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("revision"), knownvalue.Int64Exact(3)),
				},
				Check: func(s *terraform.State) error {
					e, err := c.GetEndpoint(testContext(), id)
					if err != nil {
						return err
					}
					if e.Description == nil || *e.Description != "CRM partner API" || e.Tags["env"] != "prod" {
						return fmt.Errorf("apply did not restore the endpoint: %+v", e)
					}
					return nil
				},
			},
		},
	})
}

func TestAccEndpointResource_disappears(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	cfg := endpointConfig(srv, `
  name = "queue"
  url  = "tcp://mq.internal:5672"
`)
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check:  func(s *terraform.State) error { id = endpointID(s); return nil },
			},
			{
				PreConfig: func() {
					if err := c.DeleteEndpoint(testContext(), id, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(endpointAddr, plancheck.ResourceActionCreate),
				}},
				Check: func(s *terraform.State) error {
					if endpointID(s) == id {
						return fmt.Errorf("expected a new endpoint, still %s", id)
					}
					return nil
				},
			},
		},
	})
}

func TestAccEndpointResource_badInput(t *testing.T) {
	srv := newTestServer(t)
	steps := []struct {
		body string
		want string
	}{
		{`name = "pay ments"` + "\n" + `url = "https://x.example"`, `(?s)Invalid name.*letters, digits`},
		{`name = "ok"` + "\n" + `url = "ftp://x.example"`, `(?s)Invalid URL.*scheme must be one of`},
		{`name = "ok"` + "\n" + `url = "tcp://db.internal"`, `(?s)Invalid URL.*must name a port`},
		{`name = "ok"` + "\n" + `url = "https://x.example"` + "\n" + `data_classification = "secret"`, `(?s)Attribute data_classification value must be one of`},
		{`name = "ok"` + "\n" + `url = "https://x.example"` + "\n" + `tags = { "a:b" = "c" }`, `(?s)tags.*must not contain ':'`},
		{`name = "ok"` + "\n" + `url = "https://x.example"` + "\n" + `api_version = ""`, `(?s)api_version must not be empty; omit the attribute instead`},
		{`name = "ok"` + "\n" + `url = "tcp://db.internal:5432"` + "\n" + `credential_id = "cred_01abc"`, `(?s)Credential not valid for a tcp endpoint.*credential_id.*a\s+tcp:// endpoint cannot use a credential`},
	}
	var ts []resource.TestStep
	for _, s := range steps {
		ts = append(ts, resource.TestStep{
			Config:      endpointConfig(srv, s.body),
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

// A credential for a tcp:// endpoint is refused at plan time even when its
// ID is not known yet (the credential is created in the same apply):
// before, the plan passed and the apply failed after it had created the
// credential. The plan-only step shows the refusal comes from the plan.
func TestAccEndpointResource_tcpCredentialRefusedAtPlan(t *testing.T) {
	srv := newTestServer(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config: srv.ProviderConfig(api.RoleEditor) + `
resource "aio_credential" "db" {
  name          = "db-cred"
  type          = "bearer"
  allowed_hosts = ["db.internal"]
  secret        = "s"
}
resource "aio_endpoint" "db" {
  name          = "db"
  url           = "tcp://db.internal:5432"
  credential_id = aio_credential.db.id
}
`,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Credential not valid for a tcp endpoint.*aio_endpoint.db`),
		}},
	})
}

// A name taken by an endpoint made outside Terraform is an error on the
// name attribute from the API, and nothing is created.
func TestAccEndpointResource_nameTaken(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	if _, err := c.CreateEndpoint(testContext(), api.Endpoint{Name: "taken", URL: "https://x.example"}); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config:      endpointConfig(srv, `name = "taken"`+"\n"+`url = "https://y.example"`),
			ExpectError: regexp.MustCompile(`(?s)Could not create the endpoint.*name: is already taken`),
		}},
	})
}

// A viewer token can read but not write; the error says why.
func TestAccEndpointResource_viewerForbidden(t *testing.T) {
	srv := newTestServer(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config: srv.ProviderConfig(api.RoleViewer) + `resource "aio_endpoint" "test" {
  name = "x"
  url  = "https://x.example"
}`,
			ExpectError: regexp.MustCompile(`(?s)role may not do this`),
		}},
	})
}
