package client

import (
	"context"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// pathCredentials is the collection of credentials.
const pathCredentials = "/v1/credentials"

// CreateCredential creates a credential; c.Secret is required. The answer
// never carries the secret.
func (c *Client) CreateCredential(ctx context.Context, cred api.Credential) (api.Credential, error) {
	return createObject(ctx, c, pathCredentials, cred)
}

// GetCredential reads a credential's metadata by ID.
func (c *Client) GetCredential(ctx context.Context, id string) (api.Credential, error) {
	return getObject[api.Credential](ctx, c, pathCredentials, id)
}

// UpdateCredential replaces a credential's metadata, and its secret when
// cred.Secret is set (nil leaves the secret unchanged). revision is sent as
// If-Match when not zero.
func (c *Client) UpdateCredential(ctx context.Context, id string, revision int64, cred api.Credential) (api.Credential, error) {
	return updateObject(ctx, c, pathCredentials, id, revision, cred)
}

// DeleteCredential deletes a credential; one still referenced matches
// ErrConflict, with the referrers named in the error.
func (c *Client) DeleteCredential(ctx context.Context, id string, revision int64) error {
	return deleteObject(ctx, c, pathCredentials, id, revision)
}

// ListCredentials reads one page of credentials.
func (c *Client) ListCredentials(ctx context.Context, opts ListOptions) (api.List[api.Credential], error) {
	return listPage[api.Credential](ctx, c, pathCredentials, opts.values())
}

// ListAllCredentials reads every page of credentials matching opts,
// starting at opts.After, with opts.Limit as the page size.
func (c *Client) ListAllCredentials(ctx context.Context, opts ListOptions) ([]api.Credential, error) {
	return listAll[api.Credential](ctx, c, pathCredentials, opts.values())
}
