package client

import (
	"context"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// pathChannels is the collection of notification channels.
var pathChannels = api.ChannelKind.Path

// CreateChannel creates a notification channel; ch.Secret is required for
// the types that carry one. The answer never carries the secret.
func (c *Client) CreateChannel(ctx context.Context, ch api.NotificationChannel) (api.NotificationChannel, error) {
	return createObject(ctx, c, pathChannels, ch)
}

// GetChannel reads a notification channel by ID, without its secret.
func (c *Client) GetChannel(ctx context.Context, id string) (api.NotificationChannel, error) {
	return getObject[api.NotificationChannel](ctx, c, pathChannels, id)
}

// UpdateChannel replaces a notification channel, and its secret when
// ch.Secret is set (nil leaves the secret unchanged). revision is sent as
// If-Match when not zero.
func (c *Client) UpdateChannel(ctx context.Context, id string, revision int64, ch api.NotificationChannel) (api.NotificationChannel, error) {
	return updateObject(ctx, c, pathChannels, id, revision, ch)
}

// DeleteChannel deletes a notification channel; one that alert
// thresholds still reference matches ErrConflict, naming them.
func (c *Client) DeleteChannel(ctx context.Context, id string, revision int64) error {
	return deleteObject(ctx, c, pathChannels, id, revision)
}

// ListAllChannels reads every page of notification channels matching
// opts.
func (c *Client) ListAllChannels(ctx context.Context, opts ListOptions) ([]api.NotificationChannel, error) {
	return listAll[api.NotificationChannel](ctx, c, pathChannels, opts.values())
}
