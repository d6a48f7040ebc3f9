package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

func (s *Server) listAuditEvents(w http.ResponseWriter, r *http.Request, _ principal) error {
	q := r.URL.Query()
	limit, after, errs := pageParams(q)
	// The audit cursor is a sequence number, which starts at 1: a
	// well-formed cursor of another listing is the client's mistake, not a
	// 500, and one below 1 would silently give the first page.
	if n, err := strconv.ParseInt(after, 10, 64); after != "" && (err != nil || n < 1) && !slices.Contains(errs, badCursor) {
		errs = append(errs, badCursor)
	}
	if k := q.Get("kind"); k != "" && !slices.Contains(api.AuditKinds, k) {
		errs = append(errs, api.FieldError{Field: "kind", Message: "must be one of " + strings.Join(api.AuditKinds, ", ")})
	}
	aq := store.AuditQuery{ObjectID: q.Get("object_id"), Kind: q.Get("kind"), Actor: q.Get("actor"), Limit: limit, After: after}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			errs = append(errs, api.FieldError{Field: "since", Message: "must be an RFC 3339 time, as in 2026-01-02T15:04:05Z"})
		}
		aq.Since = t
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	items, next, err := s.store.ListAuditEvents(r.Context(), aq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.List[api.AuditEvent]{Items: items, NextCursor: encodeCursor(next)})
	return nil
}
