package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync/atomic"

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
	// keys caches the result_monitors keys for WriteResults.
	keys keyCache
	// sums caches WindowCounts' sums of closed rollup buckets.
	sums sumCache
	// roll holds the rollups of the minutes not yet written.
	roll roller
	// waiting counts the Write calls waiting for the writer connection:
	// WriteResultsYielding commits early for them (see WritesWaiting).
	waiting atomic.Int32
	// stmts holds the results writer's prepared statements.
	stmts stmtCache
	// group queues the Writes for group commit (group.go).
	group groupCommitter
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
	isFull: func(err error) bool {
		var se *sqlite.Error
		// The primary code: SQLITE_FULL has no extended codes today, but
		// an extended one would still be a full disk.
		return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL
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
		// Deleted and overwritten content is zeroed, not left in free
		// space: what retention deletes or anonymizes is gone from the
		// file (the WAL is truncated after such a run: see
		// EraseResidue).
		v.Add("_pragma", "secure_delete(1)")
	}
	// Escaped, because in a file: URI a '?' or '#' in the path would cut
	// it short and a '%' would be decoded: another file would be opened.
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + v.Encode()
}

// OpenSQLite opens (creating if needed) the SQLite database at path and
// applies every pending migration.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	// The file holds token hashes and sealed secrets: only the owner may
	// read it. SQLite gives the -wal and -shm files the same mode.
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	// Migrations run on a connection of their own, with temporary data in
	// files: an index built over a large table sorts more than memory
	// should hold.
	mig, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, err
	}
	mig.SetMaxOpenConns(1)
	err = migrate(ctx, mig, goose.DialectSQLite3, sqliteMigrations, "migrations/sqlite")
	if cerr := mig.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	// The writer keeps its temporary data in memory (temp_store=MEMORY):
	// the statement journal of a multi-row statement and a group commit's
	// savepoint journal (group.go) hold the pages a write changes as they
	// were before it, text that retention deletes or anonymizes among
	// them, and in files they would go to an unlinked temporary file that
	// secure_delete does not zero. What they hold is bounded by one
	// transaction's changes (batches of at most a thousand rows).
	writer, err := sql.Open("sqlite", sqliteDSN(path, false)+"&"+url.Values{"_pragma": {"temp_store(2)"}}.Encode())
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	reader, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		writer.Close()
		return nil, err
	}
	reader.SetMaxOpenConns(8)
	s := &SQLite{sqlReader: sqlReader{q: reader, d: sqliteDialect}, writer: writer, reader: reader}
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
	p, err := goose.NewProvider(d, db, sub, goose.WithGoMigrations(goMigrations()...))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// WritesWaiting counts the Write calls waiting for the writer connection
// now.
func (s *SQLite) WritesWaiting() int { return int(s.waiting.Load()) }

// writeAlone runs fn in a transaction of its own on the writer connection,
// outside group commit: the store's bulk deletes and erasures, whose
// batches would hold a group's API writes until they are done. While it
// waits for the connection it counts in WritesWaiting, as Write does.
func (s *SQLite) writeAlone(ctx context.Context, fn func(tx Tx) error) error {
	s.waiting.Add(1)
	return writeTxBegan(ctx, s.writer, s.d, fn, func() { s.waiting.Add(-1) })
}

// writeTx runs fn in a transaction of its own on db: the store's own
// writes (results, rollups) that do not go through Write.
func writeTx(ctx context.Context, db *sql.DB, d dialect, fn func(tx Tx) error) error {
	return writeTxBegan(ctx, db, d, fn, nil)
}

// writeTxBegan is writeTx calling began, when set, once the transaction
// began or failed to.
func writeTxBegan(ctx context.Context, db *sql.DB, d dialect, fn func(tx Tx) error, began func()) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if began != nil {
		began()
	}
	if err != nil {
		return d.classify(err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(sqlTx{sqlReader{q: tx, d: d}}); err != nil {
		_ = tx.Rollback()
		return d.classify(err)
	}
	return d.classify(tx.Commit())
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
	return errors.Join(s.stmts.close(), s.reader.Close(), s.writer.Close())
}

// BackupSQLite copies the SQLite database at dbPath to out, consistently
// (VACUUM INTO reads one snapshot while writers go on), while aiod may be
// running on it. It opens a connection of its own and
// applies no migration: the running aiod owns the schema. The copy gets
// owner-only permissions, like the database.
func BackupSQLite(ctx context.Context, dbPath, out string) error {
	if _, err := os.Stat(dbPath); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", sqliteDSN(dbPath, false))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := createPrivate(out); err != nil {
		return err
	}
	// VACUUM INTO wants a missing or empty file; createPrivate made an
	// empty one with the right mode.
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, out); err != nil {
		return err
	}
	return os.Chmod(out, 0o600)
}

// createPrivate creates path with mode 0600 when it does not exist.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}
