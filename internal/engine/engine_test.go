package engine_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/testutil"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

func ptr[T any](v T) *T { return &v }

// eventually polls cond every 100 ms until it holds, failing after limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// openStore opens a real SQLite store in the test's directory.
func openStore(t *testing.T) *store.SQLite {
	t.Helper()
	sq, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "aio.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sq.Close() })
	return sq
}

// countingTarget answers 200 and counts the requests.
func countingTarget(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(ts.Close)
	return ts, &hits
}

// scrape reads /metrics without a token.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// histogramSeriesWithLabel returns the samples of histogram families that
// carry the label.
func histogramSeriesWithLabel(text, label string) []string {
	histograms := map[string]bool{}
	var bad []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" && f[3] == "histogram" {
			histograms[f[2]] = true
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && histograms[base] && strings.Contains(line, label+"=") {
				bad = append(bad, line)
			}
		}
	}
	return bad
}

func TestHistogramSeriesWithLabel(t *testing.T) {
	text := "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{monitor_id=\"m\",le=\"1\"} 1\nh_sum{monitor_id=\"m\"} 1\n# TYPE g gauge\ng{monitor_id=\"m\"} 1\n"
	if got := histogramSeriesWithLabel(text, "monitor_id"); len(got) != 2 {
		t.Fatalf("found %q", got)
	}
}

// The whole engine inside an in-process aiod: a monitor created through
// the API is probed, and its figures and metrics show it.
func TestEngineEndToEnd(t *testing.T) {
	ctx := context.Background()
	target, hits := countingTarget(t)
	srv := acctest.NewServer(t, acctest.Options{Engine: true})
	t.Cleanup(func() {
		if hits.Load() == 0 {
			t.Error("the target was never requested")
		}
	})
	c, err := client.New(client.Config{Address: srv.URL, Token: srv.AdminToken})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := c.CreateEndpoint(ctx, api.Endpoint{Name: "target", URL: target.URL})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.CreateMonitor(ctx, api.Monitor{Name: "target-health", EndpointID: ep.ID, Type: api.MonitorHTTP,
		Enabled: ptr(true), Interval: ptr("5s")})
	if err != nil {
		t.Fatal(err)
	}
	countResults := func() int {
		t.Helper()
		l, err := c.ListResults(ctx, m.ID, client.ResultQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range l.Items {
			if r.MonitorID != m.ID || r.Outcome != api.OutcomeUp {
				t.Fatalf("result %+v", r)
			}
		}
		return len(l.Items)
	}
	// The first run is jittered within the 5 s interval; results are
	// stored within a second.
	eventually(t, 20*time.Second, "the first result", func() bool { return countResults() >= 1 })

	st, err := c.MonitorStatus(ctx, m.ID, "5m")
	if err != nil {
		t.Fatal(err)
	}
	if st.Probes < 1 || st.AvailabilityPercent == nil || *st.AvailabilityPercent != 100 ||
		st.Status == nil || *st.Status != api.OutcomeUp || st.ErrorRatePercent == nil || *st.ErrorRatePercent != 0 ||
		st.LastCheckedAt == nil || st.Window != "5m" {
		t.Fatalf("status %+v", st)
	}

	metrics := scrape(t, srv.URL)
	upSeries := `aio_monitor_up{monitor_id="` + m.ID + `"} 1`
	for _, want := range []string{"aio_probes_total{outcome=\"up\"}", upSeries, "aio_scheduler_lag_seconds_bucket", "aio_probe_duration_seconds_bucket"} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	if bad := histogramSeriesWithLabel(metrics, "monitor_id"); len(bad) > 0 {
		t.Fatalf("histogram series with a monitor_id label: %q", bad)
	}

}

// Disabling a monitor through the API stops its probes without a restart,
// and its gauge goes. On the fake clock: a second monitor of the same
// target stays enabled as the control, so "nothing more" is judged over
// intervals the engine is seen to have run, not over real seconds.
func TestDisabledMonitorIsNotProbed(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	hits := map[string]int{}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(target.Close)
	hitsOf := func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		return hits[path]
	}
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	srv := acctest.NewServer(t, acctest.Options{Engine: true, Clock: clk})
	c, err := client.New(client.Config{Address: srv.URL, Token: srv.AdminToken})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := c.CreateEndpoint(ctx, api.Endpoint{Name: "target", URL: target.URL})
	if err != nil {
		t.Fatal(err)
	}
	monitor := func(name, path string) api.Monitor {
		m, err := c.CreateMonitor(ctx, api.Monitor{Name: name, EndpointID: ep.ID, Type: api.MonitorHTTP,
			Enabled: ptr(true), Interval: ptr("5s"), Request: &api.MonitorRequest{Path: ptr(path)}})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	on, off := monitor("control", "/on"), monitor("disabled", "/off")
	results := func(id string) int {
		t.Helper()
		l, err := c.ListResults(ctx, id, client.ResultQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(l.Items)
	}
	// runUntil advances the fake clock a second at a time until the
	// control monitor has at least n results.
	runUntil := func(n int) {
		t.Helper()
		eventually(t, 30*time.Second, fmt.Sprintf("%d results of the control monitor", n), func() bool {
			if results(on.ID) >= n {
				return true
			}
			clk.Advance(time.Second)
			return false
		})
	}
	eventually(t, 30*time.Second, "both monitors probed", func() bool {
		if results(on.ID) >= 1 && results(off.ID) >= 1 {
			return true
		}
		clk.Advance(time.Second)
		return false
	})
	if !strings.Contains(scrape(t, srv.URL), `aio_monitor_up{monitor_id="`+off.ID+`"} 1`) {
		t.Fatal("/metrics has no gauge of the monitor before it is disabled")
	}

	cur, err := c.GetMonitor(ctx, off.ID)
	if err != nil {
		t.Fatal(err)
	}
	cur.Enabled = ptr(false)
	if _, err := c.UpdateMonitor(ctx, off.ID, cur.Revision, cur); err != nil {
		t.Fatal(err)
	}
	// Two intervals of the control for a probe of the disabled monitor
	// that was already running, and its result, to land.
	runUntil(results(on.ID) + 2)
	n0, h0 := results(off.ID), hitsOf("/off")
	// Three more intervals: the control goes on, the disabled one not.
	runUntil(results(on.ID) + 3)
	if n1, h1 := results(off.ID), hitsOf("/off"); n1 != n0 || h1 != h0 {
		t.Fatalf("disabled monitor still probed: results %d → %d, target hits %d → %d", n0, n1, h0, h1)
	}
	if metrics := scrape(t, srv.URL); strings.Contains(metrics, `monitor_id="`+off.ID+`"`) {
		t.Fatalf("/metrics still has series of the disabled monitor:\n%s", metrics)
	}
}

// flakyStore fails the first listings of monitors, as a database that is
// not ready yet would.
type flakyStore struct {
	store.Store
	failures atomic.Int64
}

func (s *flakyStore) ListMonitors(ctx context.Context, q store.MonitorQuery) ([]api.Monitor, string, error) {
	if s.failures.Add(-1) >= 0 {
		return nil, "", errors.New("database is not ready")
	}
	return s.Store.ListMonitors(ctx, q)
}

// A configuration that cannot be read when the engine starts is logged and
// read again later (here on the next change notification); the engine
// neither stops probing for good nor hangs.
func TestEngineSurvivesAFailedFirstLoad(t *testing.T) {
	ctx := context.Background()
	sq := openStore(t)
	st := &flakyStore{Store: sq}
	st.failures.Store(1)
	target, hits := countingTarget(t)
	start := time.Now().UTC().Truncate(time.Second)
	clk := clock.NewFake(start)
	var logs testutil.SyncBuffer
	// The target listens on loopback, which the default egress policy
	// denies.
	e := engine.New(engine.Config{Store: st, Clock: clk, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Egress: egress.AllowLoopback()})
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Run(rctx) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(10 * time.Second):
			t.Error("engine did not stop")
		}
	})
	eventually(t, 5*time.Second, "the failed load to be logged", func() bool {
		return strings.Contains(logs.String(), "database is not ready")
	})
	select {
	case err := <-done:
		t.Fatalf("engine stopped after a failed first load: %v", err)
	default:
	}

	err := sq.Write(ctx, func(tx store.Tx) error {
		if err := tx.InsertEndpoint(ctx, api.Endpoint{Meta: api.Meta{ID: "ep_1", Revision: 1, CreatedAt: start, UpdatedAt: start}, Name: "target", URL: target.URL,
			DataClassification: api.ClassInternal}); err != nil {
			return err
		}
		return tx.InsertMonitor(ctx, api.Monitor{Meta: api.Meta{ID: "mon_1", Revision: 1, CreatedAt: start, UpdatedAt: start}, Name: "target-health", EndpointID: "ep_1",
			Type: api.MonitorHTTP, Enabled: ptr(true), Interval: ptr("5s")})
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Notify(api.KindMonitor, "mon_1")
	eventually(t, 5*time.Second, "the monitor to be scheduled", func() bool { _, ok := e.Scheduler.NextDue(); return ok })
	clk.Advance(5 * time.Second)
	eventually(t, 5*time.Second, "a probe", func() bool { return hits.Load() >= 1 })
	eventually(t, 5*time.Second, "the result to be stored", func() bool {
		rs, _, err := sq.ListResults(ctx, "mon_1", store.ResultQuery{})
		return err == nil && len(rs) >= 1
	})
}

// A change notification for a credential drops its cached OAuth2 access
// token: the next probe fetches a new one.
func TestCredentialChangeDropsCachedToken(t *testing.T) {
	ctx := context.Background()
	sq := openStore(t)
	kr, err := secret.NewKeyring(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("client_secret") != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		n := fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, n)
	}))
	t.Cleanup(idp.Close)
	var mu sync.Mutex
	var seen []string
	target := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	t.Cleanup(target.Close)

	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	sealed, err := kr.Seal([]byte("s3cret"), secret.Binding{ObjectID: "cred_1", Revision: 1})
	if err != nil {
		t.Fatal(err)
	}
	err = sq.Write(ctx, func(tx store.Tx) error {
		if err := tx.InsertCredential(ctx, store.CredentialRecord{Credential: api.Credential{Meta: api.Meta{ID: "cred_1", Revision: 1, CreatedAt: t0, UpdatedAt: t0}, Name: "idp",
			Type: api.CredOAuth2Client, TokenURL: ptr(idp.URL), ClientID: ptr("aio"), AllowedHosts: []string{"127.0.0.1"}, SecretRevision: 1,
			LastRotatedAt: &t0}, Sealed: sealed}); err != nil {
			return err
		}
		if err := tx.InsertEndpoint(ctx, api.Endpoint{Meta: api.Meta{ID: "ep_1", Revision: 1, CreatedAt: t0, UpdatedAt: t0}, Name: "target", URL: target.URL, CredentialID: ptr("cred_1"),
			DataClassification: api.ClassInternal}); err != nil {
			return err
		}
		return tx.InsertMonitor(ctx, api.Monitor{Meta: api.Meta{ID: "mon_1", Revision: 1, CreatedAt: t0, UpdatedAt: t0}, Name: "target-health", EndpointID: "ep_1",
			Type: api.MonitorHTTP, Enabled: ptr(true), Interval: ptr("10s")})
	})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(engine.Config{Store: sq, Keyring: kr, Clock: clk, Egress: egress.AllowLoopback()})
	wctx, cancel := context.WithCancel(ctx)
	t.Cleanup(func() { cancel(); e.Scheduler.Wait() })
	if err := e.Scheduler.Load(ctx); err != nil {
		t.Fatal(err)
	}
	e.Scheduler.Start(wctx)
	probeAt := func(d time.Duration, want int) {
		t.Helper()
		clk.Set(t0.Add(d))
		e.Scheduler.Tick(t0.Add(d))
		eventually(t, 5*time.Second, "the probe", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) == want
		})
	}
	probeAt(10*time.Second, 1)
	probeAt(20*time.Second, 2) // the cached token
	e.Notify(api.KindCredential, "cred_1")
	probeAt(30*time.Second, 3)
	mu.Lock()
	got := append([]string(nil), seen...)
	mu.Unlock()
	want := []string{"Bearer tok-1", "Bearer tok-1", "Bearer tok-2"}
	if strings.Join(got, ",") != strings.Join(want, ",") || fetches.Load() != 2 {
		t.Fatalf("target saw %q after %d token fetches, want %q after 2", got, fetches.Load(), want)
	}
}

// TestMetricsShowDroppedResults: results the writer drops are visible in
// /metrics, read from the engine's own writer.
func TestMetricsShowDroppedResults(t *testing.T) {
	st, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "aio.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := engine.New(engine.Config{Store: st})
	srv := httptest.NewServer(e.MetricsHandler())
	t.Cleanup(srv.Close)
	if m := scrape(t, srv.URL); !strings.Contains(m, "\naio_results_dropped_total 0\n") {
		t.Fatalf("/metrics lacks aio_results_dropped_total 0:\n%s", m)
	}
	// A closed writer drops what it is given.
	if err := e.Writer.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.Writer.Record(api.ProbeResult{MonitorID: "mon_x", Time: time.Now(), Outcome: api.OutcomeUp, Attempts: 1})
	e.Writer.Missed("mon_x", time.Now())
	if m := scrape(t, srv.URL); !strings.Contains(m, "\naio_results_dropped_total 2\n") {
		t.Fatalf("/metrics lacks aio_results_dropped_total 2:\n%s", m)
	}
}

// TestEngineEnforcesEgressPolicy: the policy given to the engine reaches
// the prober. A monitor of a local target on a denied address is recorded
// down with the denial, and the target sees no request.
func TestEngineEnforcesEgressPolicy(t *testing.T) {
	ctx := context.Background()
	target, hits := countingTarget(t)
	deny, err := egress.ParseCIDRs("127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	// acctest allows loopback unless told otherwise; this policy allows it
	// too but denies the target's address, so the denial cites the rule.
	srv := acctest.NewServer(t, acctest.Options{Engine: true, Egress: &egress.Policy{AllowCIDRs: egress.LoopbackCIDRs, DenyCIDRs: deny}})
	c, err := client.New(client.Config{Address: srv.URL, Token: srv.AdminToken})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := c.CreateEndpoint(ctx, api.Endpoint{Name: "target", URL: target.URL})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.CreateMonitor(ctx, api.Monitor{Name: "target-health", EndpointID: ep.ID, Type: api.MonitorHTTP,
		Enabled: ptr(true), Interval: ptr("5s")})
	if err != nil {
		t.Fatal(err)
	}
	var res api.ProbeResult
	eventually(t, 20*time.Second, "the first result", func() bool {
		l, err := c.ListResults(ctx, m.ID, client.ResultQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Items) == 0 {
			return false
		}
		res = l.Items[0]
		return true
	})
	if res.Outcome != api.OutcomeDown || res.Error == nil || !strings.Contains(*res.Error, "egress denied: 127.0.0.1 is in 127.0.0.1/32 (probe deny list)") {
		t.Fatalf("result %+v (error %q)", res, deref(res.Error))
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the denied target got %d requests", n)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// The change history's age (--history-retention) becomes the retention
// default of revisions, over whatever default the caller gave, without
// touching the caller's map; an age of zero leaves the defaults alone.
func TestHistoryAgeSetsTheRevisionsDefault(t *testing.T) {
	sq := openStore(t)
	given := retention.Defaults{api.DataRevisions: 5 * time.Hour}
	for _, tc := range []struct {
		name     string
		age      time.Duration
		defaults retention.Defaults
		want     time.Duration
	}{
		{"no age keeps the given default", 0, given, 5 * time.Hour},
		{"no age, no defaults: the built-in one", 0, nil, retention.BuiltinDefaults()[api.DataRevisions]},
		{"an age with no defaults", 7 * time.Hour, nil, 7 * time.Hour},
		{"an age over a given default", 7 * time.Hour, given, 7 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := engine.New(engine.Config{Store: sq, HistoryAge: tc.age, RetentionDefaults: tc.defaults})
			if got := e.Retention.Default(api.DataRevisions); got != tc.want {
				t.Fatalf("revisions default %v, want %v", got, tc.want)
			}
		})
	}
	if given[api.DataRevisions] != 5*time.Hour || len(given) != 1 {
		t.Fatalf("the caller's defaults were changed: %v", given)
	}
}

// failingResults refuses every batch of results, as a store that lost its
// disk would.
type failingResults struct {
	store.Store
	calls atomic.Int64
}

var errResultsRefused = errors.New("results refused by the test store")

func (s *failingResults) WriteResultsYielding(context.Context, []api.ProbeResult, []store.MissedRun, int) (int, int, error) {
	s.calls.Add(1)
	return 0, 0, errResultsRefused
}

// Results still pending when the engine stops are stored by Run before it
// returns; if that last write fails, Run says so (the scheduler itself
// stopped cleanly), so aiod's exit reports the loss instead of hiding it.
// The writer tries a batch three times, on a 1 s ticker, before it drops
// it: the engine is stopped right after the result is recorded, which
// leaves the final flush at least one try in hand.
func TestRunReturnsTheLastFlushError(t *testing.T) {
	ctx := context.Background()
	sq := openStore(t)
	st := &failingResults{Store: sq}
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	e := engine.New(engine.Config{Store: st, Clock: clk})
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Run(rctx) }()
	e.Writer.Record(api.ProbeResult{MonitorID: "mon_1", Outcome: api.OutcomeUp, Time: clk.Now()})
	stop()
	select {
	case err := <-done:
		if !errors.Is(err, errResultsRefused) {
			t.Fatalf("Run returned %v, want the refused write", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("engine did not stop")
	}
	if st.calls.Load() == 0 {
		t.Fatal("the result was never offered to the store")
	}
	if e.Writer.Written() != 0 {
		t.Fatalf("written %d", e.Writer.Written())
	}
}
