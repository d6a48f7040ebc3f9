package client

import (
	"context"
	"net/url"
	"sort"
	"strconv"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// pathAlerts is the collection of current alerts (read-only).
const pathAlerts = "/v1/alerts"

// AlertFilter selects current alerts. Zero fields are not sent; every
// field given must hold (they are ANDed).
type AlertFilter struct {
	// State selects pending or firing alerts (api.CurrentAlertStates).
	State string
	// Severity selects warning or critical alerts (api.Severities).
	Severity string
	// ThresholdIDs selects the alerts of these thresholds.
	ThresholdIDs []string
	// EndpointID selects the alerts of the thresholds on the endpoint and
	// on each of its monitors.
	EndpointID string
	// Tags selects the alerts of the thresholds carrying every one of
	// these tags.
	Tags map[string]string
	// Limit is the page size; zero leaves it to the server.
	Limit int
}

// values encodes the filter as query parameters. Tags are sent in key
// order, so that a request is the same for the same filter.
func (f AlertFilter) values() url.Values {
	q := url.Values{}
	if f.State != "" {
		q.Set("state", f.State)
	}
	if f.Severity != "" {
		q.Set("severity", f.Severity)
	}
	for _, id := range f.ThresholdIDs {
		q.Add("threshold_id", id)
	}
	if f.EndpointID != "" {
		q.Set("endpoint_id", f.EndpointID)
	}
	keys := make([]string, 0, len(f.Tags))
	for k := range f.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		q.Add("tag", k+":"+f.Tags[k])
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// ListAllAlerts reads every page of the current alerts matching f, ordered
// by threshold ID and severity.
func (c *Client) ListAllAlerts(ctx context.Context, f AlertFilter) ([]api.Alert, error) {
	return listAll[api.Alert](ctx, c, pathAlerts, f.values())
}
