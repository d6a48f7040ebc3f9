package client

import (
	"context"
	"net/url"
	"slices"
	"strconv"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// pathEndpoints is the collection of endpoints.
const pathEndpoints = "/v1/endpoints"

// ListOptions filters and pages a listing of any kind. Zero fields are not
// sent.
type ListOptions struct {
	// Name selects the object with exactly this name.
	Name string
	// NamePrefix selects objects whose name starts with this prefix.
	NamePrefix string
	// Tags selects objects carrying every one of these tags (the filters
	// are ANDed). Each is sent as tag=key:value, sorted by key so that the
	// same options always make the same URL.
	Tags map[string]string
	// Limit is the page size; zero leaves it to the server.
	Limit int
	// After is the cursor of the page to read, taken from next_cursor.
	After string
}

// values encodes the options as query parameters.
func (o ListOptions) values() url.Values {
	q := url.Values{}
	if o.Name != "" {
		q.Set("name", o.Name)
	}
	if o.NamePrefix != "" {
		q.Set("name_prefix", o.NamePrefix)
	}
	keys := make([]string, 0, len(o.Tags))
	for k := range o.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		q.Add("tag", k+":"+o.Tags[k])
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.After != "" {
		q.Set("after", o.After)
	}
	return q
}

// CreateEndpoint creates an endpoint (POST /v1/endpoints) and returns it as
// stored, with its ID, revision and timestamps. A retry after a lost answer
// never makes a duplicate, because every attempt carries the same
// idempotency key.
func (c *Client) CreateEndpoint(ctx context.Context, e api.Endpoint) (api.Endpoint, error) {
	return createObject(ctx, c, pathEndpoints, e)
}

// GetEndpoint reads an endpoint by ID. A missing endpoint is an error
// matching ErrNotFound.
func (c *Client) GetEndpoint(ctx context.Context, id string) (api.Endpoint, error) {
	return getObject[api.Endpoint](ctx, c, pathEndpoints, id)
}

// UpdateEndpoint replaces an endpoint (PUT /v1/endpoints/{id}). A non-zero
// revision is sent as If-Match, so that a change made by someone else since
// the endpoint was read fails with ErrPreconditionFailed instead of being
// overwritten; zero sends no If-Match.
func (c *Client) UpdateEndpoint(ctx context.Context, id string, revision int64, e api.Endpoint) (api.Endpoint, error) {
	return updateObject(ctx, c, pathEndpoints, id, revision, e)
}

// DeleteEndpoint deletes an endpoint, with If-Match when revision is not
// zero. An endpoint that is already gone is an error matching ErrNotFound,
// which the provider treats as success; one still referenced by others
// matches ErrConflict.
func (c *Client) DeleteEndpoint(ctx context.Context, id string, revision int64) error {
	return deleteObject(ctx, c, pathEndpoints, id, revision)
}

// ListEndpoints reads one page of endpoints. The page's NextCursor, passed
// as opts.After, reads the next one.
func (c *Client) ListEndpoints(ctx context.Context, opts ListOptions) (api.List[api.Endpoint], error) {
	return listPage[api.Endpoint](ctx, c, pathEndpoints, opts.values())
}

// ListAllEndpoints reads every page of endpoints matching opts, starting at
// opts.After, with opts.Limit as the page size.
func (c *Client) ListAllEndpoints(ctx context.Context, opts ListOptions) ([]api.Endpoint, error) {
	return listAll[api.Endpoint](ctx, c, pathEndpoints, opts.values())
}
