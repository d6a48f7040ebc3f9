package server

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// channels declares the notification channel kind. Its secret is kept as
// a credential's is: sealed with the keyring, bound to the channel's ID and
// secret revision, and never shown. Alert thresholds reference channels
// and block their delete.
func (s *Server) channels() *kindSpec[store.ChannelRecord, *store.ChannelRecord] {
	return &kindSpec[store.ChannelRecord, *store.ChannelRecord]{
		kind:        api.ChannelKind,
		get:         store.Reader.GetChannel,
		list:        listOf(store.Reader.ListChannels),
		insert:      store.Tx.InsertChannel,
		update:      store.Tx.UpdateChannel,
		remove:      store.Tx.DeleteChannel,
		referrers:   store.Reader.ChannelReferrers,
		name:        func(c store.ChannelRecord) string { return c.Name },
		decode:      s.decodeChannel,
		check:       checkChannel,
		changes:     s.channelChanges,
		beforeWrite: s.sealChannelSecret,
		afterWrite:  cancelDisabledDeliveries,
		view:        func(c store.ChannelRecord) any { return channelView(c) },
		notify:      true,
	}
}

// channelView is what the API shows of a stored channel: never the
// secret.
func channelView(c store.ChannelRecord) api.NotificationChannel {
	out := c.NotificationChannel
	out.Secret = nil
	return out
}

// decodeChannel decodes, validates and normalizes a channel body. As for
// credentials, the idempotency fingerprint is made of the body with the
// secret replaced by its MAC under the encryption key, so that the stored
// fingerprint cannot be used to test guesses of the secret.
func (s *Server) decodeChannel(body []byte, creating bool) ([]byte, store.ChannelRecord, error) {
	var c api.NotificationChannel
	if p := decodeJSON(body, &c); p != nil {
		return body, store.ChannelRecord{NotificationChannel: c}, p
	}
	fp := c
	fp.Secret = s.secretMarker(c.Secret)
	body, err := json.Marshal(fp) //nolint:gosec // G117: the secret is replaced by its MAC above.
	if err != nil {
		return nil, store.ChannelRecord{NotificationChannel: c}, err
	}
	if errs := c.Validate(creating); len(errs) > 0 {
		return body, store.ChannelRecord{NotificationChannel: c}, invalid(errs)
	}
	c.Normalize()
	return body, store.ChannelRecord{NotificationChannel: c}, nil
}

// secretMarker is what stands for a secret in an idempotency fingerprint:
// its MAC under the encryption key, or a fixed marker without a key.
func (s *Server) secretMarker(plain *string) *string {
	if plain == nil {
		return nil
	}
	marker := "(secret given)"
	if s.cfg.Keyring != nil {
		marker = hex.EncodeToString(s.cfg.Keyring.MAC([]byte(*plain)))
	}
	return &marker
}

// checkChannel refuses an update that changes the type to one with a
// secret without sending one: the old type's secret (a Slack URL, say)
// must not become the new type's (a PagerDuty routing key). Likewise a
// PagerDuty channel's events_url is where its routing key goes: moving it
// needs the key, or an editor could send the key to a host of their own.
func checkChannel(_ context.Context, _ store.Reader, cur *store.ChannelRecord, next store.ChannelRecord) error {
	if cur == nil || !api.HasSecret(next.Type) || next.Secret != nil {
		return nil
	}
	if cur.Type != next.Type {
		return invalid([]api.FieldError{{Field: "secret", Message: fmt.Sprintf("is required when the type changes to %s", next.Type)}})
	}
	if next.Type == api.ChannelPagerDuty && !eqPtr(cur.EventsURL, next.EventsURL) {
		return invalid([]api.FieldError{{Field: "secret", Message: "is required when events_url changes: the routing key is sent there, and only someone who holds it may send it somewhere new"}})
	}
	return nil
}

// channelChanges names the fields that differ, the secret included: on
// create it is new when given; on update, sending the secret the channel
// already has is no change, and a change to email drops the secret, once:
// an email channel keeps its secret revision, so it is the sealed secret,
// not the revision, that says there is still one to drop.
func (s *Server) channelChanges(ctx context.Context, cur, next store.ChannelRecord) []string {
	a, b := cur.NotificationChannel, next.NotificationChannel
	var out changeList
	out.add("name", a.Name != b.Name)
	out.add("type", a.Type != b.Type)
	out.add("description", !eqPtr(a.Description, b.Description))
	out.add("enabled", !eqPtr(a.Enabled, b.Enabled))
	out.add("send_resolved", !eqPtr(a.SendResolved, b.SendResolved))
	out.nested("tags", a.Tags, b.Tags)
	out.add("url", !eqPtr(a.URL, b.URL))
	out.nested("headers", a.Headers, b.Headers)
	out.add("events_url", !eqPtr(a.EventsURL, b.EventsURL))
	out.add("to", !sameSet(a.To, b.To))
	switch {
	case next.Secret != nil && (cur.ID == "" || !s.sameSealedSecret(ctx, "channel_id", cur.ID, cur.Sealed, cur.SecretRevision, *next.Secret)):
		out = append(out, "secret")
	case cur.ID != "" && cur.Sealed.KeyID != "" && !api.HasSecret(next.Type):
		out = append(out, "secret")
	}
	return out
}

// sealChannelSecret stores a new secret sealed, bound to the channel's ID
// and secret revision, as sealSecret does for credentials; a channel whose
// secret did not change keeps its sealed secret and secret revision, and a
// channel that became an email channel loses its secret (its revision is
// kept, so that it never counts back). Without an encryption key only a
// new secret is refused (503).
func (s *Server) sealChannelSecret(_ context.Context, cur, next *store.ChannelRecord, changed []string) error {
	plain := next.Secret
	next.Secret = nil
	if cur != nil {
		next.Sealed, next.SecretRevision = cur.Sealed, cur.SecretRevision
	}
	if !slices.Contains(changed, "secret") {
		return nil
	}
	if plain == nil {
		// The type no longer carries a secret.
		next.Sealed = secret.Sealed{}
		return nil
	}
	kr, err := s.keyring()
	if err != nil {
		return err
	}
	next.SecretRevision++
	next.Sealed, err = kr.Seal([]byte(*plain), secret.Binding{ObjectID: next.ID, Revision: next.SecretRevision})
	return err
}

// cancelDisabledDeliveries cancels the pending deliveries of a channel
// that is disabled, in the transaction that disables it: once the answer
// says disabled, the worker sends nothing more over it.
func cancelDisabledDeliveries(ctx context.Context, tx store.Tx, cur *store.ChannelRecord, next store.ChannelRecord) error {
	if cur == nil || next.IsEnabled() {
		return nil
	}
	_, err := tx.CancelDeliveries(ctx, next.ID)
	return err
}

// testChannel answers POST /v1/notification-channels/{id}/test: it sends
// a test message (notify.TestEvent) through the channel now, enabled or
// not, and answers the receiver's result. A test reaches people, so it is
// audited (action "test", written before the message is sent: no test
// goes out unrecorded) and one channel is tested at most once per
// ChannelTestInterval (429 with Retry-After sooner).
func (s *Server) testChannel(w http.ResponseWriter, r *http.Request, p principal) error {
	if s.cfg.TestChannel == nil {
		return problemf(http.StatusServiceUnavailable, "this aiod does not send notifications")
	}
	id := r.PathValue("id")
	c, err := s.store.GetChannel(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return problemf(http.StatusNotFound, "no notification channel with id %q", id)
	}
	if err != nil {
		return err
	}
	now := s.now()
	if wait := s.claimChannelTest(id, now); wait > 0 {
		secs := retryAfterSeconds(wait)
		pe := problemf(http.StatusTooManyRequests, "notification channel %s was tested less than %v ago; test it again in %s s",
			id, s.cfg.ChannelTestInterval, secs)
		pe.header = map[string]string{"Retry-After": secs}
		return pe
	}
	err = s.store.Write(r.Context(), func(tx store.Tx) error {
		return tx.InsertAuditEvent(r.Context(), auth.Event(now, p.actor(), api.ActionTest, api.KindChannel, id, c.Revision, nil))
	})
	if err != nil {
		s.releaseChannelTest(id, now)
		return err
	}
	res, err := s.cfg.TestChannel(r.Context(), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// claimChannelTest records a test of channel id at now and returns 0, or
// returns how long until the channel may be tested again.
func (s *Server) claimChannelTest(id string, now time.Time) time.Duration {
	s.lastTestMu.Lock()
	defer s.lastTestMu.Unlock()
	if last, ok := s.lastTest[id]; ok {
		if next := last.Add(s.cfg.ChannelTestInterval); now.Before(next) {
			return next.Sub(now)
		}
	}
	// The map holds one time per channel tested; past a thousand, the
	// ones that no longer hold anything back are dropped.
	if len(s.lastTest) >= 1000 {
		for k, t := range s.lastTest {
			if !now.Before(t.Add(s.cfg.ChannelTestInterval)) {
				delete(s.lastTest, k)
			}
		}
	}
	s.lastTest[id] = now
	return 0
}

// releaseChannelTest forgets a claimed test that was not sent.
func (s *Server) releaseChannelTest(id string, at time.Time) {
	s.lastTestMu.Lock()
	defer s.lastTestMu.Unlock()
	if s.lastTest[id].Equal(at) {
		delete(s.lastTest, id)
	}
}

// checkChannelRefs answers 400 on the field when a referenced channel
// does not exist, naming every missing one. It runs inside the write
// transaction, so a channel cannot vanish between the check and the
// change.
func checkChannelRefs(ctx context.Context, r store.Reader, field string, ids []string) error {
	var errs []api.FieldError
	for _, id := range ids {
		if _, err := r.GetChannel(ctx, id); errors.Is(err, store.ErrNotFound) {
			errs = append(errs, api.FieldError{Field: field, Message: fmt.Sprintf("no notification channel has the ID %q", id)})
		} else if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	return nil
}
