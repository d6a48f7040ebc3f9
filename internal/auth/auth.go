// Package auth manages API tokens: their creation, hashing, revocation and
// the check of a presented bearer token. Tokens are random, so a plain
// SHA-256 is a safe hash for them: there is no low-entropy secret to guess.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Roles lists the roles in decreasing order of power.
var Roles = []string{api.RoleAdmin, api.RoleEditor, api.RoleViewer}

// Errors of Authenticate. Both are answered with 401.
var (
	ErrInvalidToken = errors.New("invalid token")
	ErrExpiredToken = errors.New("token expired or revoked")
)

// Actor is who makes a change, as the audit trail records it.
type Actor struct {
	TokenID string
	Name    string
	Role    string
}

// CLIActor is the actor of changes made with the aiod command line.
var CLIActor = Actor{Name: "cli", Role: "cli"}

// Allows tells whether a role may do what needs at least role need.
func Allows(role, need string) bool {
	have, want := slices.Index(Roles, role), slices.Index(Roles, need)
	return have >= 0 && want >= 0 && have <= want
}

// Hash returns the stored form of a token secret.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewSecret returns a new random token secret.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "aio_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// Authenticate returns the token whose secret was presented, if it is
// neither revoked nor expired at now.
func Authenticate(ctx context.Context, r store.Reader, secret string, now time.Time) (api.Token, error) {
	if secret == "" {
		return api.Token{}, ErrInvalidToken
	}
	tok, err := r.GetTokenByHash(ctx, Hash(secret))
	if errors.Is(err, store.ErrNotFound) {
		return tok, ErrInvalidToken
	}
	if err != nil {
		return tok, err
	}
	if tok.RevokedAt != nil || (tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt)) {
		return tok, ErrExpiredToken
	}
	return tok, nil
}

// CreateInput describes a token to create.
type CreateInput struct {
	Name string
	Role string
	// TTL, when positive, makes the token expire that long after now.
	TTL time.Duration
	// Secret, when set, is used instead of a random one (aiod dev's root
	// token); otherwise a random secret is made.
	Secret string
	// RateLimit, when set, is the token's own sustained limit in requests
	// per second, in place of the server's default.
	RateLimit *float64
}

// MaxRateLimit bounds a token's own rate limit: a million requests per
// second is more than any aiod answers, so a larger number can only be a
// mistake.
const MaxRateLimit = 1e6

// Validate checks a token request and names the bad fields.
func (in CreateInput) Validate() []api.FieldError {
	errs := api.ValidateName("name", in.Name)
	if !slices.Contains(Roles, in.Role) {
		errs = append(errs, api.FieldError{Field: "role", Message: "must be one of admin, editor, viewer"})
	}
	if in.TTL < 0 {
		errs = append(errs, api.FieldError{Field: "ttl", Message: "must not be negative"})
	}
	// NaN fails both comparisons, so it is refused too.
	if in.RateLimit != nil && !(*in.RateLimit > 0 && *in.RateLimit <= MaxRateLimit) {
		errs = append(errs, api.FieldError{Field: "rate_limit", Message: "must be more than 0 and at most 1000000 requests per second"})
	}
	return errs
}

// Create stores a new token inside tx with its audit event and returns it
// with its secret, which is shown once and never stored.
func Create(ctx context.Context, tx store.Tx, clk clock.Clock, in CreateInput, actor Actor) (api.Token, string, error) {
	if errs := in.Validate(); len(errs) > 0 {
		return api.Token{}, "", fmt.Errorf("%s %s", errs[0].Field, errs[0].Message)
	}
	now := clk.Now().Truncate(time.Microsecond)
	tok := api.Token{ID: ids.New(api.PrefixToken, now), Name: in.Name, Role: in.Role, CreatedAt: now, RateLimit: in.RateLimit}
	if in.TTL > 0 {
		exp := now.Add(in.TTL)
		tok.ExpiresAt = &exp
	}
	secret := in.Secret
	if secret == "" {
		secret = NewSecret()
	}
	if err := tx.InsertToken(ctx, tok, Hash(secret)); err != nil {
		return api.Token{}, "", err
	}
	fields := []string{"name", "role"}
	if tok.ExpiresAt != nil {
		fields = append(fields, "expires_at")
	}
	if tok.RateLimit != nil {
		fields = append(fields, "rate_limit")
	}
	if err := tx.InsertAuditEvent(ctx, Event(now, actor, api.ActionCreate, api.KindToken, tok.ID, 1, fields)); err != nil {
		return api.Token{}, "", err
	}
	return tok, secret, nil
}

// Revoke revokes the token with the given ID or name inside tx and writes
// its audit event.
func Revoke(ctx context.Context, tx store.Tx, clk clock.Clock, idOrName string, actor Actor) (api.Token, error) {
	now := clk.Now().Truncate(time.Microsecond)
	tok, err := tx.RevokeToken(ctx, idOrName, now)
	if err != nil {
		return tok, err
	}
	err = tx.InsertAuditEvent(ctx, Event(now, actor, api.ActionRevoke, api.KindToken, tok.ID, 1, []string{"revoked_at"}))
	return tok, err
}

// Event builds an audit event.
func Event(now time.Time, actor Actor, action, kind, objectID string, revision int64, fields []string) api.AuditEvent {
	if fields == nil {
		fields = []string{}
	}
	return api.AuditEvent{
		ID: ids.New(api.PrefixAuditEvent, now), Time: now, Actor: actor.Name, ActorRole: actor.Role,
		Action: action, ObjectKind: kind, ObjectID: objectID, Revision: revision, ChangedFields: fields,
		Changes: []api.Change{},
	}
}
