package server

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// credentialView is what the API shows of a stored credential: metadata
// and the computed rotation fields, never the secret. The rotation is due
// at the earlier of the secret's expiry and its last rotation plus the
// rotation period: a secret must be replaced before it stops working.
func credentialView(c store.CredentialRecord) api.Credential {
	out := c.Credential
	out.Secret = nil
	out.RotationDueAt = nil
	if c.RotationPeriod != nil && c.LastRotatedAt != nil {
		if d, err := api.ParseDuration(*c.RotationPeriod); err == nil {
			due := c.LastRotatedAt.Add(d)
			out.RotationDueAt = &due
		}
	}
	if c.ExpiresAt != nil && (out.RotationDueAt == nil || c.ExpiresAt.Before(*out.RotationDueAt)) {
		due := *c.ExpiresAt
		out.RotationDueAt = &due
	}
	return out
}

func (s *Server) listCredentials(w http.ResponseWriter, r *http.Request, _ principal) error {
	return serveList(w, r, api.PrefixCredential, nil, func(ctx context.Context, q store.ListQuery) ([]api.Credential, string, error) {
		recs, next, err := s.store.ListCredentials(ctx, q)
		items := make([]api.Credential, len(recs))
		for i, c := range recs {
			items[i] = credentialView(c)
		}
		return items, next, err
	})
}

func (s *Server) getCredential(w http.ResponseWriter, r *http.Request, _ principal) error {
	get := func(ctx context.Context, id string) (api.Credential, error) {
		c, err := s.store.GetCredential(ctx, id)
		return credentialView(c), err
	}
	return serveObject(w, r, api.KindCredential, get, func(c api.Credential) int64 { return c.Revision })
}

// readCredential decodes and validates a credential body. The bytes it
// returns are what the idempotency fingerprint is made of: the body with
// the secret replaced by a MAC under the encryption key. The fingerprint is
// stored for 24 h with a key kept in the same database; a hash of the
// plain secret there would let whoever holds the file test guesses of it,
// while the MAC needs the encryption key, which is not in the file.
func (s *Server) readCredential(r *http.Request, creating bool) ([]byte, api.Credential, error) {
	var c api.Credential
	body, err := readBody(r)
	if err != nil {
		return nil, c, err
	}
	if p := decodeJSON(body, &c); p != nil {
		// Nothing is stored for a request that fails: the raw body is only
		// compared in memory.
		return body, c, p
	}
	fp := c
	if fp.Secret != nil {
		marker := "(secret given)"
		if s.cfg.Keyring != nil {
			marker = hex.EncodeToString(s.cfg.Keyring.MAC([]byte(*fp.Secret)))
		}
		fp.Secret = &marker
	}
	if body, err = json.Marshal(fp); err != nil { //nolint:gosec // G117: the secret is replaced by its MAC above.
		return nil, c, err
	}
	errs := c.Validate(creating)
	if c.ExpiresAt != nil {
		// The store keeps microseconds in UTC. A finer time would come back
		// changed and differ on every PUT (a false change each time), so it
		// is refused; the instant is answered in UTC, as GET shows it.
		if c.ExpiresAt.Nanosecond()%int(time.Microsecond) != 0 {
			errs = append(errs, api.FieldError{Field: "expires_at", Message: "must have at most microsecond precision"})
		} else {
			utc := c.ExpiresAt.UTC()
			c.ExpiresAt = &utc
		}
	}
	if len(errs) > 0 {
		return body, c, invalid(errs)
	}
	return body, c, nil
}

// keyring answers 503 when aiod runs without an encryption key: it can
// serve everything else, but cannot store a secret.
func (s *Server) keyring() (*secret.Keyring, error) {
	if s.cfg.Keyring == nil {
		return nil, problemf(http.StatusServiceUnavailable,
			"aiod has no encryption key, so it cannot store secrets; start it with --key-file or AIOD_ENCRYPTION_KEY")
	}
	return s.cfg.Keyring, nil
}

func (s *Server) createCredential(w http.ResponseWriter, r *http.Request, p principal) error {
	body, in, err := s.readCredential(r, true)
	if body == nil && err != nil {
		return err
	}
	kr, kerr := s.keyring()
	return s.mutate(w, r, p, body, func(tx store.Tx) (result, error) {
		if err != nil {
			return result{}, err
		}
		if kerr != nil {
			return result{}, kerr
		}
		now := s.now()
		rec := store.CredentialRecord{Credential: in}
		rec.Secret = nil
		rec.ID = ids.New(api.PrefixCredential, now)
		rec.Revision, rec.SecretRevision = 1, 1
		rec.CreatedAt, rec.UpdatedAt, rec.LastRotatedAt = now, now, &now
		sealed, err := kr.Seal([]byte(*in.Secret), secret.Binding{ObjectID: rec.ID, Revision: 1})
		if err != nil {
			return result{}, err
		}
		rec.Sealed = sealed
		if err := tx.InsertCredential(r.Context(), rec); errors.Is(err, store.ErrConflict) {
			return result{}, nameTaken(api.KindCredential, in.Name)
		} else if err != nil {
			return result{}, err
		}
		fields := append(credentialChanges(api.Credential{}, rec.Credential), "secret")
		if err := tx.InsertAuditEvent(r.Context(), auth.Event(now, p.actor(), api.ActionCreate, api.KindCredential, rec.ID, 1, fields)); err != nil {
			return result{}, err
		}
		return result{status: http.StatusCreated, body: credentialView(rec),
			header: map[string]string{"Location": "/v1/credentials/" + rec.ID, "ETag": etag(1)}}, nil
	})
}

func (s *Server) updateCredential(w http.ResponseWriter, r *http.Request, p principal) error {
	want, err := ifMatch(r)
	if err != nil {
		return err
	}
	body, in, err := s.readCredential(r, false)
	if body == nil && err != nil {
		return err
	}
	id := r.PathValue("id")
	err = s.mutate(w, r, p, body, func(tx store.Tx) (result, error) {
		if err != nil {
			return result{}, err
		}
		cur, err := tx.GetCredential(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			return result{}, problemf(http.StatusNotFound, "no credential with id %q", id)
		} else if err != nil {
			return result{}, err
		}
		if err := checkRevision(api.KindCredential, want, cur.Revision); err != nil {
			return result{}, err
		}
		changed := credentialChanges(cur.Credential, in)
		if !sameSet(cur.AllowedHosts, in.AllowedHosts) {
			narrowed := in
			narrowed.ID = cur.ID
			if err := checkCredentialNarrowing(r.Context(), tx, narrowed); err != nil {
				return result{}, err
			}
		}
		secretChanged := in.Secret != nil && !s.sameSecret(r.Context(), cur, *in.Secret)
		if len(changed) == 0 && !secretChanged {
			// Sending the secret it already has is no change either.
			return result{status: http.StatusOK, body: credentialView(cur), header: map[string]string{"ETag": etag(cur.Revision)}}, nil
		}
		now := s.now()
		next := store.CredentialRecord{Credential: in, Sealed: cur.Sealed}
		next.Secret = nil
		next.ID, next.CreatedAt, next.UpdatedAt, next.Revision = cur.ID, cur.CreatedAt, now, cur.Revision+1
		next.SecretRevision, next.LastRotatedAt = cur.SecretRevision, cur.LastRotatedAt
		if secretChanged {
			kr, err := s.keyring()
			if err != nil {
				return result{}, err
			}
			next.SecretRevision, next.LastRotatedAt = cur.SecretRevision+1, &now
			if next.Sealed, err = kr.Seal([]byte(*in.Secret), secret.Binding{ObjectID: cur.ID, Revision: next.SecretRevision}); err != nil {
				return result{}, err
			}
			changed = append(changed, "secret")
		}
		if err := tx.UpdateCredential(r.Context(), next); errors.Is(err, store.ErrConflict) {
			return result{}, nameTaken(api.KindCredential, in.Name)
		} else if err != nil {
			return result{}, err
		}
		ev := auth.Event(now, p.actor(), api.ActionUpdate, api.KindCredential, cur.ID, next.Revision, changed)
		if err := tx.InsertAuditEvent(r.Context(), ev); err != nil {
			return result{}, err
		}
		return result{status: http.StatusOK, body: credentialView(next), header: map[string]string{"ETag": etag(next.Revision)}}, nil
	})
	if err == nil {
		s.notify(api.KindCredential, id)
	}
	return err
}

// sameSecret tells whether plaintext is the stored secret. A secret that
// cannot be opened (no key, or a damaged row) counts as different, so that
// sending the secret again repairs the row.
func (s *Server) sameSecret(ctx context.Context, cur store.CredentialRecord, plaintext string) bool {
	if s.cfg.Keyring == nil {
		return false
	}
	old, err := s.cfg.Keyring.Open(cur.Sealed, secret.Binding{ObjectID: cur.ID, Revision: cur.SecretRevision})
	if err != nil {
		s.log.WarnContext(ctx, "stored secret could not be opened; it will be replaced", "credential_id", cur.ID, "error", err)
		return false
	}
	return subtle.ConstantTimeCompare(old, []byte(plaintext)) == 1
}

func (s *Server) deleteCredential(w http.ResponseWriter, r *http.Request, p principal) error {
	return s.deleteObject(w, r, p, deletion{
		kind: api.KindCredential,
		revision: func(ctx context.Context, tx store.Tx, id string) (int64, error) {
			c, err := tx.GetCredential(ctx, id)
			return c.Revision, err
		},
		referrers: func(ctx context.Context, tx store.Tx, id string) ([]string, error) {
			return tx.CredentialReferrers(ctx, id)
		},
		remove: func(ctx context.Context, tx store.Tx, id string) error { return tx.DeleteCredential(ctx, id) },
	})
}

// credentialChanges names the metadata fields that differ; the secret is
// compared separately. Durations compare by value, scopes as sets.
func credentialChanges(a, b api.Credential) []string {
	var out []string
	add := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	add("name", a.Name != b.Name)
	add("description", !eqPtr(a.Description, b.Description))
	add("type", a.Type != b.Type)
	add("header", !eqPtr(a.Header, b.Header))
	add("query_param", !eqPtr(a.QueryParam, b.QueryParam))
	add("username", !eqPtr(a.Username, b.Username))
	add("token_url", !eqPtr(a.TokenURL, b.TokenURL))
	add("client_id", !eqPtr(a.ClientID, b.ClientID))
	add("scopes", !sameSet(a.Scopes, b.Scopes))
	add("allowed_hosts", !sameSet(a.AllowedHosts, b.AllowedHosts))
	add("expires_at", !eqTime(a.ExpiresAt, b.ExpiresAt))
	add("rotation_period", !sameDuration(a.RotationPeriod, b.RotationPeriod))
	return out
}

func sameSet(a, b []string) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func sameDuration(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	da, errA := api.ParseDuration(*a)
	db, errB := api.ParseDuration(*b)
	if errA != nil || errB != nil {
		return *a == *b
	}
	return da == db
}

func eqTime[T interface{ Equal(T) bool }](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return (*a).Equal(*b)
}
