package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/daemon"
	"github.com/aio-platform/terraform-provider-aio/internal/server"
)

// TestServeRateLimitFlags: --rate-limit and --rate-burst reach the daemon's
// options, from the flags or from AIOD_RATE_LIMIT and AIOD_RATE_BURST (the
// flag winning), and bad values are refused before aiod starts.
func TestServeRateLimitFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aio.db")
	o, err := serveOptions([]string{"--database", db}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.RateLimit != server.DefaultRateLimit || o.RateBurst != server.DefaultRateBurst {
		t.Errorf("defaults: %g/s burst %d, want %d/s burst %d", o.RateLimit, o.RateBurst, server.DefaultRateLimit, server.DefaultRateBurst)
	}
	t.Setenv("AIOD_RATE_LIMIT", "7.5")
	t.Setenv("AIOD_RATE_BURST", "30")
	o, err = serveOptions([]string{"--database", db}, &bytes.Buffer{})
	if err != nil || o.RateLimit != 7.5 || o.RateBurst != 30 {
		t.Errorf("from the environment: %g/s burst %d, %v", o.RateLimit, o.RateBurst, err)
	}
	o, err = serveOptions([]string{"--database", db, "--rate-limit", "200", "--rate-burst", "400"}, &bytes.Buffer{})
	if err != nil || o.RateLimit != 200 || o.RateBurst != 400 {
		t.Errorf("flags over the environment: %g/s burst %d, %v", o.RateLimit, o.RateBurst, err)
	}
	t.Setenv("AIOD_RATE_LIMIT", "")
	t.Setenv("AIOD_RATE_BURST", "")
	for _, args := range [][]string{{"--rate-limit", "0"}, {"--rate-limit", "-1"}, {"--rate-burst", "0"}, {"--rate-limit", "NaN"}} {
		if _, err := serveOptions(append([]string{"--database", db}, args...), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--rate-") {
			t.Errorf("%v: got %v, want an error naming the flag", args, err)
		}
	}
	t.Setenv("AIOD_RATE_BURST", "lots")
	if _, err := serveOptions([]string{"--database", db}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "AIOD_RATE_BURST") {
		t.Errorf("AIOD_RATE_BURST=lots: got %v", err)
	}
}

// TestTokenCreateRateLimit: aiod token create --rate-limit stores the
// token's own limit, token list shows it, and a token created without it
// keeps the server's default (null).
func TestTokenCreateRateLimit(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aio.db")
	ci, err := runCLI(t, "token", "create", "--name", "ci", "--role", "editor", "--rate-limit", "2500", "--database", db)
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, ci)
	}
	if out, err := runCLI(t, "token", "create", "--name", "person", "--role", "viewer", "--database", db); err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	for _, bad := range []string{"0", "-5", "2e6"} {
		if out, err := runCLI(t, "token", "create", "--name", "bad", "--role", "viewer", "--rate-limit", bad, "--database", db); err == nil || !strings.Contains(err.Error(), "rate_limit") {
			t.Errorf("--rate-limit %s: got %v %s, want an error naming rate_limit", bad, err, out)
		}
	}
	out, err := runCLI(t, "token", "list", "--database", db)
	if err != nil || !strings.Contains(out, "RATE_LIMIT") || !strings.Contains(out, "2500/s") || !strings.Contains(out, "default") {
		t.Fatalf("token list: %v\n%s", err, out)
	}
	st, err := daemon.OpenStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, err := auth.Authenticate(context.Background(), st, strings.TrimSpace(ci), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if tok.RateLimit == nil || *tok.RateLimit != 2500 {
		t.Errorf("stored rate_limit %v, want 2500", tok.RateLimit)
	}
}
