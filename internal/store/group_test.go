package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// holdWriter takes the writer connection in a transaction of its own (as
// the results writer does) until the returned release is called.
func holdWriter(t *testing.T, s *SQLite) (release func()) {
	t.Helper()
	held, hold, out := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		out <- writeTx(context.Background(), s.writer, s.d, func(Tx) error { close(held); <-hold; return nil })
	}()
	<-held
	return func() {
		close(hold)
		if err := <-out; err != nil {
			t.Error(err)
		}
	}
}

// queued waits until a leader waits for the connection with n Writes
// queued behind it (and nothing else waits), so that the Writes started
// one by one line up in the order they were started.
func queued(t *testing.T, s *SQLite, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.group.mu.Lock()
		got, leading := len(s.group.queue), s.group.leading
		s.group.mu.Unlock()
		if got == n && leading && s.WritesWaiting() == n+1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d Writes queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func endpointExists(t *testing.T, s *SQLite, id string) bool {
	t.Helper()
	_, err := s.GetEndpoint(t.Context(), id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func insertEndpoint(id string) func(Tx) error {
	return func(tx Tx) error { return tx.InsertEndpoint(context.Background(), endpoint(id, "name-"+id)) }
}

// Writes that queue while the writer connection is busy are committed
// together, in one transaction, and each gets its own answer.
func TestGroupCommitSharesOneCommit(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	release := holdWriter(t, s)
	groups0, writes0 := s.group.groups.Load(), s.group.writes.Load()
	const n = 10
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- s.Write(t.Context(), insertEndpoint(fmt.Sprintf("ep_%02d", i))) }()
	}
	// One leads (waiting for the connection), the others queue behind it.
	queued(t, s, n-1)
	if got := s.WritesWaiting(); got != n {
		t.Errorf("WritesWaiting %d, want %d", got, n)
	}
	release()
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if g, w := s.group.groups.Load()-groups0, s.group.writes.Load()-writes0; g != 1 || w != n {
		t.Errorf("%d Writes in %d groups, want %d in 1", w, g, n)
	}
	for i := range n {
		if !endpointExists(t, s, fmt.Sprintf("ep_%02d", i)) {
			t.Errorf("ep_%02d was acknowledged but is not stored", i)
		}
	}
	if got := s.WritesWaiting(); got != 0 {
		t.Errorf("WritesWaiting %d after the group, want 0", got)
	}
}

// A group carries at most maxGroup Writes; the ones queued past it wait for
// the next group, and none is lost.
func TestGroupCommitBoundsAGroup(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	release := holdWriter(t, s)
	groups0, writes0 := s.group.groups.Load(), s.group.writes.Load()
	const n = maxGroup + 1
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- s.Write(t.Context(), insertEndpoint(fmt.Sprintf("ep_%02d", i))) }()
	}
	queued(t, s, n-1)
	release()
	timeout := time.After(30 * time.Second)
	for range n {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
		case <-timeout:
			t.Fatal("a queued Write was never answered")
		}
	}
	if g, w := s.group.groups.Load()-groups0, s.group.writes.Load()-writes0; g != 2 || w != n {
		t.Errorf("%d Writes in %d groups, want %d in 2 (%d, then 1)", w, g, n, maxGroup)
	}
}

// In a group, a Write whose fn fails or panics is rolled back alone; a
// Write whose context ends while it waits is not run; the others commit.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	if err := s.Write(t.Context(), insertEndpoint("ep_dup")); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, s)
	groups0 := s.group.groups.Load()
	errFn := errors.New("the handler refused")
	gctx, cancelG := context.WithCancel(t.Context())
	var ranG bool
	type write struct {
		name string
		ctx  context.Context
		fn   func(Tx) error
	}
	writes := []write{
		{"ok-first", t.Context(), func(tx Tx) error {
			// Ends g's context after g was taken into the group.
			cancelG()
			return insertEndpoint("ep_a")(tx)
		}},
		{"fails", t.Context(), func(tx Tx) error {
			if err := insertEndpoint("ep_b")(tx); err != nil {
				return err
			}
			return errFn
		}},
		{"duplicate", t.Context(), insertEndpoint("ep_dup")},
		{"panics", t.Context(), func(tx Tx) error {
			if err := insertEndpoint("ep_d")(tx); err != nil {
				return err
			}
			panic("kaboom in a group")
		}},
		{"cancelled-in-group", gctx, func(Tx) error { ranG = true; return nil }},
		{"ok-last", t.Context(), insertEndpoint("ep_e")},
	}
	type answer struct {
		err      error
		panicked any
	}
	answers := make([]chan answer, len(writes))
	for i, w := range writes {
		answers[i] = make(chan answer, 1)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					answers[i] <- answer{panicked: p}
				}
			}()
			answers[i] <- answer{err: s.Write(w.ctx, w.fn)}
		}()
		// In this order: the first leads, the rest queue behind it.
		queued(t, s, i)
	}
	release()
	got := map[string]answer{}
	for i, w := range writes {
		got[w.name] = <-answers[i]
	}
	if a := got["ok-first"]; a.err != nil || a.panicked != nil {
		t.Errorf("ok-first: %+v", a)
	}
	if a := got["ok-last"]; a.err != nil || a.panicked != nil {
		t.Errorf("ok-last: %+v", a)
	}
	if a := got["fails"]; !errors.Is(a.err, errFn) {
		t.Errorf("fails: %+v, want its own error", a)
	}
	if a := got["duplicate"]; !errors.Is(a.err, ErrConflict) {
		t.Errorf("duplicate: %+v, want ErrConflict", a)
	}
	if a := got["panics"]; a.panicked != "kaboom in a group" {
		t.Errorf("panics: %+v, want its panic in its own goroutine", a)
	}
	if a := got["cancelled-in-group"]; !errors.Is(a.err, context.Canceled) || ranG {
		t.Errorf("cancelled-in-group: %+v (fn ran: %v), want context.Canceled and fn not run", a, ranG)
	}
	if g := s.group.groups.Load() - groups0; g != 1 {
		t.Errorf("%d groups, want 1", g)
	}
	for id, want := range map[string]bool{"ep_a": true, "ep_b": false, "ep_d": false, "ep_e": true, "ep_dup": true} {
		if got := endpointExists(t, s, id); got != want {
			t.Errorf("%s stored: %v, want %v", id, got, want)
		}
	}
}

// A Write whose context ends while it is queued returns at once, and its
// fn never runs.
func TestGroupCommitAbandonedWrite(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	release := holdWriter(t, s)
	lead := make(chan error, 1)
	go func() { lead <- s.Write(t.Context(), insertEndpoint("ep_lead")) }()
	queued(t, s, 0)
	ctx, cancel := context.WithCancel(t.Context())
	ran := false
	out := make(chan error, 1)
	go func() { out <- s.Write(ctx, func(Tx) error { ran = true; return nil }) }()
	queued(t, s, 1)
	cancel()
	if err := <-out; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned Write returned %v", err)
	}
	if got := s.WritesWaiting(); got != 1 {
		t.Errorf("WritesWaiting %d after the abandon, want 1 (the leader)", got)
	}
	release()
	if err := <-lead; err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("the abandoned Write's fn ran")
	}
	// The lead was not handed to the abandoned Write: the next one leads.
	if err := s.Write(t.Context(), insertEndpoint("ep_next")); err != nil {
		t.Fatal(err)
	}
	if !endpointExists(t, s, "ep_lead") || !endpointExists(t, s, "ep_next") {
		t.Error("a Write was acknowledged but is not stored")
	}
}

// When a Write's failure takes the whole transaction with it (SQLite rolls
// a transaction back on some errors, such as a full disk or an I/O error;
// here fn rolls it back itself), the Writes before it in the group are
// answered with an error and are not stored, and those after it run in a
// transaction of their own.
func TestGroupCommitTransactionLostMidGroup(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	release := holdWriter(t, s)
	errGone := errors.New("the transaction went away")
	fns := []func(Tx) error{
		insertEndpoint("ep_before"),
		func(tx Tx) error {
			if _, err := tx.(sqlTx).exec(context.Background(), `ROLLBACK`); err != nil {
				return err
			}
			return errGone
		},
		insertEndpoint("ep_after1"),
		insertEndpoint("ep_after2"),
	}
	outs := make([]chan error, len(fns))
	for i, fn := range fns {
		outs[i] = make(chan error, 1)
		go func() { outs[i] <- s.Write(t.Context(), fn) }()
		queued(t, s, i)
	}
	groups0 := s.group.groups.Load()
	release()
	errs := make([]error, len(fns))
	for i := range fns {
		errs[i] = <-outs[i]
	}
	// The Write before is told its changes were lost, but not given the
	// other request's error as its own.
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "rolled back with its group's transaction") || errors.Is(errs[0], errGone) {
		t.Errorf("the Write before: %v, want the group's loss, without the other Write's error", errs[0])
	}
	if !errors.Is(errs[1], errGone) {
		t.Errorf("the failing Write: %v", errs[1])
	}
	if errs[2] != nil || errs[3] != nil {
		t.Errorf("the Writes after: %v, %v; want them stored in a transaction of their own", errs[2], errs[3])
	}
	if g := s.group.groups.Load() - groups0; g != 2 {
		t.Errorf("%d groups, want 2 (the lost one, then the rest)", g)
	}
	for id, want := range map[string]bool{"ep_before": false, "ep_after1": true, "ep_after2": true} {
		if got := endpointExists(t, s, id); got != want {
			t.Errorf("%s stored: %v, want %v", id, got, want)
		}
	}
	if err := s.Write(t.Context(), insertEndpoint("ep_later")); err != nil {
		t.Fatalf("a later Write: %v", err)
	}

	// The failing Write last in its group: nothing is left to run again.
	release = holdWriter(t, s)
	last := []func(Tx) error{insertEndpoint("ep_before2"), fns[1]}
	for i, fn := range last {
		outs[i] = make(chan error, 1)
		go func() { outs[i] <- s.Write(t.Context(), fn) }()
		queued(t, s, i)
	}
	groups0 = s.group.groups.Load()
	release()
	if err := <-outs[0]; err == nil {
		t.Error("the Write before the loss was acknowledged")
	}
	if err := <-outs[1]; !errors.Is(err, errGone) {
		t.Errorf("the failing Write: %v", err)
	}
	if g := s.group.groups.Load() - groups0; g != 1 {
		t.Errorf("%d groups, want 1: nothing was left to run", g)
	}
}

// On a real full disk (max_page_count) inside a group, every Write is
// stored exactly when it was acknowledged, whichever way SQLite handled
// the error (the statement or the whole transaction rolled back).
func TestGroupCommitFullDisk(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	ctx := t.Context()
	var pages int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+40)); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, s)
	big := func(tx Tx) error {
		e := endpoint("ep_big", "big")
		desc := strings.Repeat("x", 1<<20)
		e.Description = &desc
		return tx.InsertEndpoint(ctx, e)
	}
	fns := []func(Tx) error{insertEndpoint("ep_1"), big, insertEndpoint("ep_2"), insertEndpoint("ep_3")}
	outs := make([]chan error, len(fns))
	for i, fn := range fns {
		outs[i] = make(chan error, 1)
		go func() { outs[i] <- s.Write(ctx, fn) }()
		queued(t, s, i)
	}
	release()
	for i, id := range []string{"ep_1", "ep_big", "ep_2", "ep_3"} {
		err := <-outs[i]
		if id == "ep_big" && !errors.Is(err, ErrStorageFull) {
			t.Errorf("the big Write: %v, want ErrStorageFull", err)
		}
		if stored := endpointExists(t, s, id); stored != (err == nil) {
			t.Errorf("%s: answered %v, stored %v", id, err, stored)
		}
	}
}

// Many Writes at once, some failing, some panicking, some abandoned: each
// is stored if and only if it was acknowledged.
func TestGroupCommitAcknowledgedIsStored(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	const goroutines, each = 16, 25
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		wg    sync.WaitGroup
	)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(g)))
			for i := range each {
				id := fmt.Sprintf("ep_g%02d_%02d", g, i)
				ctx, cancel := context.WithCancel(t.Context())
				kind := rng.IntN(10)
				if kind == 0 {
					cancel()
				}
				var err error
				func() {
					defer func() {
						if p := recover(); p != nil {
							err = fmt.Errorf("panicked: %v", p)
						}
					}()
					err = s.Write(ctx, func(tx Tx) error {
						if err := insertEndpoint(id)(tx); err != nil {
							return err
						}
						switch kind {
						case 1:
							return errors.New("refused")
						case 2:
							panic("kaboom")
						}
						return nil
					})
				}()
				cancel()
				mu.Lock()
				acked[id] = err == nil
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	n := 0
	for id, ok := range acked {
		if endpointExists(t, s, id) != ok {
			t.Errorf("%s: acknowledged %v, stored %v", id, ok, !ok)
		}
		if ok {
			n++
		}
	}
	if n == 0 || n == len(acked) {
		t.Errorf("%d of %d Writes acknowledged: the mix did not happen", n, len(acked))
	}
	if w := s.WritesWaiting(); w != 0 {
		t.Errorf("WritesWaiting %d after every Write returned", w)
	}
	if g, w := s.group.groups.Load(), s.group.writes.Load(); g >= w {
		t.Errorf("%d groups for %d Writes: none shared a commit", g, w)
	}
	t.Logf("%d of %d acknowledged, %d groups for %d Writes", n, len(acked), s.group.groups.Load(), s.group.writes.Load())
}

// A caller that goes away while its fn's statement runs (a client that
// disconnects: its request's context ends) does not take the group with
// it. The driver interrupts a statement whose context ends, and SQLite
// rolls back the whole transaction on an interrupted write, so the group's
// statements run without their contexts' cancellation.
func TestGroupCommitCallerGoneMidStatement(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	if _, err := s.writer.ExecContext(t.Context(), `CREATE TABLE scratch (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, s)
	bctx, cancelB := context.WithCancel(t.Context())
	defer cancelB()
	fns := []struct {
		ctx context.Context
		fn  func(Tx) error
	}{
		{t.Context(), insertEndpoint("ep_a")},
		{bctx, func(tx Tx) error {
			// A write long enough (about a second) for its caller to go
			// away in the middle of it.
			time.AfterFunc(30*time.Millisecond, cancelB)
			_, err := tx.(sqlTx).exec(bctx, `INSERT INTO scratch WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000000) SELECT x FROM c`)
			if bctx.Err() == nil {
				t.Error("the statement ended before its caller went away: the test tested nothing")
			}
			return err
		}},
		{t.Context(), insertEndpoint("ep_c")},
	}
	outs := make([]chan error, len(fns))
	for i, f := range fns {
		outs[i] = make(chan error, 1)
		go func() { outs[i] <- s.Write(f.ctx, f.fn) }()
		queued(t, s, i)
	}
	release()
	errA, errB, errC := <-outs[0], <-outs[1], <-outs[2]
	if errA != nil || errC != nil {
		t.Errorf("the Writes beside the one whose caller went away: %v, %v; want both stored", errA, errC)
	}
	if !endpointExists(t, s, "ep_a") || !endpointExists(t, s, "ep_c") {
		t.Error("ep_a or ep_c is not stored")
	}
	var n int
	if err := s.reader.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM scratch`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if (errB == nil) != (n == 1000000) {
		t.Errorf("the Write whose caller went away answered %v with %d rows stored", errB, n)
	}
}

// A group's savepoint journal (and a statement journal) keeps the pages a
// write changes as they were before it: text that retention deletes or
// anonymizes among them. The writer keeps it in memory, never in an
// unlinked temporary file that secure_delete does not zero.
func TestGroupCommitKeepsPreImagesInMemory(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	ctx := t.Context()
	if _, err := s.writer.ExecContext(ctx, `CREATE TABLE pii (v BLOB)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, `INSERT INTO pii WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 2000)
		SELECT CAST(printf('%.1000c', 'S') AS BLOB) FROM c`); err != nil {
		t.Fatal(err)
	}
	before := deletedFiles(t)
	var during []string
	err := s.Write(ctx, func(tx Tx) error {
		// One row a statement, 2,000 of them: about 500 pages changed
		// in the savepoint, far past what a journal keeps in memory
		// before it spills (64 KiB) when temporary data goes to files.
		for id := 1; id <= 2000; id++ {
			if _, err := tx.(sqlTx).exec(ctx, `UPDATE pii SET v = zeroblob(1000) WHERE rowid = ?`, id); err != nil {
				return err
			}
		}
		during = deletedFiles(t)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var spilled []string
	for _, f := range during {
		if !slices.Contains(before, f) {
			spilled = append(spilled, f)
		}
	}
	if len(spilled) > 0 {
		t.Errorf("the write spilled to unlinked files: %v", spilled)
	}
}

// deletedFiles lists the files this process holds open that are unlinked
// (SQLite's temporary files are).
func deletedFiles(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	var out []string
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasSuffix(l, "(deleted)") {
			out = append(out, e.Name()+" "+l)
		}
	}
	return out
}

// A Write that loses its group's transaction to a full disk tells the
// Writes before it so: their changes are gone and their error is
// ErrStorageFull (answered 503, for the client to retry later), not the
// opaque loss of another request's failure.
func TestGroupCommitLostToAFullDiskSaysSo(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	release := holdWriter(t, s)
	fns := []func(Tx) error{
		insertEndpoint("ep_before"),
		func(tx Tx) error {
			if _, err := tx.(sqlTx).exec(context.Background(), `ROLLBACK`); err != nil {
				return err
			}
			return fmt.Errorf("insert endpoint: %w", ErrStorageFull)
		},
	}
	outs := make([]chan error, len(fns))
	for i, fn := range fns {
		outs[i] = make(chan error, 1)
		go func() { outs[i] <- s.Write(t.Context(), fn) }()
		queued(t, s, i)
	}
	release()
	for i := range fns {
		if err := <-outs[i]; !errors.Is(err, ErrStorageFull) {
			t.Errorf("Write %d: %v, want ErrStorageFull", i, err)
		}
	}
	if endpointExists(t, s, "ep_before") {
		t.Error("the Write before the full disk was stored although its transaction was lost")
	}
}
