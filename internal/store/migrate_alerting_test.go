package store

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
)

// TestMigrationAlertingRevisionAndWindows upgrades a database of version 9
// holding a burn-rate event written as "1h/5m", a windowed event and an
// alert state: migration 00010 splits the pair into the long window and
// short_window, leaves the others alone, and leaves the state's threshold
// revision unknown (0), which the evaluator takes as unchanged. Down
// restores the pair.
func TestMigrationAlertingRevisionAndWindows(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "aio.db")
	db, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(sqliteMigrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithGoMigrations(goMigrations()...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO alert_events (id, threshold_id, threshold_name, severity, from_state, to_state, metric, metric_window, at, reminder)
		 VALUES ('evt_burn', 'thr_b', 'b', 'critical', 'ok', 'firing', 'error_budget_burn_rate', '1h/5m', '2026-01-01T00:00:00.000000Z', 0)`,
		`INSERT INTO alert_events (id, threshold_id, threshold_name, severity, from_state, to_state, metric, metric_window, at, reminder)
		 VALUES ('evt_win', 'thr_w', 'w', 'critical', 'ok', 'firing', 'error_rate_percent', '5m', '2026-01-01T00:00:01.000000Z', 0)`,
		`INSERT INTO alert_states (threshold_id, severity, state, notified) VALUES ('thr_b', 'critical', 'firing', 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := p.UpTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSQLite(t, path)
	burn, err := s.GetAlertEvent(ctx, "evt_burn")
	if err != nil {
		t.Fatal(err)
	}
	if burn.Window == nil || *burn.Window != "1h" || burn.LongWindow == nil || *burn.LongWindow != "1h" ||
		burn.ShortWindow == nil || *burn.ShortWindow != "5m" {
		t.Errorf("burn-rate event windows %v/%v/%v, want 1h/1h/5m", burn.Window, burn.LongWindow, burn.ShortWindow)
	}
	win, err := s.GetAlertEvent(ctx, "evt_win")
	if err != nil {
		t.Fatal(err)
	}
	if win.Window == nil || *win.Window != "5m" || win.LongWindow != nil || win.ShortWindow != nil {
		t.Errorf("windowed event windows %v/%v/%v, want 5m/nil/nil", win.Window, win.LongWindow, win.ShortWindow)
	}
	states, err := s.LoadAlertStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].ThresholdRevision != 0 {
		t.Errorf("states %+v, want one of revision 0 (unknown)", states)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err = goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithGoMigrations(goMigrations()...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	var w string
	if err := db.QueryRowContext(ctx, `SELECT metric_window FROM alert_events WHERE id = 'evt_burn'`).Scan(&w); err != nil {
		t.Fatal(err)
	}
	if w != "1h/5m" {
		t.Errorf("after down, metric_window %q, want 1h/5m", w)
	}
}
