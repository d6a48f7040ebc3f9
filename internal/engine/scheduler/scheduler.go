// Package scheduler runs every enabled monitor once per interval: a
// jittered first run, bounded concurrency, no overlap (a run that comes due
// while the last is still running is skipped and counted as missed), and
// configuration changes picked up without a restart.
//
// Time: the scheduler never reads the wall clock. Tick(now) starts what is
// due at now, so tests drive it with a fake clock; Run calls Tick from a
// real timer with the injected clock's time.
package scheduler

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/probe"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Prober runs one probe; *probe.Prober is the implementation.
type Prober interface {
	Probe(ctx context.Context, t probe.Target) api.ProbeResult
}

// Sink receives what the scheduler produces; the results writer is the
// implementation.
type Sink interface {
	Record(r api.ProbeResult)
	Missed(monitorID string, at time.Time)
}

// Observer is told about every dispatch and result, for metrics. Optional.
type Observer interface {
	// Dispatched reports how late a run started relative to when it was due.
	Dispatched(lag time.Duration)
	// Completed reports a finished run.
	Completed(r api.ProbeResult, took time.Duration)
	// Missed reports a skipped run.
	Missed(monitorID string)
}

// forgetter is an Observer that also keeps per-monitor state (the
// metrics' gauges): it is told when a monitor leaves the schedule, so that
// a deleted or disabled monitor does not keep its series for ever.
type forgetter interface {
	Forget(monitorID string)
}

// DefaultResolution is the scheduler's tick. Runs due within one tick start
// together, and a burst of simultaneous probes on a small machine inflates
// the response times they record: measured with make bench-probe at 1,000
// probes/s on 2 cores, a 20ms tick gave a recorded latency p50 of 2.8ms
// (the raw client saw 0.4ms) and a 5ms tick 1.4ms, for 0.47 instead of
// 0.39 cores. Accurate figures are worth the difference.
const DefaultResolution = 5 * time.Millisecond

// Config holds the scheduler's dependencies.
type Config struct {
	Store   store.Reader
	Prober  Prober
	Sink    Sink
	Keyring *secret.Keyring
	Clock   clock.Clock
	Logger  *slog.Logger
	// Observer, when set, sees dispatches and results.
	Observer Observer
	// Workers bounds how many probes run at once (default DefaultWorkers).
	Workers int
	// ReloadEvery re-reads the whole configuration even without a change
	// notification (DefaultReloadEvery).
	ReloadEvery time.Duration
	// CredentialsEvery re-reads the credentials alone
	// (DefaultCredentialsEvery).
	CredentialsEvery time.Duration
	// Resolution is how often Run calls Tick at most (DefaultResolution).
	Resolution time.Duration
	// Rand returns a number in [0, 1) for the first-run jitter.
	Rand func() float64
}

// DefaultReloadEvery is how often the whole configuration is read again
// without a notification. Every write through the API tells the engine
// (the server's TestEveryWriteTellsTheEngine), so this is a backstop, not
// the way changes arrive; at 50,000 monitors a full read cost 1.3 s of CPU
// and a sixth of the bytes the engine allocated when it ran every 30 s.
const DefaultReloadEvery = 5 * time.Minute

// DefaultCredentialsEvery is how often the credentials alone are read
// again. `aiod keys rotate` re-wraps secrets from another process while
// aiod serves, without a notice and without changing a revision; once the
// operator drops the old key, a snapshot still holding the old wrapping
// cannot open the secret. The credentials are few, so reading them often
// costs little.
const DefaultCredentialsEvery = 30 * time.Second

// DefaultWorkers is how many probes run at once when Config.Workers is
// not set. A worker is held for the whole of a probe, so the bound must
// cover the probes that hang until their timeout, not only the fast ones:
// at 1,000 probes a second (10,000 monitors every 10 s), 5 % of targets
// hanging for a 10 s timeout keep 50 × 10 = 500 workers busy, plus about
// a hundred for the rest at tens of milliseconds each. 256 workers would
// leave runs queued behind the hung ones until they come due again and are
// missed; 1024 covers that case with room to spare. An idle worker costs
// a parked goroutine (a few KiB), and probes use no pooled connections, so
// a larger bound costs little when probes are fast.
const DefaultWorkers = 1024

// entry is one monitor in the schedule.
type entry struct {
	// mon is never changed once set, only replaced: a job holds it while
	// the entry moves on (a pointer, as a job queue of 65,536 monitors by
	// value alone took 14 MB).
	mon      *api.Monitor
	interval time.Duration // mon's effective interval
	next     time.Time
	index    int // heap position; -1 when not in the heap
	// gen is the Load that last read the monitor: one that did not is
	// gone from the store and leaves the schedule.
	gen uint64
}

// schedule is a min-heap of entries by next run.
type schedule []*entry

func (s schedule) Len() int           { return len(s) }
func (s schedule) Less(i, j int) bool { return s[i].next.Before(s[j].next) }
func (s schedule) Swap(i, j int) {
	s[i], s[j] = s[j], s[i]
	s[i].index, s[j].index = i, j
}
func (s *schedule) Push(x any) { e := x.(*entry); e.index = len(*s); *s = append(*s, e) }
func (s *schedule) Pop() any {
	old := *s
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*s = old[:len(old)-1]
	e.index = -1
	return e
}

// snapshot is the configuration the workers resolve targets from.
type snapshot struct {
	endpoints   map[string]api.Endpoint
	credentials map[string]store.CredentialRecord
}

// job is one run handed to a worker.
type job struct {
	mon *api.Monitor
	due time.Time
}

// Scheduler runs monitors.
type Scheduler struct {
	cfg Config

	mu      sync.Mutex
	entries map[string]*entry
	// loadGen counts the full reloads (see entry.gen); loaded is set once
	// one has succeeded, before which notified changes are not read alone.
	loadGen uint64
	loaded  bool
	heap    schedule
	snap    snapshot
	// inflight holds the IDs of the monitors with a run queued or
	// running. It is kept by monitor ID rather than on the entry because
	// an entry can be replaced while its run goes on (a monitor disabled
	// and enabled again, or removed by one Load and back by the next): the
	// new entry must still wait for the old run.
	inflight map[string]bool

	// lastTick is the time of the last Tick: a Tick before it means the
	// clock went back (see rebase).
	lastTick time.Time

	jobs    chan job
	reload  chan struct{}
	wg      sync.WaitGroup
	started bool

	// changed holds the objects notified since the last reload, read one
	// by one instead of reloading everything; full asks for a full reload
	// (too many changes, or a change of an unknown kind).
	changedMu sync.Mutex
	changed   map[change]struct{}
	full      bool
}

// change is one notified object.
type change struct{ kind, id string }

// maxChanges is the most notified objects a reload reads one by one; more
// than that are read with one full reload. At 50,000 monitors a full
// reload reads them all (seconds on a busy machine), and a burst of API
// writes (Terraform applying hundreds of monitors, 10 at a time) notifies
// after every one: reading each changed object keeps every reload short.
const maxChanges = 1000

// New makes a scheduler; call Load (or Run) to read the configuration.
func New(cfg Config) *Scheduler {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.ReloadEvery <= 0 {
		cfg.ReloadEvery = DefaultReloadEvery
	}
	if cfg.CredentialsEvery <= 0 {
		cfg.CredentialsEvery = DefaultCredentialsEvery
	}
	if cfg.Resolution <= 0 {
		cfg.Resolution = DefaultResolution
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	return &Scheduler{
		cfg: cfg, entries: map[string]*entry{}, inflight: map[string]bool{},
		jobs: make(chan job, 65536), reload: make(chan struct{}, 1),
	}
}

// Notify asks for the configuration to be re-read soon; it never blocks.
// The server calls it after every change of a monitor, endpoint or
// credential.
func (s *Scheduler) Notify(kind, id string) {
	s.changedMu.Lock()
	switch {
	case id == "" || (kind != api.KindMonitor && kind != api.KindEndpoint && kind != api.KindCredential):
		s.full = true
	case !s.full:
		if s.changed == nil {
			s.changed = map[change]struct{}{}
		}
		s.changed[change{kind, id}] = struct{}{}
		if len(s.changed) > maxChanges {
			s.full, s.changed = true, nil
		}
	}
	s.changedMu.Unlock()
	select {
	case s.reload <- struct{}{}:
	default:
	}
}

// Load reads the monitors, endpoints and credentials and updates the
// schedule: new enabled monitors get a jittered first run, removed or
// disabled ones leave, changed ones keep their phase unless their interval
// changed.
//
// It reads and applies them a page (store.MaxLimit objects) at a time, in
// place, and keeps the copy it holds of every monitor and endpoint whose
// revision did not change: at 50,000 monitors, reading all of them into a
// second snapshot before swapping it in held two copies of everything at
// once (with the slices' growth, 305 MB allocated per reload in
// BenchmarkLoad50k), the engine's peak RSS. Between two pages
// the snapshot mixes objects read at slightly different times, as it does
// between a change and its notification; a monitor always finds an
// endpoint read no earlier than the reload began, as endpoints are read
// first. Credentials are few and always read anew (LoadCredentials: a key
// rotation re-wraps a sealed secret without a new revision).
func (s *Scheduler) Load(ctx context.Context) error {
	st := s.cfg.Store
	s.mu.Lock()
	if s.snap.endpoints == nil {
		s.snap = snapshot{endpoints: map[string]api.Endpoint{}, credentials: map[string]store.CredentialRecord{}}
	}
	s.loadGen++
	gen := s.loadGen
	nEndpoints := len(s.snap.endpoints)
	s.mu.Unlock()

	if err := s.LoadCredentials(ctx); err != nil {
		return err
	}
	seenEp := make(map[string]struct{}, nEndpoints)
	err := store.EachPage(ctx, st.ListEndpoints, func(page []api.Endpoint) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, e := range page {
			seenEp[e.ID] = struct{}{}
			if old, ok := s.snap.endpoints[e.ID]; ok && sameRevision(old.Meta, e.Meta) {
				continue
			}
			s.snap.endpoints[e.ID] = e
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	for id := range s.snap.endpoints {
		if _, ok := seenEp[id]; !ok {
			delete(s.snap.endpoints, id)
		}
	}
	s.mu.Unlock()
	seenEp = nil

	err = store.EachPage(ctx, st.ListMonitors, func(page []api.Monitor) error {
		now := s.cfg.Clock.Now()
		s.mu.Lock()
		defer s.mu.Unlock()
		for i := range page {
			m := &page[i]
			if e, ok := s.entries[m.ID]; ok && m.IsEnabled() && sameRevision(e.mon.Meta, m.Meta) {
				e.gen = gen
				continue
			}
			if e := s.applyLocked(*m, now); e != nil {
				e.gen = gen
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, e := range s.entries {
		if e.gen != gen {
			s.removeLocked(id)
		}
	}
	s.loaded = true
	return nil
}

// LoadCredentials reads every credential again into the snapshot (see
// DefaultCredentialsEvery). A notified change may be read meanwhile
// (loadChanged), so the snapshot is updated in place rather than replaced:
// a credential that appeared during the read stays, and one read at a
// later revision than this read's is kept. Only credentials present before
// the read and absent from it leave.
func (s *Scheduler) LoadCredentials(ctx context.Context) error {
	s.mu.Lock()
	before := make([]string, 0, len(s.snap.credentials))
	for id := range s.snap.credentials {
		before = append(before, id)
	}
	s.mu.Unlock()
	creds, err := store.ListAll(ctx, s.cfg.Store.ListCredentials)
	if err != nil {
		return err
	}
	listed := make(map[string]struct{}, len(creds))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.snap.credentials == nil {
		s.snap.credentials = map[string]store.CredentialRecord{}
	}
	for _, c := range creds {
		listed[c.ID] = struct{}{}
		if cur, ok := s.snap.credentials[c.ID]; ok && cur.Revision > c.Revision {
			continue
		}
		s.snap.credentials[c.ID] = c
	}
	for _, id := range before {
		if _, ok := listed[id]; !ok {
			delete(s.snap.credentials, id)
		}
	}
	return nil
}

// sameRevision tells whether two reads of an object read the same
// revision of it.
func sameRevision(a, b api.Meta) bool {
	return a.Revision == b.Revision && a.UpdatedAt.Equal(b.UpdatedAt)
}

// applyLocked puts a monitor read from the store into the schedule, and
// returns its entry, nil when it is not scheduled (disabled); s.mu is held. A new monitor
// gets a jittered first run; a changed one keeps its phase unless its
// interval changed. A disabled one leaves the schedule.
func (s *Scheduler) applyLocked(m api.Monitor, now time.Time) *entry {
	if !m.IsEnabled() {
		s.removeLocked(m.ID)
		return nil
	}
	m.Normalize()
	e, ok := s.entries[m.ID]
	if !ok {
		// The first run is spread over the interval, so that many
		// monitors created at once do not probe in one burst.
		iv := m.EffectiveInterval()
		e = &entry{mon: &m, interval: iv, next: now.Add(time.Duration(s.cfg.Rand() * float64(iv)))}
		s.entries[m.ID] = e
		heap.Push(&s.heap, e)
		return e
	}
	if iv := m.EffectiveInterval(); iv != e.interval {
		// A new interval takes effect from the last due time.
		e.next = e.next.Add(iv - e.interval)
		e.interval = iv
		if e.index >= 0 {
			heap.Fix(&s.heap, e.index)
		}
	}
	e.mon = &m
	return e
}

// removeLocked takes a monitor out of the schedule; s.mu is held.
func (s *Scheduler) removeLocked(id string) {
	e, ok := s.entries[id]
	if !ok {
		return
	}
	if e.index >= 0 {
		heap.Remove(&s.heap, e.index)
	}
	delete(s.entries, id)
	if f, ok := s.cfg.Observer.(forgetter); ok {
		f.Forget(id)
	}
}

// loadChanged reads the notified objects one by one and applies them, as
// Load would apply them within a full reload. It returns false, having
// done nothing, when a full reload is due instead.
func (s *Scheduler) loadChanged(ctx context.Context) (bool, error) {
	s.changedMu.Lock()
	changed, full := s.changed, s.full
	s.changed, s.full = nil, false
	s.changedMu.Unlock()
	s.mu.Lock()
	loaded := s.loaded
	s.mu.Unlock()
	if full || !loaded {
		return false, nil
	}
	st := s.cfg.Store
	var (
		mons  []api.Monitor
		gone  []change
		eps   []api.Endpoint
		creds []store.CredentialRecord
	)
	for c := range changed {
		var err error
		switch c.kind {
		case api.KindMonitor:
			var m api.Monitor
			if m, err = st.GetMonitor(ctx, c.id); err == nil {
				mons = append(mons, m)
			}
		case api.KindEndpoint:
			var e api.Endpoint
			if e, err = st.GetEndpoint(ctx, c.id); err == nil {
				eps = append(eps, e)
			}
		case api.KindCredential:
			var r store.CredentialRecord
			if r, err = st.GetCredential(ctx, c.id); err == nil {
				creds = append(creds, r)
			}
		}
		if errors.Is(err, store.ErrNotFound) {
			gone, err = append(gone, c), nil
		}
		if err != nil {
			// Read them again with everything.
			s.changedMu.Lock()
			s.full = true
			s.changedMu.Unlock()
			return true, err
		}
	}
	// A monitor may come before the notification of its new endpoint
	// (another client created the endpoint a moment before): read it too.
	for _, m := range mons {
		if slices.ContainsFunc(eps, func(e api.Endpoint) bool { return e.ID == m.EndpointID }) {
			continue
		}
		s.mu.Lock()
		_, ok := s.snap.endpoints[m.EndpointID]
		s.mu.Unlock()
		if !ok {
			e, err := st.GetEndpoint(ctx, m.EndpointID)
			switch {
			case err == nil:
				eps = append(eps, e)
			case !errors.Is(err, store.ErrNotFound):
				// Read it again with everything, rather than leave the
				// monitor without its endpoint until the next full read.
				s.changedMu.Lock()
				s.full = true
				s.changedMu.Unlock()
				return true, err
			}
		}
	}
	// aiod does not notify the creation of a credential (nothing can
	// reference it yet): a monitor or endpoint that now references one
	// not in the snapshot brings it in.
	var refs []string
	for _, e := range eps {
		if e.CredentialID != nil {
			refs = append(refs, *e.CredentialID)
		}
	}
	for _, m := range mons {
		if m.Request != nil && m.Request.CredentialID != nil {
			refs = append(refs, *m.Request.CredentialID)
		}
	}
	for _, id := range refs {
		if slices.ContainsFunc(creds, func(r store.CredentialRecord) bool { return r.ID == id }) {
			continue
		}
		s.mu.Lock()
		_, ok := s.snap.credentials[id]
		s.mu.Unlock()
		if !ok {
			if r, err := st.GetCredential(ctx, id); err == nil {
				creds = append(creds, r)
			}
		}
	}
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range eps {
		s.snap.endpoints[e.ID] = e
	}
	for _, r := range creds {
		s.snap.credentials[r.ID] = r
	}
	for _, c := range gone {
		switch c.kind {
		case api.KindMonitor:
			s.removeLocked(c.id)
		case api.KindEndpoint:
			delete(s.snap.endpoints, c.id)
		case api.KindCredential:
			delete(s.snap.credentials, c.id)
		}
	}
	for _, m := range mons {
		s.applyLocked(m, now)
	}
	return true, nil
}

// Tick starts every run that is due at now. A run whose previous run is
// still going (or still queued) is skipped and reported as missed, even
// when that previous run belongs to an earlier entry of the monitor; its
// next run stays on the monitor's phase.
func (s *Scheduler) Tick(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.lastTick) {
		s.rebase(now)
	}
	s.lastTick = now
	for s.heap.Len() > 0 && !s.heap[0].next.After(now) {
		e := s.heap[0]
		due := e.next
		interval := e.interval
		e.next = due.Add(interval)
		if e.next.Before(now) {
			// Far behind (a paused process): resume on the phase after now
			// rather than firing a backlog.
			behind := now.Sub(due) / interval
			e.next = due.Add((behind + 1) * interval)
		}
		heap.Fix(&s.heap, 0)
		if s.inflight[e.mon.ID] {
			s.cfg.Sink.Missed(e.mon.ID, due)
			if s.cfg.Observer != nil {
				s.cfg.Observer.Missed(e.mon.ID)
			}
			continue
		}
		s.inflight[e.mon.ID] = true
		select {
		case s.jobs <- job{mon: e.mon, due: due}:
		default:
			// The queue is full: the run cannot start, which is a miss.
			delete(s.inflight, e.mon.ID)
			s.cfg.Sink.Missed(e.mon.ID, due)
			if s.cfg.Observer != nil {
				s.cfg.Observer.Missed(e.mon.ID)
			}
		}
	}
}

// rebase brings every run that is due more than an interval after now
// back onto its phase within the next interval. Only a clock set back puts
// runs there: without this, every monitor would stall until the clock
// caught up again (an hour set back, an hour without probes).
func (s *Scheduler) rebase(now time.Time) {
	for _, e := range s.heap {
		interval := e.interval
		if ahead := e.next.Sub(now); ahead > interval {
			e.next = e.next.Add(-((ahead - 1) / interval) * interval)
		}
	}
	heap.Init(&s.heap)
}

// NextDue returns when the next run is due, and false when nothing is
// scheduled.
func (s *Scheduler) NextDue() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.heap.Len() == 0 {
		return time.Time{}, false
	}
	return s.heap[0].next, true
}

// Start launches the workers. Run calls it; tests that drive Tick call it
// themselves.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.mu.Unlock()
	for range s.cfg.Workers {
		s.wg.Add(1)
		go s.worker(ctx)
	}
}

// Wait blocks until the workers have stopped (after ctx is done).
func (s *Scheduler) Wait() { s.wg.Wait() }

func (s *Scheduler) worker(ctx context.Context) {
	defer s.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-s.jobs:
			s.runJob(ctx, j)
		}
	}
}

func (s *Scheduler) runJob(ctx context.Context, j job) {
	start := s.cfg.Clock.Now()
	if s.cfg.Observer != nil {
		s.cfg.Observer.Dispatched(start.Sub(j.due))
	}
	defer func() {
		s.mu.Lock()
		delete(s.inflight, j.mon.ID)
		s.mu.Unlock()
	}()
	t, err := s.target(j.mon)
	var res api.ProbeResult
	if err != nil {
		msg := err.Error()
		res = api.ProbeResult{MonitorID: j.mon.ID, Time: start, Outcome: api.OutcomeDown, Attempts: 0, Error: &msg}
	} else {
		res = s.cfg.Prober.Probe(ctx, t)
	}
	if ctx.Err() != nil {
		// Shutting down: a run cut short says nothing about the target.
		return
	}
	s.cfg.Sink.Record(res)
	if s.cfg.Observer != nil {
		s.cfg.Observer.Completed(res, s.cfg.Clock.Now().Sub(start))
		// A run that ends after its monitor left the schedule must not
		// bring the monitor's series back. (A monitor back in the schedule
		// meanwhile keeps them: it is being probed again.)
		if f, ok := s.cfg.Observer.(forgetter); ok {
			s.mu.Lock()
			_, scheduled := s.entries[j.mon.ID]
			s.mu.Unlock()
			if !scheduled {
				f.Forget(j.mon.ID)
			}
		}
	}
}

// target resolves a monitor's endpoint and credential from the snapshot.
// The secret stays sealed: Open decrypts it only when the probe needs it.
func (s *Scheduler) target(m *api.Monitor) (probe.Target, error) {
	// The maps are read under the lock: loadChanged updates them in place.
	s.mu.Lock()
	ep, ok := s.snap.endpoints[m.EndpointID]
	s.mu.Unlock()
	if !ok {
		return probe.Target{}, errors.New("the monitor's endpoint no longer exists")
	}
	t := probe.Target{Monitor: *m, Endpoint: ep}
	credID := ep.CredentialID
	if m.Request != nil && m.Request.CredentialID != nil {
		credID = m.Request.CredentialID
	}
	if credID == nil {
		return t, nil
	}
	s.mu.Lock()
	rec, ok := s.snap.credentials[*credID]
	s.mu.Unlock()
	if !ok {
		return probe.Target{}, errors.New("the monitor's credential no longer exists")
	}
	kr := s.cfg.Keyring
	t.Credential = &probe.Credential{Credential: rec.Credential, Open: func(context.Context) ([]byte, error) {
		if kr == nil {
			return nil, errors.New("aiod has no encryption key to open the credential")
		}
		return kr.Open(rec.Sealed, secret.Binding{ObjectID: rec.ID, Revision: rec.SecretRevision})
	}}
	return t, nil
}

// Run loads the configuration, starts the workers and ticks until ctx is
// done, re-reading the configuration on Notify and every ReloadEvery.
func (s *Scheduler) Run(ctx context.Context) error {
	// A configuration that cannot be read now (a database not ready yet)
	// is read again on the next Notify or after CredentialsEvery (see
	// reloader): giving up here would stop probing until aiod restarts.
	if err := s.Load(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		s.cfg.Logger.Error("load monitors; will retry", "error", err)
	}
	s.Start(ctx)
	defer s.Wait()
	// Reloads read every monitor, endpoint and credential: at 10,000
	// monitors that takes a tenth of a second, during which runs must
	// still start on time. So they happen beside the ticking loop, which
	// only waits for the short merge under the lock.
	s.wg.Add(1)
	go s.reloader(ctx)
	timer := time.NewTimer(s.cfg.Resolution)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		now := s.cfg.Clock.Now()
		s.Tick(now)
		wait := s.cfg.Resolution
		if next, ok := s.NextDue(); ok {
			if d := next.Sub(s.cfg.Clock.Now()); d > wait {
				wait = min(d, time.Second)
			}
		} else {
			wait = time.Second
		}
		timer.Reset(wait)
	}
}

// reloader re-reads the configuration on Notify and every ReloadEvery.
//
// A full read that failed (at the start, or after a change could not be
// read alone) is tried again on the next CredentialsEvery tick rather than
// after ReloadEvery: until it succeeds, the schedule may miss monitors.
func (s *Scheduler) reloader(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.ReloadEvery)
	defer t.Stop()
	creds := time.NewTicker(s.cfg.CredentialsEvery)
	defer creds.Stop()
	s.mu.Lock()
	retry := !s.loaded
	s.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-creds.C:
			if !retry {
				if err := s.LoadCredentials(ctx); err != nil && ctx.Err() == nil {
					s.cfg.Logger.Error("reload credentials", "error", err)
				}
				continue
			}
			// The full read reads what was notified too.
			s.changedMu.Lock()
			s.changed, s.full = nil, false
			s.changedMu.Unlock()
		case <-s.reload:
			done, err := s.loadChanged(ctx)
			if err != nil && ctx.Err() == nil {
				s.cfg.Logger.Error("reload changed monitors; will reload all", "error", err)
				s.Notify("", "")
			}
			if done {
				continue
			}
		case <-t.C:
			// Everything, now and then, in case a change was never
			// notified: what was notified is read with it.
			s.changedMu.Lock()
			s.changed, s.full = nil, false
			s.changedMu.Unlock()
		}
		retry = false
		if err := s.Load(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("reload monitors; will retry", "error", err, "retry_in", s.cfg.CredentialsEvery)
			retry = true
		}
	}
}
