// Package daemon runs aiod: it opens the store, checks that the server can
// be administered, serves the API and shuts down gracefully. cmd/aiod only
// parses flags and calls it.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/email"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/server"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Defaults of the serve and dev commands.
const (
	DefaultListen    = "127.0.0.1:7420"
	DefaultDatabase  = "aio.db"
	DefaultRootToken = "dev-root-token" //nolint:gosec // G101: the documented token of the throwaway dev mode.
	shutdownTimeout  = 15 * time.Second
	// DefaultMaxMonitors is the default cap on monitors: twice the 10,000
	// monitors the probe benchmark shows one aiod handles.
	DefaultMaxMonitors = 20000
	// DefaultMaxProbeRate is the default cap on probes per second: twice
	// the 1,000/s of 10,000 monitors every 10 s.
	DefaultMaxProbeRate = 2000
)

// Options configure a running aiod.
type Options struct {
	// Listen is the TCP address to serve on.
	Listen string
	// Database is the SQLite file.
	Database string
	Logger   *slog.Logger
	Clock    clock.Clock
	// Ready, when set, is called with the bound address once the server
	// accepts connections.
	Ready func(addr string)
	// Keyring seals and opens credential secrets; nil when no key is given.
	Keyring *secret.Keyring
	// TLSCert and TLSKey, when both set, make aiod serve HTTPS.
	TLSCert, TLSKey string
	// Egress is where probes may connect; nil is the default policy
	// (cloud metadata, link-local and loopback addresses denied, the rest
	// allowed).
	Egress *egress.Policy
	// MaxMonitors and MaxProbeRate cap the monitors and their total probes
	// per second (see server.Config); zero means no cap. The command line
	// defaults them to DefaultMaxMonitors and DefaultMaxProbeRate.
	MaxMonitors  int
	MaxProbeRate float64
	// SMTP is the mail server of email channels; the zero value makes
	// email deliveries fail with an error naming the missing flags.
	SMTP email.Config
	// DeliveryGiveUpAfter is how long a delivery is retried after its
	// event (24 h when zero).
	DeliveryGiveUpAfter time.Duration
	// DeliveryAttemptTimeout bounds one delivery attempt
	// (notify.DefaultAttemptTimeout when zero).
	DeliveryAttemptTimeout time.Duration
	// AlertInterval is how often every enabled alert threshold is
	// evaluated (alerting.DefaultInterval when zero).
	AlertInterval time.Duration
	// RateLimit and RateBurst are the default per-token rate limit in
	// requests per second and its burst (server.DefaultRateLimit and
	// server.DefaultRateBurst when zero); a token's own rate_limit wins.
	RateLimit float64
	RateBurst int
	// HistoryAge is how long revisions and tombstones are kept (the
	// engine's default, 400 days, when zero).
	HistoryAge time.Duration
	// RetentionInterval, RetentionDefaults and AuditRetentionFloor set
	// retention (package retention's defaults when zero).
	RetentionInterval   time.Duration
	RetentionDefaults   retention.Defaults
	AuditRetentionFloor time.Duration
}

// ErrNoAdminToken is returned when aiod would start with nobody able to
// administer it.
var ErrNoAdminToken = errors.New("no usable admin token: create one first with `aiod token create --name NAME --role admin` against the same database")

// NewLogger builds the structured logger of aiod at the given level
// (debug, info, warn, error) in the given format (text or json).
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// OpenStore opens the SQLite database at path.
func OpenStore(ctx context.Context, path string) (store.Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	return store.OpenSQLite(ctx, path)
}

// Serve runs aiod until ctx is cancelled, then drains requests for up to
// shutdownTimeout.
func Serve(ctx context.Context, o Options) error {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := OpenStore(ctx, o.Database)
	if err != nil {
		return fmt.Errorf("open database %s: %w", o.Database, err)
	}
	defer st.Close()
	n, err := st.CountUsableAdminTokens(ctx, o.Clock.Now())
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNoAdminToken
	}
	if err := CheckKeys(ctx, st, o.Keyring); err != nil {
		return err
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("give both --tls-cert and --tls-key, or neither")
	}
	if o.Keyring != nil {
		o.Keyring.SetLogger(o.Logger)
	}
	if o.Keyring == nil {
		o.Logger.Warn("no encryption key given: aiod will refuse to store credentials until started with --key-file or " + EnvEncryptionKey)
	}
	logEgress(o.Logger, o.Egress)
	logSMTP(o.Logger, o.SMTP)
	eng := engine.New(engine.Config{Store: st, Keyring: o.Keyring, Clock: o.Clock, Logger: o.Logger, Egress: o.Egress,
		SMTP: o.SMTP, DeliveryGiveUpAfter: o.DeliveryGiveUpAfter, DeliveryAttemptTimeout: o.DeliveryAttemptTimeout,
		AlertInterval: o.AlertInterval, HistoryAge: o.HistoryAge,
		RetentionInterval: o.RetentionInterval, RetentionDefaults: o.RetentionDefaults, AuditRetentionFloor: o.AuditRetentionFloor})
	srv, err := server.New(ctx, server.Config{Store: st, Clock: o.Clock, Logger: o.Logger, Keyring: o.Keyring,
		OnChange: eng.Notify, Metrics: eng.MetricsHandler(), MetricsRegisterer: eng.Metrics.Registerer(),
		MaxMonitors: o.MaxMonitors, MaxProbeRate: o.MaxProbeRate, TestChannel: eng.Deliver.TestChannel,
		RateLimit: o.RateLimit, RateBurst: o.RateBurst, HistoryAge: o.HistoryAge, Retention: eng.Retention})
	if err != nil {
		return err
	}
	engCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEngine()
	engDone := make(chan error, 1)
	go func() { engDone <- eng.Run(engCtx) }()
	go purgeIdempotency(engCtx, srv, o.Logger)
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if o.TLSCert != "" {
			errc <- hs.ServeTLS(ln, o.TLSCert, o.TLSKey)
			return
		}
		errc <- hs.Serve(ln)
	}()
	o.Logger.Info("aiod listening", "address", ln.Addr().String(), "database", o.Database, "tls", o.TLSCert != "")
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		stopEngine()
		return errors.Join(err, <-engDone)
	case <-ctx.Done():
	}
	o.Logger.Info("aiod shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = hs.Shutdown(sctx)
	// The API is closed; now stop probing and store the last results.
	stopEngine()
	if eerr := <-engDone; eerr != nil && err == nil {
		err = eerr
	}
	return err
}

// logEgress states the probes' egress policy at startup, so that an
// operator can check what the flags made of it.
func logEgress(log *slog.Logger, p *egress.Policy) {
	if p == nil {
		p = &egress.Policy{}
	}
	log.Info("probe egress policy", "default_deny_cidrs", fmt.Sprint(egress.DefaultDenyCIDRs),
		"default_deny_hosts", strings.Join(egress.DefaultDenyHosts, ","), "allow_cidrs", fmt.Sprint(p.AllowCIDRs),
		"deny_cidrs", fmt.Sprint(p.DenyCIDRs), "deny_hosts", strings.Join(p.DenyHosts, ","))
}

// logSMTP states the mail server of email channels at startup, never its
// password.
func logSMTP(log *slog.Logger, c email.Config) {
	if c.Addr == "" {
		log.Info("no SMTP server configured: email channels cannot deliver until aiod is started with --smtp-addr and --smtp-from")
		return
	}
	log.Info("SMTP server for email channels", "address", c.Addr, "from", c.From, "username", c.Username, "auth", c.Username != "")
}

// EnsureRootToken makes sure an admin token named "root" with the given
// secret exists, for aiod dev.
func EnsureRootToken(ctx context.Context, st store.Store, clk clock.Clock, secret string) error {
	return st.Write(ctx, func(tx store.Tx) error {
		_, _, err := auth.Create(ctx, tx, clk, auth.CreateInput{Name: "root", Role: api.RoleAdmin, Secret: secret}, auth.CLIActor)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		if _, err := auth.Authenticate(ctx, tx, secret, clk.Now()); err != nil {
			return fmt.Errorf("this data directory already has a root token with another secret: %w", err)
		}
		return nil
	})
}

// IsLoopbackListen tells whether a listen address (host:port) binds only
// loopback interfaces. An empty host or an unspecified address (0.0.0.0,
// ::) binds every interface, and a host name other than localhost may
// resolve to any address, so those are not loopback.
func IsLoopbackListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// CheckDevListen guards aiod dev, whose default root token is printed in
// its documentation: anyone who can reach it could administer it. Off
// loopback it refuses that token (whether defaulted or given), and with
// any other token it warns that dev mode is not meant to be shared.
func CheckDevListen(listen, rootToken string, log *slog.Logger) error {
	if IsLoopbackListen(listen) {
		return nil
	}
	if rootToken == DefaultRootToken {
		return fmt.Errorf("aiod dev would listen on %s, beyond this machine's loopback interface, with the well-known root token %q: "+
			"give a secret one with --root-token, or listen on 127.0.0.1", listen, DefaultRootToken)
	}
	log.Warn("aiod dev listens on an address reachable beyond this machine; dev mode is for trying AIO, not for shared use: use aiod serve",
		"address", listen)
	return nil
}

// DevBanner tells a new user how to point Terraform at aiod dev.
func DevBanner(addr, token, dataDir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\naiod dev mode is running. Data lives in %s and is not meant to be kept.\n\n", dataDir)
	fmt.Fprintf(&b, "Point Terraform (and curl) at it:\n\n")
	fmt.Fprintf(&b, "    export AIO_ADDR=http://%s\n", addr)
	fmt.Fprintf(&b, "    export AIO_TOKEN=%s\n\n", token)
	fmt.Fprintf(&b, "Root token: %s (role admin). Stop with Ctrl-C.\n\n", token)
	return b.String()
}

// PurgeEvery is how often expired idempotent answers are deleted.
const PurgeEvery = 10 * time.Minute

// purgeIdempotency deletes expired idempotent answers now and then every
// PurgeEvery until ctx ends.
func purgeIdempotency(ctx context.Context, srv *server.Server, log *slog.Logger) {
	t := time.NewTicker(PurgeEvery)
	defer t.Stop()
	for {
		if n, err := srv.PurgeExpiredIdempotency(ctx); err != nil && ctx.Err() == nil {
			log.Error("purge expired idempotency keys", "error", err)
		} else if n > 0 {
			log.Info("purged expired idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
