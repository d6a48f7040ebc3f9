// Package alerting runs the alert thresholds: on every tick it reads the
// figure of each enabled threshold from the stored rollups (or the latest
// outcomes, certificate and credential expiries), steps the threshold's
// machines (package alert, the pure evaluation library), and stores every
// transition as an alert event with its deliveries and the machines' new
// states in one transaction, so that the delivery worker finds them in
// the outbox and a restart resumes where the last tick left off.
//
// The evaluator never sends anything and never waits for a receiver.
package alerting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/alert"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/stats"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// DefaultInterval is how often every enabled threshold is evaluated.
const DefaultInterval = 10 * time.Second

// DefaultReloadEvery is how often the configuration is read again even
// without a change notification.
const DefaultReloadEvery = time.Minute

// The reasons of transitions that are not the figure's doing.
const (
	ReasonChanged  = "threshold changed"
	ReasonDeleted  = "threshold deleted"
	ReasonDisabled = "threshold disabled"
)

// Observer is told about every tick, for metrics; *metrics.Metrics is the
// implementation.
type Observer interface {
	Evaluated(thresholds int, took time.Duration, err error)
	AlertsFiring(bySeverity map[string]int)
}

// Config holds the evaluator's dependencies.
type Config struct {
	Store  store.Store
	Clock  clock.Clock
	Logger *slog.Logger
	// Interval is the tick (DefaultInterval).
	Interval time.Duration
	// ReloadEvery re-reads the configuration without a notification
	// (DefaultReloadEvery). Run reads it between ticks, half an interval
	// before the tick that is due to adopt it, so that the tick does not
	// wait for it.
	ReloadEvery time.Duration
	// Poll is how often Run looks at the clock for a due tick (the
	// smaller of Interval and 250 ms), so that a fake clock moved forward
	// is noticed promptly.
	Poll time.Duration
	// Observer, when set, sees every tick.
	Observer Observer
	// Delivered, when set, is called after a tick stored new deliveries,
	// so that the delivery worker sends them now instead of at its next
	// poll.
	Delivered func()
}

// Evaluator evaluates the thresholds. Tick is safe to call from several
// goroutines (ticks are serialized); Notify never blocks.
type Evaluator struct {
	cfg Config

	mu       sync.Mutex
	loaded   bool
	loadedAt time.Time
	// applied is the count of notices that the entries reflect: the
	// configuration they were made from was read after that many.
	applied uint64
	// appliedSubjects is the same for the notices of monitors, endpoints
	// and credentials, which matter only while there are thresholds
	// (watching): during a burst of monitor creates with no threshold,
	// each tick read every monitor and endpoint twice for nothing (12
	// reads of 30,000 a minute in make bench-probe -burst 10000).
	appliedSubjects uint64
	watching        bool
	entries         map[string]*entry
	snap            *snapshot
	// notices counts the change notices of thresholds and channels, and
	// subjects those of monitors, endpoints and credentials (Notify).
	notices, subjects atomic.Uint64
	// pending is a configuration Run read between ticks, for the next
	// tick to adopt whole (or drop, when a notice came after it was read).
	pending  atomic.Pointer[config]
	lastTick atomic.Pointer[time.Time]
}

// config is the configuration as read from the store: every threshold and
// the snapshot, complete before anyone sees it.
type config struct {
	thrs []api.AlertThreshold
	snap *snapshot
	// notices is the count of notices before the read began: the read
	// saw every change notified until then.
	notices, subjects uint64
	// readAt is when the read began: the clock's time for a read
	// between ticks, the tick's own for a read by a tick.
	readAt time.Time
}

// entry is one threshold being evaluated.
type entry struct {
	thr  api.AlertThreshold
	rule alert.Rule
	subj subject
	t    *alert.Threshold
	// written holds the states last stored, by severity.
	written map[alert.Severity]store.AlertStateRecord
	// restored marks an entry made from stored states after a restart.
	// Its states name the threshold revision they were evaluated under:
	// when that is the threshold's current revision (or unknown, for
	// states stored before revisions were), it is taken as unchanged.
	restored bool
	// changedWhileDown marks a restored entry whose states were
	// evaluated under another revision of the threshold than the stored
	// one: the threshold was changed while no evaluator ran, and its
	// open alerts are resolved as for a change seen while running.
	changedWhileDown bool
}

// subject is what a threshold watches, with the names events carry.
type subject struct {
	monitorID, monitorName, endpointID, endpointName *string
}

// snapshot is the configuration a tick reads figures with.
type snapshot struct {
	monitors    map[string]monitorRef
	byEndpoint  map[string][]string
	endpoints   map[string]endpointRef
	channels    map[string]api.NotificationChannel
	credentials map[string]store.CredentialRecord
}

// New makes an evaluator; Run (or Tick) loads the configuration.
func New(cfg Config) *Evaluator {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.ReloadEvery <= 0 {
		cfg.ReloadEvery = DefaultReloadEvery
	}
	if cfg.Poll <= 0 {
		cfg.Poll = min(cfg.Interval, 250*time.Millisecond)
	}
	return &Evaluator{cfg: cfg, entries: map[string]*entry{}}
}

// Notify asks for the configuration to be read again by the next tick. The
// engine calls it on every change of a threshold, channel, monitor,
// endpoint or credential, after the change is stored.
func (e *Evaluator) Notify(kind, _ string) {
	switch kind {
	case api.KindThreshold, api.KindChannel:
		e.notices.Add(1)
	case api.KindMonitor, api.KindEndpoint, api.KindCredential:
		e.subjects.Add(1)
	}
}

// LastTick returns the time of the latest tick that was stored, and
// whether there was one.
func (e *Evaluator) LastTick() (time.Time, bool) {
	if p := e.lastTick.Load(); p != nil {
		return *p, true
	}
	return time.Time{}, false
}

// Run ticks every Interval of the injected clock until ctx ends, the
// first tick at once; each tick evaluates as of its scheduled time. A
// tick that fails is logged and counted; the next one starts again from
// the stored state.
func (e *Evaluator) Run(ctx context.Context) error {
	poll := time.NewTicker(e.cfg.Poll)
	defer poll.Stop()
	next := e.cfg.Clock.Now()
	// prefetched is the tick that a configuration was read for.
	var prefetched time.Time
	for {
		now := e.cfg.Clock.Now()
		if now.Before(next) && !now.Before(next.Add(-e.cfg.Interval/2)) && !prefetched.Equal(next) {
			// Half an interval before a tick that is to read the
			// configuration again, read it now, between ticks: at
			// 10,000 thresholds it is some hundred milliseconds, which
			// the tick would otherwise spend before evaluating
			// anything (bench-alerts measured its every-minute ticks at
			// 1.65 s against 0.77 s).
			prefetched = next
			if e.reloadDue(next) {
				if err := e.Prefetch(ctx); err != nil && ctx.Err() == nil {
					e.cfg.Logger.Error("read the alerting configuration", "error", err)
				}
			}
		}
		if !now.Before(next) {
			// Evaluate as of the tick's scheduled time, not the poll's
			// (up to Poll later, plus the wake-up's jitter): the ticks
			// are then exactly Interval apart, so a pending_for that is
			// a multiple of the interval elapses exactly at a tick. At
			// the poll's time, now − since fell short of pending_for by
			// the jitter about half the time, and the alert fired a
			// whole tick late (bench-alerts measured 10 s).
			at := next
			if now.Sub(next) >= e.cfg.Interval {
				at = now
			}
			if err := e.Tick(ctx, at); err != nil && ctx.Err() == nil {
				e.cfg.Logger.Error("evaluate alert thresholds", "error", err)
			}
			next = next.Add(e.cfg.Interval)
			if !next.After(now) {
				// Behind by more than a tick (a slow store, a clock
				// moved far): skip the missed ticks rather than run
				// them back to back.
				next = now.Add(e.cfg.Interval)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		}
	}
}

// reloadDue tells whether a tick at at would read the configuration again:
// none was adopted yet, a change was notified since, or the one in use
// was read ReloadEvery before at or earlier.
func (e *Evaluator) reloadDue(at time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reloadDueLocked(at)
}

func (e *Evaluator) reloadDueLocked(at time.Time) bool {
	return !e.loaded || e.notices.Load() != e.applied || e.watching && e.subjects.Load() != e.appliedSubjects ||
		at.Sub(e.loadedAt) >= e.cfg.ReloadEvery
}

// Prefetch reads the configuration for the next tick to adopt, outside
// any tick: Run calls it half an interval before a tick that is due to
// read it. The next tick adopts it whole, unless a change was notified
// after the read began (then the tick reads again, as it does without a
// prefetched configuration) or it is older than an interval. The first
// configuration after a start is always read by the tick, which also
// restores the stored states.
func (e *Evaluator) Prefetch(ctx context.Context) error {
	e.mu.Lock()
	watching := e.watching
	e.mu.Unlock()
	c, err := e.readConfig(ctx, e.cfg.Clock.Now(), watching)
	if err != nil {
		return err
	}
	e.pending.Store(c)
	return nil
}

// readConfig reads every threshold and the rest of the configuration, as
// of at. watching is whether the configuration in use has thresholds (the
// caller reads it under e.mu, which Tick holds).
func (e *Evaluator) readConfig(ctx context.Context, at time.Time, watching bool) (*config, error) {
	// The count of notices is taken before reading: a change notified
	// after it may or may not be in what is read, and a tick then reads
	// again.
	c := &config{notices: e.notices.Load(), subjects: e.subjects.Load(), readAt: at}
	st := e.cfg.Store
	var (
		wg         sync.WaitGroup
		terr, serr error
	)
	if !watching {
		// No threshold was there at the last read, and most likely none is
		// now: then nothing reads the monitors, endpoints, channels and
		// credentials, and reading them is skipped (at 50,000 monitors
		// 0.74–0.86 s of CPU a reload in the engine's profiles). The thresholds are read
		// first to know.
		if c.thrs, terr = store.ListAll(ctx, st.ListThresholds); terr != nil {
			return nil, fmt.Errorf("load thresholds: %w", terr)
		}
		if len(c.thrs) == 0 {
			c.snap = newSnapshot()
			return c, nil
		}
		if c.snap, serr = loadSnapshot(ctx, st); serr != nil {
			return nil, serr
		}
		return c, nil
	}
	// The thresholds and the rest of the configuration are read at the
	// same time, on connections of their own: at 10,000 thresholds and
	// monitors each is some hundred milliseconds of rows to decode.
	wg.Go(func() { c.thrs, terr = store.ListAll(ctx, st.ListThresholds) })
	wg.Go(func() { c.snap, serr = loadSnapshot(ctx, st) })
	wg.Wait()
	if terr != nil {
		return nil, fmt.Errorf("load thresholds: %w", terr)
	}
	if serr != nil {
		return nil, serr
	}
	return c, nil
}

// batch is what one tick stores.
type batch struct {
	store.AlertBatch
	// deletes are the thresholds whose states are removed first.
	deletes []string
	// written are the state records to remember once stored.
	written []writtenState
}

type writtenState struct {
	e   *entry
	rec store.AlertStateRecord
}

// Tick evaluates every enabled threshold at now and stores the outcome in
// one transaction. If anything fails, nothing is stored and the machines
// are as they were before the tick.
func (e *Evaluator) Tick(ctx context.Context, now time.Time) (err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	start := time.Now()
	evaluated := 0
	defer func() {
		if o := e.cfg.Observer; o != nil {
			o.Evaluated(evaluated, time.Since(start), err)
		}
	}()

	var b batch
	entries, snap := e.entries, e.snap
	// A reload that is not stored leaves loaded, applied and loadedAt as
	// they were, so that the next tick reloads again.
	reload := e.reloadDueLocked(now)
	var c *config
	if reload {
		// A configuration read between ticks is taken when it saw every
		// change notified so far and is recent; otherwise (the first
		// load, a notice after it was read, Tick called without Run) it
		// is read now.
		if p := e.pending.Swap(nil); p != nil && e.loaded && p.notices == e.notices.Load() &&
			(len(p.thrs) == 0 || p.subjects == e.subjects.Load()) && now.Sub(p.readAt) < e.cfg.Interval {
			c = p
		} else if c, err = e.readConfig(ctx, now, e.watching); err != nil {
			return err
		}
		entries, snap, err = e.load(ctx, now, c, &b)
		if err != nil {
			return err
		}
	}
	// The machines as they were, to put back if the tick is not stored.
	saved := make(map[*entry][2]alert.Machine, len(entries))
	for _, en := range entries {
		saved[en] = [2]alert.Machine{en.t.Critical, en.t.Warning}
	}
	rollback := func() {
		for en, m := range saved {
			en.t.Critical, en.t.Warning = m[0], m[1]
		}
	}
	r := reader{st: e.cfg.Store, snap: snap, now: now, rollups: map[rollupKey]*stats.Rollup{}, states: map[string]store.MonitorState{},
		outcomes: map[outcomesKey][]store.OutcomeAt{}}
	if err := r.prefetch(ctx, entries); err != nil {
		rollback()
		return err
	}
	var trs []alert.Transition
	for _, id := range sortedKeys(entries) {
		en := entries[id]
		trs, err = e.evaluate(ctx, &r, en, trs[:0], &b)
		if err != nil {
			rollback()
			return fmt.Errorf("threshold %s: %w", id, err)
		}
		evaluated++
	}
	if err := e.store(ctx, &b); err != nil {
		rollback()
		return err
	}
	for _, w := range b.written {
		w.e.written[alert.Severity(w.rec.Severity)] = w.rec
	}
	if reload {
		e.entries, e.snap, e.loaded, e.loadedAt, e.applied = entries, snap, true, c.readAt, c.notices
		e.appliedSubjects, e.watching = c.subjects, len(c.thrs) > 0
	}
	e.lastTick.Store(&now)
	if o := e.cfg.Observer; o != nil {
		firing := map[string]int{}
		for _, en := range entries {
			for _, m := range []*alert.Machine{&en.t.Critical, &en.t.Warning} {
				if m.State == alert.Firing {
					sev := api.SeverityCritical
					if m == &en.t.Warning {
						sev = api.SeverityWarning
					}
					firing[sev]++
				}
			}
		}
		o.AlertsFiring(firing)
	}
	return nil
}

// store writes the batch in one transaction: the states of deleted or
// changed thresholds are removed, then the events, deliveries and new
// states are written.
func (e *Evaluator) store(ctx context.Context, b *batch) error {
	if len(b.deletes) == 0 && len(b.Events) == 0 && len(b.Deliveries) == 0 && len(b.States) == 0 {
		return nil
	}
	err := e.cfg.Store.Write(ctx, func(tx store.Tx) error {
		for _, id := range b.deletes {
			if err := tx.DeleteAlertStates(ctx, id); err != nil {
				return fmt.Errorf("delete alert states of %s: %w", id, err)
			}
		}
		if len(b.Events) == 0 && len(b.Deliveries) == 0 && len(b.States) == 0 {
			return nil
		}
		return tx.RecordTransitions(ctx, b.AlertBatch)
	})
	if err == nil && len(b.Deliveries) > 0 && e.cfg.Delivered != nil {
		e.cfg.Delivered()
	}
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ---- configuration ----

// load returns the entries to evaluate under the configuration c. The
// thresholds that were changed, disabled or deleted since the last load
// have their open alerts resolved, with the reason, into b; their states
// are removed. Neither the evaluator's own fields nor c are changed: Tick
// adopts the result once the tick is stored.
func (e *Evaluator) load(ctx context.Context, now time.Time, c *config, b *batch) (map[string]*entry, *snapshot, error) {
	thrs, snap := c.thrs, c.snap
	var err error
	prev := e.entries
	if !e.loaded {
		if prev, err = e.restore(ctx, snap, thrs); err != nil {
			return nil, nil, err
		}
	}
	next := make(map[string]*entry, len(thrs))
	seen := make(map[string]bool, len(thrs))
	for i := range thrs {
		thr := thrs[i]
		seen[thr.ID] = true
		old := prev[thr.ID]
		if !thr.IsEnabled() {
			if old != nil {
				e.resolve(old, now, ReasonDisabled, snap, b)
			}
			continue
		}
		rule, err := alert.RuleFromAPI(&thr)
		if err == nil {
			if errs := rule.Validate(); len(errs) > 0 {
				err = fmt.Errorf("%s %s", errs[0].Field, errs[0].Message)
			}
		}
		if err != nil {
			// The API validates every threshold; one that still cannot
			// be evaluated is left out, loudly, rather than guessed at.
			e.cfg.Logger.Error("alert threshold cannot be evaluated", "threshold_id", thr.ID, "error", err)
			if old != nil {
				e.resolve(old, now, ReasonChanged, snap, b)
			}
			continue
		}
		en := &entry{thr: thr, rule: rule, subj: snap.subjectOf(&thr), written: map[alert.Severity]store.AlertStateRecord{}}
		switch {
		case old == nil:
			en.t = alert.NewThreshold(rule)
		case old.changedWhileDown:
			// What the states were evaluated under is not known beyond
			// its revision: any change resolves, rather than let an
			// alert of the old rule go on under the new one.
			en.t = alert.NewThreshold(rule)
			en.t.Critical, en.t.Warning = e.resolve(old, now, ReasonChanged, snap, b)
		case old.restored || sameEvaluation(old, &thr, &rule):
			// A rename or new channels keep the alert going.
			en.t, en.written = old.t, old.written
			en.t.Rule = rule
		default:
			en.t = alert.NewThreshold(rule)
			en.t.Critical, en.t.Warning = e.resolve(old, now, ReasonChanged, snap, b)
		}
		next[thr.ID] = en
	}
	for _, id := range sortedKeys(prev) {
		if !seen[id] {
			e.resolve(prev[id], now, ReasonDeleted, snap, b)
		}
	}
	return next, snap, nil
}

// sameEvaluation tells whether a threshold's change leaves what it
// evaluates alone: the same rule over the same monitor or endpoint.
func sameEvaluation(old *entry, thr *api.AlertThreshold, rule *alert.Rule) bool {
	return eqPtr(old.thr.MonitorID, thr.MonitorID) && eqPtr(old.thr.EndpointID, thr.EndpointID) &&
		reflect.DeepEqual(old.rule, *rule)
}

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// resolve ends the open alerts of a threshold that was changed, disabled
// or deleted, as of the entry's last configuration: its events carry the
// reason, and firing alerts that were delivered are delivered resolved.
// The threshold's stored states are removed; it returns the machines
// after the reset.
func (e *Evaluator) resolve(old *entry, now time.Time, reason string, snap *snapshot, b *batch) (critical, warning alert.Machine) {
	t := *old.t // a copy: old stays as it was if the tick is not stored
	for _, tr := range t.ResolveAll(now) {
		e.record(old, tr, now, reason, snap, b)
	}
	b.deletes = append(b.deletes, old.thr.ID)
	return t.Critical, t.Warning
}

// restore makes entries from the stored states, at the first load after
// a start. The states of a threshold that no longer exists are given the
// names of its latest event, so that their resolution reads right.
func (e *Evaluator) restore(ctx context.Context, snap *snapshot, thrs []api.AlertThreshold) (map[string]*entry, error) {
	recs, err := e.cfg.Store.LoadAlertStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("load alert states: %w", err)
	}
	byID := make(map[string]*api.AlertThreshold, len(thrs))
	for i := range thrs {
		byID[thrs[i].ID] = &thrs[i]
	}
	out := map[string]*entry{}
	for _, rec := range recs {
		en := out[rec.ThresholdID]
		if en == nil {
			en = &entry{t: &alert.Threshold{}, written: map[alert.Severity]store.AlertStateRecord{}, restored: true}
			if thr := byID[rec.ThresholdID]; thr != nil {
				en.thr, en.subj = *thr, snap.subjectOf(thr)
				if rule, err := alert.RuleFromAPI(thr); err == nil {
					en.rule, en.t.Rule = rule, rule
				}
				en.changedWhileDown = rec.ThresholdRevision != 0 && rec.ThresholdRevision != thr.Revision
			} else if en.thr, en.subj, err = e.lastKnown(ctx, rec.ThresholdID); err != nil {
				return nil, err
			}
			out[rec.ThresholdID] = en
		}
		m := alert.Machine{State: alert.State(rec.State), Since: rec.Since, ClearSince: rec.ClearSince,
			Notified: rec.Notified, LastNotified: rec.LastNotified}
		switch alert.Severity(rec.Severity) {
		case alert.Critical:
			en.t.Critical = m
		case alert.Warning:
			en.t.Warning = m
		default:
			continue
		}
		en.written[alert.Severity(rec.Severity)] = rec
	}
	return out, nil
}

// lastKnown describes a deleted threshold from its latest alert event.
func (e *Evaluator) lastKnown(ctx context.Context, id string) (api.AlertThreshold, subject, error) {
	thr := api.AlertThreshold{Meta: api.Meta{ID: id}, Name: id}
	evs, _, err := e.cfg.Store.ListAlertEvents(ctx, store.AlertEventQuery{ThresholdID: id, Limit: 1})
	if err != nil {
		return thr, subject{}, fmt.Errorf("read the latest event of %s: %w", id, err)
	}
	if len(evs) == 0 {
		return thr, subject{}, nil
	}
	ev := evs[0]
	thr.Name, thr.Metric, thr.RunbookURL, thr.Window = ev.ThresholdName, ev.Metric, ev.RunbookURL, ev.Window
	return thr, subject{monitorID: ev.MonitorID, monitorName: ev.MonitorName, endpointID: ev.EndpointID, endpointName: ev.EndpointName}, nil
}

// monitorRef is what the evaluator needs of a monitor: its name for the
// alerts, its endpoint, and the credential of its own request.
type monitorRef struct {
	name, endpointID string
	credentialID     *string
}

// endpointRef is what the evaluator needs of an endpoint.
type endpointRef struct {
	name         string
	credentialID *string
}

// loadSnapshot reads the monitors and endpoints a page at a time and keeps
// only what the evaluator uses of them: at 50,000 monitors whole copies of
// both, read with ListAll every minute, were the largest part of aiod's
// heap in a profile of make bench-probe (29.6 of 140 MB live), beside the
// scheduler's own.
// newSnapshot returns an empty snapshot.
func newSnapshot() *snapshot {
	return &snapshot{monitors: map[string]monitorRef{}, byEndpoint: map[string][]string{}, endpoints: map[string]endpointRef{},
		channels: map[string]api.NotificationChannel{}, credentials: map[string]store.CredentialRecord{}}
}

func loadSnapshot(ctx context.Context, st store.Store) (*snapshot, error) {
	s := newSnapshot()
	err := store.EachPage(ctx, st.ListMonitors, func(page []api.Monitor) error {
		for _, m := range page {
			ref := monitorRef{name: m.Name, endpointID: m.EndpointID}
			if m.Request != nil {
				ref.credentialID = m.Request.CredentialID
			}
			s.monitors[m.ID] = ref
			s.byEndpoint[m.EndpointID] = append(s.byEndpoint[m.EndpointID], m.ID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load monitors: %w", err)
	}
	err = store.EachPage(ctx, st.ListEndpoints, func(page []api.Endpoint) error {
		for _, ep := range page {
			s.endpoints[ep.ID] = endpointRef{name: ep.Name, credentialID: ep.CredentialID}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load endpoints: %w", err)
	}
	chans, err := store.ListAll(ctx, st.ListChannels)
	if err != nil {
		return nil, fmt.Errorf("load notification channels: %w", err)
	}
	creds, err := store.ListAll(ctx, st.ListCredentials)
	if err != nil {
		return nil, fmt.Errorf("load credentials: %w", err)
	}
	s.channels = make(map[string]api.NotificationChannel, len(chans))
	s.credentials = make(map[string]store.CredentialRecord, len(creds))
	for _, c := range chans {
		c.Secret = nil
		s.channels[c.ID] = c.NotificationChannel
	}
	for _, c := range creds {
		c.Sealed = secret.Sealed{}
		s.credentials[c.ID] = c
	}
	return s, nil
}

// subjectOf names what a threshold watches: its monitor and that
// monitor's endpoint, or its endpoint.
func (s *snapshot) subjectOf(thr *api.AlertThreshold) subject {
	var sj subject
	epID := thr.EndpointID
	if thr.MonitorID != nil {
		sj.monitorID = new(*thr.MonitorID)
		if m, ok := s.monitors[*thr.MonitorID]; ok {
			sj.monitorName = new(m.name)
			epID = &m.endpointID
		}
	}
	if epID != nil {
		sj.endpointID = new(*epID)
		if ep, ok := s.endpoints[*epID]; ok {
			sj.endpointName = new(ep.name)
		}
	}
	return sj
}

// monitorsOf lists the monitors whose results make a threshold's figure.
func (s *snapshot) monitorsOf(thr *api.AlertThreshold) []string {
	if thr.MonitorID != nil {
		return []string{*thr.MonitorID}
	}
	if thr.EndpointID != nil {
		return s.byEndpoint[*thr.EndpointID]
	}
	return nil
}

// ---- evaluation ----

// evaluate steps one threshold's machines with its figure at r.now and
// adds its transitions and changed states to b.
func (e *Evaluator) evaluate(ctx context.Context, r *reader, en *entry, trs []alert.Transition, b *batch) ([]alert.Transition, error) {
	rule := &en.rule
	values := map[alert.Severity]*float64{}
	if rule.Metric == alert.ErrorBudgetBurnRate {
		rates, err := r.burnRates(ctx, en)
		if err != nil {
			return trs, err
		}
		trs = en.t.AppendEvaluateBurnRates(trs, r.now, rates)
		for _, sev := range []alert.Severity{alert.Critical, alert.Warning} {
			values[sev] = burnValue(rule.Windows(), rates, sev)
		}
	} else {
		v, ok, err := r.figure(ctx, en)
		if err != nil {
			return trs, err
		}
		var value *float64
		if ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			value = &v
		}
		trs = en.t.AppendEvaluate(trs, r.now, value)
		values[alert.Critical], values[alert.Warning] = value, value
	}
	for _, tr := range trs {
		e.record(en, tr, r.now, "", r.snap, b)
	}
	for _, sev := range configured(rule) {
		m := &en.t.Critical
		if sev == alert.Warning {
			m = &en.t.Warning
		}
		rec := stateRecord(en.thr.ID, sev, m, values[sev])
		rec.ThresholdRevision = en.thr.Revision
		if old, ok := en.written[sev]; !ok || changed(old, rec) {
			b.States = append(b.States, rec)
			b.written = append(b.written, writtenState{en, rec})
		}
	}
	return trs, nil
}

// configured lists the severities a rule has machines for.
func configured(r *alert.Rule) []alert.Severity {
	var out []alert.Severity
	if r.Metric == alert.ErrorBudgetBurnRate {
		for _, sev := range []alert.Severity{alert.Critical, alert.Warning} {
			if slices.ContainsFunc(r.Windows(), func(w alert.BurnRateWindow) bool { return w.Severity == sev }) {
				out = append(out, sev)
			}
		}
		return out
	}
	if r.Critical != nil {
		out = append(out, alert.Critical)
	}
	if r.Warning != nil {
		out = append(out, alert.Warning)
	}
	return out
}

// burnValue is the value EvaluateBurnRates gives a severity: the rate of
// its pair furthest past its factor; nil without data.
func burnValue(pairs []alert.BurnRateWindow, rates []alert.PairRates, sev alert.Severity) *float64 {
	var (
		best      *float64
		bestScore float64
	)
	for i, p := range pairs {
		if p.Severity != sev || i >= len(rates) || !rates[i].HasLong || !rates[i].HasShort {
			continue
		}
		v := min(rates[i].Long, rates[i].Short)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if s := v / p.Factor; best == nil || s > bestScore {
			best, bestScore = new(v), s
		}
	}
	return best
}

func stateRecord(id string, sev alert.Severity, m *alert.Machine, value *float64) store.AlertStateRecord {
	rec := store.AlertStateRecord{ThresholdID: id, Severity: string(sev), State: string(m.State), Since: m.Since,
		ClearSince: m.ClearSince, Notified: m.Notified, LastNotified: m.LastNotified}
	if rec.State == "" {
		rec.State = string(alert.OK)
	}
	if m.State == alert.Pending || m.State == alert.Firing {
		rec.StartedAt, rec.Value = m.Since, value
	}
	return rec
}

// changed tells whether a state record must be stored again: the machine
// moved, the figure of a current alert changed (GET /v1/alerts shows it),
// or the threshold was changed in a way that keeps its alerts (a rename),
// so that a restart does not take the new revision for a change it
// missed. The figure of an ok machine is not stored on every tick.
func changed(a, b store.AlertStateRecord) bool {
	return a.State != b.State || a.ThresholdRevision != b.ThresholdRevision || !a.Since.Equal(b.Since) || !a.ClearSince.Equal(b.ClearSince) || a.Notified != b.Notified ||
		!a.LastNotified.Equal(b.LastNotified) || !a.StartedAt.Equal(b.StartedAt) || !eqPtr(a.Value, b.Value)
}

// record turns a transition into an alert event and its deliveries.
func (e *Evaluator) record(en *entry, tr alert.Transition, now time.Time, reason string, snap *snapshot, b *batch) {
	ev := api.AlertEvent{
		ID: ids.New(api.PrefixAlertEvent, now), ThresholdID: en.thr.ID, ThresholdName: en.thr.Name,
		MonitorID: en.subj.monitorID, MonitorName: en.subj.monitorName, EndpointID: en.subj.endpointID, EndpointName: en.subj.endpointName,
		RunbookURL: en.thr.RunbookURL, Severity: string(tr.Severity), FromState: string(tr.From), ToState: string(tr.To),
		Metric: en.thr.Metric, At: tr.At, Reminder: tr.Reminder,
	}
	ev.Window, ev.LongWindow, ev.ShortWindow = windowsOf(en, tr)
	if tr.Value != nil && !math.IsNaN(*tr.Value) && !math.IsInf(*tr.Value, 0) {
		ev.Value = new(*tr.Value)
	}
	if !tr.StartedAt.IsZero() {
		ev.StartedAt = new(tr.StartedAt)
	}
	if tr.To == alert.Resolved {
		ev.ResolvedAt = new(tr.At)
	}
	if reason != "" {
		ev.Reason = new(reason)
	}
	b.Events = append(b.Events, ev)
	if !tr.Notify {
		return
	}
	for _, chID := range en.thr.ChannelIDs {
		ch, ok := snap.channels[chID]
		if !ok || !ch.IsEnabled() {
			continue
		}
		if tr.To == alert.Resolved && ch.SendResolved != nil && !*ch.SendResolved {
			continue
		}
		b.Deliveries = append(b.Deliveries, api.Delivery{ID: ids.New(api.PrefixDelivery, now), EventID: ev.ID, ChannelID: chID,
			State: api.DeliveryPending, CreatedAt: now})
	}
}

// windowsOf are the windows an event names: the threshold's window for a
// windowed metric; for a burn rate the pair behind the value, window and
// long window being the pair's long one ("1h", "1h", "5m"); none
// otherwise.
func windowsOf(en *entry, tr alert.Transition) (window, long, short *string) {
	if en.rule.Metric.Windowed() {
		return en.thr.Window, nil, nil
	}
	if tr.Pair == nil {
		return nil, nil, nil
	}
	l := fmtWindow(tr.Pair.Long)
	return &l, new(l), new(fmtWindow(tr.Pair.Short))
}

// fmtWindow writes a duration as people write windows: "5m", "1h", "72h".
func fmtWindow(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// ---- figures ----

type rollupKey struct {
	monitorID string
	window    time.Duration
}

// outcomesKey is a monitor's latest n outcomes.
type outcomesKey struct {
	monitorID string
	n         int
}

// reader reads figures for one tick, each monitor's window once.
type reader struct {
	st       store.Store
	snap     *snapshot
	now      time.Time
	rollups  map[rollupKey]*stats.Rollup
	states   map[string]store.MonitorState
	outcomes map[outcomesKey][]store.OutcomeAt
}

// prefetch reads every window the entries need, all monitors of one
// window length together (a few queries each instead of several per
// monitor), and the latest outcomes of every monitor that a
// consecutive_failures threshold watches, also together. Only the latency
// metrics need a window's latencies; for the others (counts:
// availability, error and retry rates, probes per minute, burn rates) the
// store sums the rollups itself (a counts window of ReadWindows), which costs a fraction of
// handing over every minute's rollup with its histogram.
func (r *reader) prefetch(ctx context.Context, entries map[string]*entry) error {
	type need struct{ latencies, counts []string }
	byWindow := map[time.Duration]*need{}
	latency := map[rollupKey]bool{}
	add := func(w time.Duration, mons []string, lat bool) {
		for _, id := range mons {
			k := rollupKey{id, w}
			if lat {
				latency[k] = true
			}
			if _, ok := r.rollups[k]; !ok {
				r.rollups[k] = nil
				if byWindow[w] == nil {
					byWindow[w] = &need{}
				}
			}
		}
	}
	latest := map[int][]string{}
	for _, en := range entries {
		mons := r.snap.monitorsOf(&en.thr)
		switch {
		case en.rule.Metric == alert.ConsecutiveFailures:
			n := outcomesNeeded(&en.rule)
			latest[n] = append(latest[n], mons...)
		case en.rule.Metric.Windowed():
			add(en.rule.Window, mons, needsLatencies(en.rule.Metric))
		case en.rule.Metric == alert.ErrorBudgetBurnRate:
			for _, p := range en.rule.Windows() {
				add(p.Long, mons, false)
				add(p.Short, mons, false)
			}
		}
	}
	for k := range r.rollups {
		n := byWindow[k.window]
		if n == nil {
			continue
		}
		if latency[k] {
			n.latencies = append(n.latencies, k.monitorID)
		} else {
			n.counts = append(n.counts, k.monitorID)
		}
	}
	// Every window of the tick in two reads, one for the counts windows
	// (which share their trailing edges, the minutes just before now: the
	// store reads them once for all) and one for the latency windows, run
	// at the same time as each other and as the latest outcomes' read, on
	// connections of their own: a tick's wall time is then that of its
	// longest read, not their sum, where a core is free.
	type part struct {
		window time.Duration
		mons   []string
	}
	var parts [2][]part
	var reads [2][]store.WindowRead
	for w, n := range byWindow {
		for i, mons := range [2][]string{n.counts, n.latencies} {
			if len(mons) == 0 {
				continue
			}
			slices.Sort(mons)
			parts[i] = append(parts[i], part{w, mons})
			reads[i] = append(reads[i], store.WindowRead{MonitorIDs: mons, From: r.now.Add(-w), Latencies: i == 1})
		}
	}
	var (
		wg       sync.WaitGroup
		errs     [3]error
		windows  [2][]map[string]*stats.Rollup
		outcomes = map[outcomesKey][]store.OutcomeAt{}
	)
	for i := range reads {
		if len(reads[i]) == 0 {
			continue
		}
		wg.Go(func() { windows[i], errs[i] = r.st.ReadWindows(ctx, r.now, reads[i]) })
	}
	wg.Go(func() {
		for n, mons := range latest {
			got, err := r.st.LatestOutcomesOf(ctx, mons, n)
			if err != nil {
				errs[2] = err
				return
			}
			for id, o := range got {
				outcomes[outcomesKey{id, n}] = o
			}
		}
	})
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return err
	}
	maps.Copy(r.outcomes, outcomes)
	for i := range parts {
		for j, p := range parts[i] {
			for _, id := range p.mons {
				r.rollups[rollupKey{id, p.window}] = windows[i][j][id]
			}
		}
	}
	return nil
}

// needsLatencies tells whether a windowed metric is computed from the
// latencies (the histogram and the latency sum) and not only from counts.
func needsLatencies(m alert.Metric) bool {
	switch m {
	case alert.LatencyAvgMS, alert.LatencyP95MS, alert.LatencyP99MS:
		return true
	}
	return false
}

// rollup returns the merged rollup of the monitors over [now-window, now).
func (r *reader) rollup(ctx context.Context, monitors []string, window time.Duration) (*stats.Rollup, error) {
	var total stats.Rollup
	for _, id := range monitors {
		k := rollupKey{id, window}
		ru := r.rollups[k]
		if ru == nil {
			got, st, err := r.st.MonitorStatus(ctx, id, r.now.Add(-window), r.now)
			if err != nil {
				return nil, err
			}
			ru = &got
			r.rollups[k], r.states[id] = ru, st
		}
		if len(monitors) == 1 {
			return ru, nil
		}
		total.Merge(ru)
	}
	return &total, nil
}

// state returns a monitor's latest state.
func (r *reader) state(ctx context.Context, id string) (store.MonitorState, error) {
	if st, ok := r.states[id]; ok {
		return st, nil
	}
	// An empty window reads only the state.
	_, st, err := r.st.MonitorStatus(ctx, id, r.now, r.now)
	if err != nil {
		return st, err
	}
	r.states[id] = st
	return st, nil
}

// figure computes the figure of a threshold other than a burn rate.
func (r *reader) figure(ctx context.Context, en *entry) (float64, bool, error) {
	rule := &en.rule
	mons := r.snap.monitorsOf(&en.thr)
	switch {
	case rule.Metric.Windowed():
		if len(mons) == 0 {
			return 0, false, nil
		}
		ru, err := r.rollup(ctx, mons, rule.Window)
		if err != nil {
			return 0, false, err
		}
		v, ok := alert.FromRollup(rule.Metric, ru, rule.Window)
		return v, ok, nil
	case rule.Metric == alert.ConsecutiveFailures:
		return r.consecutiveFailures(ctx, rule, mons)
	case rule.Metric == alert.TLSCertExpiresInDays:
		// Over an endpoint, the certificate that expires first.
		var soonest *time.Time
		for _, id := range mons {
			st, err := r.state(ctx, id)
			if err != nil {
				return 0, false, err
			}
			if c := st.TLSCertExpiresAt; c != nil && (soonest == nil || c.Before(*soonest)) {
				soonest = c
			}
		}
		v, ok := alert.TLSCertExpiresIn(r.now, soonest)
		return v, ok, nil
	case rule.Metric == alert.CredentialExpiresInDays:
		return r.credentialExpiry(&en.thr, mons)
	}
	return 0, false, nil
}

// outcomesNeeded is how many of the latest outcomes a consecutive_failures
// rule reads: one more than the largest value compared with, so that the
// count can pass it.
func outcomesNeeded(rule *alert.Rule) int {
	n := 1
	for _, v := range []*float64{rule.Warning, rule.Critical, rule.RecoveryWarning, rule.RecoveryCritical} {
		if v != nil && *v+1 > float64(n) {
			n = int(min(*v+1, store.MaxLatestOutcomes))
		}
	}
	return n
}

// consecutiveFailures counts the failures at the head of the latest
// outcomes; over an endpoint, of all its monitors' outcomes merged by time.
func (r *reader) consecutiveFailures(ctx context.Context, rule *alert.Rule, mons []string) (float64, bool, error) {
	n := outcomesNeeded(rule)
	var all []store.OutcomeAt
	for _, id := range mons {
		got, ok := r.outcomes[outcomesKey{id, n}]
		if !ok {
			var err error
			if got, err = r.st.LatestOutcomes(ctx, id, n); err != nil {
				return 0, false, err
			}
		}
		all = append(all, got...)
	}
	if len(mons) > 1 {
		slices.SortStableFunc(all, func(a, b store.OutcomeAt) int { return b.Time.Compare(a.Time) })
		all = all[:min(len(all), n)]
	}
	outcomes := make([]string, len(all))
	for i, o := range all {
		outcomes[i] = o.Outcome
	}
	v, ok := alert.ConsecutiveFailuresOf(outcomes)
	return v, ok, nil
}

// credentialExpiry computes credential_expires_in_days from the
// credentials the probes use: the endpoint's, and each monitor's own;
// the one due first counts.
func (r *reader) credentialExpiry(thr *api.AlertThreshold, mons []string) (float64, bool, error) {
	var credIDs []string
	add := func(id *string) {
		if id != nil && !slices.Contains(credIDs, *id) {
			credIDs = append(credIDs, *id)
		}
	}
	if thr.EndpointID != nil {
		if ep, ok := r.snap.endpoints[*thr.EndpointID]; ok {
			add(ep.credentialID)
		}
	}
	for _, id := range mons {
		m, ok := r.snap.monitors[id]
		if !ok {
			continue
		}
		if m.credentialID != nil {
			add(m.credentialID)
		} else if ep, ok := r.snap.endpoints[m.endpointID]; ok {
			add(ep.credentialID)
		}
	}
	var (
		best   float64
		haveIt bool
	)
	for _, id := range credIDs {
		c, ok := r.snap.credentials[id]
		if !ok {
			continue
		}
		v, ok := alert.CredentialExpiresIn(r.now, c.ExpiresAt, rotationDue(c))
		if ok && (!haveIt || v < best) {
			best, haveIt = v, true
		}
	}
	return best, haveIt, nil
}

// rotationDue is when a credential is due for rotation: its last
// rotation plus its rotation period (the API's rotation_due_at without the
// expiry, which CredentialExpiresIn weighs itself).
func rotationDue(c store.CredentialRecord) *time.Time {
	if c.RotationPeriod == nil || c.LastRotatedAt == nil {
		return nil
	}
	d, err := api.ParseDuration(*c.RotationPeriod)
	if err != nil {
		return nil
	}
	return new(c.LastRotatedAt.Add(d))
}

// burnRates reads the rates of every pair of a burn-rate threshold.
func (r *reader) burnRates(ctx context.Context, en *entry) ([]alert.PairRates, error) {
	mons := r.snap.monitorsOf(&en.thr)
	pairs := en.rule.Windows()
	rates := make([]alert.PairRates, len(pairs))
	if len(mons) == 0 || en.rule.SLO == nil {
		return rates, nil
	}
	budget := en.rule.SLO.Budget()
	for i, p := range pairs {
		long, err := r.rollup(ctx, mons, p.Long)
		if err != nil {
			return nil, err
		}
		short, err := r.rollup(ctx, mons, p.Short)
		if err != nil {
			return nil, err
		}
		rates[i] = alert.PairBurn(long, short, budget)
		if math.IsNaN(rates[i].Long) || math.IsInf(rates[i].Long, 0) {
			rates[i].HasLong = false
		}
		if math.IsNaN(rates[i].Short) || math.IsInf(rates[i].Short, 0) {
			rates[i].HasShort = false
		}
	}
	return rates, nil
}
