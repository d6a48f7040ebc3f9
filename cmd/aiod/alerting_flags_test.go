package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/daemon"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/alerting"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
)

var alertingEnv = []string{"AIOD_SMTP_ADDR", "AIOD_SMTP_FROM", "AIOD_SMTP_USERNAME", "AIOD_SMTP_PASSWORD", "AIOD_SMTP_PASSWORD_FILE",
	"AIOD_ALERT_INTERVAL", "AIOD_DELIVERY_GIVE_UP_AFTER", "AIOD_DELIVERY_ATTEMPT_TIMEOUT"}

// TestAlertingFlags: aiod serve and aiod dev take the same alerting flags
// (SMTP, evaluation interval, delivery give-up time and attempt timeout),
// from the command line or the environment, defaulted, and refuse bad
// values with an error naming the flag or the variable.
func TestAlertingFlags(t *testing.T) {
	for _, k := range alertingEnv {
		t.Setenv(k, "")
	}
	db := filepath.Join(t.TempDir(), "aio.db")
	parsers := map[string]func(args []string) (daemon.Options, error){
		"serve": func(args []string) (daemon.Options, error) {
			return serveOptions(append([]string{"--database", db}, args...), &bytes.Buffer{})
		},
		"dev": func(args []string) (daemon.Options, error) {
			f, err := parseDevFlags(args, &bytes.Buffer{})
			return f.o, err
		},
	}
	for name, parse := range parsers {
		t.Run(name, func(t *testing.T) {
			o, err := parse(nil)
			if err != nil {
				t.Fatal(err)
			}
			if o.AlertInterval != alerting.DefaultInterval || o.DeliveryGiveUpAfter != notify.DefaultGiveUpAfter ||
				o.DeliveryAttemptTimeout != notify.DefaultAttemptTimeout || o.SMTP.Addr != "" {
				t.Errorf("defaults: %v, %v, %v, %+v", o.AlertInterval, o.DeliveryGiveUpAfter, o.DeliveryAttemptTimeout, o.SMTP)
			}
			o, err = parse([]string{"--alert-interval", "2s", "--delivery-give-up-after", "1h", "--delivery-attempt-timeout", "750ms",
				"--smtp-addr", "127.0.0.1:2525", "--smtp-from", "aio@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if o.AlertInterval != 2*time.Second || o.DeliveryGiveUpAfter != time.Hour || o.DeliveryAttemptTimeout != 750*time.Millisecond ||
				o.SMTP.Addr != "127.0.0.1:2525" || o.SMTP.From != "aio@example.com" {
				t.Errorf("from flags: %v, %v, %v, %+v", o.AlertInterval, o.DeliveryGiveUpAfter, o.DeliveryAttemptTimeout, o.SMTP)
			}

			t.Setenv("AIOD_ALERT_INTERVAL", "30s")
			t.Setenv("AIOD_DELIVERY_ATTEMPT_TIMEOUT", "3s")
			t.Setenv("AIOD_SMTP_ADDR", "smtp.example.com:587")
			t.Setenv("AIOD_SMTP_FROM", "alerts@example.com")
			o, err = parse(nil)
			if err != nil {
				t.Fatal(err)
			}
			if o.AlertInterval != 30*time.Second || o.DeliveryAttemptTimeout != 3*time.Second || o.SMTP.Addr != "smtp.example.com:587" {
				t.Errorf("from the environment: %v, %v, %+v", o.AlertInterval, o.DeliveryAttemptTimeout, o.SMTP)
			}
			// A flag wins over its variable.
			if o, err = parse([]string{"--alert-interval", "5s"}); err != nil || o.AlertInterval != 5*time.Second {
				t.Errorf("flag over variable: %v, %v", o.AlertInterval, err)
			}
			for _, k := range alertingEnv {
				t.Setenv(k, "")
			}

			for _, c := range []struct {
				args []string
				env  [2]string
				want string
			}{
				{args: []string{"--alert-interval", "0s"}, want: "--alert-interval 0s: want 1s to 1h0m0s"},
				{args: []string{"--alert-interval", "500ms"}, want: "--alert-interval"},
				{args: []string{"--alert-interval", "2h"}, want: "--alert-interval"},
				{args: []string{"--alert-interval", "often"}, want: "alert-interval"},
				{args: []string{"--delivery-attempt-timeout", "0s"}, want: "--delivery-attempt-timeout 0s: want 100ms to 10m0s"},
				{args: []string{"--delivery-attempt-timeout", "-1s"}, want: "--delivery-attempt-timeout"},
				{args: []string{"--delivery-attempt-timeout", "11m"}, want: "--delivery-attempt-timeout"},
				{args: []string{"--delivery-give-up-after", "0s"}, want: "--delivery-give-up-after must be more than 0"},
				{args: []string{"--delivery-give-up-after", "5s", "--delivery-attempt-timeout", "10s"}, want: "longer than --delivery-give-up-after"},
				{args: []string{"--smtp-addr", "smtp.example.com"}, want: "host:port"},
				{args: []string{"--smtp-from", "aio@example.com"}, want: "need --smtp-addr"},
				{env: [2]string{"AIOD_ALERT_INTERVAL", "ten seconds"}, want: `AIOD_ALERT_INTERVAL="ten seconds": want a duration`},
				{env: [2]string{"AIOD_DELIVERY_ATTEMPT_TIMEOUT", "x"}, want: "AIOD_DELIVERY_ATTEMPT_TIMEOUT"},
			} {
				if c.env[0] != "" {
					t.Setenv(c.env[0], c.env[1])
				}
				_, err := parse(c.args)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%v %v: got %v, want an error containing %q", c.args, c.env, err, c.want)
				}
				if c.env[0] != "" {
					t.Setenv(c.env[0], "")
				}
			}
		})
	}
}

// TestDevRefusesBadAlertingFlags: aiod dev checks the alerting flags
// before it makes a data directory or serves anything.
func TestDevRefusesBadAlertingFlags(t *testing.T) {
	for _, k := range alertingEnv {
		t.Setenv(k, "")
	}
	dir := filepath.Join(t.TempDir(), "never-made")
	err := run(context.Background(), []string{"dev", "--listen", "127.0.0.1:0", "--data", dir, "--delivery-attempt-timeout", "1ms"},
		&bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--delivery-attempt-timeout") {
		t.Fatalf("got %v, want a refusal naming --delivery-attempt-timeout", err)
	}
	if _, statErr := os.Stat(dir); !errors.Is(statErr, fs.ErrNotExist) {
		t.Errorf("the data directory was made before the flags were checked: %v", statErr)
	}
}
