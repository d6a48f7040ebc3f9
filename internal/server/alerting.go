package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// MaxThresholdIDFilters bounds the threshold_id filters of one GET
// /v1/alerts: each is one value of an IN list.
const MaxThresholdIDFilters = 100

// listAlerts answers GET /v1/alerts with a page of the current alerts:
// the pending and firing machines, ordered by threshold ID and severity.
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request, _ principal) error {
	q := r.URL.Query()
	limit, after, errs := pageParams(q)
	aq := store.AlertQuery{Limit: limit, After: after}
	aq.State, errs = oneOf(q, "state", api.CurrentAlertStates, errs)
	aq.Severity, errs = oneOf(q, "severity", api.Severities, errs)
	if n := len(q["threshold_id"]); n > MaxThresholdIDFilters {
		errs = append(errs, api.FieldError{Field: "threshold_id",
			Message: fmt.Sprintf("may be given at most %d times (got %d)", MaxThresholdIDFilters, n)})
	} else {
		for _, id := range q["threshold_id"] {
			if e, ok := idFilter("threshold_id", id, api.PrefixThreshold); !ok {
				errs = append(errs, e)
				continue
			}
			if !slices.Contains(aq.ThresholdIDs, id) {
				aq.ThresholdIDs = append(aq.ThresholdIDs, id)
			}
		}
	}
	scope, scoped, scopeErrs, err := s.alertThresholdScope(r, q)
	if err != nil {
		return err
	}
	errs = append(errs, scopeErrs...)
	if len(errs) > 0 {
		return invalid(errs)
	}
	if scoped {
		// Both filters hold: the thresholds named and those in scope.
		if len(aq.ThresholdIDs) > 0 {
			scope = slices.DeleteFunc(scope, func(id string) bool { return !slices.Contains(aq.ThresholdIDs, id) })
		}
		if len(scope) == 0 {
			writeJSON(w, http.StatusOK, api.List[api.Alert]{Items: []api.Alert{}})
			return nil
		}
		aq.ThresholdIDs = scope
	}
	items, next, err := s.store.CurrentAlerts(r.Context(), aq)
	if errors.Is(err, store.ErrBadCursor) {
		return invalid([]api.FieldError{badCursor})
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.List[api.Alert]{Items: items, NextCursor: encodeCursor(next)})
	return nil
}

// alertThresholdScope resolves the filters of GET /v1/alerts that select
// thresholds by what they watch (endpoint_id: the thresholds on the
// endpoint and on each of its monitors) or carry (tag, ANDed) to the IDs
// of those thresholds; scoped tells whether any such filter was given.
//
// It reads the matching thresholds (and the endpoint's monitors) in full;
// a scope of more than MaxAlertScope thresholds is refused, as the current
// alerts are selected with one IN list. Giving AlertQuery EndpointID and
// Tags, for CurrentAlerts to select threshold_id IN a subquery, would lift
// that limit.
func (s *Server) alertThresholdScope(r *http.Request, q url.Values) (ids []string, scoped bool, errs []api.FieldError, err error) {
	epID := q.Get("endpoint_id")
	if epID != "" {
		if e, ok := idFilter("endpoint_id", epID, api.PrefixEndpoint); !ok {
			errs = append(errs, e)
		}
	}
	var tags []store.Tag
	if n := len(q["tag"]); n > MaxTagFilters {
		errs = append(errs, api.FieldError{Field: "tag", Message: fmt.Sprintf("may be given at most %d times (got %d)", MaxTagFilters, n)})
	} else {
		for _, t := range q["tag"] {
			k, v, ok := strings.Cut(t, ":")
			if !ok || k == "" {
				errs = append(errs, api.FieldError{Field: "tag", Message: "must be key:value"})
				continue
			}
			tags = append(tags, store.Tag{Key: k, Value: v})
		}
	}
	if len(errs) > 0 || (epID == "" && len(tags) == 0) {
		return nil, false, errs, nil
	}
	ctx := r.Context()
	thrs, err := store.ListAll(ctx, func(ctx context.Context, tq store.ThresholdQuery) ([]api.AlertThreshold, string, error) {
		tq.Tags = tags
		return s.store.ListThresholds(ctx, tq)
	})
	if err != nil {
		return nil, true, nil, err
	}
	var mons map[string]bool
	if epID != "" {
		ms, err := store.ListAll(ctx, func(ctx context.Context, mq store.MonitorQuery) ([]api.Monitor, string, error) {
			mq.EndpointID = epID
			return s.store.ListMonitors(ctx, mq)
		})
		if err != nil {
			return nil, true, nil, err
		}
		mons = make(map[string]bool, len(ms))
		for _, m := range ms {
			mons[m.ID] = true
		}
	}
	for _, t := range thrs {
		onEndpoint := t.EndpointID != nil && *t.EndpointID == epID
		onItsMonitor := t.MonitorID != nil && mons[*t.MonitorID]
		if epID != "" && !onEndpoint && !onItsMonitor {
			continue
		}
		ids = append(ids, t.ID)
	}
	if len(ids) > MaxAlertScope {
		field := "endpoint_id"
		if epID == "" {
			field = "tag"
		}
		errs = append(errs, api.FieldError{Field: field,
			Message: fmt.Sprintf("the filters match %d thresholds, more than %d: narrow them or filter by threshold_id", len(ids), MaxAlertScope)})
	}
	return ids, true, errs, nil
}

// MaxAlertScope bounds the thresholds that the endpoint_id and tag filters
// of GET /v1/alerts may select: the store's bound on one IN list.
const MaxAlertScope = 1000

// listAlertEvents answers GET /v1/alert-events with a page of alert
// events, newest first.
func (s *Server) listAlertEvents(w http.ResponseWriter, r *http.Request, _ principal) error {
	q := r.URL.Query()
	limit, after, errs := pageParams(q)
	eq := store.AlertEventQuery{Limit: limit, After: after}
	if id := q.Get("threshold_id"); id != "" {
		if e, ok := idFilter("threshold_id", id, api.PrefixThreshold); !ok {
			errs = append(errs, e)
		}
		eq.ThresholdID = id
	}
	eq.Since, errs = timeFilter(q, "since", errs)
	if len(errs) > 0 {
		return invalid(errs)
	}
	items, next, err := s.store.ListAlertEvents(r.Context(), eq)
	if errors.Is(err, store.ErrBadCursor) {
		return invalid([]api.FieldError{badCursor})
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.List[api.AlertEvent]{Items: items, NextCursor: encodeCursor(next)})
	return nil
}

// listDeliveries answers GET /v1/deliveries with a page of deliveries,
// newest first.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, _ principal) error {
	q := r.URL.Query()
	limit, after, errs := pageParams(q)
	dq := store.DeliveryQuery{Limit: limit, After: after}
	for _, f := range []struct {
		param, prefix string
		dst           *string
	}{
		{"channel_id", api.PrefixChannel, &dq.ChannelID},
		{"event_id", api.PrefixAlertEvent, &dq.EventID},
	} {
		if id := q.Get(f.param); id != "" {
			if e, ok := idFilter(f.param, id, f.prefix); !ok {
				errs = append(errs, e)
			}
			*f.dst = id
		}
	}
	dq.State, errs = oneOf(q, "state", api.DeliveryStates, errs)
	if len(errs) > 0 {
		return invalid(errs)
	}
	items, next, err := s.store.ListDeliveries(r.Context(), dq)
	if errors.Is(err, store.ErrBadCursor) {
		return invalid([]api.FieldError{badCursor})
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.List[api.Delivery]{Items: items, NextCursor: encodeCursor(next)})
	return nil
}

// oneOf reads an optional filter that takes one of a few values.
func oneOf(q url.Values, param string, values []string, errs []api.FieldError) (string, []api.FieldError) {
	v := q.Get(param)
	if v != "" && !slices.Contains(values, v) {
		errs = append(errs, api.FieldError{Field: param, Message: "must be one of " + strings.Join(values, ", ")})
	}
	return v, errs
}

// idFilter checks that a filter holds an ID of the kind its prefix names;
// an ID of another kind is named for what it is.
func idFilter(param, id, prefix string) (api.FieldError, bool) {
	if ids.Valid(prefix, id) {
		return api.FieldError{}, true
	}
	msg := fmt.Sprintf("must be the ID of %s (%s…)", api.PrefixKinds[prefix], prefix)
	if kind := api.KindOfID(id); kind != "" {
		msg += ", not of " + kind
	}
	return api.FieldError{Field: param, Message: msg}, false
}

// timeFilter reads an optional RFC 3339 time filter.
func timeFilter(q url.Values, param string, errs []api.FieldError) (time.Time, []api.FieldError) {
	v := q.Get(param)
	if v == "" {
		return time.Time{}, errs
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		errs = append(errs, api.FieldError{Field: param, Message: "must be an RFC 3339 time, as in 2026-01-02T15:04:05Z"})
	}
	return t, errs
}
