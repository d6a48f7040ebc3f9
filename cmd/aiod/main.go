// Command aiod is the AIO control plane. It only parses flags and wires the
// parts together; the work is done in internal packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/daemon"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/email"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/server"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Set by the linker (see .goreleaser.yml and the GNUmakefile).
var (
	version = "dev"
	commit  = "none"
)

const usage = `aiod — the AIO control plane

Usage:
  aiod serve  [--listen ADDR] [--database FILE] [--key-file FILE] [--tls-cert FILE --tls-key FILE]
              [--log-level LEVEL] [--log-format text|json]
              [--probe-allow-cidrs CIDRS] [--probe-deny-cidrs CIDRS] [--probe-deny-hosts HOSTS]
              [--max-monitors N] [--max-probe-rate PROBES_PER_SECOND]
              [--smtp-addr HOST:PORT --smtp-from ADDRESS [--smtp-username NAME] [--smtp-password-file FILE]]
              [--alert-interval DURATION] [--delivery-give-up-after DURATION] [--delivery-attempt-timeout DURATION]
              [--rate-limit REQUESTS_PER_SECOND] [--rate-burst N]
  aiod dev    [--listen ADDR] [--data DIR] [--root-token TOKEN]     (probes may reach loopback)
              [the --smtp-*, --alert-interval, --delivery-* and --rate-* flags of serve]
              (off loopback, --root-token must be given, and not the default)
  aiod token create --name NAME --role admin|editor|viewer [--ttl DURATION] [--rate-limit REQUESTS_PER_SECOND]
                    [--database FILE]
  aiod token list   [--database FILE]
  aiod token revoke (--id ID | --name NAME) [--database FILE]
  aiod keys generate
  aiod keys rotate  [--database FILE] [--key-file FILE]
      with --key-file: makes a new key, rewrites the file and re-wraps every secret (no restart)
      with AIOD_ENCRYPTION_KEY=NEW,OLD (restart aiod with it first): re-wraps every secret under NEW
  aiod backup --out FILE [--database FILE]
  aiod version

Environment: AIOD_LISTEN, AIOD_DATABASE, AIOD_KEY_FILE, AIOD_ENCRYPTION_KEY (base64 keys,
comma-separated, primary first), AIOD_LOG_LEVEL, AIOD_LOG_FORMAT, AIOD_TLS_CERT, AIOD_TLS_KEY,
AIOD_PROBE_ALLOW_CIDRS, AIOD_PROBE_DENY_CIDRS, AIOD_PROBE_DENY_HOSTS, AIOD_MAX_MONITORS,
AIOD_MAX_PROBE_RATE, AIOD_SMTP_ADDR, AIOD_SMTP_FROM, AIOD_SMTP_USERNAME, AIOD_SMTP_PASSWORD (the
password itself), AIOD_SMTP_PASSWORD_FILE, AIOD_ALERT_INTERVAL, AIOD_DELIVERY_GIVE_UP_AFTER,
AIOD_DELIVERY_ATTEMPT_TIMEOUT, AIOD_RATE_LIMIT,
AIOD_RATE_BURST. A flag wins over its variable.

Probes obey an egress policy and the monitors are capped: see aiod serve --help.

Back up the key file (or AIOD_ENCRYPTION_KEY) with the database: without it every
stored secret is lost.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "aiod:", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("a command is required")
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stderr)
	case "dev":
		return cmdDev(ctx, args[1:], stdout, stderr)
	case "token":
		return cmdToken(ctx, args[1:], stdout, stderr)
	case "keys":
		return cmdKeys(ctx, args[1:], stdout, stderr)
	case "backup":
		return cmdBackup(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "aiod %s (commit %s)\n", version, commit)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// serveUsage heads aiod serve --help: the egress policy and the caps need
// more words than a flag's line.
const serveUsage = `Usage: aiod serve [flags]

Probe egress policy. By default probes never reach link-local addresses (169.254.0.0/16,
fe80::/10), the cloud metadata services (fd00:ec2::254, 100.100.100.200, 168.63.129.16,
192.0.0.192; the names metadata.google.internal, metadata.goog, metadata, metadata.azure.com,
instance-data, ...), loopback (127.0.0.0/8, ::1/128: local admin services trust whoever
reaches them) or the addresses of this host by another name (0.0.0.0/8, ::). Everything else,
private networks included, is allowed: monitoring internal services is the point. The policy
is checked after DNS resolution, on every redirect hop, for HTTP, TCP and OAuth2 token
requests; a denied probe is down with "egress denied: ..." and sends nothing. Precedence,
strongest first: denied hosts (default and --probe-deny-hosts, checked before DNS),
--probe-deny-cidrs, --probe-allow-cidrs, the default deny list. To monitor services on this
machine: --probe-allow-cidrs 127.0.0.0/8,::1/128 (aiod dev allows loopback itself).

Email. Email channels send through the SMTP server of --smtp-addr (host:port) as --smtp-from,
upgrading to TLS with STARTTLS whenever the server offers it. With --smtp-username, aiod
authenticates (AUTH PLAIN, over TLS only) with the password from AIOD_SMTP_PASSWORD or the
file --smtp-password-file names (readable by its owner only, as a key file; one trailing
newline is ignored). The password is never logged.

` + alertingFlagsUsage + `

Rate limits. Each token may send --rate-limit requests per second sustained (default 1000)
with bursts of --rate-burst (default 2000); past them aiod answers 429 with Retry-After. The
defaults let a Terraform refresh of 10,000 resources through unthrottled. A token created with
its own rate limit (aiod token create --rate-limit, or rate_limit in POST /v1/tokens) gets that
rate and a burst of twice it instead.

Retention. Every --retention-interval (default 10m) aiod enforces the retention policies and,
for the data no delete policy covers, the built-in ages --retention-default-<data kind>
(probe-results 4h, minute-rollups 49h, hour-rollups 2184h; alert-events, deliveries and
audit-events 0: kept for ever). No policy deletes or anonymizes an audit event younger than
--audit-retention-floor (default 9600h, 400 days), nor a revision or tombstone younger than that
floor or than --history-retention if shorter.

Caps. A monitor create past --max-monitors, or a create or update that would take the enabled
monitors' probes per second (the sum of 1/interval) past --max-probe-rate, is refused with 400.

Flags (each also read from the environment variable in capitals with the AIOD_ prefix, as
AIOD_PROBE_DENY_CIDRS; a flag wins over its variable):
`

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("aiod "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	o, err := serveOptions(args, stderr)
	if err != nil {
		return err
	}
	return daemon.Serve(ctx, o)
}

// serveOptions parses the flags (and their environment variables) of aiod
// serve into the daemon's options.
func serveOptions(args []string, stderr io.Writer) (daemon.Options, error) {
	fs := newFlags("serve", stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	listen := fs.String("listen", env("AIOD_LISTEN", daemon.DefaultListen), "address to listen on")
	db := fs.String("database", env("AIOD_DATABASE", daemon.DefaultDatabase), "SQLite database file")
	level := fs.String("log-level", env("AIOD_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	format := fs.String("log-format", env("AIOD_LOG_FORMAT", "text"), "log format: text or json")
	keyFile := fs.String("key-file", env("AIOD_KEY_FILE", ""), "file of encryption keys (else AIOD_ENCRYPTION_KEY)")
	tlsCert := fs.String("tls-cert", env("AIOD_TLS_CERT", ""), "TLS certificate (PEM); serves HTTPS with --tls-key")
	tlsKey := fs.String("tls-key", env("AIOD_TLS_KEY", ""), "TLS private key (PEM)")
	allowCIDRs := fs.String("probe-allow-cidrs", env("AIOD_PROBE_ALLOW_CIDRS", ""),
		"comma-separated CIDRs probes may reach though the default deny list covers them (127.0.0.0/8,::1/128: this machine)")
	denyCIDRs := fs.String("probe-deny-cidrs", env("AIOD_PROBE_DENY_CIDRS", ""),
		"comma-separated CIDRs probes may never reach (wins over every allow)")
	denyHosts := fs.String("probe-deny-hosts", env("AIOD_PROBE_DENY_HOSTS", ""),
		"comma-separated host names (or *.domain) probes may never reach, checked before DNS")
	maxMonitors, err := envInt("AIOD_MAX_MONITORS", daemon.DefaultMaxMonitors)
	if err != nil {
		return daemon.Options{}, err
	}
	maxRate, err := envFloat("AIOD_MAX_PROBE_RATE", daemon.DefaultMaxProbeRate)
	if err != nil {
		return daemon.Options{}, err
	}
	af, err := addAlertingFlags(fs)
	if err != nil {
		return daemon.Options{}, err
	}
	historyAge, err := envDuration("AIOD_HISTORY_RETENTION", retention.DefaultRevisionAge)
	if err != nil {
		return daemon.Options{}, err
	}
	fs.DurationVar(&historyAge, "history-retention", historyAge, "how long revisions and tombstones of configuration objects are kept")
	ret, err := retentionFlags(fs)
	if err != nil {
		return daemon.Options{}, err
	}
	fs.IntVar(&maxMonitors, "max-monitors", maxMonitors, "most monitors this aiod accepts (0: no cap)")
	fs.Float64Var(&maxRate, "max-probe-rate", maxRate, "most probes per second the enabled monitors may ask for together (0: no cap)")
	rl, err := rateLimitFlags(fs)
	if err != nil {
		return daemon.Options{}, err
	}
	if err := fs.Parse(args); err != nil {
		return daemon.Options{}, err
	}
	if err := rl.check(); err != nil {
		return daemon.Options{}, err
	}
	if maxMonitors < 0 || maxRate < 0 {
		return daemon.Options{}, errors.New("--max-monitors and --max-probe-rate must be 0 (no cap) or more")
	}
	pol, err := egressPolicy(*allowCIDRs, *denyCIDRs, *denyHosts)
	if err != nil {
		return daemon.Options{}, err
	}
	if historyAge < 24*time.Hour {
		return daemon.Options{}, errors.New("--history-retention must be at least 24h")
	}
	if err := ret.check(); err != nil {
		return daemon.Options{}, err
	}
	o := daemon.Options{Listen: *listen, Database: *db, TLSCert: *tlsCert, TLSKey: *tlsKey, Egress: pol,
		MaxMonitors: maxMonitors, MaxProbeRate: maxRate, RateLimit: rl.limit, RateBurst: rl.burst,
		HistoryAge: historyAge, RetentionInterval: ret.interval, RetentionDefaults: ret.defaults, AuditRetentionFloor: ret.floor}
	o.RetentionDefaults[api.DataRevisions] = historyAge
	if err := af.apply(&o, smtpPasswordFromEnv()); err != nil {
		return daemon.Options{}, err
	}
	logger, err := daemon.NewLogger(stderr, *level, *format)
	if err != nil {
		return daemon.Options{}, err
	}
	kr, err := daemon.LoadKeyring(*keyFile, os.Getenv(daemon.EnvEncryptionKey))
	if err != nil {
		return daemon.Options{}, err
	}
	o.Logger, o.Keyring = logger, kr
	return o, nil
}

// rateLimits are the values of --rate-limit and --rate-burst.
type rateLimits struct {
	limit float64
	burst int
}

// rateLimitFlags defines --rate-limit and --rate-burst on fs, defaulted from
// AIOD_RATE_LIMIT and AIOD_RATE_BURST, else the server's defaults.
func rateLimitFlags(fs *flag.FlagSet) (*rateLimits, error) {
	limit, err := envFloat("AIOD_RATE_LIMIT", server.DefaultRateLimit)
	if err != nil {
		return nil, err
	}
	burst, err := envInt("AIOD_RATE_BURST", server.DefaultRateBurst)
	if err != nil {
		return nil, err
	}
	rl := &rateLimits{limit: limit, burst: burst}
	fs.Float64Var(&rl.limit, "rate-limit", limit, "requests per second each token may send, sustained (a token's own rate_limit wins)")
	fs.IntVar(&rl.burst, "rate-burst", burst, "requests each token may send at once above --rate-limit")
	return rl, nil
}

func (rl *rateLimits) check() error {
	if !(rl.limit > 0) || rl.burst < 1 {
		return errors.New("--rate-limit must be more than 0 and --rate-burst at least 1")
	}
	return nil
}

// envSMTPPassword holds the SMTP password itself.
const envSMTPPassword = "AIOD_SMTP_PASSWORD" //nolint:gosec // G101: the variable's name, not a password.

// smtpConfig checks the SMTP flags and reads the password. Nothing is
// required (aiod without email), but what is given must make a server
// email channels can use: an address with a port and a sender, and a user
// name with exactly one source of password. A password file readable or
// writable by others is refused, as key files are.
func smtpConfig(addr, from, username, passwordFile, envPassword string) (email.Config, error) {
	if addr == "" {
		if from != "" || username != "" || passwordFile != "" || envPassword != "" {
			return email.Config{}, errors.New("--smtp-from, --smtp-username and the SMTP password need --smtp-addr")
		}
		return email.Config{}, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		return email.Config{}, fmt.Errorf("--smtp-addr %q: want host:port, as smtp.example.com:587", addr)
	}
	if from == "" {
		return email.Config{}, errors.New("--smtp-from is required with --smtp-addr")
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return email.Config{}, fmt.Errorf("--smtp-from %q: not an email address: %w", from, err)
	}
	cfg := email.Config{Addr: addr, From: from, Username: username}
	switch {
	case passwordFile != "" && envPassword != "":
		return email.Config{}, fmt.Errorf("give the SMTP password in %s or --smtp-password-file, not both", envSMTPPassword)
	case passwordFile != "":
		if cfg.Password, err = readPasswordFile(passwordFile); err != nil {
			return email.Config{}, err
		}
	default:
		cfg.Password = envPassword
	}
	if username == "" && cfg.Password != "" {
		return email.Config{}, errors.New("an SMTP password is given without --smtp-username")
	}
	if username != "" && cfg.Password == "" {
		return email.Config{}, fmt.Errorf("--smtp-username needs a password: set %s or --smtp-password-file", envSMTPPassword)
	}
	return cfg, nil
}

// readPasswordFile reads a password file that only its owner may read,
// dropping one trailing newline.
func readPasswordFile(path string) (string, error) {
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("--smtp-password-file: %w", err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			return "", fmt.Errorf("--smtp-password-file: %s has mode %04o, so users other than its owner may read or change it; run `chmod 600 %s`",
				path, perm, path)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--smtp-password-file: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if pw == "" {
		return "", fmt.Errorf("--smtp-password-file: %s is empty", path)
	}
	return pw, nil
}

// envDuration is the duration in the environment variable name, or def
// when it is unset.
func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: want a duration, as 24h", name, v)
	}
	return d, nil
}

// egressPolicy builds the probes' egress policy from the flags' values.
func egressPolicy(allowCIDRs, denyCIDRs, denyHosts string) (*egress.Policy, error) {
	var p egress.Policy
	var err error
	if p.AllowCIDRs, err = egress.ParseCIDRs(allowCIDRs); err != nil {
		return nil, fmt.Errorf("--probe-allow-cidrs: %w", err)
	}
	if p.DenyCIDRs, err = egress.ParseCIDRs(denyCIDRs); err != nil {
		return nil, fmt.Errorf("--probe-deny-cidrs: %w", err)
	}
	if p.DenyHosts, err = egress.ParseHosts(denyHosts); err != nil {
		return nil, fmt.Errorf("--probe-deny-hosts: %w", err)
	}
	return &p, nil
}

// envInt is the integer in the environment variable name, or def when it is
// unset.
func envInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: want a whole number", name, v)
	}
	return n, nil
}

// envFloat is the number in the environment variable name, or def when it
// is unset.
func envFloat(name string, def float64) (float64, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: want a number", name, v)
	}
	return f, nil
}

// devFlags are the parsed flags of aiod dev.
type devFlags struct {
	listen, data, root, level string
	// cpuProfile, when set, is the file that gets a CPU profile of aiod
	// dev's whole run (make bench-terraform -aiod-cpuprofile).
	cpuProfile string
	// o holds the alerting options (SMTP, alert interval, delivery times).
	o daemon.Options
}

// parseDevFlags parses the flags of aiod dev: its own and the alerting
// flags it shares with aiod serve.
func parseDevFlags(args []string, stderr io.Writer) (devFlags, error) {
	fs := newFlags("dev", stderr)
	listen := fs.String("listen", env("AIOD_LISTEN", daemon.DefaultListen), "address to listen on")
	data := fs.String("data", "", "data directory (default: a new temporary directory)")
	root := fs.String("root-token", daemon.DefaultRootToken, "root (admin) token; required off loopback")
	level := fs.String("log-level", env("AIOD_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	cpuProfile := fs.String("cpuprofile", env("AIOD_CPUPROFILE", ""), "write a CPU profile of the whole run to this file (for benchmarks; off by default)")
	af, err := addAlertingFlags(fs)
	if err != nil {
		return devFlags{}, err
	}
	rl, err := rateLimitFlags(fs)
	if err != nil {
		return devFlags{}, err
	}
	if err := fs.Parse(args); err != nil {
		return devFlags{}, err
	}
	if err := rl.check(); err != nil {
		return devFlags{}, err
	}
	f := devFlags{listen: *listen, data: *data, root: *root, level: *level, cpuProfile: *cpuProfile}
	if err := af.apply(&f.o, smtpPasswordFromEnv()); err != nil {
		return devFlags{}, err
	}
	f.o.RateLimit, f.o.RateBurst = rl.limit, rl.burst
	return f, nil
}

func cmdDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseDevFlags(args, stderr)
	if err != nil {
		return err
	}
	logger, err := daemon.NewLogger(stderr, f.level, "text")
	if err != nil {
		return err
	}
	if err := daemon.CheckDevListen(f.listen, f.root, logger); err != nil {
		return err
	}
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	dir := f.data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "aiod-dev-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	dbPath := filepath.Join(dir, "aio.db")
	keyPath := filepath.Join(dir, "aio.key")
	if err := daemon.EnsureKeyFile(keyPath); err != nil {
		return err
	}
	kr, err := daemon.LoadKeyring(keyPath, "")
	if err != nil {
		return err
	}
	st, err := daemon.OpenStore(ctx, dbPath)
	if err != nil {
		return err
	}
	err = daemon.EnsureRootToken(ctx, st, clock.Real{}, f.root)
	st.Close()
	if err != nil {
		return err
	}
	o := f.o
	o.Listen, o.Database, o.Logger, o.Keyring = f.listen, dbPath, logger, kr
	o.Egress, o.MaxMonitors, o.MaxProbeRate = devEgress(), daemon.DefaultMaxMonitors, daemon.DefaultMaxProbeRate
	o.Ready = func(addr string) { fmt.Fprint(stdout, daemon.DevBanner(addr, f.root, dir)) }
	return daemon.Serve(ctx, o)
}

// devEgress is the egress policy of aiod dev: the default one, with
// loopback allowed explicitly (the default denies it), since the quickstart
// probes targets on this machine and aiod dev is a single developer's
// sandbox, not a shared service.
func devEgress() *egress.Policy {
	return egress.AllowLoopback()
}

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("token: want create, list or revoke")
	}
	fs := newFlags("token "+args[0], stderr)
	db := fs.String("database", env("AIOD_DATABASE", daemon.DefaultDatabase), "SQLite database file")
	var (
		name, role, id string
		ttl            time.Duration
		rateLimit      float64
	)
	switch args[0] {
	case "create":
		fs.StringVar(&name, "name", "", "token name (unique)")
		fs.StringVar(&role, "role", "", "admin, editor or viewer")
		fs.DurationVar(&ttl, "ttl", 0, "lifetime, as in 720h (default: no expiry)")
		fs.Float64Var(&rateLimit, "rate-limit", 0, "this token's own limit in requests per second, burst twice it (default: the server's --rate-limit)")
	case "revoke":
		fs.StringVar(&id, "id", "", "token ID")
		fs.StringVar(&name, "name", "", "token name")
	case "list":
	default:
		return fmt.Errorf("token: unknown command %q: want create, list or revoke", args[0])
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, err := daemon.OpenStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	clk := clock.Real{}
	switch args[0] {
	case "create":
		in := auth.CreateInput{Name: name, Role: role, TTL: ttl}
		// Only a flag given on the command line sets the token's own limit:
		// 0, the flag's default, would otherwise be refused.
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "rate-limit" {
				in.RateLimit = &rateLimit
			}
		})
		if errs := in.Validate(); len(errs) > 0 {
			return fmt.Errorf("--%s %s", errs[0].Field, errs[0].Message)
		}
		var secret string
		err := st.Write(ctx, func(tx store.Tx) error {
			var err error
			_, secret, err = auth.Create(ctx, tx, clk, in, auth.CLIActor)
			return err
		})
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("a token named %q already exists", name)
		}
		if err != nil {
			return err
		}
		// The secret is printed once and never stored: keep it now.
		fmt.Fprintln(stdout, secret)
		return nil
	case "revoke":
		key := id
		if key == "" {
			key = name
		}
		if key == "" {
			return errors.New("token revoke: --id or --name is required")
		}
		err := st.Write(ctx, func(tx store.Tx) error {
			_, err := auth.Revoke(ctx, tx, clk, key, auth.CLIActor)
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no active token with id or name %q", key)
		}
		if err == nil {
			fmt.Fprintf(stdout, "revoked %s\n", key)
		}
		return err
	}
	toks, err := st.ListTokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tEXPIRES\tRATE_LIMIT\tSTATUS")
	now := clk.Now()
	for _, t := range toks {
		exp, status := "never", "active"
		if t.ExpiresAt != nil {
			exp = t.ExpiresAt.Format(time.RFC3339)
			if !now.Before(*t.ExpiresAt) {
				status = "expired"
			}
		}
		if t.RevokedAt != nil {
			status = "revoked"
		}
		rl := "default"
		if t.RateLimit != nil {
			rl = strconv.FormatFloat(*t.RateLimit, 'g', -1, 64) + "/s"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), exp, rl, status)
	}
	return tw.Flush()
}

func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("keys: want generate or rotate")
	}
	switch args[0] {
	case "generate":
		fmt.Fprintln(stdout, secret.NewKey().String())
		return nil
	case "rotate":
	default:
		return fmt.Errorf("keys: unknown command %q: want generate or rotate", args[0])
	}
	fs := newFlags("keys rotate", stderr)
	db := fs.String("database", env("AIOD_DATABASE", daemon.DefaultDatabase), "SQLite database file")
	keyFile := fs.String("key-file", env("AIOD_KEY_FILE", ""), "file of encryption keys, rewritten with the new key first")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	kr, err := daemon.LoadKeyring(*keyFile, os.Getenv(daemon.EnvEncryptionKey))
	if err != nil {
		return err
	}
	st, err := daemon.OpenStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := daemon.RotateKeys(ctx, st, clock.Real{}, kr, *keyFile)
	if err != nil {
		return err
	}
	if *keyFile != "" {
		fmt.Fprintf(stdout, "re-wrapped %s under the new key %s\n", secretsCount(res.Rewrapped), res.NewKey.ID)
		fmt.Fprintf(stdout, "%s now holds the new key first and the old ones after it; a running aiod picks it up by itself\n", *keyFile)
		return nil
	}
	fmt.Fprintf(stdout, "re-wrapped %s under %s, the first key of %s\n", secretsCount(res.Rewrapped), res.NewKey.ID, daemon.EnvEncryptionKey)
	if len(res.Keys) > 1 {
		fmt.Fprintf(stdout, "no secret uses the other keys any more: once every aiod runs with it, %s=%s is enough (keep the old value with your backups)\n",
			daemon.EnvEncryptionKey, res.Keys[0].String())
	}
	return nil
}

func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", stderr)
	db := fs.String("database", env("AIOD_DATABASE", daemon.DefaultDatabase), "SQLite database file")
	out := fs.String("out", "", "file to write the copy to (must not exist)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: --out is required")
	}
	if err := daemon.Backup(ctx, *db, *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote a consistent copy of %s to %s\nback up the encryption key too: without it every stored secret is lost\n", *db, *out)
	return nil
}

// secretsCount is "1 secret" or "n secrets".
func secretsCount(n int) string {
	if n == 1 {
		return "1 secret"
	}
	return fmt.Sprintf("%d secrets", n)
}

// startCPUProfile profiles the process into the file at path until the
// returned function is called: aiod dev --cpuprofile, so that a benchmark
// can see where aiod's time goes (pprof, not guesses).
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path) //nolint:gosec // G304: the developer names the file; off unless set.
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}
