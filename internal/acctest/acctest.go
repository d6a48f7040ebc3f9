// Package acctest holds test helpers: an in-process aiod (the real server
// and the real SQLite store on a temporary file, served over real HTTP by
// httptest) with a token for each role.
package acctest

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/deliver"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/senders"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/server"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Server is a running in-process aiod.
type Server struct {
	// URL is the base address, as in http://127.0.0.1:PORT.
	URL string
	// Tokens holds a token secret for each role: admin, editor, viewer.
	Tokens map[string]string
	// AdminToken is Tokens["admin"].
	AdminToken string
	// DBPath is the SQLite file.
	DBPath string
	// CACertFile is the PEM certificate to trust when Options.TLS is set.
	CACertFile string
	// Keyring is the server's keyring.
	Keyring *secret.Keyring
	Store   store.Store
	// Engine is the running probe engine when Options.Engine is set.
	Engine *engine.Engine
	API    *server.Server
	HTTP   *httptest.Server
}

// Options adjust the server; the zero value is fine.
type Options struct {
	Clock     clock.Clock
	Logger    *slog.Logger
	RateLimit float64
	RateBurst int
	// AuthFailureLimit, AuthFailureWindow and BodyReadTimeout set the
	// server's fields of the same names; zero keeps their defaults.
	AuthFailureLimit  int
	AuthFailureWindow time.Duration
	BodyReadTimeout   time.Duration
	// Keyring seals secrets; by default a new random key.
	Keyring *secret.Keyring
	// TLS serves HTTPS with a test certificate, written to CACertFile.
	TLS bool
	// Engine runs the probe engine, so that monitors are really probed.
	Engine bool
	// Egress is the engine's egress policy. Nil allows loopback (as aiod
	// dev does), since the tests' targets listen there and the default
	// policy denies it; pass &egress.Policy{} for the default policy.
	Egress *egress.Policy
	// PlaintextOK is the engine's engine.Config.PlaintextOK (nil:
	// loopback only). A test that must show a secret refused over plain
	// http to a target on 127.0.0.1 passes a function that refuses all.
	PlaintextOK func(netip.Addr) bool
	// MaxMonitors and MaxProbeRate are the server's caps (zero: none).
	MaxMonitors  int
	MaxProbeRate float64
	// AlertInterval is the engine's alert evaluation interval (its
	// default when zero). A test on a fake clock that ticks the evaluator
	// itself sets it long, so that the evaluator's own ticks do not race
	// with the probes' results.
	AlertInterval time.Duration
	// DeliveryAttemptTimeout bounds one delivery attempt of the engine's
	// delivery worker (notify.DefaultAttemptTimeout when zero), so that a
	// test of a hanging receiver sees its attempts time out in real time
	// without waiting the default 10 s each.
	DeliveryAttemptTimeout time.Duration
	// DeliveryGiveUpAfter is how long the engine retries a delivery (24 h
	// when zero).
	DeliveryGiveUpAfter time.Duration
	// WrapStore, when set, wraps the store that the server (and the
	// engine) use, so that a test can make a store call fail, as a full
	// disk or a broken audit insert would. Server.Store stays the real
	// store, for the test to look at what was really committed.
	WrapStore func(store.Store) store.Store
	// DBDir, when set, is the directory the database file is made in (a
	// small file system, say); by default a new temporary directory.
	DBDir string
	// RetentionPoll is how often the retention enforcer looks for work
	// without being woken (zero: the enforcer's default, at most 250 ms).
	// A test sets it long to see that a request wakes the enforcer.
	RetentionPoll time.Duration
}

// NewServer starts an aiod on a temporary SQLite file and stops it when
// the test ends.
func NewServer(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Egress == nil {
		o.Egress = egress.AllowLoopback()
	}
	if o.Keyring == nil {
		kr, err := secret.NewKeyring(secret.NewKey())
		if err != nil {
			t.Fatal(err)
		}
		o.Keyring = kr
	}
	ctx := context.Background()
	dir := o.DBDir
	if dir == "" {
		dir = t.TempDir()
	}
	dbPath := filepath.Join(dir, "aio.db")
	st, err := store.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	tokens := map[string]string{}
	err = st.Write(ctx, func(tx store.Tx) error {
		for _, role := range auth.Roles {
			_, secret, err := auth.Create(ctx, tx, o.Clock, auth.CreateInput{Name: "test-" + role, Role: role}, auth.CLIActor)
			if err != nil {
				return err
			}
			tokens[role] = secret
		}
		return nil
	})
	if err != nil {
		t.Fatalf("create tokens: %v", err)
	}
	served := store.Store(st)
	if o.WrapStore != nil {
		served = o.WrapStore(st)
	}
	scfg := server.Config{Store: served, Clock: o.Clock, Logger: o.Logger, RateLimit: o.RateLimit, RateBurst: o.RateBurst, Keyring: o.Keyring,
		AuthFailureLimit: o.AuthFailureLimit, AuthFailureWindow: o.AuthFailureWindow, BodyReadTimeout: o.BodyReadTimeout,
		MaxMonitors: o.MaxMonitors, MaxProbeRate: o.MaxProbeRate}
	var eng *engine.Engine
	if o.Engine {
		eng = engine.New(engine.Config{Store: served, Keyring: o.Keyring, Clock: o.Clock, Logger: o.Logger, Egress: o.Egress, AlertInterval: o.AlertInterval, PlaintextOK: o.PlaintextOK,
			DeliveryAttemptTimeout: o.DeliveryAttemptTimeout, DeliveryGiveUpAfter: o.DeliveryGiveUpAfter})
		scfg.OnChange, scfg.Metrics, scfg.MetricsRegisterer = eng.Notify, eng.MetricsHandler(), eng.Metrics.Registerer()
		ectx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- eng.Run(ectx) }()
		// Registered before the store's Close, so it runs first.
		t.Cleanup(func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("engine: %v", err)
			}
		})
	}
	if eng != nil {
		scfg.TestChannel = eng.Deliver.TestChannel
		scfg.Retention = eng.Retention
	} else {
		// Retention runs without the probe engine, so that policies show
		// their runs and erasure requests are carried out.
		enf := retention.New(retention.Config{Store: served, Clock: o.Clock, Logger: o.Logger, Keyring: o.Keyring, Poll: o.RetentionPoll})
		scfg.Retention = enf
		// The first pass after a start erases the residue of deleted data
		// and truncates the WAL: done here, before the test's first
		// request, it cannot empty the WAL under a test that reads it. The
		// schedule then starts an interval later: a second pass at once
		// would run beside the test's first requests and delete the old
		// results a test has just written (seen: 1 run in 400).
		first := o.Clock.Now()
		if _, err := enf.Pass(ctx, first); err != nil {
			t.Fatalf("first retention pass: %v", err)
		}
		rctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- enf.RunFrom(rctx, first.Add(enf.Interval())) }()
		t.Cleanup(func() {
			stop()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("retention: %v", err)
			}
		})
		// The channel test endpoint sends at once; it needs no running
		// engine, only a worker's senders under the same egress policy.
		reg := senders.Registry(senders.Options{HTTPClient: senders.NewHTTPClient(o.Egress), Clock: o.Clock})
		scfg.TestChannel = deliver.New(deliver.Config{Store: served, Keyring: o.Keyring, Registry: reg, Clock: o.Clock, Logger: o.Logger,
			AttemptTimeout: o.DeliveryAttemptTimeout}).TestChannel
	}
	srv, err := server.New(ctx, scfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	var caFile string
	hs := httptest.NewUnstartedServer(srv)
	if o.TLS {
		hs.StartTLS()
		caFile = filepath.Join(t.TempDir(), "ca.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw})
		if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
	} else {
		hs.Start()
	}
	t.Cleanup(hs.Close)
	return &Server{CACertFile: caFile, URL: hs.URL, Tokens: tokens, AdminToken: tokens[api.RoleAdmin], DBPath: dbPath, Keyring: o.Keyring, Store: st, Engine: eng, API: srv, HTTP: hs}
}

// ProviderConfig returns a provider block pointing at this server with the
// given role's token.
func (s *Server) ProviderConfig(role string) string {
	return fmt.Sprintf("provider \"aio\" {\n  address = %q\n  token   = %q\n}\n", s.URL, s.Tokens[role])
}
