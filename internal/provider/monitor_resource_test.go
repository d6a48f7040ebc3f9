package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

const monitorAddr = "aio_monitor.test"

// monitorBase declares two endpoints and a credential to point monitors at.
func monitorBase(srv *acctest.Server) string {
	return srv.ProviderConfig(api.RoleEditor) + `
resource "aio_endpoint" "a" {
  name = "svc-a"
  url  = "http://127.0.0.1:9/api"
}
resource "aio_endpoint" "b" {
  name = "svc-b"
  url  = "http://127.0.0.1:9/other"
}
resource "aio_endpoint" "db" {
  name = "db"
  url  = "tcp://127.0.0.1:9"
}
resource "aio_credential" "key" {
  name   = "svc-key"
  allowed_hosts = ["*.example.com", "*.partner.example", "127.0.0.1", "svc-a.internal", "svc.internal"]
  type   = "api_key"
  secret = "k"
}
`
}

func monitorConfig(srv *acctest.Server, body string) string {
	return monitorBase(srv) + "resource \"aio_monitor\" \"test\" {\n" + body + "\n}\n"
}

const fullMonitor = `
  name        = "svc-a-health"
  endpoint_id = aio_endpoint.a.id
  type        = "http"
  enabled     = false
  interval    = "30s"
  timeout     = "5s"
  tags        = { team = "a" }
  degraded_response_time = "800ms"
  request = {
    method        = "POST"
    path          = "/health"
    query         = { verbose = "1" }
    headers       = { "x-probe" = "aio" }
    body          = "{}"
    credential_id = aio_credential.key.id
    tls = {
      server_name = "svc-a.internal"
    }
  }
  assertions = [
    { source = "status_code", comparison = "equals", target = "200" },
    { source = "json_body", property = "$.status", comparison = "equals", target = "ok" },
    { source = "header", property = "content-type", comparison = "contains", target = "json" },
    { source = "response_time", comparison = "less_than", target = "2s" },
  ]
  retry_strategy = {
    type         = "exponential"
    max_retries  = 3
    base_backoff = "1s"
    max_backoff  = "10s"
    jitter       = true
    retry_on = {
      network_error = true
      status_codes  = [502, 503]
    }
  }
`

func TestAccMonitorResource_lifecycle(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				// The smallest monitor: defaults are planned, implicit
				// behaviour (timeout, assertions, request) stays null.
				Config: monitorConfig(srv, `
  name        = "svc-a-health"
  endpoint_id = aio_endpoint.a.id
  type        = "http"
  enabled     = false
`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^mon_`))),
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("interval"), knownvalue.StringExact("60s")),
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("timeout"), knownvalue.Null()),
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("request"), knownvalue.Null()),
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("assertions"), knownvalue.Null()),
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("retry_strategy"), knownvalue.Null()),
				},
				Check: func(s *terraform.State) error { id = s.RootModule().Resources[monitorAddr].Primary.ID; return nil },
			},
			{
				// Every attribute, in place.
				Config: monitorConfig(srv, fullMonitor),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(monitorAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("request").AtMapKey("method"), knownvalue.StringExact("POST")),
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("request").AtMapKey("follow_redirects"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("request").AtMapKey("tls").AtMapKey("insecure_skip_verify"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("assertions"), knownvalue.ListSizeExact(4)),
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("retry_strategy").AtMapKey("retry_on").AtMapKey("timeout"), knownvalue.Null()),
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
				},
			},
			{
				// Moving to another endpoint keeps the monitor (and its history).
				Config: monitorConfig(srv, regexp.MustCompile(`aio_endpoint\.a\.id`).ReplaceAllString(fullMonitor, "aio_endpoint.b.id")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(monitorAddr, plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources[monitorAddr].Primary.ID; got != id {
						return fmt.Errorf("monitor replaced: %s → %s", id, got)
					}
					return nil
				},
			},
			{
				ResourceName:      monitorAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// Drift: someone disables retries and changes the interval.
				PreConfig: func() {
					m, err := c.GetMonitor(testContext(), id)
					if err != nil {
						t.Fatal(err)
					}
					iv := "45s"
					m.Interval, m.Retry = &iv, nil
					if _, err := c.UpdateMonitor(testContext(), id, m.Revision, m); err != nil {
						t.Fatal(err)
					}
				},
				Config:             monitorConfig(srv, regexp.MustCompile(`aio_endpoint\.a\.id`).ReplaceAllString(fullMonitor, "aio_endpoint.b.id")),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: monitorConfig(srv, regexp.MustCompile(`aio_endpoint\.a\.id`).ReplaceAllString(fullMonitor, "aio_endpoint.b.id")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(monitorAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("interval"), knownvalue.StringExact("30s")),
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("retry_strategy").AtMapKey("type"), knownvalue.StringExact("exponential")),
				},
			},
			{
				// Changing the type is an in-place update.
				Config: monitorConfig(srv, `
  name        = "svc-a-health"
  endpoint_id = aio_endpoint.db.id
  type        = "tcp"
  enabled     = false
  assertions  = [{ source = "response_time", comparison = "less_than", target = "100ms" }]
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(monitorAddr, plancheck.ResourceActionUpdate),
				}},
			},
			{
				// Disappears: deleted through the API, the plan re-creates it.
				PreConfig: func() {
					ms, err := c.ListAllMonitors(testContext(), monitorListAll())
					if err != nil || len(ms) != 1 {
						t.Fatalf("monitors: %v %v", ms, err)
					}
					if err := c.DeleteMonitor(testContext(), ms[0].ID, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: monitorConfig(srv, `
  name        = "svc-a-health"
  endpoint_id = aio_endpoint.db.id
  type        = "tcp"
  enabled     = false
  assertions  = [{ source = "response_time", comparison = "less_than", target = "100ms" }]
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(monitorAddr, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func TestAccMonitorResource_badInput(t *testing.T) {
	srv := newTestServer(t)
	head := `
  name        = "m"
  endpoint_id = "ep_x"
`
	cases := []struct{ body, want string }{
		{`type = "udp"`, `(?s)value must be one of`},
		{`type = "http"` + "\n" + `interval = "1s"`, `(?s)interval must be from 5s to 24h`},
		{`type = "http"` + "\n" + `interval = "10s"` + "\n" + `timeout = "20s"`, `(?s)timeout must be less than or equal to the interval`},
		{`type = "tcp"` + "\n" + `request = { path = "/x" }`, `(?s)request is only valid for http monitors`},
		{`type = "http"` + "\n" + `request = { headers = { authorization = "x" } }`, `(?s)Attribute request.headers`},
		{`type = "http"` + "\n" + `request = { headers = { "X-Up" = "x" } }`, `(?s)lower-case header name`},
		{`type = "http"` + "\n" + `request = { path = "https://evil/x" }`, `(?s)must be a path such as /health`},
		{`type = "http"` + "\n" + `assertions = [{ source = "json_body", comparison = "equals", target = "x" }]`, `(?s)assertions\[0\]\.property is required for source json_body`},
		{`type = "http"` + "\n" + `assertions = [{ source = "status_code", comparison = "contains", target = "20" }]`, `(?s)assertions\[0\]\.comparison must be equals, not_equals`},
		{`type = "http"` + "\n" + `assertions = [{ source = "text_body", comparison = "is_empty", target = "x" }]`, `(?s)target must not be set for is_empty`},
		{`type = "http"` + "\n" + `assertions = [{ source = "text_body", comparison = "matches", target = "(" }]`, `(?s)valid regular expression`},
		{`type = "tcp"` + "\n" + `assertions = [{ source = "status_code", comparison = "equals", target = "200" }]`, `(?s)a tcp monitor can only assert response_time`},
		{`type = "http"` + "\n" + `retry_strategy = { type = "linear", max_retries = 11 }`, `(?s)max_retries value must be between 0 and 10`},
		{`type = "http"` + "\n" + `retry_strategy = { type = "fixed", base_backoff = "10s", max_backoff = "1s" }`, `(?s)max_backoff must be at least base_backoff`},
		{`type = "http"` + "\n" + `retry_strategy = { type = "fixed", retry_on = { status_codes = [99] } }`, `(?s)between 100 and 599`},
		// The JSONPath is parsed, not only checked for a leading $.
		{`type = "http"` + "\n" + `assertions = [{ source = "json_body", property = "$[?", comparison = "not_empty" }]`,
			`(?s)assertions\[0\]\.property\s+must\s+be\s+a\s+valid\s+JSONPath`},
		{`type = "http"` + "\n" + `timeout = "50ms"`, `(?s)timeout\s+must\s+be\s+at\s+least\s+100ms`},
		{`type = "http"` + "\n" + `timeout = "5s"` + "\n" + `degraded_response_time = "6s"`,
			`(?s)degraded_response_time\s+must\s+be\s+less\s+than\s+or\s+equal\s+to\s+the\s+timeout`},
		// Unset timeout: the effective one (the smaller of 10s and the
		// interval) bounds it.
		{`type = "http"` + "\n" + `interval = "5s"` + "\n" + `degraded_response_time = "6s"`,
			`(?s)degraded_response_time\s+must\s+be\s+less\s+than\s+or\s+equal\s+to\s+the\s+timeout`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config:      srv.ProviderConfig(api.RoleEditor) + "resource \"aio_monitor\" \"test\" {" + head + c.body + "\n}\n",
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

// TestAccMonitorResource_importAPICreated imports a monitor made through
// the API with a tls block that leaves insecure_skip_verify out: the
// provider plans it as false, so aiod must store false as well for the
// plan after the import to be empty.
func TestAccMonitorResource_importAPICreated(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	ep, err := c.CreateEndpoint(testContext(), api.Endpoint{Name: "svc-tls", URL: "https://127.0.0.1:9/api"})
	if err != nil {
		t.Fatal(err)
	}
	sn, enabled := "svc.internal", false
	mon, err := c.CreateMonitor(testContext(), api.Monitor{Name: "svc-tls-health", EndpointID: ep.ID, Type: api.MonitorHTTP,
		Enabled: &enabled, Request: &api.MonitorRequest{TLS: &api.MonitorTLS{ServerName: &sn}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
resource "aio_monitor" "test" {
  name        = "svc-tls-health"
  endpoint_id = %q
  type        = "http"
  enabled     = false
  request = {
    tls = { server_name = "svc.internal" }
  }
}
`, ep.ID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				ResourceName:       monitorAddr,
				ImportState:        true,
				ImportStatePersist: true,
				ImportStateId:      mon.ID,
				Config:             cfg,
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(monitorAddr, plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("request").AtMapKey("tls").AtMapKey("insecure_skip_verify"), knownvalue.Bool(false)),
				},
			},
		},
	})
}

// TestMonitorSchemaCACertDescription: the probe replaces the system's
// trusted authorities with request.tls.ca_cert (see TestTLS in the probe
// package: a CA that did not sign the certificate is refused even for a
// certificate the system would trust), and the description must say so.
func TestMonitorSchemaCACertDescription(t *testing.T) {
	req := monitorResourceSchema().Attributes["request"].(schema.SingleNestedAttribute)
	tls := req.Attributes["tls"].(schema.SingleNestedAttribute)
	desc := tls.Attributes["ca_cert"].GetMarkdownDescription()
	if strings.Contains(desc, "in addition to") || !strings.Contains(desc, "replace the system's") {
		t.Errorf("ca_cert description %q should say the authorities replace the system's", desc)
	}
}

// A monitor that an alert threshold watches changes type in place: its ID
// stays, and so does the threshold. Before, the type forced a replacement,
// which could not be applied in either order (aiod refuses to delete a
// watched monitor, 409; created first, the new one's name was taken).
func TestAccMonitorResource_typeChangeUnderAThreshold(t *testing.T) {
	srv := newTestServer(t)
	cfg := func(typ, endpoint string) string {
		return monitorBase(srv) + fmt.Sprintf(`
resource "aio_monitor" "test" {
  name        = "watched"
  endpoint_id = aio_endpoint.%s.id
  type        = %q
}
resource "aio_alert_threshold" "test" {
  name       = "watched-down"
  monitor_id = aio_monitor.test.id
  metric     = "consecutive_failures"
  comparison = "above"
  critical   = 3
}
`, endpoint, typ)
	}
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: cfg("http", "a"),
				Check: resource.ComposeTestCheckFunc(func(s *terraform.State) error {
					id = s.RootModule().Resources[monitorAddr].Primary.ID
					return nil
				}),
			},
			{
				Config: cfg("tcp", "db"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(monitorAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("aio_alert_threshold.test", plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("type"), knownvalue.StringExact("tcp")),
				},
				Check: resource.ComposeTestCheckFunc(func(s *terraform.State) error {
					if got := s.RootModule().Resources[monitorAddr].Primary.ID; got != id {
						return fmt.Errorf("the monitor's ID changed from %s to %s", id, got)
					}
					return nil
				}),
			},
			{Config: cfg("tcp", "db"), PlanOnly: true},
		},
	})
}

// Durations spelled otherwise than aiod holds them plan no change after an
// import: a monitor written elsewhere with interval "1m" and timeout
// "5000ms", imported into a configuration that says "60s" (the default,
// left out) and "5s", and a retry delay of "1s" configured as "1000ms".
// Before, the plan after the import showed an update of each.
func TestAccMonitorResource_importKeepsEquivalentDurations(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	ep, err := c.CreateEndpoint(testContext(), api.Endpoint{Name: "svc-dur", URL: "http://127.0.0.1:9/api"})
	if err != nil {
		t.Fatal(err)
	}
	interval, timeout, base, enabled := "1m", "5000ms", "1000ms", false
	mon, err := c.CreateMonitor(testContext(), api.Monitor{Name: "svc-dur-health", EndpointID: ep.ID, Type: api.MonitorHTTP,
		Enabled: &enabled, Interval: &interval, Timeout: &timeout, Retry: &api.RetryStrategy{Type: api.RetryFixed, BaseBackoff: &base}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
resource "aio_monitor" "test" {
  name        = "svc-dur-health"
  endpoint_id = %q
  type        = "http"
  enabled     = false
  timeout     = "5s"
  retry_strategy = { type = "fixed", base_backoff = "1s" }
}
`, ep.ID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				ResourceName:       monitorAddr,
				ImportState:        true,
				ImportStatePersist: true,
				ImportStateId:      mon.ID,
				Config:             cfg,
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(monitorAddr, plancheck.ResourceActionNoop),
				}},
			},
			{
				// A real change of length still plans as one.
				Config: strings.Replace(cfg, `timeout     = "5s"`, `timeout     = "6s"`, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(monitorAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(monitorAddr, tfjsonpath.New("timeout"), knownvalue.StringExact("6s")),
				},
			},
		},
	})
}
