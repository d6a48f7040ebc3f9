package secret

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzKeyFile feeds fuzzed text to the key file parser, both as the
// environment variable (ParseKeys) and as a real key file (LoadKeyFile),
// and checks: no panic; both agree; an accepted file yields keys of
// KeySize bytes that read back from their own text, primary first; and no
// error ever quotes key material (a long base64 field, which a key
// file's keys are), since errors reach logs and terminals.
func FuzzKeyFile(f *testing.F) {
	k1, k2 := NewKey().String(), NewKey().String()
	f.Add(k1 + "\n")
	f.Add("# aiod encryption keys, primary first\n" + k1 + "\n" + k2 + "\n")
	f.Add(k1 + "," + k2)
	f.Add(" " + strings.TrimRight(k1, "=") + " ,\n\n# old, kept to open\n" + base64.URLEncoding.EncodeToString(make([]byte, KeySize)))
	f.Add(k1 + "\nnot-base64!\n")
	f.Add(base64.StdEncoding.EncodeToString(make([]byte, KeySize-1)) + "\n" + k1)
	f.Add("")
	f.Add("#only a comment")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 4096 {
			t.Skip() // a key file is a few lines; long ones only slow the fuzzer
		}
		keys, err := ParseKeys(text)
		path := filepath.Join(dir, "keys")
		if werr := os.WriteFile(path, []byte(text), 0o600); werr != nil {
			t.Fatal(werr)
		}
		ring, ferr := LoadKeyFile(path)
		if (err == nil) != (ferr == nil) {
			t.Fatalf("ParseKeys and LoadKeyFile disagree: %v / %v", err, ferr)
		}
		if err != nil {
			// The key file's path is in its errors, and fixed words of
			// the messages are base64 too: a quote is a field of at least
			// 20 base64 characters (15 bytes of a key) outside the path.
			for _, msg := range []string{err.Error(), strings.ReplaceAll(ferr.Error(), path, "")} {
				for _, field := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t' }) {
					if len(field) >= 20 && isBase64(field) && strings.Contains(msg, field) {
						t.Fatalf("the error %q quotes key material %q", msg, field)
					}
				}
			}
			return
		}
		if len(keys) == 0 || len(ring.Keys()) != len(keys) || ring.Primary().ID != keys[0].ID {
			t.Fatalf("%d keys parsed, key file ring has %d, primary %s vs %s", len(keys), len(ring.Keys()), ring.Primary().ID, keys[0].ID)
		}
		var texts []string
		for _, k := range keys {
			if len(k.raw) != KeySize || k.ID != KeyID(k.raw) {
				t.Fatalf("a key of %d bytes with ID %q", len(k.raw), k.ID)
			}
			texts = append(texts, k.String())
		}
		again, err := ParseKeys(strings.Join(texts, "\n"))
		if err != nil || len(again) != len(keys) {
			t.Fatalf("the keys do not read back from their own text: %v", err)
		}
		for i := range keys {
			if again[i].ID != keys[i].ID {
				t.Fatalf("key %d reads back as %s, want %s", i, again[i].ID, keys[i].ID)
			}
		}
	})
}

func isBase64(s string) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if _, err := enc.DecodeString(s); err == nil {
			return true
		}
	}
	return false
}
