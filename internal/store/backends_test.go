package store

// Every contract suite runs on every backend, each backend a subtest of the
// suite: a backend joins all of them with one entry in backends.

import (
	"path/filepath"
	"sync"
	"testing"
)

// backend is one Store implementation that the contract suites run on.
type backend struct {
	name string
	// fresh makes a new, empty database and returns what open needs to
	// reach it (a file for SQLite; a connection string for a server).
	fresh func(t *testing.T) string
	// open opens a store on a database made by fresh and closes it with
	// t.Cleanup; Close must be safe to call twice.
	open func(t *testing.T, db string) Store
}

// backends lists every backend. PostgreSQL joins as one more entry.
var backends = []backend{{
	name:  "SQLite",
	fresh: func(t *testing.T) string { return filepath.Join(t.TempDir(), "aio.db") },
	open:  func(t *testing.T, db string) Store { return openSQLite(t, db) },
}}

// newStore opens a store on a new, empty database.
func (b backend) newStore(t *testing.T) Store { return b.open(t, b.fresh(t)) }

// reopening returns the open function runContract wants: a store on a new,
// empty database the first time it is called for a t, and a new store on
// that same database when it is called again for the same t.
func (b backend) reopening() func(t *testing.T) Store {
	var (
		mu  sync.Mutex
		dbs = map[*testing.T]string{}
	)
	return func(t *testing.T) Store {
		mu.Lock()
		db, ok := dbs[t]
		if !ok {
			db = b.fresh(t)
			dbs[t] = db
		}
		mu.Unlock()
		return b.open(t, db)
	}
}

// forEachBackend runs suite on every backend, each as a subtest named
// after the backend.
func forEachBackend(t *testing.T, suite func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { suite(t, b) })
	}
}

func TestContract(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) { runContract(t, b.reopening()) })
}

func TestContractCredentials(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) { runCredentialContract(t, b.newStore) })
}

func TestContractMonitorLoad(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) { runMonitorLoadContract(t, b.newStore) })
}

func TestContractResults(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) { runResultsContract(t, b.newStore) })
}

func TestContractAlerting(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) { runAlertingContract(t, b.reopening()) })
}

func TestContractRetention(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) { runRetentionContract(t, b.reopening()) })
}
