package secret_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/secret"
)

func keyring(t *testing.T, keys ...secret.Key) *secret.Keyring {
	t.Helper()
	kr, err := secret.NewKeyring(keys...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return kr
}

func seal(t *testing.T, kr *secret.Keyring, plaintext string, b secret.Binding) secret.Sealed {
	t.Helper()
	s, err := kr.Seal([]byte(plaintext), b)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return s
}

func wantOpen(t *testing.T, kr *secret.Keyring, s secret.Sealed, b secret.Binding, want string) {
	t.Helper()
	got, err := kr.Open(s, b)
	if err != nil {
		t.Fatalf("Open(%+v): %v", b, err)
	}
	if string(got) != want {
		t.Fatalf("Open = %q, want %q", got, want)
	}
}

func wantOpenErr(t *testing.T, kr *secret.Keyring, s secret.Sealed, b secret.Binding, target error) {
	t.Helper()
	got, err := kr.Open(s, b)
	if !errors.Is(err, target) {
		t.Fatalf("Open(%+v) = %q, %v; want %v", b, got, err, target)
	}
	if got != nil {
		t.Errorf("Open returned %q along with its error", got)
	}
}

func clone(s secret.Sealed) secret.Sealed {
	return secret.Sealed{KeyID: s.KeyID, WrappedKey: bytes.Clone(s.WrappedKey), Ciphertext: bytes.Clone(s.Ciphertext)}
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := secret.NewKey()
	kr := keyring(t, k)
	b := secret.Binding{ObjectID: "cred_01", Revision: 1}
	for _, plain := range []string{"x", "hunter2", strings.Repeat("long secret ", 700), "ünïcödé \x00 bytes"} {
		s := seal(t, kr, plain, b)
		if s.KeyID != k.ID {
			t.Errorf("KeyID = %q, want the primary's %q", s.KeyID, k.ID)
		}
		if len(plain) >= 6 && (bytes.Contains(s.Ciphertext, []byte(plain)) || bytes.Contains(s.WrappedKey, []byte(plain))) {
			t.Errorf("the sealed form of %q holds the plaintext", plain)
		}
		wantOpen(t, kr, s, b, plain)
	}
	// Two seals of the same plaintext differ (random data key and nonce).
	a, c := seal(t, kr, "same", b), seal(t, kr, "same", b)
	if bytes.Equal(a.Ciphertext, c.Ciphertext) || bytes.Equal(a.WrappedKey, c.WrappedKey) {
		t.Error("two seals of the same secret are identical: nonce or data key reused")
	}
}

func TestOpenRefusesAnotherBinding(t *testing.T) {
	kr := keyring(t, secret.NewKey())
	b := secret.Binding{ObjectID: "cred_01", Revision: 2}
	s := seal(t, kr, "hunter2", b)
	for _, other := range []secret.Binding{
		{ObjectID: "cred_02", Revision: 2},
		{ObjectID: "cred_01", Revision: 1},
		{ObjectID: "cred_01", Revision: 3},
		{ObjectID: "cred_0", Revision: 12}, // the same bytes joined differently
		{ObjectID: "", Revision: 2},
	} {
		wantOpenErr(t, kr, s, other, secret.ErrTampered)
	}
	wantOpen(t, kr, s, b, "hunter2")
}

func TestOpenRefusesTampering(t *testing.T) {
	kr := keyring(t, secret.NewKey())
	b := secret.Binding{ObjectID: "cred_01", Revision: 1}
	s := seal(t, kr, "hunter2", b)
	for i := range s.Ciphertext {
		x := clone(s)
		x.Ciphertext[i] ^= 0x01
		wantOpenErr(t, kr, x, b, secret.ErrTampered)
	}
	for i := range s.WrappedKey {
		x := clone(s)
		x.WrappedKey[i] ^= 0x80
		wantOpenErr(t, kr, x, b, secret.ErrTampered)
	}
	// Truncated, empty and extended forms.
	for _, mut := range []func(*secret.Sealed){
		func(x *secret.Sealed) { x.Ciphertext = x.Ciphertext[:len(x.Ciphertext)-1] },
		func(x *secret.Sealed) { x.Ciphertext = x.Ciphertext[:5] },
		func(x *secret.Sealed) { x.Ciphertext = nil },
		func(x *secret.Sealed) { x.WrappedKey = x.WrappedKey[:3] },
		func(x *secret.Sealed) { x.WrappedKey = nil },
		func(x *secret.Sealed) { x.Ciphertext = append(x.Ciphertext, 0) },
	} {
		x := clone(s)
		mut(&x)
		wantOpenErr(t, kr, x, b, secret.ErrTampered)
	}
	// Swapping the parts of two sealed secrets of the same binding.
	o := seal(t, kr, "other", b)
	wantOpenErr(t, kr, secret.Sealed{KeyID: s.KeyID, WrappedKey: s.WrappedKey, Ciphertext: o.Ciphertext}, b, secret.ErrTampered)
	wantOpen(t, kr, s, b, "hunter2")
}

func TestOpenWithAnotherKey(t *testing.T) {
	k1, k2 := secret.NewKey(), secret.NewKey()
	s := seal(t, keyring(t, k1), "hunter2", secret.Binding{ObjectID: "cred_01", Revision: 1})
	b := secret.Binding{ObjectID: "cred_01", Revision: 1}
	// A keyring without the key does not know it.
	wantOpenErr(t, keyring(t, k2), s, b, secret.ErrUnknownKey)
	// A wrong key under the right ID does not authenticate.
	forged := clone(s)
	forged.KeyID = k2.ID
	wantOpenErr(t, keyring(t, k2), forged, b, secret.ErrTampered)
	// The old key as a secondary still opens.
	wantOpen(t, keyring(t, k2, k1), s, b, "hunter2")
}

func TestKeyRotationRewrap(t *testing.T) {
	oldKey, newKey := secret.NewKey(), secret.NewKey()
	kr1 := keyring(t, oldKey)
	b := secret.Binding{ObjectID: "cred_01", Revision: 7}
	s := seal(t, kr1, "hunter2", b)

	kr2 := keyring(t, newKey, oldKey)
	if got := kr2.Primary().ID; got != newKey.ID {
		t.Fatalf("Primary = %s, want the first key %s", got, newKey.ID)
	}
	if ids := kr2.Keys(); len(ids) != 2 || ids[0].ID != newKey.ID || ids[1].ID != oldKey.ID {
		t.Fatalf("Keys = %v, want [new old]", ids)
	}
	r, err := kr2.Rewrap(s, b)
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	if r.KeyID != newKey.ID {
		t.Errorf("rewrapped KeyID = %s, want the new key %s", r.KeyID, newKey.ID)
	}
	if !bytes.Equal(r.Ciphertext, s.Ciphertext) {
		t.Error("Rewrap changed the ciphertext; it must re-wrap the data key only")
	}
	if bytes.Equal(r.WrappedKey, s.WrappedKey) {
		t.Error("Rewrap left the wrapped key as it was")
	}
	wantOpen(t, kr2, r, b, "hunter2")
	// Once every row is rewrapped, the old key can go.
	wantOpen(t, keyring(t, newKey), r, b, "hunter2")
	wantOpenErr(t, keyring(t, oldKey), r, b, secret.ErrUnknownKey)
	// The original still opens under the old key.
	wantOpen(t, kr1, s, b, "hunter2")

	// Rewrap checks the binding and the secret, so rotation never carries a
	// moved or tampered row forward.
	if _, err := kr2.Rewrap(s, secret.Binding{ObjectID: "cred_02", Revision: 7}); !errors.Is(err, secret.ErrTampered) {
		t.Errorf("Rewrap under another binding: %v, want ErrTampered", err)
	}
	bad := clone(s)
	bad.Ciphertext[len(bad.Ciphertext)-1] ^= 1
	if _, err := kr2.Rewrap(bad, b); !errors.Is(err, secret.ErrTampered) {
		t.Errorf("Rewrap of a tampered ciphertext: %v, want ErrTampered", err)
	}
	if _, err := keyring(t, newKey).Rewrap(s, b); !errors.Is(err, secret.ErrUnknownKey) {
		t.Errorf("Rewrap without the old key: %v, want ErrUnknownKey", err)
	}
}

func TestNewKeyringNeedsAKey(t *testing.T) {
	if _, err := secret.NewKeyring(); !errors.Is(err, secret.ErrNoKey) {
		t.Errorf("NewKeyring() = %v, want ErrNoKey", err)
	}
}

func TestKeyID(t *testing.T) {
	k := secret.NewKey()
	p, err := secret.ParseKey(k.String())
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != k.ID {
		t.Errorf("the same key parsed back has ID %s, want %s", p.ID, k.ID)
	}
	if o := secret.NewKey(); o.ID == k.ID {
		t.Error("two random keys have the same ID")
	}
	if !strings.HasPrefix(k.ID, "k") || len(k.ID) != 13 {
		t.Errorf("key ID %q is not k + 12 hex digits", k.ID)
	}
	raw, _ := base64.StdEncoding.DecodeString(k.String())
	if strings.Contains(k.ID, base64.RawStdEncoding.EncodeToString(raw)[:8]) {
		t.Error("the key ID shows the key")
	}
}

func TestParseKey(t *testing.T) {
	raw := make([]byte, secret.KeySize)
	for i := range raw {
		raw[i] = byte(0xf8 + i) // gives '+', '/', '-' and '_' in the encodings
	}
	want := secret.KeyID(raw)
	for name, s := range map[string]string{
		"std":          base64.StdEncoding.EncodeToString(raw),
		"raw std":      base64.RawStdEncoding.EncodeToString(raw),
		"url":          base64.URLEncoding.EncodeToString(raw),
		"raw url":      base64.RawURLEncoding.EncodeToString(raw),
		"spaces":       "  " + base64.StdEncoding.EncodeToString(raw) + "\n",
		"openssl-like": base64.StdEncoding.EncodeToString(raw) + "\r\n",
	} {
		k, err := secret.ParseKey(s)
		if err != nil {
			t.Errorf("%s: ParseKey(%q): %v", name, s, err)
			continue
		}
		if k.ID != want {
			t.Errorf("%s: ID = %s, want %s", name, k.ID, want)
		}
		if k.String() != base64.StdEncoding.EncodeToString(raw) {
			t.Errorf("%s: String = %s", name, k.String())
		}
	}
	for name, s := range map[string]string{
		"empty":     "",
		"16 bytes":  base64.StdEncoding.EncodeToString(raw[:16]),
		"31 bytes":  base64.StdEncoding.EncodeToString(raw[:31]),
		"33 bytes":  base64.StdEncoding.EncodeToString(append(raw, 1)),
		"64 bytes":  base64.StdEncoding.EncodeToString(append(raw, raw...)),
		"not b64":   "this is not base64 at all!!",
		"hex":       strings.Repeat("ab", 32),
		"two keys":  base64.StdEncoding.EncodeToString(raw) + " " + base64.StdEncoding.EncodeToString(raw),
		"inner gap": base64.StdEncoding.EncodeToString(raw)[:20] + " " + base64.StdEncoding.EncodeToString(raw)[20:],
	} {
		if k, err := secret.ParseKey(s); err == nil {
			t.Errorf("%s: ParseKey(%q) = %s, want an error", name, s, k.ID)
		}
	}
}

func TestParseKeys(t *testing.T) {
	k1, k2, k3 := secret.NewKey(), secret.NewKey(), secret.NewKey()
	ids := func(keys []secret.Key) []string {
		var out []string
		for _, k := range keys {
			out = append(out, k.ID)
		}
		return out
	}
	want := []string{k1.ID, k2.ID, k3.ID}
	for name, s := range map[string]string{
		"commas":          k1.String() + "," + k2.String() + "," + k3.String(),
		"commas, spaces":  k1.String() + " , " + k2.String() + ",\t" + k3.String() + ",",
		"lines":           k1.String() + "\n" + k2.String() + "\n" + k3.String() + "\n",
		"crlf":            k1.String() + "\r\n" + k2.String() + "\r\n" + k3.String() + "\r\n",
		"comments, blank": "# primary first\n\n" + k1.String() + "\n   # older\n" + k2.String() + "\n\n" + k3.String(),
		"comment, commas": "# keys, primary first, then older ones\n" + k1.String() + "\n" + k2.String() + "," + k3.String(),
	} {
		keys, err := secret.ParseKeys(s)
		if err != nil {
			t.Errorf("%s: ParseKeys: %v", name, err)
			continue
		}
		if got := ids(keys); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: keys = %v, want %v (primary first)", name, got, want)
		}
	}
	for name, s := range map[string]string{
		"empty":         "",
		"only comments": "# nothing here\n\n# still nothing\n",
		"only commas":   ",,,",
	} {
		if _, err := secret.ParseKeys(s); !errors.Is(err, secret.ErrNoKey) {
			t.Errorf("%s: ParseKeys = %v, want ErrNoKey", name, err)
		}
	}
	if _, err := secret.ParseKeys(k1.String() + ",bad-key"); err == nil || errors.Is(err, secret.ErrNoKey) {
		t.Errorf("a bad key in the list: %v, want a parse error", err)
	}
	if _, err := secret.ParseKeys(k1.String() + "\n" + base64.StdEncoding.EncodeToString(make([]byte, 16))); err == nil {
		t.Error("a short key in the list was accepted")
	}
}

func TestWriteAndLoadKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	k1, k2 := secret.NewKey(), secret.NewKey()
	if err := secret.WriteKeyFile(path, []secret.Key{k1, k2}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %o, want 600", perm)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
	// What WriteKeyFile writes, LoadKeyFile reads (comment included).
	kr, err := secret.LoadKeyFile(path)
	if err != nil {
		t.Fatalf("LoadKeyFile of a file WriteKeyFile wrote: %v", err)
	}
	if keys := kr.Keys(); len(keys) != 2 || keys[0].ID != k1.ID || keys[1].ID != k2.ID {
		t.Errorf("loaded keys %v, want [k1 k2]", keys)
	}
	if _, err := secret.LoadKeyFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("LoadKeyFile of a missing file succeeded")
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("# no keys yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := secret.LoadKeyFile(empty); !errors.Is(err, secret.ErrNoKey) {
		t.Errorf("LoadKeyFile of a file without keys: %v, want ErrNoKey", err)
	}
}

// A keyring loaded from a key file re-reads it when it meets a key it does
// not know, so that `aiod keys rotate` needs no restart.
func TestKeyFileReloadOnUnknownKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	k1, k2 := secret.NewKey(), secret.NewKey()
	if err := secret.WriteKeyFile(path, []secret.Key{k1}); err != nil {
		t.Fatal(err)
	}
	fileKR, err := secret.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b := secret.Binding{ObjectID: "cred_01", Revision: 1}
	old := seal(t, fileKR, "sealed-before-rotation", b)
	if old.KeyID != k1.ID {
		t.Fatalf("sealed under %s, want k1 %s", old.KeyID, k1.ID)
	}

	// Another process (aiod keys rotate) writes k2,k1 and seals under k2.
	if err := secret.WriteKeyFile(path, []secret.Key{k2, k1}); err != nil {
		t.Fatal(err)
	}
	rotated := seal(t, keyring(t, k2, k1), "sealed-after-rotation", b)
	if rotated.KeyID != k2.ID {
		t.Fatalf("sealed under %s, want k2 %s", rotated.KeyID, k2.ID)
	}
	// The file-backed keyring notices the rewritten file (see
	// TestKeyFileRotationChangesThePrimaryForSealing) and opens rows
	// sealed under the new key.
	wantOpen(t, fileKR, rotated, b, "sealed-after-rotation")
	if got := fileKR.Primary().ID; got != k2.ID {
		t.Errorf("primary after reload = %s, want k2", got)
	}
	wantOpen(t, fileKR, old, b, "sealed-before-rotation")
	if s := seal(t, fileKR, "new", b); s.KeyID != k2.ID {
		t.Errorf("after reload, seals under %s, want k2", s.KeyID)
	}

	// A key in neither the keyring nor the file stays unknown, and a
	// keyring not backed by a file never reloads.
	k3 := secret.NewKey()
	third := seal(t, keyring(t, k3), "x", b)
	wantOpenErr(t, fileKR, third, b, secret.ErrUnknownKey)
	wantOpenErr(t, keyring(t, k1), rotated, b, secret.ErrUnknownKey)

	// A key file that turns bad keeps the keys already loaded.
	if err := os.WriteFile(path, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantOpenErr(t, fileKR, third, b, secret.ErrUnknownKey)
	wantOpen(t, fileKR, rotated, b, "sealed-after-rotation")
	wantOpen(t, fileKR, old, b, "sealed-before-rotation")
}

// The keyring is shared by every request: concurrent seals, opens and
// reloads must be race-free (run with -race).
func TestKeyringConcurrentUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	k1, k2 := secret.NewKey(), secret.NewKey()
	if err := secret.WriteKeyFile(path, []secret.Key{k2, k1}); err != nil {
		t.Fatal(err)
	}
	if err := secret.WriteKeyFile(path+".k1", []secret.Key{k1}); err != nil {
		t.Fatal(err)
	}
	fileKR, err := secret.LoadKeyFile(path + ".k1")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".k1"); err != nil {
		t.Fatal(err)
	}
	b := secret.Binding{ObjectID: "cred_01", Revision: 1}
	rotated := seal(t, keyring(t, k2), "p", b)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 16 {
		wg.Go(func() {
			for range 20 {
				if _, err := fileKR.Open(rotated, b); err != nil {
					errs <- err
					return
				}
				s, err := fileKR.Seal([]byte("q"), b)
				if err == nil {
					_, err = fileKR.Open(s, b)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A running aiod whose key file was rotated by another process seals new
// secrets under the new primary at once, not only after it met the new key.
func TestKeyFileRotationChangesThePrimaryForSealing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aio.key")
	k1 := secret.NewKey()
	if err := secret.WriteKeyFile(path, []secret.Key{k1}); err != nil {
		t.Fatal(err)
	}
	kr, err := secret.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b := secret.Binding{ObjectID: "cred_x", Revision: 1}
	s1, err := kr.Seal([]byte("a"), b)
	if err != nil || s1.KeyID != k1.ID {
		t.Fatalf("before rotation: %v %v", s1.KeyID, err)
	}
	k2 := secret.NewKey()
	// Make sure the file's stamp changes even on coarse-grained clocks.
	time.Sleep(10 * time.Millisecond)
	if err := secret.WriteKeyFile(path, []secret.Key{k2, k1}); err != nil {
		t.Fatal(err)
	}
	s2, err := kr.Seal([]byte("b"), b)
	if err != nil || s2.KeyID != k2.ID {
		t.Fatalf("after rotation the primary is %s, want the new key %s (%v)", s2.KeyID, k2.ID, err)
	}
	if got, err := kr.Open(s1, b); err != nil || string(got) != "a" {
		t.Fatalf("the old key still opens: %q %v", got, err)
	}
}

// TestWriteKeyFileIgnoresLeftovers checks that a file or symbolic link left
// where a temporary file might go lends the key file neither its
// permissions nor its destination.
func TestWriteKeyFileIgnoresLeftovers(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions on Windows")
	}
	check := func(t *testing.T, path string) {
		t.Helper()
		if err := secret.WriteKeyFile(path, []secret.Key{secret.NewKey()}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("key file is %v, want a regular file with mode 0600", fi.Mode())
		}
		if _, err := secret.LoadKeyFile(path); err != nil {
			t.Errorf("LoadKeyFile of what WriteKeyFile wrote: %v", err)
		}
	}
	t.Run("stale file", func(t *testing.T) {
		// A crash left a temporary file, world readable (as a restore
		// or a careless copy may make it).
		path := filepath.Join(t.TempDir(), "keys")
		if err := os.WriteFile(path+".tmp", []byte("stale"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path+".tmp", 0o644); err != nil {
			t.Fatal(err)
		}
		check(t, path)
	})
	t.Run("symbolic link", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys")
		elsewhere := filepath.Join(t.TempDir(), "elsewhere")
		if err := os.Symlink(elsewhere, path+".tmp"); err != nil {
			t.Fatal(err)
		}
		check(t, path)
		if _, err := os.Stat(elsewhere); !os.IsNotExist(err) {
			t.Errorf("the keys were written through a link: %v", err)
		}
	})
}

// TestLoadKeyFileRefusesOpenPermissions checks that, as ssh does with a
// private key, a key file that group or others may read or write is
// refused with an error that names the file and the fix.
func TestLoadKeyFileRefusesOpenPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions on Windows")
	}
	path := filepath.Join(t.TempDir(), "keys")
	if err := secret.WriteKeyFile(path, []secret.Key{secret.NewKey()}); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o620, 0o602, 0o644, 0o660, 0o666} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := secret.LoadKeyFile(path)
		if !errors.Is(err, secret.ErrKeyFileMode) {
			t.Errorf("mode %04o: LoadKeyFile = %v, want ErrKeyFileMode", mode, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "chmod 600 "+path) {
			t.Errorf("mode %04o: error %q does not name the file and the fix", mode, msg)
		}
	}
	// Owner-only modes are fine, read-only included.
	for _, mode := range []os.FileMode{0o600, 0o400} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := secret.LoadKeyFile(path); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
}
