package store

// Monitor-load scenarios of the store contract, kept in their own file.
// TestContractMonitorLoad (backends_test.go) runs them on every backend.

import (
	"reflect"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

func runMonitorLoadContract(t *testing.T, open func(t *testing.T) Store) {
	t.Run("MonitorIntervals", func(t *testing.T) { testMonitorIntervals(t, open(t)) })
}

// testMonitorIntervals counts monitors by stored interval and enabled
// state, leaving one out by ID; an unset interval counts as the default.
func testMonitorIntervals(t *testing.T, s Store) {
	ctx := t.Context()
	count := func(except string) []IntervalCount {
		t.Helper()
		got, err := s.MonitorIntervals(ctx, except)
		if err != nil {
			t.Fatalf("MonitorIntervals: %v", err)
		}
		return got
	}
	if got := count(""); got == nil || len(got) != 0 {
		t.Fatalf("empty store: %#v, want an empty slice", got)
	}
	mon := func(id, interval string, enabled bool) api.Monitor {
		m := api.Monitor{Meta: api.Meta{ID: id, Revision: 1, CreatedAt: t0, UpdatedAt: t0}, Name: id, EndpointID: "ep_1", Type: api.MonitorHTTP, Enabled: &enabled}
		if interval != "" {
			m.Interval = &interval
		}
		return m
	}
	write(t, s, func(tx Tx) error {
		if err := tx.InsertEndpoint(ctx, endpoint("ep_1", "one")); err != nil {
			return err
		}
		for _, m := range []api.Monitor{mon("mon_1", "10s", true), mon("mon_2", "10s", true), mon("mon_3", "10s", false),
			mon("mon_4", "1m", true), mon("mon_5", "", true)} {
			if err := tx.InsertMonitor(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	// The default interval may equal one of the explicit ones: add
	// merges the unset interval's count into its group then.
	def := IntervalCount{api.DefaultInterval, true, 1}
	add := func(list []IntervalCount, c IntervalCount) []IntervalCount {
		for i := range list {
			if list[i].Interval == c.Interval && list[i].Enabled == c.Enabled {
				list[i].Count += c.Count
				return list
			}
		}
		return append(list, c)
	}
	want := add([]IntervalCount{{"10s", false, 1}, {"10s", true, 2}, {"1m", true, 1}}, def)
	got := count("")
	if !sameCounts(got, want) {
		t.Errorf("MonitorIntervals = %v, want %v", got, want)
	}
	wantExcept := add([]IntervalCount{{"10s", false, 1}, {"10s", true, 1}, {"1m", true, 1}}, def)
	if got := count("mon_1"); !sameCounts(got, wantExcept) {
		t.Errorf("MonitorIntervals except mon_1 = %v, want %v", got, wantExcept)
	}
}

// sameCounts compares as sets: the order of the groups is not part of the
// contract.
func sameCounts(a, b []IntervalCount) bool {
	m := func(l []IntervalCount) map[IntervalCount]bool {
		out := map[IntervalCount]bool{}
		for _, c := range l {
			out[c] = true
		}
		return out
	}
	return len(a) == len(b) && reflect.DeepEqual(m(a), m(b))
}
