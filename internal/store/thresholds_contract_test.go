package store

import (
	"context"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// thresholdKind is the alert threshold in the kind scenarios: a minimal
// threshold watches a monitor's availability; a full one is a burn-rate
// threshold of an endpoint with every field set.
var thresholdKind = kindFixture[api.AlertThreshold]{
	name:    "Threshold",
	prefix:  api.PrefixThreshold,
	minimal: threshold,
	full: func(id, name string) api.AlertThreshold {
		a := threshold(id, name)
		a.Revision, a.UpdatedAt = 6, at(3*time.Hour)
		a.MonitorID, a.EndpointID = nil, new("ep_full")
		a.Metric, a.Comparison, a.Critical, a.Window = api.MetricLatencyP99, new(api.CompareAbove), new(1500.5), new("5m")
		a.Warning, a.RecoveryWarning, a.RecoveryCritical = new(800.25), new(700.0), new(1200.0)
		a.PendingFor, a.RecoveryFor, a.ReminderInterval = new("2m"), new("90s"), new("4h")
		a.NoData, a.Enabled = api.NoDataKeepLast, new(false)
		a.ChannelIDs = []string{"chan_b", "chan_a"}
		a.Tags = map[string]string{"team": "payments"}
		a.RunbookURL, a.Description = new("https://runbooks.example.com/p99"), new("p99 latency, \"payments\"")
		a.SLO = &api.SLO{ObjectivePercent: 99.95, Period: "720h"}
		a.BurnRateWindows = []api.BurnRateWindow{{LongWindow: "1h", ShortWindow: "5m", Factor: 14.4, Severity: api.SeverityCritical}}
		return a
	},
	edges: func() []api.AlertThreshold {
		// Empty collections stay empty, apart from null; a value of 0 is
		// kept, apart from null.
		empties := threshold("thr_empties", "empties")
		empties.ChannelIDs, empties.Tags, empties.BurnRateWindows = []string{}, map[string]string{}, []api.BurnRateWindow{}
		empties.Warning, empties.Critical = new(0.0), nil
		return []api.AlertThreshold{empties}
	},
	withTags: func(a api.AlertThreshold, tags map[string]string) api.AlertThreshold { a.Tags = tags; return a },
	meta:     func(a *api.AlertThreshold) *api.Meta { return &a.Meta },
	stored:   storedThreshold,
	get:      Reader.GetThreshold,
	// The shared filters only: the thresholds' own have their scenario.
	list: func(r Reader, ctx context.Context, q ListQuery) ([]api.AlertThreshold, string, error) {
		return r.ListThresholds(ctx, ThresholdQuery{ListQuery: q})
	},
	insert: Tx.InsertThreshold,
	update: Tx.UpdateThreshold,
	delete: Tx.DeleteThreshold,
}

// threshold returns a minimal threshold of monitor mon_1: every optional
// field nil.
func threshold(id, name string) api.AlertThreshold {
	return api.AlertThreshold{
		Meta:       api.Meta{ID: id, Revision: 1, CreatedAt: t0, UpdatedAt: t0},
		Name:       name,
		MonitorID:  new("mon_1"),
		Metric:     api.MetricAvailability,
		Comparison: new(api.CompareBelow),
		Critical:   new(99.5),
		Window:     new("1h"),
	}
}

// storedThreshold is what the store gives back for a: the defaults are
// stored filled in.
func storedThreshold(a api.AlertThreshold) api.AlertThreshold {
	a.CreatedAt, a.UpdatedAt = us(a.CreatedAt), us(a.UpdatedAt)
	a.Enabled = new(a.IsEnabled())
	if a.PendingFor == nil {
		a.PendingFor = new(api.DefaultPendingFor)
	}
	if a.RecoveryFor == nil {
		a.RecoveryFor = new(api.DefaultRecoveryFor)
	}
	if a.NoData == "" {
		a.NoData = api.DefaultNoData
	}
	return a
}

// testThresholdFilters: the thresholds' own list filters, alone and with
// the shared ones.
func testThresholdFilters(t *testing.T, s Store, _ func(*testing.T) Store) {
	k := thresholdKind
	of := func(a api.AlertThreshold, mon, ep, metric string) api.AlertThreshold {
		a.MonitorID, a.EndpointID = nil, nil
		if mon != "" {
			a.MonitorID = &mon
		}
		if ep != "" {
			a.EndpointID = &ep
		}
		a.Metric = metric
		return a
	}
	k.put(t, s,
		of(k.obj(1, "a"), "mon_1", "", api.MetricAvailability),
		of(k.obj(2, "b"), "", "ep_1", api.MetricAvailability),
		of(k.withTags(k.obj(3, "c"), map[string]string{"env": "prod"}), "mon_1", "", api.MetricLatencyP95),
		of(k.obj(4, "d"), "mon_2", "", api.MetricBurnRate),
	)
	for _, c := range []struct {
		name string
		q    ThresholdQuery
		want []string
	}{
		{"monitor", ThresholdQuery{MonitorID: "mon_1"}, []string{"thr_01", "thr_03"}},
		{"endpoint", ThresholdQuery{EndpointID: "ep_1"}, []string{"thr_02"}},
		{"metric", ThresholdQuery{Metric: api.MetricAvailability}, []string{"thr_01", "thr_02"}},
		{"monitor and metric", ThresholdQuery{MonitorID: "mon_1", Metric: api.MetricLatencyP95}, []string{"thr_03"}},
		{"monitor and tag", ThresholdQuery{ListQuery: ListQuery{Tags: []Tag{{"env", "prod"}}}, MonitorID: "mon_1"}, []string{"thr_03"}},
		{"none", ThresholdQuery{MonitorID: "mon_none"}, nil},
	} {
		checkIDs(t, c.name, k.ids(allPages(t, s.ListThresholds, c.q)), c.want)
	}
}

// testThresholdReferrers: a threshold refers to its monitor or endpoint
// and to each of its channels; re-pointing and deleting it stops that.
func testThresholdReferrers(t *testing.T, s Store, _ func(*testing.T) Store) {
	ctx := t.Context()
	k := thresholdKind
	onMon := k.obj(1, "on-mon")
	onMon.ChannelIDs = []string{"chan_a", "chan_b"}
	onEp := k.obj(2, "on-ep")
	onEp.MonitorID, onEp.EndpointID, onEp.ChannelIDs = nil, new("ep_1"), []string{"chan_b"}
	k.put(t, s, onMon, onEp)
	refs := func(r Reader, of string) []string {
		t.Helper()
		var (
			got []string
			err error
		)
		switch of[:3] {
		case "mon":
			got, err = r.MonitorReferrers(ctx, of)
		case "ep_":
			got, err = r.EndpointReferrers(ctx, of)
		default:
			got, err = r.ChannelReferrers(ctx, of)
		}
		if err != nil || got == nil {
			t.Fatalf("referrers of %s = %v, %v", of, got, err)
		}
		return got
	}
	for of, want := range map[string][]string{
		"mon_1": {"thr_01"}, "ep_1": {"thr_02"}, "chan_a": {"thr_01"}, "chan_b": {"thr_01", "thr_02"}, "chan_c": nil, "mon_2": nil,
	} {
		checkIDs(t, "referrers of "+of, refs(s, of), want)
	}
	write(t, s, func(tx Tx) error {
		moved := k.withRevision(onMon, 2, 0)
		moved.ChannelIDs = []string{"chan_c"}
		if err := tx.UpdateThreshold(ctx, moved); err != nil {
			return err
		}
		checkIDs(t, "referrers of chan_a inside the transaction", refs(tx, "chan_a"), nil)
		checkIDs(t, "referrers of chan_c inside the transaction", refs(tx, "chan_c"), []string{"thr_01"})
		return tx.DeleteThreshold(ctx, "thr_02")
	})
	checkIDs(t, "referrers of chan_b after the changes", refs(s, "chan_b"), nil)
	checkIDs(t, "referrers of ep_1 after the delete", refs(s, "ep_1"), nil)
	checkIDs(t, "referrers of mon_1 after the changes", refs(s, "mon_1"), []string{"thr_01"})
}
