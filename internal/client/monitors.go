package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// pathMonitors is the collection of monitors.
const pathMonitors = "/v1/monitors"

// MonitorListOptions filters a listing of monitors.
type MonitorListOptions struct {
	ListOptions
	// EndpointID selects the monitors of one endpoint.
	EndpointID string
}

func (o MonitorListOptions) values() url.Values {
	q := o.ListOptions.values()
	if o.EndpointID != "" {
		q.Set("endpoint_id", o.EndpointID)
	}
	return q
}

// CreateMonitor creates a monitor.
func (c *Client) CreateMonitor(ctx context.Context, m api.Monitor) (api.Monitor, error) {
	return createObject(ctx, c, pathMonitors, m)
}

// GetMonitor reads a monitor by ID.
func (c *Client) GetMonitor(ctx context.Context, id string) (api.Monitor, error) {
	return getObject[api.Monitor](ctx, c, pathMonitors, id)
}

// UpdateMonitor replaces a monitor, with If-Match when revision is not zero.
func (c *Client) UpdateMonitor(ctx context.Context, id string, revision int64, m api.Monitor) (api.Monitor, error) {
	return updateObject(ctx, c, pathMonitors, id, revision, m)
}

// DeleteMonitor deletes a monitor, with If-Match when revision is not zero.
func (c *Client) DeleteMonitor(ctx context.Context, id string, revision int64) error {
	return deleteObject(ctx, c, pathMonitors, id, revision)
}

// ListAllMonitors reads every page of monitors matching opts.
func (c *Client) ListAllMonitors(ctx context.Context, opts MonitorListOptions) ([]api.Monitor, error) {
	return listAll[api.Monitor](ctx, c, pathMonitors, opts.values())
}

// MonitorStatus reads a monitor's figures over a window such as "1h"
// (GET /v1/monitors/{id}/status?window=).
func (c *Client) MonitorStatus(ctx context.Context, id string, window string) (api.MonitorStatus, error) {
	p, err := objectPath(pathMonitors, id)
	if err != nil {
		return api.MonitorStatus{}, err
	}
	q := url.Values{}
	if window != "" {
		q.Set("window", window)
	}
	var out api.MonitorStatus
	err = c.do(ctx, http.MethodGet, p+"/status", q, 0, nil, &out)
	return out, err
}

// ResultQuery pages a monitor's raw results.
type ResultQuery struct {
	Since, Until time.Time
	Limit        int
	After        string
}

// ListResults reads one page of a monitor's raw probe results, oldest first.
func (c *Client) ListResults(ctx context.Context, id string, rq ResultQuery) (api.List[api.ProbeResult], error) {
	p, err := objectPath(pathMonitors, id)
	if err != nil {
		return api.List[api.ProbeResult]{}, err
	}
	q := url.Values{}
	if !rq.Since.IsZero() {
		q.Set("since", rq.Since.UTC().Format(time.RFC3339Nano))
	}
	if !rq.Until.IsZero() {
		q.Set("until", rq.Until.UTC().Format(time.RFC3339Nano))
	}
	if rq.Limit > 0 {
		q.Set("limit", strconv.Itoa(rq.Limit))
	}
	if rq.After != "" {
		q.Set("after", rq.After)
	}
	return listPage[api.ProbeResult](ctx, c, p+"/results", q)
}
