package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// retentionPolicies declares the retention policy kind. A policy names
// endpoints without referencing them: it neither needs them to exist nor
// blocks their delete (erasing an endpoint often begins with deleting it).
// What the engine reports of its runs (last_run_*, next_run_at) is never
// taken from a request: a PUT keeps the stored report.
func (s *Server) retentionPolicies() *kindSpec[api.RetentionPolicy, *api.RetentionPolicy] {
	return &kindSpec[api.RetentionPolicy, *api.RetentionPolicy]{
		kind: api.RetentionKind,
		get:  store.Reader.GetRetentionPolicy,
		list: func(r store.Reader, ctx context.Context, q store.ListQuery, params url.Values) ([]api.RetentionPolicy, string, error) {
			return r.ListRetentionPolicies(ctx, store.RetentionPolicyQuery{ListQuery: q, DataKind: params.Get("data_kind")})
		},
		insert:  store.Tx.InsertRetentionPolicy,
		update:  store.Tx.UpdateRetentionPolicy,
		remove:  store.Tx.DeleteRetentionPolicy,
		name:    func(p api.RetentionPolicy) string { return p.Name },
		decode:  decodeObject[api.RetentionPolicy],
		changes: func(_ context.Context, a, b api.RetentionPolicy) []string { return retentionChanges(a, b) },
		beforeWrite: func(_ context.Context, cur, next *api.RetentionPolicy, _ []string) error {
			if cur != nil {
				next.LastRunAt, next.LastRunDeleted, next.LastRunAnonymized = cur.LastRunAt, cur.LastRunDeleted, cur.LastRunAnonymized
				next.NextRunAt = cur.NextRunAt
			}
			if !next.IsEnabled() {
				next.NextRunAt = nil
			}
			return nil
		},
	}
}

// retentionChanges names the fields that differ: max_age by value ("60m"
// and "1h" are the same), the sets as sets.
func retentionChanges(a, b api.RetentionPolicy) []string {
	var out changeList
	out.add("name", a.Name != b.Name)
	out.add("data_kind", a.DataKind != b.DataKind)
	out.add("max_age", !sameHold(&a.MaxAge, &b.MaxAge))
	out.add("action", a.Action != b.Action)
	out.add("anonymize_fields", !sameSet(a.AnonymizeFields, b.AnonymizeFields))
	out.add("endpoint_ids", !sameSet(a.EndpointIDs, b.EndpointIDs))
	out.nested("endpoint_tags", a.EndpointTags, b.EndpointTags)
	out.add("data_classifications", !sameSet(a.DataClassifications, b.DataClassifications))
	out.add("enabled", !eqPtr(a.Enabled, b.Enabled))
	out.add("description", !eqPtr(a.Description, b.Description))
	out.nested("tags", a.Tags, b.Tags)
	return out
}

// errNoRetention answers what needs the enforcer in a server that has none
// (Config.Retention).
var errNoRetention = problemf(http.StatusServiceUnavailable, "this aiod does not enforce retention")

// runRetentionPolicy answers POST /v1/retention-policies/{id}/run: the
// run's record (201), or with dry_run what a run would do now (200),
// per endpoint, changing nothing. A run is not idempotent by key, and
// needs not be: running again deletes only what became due since.
func (s *Server) runRetentionPolicy(w http.ResponseWriter, r *http.Request, p principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req api.RetentionRunRequest
	if len(strings.TrimSpace(string(body))) > 0 {
		if pe := decodeJSON(body, &req); pe != nil {
			return pe
		}
	}
	if s.retention == nil {
		return errNoRetention
	}
	id := r.PathValue("id")
	pol, err := s.store.GetRetentionPolicy(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return problemf(http.StatusNotFound, "no retention policy with id %q", id)
	}
	if err != nil {
		return err
	}
	run, err := s.retention.RunPolicy(r.Context(), pol, req.DryRun, p.actor())
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if req.DryRun {
		status = http.StatusOK
	}
	writeJSON(w, status, run)
	return nil
}

// listRetentionRuns answers GET /v1/retention-policies/{id}/runs: the
// policy's runs, newest first, paged.
func (s *Server) listRetentionRuns(w http.ResponseWriter, r *http.Request, _ principal) error {
	limit, after, errs := pageParams(r.URL.Query())
	if len(errs) > 0 {
		return invalid(errs)
	}
	id := r.PathValue("id")
	if _, err := s.store.GetRetentionPolicy(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		return problemf(http.StatusNotFound, "no retention policy with id %q", id)
	} else if err != nil {
		return err
	}
	runs, next, err := s.store.ListRetentionRuns(r.Context(), id, limit, after)
	if errors.Is(err, store.ErrBadCursor) {
		return invalid([]api.FieldError{badCursor})
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.List[api.RetentionRun]{Items: runs, NextCursor: encodeCursor(next)})
	return nil
}

// retentionCompliance answers GET /v1/compliance/retention.
func (s *Server) retentionCompliance(w http.ResponseWriter, r *http.Request, _ principal) error {
	if s.retention == nil {
		return errNoRetention
	}
	c, err := s.retention.Compliance(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// createErasureRequest answers POST /v1/erasure-requests: 202 with the
// pending request, which the engine carries out soon after; the receipt
// is at its Location. Only admins may ask: an erasure destroys history
// for good, and an actor's erasure rewrites the audit trail, which an
// editor could otherwise use on the trail of their own changes.
func (s *Server) createErasureRequest(w http.ResponseWriter, r *http.Request, p principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var in api.ErasureRequest
	if pe := decodeJSON(body, &in); pe != nil {
		return pe
	}
	if errs := in.Validate(); len(errs) > 0 {
		return invalid(errs)
	}
	ctx := r.Context()
	// An actor's erasure must not leave the name in the idempotent answer
	// (kept a day) nor in a plain keyed hash of the body that a guess
	// could be checked against: the answer kept for replays carries the
	// pseudonym the erasure gives the name, and the body's fingerprint is
	// taken over the pseudonym too (its key is sealed, unlike the
	// fingerprints'). Without an enforcer no pseudonym can be made; the
	// request then waits, pending, with its name anyway.
	fpBody, pseudonym := body, ""
	if in.Actor != nil && s.retention != nil {
		if pseudonym, err = s.retention.Pseudonym(ctx, *in.Actor); err != nil {
			return err
		}
		if fpBody, err = json.Marshal(api.ErasureRequest{EndpointID: in.EndpointID, Actor: &pseudonym}); err != nil {
			return err
		}
	}
	err = s.mutate(w, r, p, fpBody, func(tx store.Tx) (result, error) {
		now := s.now()
		req := api.ErasureRequest{ID: ids.New(api.PrefixErasure, now), EndpointID: in.EndpointID, Actor: in.Actor,
			State: api.ErasurePending, RequestedBy: p.token.Name, CreatedAt: now}
		if err := tx.InsertErasureRequest(ctx, req); err != nil {
			return result{}, err
		}
		// The request's audit event names who asked, never whom it is
		// about: that would keep what is being erased.
		if err := tx.InsertAuditEvent(ctx, auth.Event(now, p.actor(), api.ActionCreate, api.KindErasure, req.ID, 0, nil)); err != nil {
			return result{}, err
		}
		res := result{status: http.StatusAccepted, body: req, header: map[string]string{"Location": "/v1/erasure-requests/" + req.ID}}
		if pseudonym != "" {
			kept := req
			kept.Actor = &pseudonym
			res.stored = kept
		}
		return res, nil
	})
	if err == nil && s.retention != nil {
		s.retention.Wake()
	}
	return err
}

// getErasureRequest answers GET /v1/erasure-requests/{id}: the receipt.
func (s *Server) getErasureRequest(w http.ResponseWriter, r *http.Request, _ principal) error {
	id := r.PathValue("id")
	e, err := s.store.GetErasureRequest(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return problemf(http.StatusNotFound, "no erasure request with id %q", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// retentionRoutes are the routes of retention besides the policies' own.
func (s *Server) retentionRoutes() []route {
	return []route{
		{http.MethodPost, api.RetentionKind.Path + "/{id}/run", api.RoleEditor, s.runRetentionPolicy},
		{http.MethodGet, api.RetentionKind.Path + "/{id}/runs", api.RoleViewer, s.listRetentionRuns},
		{http.MethodGet, "/v1/compliance/retention", api.RoleViewer, s.retentionCompliance},
		{http.MethodPost, "/v1/erasure-requests", api.RoleAdmin, s.createErasureRequest},
		{http.MethodGet, "/v1/erasure-requests/{id}", api.RoleAdmin, s.getErasureRequest},
	}
}
