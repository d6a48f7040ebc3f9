package server

import (
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
	aq.EndpointID, aq.Tags, errs = alertScope(q, errs)
	if len(errs) > 0 {
		return invalid(errs)
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

// alertScope reads the filters of GET /v1/alerts that select thresholds
// by what they watch (endpoint_id: the thresholds on the endpoint and on
// each of its monitors) or carry (tag, ANDed). The store applies them as
// subqueries, so they select any number of thresholds.
func alertScope(q url.Values, errs []api.FieldError) (string, []store.Tag, []api.FieldError) {
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
	return epID, tags, errs
}

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
