// Package retention enforces retention: the retention policies users
// declare, the built-in defaults for the data no policy covers, the audit
// floor, erasure requests, and the compliance view that shows whether the
// data held is within policy.
//
// Precedence, per data kind: every enabled delete policy deletes what it
// covers past its max_age, so where delete policies overlap the shortest
// age wins. Anonymize policies run after the deletes of the same pass (the
// defaults' included) and so apply to what is older than their age and
// younger than any delete.
// Records that no enabled delete policy covers are deleted past the
// built-in default of their data kind (Defaults); an anonymize policy
// does not make data live longer. Audit events younger than the audit
// floor, and revisions and tombstones younger than it or than the history
// retention if shorter (Floor), are never deleted nor anonymized by a
// policy, whatever it says.
//
// Every change is made in batches of at most Config.Batch rows, each in a
// write transaction of its own, so that the single writer is never held
// for long. The SQLite writer runs with secure_delete, and after a pass,
// a run or an erasure that changed anything (and after the first pass
// since aiod started) the store erases the residue: it zeroes the bytes
// of every page that belong to no live record (copies left by SQLite's
// page rebuilds, which secure_delete does not reach) and then checkpoints
// and truncates the write-ahead log, so that deleted and anonymized
// values are gone from the database file, its WAL and its shared-memory
// index.
package retention

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/results"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Defaults of Config.
const (
	// DefaultInterval is how often the scheduled pass runs.
	DefaultInterval = 10 * time.Minute
	// DefaultBatch is the most rows one transaction changes.
	DefaultBatch = 500
	// DefaultAuditFloor is the age below which no audit event is deleted.
	DefaultAuditFloor = 400 * 24 * time.Hour
	// DefaultRevisionAge keeps the change history (revisions past each
	// object's newest, and tombstones) for 400 days, as aiod's
	// --history-retention does by default.
	DefaultRevisionAge = 400 * 24 * time.Hour
)

// Defaults are the built-in ages of the data that no delete policy
// covers, by data kind; zero keeps that data for ever.
type Defaults map[string]time.Duration

// BuiltinDefaults are aiod's defaults: raw results 4 hours, minute
// rollups 49 hours, hour rollups 91 days (the ages that fit the result
// store of 10,000 monitors in 10 GB, see results.DefaultRawAge); alert
// events, deliveries and audit events are kept until a policy says
// otherwise.
func BuiltinDefaults() Defaults {
	return Defaults{
		api.DataProbeResults:  results.DefaultRawAge,
		api.DataMinuteRollups: results.DefaultMinuteAge,
		api.DataHourRollups:   results.DefaultHourAge,
		api.DataAlertEvents:   0,
		api.DataDeliveries:    0,
		api.DataAuditEvents:   0,
		api.DataRevisions:     DefaultRevisionAge,
	}
}

// resultTiers maps the data kinds of probe results to their tier, whose
// horizon tells status reads where the tier may have been deleted.
var resultTiers = map[string]string{
	api.DataProbeResults:  store.TierRaw,
	api.DataMinuteRollups: store.TierMinute,
	api.DataHourRollups:   store.TierHour,
}

// SystemActor is the actor of scheduled runs in the audit trail.
var SystemActor = auth.Actor{Name: "retention", Role: "system"}

// Config holds the enforcer's dependencies and settings.
type Config struct {
	Store  store.Store
	Clock  clock.Clock
	Logger *slog.Logger
	// Keyring, when set, seals the key of the actors' pseudonyms, so that
	// the database file alone cannot test a guess of who a pseudonym is.
	Keyring *secret.Keyring
	// Interval is the time between scheduled passes (DefaultInterval).
	Interval time.Duration
	// Batch is the most rows per transaction (DefaultBatch).
	Batch int
	// Defaults overrides BuiltinDefaults per data kind; a kind it does
	// not name keeps the built-in default.
	Defaults Defaults
	// AuditFloor is the age below which no audit event is deleted
	// (DefaultAuditFloor).
	AuditFloor time.Duration
	// Poll is how often Run looks at the clock (the smaller of Interval
	// and 250 ms), so that a fake clock moved forward is noticed.
	Poll time.Duration
}

// Enforcer runs retention.
type Enforcer struct {
	cfg      Config
	st       store.Store
	log      *slog.Logger
	defaults Defaults

	keyOnce sync.Mutex
	key     []byte

	// mu serializes passes, runs and erasures, so that two never delete
	// the same rows at once or count each other's work.
	mu   sync.Mutex
	wake chan struct{}
	// erased is set once a pass has erased the residue (under mu): the
	// first pass after a start erases it whatever it changes, because a
	// crash of the previous aiod may have fallen between its last batch
	// and its erasure.
	erased bool
}

// New returns an enforcer.
func New(cfg Config) *Enforcer {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.AuditFloor <= 0 {
		cfg.AuditFloor = DefaultAuditFloor
	}
	if cfg.Poll <= 0 {
		cfg.Poll = min(cfg.Interval, 250*time.Millisecond)
	}
	d := BuiltinDefaults()
	for k, v := range cfg.Defaults {
		d[k] = v
	}
	return &Enforcer{cfg: cfg, st: cfg.Store, log: cfg.Logger.With("component", "retention"), defaults: d, wake: make(chan struct{}, 1)}
}

// Interval is the time between scheduled passes.
func (e *Enforcer) Interval() time.Duration { return e.cfg.Interval }

// AuditFloor is the age below which no audit event is deleted.
func (e *Enforcer) AuditFloor() time.Duration { return e.cfg.AuditFloor }

// Default returns the built-in age of a data kind (0: kept for ever).
func (e *Enforcer) Default(kind string) time.Duration { return e.defaults[kind] }

// Run runs a pass every Interval of the injected clock, the first at
// once, and the erasure requests as they come, until ctx ends.
func (e *Enforcer) Run(ctx context.Context) error { return e.RunFrom(ctx, e.cfg.Clock.Now()) }

// RunFrom is Run with the first scheduled pass at first (of the injected
// clock). A caller that ran the first pass itself before serving starts
// the schedule an Interval later, so that no second pass runs beside the
// first requests and deletes what they have just written.
func (e *Enforcer) RunFrom(ctx context.Context, first time.Time) error {
	poll := time.NewTicker(e.cfg.Poll)
	defer poll.Stop()
	next := first
	for {
		if now := e.cfg.Clock.Now(); !now.Before(next) {
			if _, err := e.Pass(ctx, now); err != nil && ctx.Err() == nil {
				e.log.Error("retention pass", "error", err)
			}
			next = next.Add(e.cfg.Interval)
			if !next.After(now) {
				next = now.Add(e.cfg.Interval)
			}
		}
		if err := e.ProcessErasures(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("erasure requests", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		case <-e.wake:
		}
	}
}

// Wake makes Run look for erasure requests at once.
func (e *Enforcer) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// PassReport is what one scheduled pass did.
type PassReport struct {
	// Runs are the runs of the enabled policies, deletes first.
	Runs []api.RetentionRun
	// Defaults counts, per data kind, what the built-in defaults deleted.
	Defaults map[string]int64
	// Orphans counts the results of deleted monitors removed.
	Orphans int64
}

// Pass runs every enabled policy and the defaults at now: per data kind
// the delete policies, then the default for the records no delete policy
// covers, then the anonymize policies. Each policy's run is recorded and audited.
func (e *Enforcer) Pass(ctx context.Context, now time.Time) (PassReport, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rep := PassReport{Defaults: map[string]int64{}}
	var errs []error
	for {
		n, err := e.st.DeleteOrphanResults(ctx, e.cfg.Batch)
		rep.Orphans += n
		if err != nil {
			errs = append(errs, fmt.Errorf("results of deleted monitors: %w", err))
		}
		if err != nil || n < int64(e.cfg.Batch) {
			break
		}
	}
	policies, err := store.ListAll(ctx, func(ctx context.Context, q store.RetentionPolicyQuery) ([]api.RetentionPolicy, string, error) {
		return e.st.ListRetentionPolicies(ctx, q)
	})
	if err != nil {
		return rep, err
	}
	next := now.Add(e.cfg.Interval)
	changed := false
	for _, dk := range api.DataKinds {
		var deletes, anonymizes []api.RetentionPolicy
		for _, p := range policies {
			if p.DataKind != dk.Name || !p.IsEnabled() {
				continue
			}
			if p.Action == api.RetentionDelete {
				deletes = append(deletes, p)
			} else {
				anonymizes = append(anonymizes, p)
			}
		}
		if err := e.advanceHorizon(ctx, dk.Name, now, deletes); err != nil {
			errs = append(errs, err)
		}
		runAll := func(ps []api.RetentionPolicy) {
			for _, p := range ps {
				run := e.run(ctx, p, now, api.TriggerSchedule)
				if err := e.record(ctx, run, next, SystemActor); err != nil {
					errs = append(errs, err)
				}
				changed = changed || run.Deleted+run.Anonymized > 0
				rep.Runs = append(rep.Runs, run)
			}
		}
		// Deletes first, the default's included, so that anonymization
		// never spends work on what is deleted anyway.
		runAll(deletes)
		n, err := e.applyDefault(ctx, dk.Name, now, deletes)
		rep.Defaults[dk.Name] = n
		changed = changed || n > 0
		if err != nil {
			errs = append(errs, err)
		}
		runAll(anonymizes)
	}
	if changed || rep.Orphans > 0 || !e.erased {
		if err := e.st.EraseResidue(ctx); err != nil {
			errs = append(errs, fmt.Errorf("erase the residue of deleted and anonymized values: %w", err))
		} else {
			e.erased = true
		}
	}
	if err := e.st.SetRetentionNextRun(ctx, next); err != nil {
		errs = append(errs, err)
	}
	return rep, errors.Join(errs...)
}

// cutoff is the time before which a policy's data goes at now, and
// whether the floor of its data kind held it back.
func (e *Enforcer) cutoff(dataKind, _ string, age time.Duration, now time.Time) (time.Time, bool) {
	if floor := e.Floor(dataKind); age < floor {
		return now.Add(-floor), true
	}
	return now.Add(-age), false
}

// Floor is the age below which no policy deletes nor anonymizes data of
// that kind (0: none). The floor holds for anonymization too: a policy an
// editor can write must not be able to take the names out of the recent
// trail (pseudonymizing it within a minute would hide who made the
// policy). The audit trail has the audit floor. The change history has it
// too, or the history retention the operator set if that is shorter: the
// revisions say who changed what (a plan's drift warnings show it) and the
// tombstones are what restores a deleted object, so an editor's policy may
// not take them sooner than the operator keeps them. Erasure, an admin's,
// is the way to pseudonymize an actor sooner.
func (e *Enforcer) Floor(dataKind string) time.Duration {
	switch dataKind {
	case api.DataAuditEvents:
		return e.cfg.AuditFloor
	case api.DataRevisions:
		if d := e.defaults[api.DataRevisions]; d > 0 && d < e.cfg.AuditFloor {
			return d
		}
		return e.cfg.AuditFloor
	}
	return 0
}

// scopeOf turns a policy's scope into the store's.
func scopeOf(p api.RetentionPolicy) store.RetentionScope {
	return store.RetentionScope{EndpointIDs: p.EndpointIDs, EndpointTags: p.EndpointTags, Classifications: p.DataClassifications}
}

// selector selects what a policy changes at now.
func (e *Enforcer) selector(p api.RetentionPolicy, now time.Time) (store.RetentionSelector, time.Time, bool) {
	cut, floor := e.cutoff(p.DataKind, p.Action, p.Age(), now)
	sel := store.RetentionSelector{DataKind: p.DataKind, Before: cut, Scope: scopeOf(p)}
	if p.Action == api.RetentionAnonymize {
		sel.Fields = p.AnonymizeFields
	}
	return sel, cut, floor
}

// RunPolicy runs one policy now, as POST /v1/retention-policies/{id}/run
// asks: a dry run counts what would go, per endpoint, and changes
// nothing; a real run is recorded and audited under actor.
func (e *Enforcer) RunPolicy(ctx context.Context, p api.RetentionPolicy, dryRun bool, actor auth.Actor) (api.RetentionRun, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Clock.Now()
	if dryRun {
		sel, cut, floor := e.selector(p, now)
		counts, err := e.st.RetentionCount(ctx, sel, p.Action == api.RetentionAnonymize)
		if err != nil {
			return api.RetentionRun{}, err
		}
		run := api.RetentionRun{PolicyID: p.ID, DryRun: true, StartedAt: now, FinishedAt: e.cfg.Clock.Now(), Trigger: api.TriggerAPI,
			Cutoff: cut, FloorApplied: floor, Errors: []string{}}
		run.Scopes, run.Deleted, run.Anonymized = scopeCounts(counts, p.Action)
		return run, nil
	}
	run := e.run(ctx, p, now, api.TriggerAPI)
	if run.Deleted+run.Anonymized > 0 {
		if err := e.st.EraseResidue(ctx); err != nil {
			run.Errors = append(run.Errors, "erase the residue of deleted and anonymized values: "+err.Error())
		}
	}
	next := now.Add(e.cfg.Interval)
	if p.NextRunAt != nil {
		next = *p.NextRunAt
	}
	return run, e.record(ctx, run, next, actor)
}

// scopeCounts turns per-endpoint counts into the run's scopes and totals.
func scopeCounts(counts map[string]int64, action string) ([]api.RetentionScopeCount, int64, int64) {
	out := []api.RetentionScopeCount{}
	var del, anon int64
	for _, ep := range sortedKeys(counts) {
		sc := api.RetentionScopeCount{EndpointID: ep}
		if action == api.RetentionAnonymize {
			sc.Anonymized = counts[ep]
			anon += counts[ep]
		} else {
			sc.Deleted = counts[ep]
			del += counts[ep]
		}
		out = append(out, sc)
	}
	return out, del, anon
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// run applies one policy in batches until a batch comes back short, ctx
// ends or a batch fails (the error is in the run's errors).
func (e *Enforcer) run(ctx context.Context, p api.RetentionPolicy, now time.Time, trigger string) api.RetentionRun {
	sel, cut, floor := e.selector(p, now)
	run := api.RetentionRun{ID: ids.New(api.PrefixRetentionRun, now), PolicyID: p.ID, StartedAt: now, Trigger: trigger,
		Cutoff: cut, FloorApplied: floor, Errors: []string{}}
	counts := map[string]int64{}
	for {
		if err := ctx.Err(); err != nil {
			run.Errors = append(run.Errors, err.Error())
			break
		}
		var (
			batch map[string]int64
			err   error
		)
		if p.Action == api.RetentionAnonymize {
			batch, err = e.st.RetentionAnonymize(ctx, sel, e.cfg.Batch, e.pseudonymFunc(ctx))
		} else {
			batch, err = e.st.RetentionDelete(ctx, sel, e.cfg.Batch)
		}
		var n int64
		for ep, c := range batch {
			counts[ep] += c
			n += c
		}
		if err != nil {
			run.Errors = append(run.Errors, err.Error())
			e.log.Error("retention policy run", "policy_id", p.ID, "error", err)
			break
		}
		if n < int64(e.cfg.Batch) {
			break
		}
	}
	run.Scopes, run.Deleted, run.Anonymized = scopeCounts(counts, p.Action)
	run.FinishedAt = e.cfg.Clock.Now()
	return run
}

// record stores a real run with its audit event.
func (e *Enforcer) record(ctx context.Context, run api.RetentionRun, next time.Time, actor auth.Actor) error {
	ev := auth.Event(run.FinishedAt, actor, api.ActionRun, api.KindRetention, run.PolicyID, 0, nil)
	ev.Counts = map[string]int64{"deleted": run.Deleted, "anonymized": run.Anonymized, "errors": int64(len(run.Errors))}
	if err := e.st.RecordRetentionRun(ctx, run, next, ev); err != nil {
		return fmt.Errorf("record the run of %s: %w", run.PolicyID, err)
	}
	return nil
}

// advanceHorizon tells status reads of a result tier how far it may have
// been deleted: by the shortest age of the tier's delete policies and
// default, since any of them may have deleted up to there.
func (e *Enforcer) advanceHorizon(ctx context.Context, kind string, now time.Time, deletes []api.RetentionPolicy) error {
	tier, ok := resultTiers[kind]
	if !ok {
		return nil
	}
	shortest := e.defaults[kind]
	for _, p := range deletes {
		if a := p.Age(); shortest <= 0 || a < shortest {
			shortest = a
		}
	}
	if shortest <= 0 {
		return nil
	}
	return e.st.AdvanceResultHorizon(ctx, tier, now.Add(-shortest))
}

// applyDefault deletes, past the kind's built-in default, the records no
// delete policy of the kind covers.
func (e *Enforcer) applyDefault(ctx context.Context, kind string, now time.Time, deletes []api.RetentionPolicy) (int64, error) {
	age := e.defaults[kind]
	if age <= 0 {
		return 0, nil
	}
	cut, _ := e.cutoff(kind, api.RetentionDelete, age, now)
	sel := store.RetentionSelector{DataKind: kind, Before: cut}
	for _, p := range deletes {
		sel.Exclude = append(sel.Exclude, scopeOf(p))
	}
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		batch, err := e.st.RetentionDelete(ctx, sel, e.cfg.Batch)
		var n int64
		for _, c := range batch {
			n += c
		}
		total += n
		if err != nil {
			return total, fmt.Errorf("default retention of %s: %w", kind, err)
		}
		if n < int64(e.cfg.Batch) {
			break
		}
	}
	if total > 0 {
		e.log.Info("retention default applied", "data_kind", kind, "deleted", total, "max_age", age.String())
	}
	return total, nil
}

// ---- pseudonyms ----

const pseudonymSetting = "retention_pseudonym_key"

// pseudonymBinding binds the sealed pseudonym key to its setting.
var pseudonymBinding = secret.Binding{ObjectID: pseudonymSetting, Revision: 1}

// PseudonymBinding is what the sealed pseudonym key is bound to, for key
// rotation.
func PseudonymBinding() secret.Binding { return pseudonymBinding }

// PseudonymSetting is the setting that holds the pseudonym key.
const PseudonymSetting = pseudonymSetting

// Pseudonym returns the keyed pseudonym of an actor: the same actor always
// gets the same one, and without the key it cannot be told whose it is.
func (e *Enforcer) Pseudonym(ctx context.Context, actor string) (string, error) {
	key, err := e.pseudonymKey(ctx)
	if err != nil {
		return "", err
	}
	return pseudonym(key, actor), nil
}

func pseudonym(key []byte, actor string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(actor))
	return api.PseudonymPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:10]))
}

// pseudonymFunc is the pseudonym function handed to the store; a key that
// cannot be loaded makes every call fail safe (the store refuses nil).
func (e *Enforcer) pseudonymFunc(ctx context.Context) func(string) string {
	key, err := e.pseudonymKey(ctx)
	if err != nil {
		e.log.Error("load the pseudonym key", "error", err)
		return nil
	}
	return func(actor string) string { return pseudonym(key, actor) }
}

// pseudonymKey loads (or makes, once) the 32-byte key of the pseudonyms.
// It is kept in aiod's settings, sealed under the keyring when aiod has
// one, so that the database file alone does not hold it.
func (e *Enforcer) pseudonymKey(ctx context.Context) ([]byte, error) {
	e.keyOnce.Lock()
	defer e.keyOnce.Unlock()
	if e.key != nil {
		return e.key, nil
	}
	var key []byte
	err := e.st.Write(ctx, func(tx store.Tx) error {
		raw, err := tx.GetSetting(ctx, pseudonymSetting)
		if err == nil {
			key, err = e.openKey(raw)
			return err
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		key = make([]byte, 32)
		_, _ = rand.Read(key)
		stored, err := e.sealKey(key)
		if err != nil {
			return err
		}
		return tx.PutSetting(ctx, pseudonymSetting, stored)
	})
	if err != nil {
		return nil, err
	}
	e.key = key
	return key, nil
}

// storedKey is the form of the key in the settings: sealed, or (without a
// keyring) as it is.
type storedKey struct {
	Sealed *secret.Sealed `json:"sealed,omitempty"`
	Plain  []byte         `json:"plain,omitempty"`
}

// SealedPseudonymKey reads the stored pseudonym key's sealed form, for
// key checks and rotation; nil when it is not sealed.
func SealedPseudonymKey(raw []byte) (*secret.Sealed, error) {
	var sk storedKey
	if err := json.Unmarshal(raw, &sk); err != nil {
		return nil, fmt.Errorf("read the pseudonym key: %w", err)
	}
	return sk.Sealed, nil
}

// StoredPseudonymKey is the stored form of a sealed pseudonym key, for key
// rotation.
func StoredPseudonymKey(s secret.Sealed) ([]byte, error) { return json.Marshal(storedKey{Sealed: &s}) }

func (e *Enforcer) sealKey(key []byte) ([]byte, error) {
	if e.cfg.Keyring == nil {
		return json.Marshal(storedKey{Plain: key})
	}
	s, err := e.cfg.Keyring.Seal(key, pseudonymBinding)
	if err != nil {
		return nil, err
	}
	return json.Marshal(storedKey{Sealed: &s})
}

func (e *Enforcer) openKey(raw []byte) ([]byte, error) {
	var sk storedKey
	if err := json.Unmarshal(raw, &sk); err != nil {
		return nil, fmt.Errorf("read the pseudonym key: %w", err)
	}
	if sk.Sealed == nil {
		return sk.Plain, nil
	}
	if e.cfg.Keyring == nil {
		return nil, errors.New("the pseudonym key is sealed and aiod has no encryption key")
	}
	return e.cfg.Keyring.Open(*sk.Sealed, pseudonymBinding)
}
