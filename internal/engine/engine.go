// Package engine puts aiod's probing together: the scheduler runs the
// monitors through the prober, the results writer stores what they find in
// batches, retention enforces the retention policies, the alert evaluator turns the
// stored figures into alert events and deliveries, the delivery worker
// sends the outbox's deliveries, and metrics expose it all.
package engine

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/alerting"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/deliver"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/metrics"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/email"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/senders"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/probe"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/results"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/scheduler"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Config holds the engine's dependencies.
type Config struct {
	Store   store.Store
	Keyring *secret.Keyring
	Clock   clock.Clock
	Logger  *slog.Logger
	// Workers bounds concurrent probes (scheduler default when zero).
	Workers int
	// Resolution is the scheduler's tick (scheduler default when zero).
	Resolution time.Duration
	// Observer, when set, sees every dispatch and result beside the
	// engine's own metrics (the benchmark uses it).
	Observer scheduler.Observer
	// Egress is the probes' egress policy; nil is the default policy
	// (see package egress). Webhook, Slack and PagerDuty deliveries obey
	// it too.
	Egress *egress.Policy
	// PlaintextOK is the prober's probe.Config.PlaintextOK: which
	// addresses a credential may reach over plain http without an
	// http:// entry in its allowed_hosts. Nil is loopback only; tests
	// refuse everything to prove the refusal against local targets.
	PlaintextOK func(netip.Addr) bool
	// AlertInterval is how often every enabled alert threshold is
	// evaluated (alerting.DefaultInterval, 10 s, when zero).
	AlertInterval time.Duration
	// AlertObserver, when set, sees every evaluation tick beside the
	// engine's own metrics (the alerting benchmark uses it).
	AlertObserver alerting.Observer
	// SMTP is aiod's mail server for email channels; the zero value makes
	// every email delivery fail with an error naming the missing flags.
	SMTP email.Config
	// DeliveryGiveUpAfter is how long a delivery is retried after its
	// event (notify.DefaultGiveUpAfter, 24 h, when zero).
	DeliveryGiveUpAfter time.Duration
	// HistoryAge is how long revisions and tombstones of configuration
	// objects are kept when no retention policy covers them: the built-in
	// age of data kind revisions (retention.DefaultRevisionAge, 400 days,
	// when zero).
	HistoryAge time.Duration
	// DeliveryAttemptTimeout bounds one delivery attempt
	// (notify.DefaultAttemptTimeout when zero).
	DeliveryAttemptTimeout time.Duration
	// RetentionInterval, RetentionDefaults and AuditRetentionFloor set
	// retention (see package retention; zero values take its defaults).
	RetentionInterval   time.Duration
	RetentionDefaults   retention.Defaults
	AuditRetentionFloor time.Duration
}

// Engine runs the monitors.
type Engine struct {
	cfg       Config
	Metrics   *metrics.Metrics
	Prober    *probe.Prober
	Writer    *results.Writer
	Scheduler *scheduler.Scheduler
	// Retention enforces the retention policies and the built-in
	// defaults, prunes the results of deleted monitors and carries out
	// erasure requests.
	Retention *retention.Enforcer
	// Alerts evaluates the alert thresholds.
	Alerts *alerting.Evaluator
	// Notifiers sends over every channel type; Deliver is the outbox's
	// delivery worker (its TestChannel serves the channel test endpoint).
	Notifiers *notify.Registry
	Deliver   *deliver.Worker
}

// New wires the engine's parts.
func New(cfg Config) *Engine {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HistoryAge > 0 {
		d := maps.Clone(cfg.RetentionDefaults)
		if d == nil {
			d = retention.Defaults{}
		}
		d[api.DataRevisions] = cfg.HistoryAge
		cfg.RetentionDefaults = d
	}
	p := probe.New(probe.Config{Clock: cfg.Clock, Egress: cfg.Egress, PlaintextOK: cfg.PlaintextOK})
	w := results.New(cfg.Store, results.Config{Clock: cfg.Clock, Logger: cfg.Logger})
	m := metrics.New(metrics.Config{ResultsDropped: w.Dropped, Outbox: func(ctx context.Context) (int64, time.Duration, error) {
		st, err := cfg.Store.OutboxStats(ctx, cfg.Clock.Now())
		return st.Depth, st.OldestAge, err
	}})
	s := scheduler.New(scheduler.Config{
		Store: cfg.Store, Prober: p, Sink: w, Keyring: cfg.Keyring, Clock: cfg.Clock,
		Logger: cfg.Logger, Observer: observers(m, cfg.Observer), Workers: cfg.Workers, Resolution: cfg.Resolution,
	})
	reg := senders.Registry(senders.Options{HTTPClient: senders.NewHTTPClient(cfg.Egress), Clock: cfg.Clock, SMTP: cfg.SMTP})
	dw := deliver.New(deliver.Config{Store: cfg.Store, Keyring: cfg.Keyring, Registry: reg, Clock: cfg.Clock, Logger: cfg.Logger,
		Backoff: notify.Backoff{GiveUpAfter: cfg.DeliveryGiveUpAfter}, AttemptTimeout: cfg.DeliveryAttemptTimeout, Observe: m.Delivery})
	var ao alerting.Observer = m
	if cfg.AlertObserver != nil {
		ao = alertTee{m, cfg.AlertObserver}
	}
	a := alerting.New(alerting.Config{Store: cfg.Store, Clock: cfg.Clock, Logger: cfg.Logger, Interval: cfg.AlertInterval, Observer: ao,
		Delivered: dw.Wake})
	return &Engine{cfg: cfg, Metrics: m, Prober: p, Writer: w, Scheduler: s,
		Retention: retention.New(retention.Config{Store: cfg.Store, Clock: cfg.Clock, Logger: cfg.Logger, Keyring: cfg.Keyring,
			Interval: cfg.RetentionInterval, Defaults: cfg.RetentionDefaults, AuditFloor: cfg.AuditRetentionFloor}),
		Alerts: a, Notifiers: reg, Deliver: dw}
}

// Notify passes a configuration change to the scheduler and the alert
// evaluator (which reads it at its next tick). A credential's
// cached access tokens are dropped on any change of it, as the prober asks
// of its caller: a deleted credential's token must not stay in memory until
// the process exits.
func (e *Engine) Notify(kind, id string) {
	if kind == api.KindCredential {
		e.Prober.ForgetCredential(id)
	}
	e.Scheduler.Notify(kind, id)
	e.Alerts.Notify(kind, id)
}

// MetricsHandler serves /metrics.
func (e *Engine) MetricsHandler() http.Handler { return e.Metrics.Handler() }

// Run runs the engine until ctx ends. It then cancels the probes still
// running and discards what they return (a run cut short says nothing about
// its target, so it is neither stored nor counted), waits for the workers
// to stop, and stores every result recorded until then before it returns.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = e.Writer.Run(context.WithoutCancel(ctx))
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = e.Retention.Run(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = e.Alerts.Run(ctx)
	}()
	// The delivery worker stops claiming when ctx ends and waits for its
	// attempts in flight (each bounded by the attempt timeout), so that
	// an acknowledged delivery is recorded before aiod exits.
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = e.Deliver.Run(ctx)
	}()
	err := e.Scheduler.Run(ctx)
	// The scheduler has stopped its workers (their probes were cancelled
	// with ctx); store what they recorded.
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if cerr := e.Writer.Close(cctx); cerr != nil && err == nil {
		err = cerr
	}
	wg.Wait()
	e.Prober.CloseIdleConnections()
	return err
}

// tee passes the scheduler's observations to several observers.
type tee []scheduler.Observer

func observers(m *metrics.Metrics, extra scheduler.Observer) scheduler.Observer {
	if extra == nil {
		return m
	}
	return tee{m, extra}
}

func (t tee) Dispatched(lag time.Duration) {
	for _, o := range t {
		o.Dispatched(lag)
	}
}

func (t tee) Completed(r api.ProbeResult, took time.Duration) {
	for _, o := range t {
		o.Completed(r, took)
	}
}

func (t tee) Missed(id string) {
	for _, o := range t {
		o.Missed(id)
	}
}

// Forget passes on "this monitor left the schedule" to the observers that
// keep per-monitor state.
func (t tee) Forget(id string) {
	for _, o := range t {
		if f, ok := o.(interface{ Forget(string) }); ok {
			f.Forget(id)
		}
	}
}

// alertTee passes the evaluator's observations to several observers.
type alertTee []alerting.Observer

func (t alertTee) Evaluated(thresholds int, took time.Duration, err error) {
	for _, o := range t {
		o.Evaluated(thresholds, took, err)
	}
}

func (t alertTee) AlertsFiring(bySeverity map[string]int) {
	for _, o := range t {
		o.AlertsFiring(bySeverity)
	}
}
