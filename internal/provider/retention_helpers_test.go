package provider

import (
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// holdPIIResult stores, for the endpoint named endpoint, a monitor and one
// raw result of the given age, as if retention had not run since: what a
// compliance gate must catch. It returns the monitor's ID.
func holdPIIResult(t *testing.T, srv *acctest.Server, endpoint string, age time.Duration) string {
	t.Helper()
	ctx := testContext()
	eps, _, err := srv.Store.ListEndpoints(ctx, store.ListQuery{Name: endpoint})
	if err != nil || len(eps) != 1 {
		t.Fatalf("endpoint %s: %v, %v", endpoint, eps, err)
	}
	now := time.Now().UTC()
	enabled, interval := false, "1m"
	m := api.Monitor{Meta: api.Meta{ID: "mon_held" + eps[0].ID[3:], Revision: 1, CreatedAt: now, UpdatedAt: now}, Name: endpoint + "-held",
		EndpointID: eps[0].ID, Type: api.MonitorHTTP, Enabled: &enabled, Interval: &interval}
	if err := srv.Store.Write(ctx, func(tx store.Tx) error { return tx.InsertMonitor(ctx, m) }); err != nil {
		t.Fatal(err)
	}
	e := "held past its policy"
	if err := srv.Store.WriteResults(ctx, []api.ProbeResult{{MonitorID: m.ID, Time: now.Add(-age), Outcome: api.OutcomeDown, Error: &e}}, nil); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// dropHeld deletes the monitor holdPIIResult made, with its data.
func dropHeld(t *testing.T, srv *acctest.Server, monitorID string) {
	t.Helper()
	ctx := testContext()
	if err := srv.Store.Write(ctx, func(tx store.Tx) error { return tx.DeleteMonitor(ctx, monitorID) }); err != nil {
		t.Fatal(err)
	}
	if err := srv.Store.DeleteMonitorData(ctx, monitorID); err != nil {
		t.Fatal(err)
	}
}
