package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

// SQLite is the embedded store: one writer connection that takes the write
// lock at BEGIN (immediate transactions, so two writers never deadlock on a
// lock upgrade), and a separate read-only pool that WAL lets read while the
// writer writes.
type SQLite struct {
	sqlReader
	writer *sql.DB
	reader *sql.DB
	path   string
}

var _ Store = (*SQLite)(nil)

var sqliteDialect = dialect{
	name:   "sqlite",
	rebind: func(q string) string { return q },
	isUnique: func(err error) bool {
		var se *sqlite.Error
		if errors.As(err, &se) {
			return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
		}
		return false
	},
}

func sqliteDSN(path string, readOnly bool) string {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "foreign_keys(1)")
	// FULL makes every committed configuration change durable across a
	// power loss, not only across a crash of aiod.
	v.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		v.Add("_pragma", "query_only(1)")
	} else {
		v.Set("_txlock", "immediate")
	}
	// Escaped, because in a file: URI a '?' or '#' in the path would cut
	// it short and a '%' would be decoded: another file would be opened.
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + v.Encode()
}

// OpenSQLite opens (creating if needed) the SQLite database at path and
// applies every pending migration.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	writer, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	if err := migrate(ctx, writer, goose.DialectSQLite3, sqliteMigrations, "migrations/sqlite"); err != nil {
		writer.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	reader, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		writer.Close()
		return nil, err
	}
	reader.SetMaxOpenConns(8)
	s := &SQLite{sqlReader: sqlReader{q: reader, d: sqliteDialect}, writer: writer, reader: reader, path: path}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func migrate(ctx context.Context, db *sql.DB, d goose.Dialect, fsys embed.FS, dir string) error {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(d, db, sub)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Write runs fn in one immediate transaction on the writer connection.
func (s *SQLite) Write(ctx context.Context, fn func(tx Tx) error) error {
	return writeTx(ctx, s.writer, s.d, fn)
}

func writeTx(ctx context.Context, db *sql.DB, d dialect, fn func(tx Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(sqlTx{sqlReader{q: tx, d: d}}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Ping checks both connections.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.writer.PingContext(ctx); err != nil {
		return err
	}
	return s.reader.PingContext(ctx)
}

// Close closes both pools.
func (s *SQLite) Close() error {
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// Backup writes a consistent copy of the database with VACUUM INTO, which
// reads one snapshot while writers go on. It runs on a connection of its
// own: the read pool is query-only, and the writer must stay free.
func (s *SQLite) Backup(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", sqliteDSN(s.path, false))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `VACUUM INTO ?`, path)
	return err
}
