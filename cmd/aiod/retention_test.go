package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
)

// The retention flags: the built-in ages by default, each settable by its
// flag or its variable (a flag wins), 0 keeping data for ever; nonsense is
// refused.
func TestRetentionFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aio.db")
	o, err := serveOptions([]string{"--database", db}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	builtin := retention.BuiltinDefaults()
	for _, dk := range api.DataKinds {
		if o.RetentionDefaults[dk.Name] != builtin[dk.Name] {
			t.Errorf("default of %s = %s, want %s", dk.Name, o.RetentionDefaults[dk.Name], builtin[dk.Name])
		}
	}
	if o.AuditRetentionFloor != retention.DefaultAuditFloor || o.RetentionInterval != retention.DefaultInterval {
		t.Errorf("floor %s, interval %s", o.AuditRetentionFloor, o.RetentionInterval)
	}
	t.Setenv("AIOD_RETENTION_DEFAULT_PROBE_RESULTS", "24h")
	t.Setenv("AIOD_AUDIT_RETENTION_FLOOR", "10000h")
	o, err = serveOptions([]string{"--database", db, "--retention-default-alert-events", "720h",
		"--retention-default-probe-results", "12h", "--retention-interval", "1m"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.RetentionDefaults[api.DataProbeResults]; got != 12*time.Hour {
		t.Errorf("probe results = %s, want the flag's 12h over the variable's 24h", got)
	}
	if got := o.RetentionDefaults[api.DataAlertEvents]; got != 720*time.Hour {
		t.Errorf("alert events = %s, want 720h", got)
	}
	if o.AuditRetentionFloor != 10000*time.Hour || o.RetentionInterval != time.Minute {
		t.Errorf("floor %s, interval %s", o.AuditRetentionFloor, o.RetentionInterval)
	}
	for _, args := range [][]string{
		{"--retention-default-deliveries", "-1h"},
		{"--audit-retention-floor", "0s"},
		{"--retention-interval", "10ms"},
	} {
		if _, err := serveOptions(append([]string{"--database", db}, args...), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(args[0], "--")) {
			t.Errorf("%v: err = %v, want a refusal naming the flag", args, err)
		}
	}
}
