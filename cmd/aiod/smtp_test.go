package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
)

// TestServeSMTPFlags: the SMTP flags and their variables reach the daemon's
// options validated, the password from the environment or an owner-only
// file, and the password appears in no error.
func TestServeSMTPFlags(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "aio.db")
	const pw = "s3cret-smtp-pass"
	pwFile := filepath.Join(dir, "smtp.pw")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AIOD_SMTP_ADDR", "AIOD_SMTP_FROM", "AIOD_SMTP_USERNAME", "AIOD_SMTP_PASSWORD", "AIOD_SMTP_PASSWORD_FILE", "AIOD_DELIVERY_GIVE_UP_AFTER"} {
		t.Setenv(k, "")
	}

	// No SMTP at all is fine: email channels then fail, naming the flags.
	o, err := serveOptions([]string{"--database", db}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.SMTP.Addr != "" || o.DeliveryGiveUpAfter != notify.DefaultGiveUpAfter {
		t.Errorf("defaults: SMTP %+v, give up after %v", o.SMTP, o.DeliveryGiveUpAfter)
	}

	// From flags, the password from a file.
	o, err = serveOptions([]string{"--database", db, "--smtp-addr", "smtp.example.com:587", "--smtp-from", "AIO <aio@example.com>",
		"--smtp-username", "aio", "--smtp-password-file", pwFile, "--delivery-give-up-after", "6h"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c := o.SMTP; c.Addr != "smtp.example.com:587" || c.From != "AIO <aio@example.com>" || c.Username != "aio" || c.Password != pw {
		t.Errorf("from flags: %+v", c)
	}
	if o.DeliveryGiveUpAfter != 6*time.Hour {
		t.Errorf("give up after %v, want 6h", o.DeliveryGiveUpAfter)
	}

	// From the environment, the password itself in AIOD_SMTP_PASSWORD.
	t.Setenv("AIOD_SMTP_ADDR", "127.0.0.1:2525")
	t.Setenv("AIOD_SMTP_FROM", "alerts@example.com")
	t.Setenv("AIOD_SMTP_USERNAME", "env-user")
	t.Setenv("AIOD_SMTP_PASSWORD", pw)
	t.Setenv("AIOD_DELIVERY_GIVE_UP_AFTER", "90m")
	o, err = serveOptions([]string{"--database", db}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c := o.SMTP; c.Addr != "127.0.0.1:2525" || c.From != "alerts@example.com" || c.Username != "env-user" || c.Password != pw ||
		o.DeliveryGiveUpAfter != 90*time.Minute {
		t.Errorf("from the environment: %+v, %v", c, o.DeliveryGiveUpAfter)
	}
	for _, k := range []string{"AIOD_SMTP_ADDR", "AIOD_SMTP_FROM", "AIOD_SMTP_USERNAME", "AIOD_SMTP_PASSWORD", "AIOD_DELIVERY_GIVE_UP_AFTER"} {
		t.Setenv(k, "")
	}

	loose := filepath.Join(dir, "loose.pw")
	if err := os.WriteFile(loose, []byte(pw), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pw")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := []string{"--smtp-addr", "smtp.example.com:587", "--smtp-from", "aio@example.com"}
	cases := []struct {
		name string
		args []string
		env  string // AIOD_SMTP_PASSWORD
		want string
	}{
		{"from without addr", []string{"--smtp-from", "aio@example.com"}, "", "--smtp-addr"},
		{"password without addr", nil, pw, "--smtp-addr"},
		{"addr without port", []string{"--smtp-addr", "smtp.example.com", "--smtp-from", "aio@example.com"}, "", "host:port"},
		{"addr with bad port", []string{"--smtp-addr", "smtp.example.com:smtp", "--smtp-from", "aio@example.com"}, "", "host:port"},
		{"addr without from", []string{"--smtp-addr", "smtp.example.com:587"}, "", "--smtp-from is required"},
		{"bad from", []string{"--smtp-addr", "smtp.example.com:587", "--smtp-from", "not an address"}, "", "--smtp-from"},
		{"user without password", append(ok, "--smtp-username", "aio"), "", "needs a password"},
		{"password without user", ok, pw, "without --smtp-username"},
		{"both password sources", append(ok, "--smtp-username", "aio", "--smtp-password-file", pwFile), pw, "not both"},
		{"missing file", append(ok, "--smtp-username", "aio", "--smtp-password-file", filepath.Join(dir, "nope")), "", "--smtp-password-file"},
		{"empty file", append(ok, "--smtp-username", "aio", "--smtp-password-file", empty), "", "is empty"},
		{"zero give-up", []string{"--delivery-give-up-after", "0s"}, "", "--delivery-give-up-after"},
	}
	if runtime.GOOS != "windows" {
		cases = append(cases, struct {
			name string
			args []string
			env  string
			want string
		}{"file readable by others", append(ok, "--smtp-username", "aio", "--smtp-password-file", loose), "", "chmod 600"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("AIOD_SMTP_PASSWORD", c.env)
			var stderr bytes.Buffer
			_, err := serveOptions(append([]string{"--database", db}, c.args...), &stderr)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(stderr.String(), pw) {
				t.Errorf("the password leaked: %v / %s", err, stderr.String())
			}
		})
	}
}
