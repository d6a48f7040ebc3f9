package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

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

const statusAddr = "data.aio_monitor_status.s"

// statusConfig is an endpoint at url, a monitor of it probed every 5 s,
// and extra (the status data source, a check block…).
func statusConfig(srv *acctest.Server, url, extra string) string {
	return srv.ProviderConfig(api.RoleEditor) + fmt.Sprintf(`
resource "aio_endpoint" "t" {
  name = "status-target"
  url  = %q
}
resource "aio_monitor" "m" {
  name        = "status-target-health"
  endpoint_id = aio_endpoint.t.id
  type        = "http"
  interval    = "5s"
}
`, url) + extra
}

// statusData is the data source over window, with an optional lifecycle
// block.
func statusData(window, lifecycle string) string {
	return fmt.Sprintf(`
data "aio_monitor_status" "s" {
  monitor_id = aio_monitor.m.id
  window     = %q
%s}
`, window, lifecycle)
}

const slaPostcondition = `  lifecycle {
    postcondition {
      condition     = self.availability_percent >= 99.9
      error_message = "SLA breached"
    }
  }
`

// waitStatus polls the API until cond holds for the monitor's status over
// window, failing the test after 20 s.
func waitStatus(t *testing.T, c *client.Client, id *string, window, what string, cond func(api.MonitorStatus) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := c.MonitorStatus(testContext(), *id, window)
		if err != nil {
			t.Fatalf("monitor status: %v", err)
		}
		if cond(st) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last status %+v", what, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkBlockStatus checks the recorded result of a check block.
type checkBlockStatus struct{ name, want, message string }

func (c checkBlockStatus) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	if req.State == nil {
		resp.Error = errors.New("no state")
		return
	}
	for _, ck := range req.State.Checks {
		if string(ck.Address.Kind) != "check" || ck.Address.Name != c.name {
			continue
		}
		if string(ck.Status) != c.want {
			resp.Error = fmt.Errorf("check %q: status %q, want %q", c.name, ck.Status, c.want)
			return
		}
		for _, in := range ck.Instances {
			for _, p := range in.Problems {
				if p.Message == c.message {
					return
				}
			}
		}
		resp.Error = fmt.Errorf("check %q: no problem %q recorded", c.name, c.message)
		return
	}
	resp.Error = fmt.Errorf("no result for check %q in the state", c.name)
}

func TestAccMonitorStatusDataSource(t *testing.T) {
	var failing atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(target.Close)
	srv := acctest.NewServer(t, acctest.Options{Engine: true})
	c := apiClient(t, srv)
	var id string
	cfg := func(extra string) string { return statusConfig(srv, target.URL, extra) }

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: cfg(statusData("5m", "")),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("monitor_id"), knownvalue.StringRegexp(regexp.MustCompile(`^mon_`))),
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("window"), knownvalue.StringExact("5m")),
				},
				Check: func(s *terraform.State) error {
					id = s.RootModule().Resources["aio_monitor.m"].Primary.ID
					return nil
				},
			},
			{
				// Once the engine has probed the target, a new plan reads
				// the figures.
				PreConfig: func() {
					waitStatus(t, c, &id, "5m", "the first probe", func(st api.MonitorStatus) bool { return st.Probes >= 1 })
				},
				Config: cfg(statusData("5m", "")),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("status"), knownvalue.StringExact("up")),
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("probes"), knownvalue.Int64Func(func(v int64) error {
						if v < 1 {
							return fmt.Errorf("probes = %d, want at least 1", v)
						}
						return nil
					})),
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("missed"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("availability_percent"), knownvalue.Float64Exact(100)),
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("error_rate_percent"), knownvalue.Float64Exact(0)),
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("retry_rate_percent"), knownvalue.Float64Exact(0)),
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("latency_avg_ms"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("last_checked_at"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("tls_cert_expires_at"), knownvalue.Null()),
				},
			},
			{
				// A CI gate: the postcondition holds while the target is up.
				Config: cfg(statusData("5m", slaPostcondition)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("availability_percent"), knownvalue.Float64Exact(100)),
				},
			},
			{
				// The target fails: the gate fails the run.
				PreConfig: func() {
					failing.Store(true)
					waitStatus(t, c, &id, "1m", "a down probe", func(st api.MonitorStatus) bool {
						return st.AvailabilityPercent != nil && *st.AvailabilityPercent < 99.9
					})
				},
				Config:      cfg(statusData("1m", slaPostcondition)),
				ExpectError: regexp.MustCompile(`(?s)Resource postcondition failed.*SLA breached`),
			},
			{
				// Bad input, refused at plan time: a window out of range,
				// and a monitor ID.
				Config:      cfg(statusData("30s", "")),
				ExpectError: regexp.MustCompile(`(?s)window\s+must\s+be\s+a\s+Go\s+duration\s+from\s+1m\s+to\s+2160h|Invalid duration.*must be a positive Go duration`),
			},
			{
				Config: cfg(`
data "aio_monitor_status" "s" {
  monitor_id = "x"
}
`),
				ExpectError: regexp.MustCompile(`(?s)must\s+be\s+a\s+monitor\s+ID`),
			},
			{
				// A check block only warns: the same breach does not fail
				// the run.
				Config: cfg(statusData("1m", "") + `
check "sla" {
  data "aio_monitor_status" "c" {
    monitor_id = aio_monitor.m.id
    window     = "1m"
  }
  assert {
    condition     = data.aio_monitor_status.c.availability_percent >= 99.9
    error_message = "SLA warning"
  }
}
`),
				// Terraform plans the data source of a check block to be
				// read again at every apply ("config will be reloaded to
				// verify a check block"), so the plan after the apply is
				// not empty; nothing else changes.
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("data.aio_monitor_status.c", plancheck.ResourceActionRead),
					plancheck.ExpectResourceAction("aio_monitor.m", plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					// The check failed, and that was only a warning.
					checkBlockStatus{name: "sla", want: "fail", message: "SLA warning"},
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("status"), knownvalue.StringExact("down")),
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("availability_percent"), knownvalue.Float64Func(func(v float64) error {
						if v >= 99.9 {
							return fmt.Errorf("availability %v, want a breach", v)
						}
						return nil
					})),
					statecheck.ExpectKnownValue(statusAddr, tfjsonpath.New("error_rate_percent"), knownvalue.Float64Func(func(v float64) error {
						if v <= 0 {
							return fmt.Errorf("error rate %v, want above 0", v)
						}
						return nil
					})),
				},
			},
		},
	})
}

// TestAccMonitorStatusDataSource_badWindow checks that the window is
// validated at plan time, before aiod is asked: here the monitor does not
// exist yet, so the read is deferred to apply and only a validator can
// refuse the window in the plan.
func TestAccMonitorStatusDataSource_badWindow(t *testing.T) {
	srv := newTestServer(t)
	var steps []resource.TestStep
	for _, w := range []string{"30s", "59s", "2161h", "0s", "-1h"} {
		steps = append(steps, resource.TestStep{
			Config:      statusConfig(srv, "http://127.0.0.1:9/", statusData(w, "")),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)window\s+must\s+be\s+a\s+Go\s+duration\s+from\s+1m\s+to\s+2160h|Invalid duration.*must be a positive Go duration`),
		})
	}
	// The bounds themselves are accepted: the plan only creates the
	// endpoint and the monitor and defers the read.
	for _, w := range []string{"1m", "60s", "2160h", "90m"} {
		steps = append(steps, resource.TestStep{
			Config:             statusConfig(srv, "http://127.0.0.1:9/", statusData(w, "")),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps:                    steps,
	})
}
