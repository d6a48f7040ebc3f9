// Package store is aiod's persistence: one Store interface and one SQL
// implementation. SQLite is the embedded default; the SQL is written for a
// dialect layer (placeholders, table definitions, error codes) so that
// PostgreSQL is a second dialect, not a second implementation.
//
// Transactions: only Store.Write opens and commits a write transaction. The
// server and the command line put a change, its audit event and its
// idempotency record into one Write call, so that either all of them are
// stored or none is.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrNotFound means no object has the given ID (or key).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique constraint, such as a name, was violated.
	ErrConflict = errors.New("conflict")
	// ErrStorageFull means a write failed because the database's disk is
	// full: nothing of it was stored, and it may succeed once space is
	// freed.
	ErrStorageFull = errors.New("the database's disk is full")
)

// Store is the persistence interface of aiod. Reads go to a read pool;
// writes go through Write, which runs on the single writer connection.
type Store interface {
	Reader
	ResultStore
	AlertStore
	RetentionStore
	// Write runs fn in one write transaction. If fn returns an error the
	// transaction is rolled back and that error is returned; otherwise the
	// transaction is committed durably.
	Write(ctx context.Context, fn func(tx Tx) error) error
	// Ping checks that the database answers, for readiness probes.
	Ping(ctx context.Context) error
	// Close releases every connection.
	Close() error
}

// Reader holds every read. Both the store (reading from the pool) and a
// write transaction (reading its own uncommitted changes) implement it.
type Reader interface {
	// GetEndpoint returns the endpoint with the given ID, or ErrNotFound.
	GetEndpoint(ctx context.Context, id string) (api.Endpoint, error)
	// ListEndpoints returns one page of endpoints ordered by ID, and the
	// cursor of the next page ("" on the last page).
	ListEndpoints(ctx context.Context, q ListQuery) ([]api.Endpoint, string, error)

	// ListAuditEvents returns one page of audit events, oldest first, and
	// the cursor of the next page ("" on the last page).
	ListAuditEvents(ctx context.Context, q AuditQuery) ([]api.AuditEvent, string, error)

	// GetIdempotency returns the stored outcome of an idempotent request,
	// or ErrNotFound. Expired records are not returned.
	GetIdempotency(ctx context.Context, k IdempotencyKey, now time.Time) (IdempotencyRecord, error)

	// GetTokenByHash returns the token whose secret hashes to hash, or
	// ErrNotFound. Revoked and expired tokens are returned too; the caller
	// decides.
	GetTokenByHash(ctx context.Context, hash string) (api.Token, error)
	// ListTokens returns every token, ordered by name.
	ListTokens(ctx context.Context) ([]api.Token, error)
	// CountUsableAdminTokens counts admin tokens neither revoked nor
	// expired at now.
	CountUsableAdminTokens(ctx context.Context, now time.Time) (int, error)

	// GetCredential returns the credential with the given ID, or ErrNotFound.
	GetCredential(ctx context.Context, id string) (CredentialRecord, error)
	// ListCredentials returns one page of credentials ordered by ID and the
	// next cursor. Credentials have no tags: a tag filter matches none.
	ListCredentials(ctx context.Context, q ListQuery) ([]CredentialRecord, string, error)
	// CountCredentials counts credentials, that is, sealed secrets.
	CountCredentials(ctx context.Context) (int, error)
	// CredentialReferrers returns the IDs of the objects that reference
	// the credential, ordered by ID.
	CredentialReferrers(ctx context.Context, id string) ([]string, error)

	// GetMonitor returns the monitor with the given ID, or ErrNotFound.
	GetMonitor(ctx context.Context, id string) (api.Monitor, error)
	// ListMonitors returns one page of monitors ordered by ID and the next
	// cursor; MonitorQuery.EndpointID filters by endpoint.
	ListMonitors(ctx context.Context, q MonitorQuery) ([]api.Monitor, string, error)
	// EndpointReferrers returns the IDs of the objects that reference the
	// endpoint (its monitors and alert thresholds), ordered by ID.
	EndpointReferrers(ctx context.Context, id string) ([]string, error)
	// MonitorIntervals counts the monitors by interval (as stored) and
	// enabled state, leaving out the monitor whose ID is except ("" for
	// none): what the per-aiod caps on monitors and probe rate are computed
	// from, without reading every monitor.
	MonitorIntervals(ctx context.Context, except string) ([]IntervalCount, error)

	// GetChannel returns the notification channel with the given ID, or
	// ErrNotFound.
	GetChannel(ctx context.Context, id string) (ChannelRecord, error)
	// ListChannels returns one page of notification channels ordered by ID
	// and the next cursor.
	ListChannels(ctx context.Context, q ListQuery) ([]ChannelRecord, string, error)
	// ChannelReferrers returns the IDs of the objects that reference the
	// channel (alert thresholds), ordered by ID.
	ChannelReferrers(ctx context.Context, id string) ([]string, error)

	// GetThreshold returns the alert threshold with the given ID, or
	// ErrNotFound.
	GetThreshold(ctx context.Context, id string) (api.AlertThreshold, error)
	// ListThresholds returns one page of alert thresholds ordered by ID and
	// the next cursor; ThresholdQuery filters by monitor, endpoint and
	// metric.
	ListThresholds(ctx context.Context, q ThresholdQuery) ([]api.AlertThreshold, string, error)
	// MonitorReferrers returns the IDs of the objects that reference the
	// monitor (alert thresholds), ordered by ID.
	MonitorReferrers(ctx context.Context, id string) ([]string, error)

	// GetRetentionPolicy returns the retention policy with the given ID,
	// or ErrNotFound.
	GetRetentionPolicy(ctx context.Context, id string) (api.RetentionPolicy, error)
	// ListRetentionPolicies returns one page of retention policies ordered
	// by ID and the next cursor; RetentionPolicyQuery filters by data kind.
	ListRetentionPolicies(ctx context.Context, q RetentionPolicyQuery) ([]api.RetentionPolicy, string, error)
	// GetErasureRequest returns the erasure request with the given ID, or
	// ErrNotFound.
	GetErasureRequest(ctx context.Context, id string) (api.ErasureRequest, error)

	// GetSetting returns a value of aiod's own settings, or ErrNotFound.
	GetSetting(ctx context.Context, key string) ([]byte, error)

	// ListRevisions returns one page of an object's revisions, newest
	// first, and the cursor of the next page ("" on the last page); a
	// q.After that is not such a cursor fails with ErrBadCursor.
	ListRevisions(ctx context.Context, q RevisionQuery) ([]api.Revision, string, error)
	// GetRevision returns one revision of an object, or ErrNotFound.
	GetRevision(ctx context.Context, objectID string, revision int64) (api.Revision, error)
	// ListTombstones returns one page of a kind's deleted objects still
	// kept, ordered by ID, and the cursor of the next page.
	ListTombstones(ctx context.Context, q TombstoneQuery) ([]api.Tombstone, string, error)
	// GetTombstone returns the tombstone of a deleted object of the kind,
	// or ErrNotFound.
	GetTombstone(ctx context.Context, kind, objectID string) (api.Tombstone, error)

	// LoadAlertStates returns every stored alert machine, ordered by
	// threshold ID and severity, for the engine to resume after a restart.
	LoadAlertStates(ctx context.Context) ([]AlertStateRecord, error)
	// CurrentAlerts returns one page of the alerts that are pending or
	// firing (AlertQuery.State narrows it to one), ordered by threshold ID
	// and severity, and the cursor of the next page ("" on the last page).
	// A q.After that is not such a cursor fails with ErrBadCursor.
	CurrentAlerts(ctx context.Context, q AlertQuery) ([]api.Alert, string, error)
	// ListAlertEvents returns one page of alert events, newest first (in
	// the order they were recorded), and the cursor of the next page. A
	// q.After that is not such a cursor fails with ErrBadCursor.
	ListAlertEvents(ctx context.Context, q AlertEventQuery) ([]api.AlertEvent, string, error)
	// GetAlertEvent returns the alert event with the given ID, or
	// ErrNotFound.
	GetAlertEvent(ctx context.Context, id string) (api.AlertEvent, error)
	// ListDeliveries returns one page of deliveries, newest first, and the
	// cursor of the next page. A q.After that is not such a cursor fails
	// with ErrBadCursor.
	ListDeliveries(ctx context.Context, q DeliveryQuery) ([]api.Delivery, string, error)
	// ListDeliveryAttempts returns every attempt of a delivery, oldest
	// first; none for an unknown delivery.
	ListDeliveryAttempts(ctx context.Context, deliveryID string) ([]api.DeliveryAttempt, error)
	// DueDeliveries returns at most limit (DefaultLimit when limit <= 0,
	// at most MaxLimit) pending deliveries whose next attempt is due at
	// now, the longest due first, each with its event.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]DueDelivery, error)
	// OutboxStats tells how many deliveries are pending and how long the
	// oldest of them has waited at now.
	OutboxStats(ctx context.Context, now time.Time) (OutboxStats, error)
}

// Tx is a write transaction. Callers set IDs, revisions and timestamps;
// the store stores exactly what it is given.
type Tx interface {
	Reader
	// InsertEndpoint stores a new endpoint; a taken name is ErrConflict.
	InsertEndpoint(ctx context.Context, e api.Endpoint) error
	// UpdateEndpoint replaces the endpoint with e.ID; ErrNotFound if absent,
	// ErrConflict if the new name is taken.
	UpdateEndpoint(ctx context.Context, e api.Endpoint) error
	// DeleteEndpoint removes an endpoint; ErrNotFound if absent.
	DeleteEndpoint(ctx context.Context, id string) error

	// InsertCredential stores a new credential; a taken name is ErrConflict.
	InsertCredential(ctx context.Context, c CredentialRecord) error
	// UpdateCredential replaces the credential with c.ID; ErrNotFound if
	// absent, ErrConflict if the new name is taken.
	UpdateCredential(ctx context.Context, c CredentialRecord) error
	// UpdateSealed replaces only the sealed secret of a credential (key
	// rotation): no revision or timestamp changes.
	UpdateSealed(ctx context.Context, id string, s secret.Sealed) error
	// DeleteCredential removes a credential; ErrNotFound if absent.
	DeleteCredential(ctx context.Context, id string) error

	// InsertMonitor stores a new monitor; a taken name is ErrConflict.
	InsertMonitor(ctx context.Context, m api.Monitor) error
	// UpdateMonitor replaces the monitor with m.ID; ErrNotFound if absent,
	// ErrConflict if the new name is taken.
	UpdateMonitor(ctx context.Context, m api.Monitor) error
	// DeleteMonitor removes a monitor; ErrNotFound if absent.
	DeleteMonitor(ctx context.Context, id string) error

	// InsertChannel stores a new notification channel; a taken name is
	// ErrConflict.
	InsertChannel(ctx context.Context, c ChannelRecord) error
	// UpdateChannel replaces the channel with c.ID; ErrNotFound if absent,
	// ErrConflict if the new name is taken.
	UpdateChannel(ctx context.Context, c ChannelRecord) error
	// UpdateChannelSealed replaces only the sealed secret of a channel
	// (key rotation): no revision or timestamp changes.
	UpdateChannelSealed(ctx context.Context, id string, s secret.Sealed) error
	// DeleteChannel removes a notification channel; ErrNotFound if absent.
	DeleteChannel(ctx context.Context, id string) error

	// InsertThreshold stores a new alert threshold; a taken name is
	// ErrConflict.
	InsertThreshold(ctx context.Context, a api.AlertThreshold) error
	// UpdateThreshold replaces the threshold with a.ID; ErrNotFound if
	// absent, ErrConflict if the new name is taken.
	UpdateThreshold(ctx context.Context, a api.AlertThreshold) error
	// DeleteThreshold removes an alert threshold; ErrNotFound if absent.
	DeleteThreshold(ctx context.Context, id string) error

	// InsertRetentionPolicy stores a new retention policy; a taken name is
	// ErrConflict.
	InsertRetentionPolicy(ctx context.Context, p api.RetentionPolicy) error
	// UpdateRetentionPolicy replaces the policy with p.ID; ErrNotFound if
	// absent, ErrConflict if the new name is taken.
	UpdateRetentionPolicy(ctx context.Context, p api.RetentionPolicy) error
	// DeleteRetentionPolicy removes a retention policy; ErrNotFound if
	// absent.
	DeleteRetentionPolicy(ctx context.Context, id string) error
	// SetRetentionPolicyRun records the report of a policy's latest run
	// (its time and counts) and when the next is due, bumping no revision.
	SetRetentionPolicyRun(ctx context.Context, id string, at time.Time, deleted, anonymized int64, next time.Time) error
	// InsertErasureRequest stores a new erasure request.
	InsertErasureRequest(ctx context.Context, e api.ErasureRequest) error

	// InsertAuditEvent appends an audit event.
	InsertAuditEvent(ctx context.Context, ev api.AuditEvent) error

	// InsertRevision stores one revision of an object (its snapshot); a
	// revision number the object already has is ErrConflict.
	InsertRevision(ctx context.Context, v api.Revision) error
	// InsertTombstone stores what is kept of a deleted object, replacing
	// an older tombstone of the same ID.
	InsertTombstone(ctx context.Context, v api.Tombstone) error
	// DeleteTombstone removes an object's tombstone (it was restored);
	// ErrNotFound if there is none.
	DeleteTombstone(ctx context.Context, objectID string) error

	// PutIdempotency stores the outcome of an idempotent request.
	PutIdempotency(ctx context.Context, rec IdempotencyRecord) error
	// DeleteExpiredIdempotency removes records that expired before now and
	// returns how many it removed.
	DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error)

	// InsertToken stores a token with the hash of its secret; a taken name
	// is ErrConflict.
	InsertToken(ctx context.Context, t api.Token, hash string) error
	// RevokeToken marks the token with the given ID or name revoked at the
	// given time and returns it; ErrNotFound if absent.
	RevokeToken(ctx context.Context, idOrName string, at time.Time) (api.Token, error)

	// PutSetting stores a value of aiod's own settings, replacing any.
	PutSetting(ctx context.Context, key string, value []byte) error

	// RecordTransitions stores alert events, their deliveries and the
	// machines' states of one evaluation (see AlertBatch). Within a Write
	// they commit together with whatever else the transaction does.
	RecordTransitions(ctx context.Context, b AlertBatch) error
	// RecordDeliveryAttempt stores one attempt of a delivery and moves the
	// delivery on (see DeliveryAttemptRecord), and returns the delivery as
	// it now is; ErrNotFound if there is no such delivery.
	RecordDeliveryAttempt(ctx context.Context, a DeliveryAttemptRecord) (api.Delivery, error)
	// CancelDeliveries cancels every pending delivery to the channel, for
	// a channel that was disabled or deleted, and returns how many.
	CancelDeliveries(ctx context.Context, channelID string) (int64, error)
	// DeleteAlertStates removes the machines of a threshold, for a
	// threshold that was deleted (after its open alerts were resolved).
	DeleteAlertStates(ctx context.Context, thresholdID string) error
}

// ListQuery selects a page of objects of one kind: the filters every kind
// takes. A kind with filters of its own has a query type that embeds
// ListQuery (MonitorQuery).
type ListQuery struct {
	// Name selects the object with exactly this name.
	Name string
	// NamePrefix selects objects whose name starts with it.
	NamePrefix string
	// Tags selects objects that carry every one of these key/value pairs.
	Tags []Tag
	// Limit is the page size; 0 means DefaultLimit.
	Limit int
	// After is the cursor returned with the previous page.
	After string
}

// Tag is one key/value pair of a tag filter.
type Tag struct{ Key, Value string }

// AuditQuery selects a page of audit events.
type AuditQuery struct {
	ObjectID string
	Kind     string
	Actor    string
	// Since selects events at or after this time when non-zero.
	Since time.Time
	Limit int
	After string
}

// Page size bounds shared by every listing.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// IdempotencyKey is the scope of an idempotency key: the same key sent by
// another token, or to another method or path, is another request.
type IdempotencyKey struct {
	TokenID string
	Method  string
	Path    string
	Key     string
}

// IdempotencyRecord is the stored outcome of a request.
type IdempotencyRecord struct {
	IdempotencyKey
	// Fingerprint is a keyed hash of the request body; the same key with
	// another body is refused.
	Fingerprint string
	Status      int
	// Header holds the response headers worth replaying (ETag, Location).
	Header map[string]string
	Body   []byte
	// CreatedAt and ExpiresAt bound the record's life.
	CreatedAt time.Time
	ExpiresAt time.Time
}

// IntervalCount is how many monitors have one interval and enabled state.
type IntervalCount struct {
	// Interval is the interval as stored, e.g. "30s" or "1m".
	Interval string
	Enabled  bool
	Count    int
}

// page returns the shared part of a query; kinds' query types have it by
// embedding ListQuery, which is what ListAll needs of them.
func (q *ListQuery) page() *ListQuery { return q }

// pageQuery is a pointer to ListQuery or to a kind's query type embedding it.
type pageQuery[Q any] interface {
	*Q
	page() *ListQuery
}

// EachPage calls fn with every page of a listing, MaxLimit objects at a
// time, in the listing's order. Unlike ListAll it holds one page at a time:
// the scheduler's periodic reload of 50,000 monitors read with ListAll
// held all of them beside the schedule's own copies.
func EachPage[T, Q any, PQ pageQuery[Q]](ctx context.Context, list func(ctx context.Context, q Q) ([]T, string, error), fn func(page []T) error) error {
	var q Q
	PQ(&q).page().Limit = MaxLimit
	for {
		page, next, err := list(ctx, q)
		if err != nil {
			return err
		}
		if err := fn(page); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		PQ(&q).page().After = next
	}
}

// ListAll reads every page of a listing, as for loading the whole
// configuration: list is a List method of a Reader, bound to ctx, and Q its
// query type. Every page is read with Q's zero filters; a list function
// that wants filters sets them on the query it is given.
func ListAll[T, Q any, PQ pageQuery[Q]](ctx context.Context, list func(ctx context.Context, q Q) ([]T, string, error)) ([]T, error) {
	var (
		out []T
		q   Q
	)
	PQ(&q).page().Limit = MaxLimit
	for {
		page, next, err := list(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		PQ(&q).page().After = next
	}
}
