package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/daemon"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/alerting"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
)

// Bounds of the alerting flags. An evaluation more often than every
// second only repeats the same rollups; one less often than hourly makes
// pending_for and recovery_for meaningless. An attempt timeout below
// 100 ms fails every real receiver, and one above ten minutes lets a
// hanging receiver hold its worker slots for that long.
const (
	minAlertInterval   = time.Second
	maxAlertInterval   = time.Hour
	minAttemptTimeout  = 100 * time.Millisecond
	maxAttemptTimeout  = 10 * time.Minute
	alertingFlagsUsage = `Alerting. Every enabled alert threshold is evaluated every --alert-interval (default 10s,
1s to 1h). A delivery a receiver did not acknowledge is retried with capped, jittered exponential
backoff for --delivery-give-up-after (default 24h) after its event, then failed; each attempt
is bounded by --delivery-attempt-timeout (default 10s, 100ms to 10m, and at most the give-up
time), so a receiver that hangs delays only its own deliveries.
`
)

// alertingFlags are the flags of alert evaluation and notification
// delivery, the same for aiod serve and aiod dev: the SMTP server of email
// channels, the evaluation interval and the delivery times. Each also
// reads its AIOD_ variable; a flag wins over its variable.
type alertingFlags struct {
	smtpAddr, smtpFrom, smtpUser, smtpPassFile *string
	alertInterval, giveUp, attemptTimeout      time.Duration
}

// addAlertingFlags defines the alerting flags on fs, their defaults read
// from the environment; a variable that is not a duration is an error.
func addAlertingFlags(fs *flag.FlagSet) (*alertingFlags, error) {
	f := &alertingFlags{
		smtpAddr: fs.String("smtp-addr", env("AIOD_SMTP_ADDR", ""), "SMTP server (host:port) of email channels"),
		smtpFrom: fs.String("smtp-from", env("AIOD_SMTP_FROM", ""),
			"sender address of email channels, as aio@example.com or \"AIO <aio@example.com>\""),
		smtpUser: fs.String("smtp-username", env("AIOD_SMTP_USERNAME", ""),
			"SMTP user name; the password comes from AIOD_SMTP_PASSWORD or --smtp-password-file"),
		smtpPassFile: fs.String("smtp-password-file", env("AIOD_SMTP_PASSWORD_FILE", ""), "file holding the SMTP password (mode 0600)"),
	}
	var err error
	for _, d := range []struct {
		dst       *time.Duration
		flag, env string
		def       time.Duration
		usage     string
	}{
		{&f.alertInterval, "alert-interval", "AIOD_ALERT_INTERVAL", alerting.DefaultInterval,
			"how often every enabled alert threshold is evaluated (1s to 1h)"},
		{&f.giveUp, "delivery-give-up-after", "AIOD_DELIVERY_GIVE_UP_AFTER", notify.DefaultGiveUpAfter,
			"how long a delivery is retried after its event"},
		{&f.attemptTimeout, "delivery-attempt-timeout", "AIOD_DELIVERY_ATTEMPT_TIMEOUT", notify.DefaultAttemptTimeout,
			"how long one delivery attempt may take before it is abandoned and retried (100ms to 10m)"},
	} {
		if *d.dst, err = envDuration(d.env, d.def); err != nil {
			return nil, err
		}
		fs.DurationVar(d.dst, d.flag, *d.dst, d.usage)
	}
	return f, nil
}

// apply checks the parsed flags and sets them on o, reading the SMTP
// password from envPassword or the password file.
func (f *alertingFlags) apply(o *daemon.Options, envPassword string) error {
	if f.alertInterval < minAlertInterval || f.alertInterval > maxAlertInterval {
		return fmt.Errorf("--alert-interval %v: want %v to %v", f.alertInterval, minAlertInterval, maxAlertInterval)
	}
	if f.giveUp <= 0 {
		return errors.New("--delivery-give-up-after must be more than 0")
	}
	if f.attemptTimeout < minAttemptTimeout || f.attemptTimeout > maxAttemptTimeout {
		return fmt.Errorf("--delivery-attempt-timeout %v: want %v to %v", f.attemptTimeout, minAttemptTimeout, maxAttemptTimeout)
	}
	if f.attemptTimeout > f.giveUp {
		return fmt.Errorf("--delivery-attempt-timeout %v is longer than --delivery-give-up-after %v: no attempt could finish in time",
			f.attemptTimeout, f.giveUp)
	}
	smtp, err := smtpConfig(*f.smtpAddr, *f.smtpFrom, *f.smtpUser, *f.smtpPassFile, envPassword)
	if err != nil {
		return err
	}
	o.SMTP, o.AlertInterval, o.DeliveryGiveUpAfter, o.DeliveryAttemptTimeout = smtp, f.alertInterval, f.giveUp, f.attemptTimeout
	return nil
}

// smtpPasswordFromEnv is the SMTP password of AIOD_SMTP_PASSWORD.
func smtpPasswordFromEnv() string { return os.Getenv(envSMTPPassword) }
