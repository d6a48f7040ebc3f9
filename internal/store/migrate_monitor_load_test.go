package store

import (
	"testing"
)

// TestMigrationMonitorLoad builds a database at version 18 holding
// monitors of three groups, then opens it as aiod does: migration 00019
// fills monitor_load from the monitors there, and the triggers keep it from
// then on.
func TestMigrationMonitorLoad(t *testing.T) {
	ctx := t.Context()
	path, db := sqliteAtVersion(t, 18)
	const ts = "2026-01-01T00:00:00.000000Z"
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO endpoints (id, name, url, data_classification, revision, created_at, updated_at)
		VALUES ('ep_1', 'e1', 'https://x.example.com/', 'internal', 1, ?, ?)`, ts, ts)
	for _, m := range []struct {
		id, interval string
		enabled      int
	}{{"mon_1", "10s", 1}, {"mon_2", "10s", 1}, {"mon_3", "10s", 0}, {"mon_4", "1m", 1}} {
		exec(`INSERT INTO monitors (id, name, endpoint_id, type, enabled, interval, revision, created_at, updated_at)
			VALUES (?, ?, 'ep_1', 'http', ?, ?, 1, ?, ?)`, m.id, m.id, m.enabled, m.interval, ts, ts)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openSQLite(t, path)
	got, err := s.MonitorIntervals(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []IntervalCount{{"10s", false, 1}, {"10s", true, 2}, {"1m", true, 1}}; !sameCounts(got, want) {
		t.Errorf("after the migration: %v, want %v", got, want)
	}
	write(t, s, func(tx Tx) error { return tx.DeleteMonitor(ctx, "mon_4") })
	got, err = s.MonitorIntervals(ctx, "mon_1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []IntervalCount{{"10s", false, 1}, {"10s", true, 1}}; !sameCounts(got, want) {
		t.Errorf("after a delete, leaving mon_1 out: %v, want %v", got, want)
	}
}
