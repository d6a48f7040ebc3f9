package provider

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// listContains checks that a list of strings holds want.
type listContains string

func (want listContains) CheckValue(v any) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("expected a list, got %T", v)
	}
	if !slices.Contains(list, any(string(want))) {
		return fmt.Errorf("list %v does not contain %q", list, string(want))
	}
	return nil
}

func (want listContains) String() string { return fmt.Sprintf("list containing %q", string(want)) }

// auditConfig is an endpoint and a credential made with the editor token,
// and, with reports, audit event data sources over them.
func auditConfig(srv *acctest.Server, version int, reports bool) string {
	cfg := srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
variable "api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "since_start" {
  type = string
}

variable "since_after" {
  type = string
}

resource "aio_endpoint" "audited" {
  name = "audited-api"
  url  = "https://audited.example.com/api"
}

resource "aio_credential" "test" {
  name              = "audited-key"
  allowed_hosts     = ["*.example.com", "*.partner.example", "127.0.0.1"]
  type              = "bearer"
  secret_wo         = var.api_key
  secret_wo_version = %d
}
`, version)
	if reports {
		cfg += `
data "aio_audit_events" "credential" {
  object_id = aio_credential.test.id
}

data "aio_audit_events" "endpoints" {
  kind = "endpoint"
}

data "aio_audit_events" "editor" {
  actor = "test-editor"
}

data "aio_audit_events" "viewer" {
  actor = "test-viewer"
}

data "aio_audit_events" "since_start" {
  since = var.since_start
}

data "aio_audit_events" "since_after" {
  since = var.since_after
}

data "aio_audit_events" "all" {}
`
	}
	return cfg
}

func TestAccAuditEventsDataSource(t *testing.T) {
	srv := newTestServer(t)
	const first, second = "audit-first-SECRET-3d9f", "audit-second-SECRET-8e02"
	// Every event of this test is at or after start; the tokens' creation
	// by acctest (actor cli) is before it.
	time.Sleep(2 * time.Millisecond)
	start := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(2 * time.Millisecond)
	vars := func(secret, after string) config.Variables {
		return config.Variables{
			"api_key":     config.StringVariable(secret),
			"since_start": config.StringVariable(start),
			"since_after": config.StringVariable(after),
		}
	}
	// since_after is set once every event has happened.
	reportVars := vars(second, start)

	const (
		credAddr = "data.aio_audit_events.credential"
		epAddr   = "data.aio_audit_events.endpoints"
	)
	event := func(fields map[string]knownvalue.Check) knownvalue.Check { return knownvalue.ObjectPartial(fields) }
	byEditor := event(map[string]knownvalue.Check{
		"actor": knownvalue.StringExact("test-editor"), "actor_role": knownvalue.StringExact(api.RoleEditor),
		"time": knownvalue.NotNull(), "id": knownvalue.NotNull(),
	})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:          auditConfig(srv, 1, false),
				ConfigVariables: vars(first, start),
			},
			{
				// A new secret: the credential's second event.
				Config:          auditConfig(srv, 2, false),
				ConfigVariables: vars(second, start),
				Check: func(s *terraform.State) error {
					if got := storedSecret(t, srv, credentialID(s)); got != second {
						return fmt.Errorf("aiod holds %q, want the rotated secret", got)
					}
					return nil
				},
			},
			{
				PreConfig: func() {
					time.Sleep(2 * time.Millisecond)
					reportVars["since_after"] = config.StringVariable(time.Now().UTC().Format(time.RFC3339Nano))
				},
				Config:          auditConfig(srv, 2, true),
				ConfigVariables: reportVars,
				ConfigStateChecks: []statecheck.StateCheck{
					// The credential: created, then its secret changed.
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("events"), knownvalue.ListExact([]knownvalue.Check{
						event(map[string]knownvalue.Check{
							"action": knownvalue.StringExact(api.ActionCreate), "object_kind": knownvalue.StringExact(api.KindCredential),
							"revision": knownvalue.Int64Exact(1), "actor": knownvalue.StringExact("test-editor"),
							"actor_role": knownvalue.StringExact(api.RoleEditor), "time": knownvalue.NotNull(),
						}),
						event(map[string]knownvalue.Check{
							"action": knownvalue.StringExact(api.ActionUpdate), "object_kind": knownvalue.StringExact(api.KindCredential),
							"revision": knownvalue.Int64Exact(2), "actor": knownvalue.StringExact("test-editor"),
							"changed_fields": listContains("secret"), "time": knownvalue.NotNull(),
						}),
					})),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("events").AtSliceIndex(1).AtMapKey("changed_fields"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("secret")})),
					// With values: the rotation shows when it happened and
					// secret_revision 1 → 2, and the secret itself as
					// sensitive, both values withheld.
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("events").AtSliceIndex(1).AtMapKey("changes"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{"path": knownvalue.StringExact("last_rotated_at"),
							"old_value": knownvalue.StringRegexp(regexpMust(`^"20\d\d-`)), "new_value": knownvalue.StringRegexp(regexpMust(`^"20\d\d-`)), "sensitive": knownvalue.Bool(false)}),
						knownvalue.ObjectExact(map[string]knownvalue.Check{"path": knownvalue.StringExact("secret_revision"),
							"old_value": knownvalue.StringExact("1"), "new_value": knownvalue.StringExact("2"), "sensitive": knownvalue.Bool(false)}),
						knownvalue.ObjectExact(map[string]knownvalue.Check{"path": knownvalue.StringExact("secret"),
							"old_value": knownvalue.Null(), "new_value": knownvalue.Null(), "sensitive": knownvalue.Bool(true)}),
					})),
					statecheck.CompareValuePairs(credAddr, tfjsonpath.New("events").AtSliceIndex(0).AtMapKey("object_id"),
						credentialAddr, tfjsonpath.New("id"), compareEqual),
					statecheck.CompareValuePairs(credAddr, tfjsonpath.New("events").AtSliceIndex(1).AtMapKey("object_id"),
						credentialAddr, tfjsonpath.New("id"), compareEqual),
					// kind: the endpoint's one event, nothing else.
					statecheck.ExpectKnownValue(epAddr, tfjsonpath.New("events"), knownvalue.ListExact([]knownvalue.Check{
						event(map[string]knownvalue.Check{
							"action": knownvalue.StringExact(api.ActionCreate), "object_kind": knownvalue.StringExact(api.KindEndpoint),
							"revision": knownvalue.Int64Exact(1), "actor": knownvalue.StringExact("test-editor"),
						}),
					})),
					statecheck.ExpectKnownValue(epAddr, tfjsonpath.New("events").AtSliceIndex(0).AtMapKey("changes"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{"path": knownvalue.StringExact("data_classification"),
							"old_value": knownvalue.StringExact("null"), "new_value": knownvalue.StringExact(`"internal"`), "sensitive": knownvalue.Bool(false)}),
						knownvalue.ObjectExact(map[string]knownvalue.Check{"path": knownvalue.StringExact("name"),
							"old_value": knownvalue.StringExact("null"), "new_value": knownvalue.StringExact(`"audited-api"`), "sensitive": knownvalue.Bool(false)}),
						knownvalue.ObjectExact(map[string]knownvalue.Check{"path": knownvalue.StringExact("url"),
							"old_value": knownvalue.StringExact("null"), "new_value": knownvalue.StringExact(`"https://audited.example.com/api"`), "sensitive": knownvalue.Bool(false)}),
					})),
					statecheck.CompareValuePairs(epAddr, tfjsonpath.New("events").AtSliceIndex(0).AtMapKey("object_id"),
						"aio_endpoint.audited", tfjsonpath.New("id"), compareEqual),
					// actor: the editor's three changes; the viewer made none.
					statecheck.ExpectKnownValue("data.aio_audit_events.editor", tfjsonpath.New("events"),
						knownvalue.ListExact([]knownvalue.Check{byEditor, byEditor, byEditor})),
					statecheck.ExpectKnownValue("data.aio_audit_events.viewer", tfjsonpath.New("events"), knownvalue.ListSizeExact(0)),
					// since: this test's three changes, then none after them.
					statecheck.ExpectKnownValue("data.aio_audit_events.since_start", tfjsonpath.New("events"),
						knownvalue.ListExact([]knownvalue.Check{byEditor, byEditor, byEditor})),
					statecheck.ExpectKnownValue("data.aio_audit_events.since_after", tfjsonpath.New("events"), knownvalue.ListSizeExact(0)),
					// A control for the filters: unfiltered, the tokens'
					// creation (by the command line) is listed too.
					statecheck.ExpectKnownValue("data.aio_audit_events.all", tfjsonpath.New("events"), knownvalue.ListSizeExact(len(auth.Roles)+3)),
					statecheck.ExpectKnownValue("data.aio_audit_events.all", tfjsonpath.New("events").AtSliceIndex(0), event(map[string]knownvalue.Check{
						"actor": knownvalue.StringExact("cli"), "object_kind": knownvalue.StringExact(api.KindToken),
					})),
				},
				// No event holds either secret, in any field.
				Check: noValueInState(first, second),
			},
		},
	})
}

// An event's time is the server's, to the microsecond aiod keeps, so that
// it can be given back as since: since is inclusive, and since = the time
// of the credential's update lists that update and not the create made
// moments before (often within the same second).
func TestAccAuditEventsDataSource_timePrecision(t *testing.T) {
	srv := newTestServer(t)
	cfg := func(secret string) string {
		return srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
resource "aio_credential" "test" {
  name   = "precise"
  allowed_hosts = ["*.example.com", "*.partner.example", "127.0.0.1"]
  type   = "bearer"
  secret = %q
}

data "aio_audit_events" "credential" {
  object_id  = aio_credential.test.id
  depends_on = [aio_credential.test]
}

data "aio_audit_events" "since_update" {
  object_id = aio_credential.test.id
  since     = data.aio_audit_events.credential.events[length(data.aio_audit_events.credential.events) - 1].time
}
`, secret)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{Config: cfg("precise-one")},
			{
				Config: cfg("precise-two"),
				Check: func(s *terraform.State) error {
					evs, err := apiClient(t, srv).ListAllAuditEvents(testContext(), client.AuditFilter{ObjectID: credentialID(s)})
					if err != nil {
						return err
					}
					attrs := s.RootModule().Resources["data.aio_audit_events.credential"].Primary.Attributes
					if attrs["events.#"] != fmt.Sprint(len(evs)) || len(evs) != 2 {
						return fmt.Errorf("the data source lists %s events, the API %d; want 2", attrs["events.#"], len(evs))
					}
					for i, ev := range evs {
						got := attrs[fmt.Sprintf("events.%d.time", i)]
						tm, err := time.Parse(time.RFC3339Nano, got)
						if err != nil || !tm.Equal(ev.Time) {
							return fmt.Errorf("event %d (%s): the data source says %s, aiod %s", i, ev.Action, got, ev.Time.Format(time.RFC3339Nano))
						}
					}
					return nil
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_audit_events.since_update", tfjsonpath.New("events"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"action": knownvalue.StringExact(api.ActionUpdate), "revision": knownvalue.Int64Exact(2)}),
					})),
				},
			},
		},
	})
}
