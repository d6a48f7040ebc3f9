package store

// The durable state of alerting: the evaluation's machines (alert_states),
// the alert events they produce (alert_events) and the outbox of their
// deliveries (deliveries, delivery_attempts).
//
// The outbox rule: an event and its deliveries are written in one
// transaction (RecordTransitions), and an attempt and the delivery's new
// state in another (RecordDeliveryAttempt). So a crash between an event
// and its sending leaves the delivery pending, to be sent after the
// restart, and a delivery the receiver acknowledged is marked delivered
// together with the attempt that says so, and never sent again.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// AlertStore holds the writes of alerting that run in a transaction of
// their own. It is part of Store; the alert engine and the delivery worker
// are its writers. The same writes are on Tx for a caller that must commit
// them with another change (CancelDeliveries when a channel is disabled).
type AlertStore interface {
	// RecordTransitions runs Tx.RecordTransitions in a write transaction
	// of its own.
	RecordTransitions(ctx context.Context, b AlertBatch) error
	// RecordDeliveryAttempt runs Tx.RecordDeliveryAttempt in a write
	// transaction of its own.
	RecordDeliveryAttempt(ctx context.Context, a DeliveryAttemptRecord) (api.Delivery, error)
	// CancelDeliveries runs Tx.CancelDeliveries in a write transaction of
	// its own.
	CancelDeliveries(ctx context.Context, channelID string) (int64, error)
	// ClaimDeliveries takes at most lim.Total of the deliveries
	// DueDeliveries would return at now, and of each channel at most
	// lim.PerChannel less its lim.InFlight (when lim.PerChannel > 0), in
	// due order, and, in the same transaction, moves their next attempt to
	// until: a lease. While the lease runs no other claim (a second
	// worker, or a replica) gets them; if the worker dies before it
	// records the attempt, they are due again when the lease ends, and
	// sent again (receivers deduplicate by delivery ID). until should
	// exceed the attempt timeout. The per-channel bound lets a worker
	// claim only what it can start: a delivery it claimed and could not
	// start would wait out the lease.
	ClaimDeliveries(ctx context.Context, now, until time.Time, lim ClaimLimits) ([]DueDelivery, error)
	// DeleteDeliveriesBefore deletes at most limit (DefaultDeleteBatch when
	// limit <= 0) deliveries created before `before` that are no longer
	// pending, with their attempts, and returns how many deliveries it
	// deleted. A caller deletes in batches until fewer than limit come
	// back. Pending deliveries are never deleted: the worker ends them.
	DeleteDeliveriesBefore(ctx context.Context, before time.Time, limit int) (int64, error)
	// DeleteAlertEventsBefore deletes at most limit (DefaultDeleteBatch
	// when limit <= 0) alert events older than before that have no
	// delivery left, and returns how many it deleted. Retention deletes
	// the deliveries first (DeleteDeliveriesBefore), then the events.
	DeleteAlertEventsBefore(ctx context.Context, before time.Time, limit int) (int64, error)
}

// AlertStateRecord is the stored alert.Machine of one severity of one
// threshold, with what GET /v1/alerts shows of it. Zero times are stored as
// NULL and read back as zero, as the machine's zero times mean "none".
type AlertStateRecord struct {
	ThresholdID string
	// Severity is api.SeverityWarning or api.SeverityCritical.
	Severity string
	// State, Since, ClearSince, Notified and LastNotified are the fields
	// of alert.Machine; an empty State is ok.
	State        string
	Since        time.Time
	ClearSince   time.Time
	Notified     bool
	LastNotified time.Time
	// Value is the figure of the latest evaluation stored, nil for none.
	Value *float64
	// StartedAt is when the current alert began (went pending, or fired);
	// zero when the machine is ok.
	StartedAt time.Time
	// ThresholdRevision is the revision of the threshold the machine was
	// evaluated under, so that a threshold changed while no evaluator ran
	// is recognised as changed; 0 when unknown (states stored before the
	// revision was).
	ThresholdRevision int64
}

// AlertBatch is what one evaluation stores: RecordTransitions writes all
// of it or, on any error, none of it.
type AlertBatch struct {
	// Events are the transitions, as alert events with their evt_ IDs.
	Events []api.AlertEvent
	// Deliveries are the deliveries of those events, one per event and
	// channel, each naming an event of this batch (or one stored before).
	// A pending delivery without NextAttemptAt is due at its CreatedAt;
	// Attempts and the Last* fields are normally zero.
	Deliveries []api.Delivery
	// States are the machines after the evaluation, stored in place of
	// the ones of the same threshold and severity.
	States []AlertStateRecord
}

// DeliveryAttemptRecord is one attempt to send a delivery and what it
// makes of the delivery.
type DeliveryAttemptRecord struct {
	api.DeliveryAttempt
	// State is the delivery's state after the attempt: DeliveryDelivered
	// when the receiver acknowledged it, DeliveryPending to try again at
	// NextAttemptAt, DeliveryFailed to give up. A delivered delivery stays
	// delivered whatever a later attempt says, and a cancelled one stays
	// cancelled unless this attempt delivered it. Any other state is
	// ErrBadDeliveryState.
	State string
	// NextAttemptAt is when a delivery left pending is due again; the zero
	// time makes it due at once.
	NextAttemptAt time.Time
}

// AlertQuery selects a page of current alerts.
type AlertQuery struct {
	// State is api.AlertPending or api.AlertFiring; "" means both.
	State string
	// Severity is api.SeverityWarning or api.SeverityCritical; "" means
	// both.
	Severity string
	// ThresholdIDs, when not empty, selects the alerts of these
	// thresholds only (at most maxThresholdFilter IDs).
	ThresholdIDs []string
	// EndpointID, when set, selects the alerts of the thresholds that
	// watch the endpoint: those on the endpoint itself and those on each
	// of its monitors. The store selects them with a subquery, so an
	// endpoint may have any number of thresholds.
	EndpointID string
	// Tags select the alerts of the thresholds that carry every one of
	// these tags.
	Tags  []Tag
	Limit int
	After string
}

// AlertEventQuery selects a page of alert events.
type AlertEventQuery struct {
	ThresholdID string
	// Since selects events at or after this time when non-zero.
	Since time.Time
	Limit int
	After string
}

// DeliveryQuery selects a page of deliveries.
type DeliveryQuery struct {
	ChannelID string
	EventID   string
	State     string
	Limit     int
	After     string
}

// DueDelivery is a delivery to send, with the event it carries.
type DueDelivery struct {
	Delivery api.Delivery
	Event    api.AlertEvent
}

// OutboxStats describes the outbox, for metrics.
type OutboxStats struct {
	// Depth counts the pending deliveries.
	Depth int64
	// OldestAge is how long the oldest pending delivery has waited since
	// it was created; zero when none is pending.
	OldestAge time.Duration
}

// alertRowsPerInsert bounds the rows of one multi-row insert: at 20
// columns, 200 rows stay well below every dialect's placeholder limit.
const alertRowsPerInsert = 200

// maxThresholdFilter bounds AlertQuery.ThresholdIDs, the IN list of one
// query.
const maxThresholdFilter = 1000

// ---- column codecs ----

// fmtTimeZero stores a zero time as NULL.
func fmtTimeZero(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

func parseTimeZero(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}

func nullFloat(f sql.NullFloat64) *float64 {
	if !f.Valid {
		return nil
	}
	v := f.Float64
	return &v
}

func nullInt(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

func nullInt64(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

// parseSeqCursor reads the cursor of a listing paged by seq.
func parseSeqCursor(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	return n, nil
}

// nullTimes collects the nullable time columns of a row, to parse after
// Scan: each into a time (zero for NULL) or a pointer (nil for NULL).
type nullTimes struct {
	zero []*sql.NullString
	zdst []*time.Time
	ptr  []*sql.NullString
	pdst []**time.Time
}

// toZero returns a scan destination parsed into dst by parse.
func (nt *nullTimes) toZero(dst *time.Time) *sql.NullString {
	s := new(sql.NullString)
	nt.zero, nt.zdst = append(nt.zero, s), append(nt.zdst, dst)
	return s
}

// toPtr returns a scan destination parsed into dst by parse.
func (nt *nullTimes) toPtr(dst **time.Time) *sql.NullString {
	s := new(sql.NullString)
	nt.ptr, nt.pdst = append(nt.ptr, s), append(nt.pdst, dst)
	return s
}

func (nt *nullTimes) parse() error {
	for i, s := range nt.zero {
		t, err := parseTimeZero(*s)
		if err != nil {
			return err
		}
		*nt.zdst[i] = t
	}
	for i, s := range nt.ptr {
		t, err := parseTimePtr(*s)
		if err != nil {
			return err
		}
		*nt.pdst[i] = t
	}
	return nil
}

// ---- alert states ----

const alertStateColumns = `threshold_id, severity, state, since, clear_since, notified, last_notified, value, started_at,
	threshold_revision`

func scanAlertState(s scanner) (AlertStateRecord, error) {
	var (
		rec   AlertStateRecord
		value sql.NullFloat64
		rev   sql.NullInt64
		nt    nullTimes
	)
	since, clear, last, started := nt.toZero(&rec.Since), nt.toZero(&rec.ClearSince), nt.toZero(&rec.LastNotified), nt.toZero(&rec.StartedAt)
	if err := s.Scan(&rec.ThresholdID, &rec.Severity, &rec.State, since, clear, &rec.Notified, last, &value, started, &rev); err != nil {
		return rec, err
	}
	rec.Value, rec.ThresholdRevision = nullFloat(value), rev.Int64
	return rec, nt.parse()
}

func (r sqlReader) LoadAlertStates(ctx context.Context) ([]AlertStateRecord, error) {
	rows, err := r.query(ctx, `SELECT `+alertStateColumns+` FROM alert_states ORDER BY threshold_id, severity`)
	return collect(rows, err, scanAlertState)
}

// alertCursor is "<threshold ID> <severity>" of the last alert of a page;
// IDs and severities hold no space.
func alertCursor(a api.Alert) string { return a.ThresholdID + " " + a.Severity }

func (r sqlReader) CurrentAlerts(ctx context.Context, q AlertQuery) ([]api.Alert, string, error) {
	limit := clampLimit(q.Limit)
	if len(q.ThresholdIDs) > maxThresholdFilter {
		return nil, "", fmt.Errorf("at most %d threshold IDs per query, got %d", maxThresholdFilter, len(q.ThresholdIDs))
	}
	// The state condition is spelled as the partial index's predicate, so
	// that the query reads only the current alerts.
	conds := []string{"state IN ('pending', 'firing')"}
	var args []any
	if q.State != "" {
		conds = append(conds, "state = ?")
		args = append(args, q.State)
	}
	if q.Severity != "" {
		conds = append(conds, "severity = ?")
		args = append(args, q.Severity)
	}
	if len(q.ThresholdIDs) > 0 {
		conds = append(conds, "threshold_id IN ("+placeholders(len(q.ThresholdIDs))+")")
		for _, id := range q.ThresholdIDs {
			args = append(args, id)
		}
	}
	if q.EndpointID != "" {
		conds = append(conds, `threshold_id IN (SELECT id FROM alert_thresholds WHERE endpoint_id = ?
			OR monitor_id IN (SELECT id FROM monitors WHERE endpoint_id = ?))`)
		args = append(args, q.EndpointID, q.EndpointID)
	}
	// The current alerts are few (the partial index above): each is checked
	// for the tag by the primary key of object_tags, rather than building
	// the set of every object of every kind that carries it (see
	// commonTags).
	for _, tag := range q.Tags {
		conds = append(conds, "EXISTS (SELECT 1 FROM object_tags WHERE object_tags.object_id = alert_states.threshold_id AND key = ? AND value = ?)")
		args = append(args, tag.Key, tag.Value)
	}
	if q.After != "" {
		id, sev, ok := strings.Cut(q.After, " ")
		if !ok || id == "" || sev == "" {
			return nil, "", fmt.Errorf("%w: %q", ErrBadCursor, q.After)
		}
		conds = append(conds, "(threshold_id > ? OR (threshold_id = ? AND severity > ?))")
		args = append(args, id, id, sev)
	}
	rows, err := r.query(ctx, `SELECT `+alertStateColumns+` FROM alert_states WHERE `+strings.Join(conds, " AND ")+
		` ORDER BY threshold_id, severity LIMIT ?`, append(args, limit+1)...)
	recs, err := collect(rows, err, scanAlertState)
	if err != nil {
		return nil, "", err
	}
	out := make([]api.Alert, 0, len(recs))
	for _, rec := range recs {
		a := api.Alert{ThresholdID: rec.ThresholdID, Severity: rec.Severity, State: rec.State, Value: rec.Value, Since: rec.Since}
		if !rec.StartedAt.IsZero() {
			a.StartedAt = new(rec.StartedAt)
		}
		out = append(out, a)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = alertCursor(out[limit-1])
	}
	return out, next, nil
}

func (t sqlTx) putAlertStates(ctx context.Context, states []AlertStateRecord) error {
	for chunk := range slices.Chunk(states, alertRowsPerInsert) {
		args := make([]any, 0, len(chunk)*10)
		for _, s := range chunk {
			state := s.State
			if state == "" {
				state = api.AlertOK
			}
			args = append(args, s.ThresholdID, s.Severity, state, fmtTimeZero(s.Since), fmtTimeZero(s.ClearSince), s.Notified,
				fmtTimeZero(s.LastNotified), s.Value, fmtTimeZero(s.StartedAt), revisionColumn(s.ThresholdRevision))
		}
		if _, err := t.exec(ctx, `INSERT INTO alert_states (`+alertStateColumns+`) VALUES `+valuesList(len(chunk), 10)+`
			ON CONFLICT (threshold_id, severity) DO UPDATE SET state = excluded.state, since = excluded.since,
			clear_since = excluded.clear_since, notified = excluded.notified, last_notified = excluded.last_notified,
			value = excluded.value, started_at = excluded.started_at, threshold_revision = excluded.threshold_revision`, args...); err != nil {
			return fmt.Errorf("write alert states: %w", err)
		}
	}
	return nil
}

// revisionColumn stores an unknown (zero) revision as NULL.
func revisionColumn(rev int64) any {
	if rev == 0 {
		return nil
	}
	return rev
}

func (t sqlTx) DeleteAlertStates(ctx context.Context, thresholdID string) error {
	_, err := t.exec(ctx, `DELETE FROM alert_states WHERE threshold_id = ?`, thresholdID)
	return err
}

// ---- alert events ----

const alertEventColumns = `id, threshold_id, threshold_name, monitor_id, monitor_name, endpoint_id, endpoint_name, runbook_url,
	severity, from_state, to_state, metric, metric_window, short_window, value, at, started_at, resolved_at, reason, reminder`

const alertEventColumnCount = 20

// prefixed qualifies each column of a column list with a table alias.
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

func alertEventArgs(e api.AlertEvent) []any {
	return []any{e.ID, e.ThresholdID, e.ThresholdName, e.MonitorID, e.MonitorName, e.EndpointID, e.EndpointName, e.RunbookURL,
		e.Severity, e.FromState, e.ToState,
		e.Metric, e.Window, e.ShortWindow, e.Value, fmtTime(e.At), fmtTimePtr(e.StartedAt), fmtTimePtr(e.ResolvedAt), e.Reason, e.Reminder}
}

// alertEventDest returns the scan destinations of alertEventColumns for e,
// and what turns them into e's fields after the Scan.
func alertEventDest(e *api.AlertEvent) ([]any, func() error) {
	var (
		monitor, monitorName, ep, epName sql.NullString
		runbook, window, short, reason   sql.NullString
		value                            sql.NullFloat64
		nt                               nullTimes
	)
	dest := []any{&e.ID, &e.ThresholdID, &e.ThresholdName, &monitor, &monitorName, &ep, &epName, &runbook,
		&e.Severity, &e.FromState, &e.ToState, &e.Metric, &window, &short, &value,
		nt.toZero(&e.At), nt.toPtr(&e.StartedAt), nt.toPtr(&e.ResolvedAt), &reason, &e.Reminder}
	return dest, func() error {
		e.MonitorID, e.MonitorName, e.EndpointID, e.EndpointName = nullStringPtr(monitor), nullStringPtr(monitorName), nullStringPtr(ep), nullStringPtr(epName)
		e.RunbookURL, e.Window, e.Reason = nullStringPtr(runbook), nullStringPtr(window), nullStringPtr(reason)
		// A burn-rate event's window is its long window (metric_window)
		// and its short one (short_window).
		if e.ShortWindow = nullStringPtr(short); e.ShortWindow != nil {
			e.LongWindow = nullStringPtr(window)
		}
		e.Value = nullFloat(value)
		return nt.parse()
	}
}

// scanAlertEvent reads alertEventColumns; more, when given, are scanned
// after them (the seq of a listing).
func scanAlertEvent(s scanner, more ...any) (api.AlertEvent, error) {
	var e api.AlertEvent
	dest, finish := alertEventDest(&e)
	if err := s.Scan(append(dest, more...)...); err != nil {
		return e, err
	}
	return e, finish()
}

func (r sqlReader) GetAlertEvent(ctx context.Context, id string) (api.AlertEvent, error) {
	e, err := scanAlertEvent(r.queryRow(ctx, `SELECT `+alertEventColumns+` FROM alert_events WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	return e, err
}

func (r sqlReader) ListAlertEvents(ctx context.Context, q AlertEventQuery) ([]api.AlertEvent, string, error) {
	var (
		conds []string
		args  []any
	)
	if q.ThresholdID != "" {
		conds = append(conds, "threshold_id = ?")
		args = append(args, q.ThresholdID)
	}
	if !q.Since.IsZero() {
		conds = append(conds, "at >= ?")
		args = append(args, fmtTime(q.Since))
	}
	return pageBySeq(ctx, r, `SELECT `+alertEventColumns+`, seq FROM alert_events`, conds, args, q.Limit, q.After,
		func(s scanner, seq *int64) (api.AlertEvent, error) { return scanAlertEvent(s, seq) })
}

// pageBySeq reads one page of a listing ordered by seq, newest first: the
// query selects the listing's columns and then seq, which scan reads into
// its second argument.
func pageBySeq[T any](ctx context.Context, r sqlReader, query string, conds []string, args []any, limit int, after string,
	scan func(s scanner, seq *int64) (T, error),
) ([]T, string, error) {
	limit = clampLimit(limit)
	if after != "" {
		seq, err := parseSeqCursor(after)
		if err != nil {
			return nil, "", err
		}
		conds = append(conds, "seq < ?")
		args = append(args, seq)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	var seqs []int64
	rows, err := r.query(ctx, query+where+` ORDER BY seq DESC LIMIT ?`, append(args, limit+1)...)
	out, err := collect(rows, err, func(s scanner) (T, error) {
		var seq int64
		v, err := scan(s, &seq)
		seqs = append(seqs, seq)
		return v, err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(seqs[limit-1], 10)
	}
	return out, next, nil
}

// ---- deliveries ----

const deliveryColumns = `id, event_id, channel_id, state, attempts, next_attempt_at, last_attempt_at, last_status, last_error,
	last_duration_ms, created_at, delivered_at`

const deliveryColumnCount = 12

func deliveryArgs(d api.Delivery) []any {
	next := d.NextAttemptAt
	if next == nil && d.State == api.DeliveryPending {
		next = &d.CreatedAt
	}
	return []any{d.ID, d.EventID, d.ChannelID, d.State, d.Attempts, fmtTimePtr(next), fmtTimePtr(d.LastAttemptAt), d.LastStatus,
		d.LastError, d.LastDurationMS, fmtTime(d.CreatedAt), fmtTimePtr(d.DeliveredAt)}
}

// deliveryDest returns the scan destinations of deliveryColumns for d,
// and what turns them into d's fields after the Scan.
func deliveryDest(d *api.Delivery) ([]any, func() error) {
	var (
		status, dur sql.NullInt64
		lastErr     sql.NullString
		nt          nullTimes
	)
	dest := []any{&d.ID, &d.EventID, &d.ChannelID, &d.State, &d.Attempts, nt.toPtr(&d.NextAttemptAt), nt.toPtr(&d.LastAttemptAt),
		&status, &lastErr, &dur, nt.toZero(&d.CreatedAt), nt.toPtr(&d.DeliveredAt)}
	return dest, func() error {
		d.LastStatus, d.LastError, d.LastDurationMS = nullInt(status), nullStringPtr(lastErr), nullInt64(dur)
		return nt.parse()
	}
}

// scanDelivery reads deliveryColumns; more, when given, are scanned after
// them.
func scanDelivery(s scanner, more ...any) (api.Delivery, error) {
	var d api.Delivery
	dest, finish := deliveryDest(&d)
	if err := s.Scan(append(dest, more...)...); err != nil {
		return d, err
	}
	return d, finish()
}

func (r sqlReader) getDelivery(ctx context.Context, id string) (api.Delivery, error) {
	d, err := scanDelivery(r.queryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	return d, err
}

func (r sqlReader) ListDeliveries(ctx context.Context, q DeliveryQuery) ([]api.Delivery, string, error) {
	var (
		conds []string
		args  []any
	)
	for _, f := range []struct{ col, v string }{{"channel_id", q.ChannelID}, {"event_id", q.EventID}, {"state", q.State}} {
		if f.v != "" {
			conds = append(conds, f.col+" = ?")
			args = append(args, f.v)
		}
	}
	return pageBySeq(ctx, r, `SELECT `+deliveryColumns+`, seq FROM deliveries`, conds, args, q.Limit, q.After,
		func(s scanner, seq *int64) (api.Delivery, error) { return scanDelivery(s, seq) })
}

func (r sqlReader) ListDeliveryAttempts(ctx context.Context, deliveryID string) ([]api.DeliveryAttempt, error) {
	rows, err := r.query(ctx, `SELECT delivery_id, at, status, duration_ms, error FROM delivery_attempts
		WHERE delivery_id = ? ORDER BY seq`, deliveryID)
	return collect(rows, err, func(s scanner) (api.DeliveryAttempt, error) {
		var (
			a       api.DeliveryAttempt
			at      string
			status  sql.NullInt64
			errText sql.NullString
		)
		if err := s.Scan(&a.DeliveryID, &at, &status, &a.DurationMS, &errText); err != nil {
			return a, err
		}
		a.Status, a.Error = nullInt(status), nullStringPtr(errText)
		var err error
		a.At, err = parseTime(at)
		return a, err
	})
}

func (r sqlReader) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]DueDelivery, error) {
	return r.dueDeliveries(ctx, now, ClaimLimits{Total: limit})
}

// dueDeliveries is DueDeliveries with ClaimDeliveries' limits. With a
// per-channel bound it ranks each channel's due deliveries (a window
// function over the due ones only, which the deliveries_due index finds)
// and keeps those within the channel's room.
func (r sqlReader) dueDeliveries(ctx context.Context, now time.Time, lim ClaimLimits) ([]DueDelivery, error) {
	q := `SELECT ` + prefixed("d", deliveryColumns) + `, ` + prefixed("e", alertEventColumns) + `
		FROM deliveries d JOIN alert_events e ON e.id = d.event_id
		WHERE d.state = 'pending' AND d.next_attempt_at <= ?`
	args := []any{fmtTime(now)}
	if lim.PerChannel > 0 {
		busy, err := json.Marshal(lim.InFlight)
		if err != nil {
			return nil, err
		}
		q += ` AND d.seq IN (SELECT r.seq FROM (SELECT seq, channel_id,
				ROW_NUMBER() OVER (PARTITION BY channel_id ORDER BY next_attempt_at, seq) AS rn
				FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?) r
			LEFT JOIN json_each(?) b ON b.key = r.channel_id
			WHERE r.rn + COALESCE(b.value, 0) <= ?)`
		args = append(args, fmtTime(now), string(busy), lim.PerChannel)
	}
	// The state condition is spelled as the partial index's predicate.
	rows, err := r.query(ctx, q+` ORDER BY d.next_attempt_at, d.seq LIMIT ?`, append(args, clampLimit(lim.Total))...)
	return collect(rows, err, func(s scanner) (DueDelivery, error) {
		var dd DueDelivery
		dDest, dFinish := deliveryDest(&dd.Delivery)
		eDest, eFinish := alertEventDest(&dd.Event)
		if err := s.Scan(append(dDest, eDest...)...); err != nil {
			return dd, err
		}
		return dd, errors.Join(dFinish(), eFinish())
	})
}

func (r sqlReader) OutboxStats(ctx context.Context, now time.Time) (OutboxStats, error) {
	var (
		st     OutboxStats
		oldest sql.NullString
	)
	if err := r.queryRow(ctx, `SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE state = 'pending'`).Scan(&st.Depth, &oldest); err != nil {
		return st, err
	}
	t, err := parseTimeZero(oldest)
	if err != nil {
		return st, err
	}
	if !t.IsZero() && now.After(t) {
		st.OldestAge = now.Sub(t)
	}
	return st, nil
}

// ---- writes ----

func (t sqlTx) RecordTransitions(ctx context.Context, b AlertBatch) error {
	for chunk := range slices.Chunk(b.Events, alertRowsPerInsert) {
		args := make([]any, 0, len(chunk)*alertEventColumnCount)
		for _, e := range chunk {
			args = append(args, alertEventArgs(e)...)
		}
		if _, err := t.exec(ctx, `INSERT INTO alert_events (`+alertEventColumns+`) VALUES `+
			valuesList(len(chunk), alertEventColumnCount), args...); err != nil {
			return fmt.Errorf("insert alert events: %w", err)
		}
	}
	for chunk := range slices.Chunk(b.Deliveries, alertRowsPerInsert) {
		args := make([]any, 0, len(chunk)*deliveryColumnCount)
		for _, d := range chunk {
			args = append(args, deliveryArgs(d)...)
		}
		if _, err := t.exec(ctx, `INSERT INTO deliveries (`+deliveryColumns+`) VALUES `+
			valuesList(len(chunk), deliveryColumnCount), args...); err != nil {
			return fmt.Errorf("insert deliveries: %w", err)
		}
	}
	return t.putAlertStates(ctx, b.States)
}

// ErrBadDeliveryState means an attempt named a state a delivery cannot
// take after an attempt.
var ErrBadDeliveryState = errors.New("an attempt leaves a delivery pending, delivered or failed")

func (t sqlTx) RecordDeliveryAttempt(ctx context.Context, a DeliveryAttemptRecord) (api.Delivery, error) {
	switch a.State {
	case api.DeliveryPending, api.DeliveryDelivered, api.DeliveryFailed:
	default:
		return api.Delivery{}, fmt.Errorf("%w, not %q", ErrBadDeliveryState, a.State)
	}
	d, err := t.getDelivery(ctx, a.DeliveryID)
	if err != nil {
		return d, err
	}
	if _, err := t.exec(ctx, `INSERT INTO delivery_attempts (delivery_id, at, status, duration_ms, error) VALUES (?, ?, ?, ?, ?)`,
		a.DeliveryID, fmtTime(a.At), a.Status, a.DurationMS, a.Error); err != nil {
		return d, fmt.Errorf("insert delivery attempt: %w", err)
	}
	d.Attempts++
	d.LastAttemptAt, d.LastStatus, d.LastError, d.LastDurationMS = new(a.At), a.Status, a.Error, new(a.DurationMS)
	switch {
	case d.State == api.DeliveryDelivered:
		// Delivered is final: an attempt that raced with the one that
		// delivered it (a second worker) changes nothing of that.
	case a.State == api.DeliveryDelivered:
		d.State, d.DeliveredAt, d.NextAttemptAt = api.DeliveryDelivered, new(a.At), nil
	case d.State == api.DeliveryPending && a.State == api.DeliveryPending:
		d.NextAttemptAt = new(a.NextAttemptAt)
	case d.State == api.DeliveryPending:
		d.State, d.NextAttemptAt = a.State, nil
	}
	if err := t.execOne(ctx, `UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?,
		last_status = ?, last_error = ?, last_duration_ms = ?, delivered_at = ? WHERE id = ?`,
		d.State, d.Attempts, fmtTimePtr(d.NextAttemptAt), fmtTimePtr(d.LastAttemptAt), d.LastStatus, d.LastError,
		d.LastDurationMS, fmtTimePtr(d.DeliveredAt), d.ID); err != nil {
		return d, err
	}
	return d, nil
}

func (t sqlTx) CancelDeliveries(ctx context.Context, channelID string) (int64, error) {
	res, err := t.exec(ctx, `UPDATE deliveries SET state = ?, next_attempt_at = NULL WHERE channel_id = ? AND state = 'pending'`,
		api.DeliveryCancelled, channelID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ---- the store's own transactions ----

// RecordTransitions stores one evaluation in one write transaction.
func (s *SQLite) RecordTransitions(ctx context.Context, b AlertBatch) error {
	if len(b.Events) == 0 && len(b.Deliveries) == 0 && len(b.States) == 0 {
		return nil
	}
	return s.Write(ctx, func(tx Tx) error { return tx.RecordTransitions(ctx, b) })
}

// RecordDeliveryAttempt stores one attempt in one write transaction.
func (s *SQLite) RecordDeliveryAttempt(ctx context.Context, a DeliveryAttemptRecord) (api.Delivery, error) {
	var d api.Delivery
	err := s.Write(ctx, func(tx Tx) error {
		var err error
		d, err = tx.RecordDeliveryAttempt(ctx, a)
		return err
	})
	return d, err
}

// CancelDeliveries cancels a channel's pending deliveries in one write
// transaction.
func (s *SQLite) CancelDeliveries(ctx context.Context, channelID string) (int64, error) {
	var n int64
	err := s.Write(ctx, func(tx Tx) error {
		var err error
		n, err = tx.CancelDeliveries(ctx, channelID)
		return err
	})
	return n, err
}

// ClaimLimits bounds a ClaimDeliveries.
type ClaimLimits struct {
	// Total bounds the deliveries claimed (clampLimit: <= 0 is the
	// default page size).
	Total int
	// PerChannel, when > 0, bounds the attempts of one channel in flight:
	// a channel's claimed deliveries and its InFlight count together.
	PerChannel int
	// InFlight is the caller's attempts in flight per channel ID.
	InFlight map[string]int
}

// ClaimDeliveries selects and leases the due deliveries in one write
// transaction. SQLite's single writer makes the two statements atomic;
// with PostgreSQL the selection needs FOR UPDATE SKIP LOCKED, so that
// replicas claim disjoint deliveries without waiting for each other.
func (s *SQLite) ClaimDeliveries(ctx context.Context, now, until time.Time, lim ClaimLimits) ([]DueDelivery, error) {
	var out []DueDelivery
	err := s.Write(ctx, func(tx Tx) error {
		t := tx.(sqlTx)
		due, err := t.dueDeliveries(ctx, now, lim)
		if err != nil || len(due) == 0 {
			out = due
			return err
		}
		args := []any{fmtTime(until)}
		for _, d := range due {
			args = append(args, d.Delivery.ID)
		}
		if _, err := t.exec(ctx, `UPDATE deliveries SET next_attempt_at = ? WHERE state = 'pending' AND id IN (`+
			placeholders(len(due))+`)`, args...); err != nil {
			return fmt.Errorf("lease deliveries: %w", err)
		}
		for i := range due {
			due[i].Delivery.NextAttemptAt = new(until)
		}
		out = due
		return nil
	})
	return out, err
}

// DeleteDeliveriesBefore deletes one batch in its own transaction.
func (s *SQLite) DeleteDeliveriesBefore(ctx context.Context, before time.Time, limit int) (int64, error) {
	if limit <= 0 {
		limit = DefaultDeleteBatch
	}
	var n int64
	err := s.writeAlone(ctx, func(tx Tx) error {
		t := tx.(sqlTx)
		// The same selection twice in one transaction picks the same
		// rows: the attempts first, which reference their delivery.
		sel := `SELECT id FROM deliveries WHERE created_at < ? AND state <> 'pending' ORDER BY created_at, seq LIMIT ?`
		if _, err := t.exec(ctx, `DELETE FROM delivery_attempts WHERE delivery_id IN (`+sel+`)`, fmtTime(before), limit); err != nil {
			return fmt.Errorf("delete delivery attempts: %w", err)
		}
		res, err := t.exec(ctx, `DELETE FROM deliveries WHERE id IN (`+sel+`)`, fmtTime(before), limit)
		if err != nil {
			return fmt.Errorf("delete deliveries: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// DeleteAlertEventsBefore deletes one batch in its own transaction.
func (s *SQLite) DeleteAlertEventsBefore(ctx context.Context, before time.Time, limit int) (int64, error) {
	if limit <= 0 {
		limit = DefaultDeleteBatch
	}
	var n int64
	err := s.writeAlone(ctx, func(tx Tx) error {
		res, err := tx.(sqlTx).exec(ctx, `DELETE FROM alert_events WHERE seq IN (SELECT seq FROM alert_events e
			WHERE at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) ORDER BY at, seq LIMIT ?)`,
			fmtTime(before), limit)
		if err != nil {
			return fmt.Errorf("delete alert events: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
