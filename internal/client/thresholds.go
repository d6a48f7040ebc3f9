package client

import (
	"context"
	"net/url"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// pathThresholds is the collection of alert thresholds.
var pathThresholds = api.ThresholdKind.Path

// ThresholdListOptions filters a listing of alert thresholds.
type ThresholdListOptions struct {
	ListOptions
	// MonitorID selects the thresholds of one monitor.
	MonitorID string
	// EndpointID selects the thresholds of one endpoint (over all its
	// monitors).
	EndpointID string
	// Metric selects the thresholds of one metric.
	Metric string
}

func (o ThresholdListOptions) values() url.Values {
	q := o.ListOptions.values()
	for k, v := range map[string]string{"monitor_id": o.MonitorID, "endpoint_id": o.EndpointID, "metric": o.Metric} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// CreateThreshold creates an alert threshold.
func (c *Client) CreateThreshold(ctx context.Context, a api.AlertThreshold) (api.AlertThreshold, error) {
	return createObject(ctx, c, pathThresholds, a)
}

// GetThreshold reads an alert threshold by ID.
func (c *Client) GetThreshold(ctx context.Context, id string) (api.AlertThreshold, error) {
	return getObject[api.AlertThreshold](ctx, c, pathThresholds, id)
}

// UpdateThreshold replaces an alert threshold, with If-Match when revision
// is not zero.
func (c *Client) UpdateThreshold(ctx context.Context, id string, revision int64, a api.AlertThreshold) (api.AlertThreshold, error) {
	return updateObject(ctx, c, pathThresholds, id, revision, a)
}

// DeleteThreshold deletes an alert threshold, with If-Match when revision
// is not zero.
func (c *Client) DeleteThreshold(ctx context.Context, id string, revision int64) error {
	return deleteObject(ctx, c, pathThresholds, id, revision)
}

// ListAllThresholds reads every page of alert thresholds matching opts.
func (c *Client) ListAllThresholds(ctx context.Context, opts ThresholdListOptions) ([]api.AlertThreshold, error) {
	return listAll[api.AlertThreshold](ctx, c, pathThresholds, opts.values())
}
