package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/daemon"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// TestKeysRotateCountsInEnglish stores one credential and rotates: the
// command says "1 secret", not "1 secrets".
func TestKeysRotateCountsInEnglish(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "aio.db")
	keyFile := filepath.Join(dir, "aio.key")
	if err := daemon.EnsureKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	kr, err := secret.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	st, err := daemon.OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	sealed, err := kr.Seal([]byte("s3cret"), secret.Binding{ObjectID: "cred_1", Revision: 1})
	if err != nil {
		t.Fatal(err)
	}
	rec := store.CredentialRecord{Credential: api.Credential{Meta: api.Meta{ID: "cred_1", Revision: 1, CreatedAt: now, UpdatedAt: now}, Name: "c", Type: api.CredBearer, SecretRevision: 1, LastRotatedAt: &now}, Sealed: sealed}
	if err := st.Write(ctx, func(tx store.Tx) error { return tx.InsertCredential(ctx, rec) }); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "keys", "rotate", "--database", db, "--key-file", keyFile)
	if err != nil || !strings.Contains(out, "re-wrapped 1 secret under the new key") {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
}
