package server_test

// Security tests of credential secrets. Each check comes with a control
// showing that it can fail: a scan that finds nothing must be shown to
// find what is there.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/testutil"

	_ "modernc.org/sqlite"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newSecret makes a distinctive secret.
func newSecret() string { return "SUPER-SECRET-" + randHex(12) }

// encodings lists the forms in which a leaked secret would be found.
func encodings(s string) map[string][]byte {
	b := []byte(s)
	return map[string][]byte{
		"plain":      b,
		"base64":     []byte(base64.StdEncoding.EncodeToString(b)),
		"base64 raw": []byte(base64.RawStdEncoding.EncodeToString(b)),
		"base64 url": []byte(base64.RawURLEncoding.EncodeToString(b)),
		"hex":        []byte(hex.EncodeToString(b)),
		"HEX":        []byte(strings.ToUpper(hex.EncodeToString(b))),
		// The distinctive part alone, should a prefix be stripped.
		"random part": []byte(strings.TrimPrefix(s, "SUPER-SECRET-")),
	}
}

// leaks lists every secret (in any encoding) found in data.
func leaks(data []byte, secrets []string) []string {
	var out []string
	for _, s := range secrets {
		for enc, form := range encodings(s) {
			if i := bytes.Index(data, form); i >= 0 {
				lo, hi := max(0, i-80), min(len(data), i+len(form)+80)
				out = append(out, fmt.Sprintf("%q (%s) at byte %d: …%q…", s, enc, i, data[lo:hi]))
			}
		}
	}
	return out
}

// findLeaks fails the test for every secret found in data.
func findLeaks(t *testing.T, where string, data []byte, secrets []string) {
	t.Helper()
	for _, l := range leaks(data, secrets) {
		t.Errorf("%s holds the secret %s", where, l)
	}
}

// wantFound is the control of a scan: it fails unless the scan finds each
// of the given values in data.
func wantFound(t *testing.T, where string, data []byte, values ...string) {
	t.Helper()
	for _, v := range values {
		if len(leaks(data, []string{v})) == 0 {
			t.Errorf("control: the scan does not find %q in %s, so it cannot be trusted", v, where)
		}
	}
}

// dbFiles reads every file next to the database: the database, its -wal
// and -shm files and anything else SQLite left there.
func dbFiles(t *testing.T, srv *acctest.Server) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	paths, err := filepath.Glob(filepath.Join(filepath.Dir(srv.DBPath), "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
		out[filepath.Base(p)] = b
	}
	for _, want := range []string{"", "-wal", "-shm"} {
		if b, ok := out[filepath.Base(srv.DBPath)+want]; !ok || len(b) == 0 {
			t.Fatalf("%s%s is missing or empty while the server runs; files: %v", srv.DBPath, want, keysOf(out))
		}
	}
	return out
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// credentialBodies returns one credential body of each type with the
// given secrets and a description carrying marker.
func credentialBodies(prefix, marker string, secrets []string) []map[string]any {
	return []map[string]any{
		with(credBody(prefix+"-key", api.CredAPIKey, secrets[0]), "header", "x-api-key", "description", marker+"-key"),
		with(credBody(prefix+"-query", api.CredAPIKey, secrets[1]), "query_param", "token", "description", marker+"-query"),
		with(credBody(prefix+"-bearer", api.CredBearer, secrets[2]), "description", marker+"-bearer"),
		with(credBody(prefix+"-basic", api.CredBasic, secrets[3]), "description", marker+"-basic"),
		with(credBody(prefix+"-oauth", api.CredOAuth2Client, secrets[4]), "description", marker+"-oauth", "scopes", []string{"read"}),
	}
}

func TestPlaintextNeverAtRest(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	marker := "DESCRIPTION-MARKER-" + randHex(8)
	var secrets []string
	for range 5 {
		secrets = append(secrets, newSecret())
	}
	var ids []string
	for i, body := range credentialBodies("rest", marker, secrets) {
		// With an idempotency key: its stored answer is at rest too.
		r := call(t, srv, http.MethodPost, "/v1/credentials", editor, body, api.HeaderIdempotency, "rest-"+randHex(4))
		wantStatus(t, r, http.StatusCreated)
		var c api.Credential
		decode(t, r, &c)
		ids = append(ids, c.ID)
		if got := storedSecret(t, srv, c.ID); got != secrets[i] {
			t.Fatalf("stored secret %q, want %q", got, secrets[i])
		}
	}
	// Rotate one (the old one must not linger either), send one again
	// unchanged, and have one refused (a taken name) and one invalid.
	rotated := newSecret()
	r := call(t, srv, http.MethodPut, "/v1/credentials/"+ids[2], editor,
		with(credBody("rest-bearer", api.CredBearer, rotated), "description", marker+"-rotated"), api.HeaderIdempotency, "rotate")
	wantStatus(t, r, http.StatusOK)
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/credentials/"+ids[3], editor,
		with(credBody("rest-basic", api.CredBasic, secrets[3]), "description", marker+"-basic")), http.StatusOK)
	refused, invalidOne := newSecret(), newSecret()
	wantProblem(t, call(t, srv, http.MethodPost, "/v1/credentials", editor, credBody("rest-key", api.CredBearer, refused)), http.StatusConflict)
	wantProblem(t, call(t, srv, http.MethodPost, "/v1/credentials", editor, with(credBody("rest-x", api.CredBearer, invalidOne), "type", "x")), http.StatusBadRequest)
	all := append(secrets, rotated, refused, invalidOne)

	// Read the files while the server still has them open, so that the
	// WAL still holds the pages just written.
	files := dbFiles(t, srv)
	for name, data := range files {
		findLeaks(t, name, data, all)
	}

	// Controls: the scan does find what was written, the newest write
	// included, and the sealed bytes themselves are there.
	var joined []byte
	for _, data := range files {
		joined = append(joined, data...)
	}
	wantFound(t, "the database files", joined, marker+"-key", marker+"-oauth", marker+"-rotated", ids[0], ids[4])
	rec, err := srv.Store.GetCredential(context.Background(), ids[2])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(joined, rec.Sealed.Ciphertext) {
		t.Error("control: the sealed ciphertext is not found in the database files")
	}
	for name, data := range files {
		t.Logf("%s: %d bytes, marker of the last write present: %v", name, len(data), bytes.Contains(data, []byte(marker+"-rotated")))
	}
}

func TestSecretNeverInResponsesOrLogs(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := acctest.NewServer(t, acctest.Options{Logger: logger})
	editor := srv.Tokens[api.RoleEditor]
	marker := "DESCRIPTION-MARKER-" + randHex(8)

	var responses []response
	do := func(method, path string, body any, hdr ...string) response {
		t.Helper()
		r := call(t, srv, method, path, editor, body, hdr...)
		responses = append(responses, r)
		return r
	}

	var secrets []string
	for range 5 {
		secrets = append(secrets, newSecret())
	}
	var ids []string
	for i, body := range credentialBodies("resp", marker, secrets) {
		key := "create-" + randHex(4)
		r := do(http.MethodPost, "/v1/credentials", body, api.HeaderIdempotency, key)
		wantStatus(t, r, http.StatusCreated)
		var c api.Credential
		decode(t, r, &c)
		ids = append(ids, c.ID)
		wantStatus(t, do(http.MethodPost, "/v1/credentials", body, api.HeaderIdempotency, key), http.StatusCreated) // replay
		wantProblem(t, do(http.MethodPost, "/v1/credentials", with(body, "secret", newSecret()), api.HeaderIdempotency, key), http.StatusUnprocessableEntity)
		wantStatus(t, do(http.MethodGet, "/v1/credentials/"+c.ID, nil), http.StatusOK)
		if got := storedSecret(t, srv, c.ID); got != secrets[i] {
			t.Fatalf("stored secret %q", got)
		}
	}
	wantStatus(t, do(http.MethodGet, "/v1/credentials", nil), http.StatusOK)
	wantStatus(t, do(http.MethodGet, "/v1/credentials?limit=2", nil), http.StatusOK)
	wantStatus(t, do(http.MethodGet, "/v1/credentials?name=resp-basic", nil), http.StatusOK)

	// Rotation (with a replay), a no-op with the same secret, a refused
	// rename carrying a new secret, invalid bodies carrying secrets.
	rotated := newSecret()
	put := with(credBody("resp-bearer", api.CredBearer, rotated), "description", marker+"-bearer")
	wantStatus(t, do(http.MethodPut, "/v1/credentials/"+ids[2], put, api.HeaderIdempotency, "rot"), http.StatusOK)
	wantStatus(t, do(http.MethodPut, "/v1/credentials/"+ids[2], put, api.HeaderIdempotency, "rot"), http.StatusOK)
	wantStatus(t, do(http.MethodPut, "/v1/credentials/"+ids[2], put), http.StatusOK)
	s1, s2, s3, s4, s5 := newSecret(), newSecret(), newSecret(), newSecret(), newSecret()
	wantProblem(t, do(http.MethodPut, "/v1/credentials/"+ids[2], credBody("resp-key", api.CredBearer, s1)), http.StatusConflict)
	wantProblem(t, do(http.MethodPut, "/v1/credentials/"+ids[2], with(put, "secret", s2), "If-Match", `"9"`), http.StatusPreconditionFailed)
	wantProblem(t, do(http.MethodPost, "/v1/credentials", with(credBody("bad", api.CredBearer, s3), "header", "X-Bad")), http.StatusBadRequest)
	wantProblem(t, do(http.MethodPost, "/v1/credentials", `{"name":"bad","type":"bearer","secret":["`+s4+`"]}`), http.StatusBadRequest)
	wantProblem(t, do(http.MethodPost, "/v1/credentials", `{"name":"bad","type":"bearer","secret":"`+s5+`",`), http.StatusBadRequest)
	wantProblem(t, do(http.MethodPost, "/v1/credentials", with(credBody("bad", api.CredBearer, s5), "secret", s5+strings.Repeat("x", api.MaxSecret))), http.StatusBadRequest)

	// A damaged row, then the secret sent again: aiod logs that it could
	// not open the stored secret, and replaces it. The log must say so
	// without either secret.
	rec, err := srv.Store.GetCredential(context.Background(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	damaged := rec.Sealed
	damaged.Ciphertext = bytes.Clone(damaged.Ciphertext)
	damaged.Ciphertext[len(damaged.Ciphertext)-1] ^= 0xff
	if err := srv.Store.Write(context.Background(), func(tx store.Tx) error { return tx.UpdateSealed(context.Background(), ids[0], damaged) }); err != nil {
		t.Fatal(err)
	}
	r := do(http.MethodPut, "/v1/credentials/"+ids[0], credentialBodies("resp", marker, secrets)[0])
	wantStatus(t, r, http.StatusOK)
	wantRaw(t, rawObject(t, r.Body), "secret_revision", `2`)
	if got := storedSecret(t, srv, ids[0]); got != secrets[0] {
		t.Errorf("repaired secret %q", got)
	}

	wantStatus(t, do(http.MethodDelete, "/v1/credentials/"+ids[4], nil), http.StatusNoContent)
	// The history: every revision, the diffs, the tombstone, a restore of
	// an old revision and the refused restore of the deleted credential.
	for _, id := range ids {
		wantStatus(t, do(http.MethodGet, "/v1/credentials/"+id+"/revisions", nil), http.StatusOK)
		wantStatus(t, do(http.MethodGet, "/v1/credentials/"+id+"/revisions/1", nil), http.StatusOK)
		wantStatus(t, do(http.MethodGet, "/v1/credentials/"+id+"/diff?from=1", nil), http.StatusOK)
	}
	wantStatus(t, do(http.MethodGet, "/v1/deleted/credentials", nil), http.StatusOK)
	wantProblem(t, do(http.MethodPost, "/v1/deleted/credentials/"+ids[4]+"/restore", nil), http.StatusConflict)
	g, _ := getCredential(t, srv, ids[2])
	wantStatus(t, do(http.MethodPost, "/v1/credentials/"+ids[2]+"/revisions/1/restore", nil, "If-Match", fmt.Sprintf(`"%d"`, g.Revision)), http.StatusOK)
	wantStatus(t, do(http.MethodGet, "/v1/credentials/"+ids[2]+"/diff?from=1", nil), http.StatusOK)
	wantStatus(t, do(http.MethodGet, "/v1/audit-events?limit=1000", nil), http.StatusOK)
	wantStatus(t, do(http.MethodGet, "/v1/audit-events?kind=credential", nil), http.StatusOK)

	all := append(secrets, rotated, s1, s2, s3, s4, s5)
	var everything []byte
	for i, r := range responses {
		var b bytes.Buffer
		_ = r.Header.Write(&b)
		b.Write(r.Body)
		findLeaks(t, fmt.Sprintf("response #%d (%d)", i, r.Status), b.Bytes(), all)
		everything = append(everything, b.Bytes()...)
		if r.Status < 300 && len(r.Body) > 0 && !strings.Contains(string(r.Body), "audit") {
			wantNoSecretMember(t, r.Body)
		}
	}
	logged := logs.Bytes()
	findLeaks(t, "aiod's log", logged, all)

	// Controls: the responses carry the metadata, and the log has the
	// request lines and the warning about the damaged row.
	wantFound(t, "the responses", everything, marker+"-oauth", ids[3], `"path":"secret"`, `"sensitive":true`, `"object_kind":"credential"`)
	wantFound(t, "aiod's log", logged, `"msg":"request"`, `"path":"/v1/credentials/`+ids[2]+`"`, `"level":"WARN"`, `"credential_id":"`+ids[0]+`"`)
}

// rawDB opens the database file directly, as someone with access to the
// disk would, next to the running server.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestTamperedSecretsRejected(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	db := rawDB(t, srv.DBPath)
	ctx := context.Background()

	secretA, secretB := newSecret(), newSecret()
	a := createCredential(t, srv, editor, credBody("cred-a", api.CredBearer, secretA))
	b := createCredential(t, srv, editor, credBody("cred-b", api.CredBearer, secretB))

	load := func(id string) store.CredentialRecord {
		t.Helper()
		rec, err := srv.Store.GetCredential(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	// open opens the stored secret of id bound to its own row.
	open := func(id string) (string, error) {
		rec := load(id)
		p, err := srv.Keyring.Open(rec.Sealed, secret.Binding{ObjectID: id, Revision: rec.SecretRevision})
		return string(p), err
	}
	wantOpens := func(id, want string) {
		t.Helper()
		got, err := open(id)
		if err != nil || got != want {
			t.Fatalf("open %s = %q, %v; want %q", id, got, err, want)
		}
	}
	wantRefused := func(what, id string, target error) {
		t.Helper()
		got, err := open(id)
		if !errors.Is(err, target) {
			t.Errorf("%s: open = %q, %v; want %v", what, got, err, target)
		}
		if got != "" {
			t.Errorf("%s: open returned data %q", what, got)
		}
	}
	exec := func(query string, args ...any) {
		t.Helper()
		res, err := db.ExecContext(ctx, query, args...)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("%s: %d rows", query, n)
		}
	}
	setSealed := func(id string, s secret.Sealed) {
		t.Helper()
		exec(`UPDATE credentials SET secret_key_id = ?, secret_wrapped = ?, secret_ciphertext = ? WHERE id = ?`,
			s.KeyID, s.WrappedKey, s.Ciphertext, id)
	}
	// Controls: both open as stored.
	wantOpens(a.ID, secretA)
	wantOpens(b.ID, secretB)
	origA, origB := load(a.ID).Sealed, load(b.ID).Sealed

	// One flipped bit anywhere in the ciphertext or the wrapped key, in
	// the database file itself.
	for _, col := range []string{"secret_ciphertext", "secret_wrapped"} {
		var blob []byte
		if err := db.QueryRowContext(ctx, `SELECT `+col+` FROM credentials WHERE id = ?`, a.ID).Scan(&blob); err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 11, 12, len(blob) / 2, len(blob) - 16, len(blob) - 1} {
			x := bytes.Clone(blob)
			x[i] ^= 0x01
			exec(`UPDATE credentials SET `+col+` = ? WHERE id = ?`, x, a.ID)
			wantRefused(fmt.Sprintf("%s flipped at byte %d", col, i), a.ID, secret.ErrTampered)
		}
		exec(`UPDATE credentials SET `+col+` = substr(`+col+`, 1, 20) WHERE id = ?`, a.ID)
		wantRefused(col+" truncated", a.ID, secret.ErrTampered)
		exec(`UPDATE credentials SET `+col+` = ? WHERE id = ?`, blob, a.ID)
		wantOpens(a.ID, secretA)
	}
	// Another key ID: unknown, not garbage.
	exec(`UPDATE credentials SET secret_key_id = 'k000000000000' WHERE id = ?`, a.ID)
	wantRefused("unknown key id", a.ID, secret.ErrUnknownKey)
	setSealed(a.ID, origA)
	wantOpens(a.ID, secretA)

	// Swapped: A's sealed secret copied onto B's row (same secret
	// revision), whole or only its ciphertext.
	if load(a.ID).SecretRevision != load(b.ID).SecretRevision {
		t.Fatal("the swap test needs equal secret revisions")
	}
	setSealed(b.ID, origA)
	wantRefused("A's sealed secret on B's row", b.ID, secret.ErrTampered)
	wantOpens(a.ID, secretA)
	setSealed(b.ID, secret.Sealed{KeyID: origB.KeyID, WrappedKey: origB.WrappedKey, Ciphertext: origA.Ciphertext})
	wantRefused("A's ciphertext with B's wrapped key", b.ID, secret.ErrTampered)
	setSealed(b.ID, secret.Sealed{KeyID: origA.KeyID, WrappedKey: origA.WrappedKey, Ciphertext: origB.Ciphertext})
	wantRefused("A's wrapped key with B's ciphertext", b.ID, secret.ErrTampered)
	// Through the store as well as through SQL.
	if err := srv.Store.Write(ctx, func(tx store.Tx) error { return tx.UpdateSealed(ctx, b.ID, origA) }); err != nil {
		t.Fatal(err)
	}
	wantRefused("A's sealed secret on B's row, through the store", b.ID, secret.ErrTampered)
	setSealed(b.ID, origB)
	wantOpens(b.ID, secretB)

	// Put back: B rotated to revision 2, then its revision-1 sealed secret
	// written back.
	rotatedB := newSecret()
	r := call(t, srv, http.MethodPut, "/v1/credentials/"+b.ID, editor, credBody("cred-b", api.CredBearer, rotatedB))
	wantStatus(t, r, http.StatusOK)
	wantRaw(t, rawObject(t, r.Body), "secret_revision", `2`)
	wantOpens(b.ID, rotatedB)
	rev2 := load(b.ID).Sealed
	setSealed(b.ID, origB)
	wantRefused("the revision-1 sealed secret put back at revision 2", b.ID, secret.ErrTampered)
	setSealed(b.ID, rev2)
	wantOpens(b.ID, rotatedB)

	// The API never answers with garbage for a damaged row: metadata reads
	// still work, and sending a secret repairs the row (a new revision),
	// even the very secret that was stored.
	setSealed(b.ID, origA)
	g, _ := getCredential(t, srv, b.ID)
	if g.SecretRevision != 2 {
		t.Errorf("secret_revision %d", g.SecretRevision)
	}
	r = call(t, srv, http.MethodPut, "/v1/credentials/"+b.ID, editor, credBody("cred-b", api.CredBearer, rotatedB))
	wantStatus(t, r, http.StatusOK)
	wantRaw(t, rawObject(t, r.Body), "secret_revision", `3`)
	wantOpens(b.ID, rotatedB)
	evs := auditFor(t, srv, b.ID)
	if last := evs[len(evs)-1]; len(last.ChangedFields) != 1 || last.ChangedFields[0] != "secret" {
		t.Errorf("repair event %+v", last)
	}
}

// Rotating the key-encryption key, as `aiod keys rotate` does it (re-wrap
// every row, write the new key file), keeps every secret readable by the
// running server and shows no drift: no revision, secret revision or
// timestamp changes, and no audit event.
func TestKeyRotationShowsNoDrift(t *testing.T) {
	ctx := context.Background()
	keyFile := filepath.Join(t.TempDir(), "keys")
	k1, k2 := secret.NewKey(), secret.NewKey()
	if err := secret.WriteKeyFile(keyFile, []secret.Key{k1}); err != nil {
		t.Fatal(err)
	}
	fileKR, err := secret.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := acctest.NewServer(t, acctest.Options{Keyring: fileKR})
	editor := srv.Tokens[api.RoleEditor]

	var secrets []string
	for range 5 {
		secrets = append(secrets, newSecret())
	}
	bodies := credentialBodies("rot", "desc", secrets)
	var ids []string
	before := map[string][]byte{}
	for _, body := range bodies {
		c := createCredential(t, srv, editor, body)
		ids = append(ids, c.ID)
		_, g := getCredential(t, srv, c.ID)
		before[c.ID] = g.Body
		if rec, _ := srv.Store.GetCredential(ctx, c.ID); rec.Sealed.KeyID != k1.ID {
			t.Fatalf("sealed under %s, want k1", rec.Sealed.KeyID)
		}
	}
	_, listBefore := listCredentials(t, srv, "")
	nEvents := len(auditEvents(t, srv, nil))

	// Rotate.
	if err := secret.WriteKeyFile(keyFile, []secret.Key{k2, k1}); err != nil {
		t.Fatal(err)
	}
	rotator, err := secret.NewKeyring(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	err = srv.Store.Write(ctx, func(tx store.Tx) error {
		for _, id := range ids {
			rec, err := tx.GetCredential(ctx, id)
			if err != nil {
				return err
			}
			s, err := rotator.Rewrap(rec.Sealed, secret.Binding{ObjectID: id, Revision: rec.SecretRevision})
			if err != nil {
				return err
			}
			if !bytes.Equal(s.Ciphertext, rec.Sealed.Ciphertext) {
				t.Errorf("rewrap changed the ciphertext of %s", id)
			}
			if err := tx.UpdateSealed(ctx, id, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}

	// No drift.
	for _, id := range ids {
		rec, err := srv.Store.GetCredential(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Sealed.KeyID != k2.ID {
			t.Errorf("%s sealed under %s after rotation, want k2", id, rec.Sealed.KeyID)
		}
		if _, g := getCredential(t, srv, id); !bytes.Equal(g.Body, before[id]) {
			t.Errorf("%s changed by rotation:\n%s\n%s", id, before[id], g.Body)
		}
	}
	if _, l := listCredentials(t, srv, ""); !bytes.Equal(l.Body, listBefore.Body) {
		t.Errorf("the listing changed by rotation:\n%s\n%s", listBefore.Body, l.Body)
	}
	if n := len(auditEvents(t, srv, nil)); n != nEvents {
		t.Errorf("%d audit events after rotation, want %d", n, nEvents)
	}

	// The running server opens the rewrapped rows (re-reading its key
	// file): the same secret sent again is no change...
	for i, id := range ids {
		r := call(t, srv, http.MethodPut, "/v1/credentials/"+id, editor, bodies[i])
		wantStatus(t, r, http.StatusOK)
		if !bytes.Equal(r.Body, before[id]) {
			t.Errorf("re-sending the secret of %s after rotation changed it:\n%s", id, r.Body)
		}
	}
	if n := len(auditEvents(t, srv, nil)); n != nEvents {
		t.Errorf("%d audit events after re-sending the secrets, want %d", n, nEvents)
	}
	// ...a new secret is sealed under the new key, and the old key is no
	// longer needed.
	fresh := newSecret()
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/credentials/"+ids[0], editor, with(bodies[0], "secret", fresh)), http.StatusOK)
	onlyNew, err := secret.NewKeyring(k2)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		rec, err := srv.Store.GetCredential(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Sealed.KeyID != k2.ID {
			t.Errorf("%s sealed under %s, want k2", id, rec.Sealed.KeyID)
		}
		want := secrets[i]
		if i == 0 {
			want = fresh
		}
		p, err := onlyNew.Open(rec.Sealed, secret.Binding{ObjectID: id, Revision: rec.SecretRevision})
		if err != nil || string(p) != want {
			t.Errorf("open %s with only the new key: %q, %v", id, p, err)
		}
	}
}

// The stored idempotency fingerprint of a credential request cannot test a
// guess of the secret with what the database file holds: its key is in
// the file, but the secret enters it only as a MAC under the encryption
// key, which is not.
func TestFingerprintCannotConfirmASecret(t *testing.T) {
	srv := acctest.NewServer(t)
	secret := newSecret()
	raw := fmt.Sprintf(`{"name":"fp","type":"bearer","allowed_hosts":["api.example.com"],"secret":%q}`, secret)
	r := call(t, srv, http.MethodPost, "/v1/credentials", srv.Tokens[api.RoleEditor], raw, api.HeaderIdempotency, "fp-key")
	wantStatus(t, r, http.StatusCreated)

	db := rawDB(t, srv.DBPath)
	var fpKey []byte
	if err := db.QueryRow(`SELECT value FROM settings WHERE key = 'idempotency_fingerprint_key'`).Scan(&fpKey); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := db.QueryRow(`SELECT fingerprint FROM idempotency_keys WHERE key = 'fp-key'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	// An attacker with the file tries the right guess in every form the
	// body could have been hashed in.
	var guesses []string
	for _, body := range []string{raw, raw + "\n"} {
		m := hmac.New(sha256.New, fpKey)
		m.Write([]byte(body))
		guesses = append(guesses, hex.EncodeToString(m.Sum(nil)))
	}
	for _, g := range guesses {
		if g == stored {
			t.Fatal("the stored fingerprint confirms the secret with the database file alone")
		}
	}
	// The same request still replays, and another secret is still refused.
	r = call(t, srv, http.MethodPost, "/v1/credentials", srv.Tokens[api.RoleEditor], raw, api.HeaderIdempotency, "fp-key")
	wantHeader(t, r, api.HeaderReplayed, "true")
	other := fmt.Sprintf(`{"name":"fp","type":"bearer","allowed_hosts":["api.example.com"],"secret":%q}`, newSecret())
	wantProblem(t, call(t, srv, http.MethodPost, "/v1/credentials", srv.Tokens[api.RoleEditor], other, api.HeaderIdempotency, "fp-key"), http.StatusUnprocessableEntity)
}
