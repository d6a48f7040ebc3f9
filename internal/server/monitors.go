package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

func (s *Server) listMonitors(w http.ResponseWriter, r *http.Request, _ principal) error {
	return serveList(w, r, api.PrefixMonitor, nil, func(ctx context.Context, q store.ListQuery) ([]api.Monitor, string, error) {
		return s.store.ListMonitors(ctx, store.MonitorQuery{ListQuery: q, EndpointID: r.URL.Query().Get("endpoint_id")})
	})
}

func (s *Server) getMonitor(w http.ResponseWriter, r *http.Request, _ principal) error {
	return serveObject(w, r, api.KindMonitor, s.store.GetMonitor, func(m api.Monitor) int64 { return m.Revision })
}

func readMonitor(r *http.Request) ([]byte, api.Monitor, error) {
	var m api.Monitor
	body, err := readBody(r)
	if err != nil {
		return nil, m, err
	}
	if p := decodeJSON(body, &m); p != nil {
		return body, m, p
	}
	if errs := m.Validate(); len(errs) > 0 {
		return body, m, invalid(errs)
	}
	m.Normalize()
	return body, m, nil
}

// checkMonitorRefs answers 400 on the field when the endpoint or the
// credential a monitor names does not exist.
func checkMonitorRefs(ctx context.Context, tx store.Reader, m api.Monitor) error {
	ep, err := tx.GetEndpoint(ctx, m.EndpointID)
	if errors.Is(err, store.ErrNotFound) {
		return invalid([]api.FieldError{{Field: "endpoint_id", Message: fmt.Sprintf("no endpoint has the ID %q", m.EndpointID)}})
	} else if err != nil {
		return err
	}
	// A monitor whose type does not fit its endpoint's scheme would only
	// fail (or wrongly pass) when it first runs; it is refused now, on the
	// type, since the endpoint is the one that says what it is.
	if msg := api.MonitorFitsEndpoint(m.Type, ep.URL); msg != "" {
		return invalid([]api.FieldError{{Field: "type", Message: fmt.Sprintf("%s (endpoint %s is %s)", msg, ep.ID, ep.URL)}})
	}
	if m.Request != nil {
		return checkCredentialRef(ctx, tx, "request.credential_id", m.Request.CredentialID)
	}
	return nil
}

func (s *Server) createMonitor(w http.ResponseWriter, r *http.Request, p principal) error {
	body, in, err := readMonitor(r)
	if body == nil && err != nil {
		return err
	}
	err = s.mutate(w, r, p, body, func(tx store.Tx) (result, error) {
		if err != nil {
			return result{}, err
		}
		if err := checkMonitorRefs(r.Context(), tx, in); err != nil {
			return result{}, err
		}
		if err := checkMonitorHosts(r.Context(), tx, nil, in); err != nil {
			return result{}, err
		}
		if err := s.checkMonitorCaps(r.Context(), tx, nil, in); err != nil {
			return result{}, err
		}
		now := s.now()
		in.ID = ids.New(api.PrefixMonitor, now)
		in.Revision = 1
		in.CreatedAt, in.UpdatedAt = now, now
		if err := tx.InsertMonitor(r.Context(), in); errors.Is(err, store.ErrConflict) {
			return result{}, nameTaken(api.KindMonitor, in.Name)
		} else if err != nil {
			return result{}, err
		}
		ev := auth.Event(now, p.actor(), api.ActionCreate, api.KindMonitor, in.ID, 1, monitorChanges(api.Monitor{}, in))
		if err := tx.InsertAuditEvent(r.Context(), ev); err != nil {
			return result{}, err
		}
		return result{status: http.StatusCreated, body: in,
			header: map[string]string{"Location": "/v1/monitors/" + in.ID, "ETag": etag(1)}}, nil
	})
	if err == nil {
		s.notify(api.KindMonitor, in.ID)
	}
	return err
}

func (s *Server) updateMonitor(w http.ResponseWriter, r *http.Request, p principal) error {
	want, err := ifMatch(r)
	if err != nil {
		return err
	}
	body, in, err := readMonitor(r)
	if body == nil && err != nil {
		return err
	}
	id := r.PathValue("id")
	err = s.mutate(w, r, p, body, func(tx store.Tx) (result, error) {
		if err != nil {
			return result{}, err
		}
		cur, err := tx.GetMonitor(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			return result{}, problemf(http.StatusNotFound, "no monitor with id %q", id)
		} else if err != nil {
			return result{}, err
		}
		if err := checkRevision(api.KindMonitor, want, cur.Revision); err != nil {
			return result{}, err
		}
		if err := checkMonitorRefs(r.Context(), tx, in); err != nil {
			return result{}, err
		}
		if err := checkMonitorHosts(r.Context(), tx, &cur, in); err != nil {
			return result{}, err
		}
		changed := monitorChanges(cur, in)
		if len(changed) == 0 {
			return result{status: http.StatusOK, body: cur, header: map[string]string{"ETag": etag(cur.Revision)}}, nil
		}
		if err := s.checkMonitorCaps(r.Context(), tx, &cur, in); err != nil {
			return result{}, err
		}
		now := s.now()
		in.ID, in.CreatedAt, in.UpdatedAt, in.Revision = cur.ID, cur.CreatedAt, now, cur.Revision+1
		if err := tx.UpdateMonitor(r.Context(), in); errors.Is(err, store.ErrConflict) {
			return result{}, nameTaken(api.KindMonitor, in.Name)
		} else if err != nil {
			return result{}, err
		}
		ev := auth.Event(now, p.actor(), api.ActionUpdate, api.KindMonitor, in.ID, in.Revision, changed)
		if err := tx.InsertAuditEvent(r.Context(), ev); err != nil {
			return result{}, err
		}
		return result{status: http.StatusOK, body: in, header: map[string]string{"ETag": etag(in.Revision)}}, nil
	})
	if err == nil {
		s.notify(api.KindMonitor, id)
	}
	return err
}

func (s *Server) deleteMonitor(w http.ResponseWriter, r *http.Request, p principal) error {
	return s.deleteObject(w, r, p, deletion{
		kind: api.KindMonitor,
		revision: func(ctx context.Context, tx store.Tx, id string) (int64, error) {
			m, err := tx.GetMonitor(ctx, id)
			return m.Revision, err
		},
		remove: func(ctx context.Context, tx store.Tx, id string) error { return tx.DeleteMonitor(ctx, id) },
		after: func(ctx context.Context, id string) {
			// The results go with the monitor. Results still queued may
			// land after this; retention prunes those of monitors that no
			// longer exist.
			if err := s.store.DeleteMonitorData(ctx, id); err != nil {
				s.log.ErrorContext(ctx, "delete monitor results", "monitor_id", id, "error", err)
			}
		},
	})
}

// notify tells the engine that configuration changed, so that it takes
// effect without a restart.
func (s *Server) notify(kind, id string) {
	if s.cfg.OnChange != nil {
		s.cfg.OnChange(kind, id)
	}
}

// monitorChanges names the fields that differ. Durations compare by value;
// nested objects name the sub-fields that differ ("request.credential_id",
// "tags.env", "assertions.1"), so that the audit trail shows what a
// reviewer must look at, not just that "request" changed.
func monitorChanges(a, b api.Monitor) []string {
	var out []string
	add := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	add("name", a.Name != b.Name)
	add("endpoint_id", a.EndpointID != b.EndpointID)
	add("type", a.Type != b.Type)
	add("enabled", !eqPtr(a.Enabled, b.Enabled))
	add("interval", !sameDuration(a.Interval, b.Interval))
	add("timeout", !sameDuration(a.Timeout, b.Timeout))
	out = append(out, nestedChanges("tags", a.Tags, b.Tags)...)
	out = append(out, nestedChanges("request", a.Request, b.Request)...)
	out = append(out, nestedChanges("assertions", a.Assertions, b.Assertions)...)
	out = append(out, nestedChanges("retry_strategy", a.Retry, b.Retry)...)
	add("degraded_response_time", !sameDuration(a.DegradedResponseTime, b.DegradedResponseTime))
	return out
}

func sameJSON(a, b any) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(x) == string(y)
}

// referrersConflict answers 409 naming the objects that still reference
// the one to delete.
func referrersConflict(what string, refs []string) error {
	return problemf(http.StatusConflict, "the %s is still used by %s; point them elsewhere or delete them first", what, strings.Join(refs, ", "))
}
