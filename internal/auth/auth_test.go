package auth_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)

func TestAllows(t *testing.T) {
	roles := []string{api.RoleAdmin, api.RoleEditor, api.RoleViewer, "", "root", "cli", "Admin"}
	// want[role] lists the needs the role satisfies.
	want := map[string][]string{
		api.RoleAdmin:  {api.RoleAdmin, api.RoleEditor, api.RoleViewer},
		api.RoleEditor: {api.RoleEditor, api.RoleViewer},
		api.RoleViewer: {api.RoleViewer},
	}
	for _, role := range roles {
		for _, need := range roles {
			if got, w := auth.Allows(role, need), slices.Contains(want[role], need); got != w {
				t.Errorf("Allows(%q, %q) = %v, want %v", role, need, got, w)
			}
		}
	}
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func create(t *testing.T, st store.Store, clk clock.Clock, in auth.CreateInput) (api.Token, string) {
	t.Helper()
	var (
		tok    api.Token
		secret string
	)
	err := st.Write(context.Background(), func(tx store.Tx) error {
		var err error
		tok, secret, err = auth.Create(context.Background(), tx, clk, in, auth.Actor{TokenID: "tok_x", Name: "boss", Role: api.RoleAdmin})
		return err
	})
	if err != nil {
		t.Fatalf("create %+v: %v", in, err)
	}
	return tok, secret
}

func TestCreateAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	fake := clock.NewFake(t0)

	tok, secret := create(t, st, fake, auth.CreateInput{Name: "ci", Role: api.RoleEditor, TTL: time.Hour})
	if !strings.HasPrefix(tok.ID, api.PrefixToken) || len(tok.ID) != len(api.PrefixToken)+26 {
		t.Errorf("id %q", tok.ID)
	}
	if !strings.HasPrefix(secret, "aio_") || len(secret) != len("aio_")+43 {
		t.Errorf("secret %q: want aio_ and 32 random bytes in base64url", secret)
	}
	wantCreated := t0.Truncate(time.Microsecond)
	if !tok.CreatedAt.Equal(wantCreated) || tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(wantCreated.Add(time.Hour)) || tok.RevokedAt != nil {
		t.Errorf("token %+v", tok)
	}

	got, err := auth.Authenticate(ctx, st, secret, fake.Now())
	if err != nil || got.ID != tok.ID || got.Name != "ci" || got.Role != api.RoleEditor {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	// The store keeps only the hash: the secret itself finds nothing
	// when used as a hash, and the hash is not the secret.
	if auth.Hash(secret) == secret || len(auth.Hash(secret)) != 64 {
		t.Errorf("Hash(%q) = %q", secret, auth.Hash(secret))
	}
	if _, err := st.GetTokenByHash(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the secret is stored as is: %v", err)
	}

	// Unknown, empty and near-miss secrets are invalid.
	for _, s := range []string{"", "aio_unknown", secret + "x", strings.ToUpper(secret), auth.Hash(secret)} {
		if _, err := auth.Authenticate(ctx, st, s, fake.Now()); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Authenticate(%q) error = %v, want ErrInvalidToken", s, err)
		}
	}

	// Expiry is exclusive: valid until just before, expired at it.
	exp := *tok.ExpiresAt
	if _, err := auth.Authenticate(ctx, st, secret, exp.Add(-time.Microsecond)); err != nil {
		t.Errorf("just before expiry: %v", err)
	}
	for _, at := range []time.Time{exp, exp.Add(time.Hour)} {
		if _, err := auth.Authenticate(ctx, st, secret, at); !errors.Is(err, auth.ErrExpiredToken) {
			t.Errorf("at %v: error = %v, want ErrExpiredToken", at, err)
		}
	}

	// A token without TTL does not expire.
	_, forever := create(t, st, fake, auth.CreateInput{Name: "forever", Role: api.RoleViewer})
	if _, err := auth.Authenticate(ctx, st, forever, t0.AddDate(100, 0, 0)); err != nil {
		t.Errorf("token without TTL: %v", err)
	}

	// Revoked by name: refused from then on, and revoking again is
	// ErrNotFound.
	revoke := func(idOrName string) (api.Token, error) {
		var tok api.Token
		err := st.Write(ctx, func(tx store.Tx) error {
			var err error
			tok, err = auth.Revoke(ctx, tx, fake, idOrName, auth.CLIActor)
			return err
		})
		return tok, err
	}
	fake.Advance(time.Minute)
	rt, err := revoke("forever")
	if err != nil || rt.Name != "forever" || rt.RevokedAt == nil || !rt.RevokedAt.Equal(fake.Now().Truncate(time.Microsecond)) {
		t.Fatalf("Revoke = %+v, %v", rt, err)
	}
	if _, err := auth.Authenticate(ctx, st, forever, fake.Now()); !errors.Is(err, auth.ErrExpiredToken) {
		t.Errorf("revoked token: error = %v, want ErrExpiredToken", err)
	}
	if _, err := revoke("forever"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second revoke: %v, want ErrNotFound", err)
	}
	if _, err := revoke("tok_nothing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke unknown: %v, want ErrNotFound", err)
	}
	// By ID.
	if _, err := revoke(tok.ID); err != nil {
		t.Errorf("revoke by id: %v", err)
	}

	// Every create and revoke was audited, without secrets.
	evs, _, err := st.ListAuditEvents(ctx, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got2 []string
	for _, ev := range evs {
		got2 = append(got2, ev.Actor+"/"+ev.ActorRole+" "+ev.Action+" "+ev.ObjectKind+" "+strings.Join(ev.ChangedFields, ","))
		for _, s := range []string{secret, forever} {
			if strings.Contains(ev.ID+ev.ObjectID+strings.Join(ev.ChangedFields, ""), s) {
				t.Errorf("event %+v carries a secret", ev)
			}
		}
	}
	want := []string{
		"boss/admin create token name,role,expires_at",
		"boss/admin create token name,role",
		"cli/cli revoke token revoked_at",
		"cli/cli revoke token revoked_at",
	}
	if !slices.Equal(got2, want) {
		t.Errorf("audit events\n%q\nwant\n%q", got2, want)
	}
}

func TestCreateWithGivenSecretAndValidation(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	_, secret := create(t, st, clock.NewFake(t0), auth.CreateInput{Name: "root", Role: api.RoleAdmin, Secret: "dev-root-secret"})
	if secret != "dev-root-secret" {
		t.Errorf("secret %q, want the given one", secret)
	}
	if _, err := auth.Authenticate(ctx, st, "dev-root-secret", t0); err != nil {
		t.Errorf("given secret: %v", err)
	}
	// A taken name is a conflict, and nothing of it is stored.
	err := st.Write(ctx, func(tx store.Tx) error {
		_, _, err := auth.Create(ctx, tx, clock.NewFake(t0), auth.CreateInput{Name: "root", Role: api.RoleViewer}, auth.CLIActor)
		return err
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate name: %v, want ErrConflict", err)
	}

	for _, tc := range []struct {
		in     auth.CreateInput
		fields []string
	}{
		{auth.CreateInput{Name: "ok", Role: api.RoleViewer}, nil},
		{auth.CreateInput{Name: "", Role: api.RoleViewer}, []string{"name"}},
		{auth.CreateInput{Name: "has space", Role: api.RoleViewer}, []string{"name"}},
		{auth.CreateInput{Name: "x", Role: "root"}, []string{"role"}},
		{auth.CreateInput{Name: "x", Role: ""}, []string{"role"}},
		{auth.CreateInput{Name: "x", Role: api.RoleViewer, TTL: -time.Second}, []string{"ttl"}},
		{auth.CreateInput{Name: "", Role: "", TTL: -1}, []string{"name", "role", "ttl"}},
	} {
		var got []string
		for _, e := range tc.in.Validate() {
			got = append(got, e.Field)
		}
		if !slices.Equal(got, tc.fields) {
			t.Errorf("Validate(%+v) fields %q, want %q", tc.in, got, tc.fields)
		}
		if tc.fields != nil {
			err := st.Write(ctx, func(tx store.Tx) error {
				_, _, err := auth.Create(ctx, tx, clock.NewFake(t0), tc.in, auth.CLIActor)
				return err
			})
			if err == nil {
				t.Errorf("Create(%+v) succeeded", tc.in)
			}
		}
	}
	toks, err := st.ListTokens(ctx)
	if err != nil || len(toks) != 1 {
		t.Errorf("tokens after refused creates: %+v, %v", toks, err)
	}
}

func TestSecretsAreRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s := auth.NewSecret()
		if seen[s] {
			t.Fatalf("secret %q repeated", s)
		}
		seen[s] = true
	}
	if a1, a2 := auth.Hash("a"), auth.Hash("a"); auth.Hash("a") == auth.Hash("b") || a1 != a2 {
		t.Error("Hash is not a function of its input")
	}
}

func TestEvent(t *testing.T) {
	ev := auth.Event(t0, auth.Actor{TokenID: "tok_1", Name: "n", Role: "editor"}, api.ActionDelete, api.KindEndpoint, "ep_1", 7, nil)
	if !strings.HasPrefix(ev.ID, api.PrefixAuditEvent) || ev.Actor != "n" || ev.ActorRole != "editor" || ev.Action != "delete" ||
		ev.ObjectKind != "endpoint" || ev.ObjectID != "ep_1" || ev.Revision != 7 || !ev.Time.Equal(t0) {
		t.Errorf("Event = %+v", ev)
	}
	if ev.ChangedFields == nil || len(ev.ChangedFields) != 0 {
		t.Errorf("nil fields become %#v, want an empty list", ev.ChangedFields)
	}
}

// TestValidateRateLimit pins both ends of a token's rate_limit: more than
// zero and at most MaxRateLimit, NaN refused. Mutation testing found these
// boundaries tested only through the server, which gremlins does not run
// for this package.
func TestValidateRateLimit(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		limit float64
		ok    bool
	}{
		{0, false},
		{-1, false},
		{nan, false},
		{0.001, true},
		{auth.MaxRateLimit, true},
		{auth.MaxRateLimit + 0.5, false},
	} {
		limit := tc.limit
		errs := auth.CreateInput{Name: "ci", Role: api.RoleEditor, RateLimit: &limit}.Validate()
		if tc.ok && len(errs) != 0 {
			t.Errorf("rate_limit %v: refused with %v, want accepted", tc.limit, errs)
		}
		if !tc.ok && (len(errs) != 1 || errs[0].Field != "rate_limit") {
			t.Errorf("rate_limit %v: errors %v, want one on rate_limit", tc.limit, errs)
		}
	}
	if errs := (auth.CreateInput{Name: "ci", Role: api.RoleEditor}).Validate(); len(errs) != 0 {
		t.Errorf("no rate_limit: refused with %v", errs)
	}
}
