package retention_test

import (
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
)

// TestComplianceGraceIsAnIntervalAndAMinute: a record counts as overdue
// once it is past its policy's cutoff by more than one interval and a
// minute (the next pass may not have run before), and not sooner.
func TestComplianceGraceIsAnIntervalAndAMinute(t *testing.T) {
	f := newFixture(t, retention.Config{Interval: 10 * time.Minute})
	// Past the 2-hour cutoff by 10 minutes (within the grace of 11) and
	// by 12 (past it).
	var rs []api.ProbeResult
	for _, age := range []time.Duration{2*time.Hour + 10*time.Minute, 2*time.Hour + 12*time.Minute} {
		rs = append(rs, api.ProbeResult{MonitorID: "mon_pii", Time: t0.Add(-age), Outcome: api.OutcomeUp})
	}
	if err := f.st.WriteResults(t.Context(), rs, nil); err != nil {
		t.Fatal(err)
	}
	f.policy(api.RetentionPolicy{Name: "pii-2h", DataKind: api.DataProbeResults, MaxAge: "2h", Action: api.RetentionDelete,
		EndpointIDs: []string{"ep_pii"}})
	c, err := f.enf.Compliance(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	it := complianceItem(t, c, api.DataProbeResults, "endpoint_ids=ep_pii")
	if it.Overdue != 1 || it.Compliant || c.Compliant {
		t.Errorf("pii item = %+v, want the 12-minute one overdue only", it)
	}
}

// TestComplianceScopeWords: each item names its policy's scope, lists in
// sorted order.
func TestComplianceScopeWords(t *testing.T) {
	f := newFixture(t)
	for _, p := range []api.RetentionPolicy{
		{Name: "ids", DataKind: api.DataMinuteRollups, EndpointIDs: []string{"ep_pub", "ep_pii"}},
		{Name: "tags", DataKind: api.DataAlertEvents, EndpointTags: map[string]string{"team": "pay", "region": "eu"}},
		{Name: "classes", DataKind: api.DataHourRollups, DataClassifications: []string{api.ClassPublic, api.ClassInternal}},
		{Name: "all", DataKind: api.DataDeliveries},
	} {
		p.MaxAge, p.Action = "24h", api.RetentionDelete
		f.policy(p)
	}
	c, err := f.enf.Compliance(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// complianceItem fails the test when an item is missing.
	complianceItem(t, c, api.DataMinuteRollups, "endpoint_ids=ep_pii,ep_pub")
	complianceItem(t, c, api.DataAlertEvents, "endpoint_tags=region:eu,team:pay")
	complianceItem(t, c, api.DataHourRollups, "data_classifications=internal,public")
	complianceItem(t, c, api.DataDeliveries, "all")
}

func complianceItem(t *testing.T, c api.RetentionCompliance, kind, scope string) api.RetentionComplianceItem {
	t.Helper()
	for _, it := range c.Items {
		if it.DataKind == kind && it.Scope == scope {
			return it
		}
	}
	t.Fatalf("no item %s/%s in %+v", kind, scope, c.Items)
	return api.RetentionComplianceItem{}
}
