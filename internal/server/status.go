package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/stats"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// monitorStatus answers GET /v1/monitors/{id}/status?window=1h with the
// figures over the window that ends now.
func (s *Server) monitorStatus(w http.ResponseWriter, r *http.Request, _ principal) error {
	id := r.PathValue("id")
	window := r.URL.Query().Get("window")
	if window == "" {
		window = api.DefaultStatusWindow
	}
	d, err := api.ParseDuration(window)
	if err != nil || d < time.Minute || d > api.MaxStatusWindow {
		return invalid([]api.FieldError{{Field: "window", Message: "must be a duration from 1m to 2160h (90 days), as in 1h"}})
	}
	if _, err := s.store.GetMonitor(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		return problemf(http.StatusNotFound, "no monitor with id %q", id)
	} else if err != nil {
		return err
	}
	now := s.clock.Now()
	roll, state, err := s.store.MonitorStatus(r.Context(), id, now.Add(-d), now)
	if err != nil {
		return err
	}
	st := stats.Status(&roll, d)
	st.MonitorID, st.Window = id, window
	st.Status, st.LastCheckedAt, st.TLSCertExpiresAt = state.LastOutcome, state.LastCheckedAt, state.TLSCertExpiresAt
	writeJSON(w, http.StatusOK, st)
	return nil
}

// monitorResults answers GET /v1/monitors/{id}/results with a page of raw
// results, oldest first.
func (s *Server) monitorResults(w http.ResponseWriter, r *http.Request, _ principal) error {
	id := r.PathValue("id")
	q := r.URL.Query()
	limit, after, errs := pageParams(q)
	rq := store.ResultQuery{Limit: limit, After: after}
	for name, dst := range map[string]*time.Time{"since": &rq.Since, "until": &rq.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				errs = append(errs, api.FieldError{Field: name, Message: "must be an RFC 3339 time, as in 2026-01-02T15:04:05Z"})
			}
			*dst = t
		}
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	if _, err := s.store.GetMonitor(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		return problemf(http.StatusNotFound, "no monitor with id %q", id)
	} else if err != nil {
		return err
	}
	items, next, err := s.store.ListResults(r.Context(), id, rq)
	if errors.Is(err, store.ErrBadCursor) {
		// Valid base64, but not a cursor this API returned.
		return invalid([]api.FieldError{badCursor})
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.List[api.ProbeResult]{Items: items, NextCursor: encodeCursor(next)})
	return nil
}
