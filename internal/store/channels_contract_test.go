package store

import (
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
)

// channelKind is the notification channel in the kind scenarios: a
// minimal channel is an email channel (no secret, so null secret columns),
// a full one a webhook with its sealed secret, headers and tags.
var channelKind = kindFixture[ChannelRecord]{
	name:    "Channel",
	prefix:  api.PrefixChannel,
	minimal: channel,
	full: func(id, name string) ChannelRecord {
		c := channel(id, name)
		c.Revision, c.UpdatedAt = 4, at(time.Hour)
		c.Type, c.To = api.ChannelWebhook, nil
		c.Description = new("Pages the on-call, \"primary\"")
		c.Enabled, c.SendResolved = new(false), new(false)
		c.URL = new("https://hooks.example.com/aio?team=1")
		c.Headers = map[string]string{"x-team": "payments", "x-env": "prod"}
		c.Tags = map[string]string{"env": "prod", "team": "payments"}
		c.Sealed = secret.Sealed{KeyID: "k1", WrappedKey: []byte("w\x00\xff"), Ciphertext: []byte("c\x00\x01")}
		c.SecretRevision = 3
		return c
	},
	edges: func() []ChannelRecord {
		// Empty collections stay empty, apart from null.
		empties := channel("chan_empties", "empties")
		empties.Type, empties.To, empties.Headers, empties.Tags = api.ChannelWebhook, []string{}, map[string]string{}, map[string]string{}
		pd := channel("chan_pd", "pd")
		pd.Type, pd.To, pd.EventsURL = api.ChannelPagerDuty, nil, new("http://127.0.0.1:9/v2/enqueue")
		pd.Sealed, pd.SecretRevision = secret.Sealed{KeyID: "k2", WrappedKey: []byte{1}, Ciphertext: []byte{2}}, 1
		return []ChannelRecord{empties, pd}
	},
	withTags: func(c ChannelRecord, tags map[string]string) ChannelRecord { c.Tags = tags; return c },
	meta:     func(c *ChannelRecord) *api.Meta { return &c.Meta },
	stored:   storedChannel,
	get:      Reader.GetChannel,
	list:     Reader.ListChannels,
	insert:   Tx.InsertChannel,
	update:   Tx.UpdateChannel,
	delete:   Tx.DeleteChannel,
}

// channel returns a minimal email channel: every optional field nil.
func channel(id, name string) ChannelRecord {
	var c ChannelRecord
	c.Meta = api.Meta{ID: id, Revision: 1, CreatedAt: t0, UpdatedAt: t0}
	c.Name, c.Type, c.To = name, api.ChannelEmail, []string{"ops@example.com", "b@example.org"}
	return c
}

// storedChannel is what the store gives back for c: enabled and
// send_resolved are stored with their defaults filled in.
func storedChannel(c ChannelRecord) ChannelRecord {
	c.CreatedAt, c.UpdatedAt = us(c.CreatedAt), us(c.UpdatedAt)
	c.Enabled, c.SendResolved = new(c.IsEnabled()), new(c.SendResolved == nil || *c.SendResolved)
	return c
}
