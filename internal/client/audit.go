package client

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// pathAuditEvents is the collection of audit events.
const pathAuditEvents = "/v1/audit-events"

// AuditFilter selects audit events. Zero fields are not sent.
type AuditFilter struct {
	// ObjectID selects the events of one object, such as "ep_...".
	ObjectID string
	// Kind selects the events of one kind of object, such as "endpoint".
	Kind string
	// Actor selects the events made by one token name (or "cli").
	Actor string
	// Since selects events at or after this time. It is sent in UTC as
	// RFC 3339 with nanoseconds, so no precision is lost.
	Since time.Time
	// Limit is the page size; zero leaves it to the server.
	Limit int
	// After is the cursor of the page to read, taken from next_cursor.
	After string
}

// values encodes the filter as query parameters.
func (f AuditFilter) values() url.Values {
	q := url.Values{}
	if f.ObjectID != "" {
		q.Set("object_id", f.ObjectID)
	}
	if f.Kind != "" {
		q.Set("kind", f.Kind)
	}
	if f.Actor != "" {
		q.Set("actor", f.Actor)
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.After != "" {
		q.Set("after", f.After)
	}
	return q
}

// ListAuditEvents reads one page of audit events matching f.
func (c *Client) ListAuditEvents(ctx context.Context, f AuditFilter) (api.List[api.AuditEvent], error) {
	return listPage[api.AuditEvent](ctx, c, pathAuditEvents, f.values())
}

// ListAllAuditEvents reads every page of audit events matching f, starting
// at f.After, with f.Limit as the page size.
func (c *Client) ListAllAuditEvents(ctx context.Context, f AuditFilter) ([]api.AuditEvent, error) {
	return listAll[api.AuditEvent](ctx, c, pathAuditEvents, f.values())
}
