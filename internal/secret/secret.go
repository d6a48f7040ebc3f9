// Package secret is the envelope encryption of credential secrets.
//
// Each secret is sealed with its own random data key (AES-256-GCM); the data
// key is wrapped with the key-encryption key (KEK) named by its key ID. Both
// seals bind, as additional data, the credential ID and the secret
// revision, and the wrap also binds the key ID, so a sealed secret cannot be
// moved to another row or an old one put back: opening it under another
// credential ID or revision fails. Rotating the KEK re-wraps the data keys
// only; the sealed secrets, their revisions and the objects' revisions stay
// as they are.
package secret

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// KeySize is the size of every key: AES-256.
const KeySize = 32

// Errors of Open.
var (
	// ErrUnknownKey means the sealed secret names a key the keyring lacks.
	ErrUnknownKey = errors.New("secret: sealed under a key that is not configured")
	// ErrTampered means authentication failed: the sealed data, its
	// binding (credential ID, revision, key ID) or the key is wrong.
	ErrTampered = errors.New("secret: sealed data does not authenticate (tampered, moved or wrong key)")
	// ErrNoKey means no key is configured at all.
	ErrNoKey = errors.New("secret: no encryption key is configured")
)

// Sealed is a secret at rest.
type Sealed struct {
	// KeyID names the KEK that wraps the data key.
	KeyID string
	// WrappedKey is the data key sealed under the KEK (nonce || ciphertext).
	WrappedKey []byte
	// Ciphertext is the secret sealed under the data key (nonce || ciphertext).
	Ciphertext []byte
}

// Binding is what a sealed secret belongs to.
type Binding struct {
	ObjectID string
	Revision int64
}

func (b Binding) aad(keyID string) []byte {
	return []byte(b.ObjectID + "\x00" + strconv.FormatInt(b.Revision, 10) + "\x00" + keyID)
}

// Key is one key-encryption key.
type Key struct {
	ID  string
	raw []byte
}

// KeyID derives a key's ID from the key: a short hash, so that the same key
// always has the same ID and the ID reveals nothing useful.
func KeyID(raw []byte) string {
	sum := sha256.Sum256(append([]byte("aio-kek-id\x00"), raw...))
	return "k" + hex.EncodeToString(sum[:6])
}

// NewKey makes a random key.
func NewKey() Key {
	raw := make([]byte, KeySize)
	_, _ = rand.Read(raw)
	return Key{ID: KeyID(raw), raw: raw}
}

// ParseKey reads a base64 (standard or URL, padded or not) key of KeySize bytes.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil {
			if len(raw) != KeySize {
				return Key{}, fmt.Errorf("secret: a key must be %d bytes, got %d", KeySize, len(raw))
			}
			return Key{ID: KeyID(raw), raw: raw}, nil
		}
	}
	return Key{}, errors.New("secret: a key must be base64, as `openssl rand -base64 32` prints")
}

// String renders a key for a key file or an environment variable.
func (k Key) String() string { return base64.StdEncoding.EncodeToString(k.raw) }

// Keyring holds the primary key, which seals, and older keys, which still
// open. It may be backed by a key file that it re-reads when it meets a key
// it does not know, so that `aiod keys rotate` needs no restart.
type Keyring struct {
	mu   sync.RWMutex
	keys []Key // keys[0] is the primary
	file string
	// stamp is the key file's modification time and size when it was
	// read: a change means `aiod keys rotate` wrote a new primary.
	stamp fileStamp
	// log, when set, hears about every re-read of the key file that
	// changed the keys, so that an operator sees a rotation take effect.
	log *slog.Logger
}

// SetLogger makes the keyring log, at info, every re-read of its key file
// that changed the keys: the file, the primary key's ID and every key's
// ID. Key IDs are short hashes; key material is never logged.
func (r *Keyring) SetLogger(l *slog.Logger) {
	r.mu.Lock()
	r.log = l
	r.mu.Unlock()
}

// reloaded replaces the keys with those just read from the key file and
// logs the change when there is one.
func (r *Keyring) reloaded(keys []Key, st fileStamp) {
	r.mu.Lock()
	before := keyIDs(r.keys)
	r.keys, r.stamp = keys, st
	log := r.log
	r.mu.Unlock()
	after := keyIDs(keys)
	if log != nil && !slices.Equal(before, after) {
		log.Info("re-read the encryption key file", "key_file", r.file, "primary_key_id", after[0],
			"key_ids", strings.Join(after, ","), "previous_key_ids", strings.Join(before, ","))
	}
}

func keyIDs(keys []Key) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size()}
}

// NewKeyring makes a keyring from keys; the first is the primary.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, ErrNoKey
	}
	return &Keyring{keys: keys}, nil
}

// ParseKeys reads comma- or newline-separated keys, primary first, as the
// AIOD_ENCRYPTION_KEY variable and key files hold them. Blank lines and
// lines starting with '#' are skipped.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	// Comments are dropped before splitting at commas: a comment may hold
	// commas (the one WriteKeyFile writes does).
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, field := range strings.Split(line, ",") {
			field = strings.TrimSpace(field)
			if field == "" {
				continue
			}
			k, err := ParseKey(field)
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, ErrNoKey
	}
	return keys, nil
}

// LoadKeyFile reads a keyring from a key file. Like ssh with a private
// key, it refuses a file that its group or others may read or write: the
// keys open every stored secret, and a file others could write could be
// given a key of theirs to seal new secrets under.
func LoadKeyFile(path string) (*Keyring, error) {
	if err := checkKeyFileMode(path); err != nil {
		return nil, err
	}
	st := stampOf(path)
	keys, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	return &Keyring{keys: keys, file: path, stamp: st}, nil
}

// refresh re-reads the key file when it changed since it was read, so that
// a running aiod seals new secrets under the primary key a rotation wrote,
// without a restart. A file that cannot be read keeps the keys in memory.
func (r *Keyring) refresh() {
	if r.file == "" {
		return
	}
	st := stampOf(r.file)
	r.mu.RLock()
	same := st == r.stamp
	r.mu.RUnlock()
	if same {
		return
	}
	keys, err := readKeyFile(r.file)
	if err != nil {
		return
	}
	r.reloaded(keys, st)
}

func readKeyFile(path string) ([]Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret: read key file: %w", err)
	}
	keys, err := ParseKeys(string(b))
	if err != nil {
		return nil, fmt.Errorf("secret: key file %s: %w", path, err)
	}
	return keys, nil
}

// ErrKeyFileMode is returned by LoadKeyFile for a key file that its group
// or others may read or write.
var ErrKeyFileMode = errors.New("secret: key file permissions are too open")

// checkKeyFileMode refuses a key file with any permission for group or
// others. Windows has no such mode bits, so there it checks nothing.
func checkKeyFileMode(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("secret: read key file: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o, so users other than its owner may read or change the keys; run `chmod 600 %s`",
			ErrKeyFileMode, path, perm, path)
	}
	return nil
}

// WriteKeyFile writes keys, primary first, to path with owner-only
// permissions, replacing the file atomically and durably. The database
// starts depending on a new key as soon as the file names it (`aiod keys
// rotate` re-wraps secrets right after), so the file's contents are
// synced before the rename and the directory after it: a crash or power
// loss then leaves the old file or the new one, never an empty or
// half-written one, nor the old one once secrets are sealed under the new.
func WriteKeyFile(path string, keys []Key) error {
	var b strings.Builder
	b.WriteString("# AIO encryption keys: the first seals, the others still open. Back this file up with the database.\n")
	for _, k := range keys {
		b.WriteString(k.String() + "\n")
	}
	dir := filepath.Dir(path)
	// CreateTemp makes a new file with mode 0600 under a fresh name: a
	// file or symbolic link left at a fixed name (by a crash, or by
	// someone else) cannot lend the key file its permissions or make the
	// keys be written elsewhere.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("secret: write key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename, there is nothing left to remove
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("secret: write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("secret: sync key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("secret: write key file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("secret: replace key file: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot open a directory
// for syncing; there the rename is left to the file system.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("secret: sync key file directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("secret: sync key file directory: %w", err)
	}
	return nil
}

// Primary returns the sealing key.
func (r *Keyring) Primary() Key {
	r.refresh()
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keys[0]
}

// Keys returns every key, primary first.
func (r *Keyring) Keys() []Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]Key(nil), r.keys...)
}

func (r *Keyring) find(id string) (Key, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range r.keys {
		if k.ID == id {
			return k, true
		}
	}
	return Key{}, false
}

// lookup finds a key, re-reading the key file once when the key is unknown.
func (r *Keyring) lookup(id string) (Key, error) {
	if k, ok := r.find(id); ok {
		return k, nil
	}
	if r.file != "" {
		st := stampOf(r.file)
		if keys, err := readKeyFile(r.file); err == nil {
			r.reloaded(keys, st)
			if k, ok := r.find(id); ok {
				return k, nil
			}
		}
	}
	return Key{}, fmt.Errorf("%w (key %s)", ErrUnknownKey, id)
}

func gcmSeal(key, plaintext, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, plaintext, aad), nil
}

func gcmOpen(key, sealed, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, ErrTampered
	}
	out, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], aad)
	if err != nil {
		return nil, ErrTampered
	}
	return out, nil
}

// Seal encrypts a secret bound to b under the primary key.
func (r *Keyring) Seal(plaintext []byte, b Binding) (Sealed, error) {
	k := r.Primary()
	dek := make([]byte, KeySize)
	_, _ = rand.Read(dek)
	ct, err := gcmSeal(dek, plaintext, b.aad(""))
	if err != nil {
		return Sealed{}, err
	}
	wrapped, err := gcmSeal(k.raw, dek, b.aad(k.ID))
	if err != nil {
		return Sealed{}, err
	}
	return Sealed{KeyID: k.ID, WrappedKey: wrapped, Ciphertext: ct}, nil
}

// Open decrypts a sealed secret that must be bound to b.
func (r *Keyring) Open(s Sealed, b Binding) ([]byte, error) {
	k, err := r.lookup(s.KeyID)
	if err != nil {
		return nil, err
	}
	dek, err := gcmOpen(k.raw, s.WrappedKey, b.aad(k.ID))
	if err != nil {
		return nil, err
	}
	return gcmOpen(dek, s.Ciphertext, b.aad(""))
}

// Rewrap re-wraps the data key of s under the primary key, leaving the
// sealed secret itself untouched. It is what key rotation does per row.
func (r *Keyring) Rewrap(s Sealed, b Binding) (Sealed, error) {
	k, err := r.lookup(s.KeyID)
	if err != nil {
		return Sealed{}, err
	}
	dek, err := gcmOpen(k.raw, s.WrappedKey, b.aad(k.ID))
	if err != nil {
		return Sealed{}, err
	}
	// Check the secret opens too, so that rotation never carries a
	// tampered row forward under a fresh wrap.
	if _, err := gcmOpen(dek, s.Ciphertext, b.aad("")); err != nil {
		return Sealed{}, err
	}
	p := r.Primary()
	wrapped, err := gcmSeal(p.raw, dek, b.aad(p.ID))
	if err != nil {
		return Sealed{}, err
	}
	return Sealed{KeyID: p.ID, WrappedKey: wrapped, Ciphertext: s.Ciphertext}, nil
}

// MAC is a keyed hash of data under a key derived from the primary key. It
// lets aiod recognise a value it has seen (an idempotent request's secret)
// without storing anything that, with the database file alone, could test
// a guess of that value.
func (r *Keyring) MAC(data []byte) []byte {
	k := r.Primary()
	derived := sha256.Sum256(append([]byte("aio-mac\x00"), k.raw...))
	m := hmac.New(sha256.New, derived[:])
	m.Write(data)
	return m.Sum(nil)
}
