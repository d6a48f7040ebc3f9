package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Group commit. SQLite has one writer connection and synchronous=FULL: every
// commit waits for an fsync of the WAL (about 1.5 ms on this project's
// reference disk), and while one Write commits the others queue for the
// connection. On a loaded machine, where each write holds the connection
// longer, ten clients writing at once (a burst of applies) saw a p99 of 44 ms
// for that queue, 64 ms beside the engine's results (16 and 18 ms with group
// commit; BenchmarkWriteBesideResults in internal/engine/results). So
// the Writes that are waiting when the connection frees up share one
// transaction and one commit: each runs in a savepoint of its own, so a
// Write whose fn fails (or panics) is rolled back alone, and each still
// writes its own audit event and idempotency record, as its fn does. A Write returns only after
// the shared commit, with the commit's error if it failed: nothing is
// acknowledged before it is durable.
//
// There is no goroutine of its own: the first Write to find no group being
// written leads, writes a group (itself and whoever queued meanwhile, up to
// maxGroup), then hands the lead to the next queued Write, so that a caller
// works for others for one group (and, if that group's transaction is
// lost, for the rest of it in a new one).
//
// The price of sharing: a Write's answer waits for the group's other fns
// and its commit; if one fn's failure loses the whole transaction (a full
// disk), the Writes before it in the group fail with it, though alone they
// might have been stored; and a fn sees the uncommitted rows of the Writes
// before it in the group (a name taken, an If-Match already moved on), as
// it would have seen them committed had it waited its turn. The store's
// bulk deletes and erasures do not share (writeAlone).

// maxGroup bounds a group: a group holds the writer connection for its
// Writes' time together, and the results writer and the next group wait.
const maxGroup = 32

// Write states: a queued Write can be abandoned by its caller (its context
// ended) until a leader takes it; from then on it runs and its caller waits
// for the answer.
const (
	writeQueued int32 = iota
	writeTaken
	writeAbandoned
)

type groupWrite struct {
	ctx   context.Context
	fn    func(Tx) error
	state atomic.Int32
	// done gets either the lead (lead set) or the answer, never both:
	// the lead goes only to a queued Write, an answer only to a taken one
	// in a group.
	done chan groupAnswer
}

type groupAnswer struct {
	lead bool
	err  error
	// panicValue holds what fn panicked with, for its own caller to panic
	// with again (the leader recovered it).
	panicValue any
	panicked   bool
}

type groupCommitter struct {
	mu      sync.Mutex
	queue   []*groupWrite
	leading bool
	// groups and writes count the groups committed (or failed) and the
	// Writes they carried, for tests and figures.
	groups, writes atomic.Int64
}

// join queues w and tells whether its caller leads now.
func (g *groupCommitter) join(w *groupWrite) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.leading {
		g.queue = append(g.queue, w)
		return false
	}
	g.leading = true
	w.state.Store(writeTaken)
	return true
}

// take moves up to n queued Writes that their callers did not abandon into
// batch.
func (g *groupCommitter) take(batch []*groupWrite, n int) []*groupWrite {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := 0
	for ; i < len(g.queue) && len(batch) < n; i++ {
		if w := g.queue[i]; w.state.CompareAndSwap(writeQueued, writeTaken) {
			batch = append(batch, w)
		}
	}
	g.queue = g.queue[i:]
	if len(g.queue) == 0 {
		g.queue = nil
	}
	return batch
}

// handOff gives the lead to the first queued Write, or ends leading.
func (g *groupCommitter) handOff() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(g.queue) > 0 {
		w := g.queue[0]
		g.queue = g.queue[1:]
		if w.state.CompareAndSwap(writeQueued, writeTaken) {
			w.done <- groupAnswer{lead: true}
			return
		}
	}
	g.queue = nil
	g.leading = false
}

// Write runs fn in an immediate transaction on the writer connection,
// committed together with the other Writes waiting at the time (see group
// commit above); fn's own changes are rolled back if it fails. While it
// waits for the connection it counts in WritesWaiting, so that a batch of
// probe results being written yields to it.
//
// fn may run on another Write's goroutine: it must not take a lock that
// its caller may hold around Write, nor end its goroutine
// (runtime.Goexit, t.Fatal), which would leave the group's transaction
// open; a panic is recovered and raised again in its own caller. Its
// statements run without its context's cancellation (see sqlReader).
func (s *SQLite) Write(ctx context.Context, fn func(tx Tx) error) error {
	s.waiting.Add(1)
	w := &groupWrite{ctx: ctx, fn: fn, done: make(chan groupAnswer, 1)}
	if s.group.join(w) {
		s.lead(w)
	}
	cancelled := ctx.Done()
	for {
		select {
		case a := <-w.done:
			if a.lead {
				s.lead(w)
				continue
			}
			if a.panicked {
				panic(a.panicValue)
			}
			return a.err
		case <-cancelled:
			if w.state.CompareAndSwap(writeQueued, writeAbandoned) {
				s.waiting.Add(-1)
				return ctx.Err()
			}
			// Taken: it runs now (its fn sees the ended context) and
			// the answer follows.
			cancelled = nil
		}
	}
}

// lead writes a group that starts with own (taken) and hands the lead on.
// The group is taken once the transaction has begun, so that the Writes
// that queued while the connection was busy share it. own's answer is in
// own.done when it returns.
func (s *SQLite) lead(own *groupWrite) {
	defer s.group.handOff()
	tx, err := s.writer.BeginTx(context.Background(), nil) // not a caller's context: the group is everyone's
	s.writeGroup(tx, err, s.group.take([]*groupWrite{own}, maxGroup))
}

// writeGroup writes batch in tx (or answers each Write with the error
// that kept the transaction from beginning) and answers each Write.
func (s *SQLite) writeGroup(tx *sql.Tx, err error, batch []*groupWrite) {
	s.group.groups.Add(1)
	s.group.writes.Add(int64(len(batch)))
	s.waiting.Add(-int32(len(batch))) //nolint:gosec // len(batch) <= maxGroup
	if err != nil {
		err = s.d.classify(err)
		for _, w := range batch {
			w.done <- groupAnswer{err: err}
		}
		return
	}
	answers := make([]groupAnswer, len(batch))
	done := make([]bool, len(batch)) // fn succeeded: its answer is the commit's
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			answers[i].err = err
			continue
		}
		a, ok, broken := s.writeOne(tx, w)
		answers[i], done[i] = a, ok
		if broken == nil {
			continue
		}
		// SQLite rolled the whole transaction back (a full disk, an I/O
		// error): what ran before is gone with it, and what did not run
		// yet gets a transaction of its own.
		_ = tx.Rollback()
		lost := groupLost(s.d.classify(broken))
		for j := range i {
			if done[j] {
				answers[j].err, done[j] = lost, false
			}
		}
		for j := range i + 1 {
			batch[j].done <- answers[j]
		}
		if rest := batch[i+1:]; len(rest) > 0 {
			s.waiting.Add(int32(len(rest))) //nolint:gosec // len(rest) < maxGroup
			tx, err := s.writer.BeginTx(context.Background(), nil)
			s.writeGroup(tx, err, rest)
		}
		return
	}
	cerr := s.d.classify(tx.Commit())
	for i, w := range batch {
		if done[i] {
			answers[i].err = cerr
		}
		w.done <- answers[i]
	}
}

// groupLost is the answer of a Write whose changes were lost with its
// group's transaction because of another Write. A full disk is named as
// such (its caller answers 503 and the client retries); any other cause is
// another request's error, which must not reach this caller as its own
// (a 404 or 409 about someone else's object), so it is not wrapped.
func groupLost(cause error) error {
	if errors.Is(cause, ErrStorageFull) {
		return fmt.Errorf("store: rolled back with its group's transaction: %w", ErrStorageFull)
	}
	return errors.New("store: rolled back with its group's transaction after another write failed")
}

// writeOne runs one Write's fn in a savepoint of tx. ok says fn succeeded
// (its answer is the commit's); broken, that the transaction is gone.
func (s *SQLite) writeOne(tx *sql.Tx, w *groupWrite) (a groupAnswer, ok bool, broken error) {
	if _, err := tx.Exec(`SAVEPOINT write`); err != nil {
		return groupAnswer{err: s.d.classify(err)}, false, err
	}
	p, panicked, err := runWrite(w.fn, sqlTx{sqlReader{q: tx, d: s.d, detached: true}})
	if err == nil && !panicked {
		if _, err := tx.Exec(`RELEASE write`); err != nil {
			return groupAnswer{err: s.d.classify(err)}, false, err
		}
		return groupAnswer{}, true, nil
	}
	a = groupAnswer{err: s.d.classify(err), panicValue: p, panicked: panicked}
	// ROLLBACK TO fails only when there is no savepoint any more: SQLite
	// rolled the whole transaction back.
	if _, rerr := tx.Exec(`ROLLBACK TO write`); rerr != nil {
		if err == nil {
			err = rerr
		}
		return a, false, err
	}
	if _, rerr := tx.Exec(`RELEASE write`); rerr != nil {
		return a, false, rerr
	}
	return a, false, nil
}

// runWrite calls fn, recovering a panic for the Write's own caller.
func runWrite(fn func(Tx) error, tx Tx) (p any, panicked bool, err error) {
	panicked = true
	defer func() {
		if panicked {
			p = recover()
		}
	}()
	err = fn(tx)
	return nil, false, err
}
