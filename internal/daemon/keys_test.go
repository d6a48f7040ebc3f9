package daemon

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// fileKeyring starts an aiod whose keyring is backed by a key file, as
// `aiod serve --key-file` runs.
func fileKeyring(t *testing.T) (*acctest.Server, string, *client.Client) {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "aio.key")
	if err := EnsureKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	kr, err := LoadKeyring(keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := acctest.NewServer(t, acctest.Options{Keyring: kr})
	c, err := client.New(client.Config{Address: srv.URL, Token: srv.AdminToken})
	if err != nil {
		t.Fatal(err)
	}
	return srv, keyFile, c
}

func TestRotateKeysWhileServing(t *testing.T) {
	ctx := context.Background()
	srv, keyFile, c := fileKeyring(t)
	oldKey := srv.Keyring.Primary()
	secrets := map[string]string{}
	before := map[string]api.Credential{}
	for _, name := range []string{"a", "b", "c"} {
		s := "secret-of-" + name
		cred, err := c.CreateCredential(ctx, api.Credential{Name: name, Type: api.CredBearer, AllowedHosts: []string{"api.example.com"}, Secret: &s})
		if err != nil {
			t.Fatal(err)
		}
		secrets[cred.ID] = s
		before[cred.ID] = cred
	}
	// A second process rotates, as `aiod keys rotate` does, with its own
	// keyring read from the same file.
	other, err := LoadKeyring(keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := RotateKeys(ctx, srv.Store, clock.Real{}, other, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rewrapped != 3 || res.NewKey.ID == oldKey.ID {
		t.Fatalf("rotation: %+v", res)
	}
	for id, want := range secrets {
		rec, err := srv.Store.GetCredential(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Sealed.KeyID != res.NewKey.ID {
			t.Errorf("%s still sealed under %s", id, rec.Sealed.KeyID)
		}
		// The running server's keyring never saw the new key: it must
		// re-read the key file to open the row.
		got, err := srv.Keyring.Open(rec.Sealed, secret.Binding{ObjectID: id, Revision: rec.SecretRevision})
		if err != nil || string(got) != want {
			t.Errorf("%s after rotation: %q, %v", id, got, err)
		}
		// Nothing a plan compares has moved.
		after, err := c.GetCredential(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		b := before[id]
		if after.Revision != b.Revision || after.SecretRevision != b.SecretRevision || !after.UpdatedAt.Equal(b.UpdatedAt) {
			t.Errorf("%s changed: before %+v after %+v", id, b, after)
		}
	}
	// The key file keeps the old key after the new one.
	keys, err := secret.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if ks := keys.Keys(); len(ks) != 2 || ks[0].ID != res.NewKey.ID || ks[1].ID != oldKey.ID {
		t.Fatalf("key file after rotation: %+v", ks)
	}
	// The server, now on the new key, can update a secret and the old
	// key alone can no longer open it.
	s := "rotated-later"
	var anyID string
	for id := range secrets {
		anyID = id
		break
	}
	if _, err := c.UpdateCredential(ctx, anyID, 0, api.Credential{Name: before[anyID].Name, Type: api.CredBearer, AllowedHosts: []string{"api.example.com"}, Secret: &s}); err != nil {
		t.Fatal(err)
	}
	rec, _ := srv.Store.GetCredential(ctx, anyID)
	onlyOld, _ := secret.NewKeyring(oldKey)
	if _, err := onlyOld.Open(rec.Sealed, secret.Binding{ObjectID: anyID, Revision: rec.SecretRevision}); !errors.Is(err, secret.ErrUnknownKey) {
		t.Fatalf("old key alone: want ErrUnknownKey, got %v", err)
	}
	// The rotation is in the audit trail.
	evs, _, err := srv.Store.ListAuditEvents(ctx, store.AuditQuery{Kind: "encryption_key"})
	if err != nil || len(evs) != 1 || evs[0].ObjectID != res.NewKey.ID || evs[0].Actor != "cli" {
		t.Fatalf("audit of the rotation: %+v %v", evs, err)
	}
}

func TestCheckKeysRefusesToStartWithoutKey(t *testing.T) {
	ctx := context.Background()
	srv, keyFile, c := fileKeyring(t)
	if err := CheckKeys(ctx, srv.Store, nil); err != nil {
		t.Fatalf("no secrets yet: a missing key is fine, got %v", err)
	}
	s := "x"
	if _, err := c.CreateCredential(ctx, api.Credential{Name: "a", Type: api.CredBearer, AllowedHosts: []string{"api.example.com"}, Secret: &s}); err != nil {
		t.Fatal(err)
	}
	if err := CheckKeys(ctx, srv.Store, nil); err == nil || !strings.Contains(err.Error(), "no encryption key") {
		t.Fatalf("want a refusal without a key, got %v", err)
	}
	wrong, _ := secret.NewKeyring(secret.NewKey())
	if err := CheckKeys(ctx, srv.Store, wrong); err == nil || !strings.Contains(err.Error(), "do not include") {
		t.Fatalf("want a refusal with the wrong key, got %v", err)
	}
	right, err := LoadKeyring(keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckKeys(ctx, srv.Store, right); err != nil {
		t.Fatalf("right key: %v", err)
	}
	// Serve itself refuses, before listening.
	err = Serve(ctx, Options{Listen: "127.0.0.1:0", Database: srv.DBPath})
	if err == nil || !strings.Contains(err.Error(), "no encryption key") {
		t.Fatalf("serve without a key: %v", err)
	}
}

func TestLoadKeyringFromEnvironmentValue(t *testing.T) {
	k1, k2 := secret.NewKey(), secret.NewKey()
	kr, err := LoadKeyring("", k1.String()+","+k2.String())
	if err != nil {
		t.Fatal(err)
	}
	if ks := kr.Keys(); len(ks) != 2 || ks[0].ID != k1.ID || ks[1].ID != k2.ID {
		t.Fatalf("keys: %+v", ks)
	}
	if kr, err := LoadKeyring("", ""); kr != nil || err != nil {
		t.Fatalf("nothing given: %v %v", kr, err)
	}
	if _, err := LoadKeyring("", "not-base64!"); err == nil {
		t.Fatal("want an error for a bad key")
	}
}

func TestBackupWhileServing(t *testing.T) {
	ctx := context.Background()
	srv, _, c := fileKeyring(t)
	s := "backed-up-secret"
	cred, err := c.CreateCredential(ctx, api.Credential{Name: "kept", Type: api.CredBearer, AllowedHosts: []string{"x.example"}, Secret: &s})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEndpoint(ctx, api.Endpoint{Name: "ep", URL: "https://x.example", CredentialID: &cred.ID}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	if err := Backup(ctx, srv.DBPath, out); err != nil {
		t.Fatal(err)
	}
	if err := Backup(ctx, srv.DBPath, out); err == nil {
		t.Fatal("a second backup over the first must be refused")
	}
	// The database, its WAL and the copy are readable by the owner only:
	// they hold token hashes and sealed secrets.
	for _, p := range []string{srv.DBPath, srv.DBPath + "-wal", out} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), perm)
		}
	}
	// The copy is a whole database: it opens, holds the objects, and its
	// secrets open with the same key.
	st, err := store.OpenSQLite(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eps, _, err := st.ListEndpoints(ctx, store.ListQuery{})
	if err != nil || len(eps) != 1 || eps[0].CredentialID == nil || *eps[0].CredentialID != cred.ID {
		t.Fatalf("endpoints in the backup: %+v %v", eps, err)
	}
	rec, err := st.GetCredential(ctx, cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := srv.Keyring.Open(rec.Sealed, secret.Binding{ObjectID: cred.ID, Revision: rec.SecretRevision})
	if err != nil || string(got) != s {
		t.Fatalf("secret in the backup: %q %v", got, err)
	}
	// And the copy holds no plaintext either.
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(s)) {
		t.Fatal("the backup holds the plaintext secret")
	}
	if !bytes.Contains(raw, []byte("kept")) {
		t.Fatal("control: the backup should hold the credential's name")
	}
	db, err := sql.Open("sqlite", out)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity of the backup: %q %v", check, err)
	}
}

// With AIOD_ENCRYPTION_KEY the operator restarts aiod with NEW,OLD first;
// rotate then re-wraps every secret under NEW without making a key that a
// running aiod could not know.
func TestRotateKeysFromEnvironment(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey := secret.NewKey(), secret.NewKey()
	before, _ := secret.NewKeyring(oldKey)
	srv := acctest.NewServer(t, acctest.Options{Keyring: before})
	c, err := client.New(client.Config{Address: srv.URL, Token: srv.AdminToken})
	if err != nil {
		t.Fatal(err)
	}
	s := "env-rotated"
	cred, err := c.CreateCredential(ctx, api.Credential{Name: "a", Type: api.CredBearer, AllowedHosts: []string{"api.example.com"}, Secret: &s})
	if err != nil {
		t.Fatal(err)
	}
	restarted, err := LoadKeyring("", newKey.String()+","+oldKey.String())
	if err != nil {
		t.Fatal(err)
	}
	res, err := RotateKeys(ctx, srv.Store, clock.Real{}, restarted, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rewrapped != 1 || res.NewKey.ID != newKey.ID {
		t.Fatalf("rotation: rewrapped %d under %s, want 1 under %s", res.Rewrapped, res.NewKey.ID, newKey.ID)
	}
	rec, err := srv.Store.GetCredential(ctx, cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	onlyNew, _ := secret.NewKeyring(newKey)
	if got, err := onlyNew.Open(rec.Sealed, secret.Binding{ObjectID: cred.ID, Revision: rec.SecretRevision}); err != nil || string(got) != s {
		t.Fatalf("the new key alone opens: %q %v", got, err)
	}
	// Running it again finds nothing left to do.
	again, err := RotateKeys(ctx, srv.Store, clock.Real{}, restarted, "")
	if err != nil || again.Rewrapped != 0 {
		t.Fatalf("second rotation: %+v %v", again, err)
	}
}

// TestRotateKeysCoversChannelSecrets: notification channel secrets are
// sealed with the same keyring as credentials, so a rotation re-wraps them
// too (an email channel has none), and a start without the keys that seal
// them is refused.
func TestRotateKeysCoversChannelSecrets(t *testing.T) {
	ctx := context.Background()
	srv, keyFile, c := fileKeyring(t)
	s := "routing-key-1"
	pd, err := c.CreateChannel(ctx, api.NotificationChannel{Name: "pd", Type: api.ChannelPagerDuty, Secret: &s})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateChannel(ctx, api.NotificationChannel{Name: "mail", Type: api.ChannelEmail, To: []string{"ops@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := CheckKeys(ctx, srv.Store, nil); err == nil || !strings.Contains(err.Error(), "1 encrypted secrets") {
		t.Errorf("CheckKeys without a key = %v, want a refusal counting the channel's secret", err)
	}
	other, err := LoadKeyring(keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := RotateKeys(ctx, srv.Store, clock.Real{}, other, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rewrapped != 1 {
		t.Fatalf("rewrapped %d secrets, want the channel's one", res.Rewrapped)
	}
	rec, err := srv.Store.GetChannel(ctx, pd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Sealed.KeyID != res.NewKey.ID {
		t.Errorf("channel still sealed under %s", rec.Sealed.KeyID)
	}
	got, err := srv.Keyring.Open(rec.Sealed, secret.Binding{ObjectID: pd.ID, Revision: rec.SecretRevision})
	if err != nil || string(got) != s {
		t.Errorf("channel secret after rotation: %q, %v", got, err)
	}
	only, err := secret.NewKeyring(res.NewKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckKeys(ctx, srv.Store, only); err != nil {
		t.Errorf("CheckKeys with only the new key: %v", err)
	}
}

// TestRotateKeysCoversThePseudonymKey: the key of the audit trail's
// pseudonyms is sealed under the keyring too; a rotation re-wraps it, so
// that an aiod holding only the new key makes the same pseudonyms.
func TestRotateKeysCoversThePseudonymKey(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey := secret.NewKey(), secret.NewKey()
	before, _ := secret.NewKeyring(oldKey)
	srv := acctest.NewServer(t, acctest.Options{Keyring: before})
	want, err := retention.New(retention.Config{Store: srv.Store, Keyring: before}).Pseudonym(ctx, "alice-token")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckKeys(ctx, srv.Store, nil); err == nil {
		t.Error("CheckKeys without a key passed, though the pseudonym key is sealed")
	}
	restarted, err := LoadKeyring("", newKey.String()+","+oldKey.String())
	if err != nil {
		t.Fatal(err)
	}
	res, err := RotateKeys(ctx, srv.Store, clock.Real{}, restarted, "")
	if err != nil || res.Rewrapped != 1 {
		t.Fatalf("rotation: %+v, %v; want the pseudonym key rewrapped", res, err)
	}
	onlyNew, _ := secret.NewKeyring(newKey)
	got, err := retention.New(retention.Config{Store: srv.Store, Keyring: onlyNew}).Pseudonym(ctx, "alice-token")
	if err != nil || got != want {
		t.Errorf("pseudonym with only the new key = %q (%v), want %q", got, err, want)
	}
}

// TestBackupAppliesNoMigration: a backup copies the database as it is. A
// database one migration behind (as an older aiod left it) stays one
// behind, and so does its copy: migrating is for `aiod serve`, which an
// operator runs knowingly, never a side effect of taking a backup.
func TestBackupAppliesNoMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "aio.db")
	st, err := store.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	versions := func(path string) (n int, latest int64) {
		t.Helper()
		raw, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if err := raw.QueryRowContext(ctx, `SELECT count(*), max(version_id) FROM goose_db_version`).Scan(&n, &latest); err != nil {
			t.Fatal(err)
		}
		return n, latest
	}
	n, latest := versions(db)
	// Undo the latest migration as its own Down section says, so that the
	// database really is one behind and opening it as aiod serve does
	// would migrate it.
	files, err := filepath.Glob(filepath.Join("..", "store", "migrations", "sqlite", fmt.Sprintf("%05d_*.sql", latest)))
	if err != nil || len(files) != 1 {
		t.Skipf("migration %d is not an SQL file (%v): nothing to undo here", latest, err)
	}
	text, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	_, down, ok := strings.Cut(string(text), "-- +goose Down")
	if !ok {
		t.Fatalf("%s has no Down section", files[0])
	}
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range strings.Split(down, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := raw.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("undo %s: %v", stmt, err)
		}
	}
	if _, err := raw.ExecContext(ctx, `DELETE FROM goose_db_version WHERE version_id = ?`, latest); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	// The version before the latest (numbers may leave gaps).
	_, prev := versions(db)
	out := filepath.Join(dir, "backup.db")
	if err := Backup(ctx, db, out); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{db, out} {
		if gotN, gotLatest := versions(p); gotN != n-1 || gotLatest != prev {
			t.Errorf("%s records %d migrations up to %d after the backup, want %d up to %d (none applied)", filepath.Base(p), gotN, gotLatest, n-1, prev)
		}
	}
}
