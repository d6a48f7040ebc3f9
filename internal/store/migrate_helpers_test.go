package store

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
)

// sqliteAtVersion creates a SQLite file in a temporary directory with the
// schema an older aiod left, every migration up to version applied, and
// returns its path and an open connection to it (closed at the end of the
// test if the test has not closed it).
func sqliteAtVersion(t *testing.T, version int64) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "aio.db")
	if err := createPrivate(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := migrationProvider(t, db).UpTo(t.Context(), version); err != nil {
		t.Fatal(err)
	}
	return path, db
}

// migrationProvider is a goose provider of the SQLite migrations on db,
// for tests that migrate up or down to a version.
func migrationProvider(t *testing.T, db *sql.DB) *goose.Provider {
	t.Helper()
	sub, err := fs.Sub(sqliteMigrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithGoMigrations(goMigrations()...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
