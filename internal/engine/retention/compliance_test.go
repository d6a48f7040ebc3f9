package retention_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
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

// TestComplianceCountsEveryTableOfAKind: records overdue in a data kind's
// second table (missed runs of the raw data, tombstones of the change
// history) make the view non-compliant although the first table holds
// nothing old. RetentionOldest read the first table only, so that the
// view skipped the count and called them compliant.
func TestComplianceCountsEveryTableOfAKind(t *testing.T) {
	// A week's audit floor lets the 15-day history policy through.
	f := newFixture(t, retention.Config{AuditFloor: 7 * 24 * time.Hour})
	missedAt := t0.Add(-72 * time.Hour)
	if err := f.st.WriteResults(t.Context(), nil, []store.MissedRun{{MonitorID: "mon_pii", Time: missedAt}}); err != nil {
		t.Fatal(err)
	}
	f.policy(api.RetentionPolicy{Name: "pii-2h", DataKind: api.DataProbeResults, MaxAge: "2h", Action: api.RetentionDelete,
		EndpointIDs: []string{"ep_pii"}})
	// A tombstone 30 days old, its revisions gone, past a 15-day policy.
	deletedAt := t0.Add(-30 * 24 * time.Hour)
	if err := f.st.Write(t.Context(), func(tx store.Tx) error {
		return tx.InsertTombstone(t.Context(), api.Tombstone{ObjectKind: api.KindMonitor, ObjectID: "mon_old", Name: "old", Revision: 1,
			DeletedAt: deletedAt, Actor: "ops-token", ActorRole: api.RoleEditor, Object: json.RawMessage(`{"name":"old"}`)})
	}); err != nil {
		t.Fatal(err)
	}
	f.policy(api.RetentionPolicy{Name: "history-15d", DataKind: api.DataRevisions, MaxAge: "360h", Action: api.RetentionDelete})
	c, err := f.enf.Compliance(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if it := complianceItem(t, c, api.DataProbeResults, "endpoint_ids=ep_pii"); it.Overdue != 1 || it.OldestAt == nil || !it.OldestAt.Equal(missedAt) {
		t.Errorf("raw item = %+v, want the missed run overdue and oldest", it)
	}
	if it := complianceItem(t, c, api.DataRevisions, "all"); it.Overdue != 1 || it.OldestAt == nil || !it.OldestAt.Equal(deletedAt) {
		t.Errorf("history item = %+v, want the tombstone overdue and oldest", it)
	}
	if c.Compliant {
		t.Error("the view is compliant with a missed run and a tombstone overdue")
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
