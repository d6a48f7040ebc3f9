package store

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/stats"
)

// TestMigrationLeanResults builds a database at the schema before
// migration 00014 (text times, REAL milliseconds, text monitor IDs), stores
// results, missed runs and rollups in that encoding, then opens it with the
// store, which upgrades it, and reads everything back through the store:
// every value must come back as it was written, seq values (and so the
// cursors of result pages) must be kept, and the upgraded store must go on
// writing and pruning.
func TestMigrationLeanResults(t *testing.T) {
	ctx := t.Context()
	path, db := sqliteAtVersion(t, 13)

	at := time.Date(2026, 1, 5, 10, 0, 0, 123456000, time.UTC)
	cert := time.Date(2026, 9, 1, 12, 0, 0, 500000000, time.UTC)
	up := api.ProbeResult{MonitorID: "mon_b", Time: at, Outcome: api.OutcomeUp, StatusCode: new(200), LatencyMS: 12.345678,
		DNSMS: new(1.5), ConnectMS: new(2.25), TLSMS: new(7.000001), FirstByteMS: new(11.2), TLSCertExpiresAt: &cert,
		BytesReceived: 512, Attempts: 1, BodyExcerpt: new("ok")}
	down := api.ProbeResult{MonitorID: "mon_b", Time: at.Add(10 * time.Second), Outcome: api.OutcomeDown, LatencyMS: 3000.25,
		BytesReceived: 0, Attempts: 3, Error: new("dial tcp: connection refused")}
	degraded := api.ProbeResult{MonitorID: "mon_a", Time: at.Add(20 * time.Second), Outcome: api.OutcomeDegraded,
		StatusCode: new(200), LatencyMS: 900, BytesReceived: 10, Attempts: 1}
	var ru stats.Rollup
	ru.Add(up)
	ru.Add(down)
	ru.Missed = 1
	old := []string{
		`INSERT INTO probe_results (seq, monitor_id, time, outcome, status_code, latency_ms, dns_ms, connect_ms, tls_ms, first_byte_ms,
			tls_cert_expires_at, bytes_received, attempts, error, body_excerpt) VALUES
			(7, 'mon_b', '2026-01-05T10:00:00.123456Z', 'up', 200, 12.345678, 1.5, 2.25, 7.000001, 11.2,
			 '2026-09-01T12:00:00.500000Z', 512, 1, NULL, 'ok'),
			(9, 'mon_b', '2026-01-05T10:00:10.123456Z', 'down', NULL, 3000.25, NULL, NULL, NULL, NULL,
			 NULL, 0, 3, 'dial tcp: connection refused', NULL),
			(12, 'mon_a', '2026-01-05T10:00:20.123456Z', 'degraded', 200, 900, NULL, NULL, NULL, NULL, NULL, 10, 1, NULL, NULL)`,
		`INSERT INTO missed_runs (seq, monitor_id, time) VALUES (3, 'mon_b', '2026-01-05T10:00:30.000000Z')`,
	}
	for _, q := range old {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, table := range []string{"rollups_minute", "rollups_hour"} {
		bucket := "2026-01-05T10:00:00.000000Z"
		if _, err := db.ExecContext(ctx, `INSERT INTO `+table+` (monitor_id, bucket_start, probes, up, degraded, down, retried,
			missed, bytes, latency_sum_ms, histogram) VALUES ('mon_b', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, bucket, ru.Probes, ru.Up,
			ru.Degraded, ru.Down, ru.Retried, ru.Missed, ru.Bytes, ru.LatencySumMS, ru.Latency.MarshalSparse()); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSQLite(t, path)
	got, next, err := s.ListResults(ctx, "mon_b", ResultQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], up) {
		t.Errorf("first result after the upgrade:\n got %+v\nwant %+v", got, up)
	}
	// The cursor names seq 7, kept by the migration.
	if want := resultCursor(at, 7); next != want {
		t.Errorf("cursor %q, want %q", next, want)
	}
	got, next, err = s.ListResults(ctx, "mon_b", ResultQuery{Limit: 1, After: next})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], down) || next != "" {
		t.Errorf("second result after the upgrade (next %q):\n got %+v\nwant %+v", next, got, down)
	}
	if got, _, err := s.ListResults(ctx, "mon_a", ResultQuery{}); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], degraded) {
		t.Errorf("mon_a after the upgrade: %+v, %v; want %+v", got, err, degraded)
	}
	outs, err := s.LatestOutcomes(ctx, "mon_b", 5)
	if err != nil || len(outs) != 2 || outs[0].Outcome != api.OutcomeDown || !outs[1].Time.Equal(at) {
		t.Errorf("latest outcomes: %+v, %v", outs, err)
	}
	// A window of whole minutes reads the converted minute rollup, a long
	// one the hour rollup; a window of the partial minute reads raw rows.
	hour := at.Truncate(time.Hour)
	for _, w := range []struct {
		name     string
		from, to time.Time
	}{
		{"minute rollup", hour, hour.Add(time.Minute)},
		{"hour rollup", hour.Add(-72 * time.Hour), hour.Add(time.Hour)},
		{"raw", at, at.Add(40 * time.Second)},
	} {
		r, _, err := s.MonitorStatus(ctx, "mon_b", w.from, w.to)
		if err != nil {
			t.Fatal(err)
		}
		if r.Probes != 2 || r.Up != 1 || r.Down != 1 || r.Missed != 1 || r.Retried != 1 || r.Bytes != 512 ||
			r.Latency.Count() != 2 || r.LatencySumMS != ru.LatencySumMS {
			t.Errorf("%s window %v–%v after the upgrade: %+v, want %+v", w.name, w.from, w.to, r, ru)
		}
	}

	// The upgraded store goes on: new results merge into the converted
	// rollup, and pruning deletes converted rows by age.
	more := up
	more.Time = at.Add(30 * time.Second)
	if err := s.WriteResults(ctx, []api.ProbeResult{more}, nil); err != nil {
		t.Fatal(err)
	}
	if r, _, err := s.MonitorStatus(ctx, "mon_b", hour, hour.Add(time.Minute)); err != nil || r.Probes != 3 {
		t.Errorf("the converted rollup should've merged the new result: %+v, %v", r, err)
	}
	n, err := s.DeleteResultsBefore(ctx, TierRaw, at.Add(time.Second), 0)
	if err != nil || n != 1 {
		t.Errorf("pruning the converted raw rows before %v: %d, %v; want 1", at.Add(time.Second), n, err)
	}
}

// TestResultKeyCacheAfterDeletes: the writer's cache of monitor keys never
// outlives a key: after a monitor's data is deleted (directly or as an
// orphan), results written for the same ID again are stored under a key
// that exists, so they are listed and cleaned like any other.
func TestResultKeyCacheAfterDeletes(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	write := func(n int) {
		t.Helper()
		r := api.ProbeResult{MonitorID: "mon_gone", Time: at.Add(time.Duration(n) * time.Second), Outcome: api.OutcomeUp,
			LatencyMS: 1, Attempts: 1}
		if err := s.WriteResults(ctx, []api.ProbeResult{r}, []MissedRun{{MonitorID: "mon_gone", Time: r.Time}}); err != nil {
			t.Fatal(err)
		}
	}
	listed := func() int {
		t.Helper()
		page, _, err := s.ListResults(ctx, "mon_gone", ResultQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return len(page)
	}
	dangling := func() int {
		t.Helper()
		var n int
		if err := s.reader.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM probe_results WHERE monitor_key NOT IN (SELECT key FROM result_monitors))
			+ (SELECT COUNT(*) FROM missed_runs WHERE monitor_key NOT IN (SELECT key FROM result_monitors))`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	write(1)
	write(2) // from the cache
	if err := s.DeleteMonitorData(ctx, "mon_gone"); err != nil {
		t.Fatal(err)
	}
	write(3)
	if n := listed(); n != 1 || dangling() != 0 {
		t.Fatalf("after DeleteMonitorData and a new write: %d listed (want 1), %d rows without a key", n, dangling())
	}
	// mon_gone has no monitor: its rows and key are orphans.
	if _, err := s.DeleteOrphanResults(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if n := listed(); n != 0 {
		t.Fatalf("the orphans should've been deleted, %d listed", n)
	}
	write(4)
	if n := listed(); n != 1 || dangling() != 0 {
		t.Fatalf("after DeleteOrphanResults and a new write: %d listed (want 1), %d rows without a key", n, dangling())
	}
	// Result, missed run and state: the minute's rollups were not written
	// yet, and the roller forgets them with the monitor's key.
	if n, err := s.DeleteOrphanResults(ctx, 0); err != nil || n != 3 {
		t.Fatalf("the new orphans should've been deleted: %d, %v", n, err)
	}
	// Another monitor's result two minutes later closes the minute: no
	// rollup of mon_gone's is written under a key that no longer exists.
	if err := s.WriteResults(ctx, []api.ProbeResult{{MonitorID: "mon_other", Time: at.Add(2 * time.Minute), Outcome: api.OutcomeUp,
		LatencyMS: 1, Attempts: 1}}, nil); err != nil {
		t.Fatal(err)
	}
	var n, rolled int
	if err := s.reader.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM rollups_minute WHERE monitor_key NOT IN (SELECT key FROM result_monitors))
		+ (SELECT COUNT(*) FROM rollups_hour WHERE monitor_key NOT IN (SELECT key FROM result_monitors)),
		(SELECT minute FROM rollup_progress)`).Scan(&n, &rolled); err != nil || n != 0 || int64(rolled) <= at.Unix() {
		t.Fatalf("%d rollups without a key (rolled to %d), %v", n, rolled, err)
	}
}

// TestMigrationLeanResultsDown: migration 00014 rolls back to the text
// encoding with the same values.
func TestMigrationLeanResultsDown(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "aio.db")
	s := openSQLite(t, path)
	at := time.Date(2026, 1, 5, 10, 0, 0, 123456000, time.UTC)
	cert := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	r := api.ProbeResult{MonitorID: "mon_a", Time: at, Outcome: api.OutcomeDegraded, StatusCode: new(200), LatencyMS: 12.345678,
		DNSMS: new(1.5), TLSCertExpiresAt: &cert, BytesReceived: 5, Attempts: 2, Error: new("slow")}
	if err := s.WriteResults(ctx, []api.ProbeResult{r}, []MissedRun{{MonitorID: "mon_a", Time: at.Add(time.Second)}}); err != nil {
		t.Fatal(err)
	}
	// Another monitor's result a minute later closes mon_a's minute: its
	// rollups are written.
	if err := s.WriteResults(ctx, []api.ProbeResult{{MonitorID: "mon_b", Time: at.Add(80 * time.Second), Outcome: api.OutcomeUp,
		Attempts: 1}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := migrationProvider(t, s.writer).DownTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	var (
		id, tm, outcome, certText, errText string
		lat, dns                           float64
		hourBucket, missedTime             string
		hourProbes                         int
	)
	if err := s.writer.QueryRowContext(ctx, `SELECT monitor_id, time, outcome, latency_ms, dns_ms, tls_cert_expires_at, error
		FROM probe_results WHERE monitor_id = 'mon_a'`).Scan(&id, &tm, &outcome, &lat, &dns, &certText, &errText); err != nil {
		t.Fatal(err)
	}
	if id != "mon_a" || tm != "2026-01-05T10:00:00.123456Z" || outcome != "degraded" || lat != 12.345678 || dns != 1.5 ||
		certText != "2026-09-01T12:00:00.000000Z" || errText != "slow" {
		t.Errorf("after the down migration: %s %s %s %v %v %s %s", id, tm, outcome, lat, dns, certText, errText)
	}
	if err := s.writer.QueryRowContext(ctx, `SELECT time FROM missed_runs`).Scan(&missedTime); err != nil ||
		missedTime != "2026-01-05T10:00:01.123456Z" {
		t.Errorf("missed run after the down migration: %q, %v", missedTime, err)
	}
	if err := s.writer.QueryRowContext(ctx, `SELECT bucket_start, probes FROM rollups_hour`).Scan(&hourBucket, &hourProbes); err != nil ||
		hourBucket != "2026-01-05T10:00:00.000000Z" || hourProbes != 1 {
		t.Errorf("hour rollup after the down migration: %q %d, %v", hourBucket, hourProbes, err)
	}
}
