package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
)

// stmtCache keeps statements prepared once on the writer connection for
// the writes that repeat thousands of times a minute with the same text:
// the full-size multi-row INSERTs of probe results and monitor states. At
// 5,000 probes a second SQLite spent a quarter of the results writer's CPU
// parsing those statements again for every piece of 100 results (about
// 360 µs a statement, 2 % of the whole engine's CPU).
//
// A statement is prepared on the *sql.DB, never inside a transaction: the
// writer pool has one connection, so preparing through the pool while a
// transaction holds that connection would wait for it forever. Inside a
// transaction, Tx.StmtContext then finds the statement already prepared on
// the transaction's connection and reuses it; if the connection was
// replaced meanwhile, database/sql prepares it again on the new one and
// keeps it there.
type stmtCache struct {
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
	// used counts the executions that went through a prepared statement,
	// so that tests can tell the cache from a plain exec.
	used atomic.Int64
}

// prepare makes sure each query is prepared on db. Call it outside any
// transaction on db (see stmtCache). A query that fails to prepare is left
// out: exec then runs it unprepared, as it would without a cache, and
// reports whatever is wrong with it.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB, queries ...string) {
	for _, q := range queries {
		c.mu.RLock()
		_, ok := c.stmts[q]
		c.mu.RUnlock()
		if ok {
			continue
		}
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, ok := c.stmts[q]; ok {
			// Another writer prepared it first.
			_ = st.Close()
		} else {
			if c.stmts == nil {
				c.stmts = map[string]*sql.Stmt{}
			}
			c.stmts[q] = st
		}
		c.mu.Unlock()
	}
}

// get returns the statement prepared for q, or nil.
func (c *stmtCache) get(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[q]
}

// close closes every prepared statement.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(errs...)
}

// sqlMemo keeps the text of the multi-row statements by their row count:
// building a 100-row VALUES list for every piece cost an allocation of
// several kilobytes, and the cache looks statements up by their text. It
// keeps one text per row count seen, at most resultRowsPerInsert of them:
// about 2 MB in all for both statements if every count occurs.
type sqlMemo struct {
	m sync.Map // int → string
}

func (m *sqlMemo) get(rows int, build func(int) string) string {
	if s, ok := m.m.Load(rows); ok {
		return s.(string)
	}
	s, _ := m.m.LoadOrStore(rows, build(rows))
	return s.(string)
}

var (
	insertResultsMemo sqlMemo
	upsertStatesMemo  sqlMemo
)

// insertResultsSQL is the INSERT of rows raw results.
func insertResultsSQL(rows int) string {
	return insertResultsMemo.get(rows, func(n int) string {
		return `INSERT INTO probe_results (` + resultColumns + `) VALUES ` + valuesList(n, resultColumnCount)
	})
}

// upsertStatesSQL is the upsert of rows monitor states: a state only moves
// forward in time, and a result without a certificate keeps the expiry
// seen before.
func upsertStatesSQL(rows int) string {
	return upsertStatesMemo.get(rows, func(n int) string {
		return strings.Join([]string{
			`INSERT INTO monitor_state (monitor_id, last_checked_at, last_outcome, tls_cert_expires_at) VALUES`,
			valuesList(n, 4),
			`ON CONFLICT (monitor_id) DO UPDATE SET last_checked_at = excluded.last_checked_at,
			last_outcome = excluded.last_outcome,
			tls_cert_expires_at = COALESCE(excluded.tls_cert_expires_at, monitor_state.tls_cert_expires_at)
			WHERE excluded.last_checked_at >= monitor_state.last_checked_at`,
		}, " ")
	})
}
