package provider

import (
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
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

const retentionAddr = "aio_retention_policy.test"

// retentionConfig is a pii endpoint and a policy whose body is given.
func retentionConfig(srv *acctest.Server, body string) string {
	return srv.ProviderConfig(api.RoleEditor) + `
resource "aio_endpoint" "crm" {
  name                = "crm"
  url                 = "https://crm.example.com"
  data_classification = "pii"
  tags                = { team = "sales" }
}

resource "aio_retention_policy" "test" {
` + body + `
}
`
}

const retentionBody = `  name                 = "pii-raw-24h"
  data_kind            = "probe_results"
  max_age              = "24h"
  action               = "delete"
  data_classifications = ["pii"]
  description          = "Raw results of pii endpoints: one day."`

func TestAccRetentionPolicyResource_lifecycle(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	var id string
	anonymize := `  name             = "pii-raw-24h"
  data_kind        = "probe_results"
  max_age          = "6h"
  action           = "anonymize"
  anonymize_fields = ["error", "body_excerpt"]
  endpoint_ids     = [aio_endpoint.crm.id]
  enabled          = false
  tags             = { owner = "dpo" }`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: retentionConfig(srv, retentionBody),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("anonymize_fields"), knownvalue.Null()),
					statecheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("endpoint_ids"), knownvalue.Null()),
					statecheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("last_run_at"), knownvalue.Null()),
					statecheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("data_classifications"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("pii")})),
				},
				Check: func(s *terraform.State) error { id = s.RootModule().Resources[retentionAddr].Primary.ID; return nil },
			},
			{
				// The same age written otherwise is the same value: aiod
				// stores no change.
				Config: retentionConfig(srv, regexp.MustCompile(`"24h"`).ReplaceAllString(retentionBody, `"1440m"`)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
				},
			},
			{
				Config: retentionConfig(srv, anonymize),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(retentionAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("anonymize_fields"), knownvalue.SetSizeExact(2)),
					statecheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("data_classifications"), knownvalue.Null()),
					statecheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("next_run_at"), knownvalue.Null()),
				},
			},
			{
				ResourceName:      retentionAddr,
				ImportState:       true,
				ImportStateVerify: true,
				Config:            retentionConfig(srv, anonymize),
			},
			{
				// Changed through the API: the plan shows it, and apply
				// restores the configuration.
				PreConfig: func() {
					cur, err := c.GetRetentionPolicy(testContext(), id)
					if err != nil {
						t.Fatal(err)
					}
					cur.MaxAge, cur.AnonymizeFields = "720h", []string{"error"}
					if _, err := c.UpdateRetentionPolicy(testContext(), id, cur.Revision, cur); err != nil {
						t.Fatal(err)
					}
				},
				Config: retentionConfig(srv, anonymize),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(retentionAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("max_age"), knownvalue.StringExact("6h")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("anonymize_fields"), knownvalue.SetSizeExact(2)),
				},
			},
			{
				// Deleted outside Terraform: the plan creates it again.
				PreConfig: func() {
					if err := c.DeleteRetentionPolicy(testContext(), id, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: retentionConfig(srv, anonymize),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(retentionAddr, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func TestAccRetentionPolicyResource_badInput(t *testing.T) {
	srv := newTestServer(t)
	head := "  name = \"bad\"\n  data_kind = \"probe_results\"\n"
	steps := []struct{ body, want string }{
		{`  name = "bad"` + "\n" + `  data_kind = "revisions_x"` + "\n" + `  max_age = "1h"` + "\n" + `  action = "delete"`, `(?s)Attribute data_kind value must be one of`},
		{head + `  max_age = "30s"` + "\n" + `  action = "delete"`, `(?s)max_age must be from 1m to 87600h`},
		{head + `  max_age = "87601h"` + "\n" + `  action = "delete"`, `(?s)max_age must be from 1m to 87600h`},
		{head + `  max_age = "a week"` + "\n" + `  action = "delete"`, `(?s)max_age`},
		{head + `  max_age = "1h"` + "\n" + `  action = "archive"`, `(?s)Attribute action value must be one of`},
		{head + `  max_age = "1h"` + "\n" + `  action = "anonymize"`, `(?s)anonymize_fields is required with action anonymize`},
		{head + `  max_age = "1h"` + "\n" + `  action = "delete"` + "\n" + `  anonymize_fields = ["error"]`, `(?s)anonymize_fields is only valid with action anonymize`},
		{head + `  max_age = "1h"` + "\n" + `  action = "anonymize"` + "\n" + `  anonymize_fields = ["actor"]`, `(?s)anonymize_fields must be one of error, body_excerpt for data_kind\s+probe_results`},
		{`  name = "bad"` + "\n" + `  data_kind = "hour_rollups"` + "\n" + `  max_age = "1h"` + "\n" + `  action = "anonymize"` + "\n" + `  anonymize_fields = ["error"]`,
			`(?s)action anonymize is not possible for hour_rollups`},
		{head + `  max_age = "1h"` + "\n" + `  action = "delete"` + "\n" + `  endpoint_ids = ["ep_a"]` + "\n" + `  data_classifications = ["pii"]`,
			`(?s)endpoint_ids set at most one of endpoint_ids, endpoint_tags and\s+data_classifications`},
		{`  name = "bad"` + "\n" + `  data_kind = "audit_events"` + "\n" + `  max_age = "1h"` + "\n" + `  action = "delete"` + "\n" + `  endpoint_tags = { team = "a" }`,
			`(?s)data_kind audit_events does not belong to endpoints`},
		{head + `  max_age = "1h"` + "\n" + `  action = "delete"` + "\n" + `  endpoint_ids = ["mon_a"]`, `(?s)must be an endpoint ID`},
		{head + `  max_age = "1h"` + "\n" + `  action = "delete"` + "\n" + `  data_classifications = ["secret"]`, `(?s)data_classifications.*must be one of`},
		{head + `  max_age = "1h"` + "\n" + `  action = "delete"` + "\n" + `  endpoint_ids = []`, `(?s)endpoint_ids set must contain at least 1`},
	}
	var ts []resource.TestStep
	for _, s := range steps {
		ts = append(ts, resource.TestStep{
			Config:      srv.ProviderConfig(api.RoleEditor) + "resource \"aio_retention_policy\" \"test\" {\n" + s.body + "\n}\n",
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

// retentionModule is a module whose every policy attribute is an input.
const retentionModule = `
terraform {
  required_providers {
    aio = {
      source = "aio-platform/aio"
    }
  }
}

variable "name" { type = string }
variable "data_kind" { type = string }
variable "max_age" { type = string }
variable "action" { type = string }
variable "anonymize_fields" {
  type    = set(string)
  default = null
}
variable "endpoint_ids" {
  type    = set(string)
  default = null
}
variable "endpoint_tags" {
  type    = map(string)
  default = null
}
variable "data_classifications" {
  type    = set(string)
  default = null
}
variable "enabled" { type = bool }
variable "description" { type = string }
variable "tags" { type = map(string) }

resource "aio_retention_policy" "this" {
  name                 = var.name
  data_kind            = var.data_kind
  max_age              = var.max_age
  action               = var.action
  anonymize_fields     = var.anonymize_fields
  endpoint_ids         = var.endpoint_ids
  endpoint_tags        = var.endpoint_tags
  data_classifications = var.data_classifications
  enabled              = var.enabled
  description          = var.description
  tags                 = var.tags
}

output "id" { value = aio_retention_policy.this.id }
`

// Policies made by a module from variables, some known only after apply:
// an endpoint made in the same apply, and values passed through
// terraform_data.
func TestAccRetentionPolicyResource_moduleWithUnknowns(t *testing.T) {
	useProviderSource(t)
	srv := newTestServer(t)
	c := apiClient(t, srv)
	// The test harness copies the root directory's files, not its
	// subdirectories: the module lives apart, named by its absolute path.
	dir, mod := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(mod, "main.tf"), []byte(retentionModule), 0o600); err != nil {
		t.Fatal(err)
	}
	root := rootHeader(srv, api.RoleEditor) + `
variable "age" { type = string }

resource "aio_endpoint" "billing" {
  name = "billing"
  url  = "https://billing.example.com"
}

resource "terraform_data" "later" {
  input = { age = var.age, kind = "probe_results", fields = ["error"], team = "billing" }
}

module "scoped" {
  source = "MODULE"

  name         = "billing-raw"
  data_kind    = terraform_data.later.output.kind
  max_age      = terraform_data.later.output.age
  action       = "delete"
  endpoint_ids = [aio_endpoint.billing.id]
  enabled      = true
  description  = "Made from unknown values."
  tags         = { team = terraform_data.later.output.team }
}

module "anonymize" {
  source = "MODULE"

  name             = "billing-errors"
  data_kind        = "probe_results"
  max_age          = "1h"
  action           = "anonymize"
  anonymize_fields = terraform_data.later.output.fields
  endpoint_tags    = { team = terraform_data.later.output.team }
  enabled          = false
  description      = "Tags known after apply."
  tags             = {}
}

output "scoped_id" { value = module.scoped.id }
`
	root = strings.ReplaceAll(root, "MODULE", mod)
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(root), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := config.Variables{"age": config.StringVariable("48h")}
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks: testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigDirectory:          config.StaticDirectory(dir),
				ConfigVariables:          vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue("module.scoped.aio_retention_policy.this", tfjsonpath.New("max_age")),
					plancheck.ExpectUnknownValue("module.scoped.aio_retention_policy.this", tfjsonpath.New("data_kind")),
					plancheck.ExpectUnknownValue("module.anonymize.aio_retention_policy.this", tfjsonpath.New("anonymize_fields")),
					plancheck.ExpectUnknownValue("module.anonymize.aio_retention_policy.this", tfjsonpath.New("endpoint_tags").AtMapKey("team")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("scoped_id", knownvalue.StringRegexp(regexp.MustCompile(`^ret_`))),
				},
			},
			{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigDirectory:          config.StaticDirectory(dir),
				ConfigVariables:          vars,
				// What aiod stored is what the unknown values became. (A
				// Check function cannot read a state with modules.)
				PreConfig: func() {
					ps, err := c.ListAllRetentionPolicies(testContext(), client.RetentionListOptions{})
					if err != nil {
						t.Fatal(err)
					}
					got := map[string]api.RetentionPolicy{}
					for _, p := range ps {
						got[p.Name] = p
					}
					if p := got["billing-raw"]; p.MaxAge != "48h" || len(p.EndpointIDs) != 1 || p.Tags["team"] != "billing" {
						t.Errorf("billing-raw = %+v", p)
					}
					if p := got["billing-errors"]; p.EndpointTags["team"] != "billing" || len(p.AnonymizeFields) != 1 || p.IsEnabled() {
						t.Errorf("billing-errors = %+v", p)
					}
				},
				PlanOnly: true,
			},
			{
				// A bad value that is only known at apply is refused by
				// aiod, on the module's attribute.
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigDirectory:          config.StaticDirectory(dir),
				ConfigVariables:          config.Variables{"age": config.StringVariable("30s")},
				ExpectError:              regexp.MustCompile(`(?s)max_age.*must be from 1m`),
			},
			{
				// The harness reads the final state through a shim that
				// knows no child modules: the test ends without them.
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				ConfigDirectory:          configDirectory(t, map[string]string{"main.tf": rootHeader(srv, api.RoleEditor)}),
			},
		},
	})
}
