package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// TestAccMonitorStatusDataSource_missingMonitor reads the status of a
// monitor that does not exist and expects a sentence on monitor_id, not the
// raw "HTTP 404 Not Found" answer.
func TestAccMonitorStatusDataSource_missingMonitor(t *testing.T) {
	srv := newTestServer(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config: srv.ProviderConfig(api.RoleViewer) + `
data "aio_monitor_status" "gone" {
  monitor_id = "mon_01jabcdefghjkmnpqrstvwxyz0"
}`,
			ExpectError: regexp.MustCompile(`(?s)Error: Monitor not found.*with data.aio_monitor_status.gone,.*monitor_id = .*` +
				`No monitor has the ID "mon_01jabcdefghjkmnpqrstvwxyz0": it was deleted, or\s+the\s+ID\s+is\s+of\s+another\s+kind\s+of\s+object\.`),
		}},
	})
}

// TestAccAuditEventsDataSource_unknownKind: a kind no event can have is a
// plan error on kind, not a silently empty list.
func TestAccAuditEventsDataSource_unknownKind(t *testing.T) {
	srv := newTestServer(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config: srv.ProviderConfig(api.RoleViewer) + `
data "aio_audit_events" "typo" {
  kind = "nonsense"
}`,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)with data.aio_audit_events.typo,.*kind = "nonsense".*value must be one of:.*"endpoint".*"encryption_key"`),
		}},
	})
}
