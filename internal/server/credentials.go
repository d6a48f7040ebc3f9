package server

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
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

// credentials declares the credential kind. The store keeps the record
// with its sealed secret; the API shows credentialView of it. Endpoints and
// monitors reference a credential and block its delete; narrowing its
// allowed_hosts must still allow them.
func (s *Server) credentials() *kindSpec[store.CredentialRecord, *store.CredentialRecord] {
	return &kindSpec[store.CredentialRecord, *store.CredentialRecord]{
		kind:      api.CredentialKind,
		get:       store.Reader.GetCredential,
		list:      listOf(store.Reader.ListCredentials),
		insert:    store.Tx.InsertCredential,
		update:    store.Tx.UpdateCredential,
		remove:    store.Tx.DeleteCredential,
		referrers: store.Reader.CredentialReferrers,
		name:      func(c store.CredentialRecord) string { return c.Name },
		decode:    s.decodeCredential,
		check: func(ctx context.Context, tx store.Reader, cur *store.CredentialRecord, next store.CredentialRecord) error {
			if cur == nil {
				return nil
			}
			if err := checkSecretResent(*cur, next); err != nil {
				return err
			}
			if sameSet(cur.AllowedHosts, next.AllowedHosts) {
				return nil
			}
			return checkCredentialNarrowing(ctx, tx, next.Credential)
		},
		changes:     s.credentialChanges,
		beforeWrite: s.sealSecret,
		view:        func(c store.CredentialRecord) any { return credentialView(c) },
		notify:      true,
		// Endpoints and monitors name a credential by ID: a new one is
		// used by none yet, and nothing of it is cached.
		quietCreate: true,
	}
}

// checkSecretResent refuses an update that would send the secret somewhere
// new or in a new form (api.Credential.ResendsSecret: a widened
// allowed_hosts, another type, key placement, token URL, client ID or user
// name) unless it carries the secret. Without this, an editor who cannot
// read the secret could still obtain it: add their own host to
// allowed_hosts, then point an endpoint there. Sending the secret proves
// the request comes from someone who already holds it. Admin tokens follow
// the same rule: one rule is easier to reason about, and an admin who
// lacks the secret should not move it either.
func checkSecretResent(cur, next store.CredentialRecord) error {
	if next.Secret != nil {
		return nil
	}
	if fields := cur.ResendsSecret(next.Credential); len(fields) > 0 {
		return invalid([]api.FieldError{{Field: "secret", Message: api.ResendsSecretMessage(fields)}})
	}
	return nil
}

// decodeCredential decodes and validates a credential body. The bytes it
// returns are what the idempotency fingerprint is made of: the body with
// the secret replaced by a MAC under the encryption key. The fingerprint is
// stored for 24 h with a key kept in the same database; a hash of the
// plain secret there would let whoever holds the file test guesses of it,
// while the MAC needs the encryption key, which is not in the file.
func (s *Server) decodeCredential(body []byte, creating bool) ([]byte, store.CredentialRecord, error) {
	var c api.Credential
	if p := decodeJSON(body, &c); p != nil {
		// Nothing is stored for a request that fails: the raw body is only
		// compared in memory.
		return body, store.CredentialRecord{Credential: c}, p
	}
	fp := c
	if fp.Secret != nil {
		marker := "(secret given)"
		if s.cfg.Keyring != nil {
			marker = hex.EncodeToString(s.cfg.Keyring.MAC([]byte(*fp.Secret)))
		}
		fp.Secret = &marker
	}
	body, err := json.Marshal(fp) //nolint:gosec // G117: the secret is replaced by its MAC above.
	if err != nil {
		return nil, store.CredentialRecord{Credential: c}, err
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
		return body, store.CredentialRecord{Credential: c}, invalid(errs)
	}
	return body, store.CredentialRecord{Credential: c}, nil
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

// credentialChanges names the fields that differ, the secret included:
// on create (cur has no ID) it is always new; on update, sending the
// secret the credential already has is no change, unless the update sends
// it somewhere new (checkSecretResent): then the secret counts as given
// anew, so that it is sealed at a new secret_revision and the audit event
// shows that whoever widened its reach supplied it.
func (s *Server) credentialChanges(ctx context.Context, cur, next store.CredentialRecord) []string {
	changed := metadataChanges(cur.Credential, next.Credential)
	if next.Secret != nil && (cur.ID == "" || len(cur.ResendsSecret(next.Credential)) > 0 || !s.sameSealedSecret(ctx, "credential_id", cur.ID, cur.Sealed, cur.SecretRevision, *next.Secret)) {
		changed = append(changed, "secret")
	}
	return changed
}

// sealSecret stores a new secret sealed, bound to the credential's ID and
// secret revision, and never in the clear; a credential whose secret did
// not change keeps its sealed secret, secret revision and rotation time.
// Without an encryption key, only a new secret is refused (503).
func (s *Server) sealSecret(_ context.Context, cur, next *store.CredentialRecord, changed []string) error {
	plain := next.Secret
	next.Secret = nil
	if cur != nil {
		next.Sealed, next.SecretRevision, next.LastRotatedAt = cur.Sealed, cur.SecretRevision, cur.LastRotatedAt
		if !slices.Contains(changed, "secret") {
			return nil
		}
	}
	kr, err := s.keyring()
	if err != nil {
		return err
	}
	now := next.UpdatedAt
	next.SecretRevision, next.LastRotatedAt = 1, &now
	if cur != nil {
		next.SecretRevision = cur.SecretRevision + 1
	}
	next.Sealed, err = kr.Seal([]byte(*plain), secret.Binding{ObjectID: next.ID, Revision: next.SecretRevision})
	return err
}

// sameSealedSecret tells whether plaintext is the secret sealed for the
// object id at secret revision rev (credentials and channels alike; idKey
// names the ID in the log, as in credential_id). A
// secret that is absent or cannot be opened (no key, or a damaged row)
// counts as different, so that sending the secret again repairs the row.
func (s *Server) sameSealedSecret(ctx context.Context, idKey, id string, sealed secret.Sealed, rev int64, plaintext string) bool {
	if s.cfg.Keyring == nil || rev == 0 || sealed.KeyID == "" {
		return false
	}
	old, err := s.cfg.Keyring.Open(sealed, secret.Binding{ObjectID: id, Revision: rev})
	if err != nil {
		s.log.WarnContext(ctx, "stored secret could not be opened; it will be replaced", idKey, id, "error", err)
		return false
	}
	return subtle.ConstantTimeCompare(old, []byte(plaintext)) == 1
}

// metadataChanges names the metadata fields of a credential that differ;
// the secret is compared separately. Durations compare by value, scopes as
// sets.
func metadataChanges(a, b api.Credential) []string {
	var out changeList
	out.add("name", a.Name != b.Name)
	out.add("description", !eqPtr(a.Description, b.Description))
	out.add("type", a.Type != b.Type)
	out.add("header", !eqPtr(a.Header, b.Header))
	out.add("query_param", !eqPtr(a.QueryParam, b.QueryParam))
	out.add("username", !eqPtr(a.Username, b.Username))
	out.add("token_url", !eqPtr(a.TokenURL, b.TokenURL))
	out.add("client_id", !eqPtr(a.ClientID, b.ClientID))
	out.add("scopes", !sameSet(a.Scopes, b.Scopes))
	out.add("allowed_hosts", !sameSet(a.AllowedHosts, b.AllowedHosts))
	out.add("expires_at", !eqTime(a.ExpiresAt, b.ExpiresAt))
	out.add("rotation_period", !sameDuration(a.RotationPeriod, b.RotationPeriod))
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
