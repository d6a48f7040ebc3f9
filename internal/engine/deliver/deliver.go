// Package deliver is the delivery worker: it sends the outbox's pending
// deliveries through the notification channels' senders and records every
// attempt.
//
// The loop claims due deliveries with store.ClaimDeliveries, which leases
// them (moves their next attempt past the attempt timeout) in the same
// transaction, so that two workers never send the same delivery at once and
// a worker that dies mid-send leaves it due again when the lease ends. Each
// claimed delivery is sent on a goroutine of its own, at most Concurrency at
// once and at most PerChannel per channel. The worker claims only what it
// can start (ClaimLimits: its free slots, and per channel PerChannel less
// the attempts in flight): a delivery claimed and not started would wait
// out its lease, the attempt timeout and 30 s, so that alerts going mostly
// to one channel would be held back. A channel's further deliveries stay
// due and unleased, and are claimed as soon as one of its attempts ends
// (which wakes the worker), so a receiver that hangs holds a few slots for
// one attempt timeout each and delays only its own deliveries.
//
// A channel's secret is opened only for the send and zeroed after it. The
// attempt and the delivery's new state are recorded in one transaction
// (store.RecordDeliveryAttempt): delivered, pending again at Backoff.Next,
// or failed once the receiver refused for good or the retry period (counted
// from the delivery's creation) is over. Deliveries of a deleted or
// disabled channel are cancelled rather than sent.
package deliver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Defaults of Config.
const (
	DefaultConcurrency  = 16
	DefaultPerChannel   = 4
	DefaultPollInterval = time.Second
	// leaseMargin is added to the attempt timeout for a claim's lease: the
	// time to open the secret and record the attempt.
	leaseMargin = 30 * time.Second
)

// Config holds the worker's dependencies and settings.
type Config struct {
	Store    store.Store
	Keyring  *secret.Keyring
	Registry *notify.Registry
	Clock    clock.Clock
	Logger   *slog.Logger
	// Backoff is the retry schedule; its GiveUpAfter (default 24 h) is how
	// long a delivery is retried after it was created.
	Backoff notify.Backoff
	// AttemptTimeout bounds one attempt (notify.DefaultAttemptTimeout).
	AttemptTimeout time.Duration
	// Concurrency bounds the attempts in flight (DefaultConcurrency);
	// PerChannel bounds those of one channel (DefaultPerChannel).
	Concurrency int
	PerChannel  int
	// PollInterval is how often the outbox is read when nothing wakes the
	// worker (DefaultPollInterval).
	PollInterval time.Duration
	// Observe, when set, is told the outcome of every attempt (delivered,
	// retry, failed) and of every cancellation (cancelled).
	Observe func(outcome string)
	// Jitter returns a number in [0, 1) for the backoff; nil: math/rand.
	Jitter func() float64
}

// Worker sends the outbox's deliveries.
type Worker struct {
	cfg  Config
	wake chan struct{}

	mu        sync.Mutex
	inflight  int
	perChan   map[string]int
	running   sync.WaitGroup
	cancelled int64
}

// New returns a worker; Run starts it.
func New(cfg Config) *Worker {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = notify.DefaultAttemptTimeout
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.PerChannel <= 0 {
		cfg.PerChannel = DefaultPerChannel
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64 //nolint:gosec // G404: jitter spreads retries; it protects nothing.
	}
	return &Worker{cfg: cfg, wake: make(chan struct{}, 1), perChan: map[string]int{}}
}

// Wake makes the worker read the outbox now rather than at its next poll;
// the evaluation calls it after storing deliveries. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends deliveries until ctx ends, then waits for the attempts in
// flight (each bounded by the attempt timeout) and records them, so that a
// delivery the receiver acknowledged is never left to be sent again.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.PollInterval)
	defer t.Stop()
	defer w.running.Wait()
	for {
		w.poll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-w.wake:
		}
	}
}

// poll claims and starts due deliveries while there are free slots and
// claims return full batches.
func (w *Worker) poll(ctx context.Context) {
	for ctx.Err() == nil {
		free := w.free()
		if free == 0 {
			return
		}
		now := w.cfg.Clock.Now()
		// A read first: an empty outbox, the usual case, then costs no
		// write transaction on the store's single writer.
		if peek, err := w.cfg.Store.DueDeliveries(ctx, now, 1); err != nil || len(peek) == 0 {
			if err != nil && ctx.Err() == nil {
				w.cfg.Logger.Error("read due deliveries", "error", err)
			}
			return
		}
		due, err := w.cfg.Store.ClaimDeliveries(ctx, now, now.Add(w.cfg.AttemptTimeout+leaseMargin), w.limits(free))
		if err != nil {
			if ctx.Err() == nil {
				w.cfg.Logger.Error("claim deliveries", "error", err)
			}
			return
		}
		channels := map[string]*store.ChannelRecord{}
		for _, dd := range due {
			ch, err := w.channel(ctx, channels, dd.Delivery.ChannelID)
			if err != nil {
				w.cfg.Logger.Error("read notification channel", "channel_id", dd.Delivery.ChannelID, "error", err)
				continue // due again when the lease ends
			}
			if ch == nil {
				continue // cancelled
			}
			if !w.start(ch.ID) {
				// Not reached: the claim left room for it (only this
				// loop starts attempts). Were it reached, the lease
				// would make the delivery due again later.
				continue
			}
			w.running.Add(1)
			go func(dd store.DueDelivery, ch store.ChannelRecord) {
				defer w.running.Done()
				defer w.done(ch.ID)
				w.attempt(context.WithoutCancel(ctx), dd, ch)
			}(dd, *ch)
		}
		if len(due) < free {
			return
		}
	}
}

// channel reads a channel once per batch. It returns nil (and cancels the
// channel's pending deliveries) for a deleted or disabled channel.
func (w *Worker) channel(ctx context.Context, cache map[string]*store.ChannelRecord, id string) (*store.ChannelRecord, error) {
	if c, ok := cache[id]; ok {
		return c, nil
	}
	c, err := w.cfg.Store.GetChannel(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	case c.IsEnabled():
		cache[id] = &c
		return &c, nil
	}
	cache[id] = nil
	n, err := w.cfg.Store.CancelDeliveries(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("cancel deliveries: %w", err)
	}
	w.cfg.Logger.Info("cancelled the deliveries of a deleted or disabled channel", "channel_id", id, "count", n)
	w.mu.Lock()
	w.cancelled += n
	w.mu.Unlock()
	if w.cfg.Observe != nil {
		for range n {
			w.cfg.Observe(api.DeliveryCancelled)
		}
	}
	return nil, nil
}

// limits are the claim's bounds: free slots in all, and per channel the
// slots its attempts in flight leave.
func (w *Worker) limits(free int) store.ClaimLimits {
	w.mu.Lock()
	defer w.mu.Unlock()
	return store.ClaimLimits{Total: free, PerChannel: w.cfg.PerChannel, InFlight: maps.Clone(w.perChan)}
}

func (w *Worker) free() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cfg.Concurrency - w.inflight
}

// start takes a slot for an attempt over channel id, or reports false when
// the channel has PerChannel attempts in flight.
func (w *Worker) start(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.perChan[id] >= w.cfg.PerChannel || w.inflight >= w.cfg.Concurrency {
		return false
	}
	w.perChan[id]++
	w.inflight++
	return true
}

func (w *Worker) done(id string) {
	w.mu.Lock()
	w.inflight--
	if w.perChan[id]--; w.perChan[id] <= 0 {
		delete(w.perChan, id)
	}
	w.mu.Unlock()
	w.Wake()
}

// attempt sends one delivery once and records the attempt.
func (w *Worker) attempt(ctx context.Context, dd store.DueDelivery, ch store.ChannelRecord) {
	d := dd.Delivery
	start := w.cfg.Clock.Now()
	res := w.send(ctx, notify.Delivery{ID: d.ID, Event: EventOf(dd.Event)}, ch)
	rec := store.DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{
		DeliveryID: d.ID, At: start, DurationMS: res.Duration.Milliseconds(),
	}}
	if res.Status != 0 {
		rec.Status = new(res.Status)
	}
	if res.Error != "" {
		rec.Error = new(res.Error)
	}
	outcome := string(res.Outcome)
	switch res.Outcome {
	case notify.Delivered:
		rec.State = api.DeliveryDelivered
	case notify.Retry:
		now := w.cfg.Clock.Now()
		if next, ok := w.cfg.Backoff.Next(d.Attempts+1, d.CreatedAt, now, res.RetryAfter, w.cfg.Jitter()); ok {
			rec.State, rec.NextAttemptAt = api.DeliveryPending, next
		} else {
			rec.State, outcome = api.DeliveryFailed, string(notify.Failed)
		}
	default:
		rec.State, outcome = api.DeliveryFailed, string(notify.Failed)
	}
	if _, err := w.cfg.Store.RecordDeliveryAttempt(ctx, rec); err != nil {
		// The lease ends and the delivery is sent again: receivers
		// deduplicate by its ID.
		w.cfg.Logger.Error("record delivery attempt", "delivery_id", d.ID, "error", err)
		return
	}
	if w.cfg.Observe != nil {
		w.cfg.Observe(outcome)
	}
	// A receiver's outage retries many deliveries: those are info, and
	// only giving up is a warning.
	lv := slog.LevelDebug
	switch rec.State {
	case api.DeliveryPending:
		lv = slog.LevelInfo
	case api.DeliveryFailed:
		lv = slog.LevelWarn
	}
	w.cfg.Logger.Log(ctx, lv, "delivery attempt", "delivery_id", d.ID, "event_id", d.EventID, "channel_id", ch.ID,
		"state", rec.State, "status", res.Status, "duration_ms", rec.DurationMS, "error", res.Error)
}

// send makes one attempt over ch with the attempt timeout, opening the
// channel's secret for it only.
func (w *Worker) send(ctx context.Context, d notify.Delivery, rec store.ChannelRecord) notify.Result {
	ch, err := w.open(rec)
	if err != nil {
		// The keyring may be fixed (a key file restored) before the retry
		// period ends, so this is worth retrying.
		return notify.Result{Outcome: notify.Retry, Error: err.Error()}
	}
	defer clear(ch.Secret)
	actx, cancel := context.WithTimeout(ctx, w.cfg.AttemptTimeout)
	defer cancel()
	start := time.Now()
	res := w.cfg.Registry.Send(actx, d, ch)
	if res.Duration == 0 {
		res.Duration = time.Since(start)
	}
	return res
}

// open builds the sender's view of a stored channel, with its secret
// opened as the server sealed it: bound to the channel's ID and secret
// revision.
func (w *Worker) open(rec store.ChannelRecord) (notify.Channel, error) {
	ch := notify.Channel{ID: rec.ID, Name: rec.Name, Type: rec.Type}
	var err error
	if ch.Settings, err = Settings(rec.NotificationChannel); err != nil {
		return ch, err
	}
	if !api.HasSecret(rec.Type) {
		return ch, nil
	}
	if rec.SecretRevision == 0 || rec.Sealed.KeyID == "" {
		return ch, errors.New("the channel has no secret")
	}
	if w.cfg.Keyring == nil {
		return ch, errors.New("the channel's secret cannot be opened: aiod runs without an encryption key")
	}
	plain, err := w.cfg.Keyring.Open(rec.Sealed, secret.Binding{ObjectID: rec.ID, Revision: rec.SecretRevision})
	if err != nil {
		return ch, errors.New("the channel's secret cannot be opened with aiod's keys")
	}
	ch.Secret = plain
	return ch, nil
}

// Settings are a channel's type settings as its sender reads them.
func Settings(c api.NotificationChannel) (json.RawMessage, error) {
	var v any
	switch c.Type {
	case api.ChannelWebhook:
		st := struct {
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers,omitempty"`
		}{Headers: c.Headers}
		if c.URL != nil {
			st.URL = *c.URL
		}
		v = st
	case api.ChannelPagerDuty:
		st := struct {
			EventsURL string `json:"events_url,omitempty"`
		}{}
		if c.EventsURL != nil {
			st.EventsURL = *c.EventsURL
		}
		v = st
	case api.ChannelEmail:
		v = struct {
			To []string `json:"to"`
		}{c.To}
	default:
		v = struct{}{}
	}
	return json.Marshal(v)
}

// EventOf is the event a stored alert event is sent as.
func EventOf(e api.AlertEvent) notify.Event {
	out := notify.Event{
		EventID:     e.ID,
		State:       notify.State(e.ToState),
		Severity:    notify.Severity(e.Severity),
		Threshold:   notify.Ref{ID: e.ThresholdID, Name: e.ThresholdName},
		Monitor:     ref(e.MonitorID, e.MonitorName),
		Endpoint:    ref(e.EndpointID, e.EndpointName),
		Metric:      e.Metric,
		Value:       e.Value,
		LongWindow:  e.LongWindow,
		ShortWindow: e.ShortWindow,
		StartedAt:   e.At,
		ResolvedAt:  e.ResolvedAt,
		RunbookURL:  e.RunbookURL,
	}
	if e.Window != nil {
		out.Window = *e.Window
	}
	if e.StartedAt != nil {
		out.StartedAt = *e.StartedAt
	}
	return out
}

func ref(id, name *string) *notify.Ref {
	if id == nil {
		return nil
	}
	r := &notify.Ref{ID: *id}
	if name != nil {
		r.Name = *name
	}
	return r
}

// TestChannel sends notify.TestEvent (a labelled firing warning) through a
// channel now, whether or not it is enabled, and returns the receiver's
// answer. Nothing is stored.
//
// For PagerDuty, a trigger the receiver accepted is followed at once by
// its resolve, with the same dedup_key ("aio/test/<event ID>"): the test
// incident shows in PagerDuty's history and closes itself. If the resolve
// fails, the answer is its failure, saying the test incident stays open.
func (w *Worker) TestChannel(ctx context.Context, rec store.ChannelRecord) (api.ChannelTestResult, error) {
	now := w.cfg.Clock.Now()
	d := notify.Delivery{ID: ids.New(api.PrefixDelivery, now), Event: notify.TestEvent(ids.New(api.PrefixAlertEvent, now), now)}
	res := w.send(ctx, d, rec)
	if rec.Type == api.ChannelPagerDuty && res.Outcome == notify.Delivered {
		then := w.cfg.Clock.Now()
		resolve := notify.Delivery{ID: ids.New(api.PrefixDelivery, then), Event: notify.Resolution(d.Event, then)}
		rr := w.send(ctx, resolve, rec)
		rr.Duration += res.Duration
		if rr.Outcome != notify.Delivered {
			rr.Error = "the test incident was opened but its resolve failed, resolve it in PagerDuty: " + rr.Error
		}
		res = rr
	}
	out := api.ChannelTestResult{Outcome: string(res.Outcome), Reply: res.Reply, DurationMS: res.Duration.Milliseconds(),
		EventID: d.Event.EventID, DeliveryID: d.ID}
	if res.Status != 0 {
		out.Status = new(res.Status)
	}
	if res.Error != "" {
		out.Error = new(res.Error)
	}
	return out, nil
}
