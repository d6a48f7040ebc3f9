package secret_test

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/secret"
)

// TestKeyFileReloadIsLogged: when a running aiod re-reads a rotated key
// file, it says so at info with the key IDs, and never with key material.
func TestKeyFileReloadIsLogged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aio.key")
	old := secret.NewKey()
	if err := secret.WriteKeyFile(path, []secret.Key{old}); err != nil {
		t.Fatal(err)
	}
	kr, err := secret.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	kr.SetLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	kr.Primary()
	if logs.Len() != 0 {
		t.Fatalf("logged without a change of the file: %s", logs.String())
	}
	next := secret.NewKey()
	if err := secret.WriteKeyFile(path, []secret.Key{next, old}); err != nil {
		t.Fatal(err)
	}
	if got := kr.Primary(); got.ID != next.ID {
		t.Fatalf("primary after rotation = %s, want %s", got.ID, next.ID)
	}
	line := logs.String()
	for _, want := range []string{"level=INFO", `msg="re-read the encryption key file"`, "primary_key_id=" + next.ID,
		"key_ids=" + next.ID + "," + old.ID, "previous_key_ids=" + old.ID} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q does not contain %q", line, want)
		}
	}
	for _, k := range []secret.Key{old, next} {
		if strings.Contains(line, k.String()) {
			t.Errorf("log %q contains key material", line)
		}
	}
}
