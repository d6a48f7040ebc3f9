// Package server is aiod's HTTP API: routing, authentication and roles,
// rate limits, idempotency, problem+json errors and the handlers of every
// kind. Business rules that the command line shares live in their own
// packages (auth); the server only speaks HTTP around them.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Config holds what the server needs. Store is required; the rest have
// defaults.
type Config struct {
	Store  store.Store
	Clock  clock.Clock
	Logger *slog.Logger
	// RateLimit is the sustained requests per second allowed per token;
	// RateBurst the burst above it. A token with its own rate_limit gets
	// that rate and a burst of twice it instead.
	RateLimit float64
	RateBurst int
	// MetricsRegisterer, when set, gets the API's own metrics
	// (aio_api_requests_total by method, route and status), so that they
	// are served at /metrics beside the engine's.
	MetricsRegisterer prometheus.Registerer
	// IdempotencyTTL is how long an idempotent answer is kept (24 h).
	IdempotencyTTL time.Duration
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64
	// Keyring seals credential secrets. Without it, aiod serves everything
	// but the storing of secrets.
	Keyring *secret.Keyring
	// OnChange, when set, is called after every successful write of a
	// configuration object (create, update, delete, replays included),
	// with its kind and ID, so that the engine picks the change up at once.
	OnChange func(kind, id string)
	// Metrics, when set, is served at /metrics (Prometheus text format).
	Metrics http.Handler
	// AuthFailureLimit is how many requests that fail authentication (401)
	// one client address may send per AuthFailureWindow; past it, the
	// address gets 429 with Retry-After until its budget refills.
	AuthFailureLimit  int
	AuthFailureWindow time.Duration
	// BodyReadTimeout bounds the time from the start of a request's
	// handling to the last byte of its body. A client that sends its body
	// more slowly gets 408 and its connection is closed.
	BodyReadTimeout time.Duration
	// MaxMonitors caps the number of monitors: creating one more is
	// refused with 400. Zero or less means no cap.
	MaxMonitors int
	// MaxProbeRate caps the probes per second that the enabled monitors
	// ask for together (the sum of 1/interval): a create or update that
	// would raise the sum past it is refused with 400 on interval. Zero or
	// less means no cap.
	MaxProbeRate float64
	// HistoryAge is how long revisions and tombstones are kept (the
	// engine prunes them); deleted objects older than this are neither
	// listed nor restored. 400 days when zero.
	HistoryAge time.Duration
	// TestChannel, when set, sends a test message through a notification
	// channel and reports the receiver's answer (POST
	// /v1/notification-channels/{id}/test; 503 without it). The engine's
	// delivery worker provides it.
	TestChannel func(ctx context.Context, c store.ChannelRecord) (api.ChannelTestResult, error)
	// ChannelTestInterval is the least time between two tests of one
	// channel (DefaultChannelTestInterval); a test sooner gets 429 with
	// Retry-After.
	ChannelTestInterval time.Duration
	// Retention, when set, runs retention policies on request, reads the
	// compliance view and is woken when an erasure request is stored: the
	// engine's enforcer provides it, and its loop carries out the erasure
	// requests the API stores. Without it POST
	// /v1/retention-policies/{id}/run and GET /v1/compliance/retention
	// answer 503, and erasure requests stay pending.
	Retention Retention
}

// Retention is what the API asks of retention enforcement. The engine
// implements it (internal/engine/retention); aiod wires the two, so that
// the server depends on no engine package.
type Retention interface {
	// RunPolicy runs p now (or with dryRun counts what a run would
	// change, changing nothing), recorded and audited under actor.
	RunPolicy(ctx context.Context, p api.RetentionPolicy, dryRun bool, actor auth.Actor) (api.RetentionRun, error)
	// Compliance reports, per data kind and scope, whether the data held
	// is within policy.
	Compliance(ctx context.Context) (api.RetentionCompliance, error)
	// Wake asks for pending erasure requests to be carried out soon.
	Wake()
	// Pseudonym is the keyed pseudonym that an actor's erasure gives the
	// actor's name.
	Pseudonym(ctx context.Context, actor string) (string, error)
}

// Defaults of Config.
//
// The rate limit guards aiod against a runaway client, not against its main
// user: a team's CI token refreshing a large configuration. A refresh sends
// one GET per resource (make bench-terraform counts 1.00), at most 10 at a
// time (Terraform's default parallelism), and Terraform's own per-resource
// work bounds its pace: on the 2-core benchmark machine a provider that
// does nothing refreshes 1,000 resources in 2.1-2.7 s (issue 13), under 500
// per second. 1,000 requests per second sustained is twice that, and the
// burst of 2,000 covers a plan's opening rush, so a refresh of 10,000
// resources, or a plan and its apply back to back, is never throttled
// (TestDefaultRateLimitFitsTerraform). The old 50/s held the same refresh to
// 200 s. A runaway token still gets at most a fifth of what aiod answers
// (about 5,000 GETs per second here), and a token can be given its own
// rate_limit either way.
const (
	DefaultRateLimit      = 1000
	DefaultRateBurst      = 2000
	DefaultIdempotencyTTL = 24 * time.Hour
	DefaultMaxBodyBytes   = 1 << 20
	// A client that fails authentication 20 times gets one more try every
	// 3 s: enough for a person mistyping a token, not for a scanner.
	DefaultAuthFailureLimit  = 20
	DefaultAuthFailureWindow = time.Minute
	// 30 s lets a body of DefaultMaxBodyBytes arrive at 35 kB/s.
	DefaultBodyReadTimeout = 30 * time.Second
	// DefaultHistoryAge matches the engine's default history retention.
	DefaultHistoryAge = 400 * 24 * time.Hour
	// A channel test reaches people (PagerDuty opens an incident, chat
	// and mail show a message): one every 10 s per channel is plenty for
	// someone checking a setup, and keeps an editor's token from paging
	// on-call or flooding a chat through it.
	DefaultChannelTestInterval = 10 * time.Second
)

// Server serves the aiod API.
type Server struct {
	cfg    Config
	store  store.Store
	clock  clock.Clock
	log    *slog.Logger
	mux    *http.ServeMux
	fpKey  []byte
	limits sync.Map // token ID → *tokenLimiter
	// requests counts API answers by method, route pattern and status.
	requests *prometheus.CounterVec
	// authFails throttles failed authentication per client address.
	authFails *authFailures
	retention Retention

	inflightMu sync.Mutex
	inflight   map[store.IdempotencyKey]struct{}

	// lastTest holds when each channel was last tested (in memory: a
	// restart forgets it, which costs at most one more test).
	lastTestMu sync.Mutex
	lastTest   map[string]time.Time
}

const fingerprintSetting = "idempotency_fingerprint_key"

// New builds a server. It loads (or makes, on first start) the key of the
// idempotency fingerprints, which must survive restarts so that a request
// retried across a restart is still recognised.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: a store is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = DefaultRateBurst
	}
	if cfg.IdempotencyTTL <= 0 {
		cfg.IdempotencyTTL = DefaultIdempotencyTTL
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.AuthFailureLimit <= 0 {
		cfg.AuthFailureLimit = DefaultAuthFailureLimit
	}
	if cfg.AuthFailureWindow <= 0 {
		cfg.AuthFailureWindow = DefaultAuthFailureWindow
	}
	if cfg.BodyReadTimeout <= 0 {
		cfg.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if cfg.HistoryAge <= 0 {
		cfg.HistoryAge = DefaultHistoryAge
	}
	if cfg.ChannelTestInterval <= 0 {
		cfg.ChannelTestInterval = DefaultChannelTestInterval
	}
	s := &Server{cfg: cfg, store: cfg.Store, clock: cfg.Clock, log: cfg.Logger, inflight: map[store.IdempotencyKey]struct{}{},
		lastTest:  map[string]time.Time{},
		authFails: newAuthFailures(cfg.AuthFailureLimit, cfg.AuthFailureWindow), retention: cfg.Retention}
	key, err := loadOrCreateKey(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	s.fpKey = key
	if cfg.MetricsRegisterer != nil {
		s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aio_api_requests_total",
			Help: "Authenticated API requests answered, by method, route pattern and status code.",
		}, []string{"method", "route", "code"})
		if err := cfg.MetricsRegisterer.Register(s.requests); err != nil {
			return nil, fmt.Errorf("register the API metrics: %w", err)
		}
	}
	s.routes()
	return s, nil
}

func loadOrCreateKey(ctx context.Context, st store.Store) ([]byte, error) {
	var key []byte
	err := st.Write(ctx, func(tx store.Tx) error {
		k, err := tx.GetSetting(ctx, fingerprintSetting)
		if err == nil {
			key = k
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		key = make([]byte, 32)
		_, _ = rand.Read(key)
		return tx.PutSetting(ctx, fingerprintSetting, key)
	})
	if err != nil {
		return nil, fmt.Errorf("load the idempotency key: %w", err)
	}
	return key, nil
}

// ServeHTTP makes Server an http.Handler. Every answer, errors and unknown
// routes included, tells browsers and caches not to guess its type and not
// to keep it: answers carry configuration and, once, token secrets.
//
// It also bounds the reading of the body, from now, by BodyReadTimeout:
// this read deadline replaces the http.Server's ReadTimeout for the rest
// of the request, so a client trickling its body cannot hold a handler
// longer, whether or not the handler reads the body (net/http drains an
// unread body after the handler). As with ReadTimeout, a handler still
// running when the deadline passes sees its context cancelled: no handler
// should take that long.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	// The deadline is of the real clock, as the network's are. net/http's
	// HTTP/1 and HTTP/2 connections both take it; any other writer keeps
	// whatever bound its server sets.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyReadTimeout))
	s.mux.ServeHTTP(w, r)
}

// handlerFunc is a handler that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p principal) error

// principal is the authenticated caller of a request.
type principal struct {
	token api.Token
}

func (p principal) actor() auth.Actor {
	return auth.Actor{TokenID: p.token.ID, Name: p.token.Name, Role: p.token.Role}
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	if s.cfg.Metrics != nil {
		m.Handle("GET /metrics", s.cfg.Metrics)
	}

	for _, rt := range s.apiRoutes() {
		m.Handle(rt.method+" "+rt.pattern, s.api(rt.pattern, rt.role, rt.handle))
	}

	// Everything else is a problem+json answer rather than the mux's plain
	// text: 405 with Allow when the path exists for other methods, else 404.
	// (The catch-all matches every method, so the mux's own 405 never fires.)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := s.allowedMethods(r); len(allow) > 0 {
			p := problemf(http.StatusMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path)
			p.header = map[string]string{"Allow": strings.Join(allow, ", ")}
			writeProblem(w, p)
			return
		}
		writeProblem(w, problemf(http.StatusNotFound, "no route for %s %s", r.Method, r.URL.Path))
	})
	s.mux = m
}

// route is one authenticated API route: the method and path pattern the
// mux matches, the least role that may use it, and its handler.
type route struct {
	method, pattern, role string
	handle                handlerFunc
}

// apiRoutes is the one table of every authenticated route. The mux is made
// from it, and the authorization test walks it, so that a route cannot be
// served without the roles test knowing it. A configuration kind adds its
// five routes with one line.
func (s *Server) apiRoutes() []route {
	return slices.Concat(
		kindRoutes(s, s.endpoints()),
		kindRoutes(s, s.credentials()),
		kindRoutes(s, s.monitors()),
		kindRoutes(s, s.channels()),
		kindRoutes(s, s.thresholds()),
		kindRoutes(s, s.retentionPolicies()),
		s.retentionRoutes(),
		[]route{
			{http.MethodGet, "/v1/monitors/{id}/status", api.RoleViewer, s.monitorStatus},
			{http.MethodGet, "/v1/monitors/{id}/results", api.RoleViewer, s.monitorResults},
			{http.MethodGet, "/v1/audit-events", api.RoleViewer, s.listAuditEvents},
			{http.MethodGet, "/v1/alerts", api.RoleViewer, s.listAlerts},
			{http.MethodGet, "/v1/alert-events", api.RoleViewer, s.listAlertEvents},
			{http.MethodGet, "/v1/deliveries", api.RoleViewer, s.listDeliveries},
			{http.MethodPost, "/v1/notification-channels/{id}/test", api.RoleEditor, s.testChannel},
			{http.MethodGet, "/v1/whoami", api.RoleViewer, s.whoami},
			{http.MethodGet, "/v1/tokens", api.RoleAdmin, s.listTokens},
			{http.MethodPost, "/v1/tokens", api.RoleAdmin, s.createToken},
			{http.MethodDelete, "/v1/tokens/{id}", api.RoleAdmin, s.revokeToken},
		},
	)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.ErrorContext(r.Context(), "readiness check failed", "error", err)
		writeProblem(w, problemf(http.StatusServiceUnavailable, "the database does not answer"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// statusRecorder remembers the status for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// api wraps a handler with request logging, panic recovery,
// authentication, the role check and the per-token rate limit. pattern is
// the route's path pattern, the label of the request counter (bounded, unlike
// the path).
func (s *Server) api(pattern, need string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.clock.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		var p principal
		defer func() {
			if v := recover(); v != nil {
				s.log.ErrorContext(r.Context(), "handler panicked", "panic", fmt.Sprint(v), "method", r.Method, "path", r.URL.Path)
				writeProblem(rec, problemf(http.StatusInternalServerError, "internal error"))
			}
			// The request log names the token, never its secret, and
			// leaves out the query string and headers.
			s.log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"token", p.token.Name, "duration_ms", s.clock.Now().Sub(start).Milliseconds())
			if s.requests != nil {
				s.requests.WithLabelValues(r.Method, pattern, strconv.Itoa(rec.status)).Inc()
			}
		}()
		if err := s.serveAPI(rec, r, need, h, &p); err != nil {
			s.writeError(rec, r, err)
		}
	})
}

// unauthorized is the one 401 detail. Missing, malformed, unknown,
// expired and revoked tokens all get it, so that the answer does not tell
// whether a presented token exists.
const unauthorized = "a valid bearer token is required"

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, need string, h handlerFunc, p *principal) error {
	addr, hasAddr := clientAddr(r)
	if hasAddr {
		if wait, blocked := s.authFails.blocked(addr, s.clock.Now()); blocked {
			return &problemError{status: http.StatusTooManyRequests, detail: "too many requests with no valid token from this address",
				header: map[string]string{"Retry-After": wait}}
		}
	}
	deny := func(www string) error {
		if hasAddr {
			s.authFails.fail(addr, s.clock.Now())
		}
		return &problemError{status: http.StatusUnauthorized, detail: unauthorized, header: map[string]string{"WWW-Authenticate": www}}
	}
	// The scheme is case-insensitive (RFC 9110, section 11.1).
	scheme, secret, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return deny(`Bearer realm="aiod"`)
	}
	tok, err := auth.Authenticate(r.Context(), s.store, strings.TrimSpace(secret), s.clock.Now())
	if errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrExpiredToken) {
		return deny(`Bearer realm="aiod", error="invalid_token"`)
	}
	if err != nil {
		return err
	}
	p.token = tok
	if !s.allow(tok) {
		return &problemError{status: http.StatusTooManyRequests, detail: "rate limit exceeded for this token",
			header: map[string]string{"Retry-After": s.retryAfter(tok)}}
	}
	if !auth.Allows(tok.Role, need) {
		return problemf(http.StatusForbidden, "role %s may not %s %s (needs %s)", tok.Role, r.Method, r.URL.Path, need)
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	return h(w, r, *p)
}

// limiter is the token's rate limiter: the server's default, or the
// token's own rate_limit with a burst of twice it (at least 1). A token's
// rate_limit is set at its creation and never changes, so the limiter made
// on its first request stays right, unless the clock goes back.
func (s *Server) limiter(tok api.Token) *rate.Limiter {
	now := s.clock.Now()
	if v, ok := s.limits.Load(tok.ID); ok {
		e := v.(*tokenLimiter)
		if l := e.at(now); l != nil {
			return l
		}
		// The clock went back: golang.org/x/time/rate keeps the time of
		// its last granted request and adds no tokens before it, so the
		// token would be refused until the clock came round again (an
		// hour set back, an hour of 429s). A fresh limiter starts full.
		s.limits.CompareAndSwap(tok.ID, v, s.newTokenLimiter(tok, now))
		return s.limiter(tok)
	}
	v, _ := s.limits.LoadOrStore(tok.ID, s.newTokenLimiter(tok, now))
	return v.(*tokenLimiter).l
}

func (s *Server) newTokenLimiter(tok api.Token, now time.Time) *tokenLimiter {
	limit, burst := s.cfg.RateLimit, s.cfg.RateBurst
	if tok.RateLimit != nil {
		limit = *tok.RateLimit
		burst = max(1, int(math.Ceil(2*limit)))
	}
	return &tokenLimiter{l: rate.NewLimiter(rate.Limit(limit), burst), seen: now}
}

// tokenLimiter is one token's rate limiter and the latest time it was
// asked at, to notice a clock set back.
type tokenLimiter struct {
	mu   sync.Mutex
	l    *rate.Limiter
	seen time.Time
}

// at returns the limiter for a request at now, or nil when now is before
// a time it was already asked at.
func (t *tokenLimiter) at(now time.Time) *rate.Limiter {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Before(t.seen) {
		return nil
	}
	t.seen = now
	return t.l
}

func (s *Server) allow(tok api.Token) bool {
	return s.limiter(tok).AllowN(s.clock.Now(), 1)
}

// retryAfter tells, in whole seconds rounded up, when the next request of
// this token will be allowed.
func (s *Server) retryAfter(tok api.Token) string {
	l := s.limiter(tok)
	now := s.clock.Now()
	res := l.ReserveN(now, 1)
	d := res.DelayFrom(now)
	res.CancelAt(now)
	return retryAfterSeconds(d)
}

// writeError maps an error to its HTTP answer. Unknown errors are 500s
// whose cause is logged, not shown.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		p      *problemError
		maxErr *http.MaxBytesError
	)
	switch {
	case errors.As(err, &p):
	case errors.As(err, &maxErr):
		p = problemf(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", maxErr.Limit)
	case errors.Is(err, store.ErrNotFound):
		p = problemf(http.StatusNotFound, "no such object")
	case errors.Is(err, store.ErrStorageFull):
		// Nothing of the request was stored (its transaction rolled
		// back), and the same request succeeds once space is freed: a
		// 503 that clients retry, not a 500.
		s.log.ErrorContext(r.Context(), "the database's disk is full; free space for aiod to store changes again", "method", r.Method, "path", r.URL.Path, "error", err)
		p = problemf(http.StatusServiceUnavailable, "the database's disk is full: nothing was stored; retry once an operator has freed space")
		p.header = map[string]string{"Retry-After": "30"}
	case errors.Is(err, context.Canceled):
		p = problemf(499, "the client went away")
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Only the body read has a deadline here (BodyReadTimeout): the
		// client sent too slowly, which is its fault, not aiod's. The
		// connection is closed, as what is left of the body is unread.
		s.log.InfoContext(r.Context(), "the client sent its request body too slowly", "method", r.Method, "path", r.URL.Path,
			"timeout", s.cfg.BodyReadTimeout.String())
		p = problemf(http.StatusRequestTimeout, "the request body did not arrive within %s", s.cfg.BodyReadTimeout)
		p.header = map[string]string{"Connection": "close"}
	default:
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		p = problemf(http.StatusInternalServerError, "internal error")
	}
	writeProblem(w, p)
}

// readBody reads the whole request body (bounded by MaxBytesReader).
func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(r.Body)
}

// allowedMethods lists the methods that have a route for r's path.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	return allow
}
