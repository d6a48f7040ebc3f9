package store

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

func openSQLite(t *testing.T, path string) *SQLite {
	t.Helper()
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite(%q): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// TestSQLiteMigrationsAppliedOnce opens the same file three times and
// checks that goose recorded every migration exactly once.
func TestSQLiteMigrationsAppliedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aio.db")
	for range 3 {
		if err := openSQLite(t, path).Close(); err != nil {
			t.Fatal(err)
		}
	}
	files, err := fs.Glob(sqliteMigrations, "migrations/sqlite/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no migrations embedded")
	}

	db, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT version_id FROM goose_db_version WHERE version_id > 0 ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var versions []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// The versions are the SQL files' number prefixes and the Go
	// migrations' versions; numbers may have gaps when branches add
	// migrations in parallel.
	want := make([]int64, len(files))
	for i, f := range files {
		n, err := strconv.ParseInt(strings.SplitN(filepath.Base(f), "_", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("migration %s has no version prefix: %v", f, err)
		}
		want[i] = n
	}
	for _, m := range goMigrations() {
		want = append(want, m.Version)
	}
	slices.Sort(want)
	if !slices.Equal(versions, want) {
		t.Errorf("applied migrations should've been recorded once each as %v, got %v", want, versions)
	}
}

// TestSQLitePathIsNotAURI opens files whose paths mean something in a
// file: URI ('?' starts a query, '#' a fragment, '%' an escape), and checks
// that the data lands in exactly that file and is found there again.
func TestSQLitePathIsNotAURI(t *testing.T) {
	for _, dir := range []string{"with?query", "with#fragment", "with%41escape", "100%", "with space"} {
		t.Run(dir, func(t *testing.T) {
			parent := t.TempDir()
			if err := os.Mkdir(filepath.Join(parent, dir), 0o755); err != nil {
				t.Skipf("this file system refuses the name: %v", err)
			}
			path := filepath.Join(parent, dir, "aio.db")
			s := openSQLite(t, path)
			write(t, s, func(tx Tx) error { return tx.InsertEndpoint(t.Context(), endpoint("ep_1", "one")) })
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("the database should've been at %q: %v", path, err)
			}
			entries, err := os.ReadDir(parent)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name() != dir {
					t.Errorf("stray file %q next to %q", e.Name(), dir)
				}
			}
			checkEndpoint(t, getEndpoint(t, openSQLite(t, path), "ep_1"), stored(endpoint("ep_1", "one")))
		})
	}
}

// TestSQLiteDeleteEndpointRemovesTagRows checks what the contract cannot
// see: deleting an endpoint leaves no tag rows behind.
func TestSQLiteDeleteEndpointRemovesTagRows(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	endpointKind.put(t, s,
		tagged(endpoint("ep_1", "one"), map[string]string{"a": "1", "b": "2"}),
		tagged(endpoint("ep_2", "two"), map[string]string{"a": "1"}),
	)
	write(t, s, func(tx Tx) error { return tx.DeleteEndpoint(t.Context(), "ep_1") })
	var n int
	if err := s.reader.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM object_tags WHERE object_id = ?`, "ep_1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("tag rows of a deleted endpoint should've been removed, %d left", n)
	}
	err := s.reader.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM object_tags WHERE object_id = ?`, "ep_2").Scan(&n)
	if err != nil || n != 1 {
		t.Errorf("tag rows of the other endpoint should've stayed: %d, %v", n, err)
	}
}

// TestSQLiteAlertingQueriesUseTheirIndexes checks the plans of the outbox's
// hot queries: the worker's poll, the metrics and the current alerts must
// read an index, never scan tables that grow with history.
func TestSQLiteAlertingQueriesUseTheirIndexes(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	for _, c := range []struct {
		query, index string
		args         []any
	}{
		{`SELECT d.id FROM deliveries d JOIN alert_events e ON e.id = d.event_id
			WHERE d.state = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.seq LIMIT ?`,
			"deliveries_due", []any{"x", 10}},
		{`SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE state = 'pending'`, "deliveries_", nil},
		{`SELECT threshold_id FROM alert_states WHERE state IN ('pending', 'firing') AND severity = ?
			ORDER BY threshold_id, severity LIMIT ?`, "alert_states_current", []any{"critical", 10}},
		// GET /v1/alerts?endpoint_id=: the endpoint's thresholds are found
		// by their indexes, not by reading every threshold.
		{`SELECT threshold_id FROM alert_states WHERE state IN ('pending', 'firing') AND threshold_id IN
			(SELECT id FROM alert_thresholds WHERE endpoint_id = ? OR monitor_id IN (SELECT id FROM monitors WHERE endpoint_id = ?))
			ORDER BY threshold_id, severity LIMIT ?`, "alert_thresholds_endpoint", []any{"ep_1", "ep_1", 10}},
	} {
		rows, err := s.reader.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+c.query, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		// A scan of a partial index reads only the rows it holds; a scan
		// of a table reads its history.
		fullScan := slices.ContainsFunc(plan, func(l string) bool { return strings.HasPrefix(l, "SCAN ") && !strings.Contains(l, " USING ") })
		if !strings.Contains(text, c.index) || fullScan {
			t.Errorf("%s should've searched %s, plan:\n%s", c.query, c.index, text)
		}
	}
}

// crashHelperEnv marks a re-executed test binary as the process that
// TestSQLiteOutboxSurvivesSIGKILL kills. The helper writes crashHelperDB in
// its working directory: a constant path, so that no value from the
// environment flows into a file path.
const (
	crashHelperEnv = "AIO_STORE_CRASH_HELPER"
	crashHelperDB  = "aio.db"
)

// TestSQLiteOutboxSurvivesSIGKILL kills a process with SIGKILL after it
// recorded an alert event with two deliveries and delivered one of them,
// with the store still open (no checkpoint, no Close), and checks that a
// new store on the file finds the other delivery due and the delivered one
// not: the outbox's promise across a crash of aiod.
func TestSQLiteOutboxSurvivesSIGKILL(t *testing.T) {
	if os.Getenv(crashHelperEnv) == "1" {
		crashHelper(t)
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestSQLiteOutboxSurvivesSIGKILL$", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), crashHelperEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The helper prints "recorded" once both transactions committed, then
	// waits to be killed.
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "recorded\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the helper should've said recorded, got %q, %v", line, err)
	}
	// Kill is SIGKILL on Unix: no deferred function, no Close runs.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	s := openSQLite(t, filepath.Join(dir, crashHelperDB))
	due, err := s.DueDeliveries(t.Context(), alAt(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Delivery.ID != "dlv_pending" || due[0].Event.ID != "evt_1" {
		t.Errorf("after the crash, only dlv_pending should've been due, with its event, got %+v", due)
	}
	l, _, err := s.ListDeliveries(t.Context(), DeliveryQuery{State: api.DeliveryDelivered})
	if err != nil || len(l) != 1 || l[0].ID != "dlv_done" {
		t.Errorf("dlv_done should've stayed delivered, got %+v, %v", l, err)
	}
}

// crashHelper is the process TestSQLiteOutboxSurvivesSIGKILL kills.
func crashHelper(t *testing.T) {
	s, err := OpenSQLite(t.Context(), crashHelperDB)
	if err != nil {
		t.Fatal(err)
	}
	ev := alEvent("evt_1", "thr_a", 0)
	if err := s.RecordTransitions(t.Context(), AlertBatch{Events: []api.AlertEvent{ev},
		Deliveries: []api.Delivery{alDelivery("dlv_pending", ev, "chan_a"), alDelivery("dlv_done", ev, "chan_b")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordDeliveryAttempt(t.Context(), DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{
		DeliveryID: "dlv_done", At: alAt(time.Second), Status: new(200)}, State: api.DeliveryDelivered}); err != nil {
		t.Fatal(err)
	}
	fmt.Println("recorded")
	// Killed here; the deadline only ends a helper whose parent died.
	time.Sleep(time.Minute)
	t.Fatal("the helper should've been killed")
}

// TestSQLiteEraseResidue shows the copies that secure_delete leaves and
// that EraseResidue removes. Results are written in order, as probes
// write them; two of every three are deleted and then the rest anonymized,
// in batches of 500, as the retention enforcer does. The deletes thin the
// pages and SQLite rebalances them: the rebuilt pages keep copies of moved
// records in their unused space, out of reach of secure_delete. After a
// plain checkpoint such copies are in the file; after EraseResidue no
// 12-byte stretch of a deleted or anonymized text is in the file, its WAL
// or its shared-memory index, the kept texts are all still there, and the
// file passes integrity_check.
func TestSQLiteEraseResidue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aio.db")
	s := openSQLite(t, path)
	ctx := t.Context()
	const rows, keptRows = 20000, 200
	text := func(kind string, i int) string {
		if i >= rows {
			return fmt.Sprintf("kept-%s-%06d", kind, i)
		}
		return fmt.Sprintf("gone-%s-%06d", kind, i)
	}
	gone, kept := map[string]bool{}, map[string]bool{}
	window := func(set map[string]bool, v string) {
		for j := 0; j+12 <= len(v); j++ {
			set[v[j:j+12]] = true
		}
	}
	err := s.Write(ctx, func(tx Tx) error {
		t := tx.(sqlTx)
		if _, err := t.exec(ctx, `INSERT INTO result_monitors (monitor_id) VALUES ('mon_a')`); err != nil {
			return err
		}
		for i := range rows + keptRows {
			set := gone
			if i >= rows {
				set = kept
			}
			e, b := text("error", i), text("body", i)
			window(set, e)
			window(set, b)
			if _, err := t.exec(ctx, `INSERT INTO probe_results (monitor_key, time, outcome, status_code, latency_ns, bytes_received, attempts,
				error, body_excerpt) VALUES (1, ?, 3, 500, 1000000, 2, 1, ?, ?)`, i, e, b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// found counts the distinct stretches of set in the files.
	found := func(set map[string]bool) int {
		seen := map[string]bool{}
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			b, err := os.ReadFile(f)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			for i := 0; i+12 <= len(b); i++ {
				if w := string(b[i : i+12]); set[w] {
					seen[w] = true
				}
			}
		}
		return len(seen)
	}
	if n := found(gone); n != len(gone) {
		t.Fatalf("the search finds %d of the %d stretches of the written texts", n, len(gone))
	}
	batches := func(q string, args ...any) {
		for {
			r, err := s.writer.ExecContext(ctx, q, args...)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := r.RowsAffected(); n == 0 {
				return
			}
		}
	}
	batches(`DELETE FROM probe_results WHERE seq IN (SELECT seq FROM probe_results WHERE time < ? AND time % 3 <> 0 ORDER BY time LIMIT 500)`, rows)
	batches(`UPDATE probe_results SET error = ?, body_excerpt = ? WHERE seq IN (SELECT seq FROM probe_results
		WHERE error <> ? AND time < ? ORDER BY time LIMIT 500)`, api.AnonymizedText, api.AnonymizedText, api.AnonymizedText, rows)
	if err := s.checkpointTruncate(ctx); err != nil {
		t.Fatal(err)
	}
	// This could fail if SQLite ever zeroed what it moves: then the
	// scenario would no longer show why EraseResidue is needed.
	if n := found(gone); n == 0 {
		t.Errorf("after secure_delete and a checkpoint no stale copy is left: the scenario no longer shows one")
	} else {
		t.Logf("after secure_delete and a checkpoint: %d stretches of deleted or anonymized texts in the file", n)
	}
	if err := s.EraseResidue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := found(gone); n != 0 {
		t.Errorf("after EraseResidue: %d stretches of deleted or anonymized texts are still on disk", n)
	}
	if n := found(kept); n != len(kept) {
		t.Errorf("after EraseResidue: %d of the %d stretches of the kept texts are in the file, want all", n, len(kept))
	}
	var ok string
	if err := s.writer.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check after EraseResidue: %q %v", ok, err)
	}
	var all, anon int
	if err := s.writer.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE error = ?) FROM probe_results`,
		api.AnonymizedText).Scan(&all, &anon); err != nil || all != rows/3+1+keptRows || anon != rows/3+1 {
		t.Errorf("after EraseResidue: %d results, %d anonymized (%v); want %d, %d", all, anon, err, rows/3+1+keptRows, rows/3+1)
	}
}

// TestSQLitePingChecksBothPools: Ping fails when either the writer or the
// reader pool is unusable, not only the first it checks.
func TestSQLitePingChecksBothPools(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "ping.db"))
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping of an open store: %v", err)
	}
	if err := s.reader.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping succeeded with the reader pool closed")
	}

	w := openSQLite(t, filepath.Join(t.TempDir(), "ping-writer.db"))
	if err := w.writer.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Ping(ctx); err == nil {
		t.Error("Ping succeeded with the writer pool closed")
	}
}

// TestSQLiteFullIsStorageFull: a real SQLITE_FULL (the database capped
// with max_page_count, so no filesystem needs filling) is ErrStorageFull,
// and another SQLite error (a constraint) is not: only a full disk is
// answered 503 as one.
func TestSQLiteFullIsStorageFull(t *testing.T) {
	ctx := t.Context()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO t (v) VALUES ('a')`); err != nil {
		t.Fatal(err)
	}
	_, unique := db.ExecContext(ctx, `INSERT INTO t (v) VALUES ('a')`)
	if unique == nil {
		t.Fatal("a duplicate insert succeeded")
	}
	if sqliteDialect.isFull(unique) || errors.Is(sqliteDialect.classify(unique), ErrStorageFull) {
		t.Errorf("a constraint error (%v) is classified as a full disk", unique)
	}
	if !sqliteDialect.isUnique(unique) {
		t.Errorf("a UNIQUE violation (%v) is not classified as one", unique)
	}

	var pages int
	if err := db.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+1)); err != nil {
		t.Fatal(err)
	}
	var full error
	for i := 0; i < 100 && full == nil; i++ {
		_, full = db.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, strings.Repeat(strconv.Itoa(i), 4096))
	}
	if full == nil {
		t.Fatal("inserts past max_page_count all succeeded")
	}
	if !sqliteDialect.isFull(full) || !errors.Is(sqliteDialect.classify(full), ErrStorageFull) {
		t.Errorf("SQLITE_FULL (%v) is not classified as a full disk", full)
	}
	if got := sqliteDialect.classify(full); !strings.Contains(got.Error(), full.Error()) {
		t.Errorf("classify lost the cause: %v", got)
	}
}

// TestBackupSQLiteNamesWhyItCannotWrite: a backup to a directory that
// does not exist fails with that reason (fs.ErrNotExist, the path in the
// message); a backup to a fresh path works and
// is owner-only.
func TestBackupSQLiteNamesWhyItCannotWrite(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := filepath.Join(dir, "aiod.db")
	s := openSQLite(t, db)
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "no-such-dir", "backup.db")
	err := BackupSQLite(ctx, db, bad)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(fmt.Sprint(err), bad) {
		t.Errorf("backup into a missing directory: %v, want a not-exist error naming %s", err, bad)
	}
	good := filepath.Join(dir, "backup.db")
	if err := BackupSQLite(ctx, db, good); err != nil {
		t.Fatalf("backup: %v", err)
	}
	fi, err := os.Stat(good)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
		t.Errorf("backup mode %v, size %d; want 0600 and a database", fi.Mode().Perm(), fi.Size())
	}
	// A file already there is not overwritten (VACUUM INTO refuses it),
	// and the backup says it failed.
	taken := filepath.Join(dir, "taken.db")
	if err := os.WriteFile(taken, []byte("someone else's file"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := BackupSQLite(ctx, db, taken); err == nil {
		t.Error("backup onto an existing file reported success")
	}
	if b, err := os.ReadFile(taken); err != nil || string(b) != "someone else's file" {
		t.Errorf("the existing file was changed: %q, %v", b, err)
	}
}

// TestSQLiteDeleteThresholdRemovesTagAndLinkRows: deleting an object of a
// kind with both links and tags (alert thresholds) removes both its link
// and its tag rows, and only its own.
func TestSQLiteDeleteThresholdRemovesTagAndLinkRows(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	ctx := t.Context()
	write(t, s, func(tx Tx) error {
		if err := tx.InsertEndpoint(ctx, endpoint("ep_1", "one")); err != nil {
			return err
		}
		if err := tx.InsertMonitor(ctx, monitor("mon_1", "m1")); err != nil {
			return err
		}
		if err := tx.InsertChannel(ctx, channel("nch_1", "pager")); err != nil {
			return err
		}
		for _, id := range []string{"thr_1", "thr_2"} {
			a := threshold(id, id)
			a.Tags, a.ChannelIDs = map[string]string{"env": "prod"}, []string{"nch_1"}
			if err := tx.InsertThreshold(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	rows := func(table, id string) int {
		t.Helper()
		var n int
		if err := s.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE object_id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if rows("object_tags", "thr_1") == 0 || rows("object_links", "thr_1") == 0 {
		t.Fatalf("a tagged threshold of a monitor has %d tag and %d link rows", rows("object_tags", "thr_1"), rows("object_links", "thr_1"))
	}
	write(t, s, func(tx Tx) error { return tx.DeleteThreshold(ctx, "thr_1") })
	if n, m := rows("object_tags", "thr_1"), rows("object_links", "thr_1"); n != 0 || m != 0 {
		t.Errorf("a deleted threshold left %d tag and %d link rows", n, m)
	}
	if rows("object_tags", "thr_2") != 1 || rows("object_links", "thr_2") == 0 {
		t.Errorf("the other threshold lost its rows: %d tag, %d link", rows("object_tags", "thr_2"), rows("object_links", "thr_2"))
	}
}

// A retention policy whose stored scope cannot be read is an error, not a
// policy without that scope: a delete policy scoped to some endpoints that
// lost its scope would apply to every endpoint.
func TestSQLiteDamagedRetentionScopeIsAnError(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	for i, col := range []string{"anonymize_fields", "endpoint_ids", "endpoint_tags", "data_classifications"} {
		t.Run(col, func(t *testing.T) {
			id := fmt.Sprintf("ret_%d", i)
			p := retentionPolicy(id, "policy-"+col)
			p.EndpointTags = map[string]string{"team": "payments"}
			if err := s.Write(ctx, func(tx Tx) error { return tx.InsertRetentionPolicy(ctx, p) }); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetRetentionPolicy(ctx, id); err != nil {
				t.Fatalf("before the damage: %v", err)
			}
			// col is one of the four names above, never input.
			if _, err := s.writer.ExecContext(ctx, `UPDATE retention_policies SET `+col+` = '{"team": ' WHERE id = ?`, id); err != nil { //nolint:gosec // G202: see above.
				t.Fatal(err)
			}
			if got, err := s.GetRetentionPolicy(ctx, id); err == nil {
				t.Errorf("Get of a damaged %s: no error, %+v", col, got)
			}
			if got, _, err := s.ListRetentionPolicies(ctx, RetentionPolicyQuery{}); err == nil {
				t.Errorf("List with a damaged %s: no error, %d policies", col, len(got))
			}
			if _, err := s.writer.ExecContext(ctx, `DELETE FROM retention_policies WHERE id = ?`, id); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A migration that fails stops OpenSQLite with its error: aiod must not
// start on a schema it did not finish building. Here the file already has
// a table the first migration creates, with other columns.
func TestOpenSQLiteReportsAFailedMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aio.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE endpoints (something_else INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenSQLite(t.Context(), path)
	if err == nil {
		_ = s.Close()
		t.Fatal("OpenSQLite succeeded on a file whose migration fails")
	}
	if !strings.Contains(err.Error(), "migrate") || !strings.Contains(err.Error(), "endpoints") {
		t.Errorf("OpenSQLite: %v, want the migration's error", err)
	}
}

// The bulk writes outside group commit (writeAlone) count themselves out
// of WritesWaiting when they have the connection: a count left behind
// would make the results writer yield after every piece for ever.
func TestWriteAloneLeavesNoWaiter(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	if _, err := s.RetentionDelete(t.Context(), RetentionSelector{DataKind: api.DataProbeResults, Before: time.Now()}, 10); err != nil {
		t.Fatal(err)
	}
	if n := s.WritesWaiting(); n != 0 {
		t.Errorf("WritesWaiting after a retention delete: %d, want 0", n)
	}
}

// EachPage hands every page of a listing to fn in the listing's order,
// MaxLimit objects a page, and stops at the first error of the listing
// or of fn, returning it.
func TestEachPage(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	ctx := t.Context()
	n := MaxLimit + MaxLimit/2
	for i := range n {
		if err := s.Write(ctx, insertEndpoint(fmt.Sprintf("ep_%04d", i))); err != nil {
			t.Fatal(err)
		}
	}
	var sizes []int
	var ids []string
	if err := EachPage(ctx, s.ListEndpoints, func(page []api.Endpoint) error {
		sizes = append(sizes, len(page))
		for _, e := range page {
			ids = append(ids, e.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sizes, []int{MaxLimit, n - MaxLimit}) || len(ids) != n || !slices.IsSorted(ids) {
		t.Errorf("pages of %v with %d IDs (sorted: %v), want pages of [%d %d] with %d sorted IDs", sizes, len(ids), slices.IsSorted(ids), MaxLimit, n-MaxLimit, n)
	}
	stop := errors.New("stop")
	calls := 0
	if err := EachPage(ctx, s.ListEndpoints, func([]api.Endpoint) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn failing: %v after %d calls, want stop after 1", err, calls)
	}
	failing := func(context.Context, ListQuery) ([]api.Endpoint, string, error) { return nil, "", stop }
	calls = 0
	if err := EachPage(ctx, failing, func([]api.Endpoint) error { calls++; return nil }); !errors.Is(err, stop) || calls != 0 {
		t.Errorf("the listing failing: %v after %d calls of fn, want stop and none", err, calls)
	}
}
