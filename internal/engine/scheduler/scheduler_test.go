package scheduler

// These tests drive the scheduler with a fake clock (Tick(now)) and real
// parts around it: the real prober against real targets on 127.0.0.1, a
// real SQLite store holding the monitors, endpoints and sealed credentials,
// and the real results writer as the sink, read back through the store.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/probe"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/results"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// waitLimit bounds every wait for something that happens in real time.
const waitLimit = 5 * time.Second

func ptr[T any](v T) *T { return &v }

// waitFor polls cond until it holds, failing the test after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitLimit, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// observer counts what the scheduler reports, and logs completions and
// forgets by monitor, as the metrics would see them.
type observer struct {
	dispatched, completed, missed atomic.Int64

	mu     sync.Mutex
	events map[string][]string
}

func (o *observer) Dispatched(time.Duration) { o.dispatched.Add(1) }
func (o *observer) Completed(r api.ProbeResult, _ time.Duration) {
	o.log(r.MonitorID, "completed")
	o.completed.Add(1)
}
func (o *observer) Missed(string)           { o.missed.Add(1) }
func (o *observer) Forget(monitorID string) { o.log(monitorID, "forget") }

func (o *observer) log(id, ev string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.events == nil {
		o.events = map[string][]string{}
	}
	o.events[id] = append(o.events[id], ev)
}

func (o *observer) history(id string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.events[id], ",")
}

// ---- targets ----

// target is an HTTP server on 127.0.0.1 that counts what reaches it. When
// blocking, a request waits until release is called (or the client gives
// up).
type target struct {
	srv      *httptest.Server
	hits     atomic.Int64
	inflight atomic.Int64
	maxIn    atomic.Int64
	status   atomic.Int64 // the status to answer, 200 when zero

	mu   sync.Mutex
	auth map[string][]string // Authorization headers seen, by path
	// allow, when set, lists the Authorization values that get a 2xx; any
	// other gets 401.
	allow map[string]bool

	block    chan struct{}
	released sync.Once
}

func newTarget(t *testing.T, blocking bool) *target {
	t.Helper()
	tg := &target{auth: map[string][]string{}}
	if blocking {
		tg.block = make(chan struct{})
	}
	tg.srv = httptest.NewServer(http.HandlerFunc(tg.serve))
	t.Cleanup(tg.srv.Close)
	// Registered after Close, so it runs before it: a blocked handler must
	// return for Close to finish.
	t.Cleanup(tg.release)
	return tg
}

func (tg *target) serve(w http.ResponseWriter, r *http.Request) {
	tg.hits.Add(1)
	n := tg.inflight.Add(1)
	defer tg.inflight.Add(-1)
	for {
		m := tg.maxIn.Load()
		if n <= m || tg.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	tg.mu.Lock()
	tg.auth[r.URL.Path] = append(tg.auth[r.URL.Path], r.Header.Get("Authorization"))
	allow := tg.allow
	tg.mu.Unlock()
	if tg.block != nil {
		select {
		case <-tg.block:
		case <-r.Context().Done():
			return
		}
	}
	if allow != nil && !allow[r.Header.Get("Authorization")] {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if s := tg.status.Load(); s != 0 {
		w.WriteHeader(int(s))
		return
	}
	_, _ = w.Write([]byte("ok"))
}

func (tg *target) release() {
	if tg.block != nil {
		tg.released.Do(func() { close(tg.block) })
	}
}

func (tg *target) seen(path string) []string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]string(nil), tg.auth[path]...)
}

// tcpTarget accepts connections on 127.0.0.1 and counts them.
type tcpTarget struct {
	ln      net.Listener
	accepts atomic.Int64
}

func newTCPTarget(t *testing.T) *tcpTarget {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tt := &tcpTarget{ln: ln}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tt.accepts.Add(1)
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); <-done })
	return tt
}

func (tt *tcpTarget) url() string { return "tcp://" + tt.ln.Addr().String() }

// ---- fixture ----

type fixture struct {
	t   *testing.T
	ctx context.Context
	clk *clock.Fake
	st  *store.SQLite
	kr  *secret.Keyring // seals the credentials in the store
	w   *results.Writer
	obs *observer
	s   *Scheduler
	seq int
}

type fixtureOptions struct {
	workers int
	// keyring is the scheduler's keyring; the store's (sealing) keyring
	// when nil and noKeyring is false.
	keyring   *secret.Keyring
	noKeyring bool
}

func newFixture(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "aio.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	kr, err := secret.NewKeyring(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, clk: clock.NewFake(t0), st: st, kr: kr, obs: &observer{}}
	f.w = results.New(st, results.Config{Clock: f.clk})
	skr := o.keyring
	if skr == nil && !o.noKeyring {
		skr = kr
	}
	// The targets listen on loopback, which the default egress policy
	// denies.
	f.s = New(Config{
		Store:    st,
		Prober:   probe.New(probe.Config{Clock: f.clk, Egress: egress.AllowLoopback()}),
		Sink:     f.w,
		Keyring:  skr,
		Clock:    f.clk,
		Observer: f.obs,
		Workers:  o.workers,
		Rand:     func() float64 { return 0.5 },
	})
	wctx, cancel := context.WithCancel(ctx)
	f.s.Start(wctx)
	// Runs before the targets close and the store closes (cleanups run
	// last-registered first).
	t.Cleanup(func() { cancel(); f.s.Wait() })
	return f
}

func (f *fixture) next(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s%04d", prefix, f.seq)
}

func (f *fixture) write(fn func(tx store.Tx) error) {
	f.t.Helper()
	if err := f.st.Write(f.ctx, fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) addEndpoint(url string, credID *string) api.Endpoint {
	f.t.Helper()
	id := f.next(api.PrefixEndpoint)
	e := api.Endpoint{Meta: api.Meta{ID: id, Revision: 1, CreatedAt: t0, UpdatedAt: t0}, Name: "ep-" + id, URL: url, DataClassification: api.ClassInternal, CredentialID: credID}
	f.write(func(tx store.Tx) error { return tx.InsertEndpoint(f.ctx, e) })
	return e
}

func (f *fixture) updateEndpoint(e api.Endpoint) api.Endpoint {
	f.t.Helper()
	e.Revision++
	f.write(func(tx store.Tx) error { return tx.UpdateEndpoint(f.ctx, e) })
	return e
}

// addMonitor stores an enabled http monitor of the endpoint with the given
// interval; mods adjust it first.
func (f *fixture) addMonitor(endpointID, interval string, mods ...func(*api.Monitor)) api.Monitor {
	f.t.Helper()
	id := f.next(api.PrefixMonitor)
	m := api.Monitor{Meta: api.Meta{ID: id, Revision: 1, CreatedAt: t0, UpdatedAt: t0}, Name: "mon-" + id, EndpointID: endpointID, Type: api.MonitorHTTP,
		Enabled: ptr(true), Interval: ptr(interval)}
	for _, mod := range mods {
		mod(&m)
	}
	f.write(func(tx store.Tx) error { return tx.InsertMonitor(f.ctx, m) })
	return m
}

func (f *fixture) updateMonitor(m api.Monitor) api.Monitor {
	f.t.Helper()
	m.Revision++
	f.write(func(tx store.Tx) error { return tx.UpdateMonitor(f.ctx, m) })
	return m
}

// addCredential seals secretText with the fixture's keyring and stores it
// as a credential of the given type.
func (f *fixture) addCredential(typ, secretText string) store.CredentialRecord {
	f.t.Helper()
	id := f.next(api.PrefixCredential)
	sealed, err := f.kr.Seal([]byte(secretText), secret.Binding{ObjectID: id, Revision: 1})
	if err != nil {
		f.t.Fatal(err)
	}
	// The local targets all listen on 127.0.0.1.
	rec := store.CredentialRecord{Credential: api.Credential{Meta: api.Meta{ID: id, Revision: 1, CreatedAt: t0, UpdatedAt: t0}, Name: "cred-" + id, Type: typ, AllowedHosts: []string{"127.0.0.1"},
		SecretRevision: 1, LastRotatedAt: ptr(t0)}, Sealed: sealed}
	f.write(func(tx store.Tx) error { return tx.InsertCredential(f.ctx, rec) })
	return rec
}

func (f *fixture) load() {
	f.t.Helper()
	if err := f.s.Load(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// tick moves the fake clock to t0+d and starts what is due then.
func (f *fixture) tick(d time.Duration) {
	f.clk.Set(t0.Add(d))
	f.s.Tick(t0.Add(d))
}

// idle tells whether no run is queued or running.
func (f *fixture) idle() bool {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	return len(f.s.jobs) == 0 && len(f.s.inflight) == 0
}

// settle waits until every started run has finished, then stores what the
// writer holds.
func (f *fixture) settle() {
	f.t.Helper()
	waitFor(f.t, "the started runs to finish", f.idle)
	if err := f.w.Flush(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// tickEvery ticks every step from `from` to `to` (inclusive), settling
// after each tick so that result times are the tick times.
func (f *fixture) tickEvery(from, to, step time.Duration) {
	f.t.Helper()
	for d := from; d <= to; d += step {
		f.tick(d)
		f.settle()
	}
}

func (f *fixture) results(monitorID string) []api.ProbeResult {
	f.t.Helper()
	rs, _, err := f.st.ListResults(f.ctx, monitorID, store.ResultQuery{Limit: store.MaxLimit})
	if err != nil {
		f.t.Fatal(err)
	}
	return rs
}

// resultOffsets returns the times of a monitor's results as offsets from t0.
func (f *fixture) resultOffsets(monitorID string) []time.Duration {
	f.t.Helper()
	var out []time.Duration
	for _, r := range f.results(monitorID) {
		out = append(out, r.Time.Sub(t0))
	}
	return out
}

func secs(ss ...float64) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = time.Duration(s * float64(time.Second))
	}
	return out
}

func sameDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (f *fixture) expectRuns(m api.Monitor, want []time.Duration) {
	f.t.Helper()
	if got := f.resultOffsets(m.ID); !sameDurations(got, want) {
		f.t.Fatalf("monitor %s ran at %v after t0, want %v", m.ID, got, want)
	}
}

// ---- tests ----

func TestJitteredFirstRunKeepsPhase(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	tg := newTarget(t, false)
	m := f.addMonitor(f.addEndpoint(tg.srv.URL, nil).ID, "10s")
	f.load()

	// Rand 0.5 of a 10 s interval: the first run is due at t0+5s.
	if next, ok := f.s.NextDue(); !ok || !next.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("first run due at %v (%v), want t0+5s", next, ok)
	}
	f.tick(4900 * time.Millisecond)
	f.settle()
	if n := f.obs.dispatched.Load() + tg.hits.Load(); n != 0 {
		t.Fatalf("something ran before the jittered first run: %d dispatches and hits", n)
	}
	f.tick(5 * time.Second)
	f.settle()
	f.expectRuns(m, secs(5))
	if tg.hits.Load() != 1 {
		t.Fatalf("target hit %d times, want 1", tg.hits.Load())
	}
	if rs := f.results(m.ID); rs[0].Outcome != api.OutcomeUp || rs[0].StatusCode == nil || *rs[0].StatusCode != 200 {
		t.Fatalf("first result: %+v", rs[0])
	}

	// The phase is kept: nothing until t0+15s, then exactly one more.
	f.tick(14900 * time.Millisecond)
	f.settle()
	f.expectRuns(m, secs(5))
	f.tick(15 * time.Second)
	f.settle()
	f.expectRuns(m, secs(5, 15))
	if next, _ := f.s.NextDue(); !next.Equal(t0.Add(25 * time.Second)) {
		t.Fatalf("next run due at %v, want t0+25s", next)
	}
}

func TestOncePerInterval(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	tg := newTarget(t, false)
	tcp := newTCPTarget(t)
	ep := f.addEndpoint(tg.srv.URL, nil)
	every10 := f.addMonitor(ep.ID, "10s")
	every5 := f.addMonitor(ep.ID, "5s", func(m *api.Monitor) { m.Request = &api.MonitorRequest{Path: ptr("/five")} })
	tcpMon := f.addMonitor(f.addEndpoint(tcp.url(), nil).ID, "20s", func(m *api.Monitor) { m.Type = api.MonitorTCP })
	f.load()

	// A minute, ticked every 500 ms.
	f.tickEvery(0, 60*time.Second, 500*time.Millisecond)

	f.expectRuns(every10, secs(5, 15, 25, 35, 45, 55))
	f.expectRuns(every5, secs(2.5, 7.5, 12.5, 17.5, 22.5, 27.5, 32.5, 37.5, 42.5, 47.5, 52.5, 57.5))
	f.expectRuns(tcpMon, secs(10, 30, 50))
	if got := tg.hits.Load(); got != 18 {
		t.Fatalf("http target hit %d times, want 18", got)
	}
	if got := len(tg.seen("/five")); got != 12 {
		t.Fatalf("/five hit %d times, want 12", got)
	}
	if got := tcp.accepts.Load(); got != 3 {
		t.Fatalf("tcp target accepted %d connections, want 3", got)
	}
	for _, m := range []api.Monitor{every10, every5, tcpMon} {
		roll, state, err := f.st.MonitorStatus(f.ctx, m.ID, t0, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if roll.Probes != int64(len(f.results(m.ID))) || roll.Up != roll.Probes || roll.Missed != 0 {
			t.Fatalf("monitor %s: rollup %+v", m.ID, roll)
		}
		if state.LastOutcome == nil || *state.LastOutcome != api.OutcomeUp {
			t.Fatalf("monitor %s: state %+v", m.ID, state)
		}
	}
	if f.obs.missed.Load() != 0 {
		t.Fatalf("%d missed runs, want none", f.obs.missed.Load())
	}

	// A tick that comes late (a paused process) runs once and resumes on
	// the phase rather than firing the backlog.
	f.tick(95 * time.Second)
	f.settle()
	f.expectRuns(every10, secs(5, 15, 25, 35, 45, 55, 95))
	if next, _ := f.s.NextDue(); next.Before(t0.Add(95 * time.Second)) {
		t.Fatalf("next run due at %v, in the past", next)
	}
	if got := f.obs.missed.Load(); got != 0 {
		t.Fatalf("a late tick fired a backlog: %d missed runs", got)
	}
	f.tick(100 * time.Second)
	f.settle()
	f.expectRuns(every10, secs(5, 15, 25, 35, 45, 55, 95))
	f.tick(105 * time.Second)
	f.settle()
	f.expectRuns(every10, secs(5, 15, 25, 35, 45, 55, 95, 105))
}

func TestSkippedOverlapIsMissed(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	tg := newTarget(t, true)
	m := f.addMonitor(f.addEndpoint(tg.srv.URL, nil).ID, "10s", func(m *api.Monitor) { m.Timeout = ptr("10s") })
	f.load()

	f.tick(5 * time.Second)
	waitFor(t, "the first probe to reach the target", func() bool { return tg.inflight.Load() == 1 })
	// Due twice more while the first probe still runs: both skipped.
	f.tick(15 * time.Second)
	f.tick(25 * time.Second)
	time.Sleep(50 * time.Millisecond) // room for a wrongly started second probe
	if got := tg.hits.Load(); got != 1 {
		t.Fatalf("target hit %d times while the first probe ran, want 1", got)
	}
	if got := f.obs.missed.Load(); got != 2 {
		t.Fatalf("observer saw %d missed runs, want 2", got)
	}
	tg.release()
	f.settle()
	if got := tg.maxIn.Load(); got != 1 {
		t.Fatalf("%d concurrent probes of one monitor, want 1", got)
	}
	f.expectRuns(m, secs(5))
	roll, _, err := f.st.MonitorStatus(f.ctx, m.ID, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if roll.Missed != 2 || roll.Probes != 1 {
		t.Fatalf("rollup: missed %d probes %d, want 2 and 1", roll.Missed, roll.Probes)
	}

	// Once the probe is done, the next run on the phase goes ahead.
	f.tick(35 * time.Second)
	f.settle()
	f.expectRuns(m, secs(5, 35))
	if got := tg.hits.Load(); got != 2 {
		t.Fatalf("target hit %d times, want 2", got)
	}
}

// TestReenabledWhileRunningDoesNotOverlap: a monitor disabled while its
// probe runs, then enabled again before that probe ends, gets a new entry
// in the schedule. Its first run must still wait for the old probe: two
// probes of one monitor never run at once, whatever the configuration did
// meanwhile.
func TestReenabledWhileRunningDoesNotOverlap(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	tg := newTarget(t, true)
	m := f.addMonitor(f.addEndpoint(tg.srv.URL, nil).ID, "10s", func(m *api.Monitor) { m.Timeout = ptr("10s") })
	f.load()

	f.tick(5 * time.Second)
	waitFor(t, "the first probe to reach the target", func() bool { return tg.inflight.Load() == 1 })
	// Disabled and enabled again while the probe hangs: the new entry's
	// jittered first run is due at t0+10s (now + half the interval).
	m.Enabled = ptr(false)
	m = f.updateMonitor(m)
	f.load()
	m.Enabled = ptr(true)
	m = f.updateMonitor(m)
	f.load()
	if next, ok := f.s.NextDue(); !ok || !next.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("re-enabled monitor due at %v (%v), want t0+10s", next, ok)
	}
	f.tick(10 * time.Second)
	time.Sleep(50 * time.Millisecond) // room for a wrongly started second probe
	if got := tg.hits.Load(); got != 1 {
		t.Fatalf("target hit %d times while the first probe ran, want 1", got)
	}
	if got := f.obs.missed.Load(); got != 1 {
		t.Fatalf("observer saw %d missed runs, want 1", got)
	}
	tg.release()
	f.settle()
	if got := tg.maxIn.Load(); got != 1 {
		t.Fatalf("%d concurrent probes of one monitor, want 1", got)
	}
	// Once the old probe is done, the new entry runs on its phase.
	f.tick(20 * time.Second)
	f.settle()
	if got := tg.hits.Load(); got != 2 {
		t.Fatalf("target hit %d times, want 2", got)
	}
	f.expectRuns(m, secs(5, 20))
	// The re-enabled monitor keeps its series: the old run, which ended
	// after its entry left the schedule, must not forget the new one.
	if got := f.obs.history(m.ID); got != "forget,completed,completed" {
		t.Fatalf("observer saw %q", got)
	}
}

// TestDefaultWorkersCoverHangingTargets: the default bound must hold the
// probes of the benchmark's load (1,000 probes a second) when 5 % of the
// targets hang until a 10 s timeout, with room for the others (100 ms
// each, generously) and a margin of half again.
func TestDefaultWorkersCoverHangingTargets(t *testing.T) {
	s := New(Config{})
	const rate, hangShare, timeout, fast = 1000.0, 0.05, 10.0, 0.1 // probes/s, share, seconds, seconds
	need := rate*hangShare*timeout + rate*(1-hangShare)*fast
	if got := float64(s.cfg.Workers); got < 1.5*need {
		t.Fatalf("default workers %v, want at least %v for %v probes in flight", got, 1.5*need, need)
	}
	if s.cfg.Workers != DefaultWorkers {
		t.Fatalf("default workers %d, want DefaultWorkers (%d)", s.cfg.Workers, DefaultWorkers)
	}
}

// TestNewFillsDefaults: New fills in every zero or negative setting with
// its documented default and keeps every setting given. Mutation testing
// found these unpinned (only Workers' default had a test).
func TestNewFillsDefaults(t *testing.T) {
	for _, cfg := range []Config{{}, {Workers: -1, ReloadEvery: -time.Second, Resolution: -time.Millisecond}} {
		s := New(cfg)
		if s.cfg.Workers != DefaultWorkers || s.cfg.ReloadEvery != 5*time.Minute || s.cfg.CredentialsEvery != 30*time.Second || s.cfg.Resolution != DefaultResolution {
			t.Errorf("New(%+v): workers %d, reload every %v, credentials every %v, resolution %v; want %d, 5m, 30s, %v",
				cfg, s.cfg.Workers, s.cfg.ReloadEvery, s.cfg.CredentialsEvery, s.cfg.Resolution, DefaultWorkers, DefaultResolution)
		}
		if s.cfg.Clock == nil || s.cfg.Logger == nil || s.cfg.Rand == nil {
			t.Errorf("New(%+v) left the clock, logger or random source nil", cfg)
		}
	}
	clk := clock.NewFake(t0)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	s := New(Config{Workers: 3, ReloadEvery: 7 * time.Second, Resolution: 2 * time.Millisecond,
		Clock: clk, Logger: logger, Rand: func() float64 { return 0.25 }})
	if s.cfg.Workers != 3 || s.cfg.ReloadEvery != 7*time.Second || s.cfg.Resolution != 2*time.Millisecond {
		t.Errorf("given settings changed: workers %d, reload every %v, resolution %v", s.cfg.Workers, s.cfg.ReloadEvery, s.cfg.Resolution)
	}
	if s.cfg.Clock != clk || s.cfg.Logger != logger || s.cfg.Rand() != 0.25 {
		t.Error("the given clock, logger or random source was replaced")
	}
}

// TestShutdownCancelsRunningProbes pins what Engine.Run documents: when
// the context ends, probes still running are cancelled (not waited for)
// and their cut-short results are discarded; results recorded before are
// kept.
func TestShutdownCancelsRunningProbes(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	slow := newTarget(t, true)
	fast := newTarget(t, false)
	hung := f.addMonitor(f.addEndpoint(slow.srv.URL, nil).ID, "10s", func(m *api.Monitor) { m.Timeout = ptr("10s") })
	done := f.addMonitor(f.addEndpoint(fast.srv.URL, nil).ID, "10s")

	// A scheduler of its own, whose workers' context the test ends.
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	s := New(Config{Store: f.st, Prober: probe.New(probe.Config{Clock: f.clk, Egress: egress.AllowLoopback()}), Sink: f.w, Clock: f.clk,
		Rand: func() float64 { return 0.5 }})
	if err := s.Load(f.ctx); err != nil {
		t.Fatal(err)
	}
	s.Start(ctx)
	f.clk.Set(t0.Add(5 * time.Second))
	s.Tick(t0.Add(5 * time.Second))
	waitFor(t, "the fast probe's result", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return !s.inflight[done.ID]
	})
	waitFor(t, "the slow probe to reach its target", func() bool { return slow.inflight.Load() == 1 })

	start := time.Now()
	cancel()
	s.Wait()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the workers took %v to stop: the running probe was waited for", d)
	}
	if err := f.w.Flush(f.ctx); err != nil {
		t.Fatal(err)
	}
	if rs := f.results(hung.ID); len(rs) != 0 {
		t.Fatalf("the cancelled probe's result was stored: %+v", rs)
	}
	f.expectRuns(done, secs(5))
}

// TestConfigurationChanges: changes take effect through a full reload,
// and through the notification of each changed object, read one by one.
// TestIntervalChangeOfTheNextRunKeepsOrder: when the monitor whose run is
// next (the top of the schedule) gets a longer interval, the schedule is
// reordered, so that another monitor due before the moved run still runs
// on time. Mutation testing: skipping the reorder for the top entry
// (e.index > 0) went unnoticed, as every other interval test has one
// monitor.
func TestIntervalChangeOfTheNextRunKeepsOrder(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	tg := newTarget(t, false)
	ep := f.addEndpoint(tg.srv.URL, nil)
	a := f.addMonitor(ep.ID, "10s")
	f.load() // a runs at 5s, 15s, ...
	f.tickEvery(0, 2*time.Second, time.Second)
	b := f.addMonitor(ep.ID, "10s")
	f.load() // b runs at 7s, 17s, ...
	f.tickEvery(3*time.Second, 8*time.Second, time.Second)

	// a is next (15s); at 20s from its last due time, it moves to 25s,
	// after b's 17s.
	a.Interval = ptr("20s")
	a = f.updateMonitor(a)
	f.load()
	f.tickEvery(9*time.Second, 27*time.Second, time.Second)
	f.expectRuns(a, secs(5, 25))
	f.expectRuns(b, secs(7, 17, 27))
}

func TestConfigurationChanges(t *testing.T) {
	t.Run("full reload", func(t *testing.T) { testConfigurationChanges(t, false) })
	t.Run("notified", func(t *testing.T) { testConfigurationChanges(t, true) })
}

func testConfigurationChanges(t *testing.T, notified bool) {
	f := newFixture(t, fixtureOptions{})
	// changed reads a change as the reloader does after a notification,
	// or reloads everything.
	changed := func(kind, id string) {
		t.Helper()
		if !notified {
			f.load()
			return
		}
		f.s.Notify(kind, id)
		if done, err := f.s.loadChanged(f.ctx); !done || err != nil {
			t.Fatalf("the change of %s %s was not read by itself: %v, %v", kind, id, done, err)
		}
	}
	tg := newTarget(t, false)
	other := newTarget(t, false)
	ep := f.addEndpoint(tg.srv.URL, nil)
	path := func(p string) func(*api.Monitor) {
		return func(m *api.Monitor) { m.Request = &api.MonitorRequest{Path: ptr(p)} }
	}
	a := f.addMonitor(ep.ID, "10s", path("/a"))
	b := f.addMonitor(ep.ID, "10s", path("/b"), func(m *api.Monitor) { m.Enabled = ptr(false) })
	f.load()

	// A disabled monitor does not run.
	f.tickEvery(0, 20*time.Second, time.Second)
	f.expectRuns(a, secs(5, 15))
	f.expectRuns(b, nil)
	if n := len(tg.seen("/b")); n != 0 {
		t.Fatalf("disabled monitor reached its target %d times", n)
	}

	// Disabling takes it out of the schedule, and out of the per-monitor
	// metrics.
	a.Enabled = ptr(false)
	a = f.updateMonitor(a)
	changed(api.KindMonitor, a.ID)
	if _, ok := f.s.NextDue(); ok {
		t.Fatal("a run is still scheduled after the only enabled monitor was disabled")
	}
	if got := f.obs.history(a.ID); got != "completed,completed,forget" {
		t.Fatalf("observer saw %q for the disabled monitor", got)
	}
	// Enabling the other one schedules its jittered first run from now.
	b.Enabled = ptr(true)
	b = f.updateMonitor(b)
	changed(api.KindMonitor, b.ID)
	f.tickEvery(21*time.Second, 40*time.Second, time.Second)
	f.expectRuns(a, secs(5, 15))
	f.expectRuns(b, secs(25, 35))

	// Deleting it takes it out too.
	f.write(func(tx store.Tx) error { return tx.DeleteMonitor(f.ctx, b.ID) })
	changed(api.KindMonitor, b.ID)
	// A monitor created now runs from its own jittered start.
	c := f.addMonitor(ep.ID, "10s", path("/c"))
	changed(api.KindMonitor, c.ID)
	f.tickEvery(41*time.Second, 60*time.Second, time.Second)
	f.expectRuns(b, secs(25, 35))
	f.expectRuns(c, secs(45, 55))
	if got := f.obs.history(b.ID); got != "completed,completed,forget" {
		t.Fatalf("observer saw %q for the deleted monitor", got)
	}

	// A longer interval takes effect from the last due time (55s): the run
	// that was due at 65s moves to 75s.
	c.Interval = ptr("20s")
	c = f.updateMonitor(c)
	changed(api.KindMonitor, c.ID)
	f.tickEvery(61*time.Second, 79*time.Second, time.Second)
	f.expectRuns(c, secs(45, 55, 75))
	// A shorter one too: 75s + 5s.
	c.Interval = ptr("5s")
	c = f.updateMonitor(c)
	changed(api.KindMonitor, c.ID)
	f.tickEvery(80*time.Second, 90*time.Second, time.Second)
	f.expectRuns(c, secs(45, 55, 75, 80, 85, 90))

	// Pointing the endpoint elsewhere: the next probe reaches the new
	// target, the old one hears nothing more.
	before := len(tg.seen("/c"))
	ep.URL = other.srv.URL
	ep = f.updateEndpoint(ep)
	changed(api.KindEndpoint, ep.ID)
	f.tickEvery(91*time.Second, 100*time.Second, time.Second)
	f.expectRuns(c, secs(45, 55, 75, 80, 85, 90, 95, 100))
	if got := len(tg.seen("/c")); got != before {
		t.Fatalf("old target hit %d more times after the endpoint moved", got-before)
	}
	if got := len(other.seen("/c")); got != 2 {
		t.Fatalf("new target hit %d times, want 2", got)
	}
	if got := len(tg.seen("/a")); got != 2 {
		t.Fatalf("disabled monitor's target hit %d times, want 2 (before it was disabled)", got)
	}
	if !notified {
		return
	}
	// A monitor notified before its new endpoint (another client created
	// the endpoint): the endpoint is read with it, and the probes run.
	ep2 := f.addEndpoint(other.srv.URL, nil)
	d := f.addMonitor(ep2.ID, "10s", path("/d"))
	changed(api.KindMonitor, d.ID)
	f.tickEvery(101*time.Second, 120*time.Second, time.Second)
	f.expectRuns(d, secs(105, 115))
	for _, r := range f.results(d.ID) {
		if r.Outcome != api.OutcomeUp {
			t.Fatalf("a probe of the monitor on the new endpoint was %s: %v", r.Outcome, r.Error)
		}
	}
	// aiod does not notify a credential's creation: the endpoint or the
	// monitor that first references it brings it into the snapshot, and
	// the probes carry its secret.
	other.mu.Lock()
	other.allow = map[string]bool{"Bearer token-new-endpoint": true, "Bearer token-new-monitor": true}
	other.mu.Unlock()
	epCred := f.addCredential(api.CredBearer, "token-new-endpoint")
	monCred := f.addCredential(api.CredBearer, "token-new-monitor")
	ep3 := f.addEndpoint(other.srv.URL, &epCred.ID)
	e := f.addMonitor(ep3.ID, "10s", path("/e"))
	g := f.addMonitor(ep2.ID, "10s", func(m *api.Monitor) {
		m.Request = &api.MonitorRequest{Path: ptr("/g"), CredentialID: &monCred.ID}
	})
	changed(api.KindMonitor, e.ID)
	changed(api.KindMonitor, g.ID)
	f.tickEvery(121*time.Second, 140*time.Second, time.Second)
	for path, want := range map[string]string{"/e": "Bearer token-new-endpoint", "/g": "Bearer token-new-monitor"} {
		if got := other.seen(path); len(got) != 2 || got[0] != want || got[1] != want {
			t.Fatalf("%s: the target saw %q, want %q twice", path, got, want)
		}
	}
	for _, m := range []string{e.ID, g.ID} {
		for _, r := range f.results(m) {
			if r.Outcome != api.OutcomeUp {
				t.Fatalf("a probe of monitor %s with a credential created unnotified was %s: %v", m, r.Outcome, r.Error)
			}
		}
	}
	// A change of any other kind asks for a full reload.
	f.s.Notify("alert_threshold", "thr_1")
	if done, err := f.s.loadChanged(f.ctx); done || err != nil {
		t.Fatalf("a change of another kind was read by itself: %v, %v", done, err)
	}
}

// TestUpToMaxChangesAreReadOneByOne: a reload after maxChanges notified
// objects reads each of them alone; one more notification makes it a
// full reload. (The IDs are of monitors that do not exist: each read
// finds it gone, which a reload one by one handles like any change.)
func TestUpToMaxChangesAreReadOneByOne(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.load()
	for _, n := range []int{maxChanges, maxChanges + 1} {
		for i := range n {
			f.s.Notify(api.KindMonitor, fmt.Sprintf("mon_%d", i))
		}
		done, err := f.s.loadChanged(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := n <= maxChanges; done != want {
			t.Errorf("%d notified monitors read one by one: %v, want %v", n, done, want)
		}
	}
}

// TestNotifiedChangesBesideOthers: a reload of notified changes reads
// what a changed monitor references even when other objects of the same
// kinds changed with it: the monitor's new endpoint and new credential
// (their creation not notified yet) beside a notified change of another
// endpoint and of another credential, whose new secret is read too.
func TestNotifiedChangesBesideOthers(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	tg := newTarget(t, false)
	tg.allow = map[string]bool{"Bearer token-rotated": true, "Bearer token-new": true}
	oldCred := f.addCredential(api.CredBearer, "token-old")
	oldEp := f.addEndpoint(tg.srv.URL, &oldCred.ID)
	a := f.addMonitor(oldEp.ID, "10s", func(m *api.Monitor) { m.Request = &api.MonitorRequest{Path: ptr("/a")} })
	f.load()

	sealed, err := f.kr.Seal([]byte("token-rotated"), secret.Binding{ObjectID: oldCred.ID, Revision: 2})
	if err != nil {
		t.Fatal(err)
	}
	oldCred.Sealed, oldCred.SecretRevision, oldCred.Revision = sealed, 2, 2
	f.write(func(tx store.Tx) error { return tx.UpdateCredential(f.ctx, oldCred) })
	oldEp.Name = "renamed"
	oldEp = f.updateEndpoint(oldEp)
	newCred := f.addCredential(api.CredBearer, "token-new")
	newEp := f.addEndpoint(tg.srv.URL, nil)
	b := f.addMonitor(newEp.ID, "10s", func(m *api.Monitor) {
		m.Request = &api.MonitorRequest{Path: ptr("/b"), CredentialID: &newCred.ID}
	})
	f.s.Notify(api.KindCredential, oldCred.ID)
	f.s.Notify(api.KindEndpoint, oldEp.ID)
	f.s.Notify(api.KindMonitor, b.ID)
	if done, err := f.s.loadChanged(f.ctx); !done || err != nil {
		t.Fatalf("the notified changes were not read by themselves: %v, %v", done, err)
	}

	f.tickEvery(5*time.Second, 15*time.Second, 10*time.Second)
	for path, want := range map[string]string{"/a": "Bearer token-rotated", "/b": "Bearer token-new"} {
		if got := tg.seen(path); len(got) != 2 || got[0] != want || got[1] != want {
			t.Errorf("%s: the target saw %q, want %q twice", path, got, want)
		}
	}
	for _, m := range []api.Monitor{a, b} {
		for _, r := range f.results(m.ID) {
			if r.Outcome != api.OutcomeUp {
				t.Errorf("monitor %s: a probe was %s: %v", m.ID, r.Outcome, r.Error)
			}
		}
	}
}

func TestCredentialResolution(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	tg := newTarget(t, false)
	tg.allow = map[string]bool{"Bearer token-endpoint": true, "Bearer token-monitor": true}
	epCred := f.addCredential(api.CredBearer, "token-endpoint")
	monCred := f.addCredential(api.CredBearer, "token-monitor")
	ep := f.addEndpoint(tg.srv.URL, &epCred.ID)
	byEndpoint := f.addMonitor(ep.ID, "10s", func(m *api.Monitor) { m.Request = &api.MonitorRequest{Path: ptr("/ep")} })
	byMonitor := f.addMonitor(ep.ID, "10s", func(m *api.Monitor) {
		m.Request = &api.MonitorRequest{Path: ptr("/mon"), CredentialID: &monCred.ID}
	})
	noCred := f.addMonitor(f.addEndpoint(tg.srv.URL, nil).ID, "10s", func(m *api.Monitor) {
		m.Request = &api.MonitorRequest{Path: ptr("/none")}
	})
	f.load()
	f.tickEvery(0, 5*time.Second, 5*time.Second)

	// The store holds only the sealed secrets.
	for _, c := range []store.CredentialRecord{epCred, monCred} {
		rec, err := f.st.GetCredential(f.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(rec.Sealed.Ciphertext, []byte("token-")) || rec.Secret != nil {
			t.Fatalf("credential %s stored in the clear", c.ID)
		}
	}
	if got := tg.seen("/ep"); len(got) != 1 || got[0] != "Bearer token-endpoint" {
		t.Fatalf("endpoint's credential: target saw %q", got)
	}
	if got := tg.seen("/mon"); len(got) != 1 || got[0] != "Bearer token-monitor" {
		t.Fatalf("monitor's credential: target saw %q", got)
	}
	if got := tg.seen("/none"); len(got) != 1 || got[0] != "" {
		t.Fatalf("no credential: target saw %q", got)
	}
	for m, want := range map[string]string{byEndpoint.ID: api.OutcomeUp, byMonitor.ID: api.OutcomeUp, noCred.ID: api.OutcomeDown} {
		rs := f.results(m)
		if len(rs) != 1 || rs[0].Outcome != want {
			t.Fatalf("monitor %s: results %+v, want one %s", m, rs, want)
		}
		if rs[0].Error != nil && strings.Contains(*rs[0].Error, "token-") {
			t.Fatalf("error text carries a secret: %q", *rs[0].Error)
		}
	}

	// A new secret (another revision) reaches the target after a reload.
	sealed, err := f.kr.Seal([]byte("token-rotated"), secret.Binding{ObjectID: monCred.ID, Revision: 2})
	if err != nil {
		t.Fatal(err)
	}
	monCred.Sealed, monCred.SecretRevision, monCred.Revision = sealed, 2, 2
	f.write(func(tx store.Tx) error { return tx.UpdateCredential(f.ctx, monCred) })
	f.load()
	f.tick(15 * time.Second)
	f.settle()
	if got := tg.seen("/mon"); len(got) != 2 || got[1] != "Bearer token-rotated" {
		t.Fatalf("after rotation the target saw %q", got)
	}
}

// The secret is opened when the probe runs, not when the configuration is
// loaded: a scheduler whose keyring lacks the key loads fine and fails the
// probe, and succeeds on the next run once the key file holds the key,
// without a reload.
func TestCredentialOpenedAtProbeTime(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "keys")
	other := secret.NewKey()
	if err := secret.WriteKeyFile(keyFile, []secret.Key{other}); err != nil {
		t.Fatal(err)
	}
	fileRing, err := secret.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, fixtureOptions{keyring: fileRing})
	tg := newTarget(t, false)
	tg.allow = map[string]bool{"Bearer sesame": true}
	cred := f.addCredential(api.CredBearer, "sesame")
	m := f.addMonitor(f.addEndpoint(tg.srv.URL, &cred.ID).ID, "10s")
	f.load()

	f.tick(5 * time.Second)
	f.settle()
	rs := f.results(m.ID)
	if len(rs) != 1 || rs[0].Outcome != api.OutcomeDown || rs[0].Error == nil ||
		!strings.Contains(*rs[0].Error, "cannot open the secret") {
		t.Fatalf("probe without the key: %+v", rs)
	}
	if tg.hits.Load() != 0 {
		t.Fatalf("the target was reached without the credential")
	}

	if err := secret.WriteKeyFile(keyFile, append([]secret.Key{other}, f.kr.Keys()...)); err != nil {
		t.Fatal(err)
	}
	f.tick(15 * time.Second)
	f.settle()
	rs = f.results(m.ID)
	if len(rs) != 2 || rs[1].Outcome != api.OutcomeUp {
		t.Fatalf("probe with the key: %+v", rs)
	}
	if got := tg.seen("/"); len(got) != 1 || got[0] != "Bearer sesame" {
		t.Fatalf("target saw %q", got)
	}
}

// TestRewrappedCredentialIsReadAgain: `aiod keys rotate` re-wraps a
// secret under a new key from another process, with no notice and no new
// revision, and the operator then drops the old key. The snapshot's old
// wrapping cannot be opened any more; LoadCredentials (the reloader's
// DefaultCredentialsEvery, far more often than the full reload) reads the
// new one, and the next run succeeds.
func TestRewrappedCredentialIsReadAgain(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "keys")
	f := newFixture(t, fixtureOptions{keyring: nil})
	if err := secret.WriteKeyFile(keyFile, f.kr.Keys()); err != nil {
		t.Fatal(err)
	}
	fileRing, err := secret.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	f.s.cfg.Keyring = fileRing
	tg := newTarget(t, false)
	tg.allow = map[string]bool{"Bearer sesame": true}
	cred := f.addCredential(api.CredBearer, "sesame")
	m := f.addMonitor(f.addEndpoint(tg.srv.URL, &cred.ID).ID, "10s")
	f.load()
	f.tick(5 * time.Second)
	f.settle()

	// The rotation: the same secret and binding, sealed under a new key;
	// the key file then holds only the new key.
	newKey := secret.NewKey()
	newRing, err := secret.NewKeyring(newKey)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := newRing.Seal([]byte("sesame"), secret.Binding{ObjectID: cred.ID, Revision: cred.SecretRevision})
	if err != nil {
		t.Fatal(err)
	}
	f.write(func(tx store.Tx) error { return tx.UpdateSealed(f.ctx, cred.ID, sealed) })
	if err := secret.WriteKeyFile(keyFile, []secret.Key{newKey}); err != nil {
		t.Fatal(err)
	}
	// The file keeps its size; a later modification time makes sure the
	// keyring sees the change even within the clock's granularity.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(keyFile, later, later); err != nil {
		t.Fatal(err)
	}
	// aiod seals some other secret: its keyring re-reads the file and
	// forgets the old key.
	if _, err := fileRing.Seal([]byte("other"), secret.Binding{ObjectID: "cred_other", Revision: 1}); err != nil {
		t.Fatal(err)
	}
	f.tick(15 * time.Second)
	f.settle()
	if err := f.s.LoadCredentials(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.tick(25 * time.Second)
	f.settle()
	rs := f.results(m.ID)
	if len(rs) != 3 {
		t.Fatalf("results %+v, want 3", rs)
	}
	if rs[0].Outcome != api.OutcomeUp {
		t.Errorf("before the rotation: %+v", rs[0])
	}
	// Control: without the new read the old wrapping cannot be opened.
	if rs[1].Outcome != api.OutcomeDown || rs[1].Error == nil || !strings.Contains(*rs[1].Error, "cannot open the secret") {
		t.Errorf("after the rotation, before LoadCredentials: %+v", rs[1])
	}
	if rs[2].Outcome != api.OutcomeUp {
		t.Errorf("after LoadCredentials: %+v", rs[2])
	}
}

// TestLoadCredentialsKeepsNotifiedChanges: a credential read through a
// notice while LoadCredentials lists stays, and one deleted from the store
// leaves the snapshot.
func TestLoadCredentialsKeepsNotifiedChanges(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	gone := f.addCredential(api.CredBearer, "a")
	f.load()
	f.write(func(tx store.Tx) error { return tx.DeleteCredential(f.ctx, gone.ID) })
	// A credential the snapshot holds at a later revision than the
	// store's stays at that revision.
	later := f.addCredential(api.CredBearer, "b")
	f.s.mu.Lock()
	ahead := later
	ahead.Revision = 5
	f.s.snap.credentials[later.ID] = ahead
	f.s.mu.Unlock()
	if err := f.s.LoadCredentials(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	if _, ok := f.s.snap.credentials[gone.ID]; ok {
		t.Errorf("a deleted credential stayed in the snapshot")
	}
	if got := f.s.snap.credentials[later.ID].Revision; got != 5 {
		t.Errorf("revision %d, want the later 5 kept", got)
	}
}

// flakyReader fails the first failLists reads of the monitors and the
// first failGets reads of an endpoint, as a database not ready yet would.
type flakyReader struct {
	store.Reader
	failLists, failGets atomic.Int32
}

func (r *flakyReader) ListMonitors(ctx context.Context, q store.MonitorQuery) ([]api.Monitor, string, error) {
	if r.failLists.Add(-1) >= 0 {
		return nil, "", errors.New("database not ready")
	}
	return r.Reader.ListMonitors(ctx, q)
}

func (r *flakyReader) GetEndpoint(ctx context.Context, id string) (api.Endpoint, error) {
	if r.failGets.Add(-1) >= 0 {
		return api.Endpoint{}, errors.New("database not ready")
	}
	return r.Reader.GetEndpoint(ctx, id)
}

// runReloader runs the scheduler's Run with the given reload periods until
// the test ends. Its ticks use the fixture's fake clock, which stands
// still, so only the reloader works.
func (f *fixture) runReloader(reloadEvery, credentialsEvery time.Duration) {
	f.s.cfg.ReloadEvery, f.s.cfg.CredentialsEvery = reloadEvery, credentialsEvery
	ctx, cancel := context.WithCancel(f.ctx)
	f.t.Cleanup(cancel)
	go func() { _ = f.s.Run(ctx) }()
}

// hasEntry tells whether the monitor is in the schedule.
func (f *fixture) hasEntry(id string) bool {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	_, ok := f.s.entries[id]
	return ok
}

// TestFailedLoadIsRetriedSoon: the full read that fails when the
// scheduler starts is tried again after CredentialsEvery, not only after
// ReloadEvery (5 min by default) or the next API write.
func TestFailedLoadIsRetriedSoon(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	m := f.addMonitor(f.addEndpoint("http://127.0.0.1:1", nil).ID, "10s")
	fr := &flakyReader{Reader: f.st}
	fr.failLists.Store(2)
	f.s.cfg.Store = fr
	f.runReloader(time.Hour, 20*time.Millisecond)
	waitFor(t, "the monitor scheduled after two failed reads", func() bool { return f.hasEntry(m.ID) })
	if n := fr.failLists.Load(); n >= 0 {
		t.Fatalf("the failures were not all met (%d left)", n+1)
	}
}

// TestCredentialsReadOnTheirTicker: Run reads the credentials every
// CredentialsEvery, so a secret re-wrapped without a notice (aiod keys
// rotate) reaches the snapshot long before the full reload.
func TestCredentialsReadOnTheirTicker(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	cred := f.addCredential(api.CredBearer, "sesame")
	f.load()
	f.runReloader(time.Hour, 20*time.Millisecond)
	sealed, err := f.kr.Seal([]byte("sesame"), secret.Binding{ObjectID: cred.ID, Revision: cred.SecretRevision})
	if err != nil {
		t.Fatal(err)
	}
	f.write(func(tx store.Tx) error { return tx.UpdateSealed(f.ctx, cred.ID, sealed) })
	waitFor(t, "the re-wrapped secret in the snapshot", func() bool {
		f.s.mu.Lock()
		defer f.s.mu.Unlock()
		return bytes.Equal(f.s.snap.credentials[cred.ID].Sealed.WrappedKey, sealed.WrappedKey)
	})
}

// TestEndpointReadFailureReadsEverything: when the endpoint of a notified
// monitor cannot be read (an error, not a missing endpoint), the change is
// read again with everything rather than leaving the monitor without its
// endpoint until the next full reload.
func TestEndpointReadFailureReadsEverything(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.load()
	fr := &flakyReader{Reader: f.st}
	fr.failGets.Store(1)
	f.s.cfg.Store = fr
	ep := f.addEndpoint("http://127.0.0.1:1", nil)
	m := f.addMonitor(ep.ID, "10s")
	f.s.Notify(api.KindMonitor, m.ID)
	done, err := f.s.loadChanged(f.ctx)
	if err == nil || !done {
		t.Fatalf("loadChanged = %v, %v; want the read error", done, err)
	}
	f.s.changedMu.Lock()
	full := f.s.full
	f.s.changedMu.Unlock()
	if !full {
		t.Fatalf("the failed endpoint read did not ask for a full read")
	}
	f.load()
	f.s.mu.Lock()
	_, ok := f.s.snap.endpoints[ep.ID]
	f.s.mu.Unlock()
	if !ok || !f.hasEntry(m.ID) {
		t.Fatalf("after the full read: endpoint in snapshot %v, monitor scheduled %v", ok, f.hasEntry(m.ID))
	}
}

func TestNoKeyringFailsTheProbeOnly(t *testing.T) {
	f := newFixture(t, fixtureOptions{noKeyring: true})
	tg := newTarget(t, false)
	cred := f.addCredential(api.CredBearer, "sesame")
	m := f.addMonitor(f.addEndpoint(tg.srv.URL, &cred.ID).ID, "10s")
	f.load()
	f.tick(5 * time.Second)
	f.settle()
	rs := f.results(m.ID)
	if len(rs) != 1 || rs[0].Outcome != api.OutcomeDown || rs[0].Error == nil ||
		!strings.Contains(*rs[0].Error, "no encryption key") {
		t.Fatalf("results %+v", rs)
	}
}

func TestBoundedConcurrency(t *testing.T) {
	f := newFixture(t, fixtureOptions{workers: 2})
	tg := newTarget(t, true)
	ep := f.addEndpoint(tg.srv.URL, nil)
	var mons []api.Monitor
	for range 5 {
		mons = append(mons, f.addMonitor(ep.ID, "10s", func(m *api.Monitor) { m.Timeout = ptr("10s") }))
	}
	f.load()

	// All five are due at t0+5s.
	f.tick(5 * time.Second)
	waitFor(t, "two probes in flight", func() bool { return tg.inflight.Load() == 2 })
	time.Sleep(100 * time.Millisecond) // room for a third, which must not start
	if got := tg.maxIn.Load(); got != 2 {
		t.Fatalf("%d probes in flight with 2 workers", got)
	}
	if got := tg.hits.Load(); got != 2 {
		t.Fatalf("target hit %d times with 2 workers blocked, want 2", got)
	}
	tg.release()
	f.settle()
	if got := tg.maxIn.Load(); got != 2 {
		t.Fatalf("at most %d probes in flight, want 2", got)
	}
	for _, m := range mons {
		f.expectRuns(m, secs(5))
	}
	if f.obs.missed.Load() != 0 {
		t.Fatalf("%d missed runs, want none", f.obs.missed.Load())
	}
}

func TestMissingEndpointOrCredential(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	tg := newTarget(t, false)
	ep := f.addEndpoint(tg.srv.URL, nil)
	orphan := f.addMonitor("ep_missing", "10s")
	goingAway := f.addMonitor(ep.ID, "10s")
	noCred := f.addMonitor(ep.ID, "10s", func(m *api.Monitor) {
		m.Request = &api.MonitorRequest{CredentialID: ptr("cred_missing")}
	})
	f.load()
	f.tick(5 * time.Second)
	f.settle()
	check := func(m api.Monitor, n int, wantErr string) {
		t.Helper()
		rs := f.results(m.ID)
		if len(rs) != n {
			t.Fatalf("monitor %s: %d results, want %d", m.ID, len(rs), n)
		}
		r := rs[n-1]
		if wantErr == "" {
			if r.Outcome != api.OutcomeUp {
				t.Fatalf("monitor %s: %+v", m.ID, r)
			}
			return
		}
		if r.Outcome != api.OutcomeDown || r.Error == nil || !strings.Contains(*r.Error, wantErr) || r.Attempts != 0 {
			t.Fatalf("monitor %s: outcome %s error %v attempts %d, want down with %q", m.ID, r.Outcome, r.Error, r.Attempts, wantErr)
		}
		if !r.Time.Equal(t0.Add(5*time.Second)) && n == 1 {
			t.Fatalf("monitor %s: result time %v", m.ID, r.Time)
		}
	}
	check(orphan, 1, "endpoint no longer exists")
	check(goingAway, 1, "")
	check(noCred, 1, "credential no longer exists")

	// The endpoint deleted out from under a monitor.
	f.write(func(tx store.Tx) error { return tx.DeleteEndpoint(f.ctx, ep.ID) })
	f.load()
	f.tick(15 * time.Second)
	f.settle()
	check(goingAway, 2, "endpoint no longer exists")
	if tg.hits.Load() != 1 {
		t.Fatalf("target hit %d times, want 1", tg.hits.Load())
	}
	_, state, err := f.st.MonitorStatus(f.ctx, goingAway.ID, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if state.LastOutcome == nil || *state.LastOutcome != api.OutcomeDown {
		t.Fatalf("state %+v", state)
	}
}

// A run that finishes after its monitor left the schedule is stored, and
// its per-monitor series are forgotten again after it.
func TestRunEndingAfterRemovalIsForgotten(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	tg := newTarget(t, true)
	m := f.addMonitor(f.addEndpoint(tg.srv.URL, nil).ID, "10s", func(m *api.Monitor) { m.Timeout = ptr("10s") })
	f.load()
	f.tick(5 * time.Second)
	waitFor(t, "the probe to reach the target", func() bool { return tg.inflight.Load() == 1 })
	f.write(func(tx store.Tx) error { return tx.DeleteMonitor(f.ctx, m.ID) })
	f.load()
	tg.release()
	waitFor(t, "the probe to finish", func() bool { return f.obs.history(m.ID) == "forget,completed,forget" })
	if err := f.w.Flush(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.expectRuns(m, secs(5))
	f.tick(15 * time.Second)
	f.settle()
	f.expectRuns(m, secs(5))
}

// TestClockJumps: the wall clock set back an hour (an NTP step, a VM
// restored from a snapshot) does not stall the monitors until it catches
// up: they run on their interval from the new time. Set forward two hours,
// they run once and resume on their phase, with no backlog of missed runs.
func TestClockJumps(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	tg := newTarget(t, false)
	m := f.addMonitor(f.addEndpoint(tg.srv.URL, nil).ID, "10s")
	f.load()
	f.tickEvery(0, 30*time.Second, 500*time.Millisecond)
	f.expectRuns(m, secs(5, 15, 25))

	f.tickEvery(-time.Hour, -time.Hour+30*time.Second, 500*time.Millisecond)
	if got := len(f.results(m.ID)); got != 3+3 {
		t.Fatalf("30 s after the clock went back an hour: %d runs in all, want 3 more (every 10 s)", got)
	}
	if next, ok := f.s.NextDue(); !ok || next.After(t0.Add(-time.Hour+40*time.Second)) {
		t.Fatalf("next run due at %v, more than an interval after the clock's time", next)
	}

	f.tickEvery(2*time.Hour, 2*time.Hour+30*time.Second, 500*time.Millisecond)
	if got := len(f.results(m.ID)); got != 6+4 {
		t.Fatalf("30 s after the clock went forward: %d runs in all, want 4 more (one at once, then every 10 s)", got)
	}
	if got := f.obs.missed.Load(); got != 0 {
		t.Fatalf("the jumps fired %d missed runs, want none", got)
	}
}
