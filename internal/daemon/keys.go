package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// EnvEncryptionKey holds the encryption keys (base64, comma-separated,
// primary first) when no key file is given.
const EnvEncryptionKey = "AIOD_ENCRYPTION_KEY"

// LoadKeyring reads the keyring from a key file, or else from the keys in
// envValue; it returns nil (and no error) when neither is given.
func LoadKeyring(keyFile, envValue string) (*secret.Keyring, error) {
	if keyFile != "" {
		return secret.LoadKeyFile(keyFile)
	}
	if envValue == "" {
		return nil, nil
	}
	keys, err := secret.ParseKeys(envValue)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvEncryptionKey, err)
	}
	return secret.NewKeyring(keys...)
}

// EnsureKeyFile makes a key file with one new key at path unless it
// exists, for aiod dev.
func EnsureKeyFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return secret.WriteKeyFile(path, []secret.Key{secret.NewKey()})
}

// eachCredential calls fn for every stored credential, page by page.
func eachCredential(ctx context.Context, r store.Reader, fn func(store.CredentialRecord) error) error {
	after := ""
	for {
		page, next, err := r.ListCredentials(ctx, store.ListQuery{Limit: store.MaxLimit, After: after})
		if err != nil {
			return err
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		after = next
	}
}

// CheckKeys refuses a start that could not read the stored secrets: sealed
// secrets exist but no key is given, or one is sealed under a key the
// keyring lacks.
func CheckKeys(ctx context.Context, st store.Store, kr *secret.Keyring) error {
	n, err := st.CountCredentials(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	if kr == nil {
		return fmt.Errorf("the database holds %d encrypted secrets but no encryption key is given: set --key-file or %s", n, EnvEncryptionKey)
	}
	known := map[string]bool{}
	for _, k := range kr.Keys() {
		known[k.ID] = true
	}
	return eachCredential(ctx, st, func(c store.CredentialRecord) error {
		if !known[c.Sealed.KeyID] {
			return fmt.Errorf("credential %s is sealed under key %s, which the given keys do not include", c.ID, c.Sealed.KeyID)
		}
		return nil
	})
}

// RotateResult reports a key rotation.
type RotateResult struct {
	NewKey    secret.Key
	Rewrapped int
	// Keys is the new keyring, primary first, for the operator to keep.
	Keys []secret.Key
}

// RotateKeys makes a new primary key and re-wraps every secret's data key
// under it, one credential per transaction so that aiod keeps serving. The
// sealed secrets, secret_revision, revision and updated_at do not change,
// so no plan shows drift. With a key file, the file is rewritten (new key
// first, old keys kept) before any row changes, so that a running aiod,
// which re-reads its key file when it meets an unknown key, can always
// open every row.
func RotateKeys(ctx context.Context, st store.Store, clk clock.Clock, old *secret.Keyring, keyFile string) (RotateResult, error) {
	if old == nil {
		return RotateResult{}, fmt.Errorf("no current key: give --key-file or %s", EnvEncryptionKey)
	}
	nk := secret.NewKey()
	keys := append([]secret.Key{nk}, old.Keys()...)
	ring, err := secret.NewKeyring(keys...)
	if err != nil {
		return RotateResult{}, err
	}
	if keyFile != "" {
		if err := secret.WriteKeyFile(keyFile, keys); err != nil {
			return RotateResult{}, fmt.Errorf("write key file: %w", err)
		}
	}
	res := RotateResult{NewKey: nk, Keys: keys}
	err = eachCredential(ctx, st, func(c store.CredentialRecord) error {
		return st.Write(ctx, func(tx store.Tx) error {
			cur, err := tx.GetCredential(ctx, c.ID)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			} else if err != nil {
				return err
			}
			if cur.Sealed.KeyID == nk.ID {
				return nil
			}
			sealed, err := ring.Rewrap(cur.Sealed, secret.Binding{ObjectID: cur.ID, Revision: cur.SecretRevision})
			if err != nil {
				return fmt.Errorf("credential %s: %w", cur.ID, err)
			}
			res.Rewrapped++
			return tx.UpdateSealed(ctx, cur.ID, sealed)
		})
	})
	if err != nil {
		return res, err
	}
	err = st.Write(ctx, func(tx store.Tx) error {
		return tx.InsertAuditEvent(ctx, auth.Event(clk.Now(), auth.CLIActor, "rotate_key", "encryption_key", nk.ID, 0, []string{"secret_key_id"}))
	})
	return res, err
}

// Backup writes a consistent copy of the database at dbPath to out.
func Backup(ctx context.Context, dbPath, out string) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists; choose a new file", out)
	}
	st, err := OpenStore(ctx, dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Backup(ctx, out)
}
