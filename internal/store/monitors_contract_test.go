package store

// Monitor-load scenarios of the store contract, kept in their own file.
// TestContractMonitorLoad (backends_test.go) runs them on every backend.

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

func runMonitorLoadContract(t *testing.T, open func(t *testing.T) Store) {
	t.Run("MonitorIntervals", func(t *testing.T) { testMonitorIntervals(t, open(t)) })
	t.Run("MonitorIntervalsFollowWrites", func(t *testing.T) { testMonitorIntervalsFollowWrites(t, open(t)) })
}

// testMonitorIntervalsFollowWrites: the counts follow every kind of
// monitor write — creates, updates of the interval, of the enabled state,
// of both, of neither, and deletes — in 200 seeded random steps, each
// checked against a count of the monitors the test holds, with every
// monitor left out once by ID; a group that empties is gone, and leaving
// out an ID that is no monitor's changes nothing.
func testMonitorIntervalsFollowWrites(t *testing.T, s Store) {
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(19, 19))
	intervals := []string{"10s", "30s", "1m", "5m"}
	held := map[string]api.Monitor{}
	write(t, s, func(tx Tx) error { return tx.InsertEndpoint(ctx, endpoint("ep_1", "one")) })
	expect := func(except string) []IntervalCount {
		byGroup := map[[2]any]int{}
		for id, m := range held {
			if id != except {
				byGroup[[2]any{*m.Interval, *m.Enabled}]++
			}
		}
		out := []IntervalCount{}
		for g, n := range byGroup {
			out = append(out, IntervalCount{Interval: g[0].(string), Enabled: g[1].(bool), Count: n})
		}
		return out
	}
	next := 0
	for step := range 200 {
		ids := slices.Sorted(maps.Keys(held))
		switch op := rng.IntN(4); {
		case op == 0 || len(ids) == 0:
			next++
			m := api.Monitor{Meta: api.Meta{ID: fmt.Sprintf("mon_%03d", next), Revision: 1, CreatedAt: t0, UpdatedAt: t0},
				Name: fmt.Sprintf("m%03d", next), EndpointID: "ep_1", Type: api.MonitorHTTP,
				Enabled: new(rng.IntN(2) == 0), Interval: new(intervals[rng.IntN(len(intervals))])}
			write(t, s, func(tx Tx) error { return tx.InsertMonitor(ctx, m) })
			held[m.ID] = m
		case op == 3:
			id := ids[rng.IntN(len(ids))]
			write(t, s, func(tx Tx) error { return tx.DeleteMonitor(ctx, id) })
			delete(held, id)
		default:
			m := held[ids[rng.IntN(len(ids))]]
			switch rng.IntN(4) {
			case 0:
				m.Interval = new(intervals[rng.IntN(len(intervals))])
			case 1:
				m.Enabled = new(!*m.Enabled)
			case 2:
				m.Interval, m.Enabled = new(intervals[rng.IntN(len(intervals))]), new(!*m.Enabled)
			case 3:
				m.Name += "x" // neither
			}
			m.Revision++
			write(t, s, func(tx Tx) error { return tx.UpdateMonitor(ctx, m) })
			held[m.ID] = m
		}
		got, err := s.MonitorIntervals(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if want := expect(""); !sameCounts(got, want) {
			t.Fatalf("step %d: MonitorIntervals = %v, want %v", step, got, want)
		}
	}
	for id := range held {
		got, err := s.MonitorIntervals(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := expect(id); !sameCounts(got, want) {
			t.Errorf("except %s: %v, want %v", id, got, want)
		}
	}
	got, err := s.MonitorIntervals(ctx, "mon_none")
	if err != nil {
		t.Fatal(err)
	}
	if want := expect(""); !sameCounts(got, want) {
		t.Errorf("except an unknown ID: %v, want %v", got, want)
	}
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
