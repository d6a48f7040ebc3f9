package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// pathRetention is the collection of retention policies.
var pathRetention = api.RetentionKind.Path

// RetentionListOptions filters a listing of retention policies.
type RetentionListOptions struct {
	ListOptions
	// DataKind selects the policies of one data kind.
	DataKind string
}

func (o RetentionListOptions) values() url.Values {
	q := o.ListOptions.values()
	if o.DataKind != "" {
		q.Set("data_kind", o.DataKind)
	}
	return q
}

// CreateRetentionPolicy creates a retention policy.
func (c *Client) CreateRetentionPolicy(ctx context.Context, p api.RetentionPolicy) (api.RetentionPolicy, error) {
	return createObject(ctx, c, pathRetention, p)
}

// GetRetentionPolicy reads a retention policy by ID.
func (c *Client) GetRetentionPolicy(ctx context.Context, id string) (api.RetentionPolicy, error) {
	return getObject[api.RetentionPolicy](ctx, c, pathRetention, id)
}

// UpdateRetentionPolicy replaces a retention policy, with If-Match when
// revision is not zero.
func (c *Client) UpdateRetentionPolicy(ctx context.Context, id string, revision int64, p api.RetentionPolicy) (api.RetentionPolicy, error) {
	return updateObject(ctx, c, pathRetention, id, revision, p)
}

// DeleteRetentionPolicy deletes a retention policy, with If-Match when
// revision is not zero.
func (c *Client) DeleteRetentionPolicy(ctx context.Context, id string, revision int64) error {
	return deleteObject(ctx, c, pathRetention, id, revision)
}

// ListAllRetentionPolicies reads every page of retention policies matching
// opts.
func (c *Client) ListAllRetentionPolicies(ctx context.Context, opts RetentionListOptions) ([]api.RetentionPolicy, error) {
	return listAll[api.RetentionPolicy](ctx, c, pathRetention, opts.values())
}

// RunRetentionPolicy runs a policy now; with dryRun it reports what would
// go and changes nothing.
func (c *Client) RunRetentionPolicy(ctx context.Context, id string, dryRun bool) (api.RetentionRun, error) {
	var out api.RetentionRun
	path, err := objectPath(pathRetention, id)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, http.MethodPost, path+"/run", nil, 0, api.RetentionRunRequest{DryRun: dryRun}, &out)
	return out, err
}

// RetentionCompliance reads the compliance view of retention.
func (c *Client) RetentionCompliance(ctx context.Context) (api.RetentionCompliance, error) {
	var out api.RetentionCompliance
	err := c.do(ctx, http.MethodGet, "/v1/compliance/retention", nil, 0, nil, &out)
	return out, err
}
