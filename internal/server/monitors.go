package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// monitors declares the monitor kind. A monitor references its endpoint
// and maybe a credential, is held to aiod's caps, and takes its results
// with it when deleted; alert thresholds reference it and block its delete.
func (s *Server) monitors() *kindSpec[api.Monitor, *api.Monitor] {
	return &kindSpec[api.Monitor, *api.Monitor]{
		kind: api.MonitorKind,
		get:  store.Reader.GetMonitor,
		list: func(r store.Reader, ctx context.Context, q store.ListQuery, params url.Values) ([]api.Monitor, string, error) {
			return listMonitors(r, ctx, q, params.Get("endpoint_id"))
		},
		insert:    store.Tx.InsertMonitor,
		update:    store.Tx.UpdateMonitor,
		remove:    store.Tx.DeleteMonitor,
		referrers: store.Reader.MonitorReferrers,
		name:      func(m api.Monitor) string { return m.Name },
		decode:    decodeObject[api.Monitor],
		check: func(ctx context.Context, tx store.Reader, cur *api.Monitor, next api.Monitor) error {
			if err := checkMonitorRefs(ctx, tx, next); err != nil {
				return err
			}
			return checkMonitorHosts(ctx, tx, cur, next)
		},
		changes: func(_ context.Context, a, b api.Monitor) []string { return monitorChanges(a, b) },
		admit:   s.checkMonitorCaps,
		afterDelete: func(ctx context.Context, id string) {
			// The results go with the monitor. Results still queued may
			// land after this; retention prunes those of monitors that no
			// longer exist.
			if err := s.store.DeleteMonitorData(ctx, id); err != nil {
				s.log.ErrorContext(ctx, "delete monitor results", "monitor_id", id, "error", err)
			}
		},
		notify: true,
	}
}

// listMonitors reads one page of monitors, of one endpoint when endpointID
// is set. It is the one place that calls the store's ListMonitors.
func listMonitors(r store.Reader, ctx context.Context, q store.ListQuery, endpointID string) ([]api.Monitor, string, error) {
	return r.ListMonitors(ctx, store.MonitorQuery{ListQuery: q, EndpointID: endpointID})
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
	var out changeList
	out.add("name", a.Name != b.Name)
	out.add("endpoint_id", a.EndpointID != b.EndpointID)
	out.add("type", a.Type != b.Type)
	out.add("enabled", !eqPtr(a.Enabled, b.Enabled))
	out.add("interval", !sameDuration(a.Interval, b.Interval))
	out.add("timeout", !sameDuration(a.Timeout, b.Timeout))
	out.nested("tags", a.Tags, b.Tags)
	out.nested("request", a.Request, b.Request)
	out.nested("assertions", a.Assertions, b.Assertions)
	out.nested("retry_strategy", a.Retry, b.Retry)
	out.add("degraded_response_time", !sameDuration(a.DegradedResponseTime, b.DegradedResponseTime))
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
