package probe

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/testutil"
)

// t0 is the fake clock's start; results must carry it as their time.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// sleepRecorder records backoff waits instead of sleeping, so that retry
// tests cost no real time and can check the exact schedule.
type sleepRecorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
	// onSleep, when set, runs on each wait (e.g. to cancel the run).
	onSleep func()
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.sleeps = append(s.sleeps, d)
	f := s.onSleep
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.sleeps...)
}

// fixture is a Prober wired to a fake clock and a sleep recorder.
type fixture struct {
	p     *Prober
	clock *clock.Fake
	sleep *sleepRecorder
}

// newFixture returns a Prober with cfg. Test targets listen on loopback,
// which the default egress policy denies, so a nil cfg.Egress allows
// loopback as aiod dev does; a test of the default policy passes
// &egress.Policy{}, its zero value.
func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	if cfg.Egress == nil {
		cfg.Egress = egress.AllowLoopback()
	}
	f := &fixture{clock: clock.NewFake(t0), sleep: &sleepRecorder{}}
	cfg.Clock = f.clock
	cfg.Sleep = f.sleep.sleep
	f.p = New(cfg)
	return f
}

func (f *fixture) probe(t *testing.T, tg Target) api.ProbeResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := f.clock.Now()
	res := f.p.Probe(ctx, tg)
	if !res.Time.Equal(now) {
		t.Fatalf("result time %v is not the fake clock's %v", res.Time, now)
	}
	if res.MonitorID != tg.Monitor.ID {
		t.Fatalf("monitor ID %q, want %q", res.MonitorID, tg.Monitor.ID)
	}
	return res
}

// httpTarget is an http monitor of url with the given timeout.
func httpTarget(url string, mods ...func(*api.Monitor)) Target {
	m := api.Monitor{Meta: api.Meta{ID: "mon_test"}, Name: "test", EndpointID: "ep_test", Type: api.MonitorHTTP, Timeout: ptr("2s")}
	for _, mod := range mods {
		mod(&m)
	}
	m.Normalize()
	return Target{Monitor: m, Endpoint: api.Endpoint{Meta: api.Meta{ID: "ep_test"}, URL: url, DataClassification: api.ClassInternal}}
}

// req returns the monitor's request, creating it.
func req(m *api.Monitor) *api.MonitorRequest {
	if m.Request == nil {
		m.Request = &api.MonitorRequest{}
	}
	return m.Request
}

func ptr[T any](v T) *T { return &v }

func deref0[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// closedAddr returns a 127.0.0.1 address nothing listens on, which no
// other socket is handed while the test runs.
func closedAddr(t *testing.T) string {
	t.Helper()
	return testutil.ReservedAddr(t)
}

func mustDown(t *testing.T, res api.ProbeResult) string {
	t.Helper()
	if res.Outcome != api.OutcomeDown {
		t.Fatalf("outcome = %s, want down (error %q)", res.Outcome, deref0(res.Error))
	}
	if res.Error == nil {
		t.Fatal("down without error text")
	}
	return *res.Error
}

func mustUp(t *testing.T, res api.ProbeResult) {
	t.Helper()
	if res.Outcome != api.OutcomeUp {
		t.Fatalf("outcome = %s, want up (error %q)", res.Outcome, deref0(res.Error))
	}
	if res.Error != nil {
		t.Fatalf("up with error %q", *res.Error)
	}
}
