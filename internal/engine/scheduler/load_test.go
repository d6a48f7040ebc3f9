package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// TestFullReloadPageByPage checks the periodic full reload over more than
// two pages of monitors and endpoints (store.MaxLimit each): a monitor or
// endpoint whose revision did not change keeps the copy the schedule
// holds and its phase, a changed one is taken anew, and one deleted,
// disabled or gone from any page leaves.
func TestFullReloadPageByPage(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	n := 2*store.MaxLimit + 100
	eps := make([]api.Endpoint, n)
	mons := make([]api.Monitor, n)
	f.write(func(tx store.Tx) error {
		for i := range n {
			eps[i] = api.Endpoint{Meta: api.Meta{ID: fmt.Sprintf("%sp%05d", api.PrefixEndpoint, i), Revision: 1, CreatedAt: t0, UpdatedAt: t0},
				Name: fmt.Sprintf("ep-%05d", i), URL: fmt.Sprintf("http://127.0.0.1:9/%d", i), DataClassification: api.ClassInternal}
			if err := tx.InsertEndpoint(f.ctx, eps[i]); err != nil {
				return err
			}
			mons[i] = api.Monitor{Meta: api.Meta{ID: fmt.Sprintf("%sp%05d", api.PrefixMonitor, i), Revision: 1, CreatedAt: t0, UpdatedAt: t0},
				Name: fmt.Sprintf("mon-%05d", i), EndpointID: eps[i].ID, Type: api.MonitorHTTP, Enabled: ptr(true), Interval: ptr("10s")}
			if err := tx.InsertMonitor(f.ctx, mons[i]); err != nil {
				return err
			}
		}
		return nil
	})
	f.load()
	held := func(id string) *entry {
		t.Helper()
		f.s.mu.Lock()
		defer f.s.mu.Unlock()
		return f.s.entries[id]
	}
	if got := len(f.s.entries); got != n {
		t.Fatalf("the schedule holds %d monitors, want %d", got, n)
	}
	// Every first run is at half the interval (the fixture's Rand).
	kept, changed, disabled, deleted := mons[5], mons[store.MaxLimit+7], mons[2*store.MaxLimit+3], mons[n-1]
	keptEntry := held(kept.ID)
	keptMon, keptNext := keptEntry.mon, keptEntry.next
	keptEp := eps[store.MaxLimit+50]

	changed.Interval = ptr("20s")
	changed = f.updateMonitor(changed)
	disabled.Enabled = ptr(false)
	disabled = f.updateMonitor(disabled)
	movedEp := eps[2*store.MaxLimit+20]
	movedEp.URL = "http://127.0.0.1:9/moved"
	movedEp = f.updateEndpoint(movedEp)
	f.write(func(tx store.Tx) error {
		if err := tx.DeleteMonitor(f.ctx, deleted.ID); err != nil {
			return err
		}
		return tx.DeleteEndpoint(f.ctx, deleted.EndpointID)
	})
	f.load()

	if got := len(f.s.entries); got != n-2 {
		t.Fatalf("after the reload the schedule holds %d monitors, want %d", got, n-2)
	}
	if e := held(kept.ID); e != keptEntry || e.mon != keptMon || !e.next.Equal(keptNext) {
		t.Errorf("an unchanged monitor was not kept in place: entry %p → %p, monitor %p → %p, next %v → %v",
			keptEntry, e, keptMon, e.mon, keptNext, e.next)
	}
	if e := held(changed.ID); e == nil || e.mon.Revision != changed.Revision || e.interval != 20*time.Second ||
		!e.next.Equal(t0.Add(15*time.Second)) {
		t.Errorf("a changed monitor was not taken anew on its phase: %+v", e)
	}
	for _, id := range []string{disabled.ID, deleted.ID} {
		if e := held(id); e != nil {
			t.Errorf("monitor %s is still scheduled after it was disabled or deleted", id)
		}
	}
	f.s.mu.Lock()
	gotMoved, okMoved := f.s.snap.endpoints[movedEp.ID]
	gotKept, okKept := f.s.snap.endpoints[keptEp.ID]
	_, okDeleted := f.s.snap.endpoints[deleted.EndpointID]
	nEps := len(f.s.snap.endpoints)
	f.s.mu.Unlock()
	if !okMoved || gotMoved.URL != movedEp.URL || gotMoved.Revision != movedEp.Revision {
		t.Errorf("a changed endpoint was not taken anew: %+v", gotMoved)
	}
	if !okKept || gotKept.URL != keptEp.URL {
		t.Errorf("an unchanged endpoint was lost: %+v", gotKept)
	}
	if okDeleted || nEps != n-1 {
		t.Errorf("the deleted endpoint is still held (%v), or the snapshot holds %d endpoints, want %d", okDeleted, nEps, n-1)
	}

	// The kept monitor still runs on its phase, and the changed one on
	// its new interval from its last due time (5 s + 10 s more).
	f.tickEvery(0, 30*time.Second, time.Second)
	f.expectRuns(kept, secs(5, 15, 25))
	f.expectRuns(changed, secs(15))
}
