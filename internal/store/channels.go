package store

import (
	"context"
	"database/sql"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
)

// ChannelRecord is a notification channel as stored: its settings (with
// Secret always nil) and its sealed secret, zero for a channel without
// one. The store never sees a plaintext.
type ChannelRecord struct {
	api.NotificationChannel
	Sealed secret.Sealed
}

// channels is how notification channels are stored.
var channels = newTable(table[ChannelRecord]{
	tableSpec: tableSpec{
		name:   "notification_channels",
		prefix: api.PrefixChannel,
		columns: []string{"name", "type", "description", "enabled", "send_resolved", "url", "headers", "events_url",
			"recipients", "secret_key_id", "secret_wrapped", "secret_ciphertext", "secret_revision"},
	},
	scan: scanChannel,
	args: channelArgs,
	meta: func(c *ChannelRecord) *api.Meta { return &c.Meta },
	tags: func(c *ChannelRecord) *map[string]string { return &c.Tags },
})

func scanChannel(s scanner) (ChannelRecord, error) {
	var (
		c                                 ChannelRecord
		enabled, sendResolved             bool
		desc, u, headers, events, to, kid sql.NullString
	)
	err := s.Scan(&c.Name, &c.Type, &desc, &enabled, &sendResolved, &u, &headers, &events, &to,
		&kid, &c.Sealed.WrappedKey, &c.Sealed.Ciphertext, &c.SecretRevision)
	if err != nil {
		return c, err
	}
	c.Enabled, c.SendResolved = &enabled, &sendResolved
	c.Description, c.URL, c.EventsURL = nullStringPtr(desc), nullStringPtr(u), nullStringPtr(events)
	c.Sealed.KeyID = kid.String
	h, err := decodeJSONPtr[map[string]string](headers)
	if h != nil {
		c.Headers = *h
	}
	if err != nil {
		return c, err
	}
	recipients, err := decodeJSONPtr[[]string](to)
	if recipients != nil {
		c.To = *recipients
	}
	return c, err
}

func channelArgs(c ChannelRecord) ([]any, error) {
	headers, err := jsonColumn(c.Headers, c.Headers == nil)
	if err != nil {
		return nil, err
	}
	to, err := jsonColumn(c.To, c.To == nil)
	if err != nil {
		return nil, err
	}
	// A channel without a secret keeps null secret columns rather than
	// empty ones, so that "no secret" cannot be read as an empty one.
	var kid, wrapped, ciphertext any
	if c.Sealed.KeyID != "" {
		kid, wrapped, ciphertext = c.Sealed.KeyID, c.Sealed.WrappedKey, c.Sealed.Ciphertext
	}
	return []any{c.Name, c.Type, c.Description, c.IsEnabled(), c.SendResolved == nil || *c.SendResolved, c.URL, headers,
		c.EventsURL, to, kid, wrapped, ciphertext, c.SecretRevision}, nil
}

func (r sqlReader) GetChannel(ctx context.Context, id string) (ChannelRecord, error) {
	return getObject(ctx, r, channels, id)
}

func (r sqlReader) ListChannels(ctx context.Context, q ListQuery) ([]ChannelRecord, string, error) {
	return listObjects(ctx, r, channels, q)
}

func (r sqlReader) ChannelReferrers(ctx context.Context, id string) ([]string, error) {
	return r.referrers(ctx, api.KindChannel, id)
}

func (t sqlTx) InsertChannel(ctx context.Context, c ChannelRecord) error {
	return insertObject(ctx, t, channels, c)
}

func (t sqlTx) UpdateChannel(ctx context.Context, c ChannelRecord) error {
	return updateObject(ctx, t, channels, c)
}

func (t sqlTx) UpdateChannelSealed(ctx context.Context, id string, s secret.Sealed) error {
	return t.execOne(ctx, `UPDATE notification_channels SET secret_key_id = ?, secret_wrapped = ?, secret_ciphertext = ? WHERE id = ?`,
		s.KeyID, s.WrappedKey, s.Ciphertext, id)
}

func (t sqlTx) DeleteChannel(ctx context.Context, id string) error {
	return deleteObject(ctx, t, channels, id)
}
