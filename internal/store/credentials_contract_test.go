package store

// Credential scenarios of the store contract that only credentials have:
// the sealed secret and the plaintext that must never be stored. What every
// kind does is in kinds_contract_test.go. TestContractCredentials
// (backends_test.go) runs them on every backend.

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
)

// credT0 has nanoseconds: the store keeps microseconds in UTC.
var credT0 = time.Date(2025, time.July, 4, 12, 30, 45, 987654321, time.FixedZone("CEST", 2*3600))

func credUS(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// runCredentialContract runs every credential scenario against a new,
// empty store made by open.
func runCredentialContract(t *testing.T, open func(t *testing.T) Store) {
	for _, sc := range []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"RoundTrip", testCredRoundTrip},
		{"NotFound", testCredNotFound},
		{"UpdateSealed", testCredUpdateSealed},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, open(t)) })
	}
}

func credWrite(t *testing.T, s Store, fn func(tx Tx) error) {
	t.Helper()
	if err := s.Write(t.Context(), fn); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func credSealed(tag string) secret.Sealed {
	return secret.Sealed{KeyID: "k" + tag, WrappedKey: []byte("wrapped\x00\xff" + tag), Ciphertext: []byte("ct\x00\x01\xfe" + tag)}
}

// credMinimal is a credential with every optional field nil.
func credMinimal(id, name string) CredentialRecord {
	c := CredentialRecord{Sealed: credSealed(id)}
	c.ID, c.Name, c.Type = id, name, api.CredBearer
	c.SecretRevision, c.Revision = 1, 1
	// allowed_hosts has no null: a credential without hosts has [].
	c.AllowedHosts = []string{}
	lr := credT0
	c.LastRotatedAt = &lr
	c.CreatedAt, c.UpdatedAt = credT0, credT0
	return c
}

// credFull is a credential with every field set.
func credFull(id, name string) CredentialRecord {
	c := credMinimal(id, name)
	str := func(s string) *string { return &s }
	exp := credT0.Add(90 * 24 * time.Hour)
	c.Type = api.CredOAuth2Client
	c.Description, c.Header, c.QueryParam, c.Username = str(""), str("x-h"), str("qp"), str("u")
	c.TokenURL, c.ClientID, c.Scopes = str("https://auth.example.com/t"), str("cid"), []string{"write", "read"}
	c.AllowedHosts = []string{"auth.example.com", "*.example.com:8443", "[::1]:8080"}
	c.ExpiresAt, c.RotationPeriod = &exp, str("60m")
	c.SecretRevision, c.Revision = 3, 7
	lr := credT0.Add(time.Hour)
	c.LastRotatedAt = &lr
	c.UpdatedAt = credT0.Add(2 * time.Hour)
	return c
}

// credStored is what the store gives back for c.
func credStored(c CredentialRecord) CredentialRecord {
	c.CreatedAt, c.UpdatedAt = credUS(c.CreatedAt), credUS(c.UpdatedAt)
	if c.LastRotatedAt != nil {
		v := credUS(*c.LastRotatedAt)
		c.LastRotatedAt = &v
	}
	if c.ExpiresAt != nil {
		v := credUS(*c.ExpiresAt)
		c.ExpiresAt = &v
	}
	c.Scopes = slices.Clone(c.Scopes)
	c.AllowedHosts = slices.Clone(c.AllowedHosts)
	if c.AllowedHosts == nil {
		c.AllowedHosts = []string{}
	}
	return c
}

func credDump(c CredentialRecord) string {
	str := func(p *string) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprintf("%q", *p)
	}
	tm := func(p *time.Time) string {
		if p == nil {
			return "nil"
		}
		return p.Format(time.RFC3339Nano) + " " + p.Location().String()
	}
	scopes := "nil"
	if c.Scopes != nil {
		scopes = fmt.Sprintf("%q", c.Scopes)
	}
	return fmt.Sprintf("{ID:%s Name:%q Desc:%s Type:%s Header:%s QP:%s User:%s TokenURL:%s ClientID:%s Scopes:%s Hosts:%q Exp:%s Period:%s "+
		"SecretRev:%d LastRotated:%s Rev:%d Created:%s Updated:%s Sealed:%q/%q/%q Secret:%s}",
		c.ID, c.Name, str(c.Description), c.Type, str(c.Header), str(c.QueryParam), str(c.Username), str(c.TokenURL), str(c.ClientID),
		scopes, c.AllowedHosts, tm(c.ExpiresAt), str(c.RotationPeriod), c.SecretRevision, tm(c.LastRotatedAt), c.Revision,
		tm(&c.CreatedAt), tm(&c.UpdatedAt), c.Sealed.KeyID, c.Sealed.WrappedKey, c.Sealed.Ciphertext, str(c.Secret))
}

func credCheck(t *testing.T, r Reader, want CredentialRecord) {
	t.Helper()
	got, err := r.GetCredential(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("GetCredential(%s): %v", want.ID, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("credential %s:\ngot  %s\nwant %s", want.ID, credDump(got), credDump(want))
	}
}

func credWantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func testCredRoundTrip(t *testing.T, s Store) {
	full, minimal := credFull("cred_a", "full"), credMinimal("cred_b", "minimal")
	empty := credMinimal("cred_c", "empty-scopes")
	empty.Type, empty.Scopes = api.CredOAuth2Client, []string{}
	// The store never sees a plaintext, but should one slip into the
	// record, it must not be stored either.
	leaky := credMinimal("cred_d", "leaky")
	p := "plaintext-must-not-be-stored"
	leaky.Secret = &p
	credentialKind.put(t, s, full, minimal, empty, leaky)
	// Reads inside the writing transaction see it too.
	credWrite(t, s, func(tx Tx) error {
		credCheck(t, tx, credStored(full))
		return nil
	})
	credCheck(t, s, credStored(full))
	credCheck(t, s, credStored(minimal))
	credCheck(t, s, credStored(empty)) // [] stays [], nil stays nil
	want := credStored(leaky)
	want.Secret = nil
	credCheck(t, s, want)
	if n, err := s.CountCredentials(t.Context()); err != nil || n != 4 {
		t.Errorf("CountCredentials = %d, %v; want 4", n, err)
	}
}

func testCredNotFound(t *testing.T, s Store) {
	_, err := s.GetCredential(t.Context(), "cred_nope")
	credWantErr(t, "GetCredential", err, ErrNotFound)
	for name, fn := range map[string]func(tx Tx) error{
		"UpdateCredential": func(tx Tx) error { return tx.UpdateCredential(t.Context(), credMinimal("cred_nope", "x")) },
		"UpdateSealed":     func(tx Tx) error { return tx.UpdateSealed(t.Context(), "cred_nope", credSealed("x")) },
		"DeleteCredential": func(tx Tx) error { return tx.DeleteCredential(t.Context(), "cred_nope") },
	} {
		credWantErr(t, name, s.Write(t.Context(), fn), ErrNotFound)
	}
	if n, err := s.CountCredentials(t.Context()); err != nil || n != 0 {
		t.Errorf("CountCredentials = %d, %v; want 0", n, err)
	}
}

func testCredUpdateSealed(t *testing.T, s Store) {
	c := credFull("cred_a", "a")
	credentialKind.put(t, s, c, credMinimal("cred_b", "b"))
	rot := secret.Sealed{KeyID: "knew", WrappedKey: []byte("new-wrap\x00"), Ciphertext: bytes.Clone(c.Sealed.Ciphertext)}
	credWrite(t, s, func(tx Tx) error { return tx.UpdateSealed(t.Context(), "cred_a", rot) })
	want := credStored(c)
	want.Sealed = rot
	// Nothing but the sealed secret changes: no revision, secret revision
	// or timestamp.
	credCheck(t, s, want)
	credCheck(t, s, credStored(credMinimal("cred_b", "b")))
}
