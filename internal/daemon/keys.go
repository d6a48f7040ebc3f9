package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
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

// sealedSecret is one stored secret: the object it belongs to, sealed and
// bound to that object's ID and secret revision.
type sealedSecret struct {
	kind, id string
	sealed   secret.Sealed
	revision int64
}

// sealedKinds are the kinds that keep sealed secrets: how to read one
// object's secret and how to replace it. Credentials and notification
// channels seal theirs under the same keyring, so that key checks and
// rotations cover both.
var sealedKinds = []struct {
	kind string
	all  func(ctx context.Context, r store.Reader) ([]sealedSecret, error)
	get  func(ctx context.Context, r store.Reader, id string) (sealedSecret, error)
	put  func(tx store.Tx, ctx context.Context, id string, s secret.Sealed) error
}{
	{
		kind: api.KindCredential,
		all: func(ctx context.Context, r store.Reader) ([]sealedSecret, error) {
			all, err := store.ListAll(ctx, r.ListCredentials)
			out := make([]sealedSecret, 0, len(all))
			for _, c := range all {
				out = append(out, sealedSecret{api.KindCredential, c.ID, c.Sealed, c.SecretRevision})
			}
			return out, err
		},
		get: func(ctx context.Context, r store.Reader, id string) (sealedSecret, error) {
			c, err := r.GetCredential(ctx, id)
			return sealedSecret{api.KindCredential, c.ID, c.Sealed, c.SecretRevision}, err
		},
		put: store.Tx.UpdateSealed,
	},
	{
		kind: api.KindChannel,
		all: func(ctx context.Context, r store.Reader) ([]sealedSecret, error) {
			all, err := store.ListAll(ctx, r.ListChannels)
			out := make([]sealedSecret, 0, len(all))
			for _, c := range all {
				// An email channel has no secret.
				if c.Sealed.KeyID != "" {
					out = append(out, sealedSecret{api.KindChannel, c.ID, c.Sealed, c.SecretRevision})
				}
			}
			return out, err
		},
		get: func(ctx context.Context, r store.Reader, id string) (sealedSecret, error) {
			c, err := r.GetChannel(ctx, id)
			return sealedSecret{api.KindChannel, c.ID, c.Sealed, c.SecretRevision}, err
		},
		put: store.Tx.UpdateChannelSealed,
	},
	{
		// The key of the audit trail's pseudonyms (package retention),
		// sealed in aiod's settings: a rotation that left it under a
		// dropped key would change every pseudonym made from then on.
		kind: "setting",
		all: func(ctx context.Context, r store.Reader) ([]sealedSecret, error) {
			s, err := pseudonymKey(ctx, r, retention.PseudonymSetting)
			if errors.Is(err, store.ErrNotFound) || err == nil && s.sealed.KeyID == "" {
				return nil, nil
			}
			return []sealedSecret{s}, err
		},
		get: pseudonymKey,
		put: func(tx store.Tx, ctx context.Context, id string, s secret.Sealed) error {
			raw, err := retention.StoredPseudonymKey(s)
			if err != nil {
				return err
			}
			return tx.PutSetting(ctx, id, raw)
		},
	},
}

// pseudonymKey reads the sealed pseudonym key as a stored secret; its
// KeyID is empty when it is not sealed (an aiod without keys made it).
func pseudonymKey(ctx context.Context, r store.Reader, id string) (sealedSecret, error) {
	raw, err := r.GetSetting(ctx, id)
	if err != nil {
		return sealedSecret{}, err
	}
	s, err := retention.SealedPseudonymKey(raw)
	if err != nil || s == nil {
		return sealedSecret{kind: "setting", id: id}, err
	}
	b := retention.PseudonymBinding()
	return sealedSecret{kind: "setting", id: b.ObjectID, sealed: *s, revision: b.Revision}, nil
}

// eachSealed calls fn for every stored secret of every kind.
func eachSealed(ctx context.Context, r store.Reader, fn func(sealedSecret) error) error {
	for _, k := range sealedKinds {
		all, err := k.all(ctx, r)
		if err != nil {
			return err
		}
		for _, s := range all {
			if err := fn(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckKeys refuses a start that could not read the stored secrets: sealed
// secrets exist but no key is given, or one is sealed under a key the
// keyring lacks.
func CheckKeys(ctx context.Context, st store.Store, kr *secret.Keyring) error {
	var n int
	if err := eachSealed(ctx, st, func(sealedSecret) error { n++; return nil }); err != nil {
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
	return eachSealed(ctx, st, func(c sealedSecret) error {
		if !known[c.sealed.KeyID] {
			return fmt.Errorf("%s %s is sealed under key %s, which the given keys do not include", c.kind, c.id, c.sealed.KeyID)
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
// secret per transaction so that aiod keeps serving. The sealed
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
	// A secret written by a running aiod during the pass may still
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
	for _, k := range sealedKinds {
		all, err := k.all(ctx, st)
		if err != nil {
			return n, err
		}
		for _, c := range all {
			if c.sealed.KeyID == primary {
				continue
			}
			err := st.Write(ctx, func(tx store.Tx) error {
				cur, err := k.get(ctx, tx, c.id)
				if errors.Is(err, store.ErrNotFound) {
					return nil
				} else if err != nil {
					return err
				}
				if cur.sealed.KeyID == primary || cur.sealed.KeyID == "" {
					return nil
				}
				sealed, err := ring.Rewrap(cur.sealed, secret.Binding{ObjectID: cur.id, Revision: cur.revision})
				if err != nil {
					return fmt.Errorf("%s %s: %w", k.kind, cur.id, err)
				}
				n++
				return k.put(tx, ctx, cur.id, sealed)
			})
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// Backup writes a consistent copy of the database at dbPath to out.
func Backup(ctx context.Context, dbPath, out string) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists; choose a new file", out)
	}
	return store.BackupSQLite(ctx, dbPath, out)
}
