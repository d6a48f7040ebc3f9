// Package client is the Go client of the aiod HTTP API (/v1) that the
// Terraform provider uses.
//
// The client is built on go-retryablehttp, but replaces its retry policy: it
// retries only what is safe to retry (reads always, writes only when they
// carry an Idempotency-Key, which every write made through this package
// does), honours Retry-After only up to a cap, and bounds every attempt with a
// timeout. Failures come back as typed errors (see APIError and the Err*
// sentinels) rather than Terraform diagnostics, so that the provider decides
// how to present them.
package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// Defaults applied by New to zero Config fields. They are exported so that
// the provider can document them without repeating the numbers.
const (
	// DefaultRetryMax is the number of retries after the first attempt.
	DefaultRetryMax = 4
	// DefaultRequestTimeout bounds one attempt, not the whole call, so that
	// a hung connection costs one attempt rather than the whole operation.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultMinBackoff is the wait before the first retry.
	DefaultMinBackoff = 250 * time.Millisecond
	// DefaultMaxBackoff caps every wait, including one asked for by the
	// server through Retry-After, so that a misbehaving server cannot stall
	// a Terraform run for hours.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultUserAgent identifies the provider to the server when the
	// caller does not set one.
	DefaultUserAgent = "terraform-provider-aio"
	// MaxIdleConnsPerHost is how many idle keep-alive connections to aiod
	// the transport keeps. Terraform runs 10 operations at once by default
	// (-parallelism), and people raise it; cleanhttp's pooled transport
	// keeps only GOMAXPROCS+1 (3 on a 2-core machine), so that every
	// request beyond the third of a burst opened a new connection and
	// closed it after one answer. 64 keeps one per operation at any
	// parallelism people use, and costs nothing when fewer are open.
	MaxIdleConnsPerHost = 64
)

// maxResponseBody limits how much of a successful response is decoded, so
// that a broken proxy cannot make the provider read without bound.
const maxResponseBody = 32 << 20

// Config configures a Client. Zero values select the documented defaults.
type Config struct {
	// Address is the base URL of aiod, such as "https://aio.example.com".
	// A trailing slash is tolerated; a path prefix is kept.
	Address string
	// Token is sent as "Authorization: Bearer <token>" on every request.
	// It is never logged.
	Token string
	// RetryMax is the number of retries after the first attempt. Zero means
	// DefaultRetryMax; a negative value disables retries.
	RetryMax int
	// RequestTimeout bounds each attempt (connect, send, headers and body).
	// Zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MinBackoff is the wait before the first retry; later waits double.
	// Zero means DefaultMinBackoff.
	MinBackoff time.Duration
	// MaxBackoff caps every wait, including Retry-After. Zero means
	// DefaultMaxBackoff.
	MaxBackoff time.Duration
	// HTTPClient is an optional base client, for example to carry TLS
	// settings. It is copied, never modified: the copy gets RequestTimeout
	// as its Timeout.
	HTTPClient *http.Client
	// UserAgent is sent with every request. Empty means DefaultUserAgent.
	UserAgent string
}

// Client talks to one aiod server. It is safe for concurrent use.
type Client struct {
	baseURL    string
	token      string
	userAgent  string
	retryMax   int
	minBackoff time.Duration
	maxBackoff time.Duration
	httpClient *http.Client

	// selfMu guards self, the token this client runs with once Self has
	// read it: a token's name and role do not change while it is valid.
	selfMu sync.Mutex
	self   *api.Token
}

// New checks cfg and returns a Client. It fails when the address is not an
// absolute http or https URL, because every later request would fail with a
// less helpful message.
func New(cfg Config) (*Client, error) {
	base, err := parseAddress(cfg.Address)
	if err != nil {
		return nil, err
	}

	c := &Client{
		baseURL:    base,
		token:      cfg.Token,
		userAgent:  cfg.UserAgent,
		retryMax:   cfg.RetryMax,
		minBackoff: cfg.MinBackoff,
		maxBackoff: cfg.MaxBackoff,
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	switch {
	case c.retryMax == 0:
		c.retryMax = DefaultRetryMax
	case c.retryMax < 0:
		c.retryMax = 0
	}
	if c.minBackoff <= 0 {
		c.minBackoff = DefaultMinBackoff
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = DefaultMaxBackoff
	}
	if c.minBackoff > c.maxBackoff {
		// A cap below the floor would be contradictory; the cap wins
		// because it is the promise made to the user about waiting.
		c.minBackoff = c.maxBackoff
	}
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}

	// A pooled client of our own, rather than http.DefaultClient, so that
	// setting its timeout cannot affect anyone else in the process.
	hc := &http.Client{Transport: NewTransport()}
	if cfg.HTTPClient != nil {
		cp := *cfg.HTTPClient
		hc = &cp
	}
	hc.Timeout = timeout
	c.httpClient = hc
	return c, nil
}

// NewTransport returns the HTTP transport the client uses unless given
// another: cleanhttp's pooled transport (proxy from the environment,
// timeouts, keep-alive) keeping MaxIdleConnsPerHost idle connections
// instead of GOMAXPROCS+1.
func NewTransport() *http.Transport {
	tr := cleanhttp.DefaultPooledTransport()
	tr.MaxIdleConnsPerHost = MaxIdleConnsPerHost
	tr.MaxIdleConns = max(tr.MaxIdleConns, MaxIdleConnsPerHost)
	return tr
}

// parseAddress validates the configured address and returns it without a
// trailing slash, ready to have "/v1/..." appended.
func parseAddress(address string) (string, error) {
	address = strings.TrimSpace(address)
	if address == "" {
		return "", errors.New("the aiod address is empty; set it to a URL such as https://aio.example.com")
	}
	u, err := url.Parse(address)
	if err != nil {
		return "", fmt.Errorf("the aiod address %q is not a valid URL: %w", address, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("the aiod address %q must be an http or https URL such as https://aio.example.com", address)
	}
	if u.Host == "" {
		return "", fmt.Errorf("the aiod address %q has no host", address)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("the aiod address %q must not contain a query, a fragment or user information", address)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// request describes one API call before it becomes an HTTP request.
type request struct {
	method string
	// path starts with "/v1/" and is already escaped.
	path  string
	query url.Values
	// ifMatch is sent as If-Match: "<ifMatch>" when it is not zero.
	ifMatch int64
	// idempotencyKey is sent as Idempotency-Key when it is not empty. It
	// decides whether a write may be retried.
	idempotencyKey string
	// body is encoded as JSON when it is not nil.
	body any
}

// do makes one API call: it encodes in as the JSON body (when not nil),
// decodes a 2xx answer into out (when not nil), and turns every other answer
// into an error. A mutating call gets a fresh idempotency key here, once,
// outside the retry loop, so that every retry of this call re-sends the
// same key and the server can answer a replay with its stored response.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, ifMatch int64, in, out any) error {
	r := request{method: method, path: path, query: query, ifMatch: ifMatch, body: in}
	if isWrite(method) {
		r.idempotencyKey = newIdempotencyKey()
	}
	return c.send(ctx, r, out)
}

// send performs r with retries and decodes the answer into out. It is
// separate from do so that tests can send a write without an idempotency
// key and see that it is not retried.
func (c *Client) send(ctx context.Context, r request, out any) error {
	var body any // stays a nil interface for a request without a body
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("%s %s: encoding the request body: %w", r.method, r.path, err)
		}
		body = b
	}

	target := c.baseURL + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return fmt.Errorf("%s %s: building the request: %w", r.method, r.path, err)
	}
	req.Header.Set("Accept", api.ContentTypeJSON)
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", api.ContentTypeJSON)
	}
	if r.ifMatch != 0 {
		req.Header.Set("If-Match", strconv.Quote(strconv.FormatInt(r.ifMatch, 10)))
	}
	if r.idempotencyKey != "" {
		req.Header.Set(api.HeaderIdempotency, r.idempotencyKey)
	}

	rc, attempts := c.retryClient(ctx, req.Request, r)
	resp, err := rc.Do(req)
	if err != nil {
		var te *TransportError
		if errors.As(err, &te) {
			// Already names the call; naming it again would repeat it.
			return err
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			// go-retryablehttp returns the bare context error when the
			// caller gives up during a backoff wait; say which call it was.
			return fmt.Errorf("%s %s: %w", r.method, r.path, err)
		}
		return err
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// A status that is not retried can still follow retried ones
		// (503, 503, 500), so the attempt count comes from the log hook.
		return newAPIError(resp, max(attempts.attempt, 1))
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		// Drain the body so that the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBody)).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the %d response: %w", r.method, r.path, resp.StatusCode, err)
	}
	return nil
}

// retryClient makes the go-retryablehttp client for one call. It is cheap
// (the *http.Client and its connection pool are shared) and lets the logger,
// the retry policy and the error handler see this call's context and
// request. The returned attemptLog counts the attempts made.
func (c *Client) retryClient(ctx context.Context, httpReq *http.Request, r request) (*retryablehttp.Client, *attemptLog) {
	logCtx := ctx
	if c.token != "" {
		// Defence in depth: the token is never put in a log field or
		// message on purpose, and this masks it should it ever be.
		logCtx = maskToken(logCtx, c.token)
	}
	hooks := &attemptLog{ctx: logCtx, idempotencyKey: r.idempotencyKey}
	return &retryablehttp.Client{
		HTTPClient:   c.httpClient,
		Logger:       leveledLogger{ctx: logCtx},
		RetryWaitMin: c.minBackoff,
		RetryWaitMax: c.maxBackoff,
		RetryMax:     c.retryMax,
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			// A connection error comes without a response, so the
			// request is taken from the closure when resp is nil.
			req := httpReq
			if resp != nil && resp.Request != nil {
				req = resp.Request
			}
			return shouldRetry(ctx, req, resp, err), nil
		},
		Backoff: backoff,
		ErrorHandler: func(resp *http.Response, err error, attempts int) (*http.Response, error) {
			if resp == nil && err != nil && ctx.Err() != nil {
				// The caller gave up; "giving up after N attempts" would
				// wrongly suggest the server was unreachable.
				var urlErr *url.Error
				if errors.As(err, &urlErr) {
					err = urlErr.Err // it repeats the method and the URL
				}
				return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
			}
			return nil, c.giveUp(r.method, r.path, resp, err, attempts)
		},
		RequestLogHook:  hooks.request,
		ResponseLogHook: hooks.response,
	}, hooks
}

// giveUp turns the outcome of the last attempt into the error returned to
// the caller once no further attempt will be made: the last response
// becomes an *APIError, and a connection error a *TransportError that says
// how many attempts were made and wraps the cause.
func (c *Client) giveUp(method, path string, resp *http.Response, err error, attempts int) error {
	if resp != nil && err == nil {
		defer resp.Body.Close()
		return newAPIError(resp, attempts)
	}
	if resp != nil {
		resp.Body.Close()
	}
	if err == nil {
		err = errors.New("no response")
	}
	return newTransportError(method, path, c.baseURL, attempts, c.httpClient.Timeout, err)
}

// isWrite reports whether method changes state on the server, and so needs
// an idempotency key to be retried safely.
func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// newIdempotencyKey returns 128 random bits in hex. crypto/rand makes keys
// that no other client will ever send, so a key identifies one operation.
func newIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails since Go 1.24.
	return hex.EncodeToString(b[:])
}
