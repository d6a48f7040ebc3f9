package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
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

// eachCredential calls fn for every stored credential.
func eachCredential(ctx context.Context, r store.Reader, fn func(store.CredentialRecord) error) error {
	all, err := store.ListAll(ctx, r.ListCredentials)
	if err != nil {
		return err
	}
	for _, c := range all {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
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
	// NewKey is the primary key every secret is now wrapped under.
	NewKey    secret.Key
	Rewrapped int
	// Keys is the keyring, primary first, for the operator to keep.
	Keys []secret.Key
}

// RotateKeys re-wraps every secret's data key under a primary key, one
// credential per transaction so that aiod keeps serving. The sealed
// secrets, secret_revision, revision and updated_at do not change, so no
// plan shows drift.
//
// With a key file it makes a new primary key and rewrites the file (new
// key first, old keys kept) before any row changes. A running aiod
// re-reads its key file when the file changes, so it seals new secrets
// under the new key and opens both old and new rows: no restart, no
// downtime.
//
// Without a key file (AIOD_ENCRYPTION_KEY) a running aiod cannot learn a
// new key, so this makes none: it re-wraps every secret under the first
// key of the variable. The operator first restarts aiod with NEW,OLD
// (it then opens old rows and seals under NEW), then runs this, then may
// drop OLD. This way no running aiod ever meets a key it does not hold.
func RotateKeys(ctx context.Context, st store.Store, clk clock.Clock, current *secret.Keyring, keyFile string) (RotateResult, error) {
	if current == nil {
		return RotateResult{}, fmt.Errorf("no current key: give --key-file or %s", EnvEncryptionKey)
	}
	keys := current.Keys()
	if keyFile != "" {
		keys = append([]secret.Key{secret.NewKey()}, keys...)
		if err := secret.WriteKeyFile(keyFile, keys); err != nil {
			return RotateResult{}, fmt.Errorf("write key file: %w", err)
		}
	}
	ring, err := secret.NewKeyring(keys...)
	if err != nil {
		return RotateResult{}, err
	}
	res := RotateResult{NewKey: keys[0], Keys: keys}
	// A credential written by a running aiod during the pass may still
	// land under an older key if that aiod had not seen the new file yet;
	// a second pass catches it.
	for pass := 0; pass < 3; pass++ {
		n, err := rewrapAll(ctx, st, ring, res.NewKey.ID)
		if err != nil {
			return res, err
		}
		res.Rewrapped += n
		if n == 0 {
			break
		}
	}
	err = st.Write(ctx, func(tx store.Tx) error {
		return tx.InsertAuditEvent(ctx, auth.Event(clk.Now(), auth.CLIActor, "rotate_key", api.KindEncryptionKey, res.NewKey.ID, 0, []string{"secret_key_id"}))
	})
	return res, err
}

// rewrapAll re-wraps every secret not yet under primary; it returns how
// many it re-wrapped.
func rewrapAll(ctx context.Context, st store.Store, ring *secret.Keyring, primary string) (int, error) {
	n := 0
	err := eachCredential(ctx, st, func(c store.CredentialRecord) error {
		if c.Sealed.KeyID == primary {
			return nil
		}
		return st.Write(ctx, func(tx store.Tx) error {
			cur, err := tx.GetCredential(ctx, c.ID)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			} else if err != nil {
				return err
			}
			if cur.Sealed.KeyID == primary {
				return nil
			}
			sealed, err := ring.Rewrap(cur.Sealed, secret.Binding{ObjectID: cur.ID, Revision: cur.SecretRevision})
			if err != nil {
				return fmt.Errorf("credential %s: %w", cur.ID, err)
			}
			n++
			return tx.UpdateSealed(ctx, cur.ID, sealed)
		})
	})
	return n, err
}

// Backup writes a consistent copy of the database at dbPath to out.
func Backup(ctx context.Context, dbPath, out string) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists; choose a new file", out)
	}
	return store.BackupSQLite(ctx, dbPath, out)
}
