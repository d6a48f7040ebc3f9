package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

const testToken = "tok-s3cr3t-value-never-logged"

// newTestClient starts handler on 127.0.0.1 and returns a client for it with
// fast backoff. mod may adjust the configuration.
func newTestClient(t *testing.T, handler http.Handler, mod func(*Config)) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	cfg := Config{
		Address:        srv.URL + "/",
		Token:          testToken,
		MinBackoff:     10 * time.Millisecond,
		MaxBackoff:     200 * time.Millisecond,
		RequestTimeout: 5 * time.Second,
		UserAgent:      "aio-test/1.0",
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, srv
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", api.ContentTypeJSON)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeProblem answers with a problem document.
func writeProblem(w http.ResponseWriter, p api.Problem) {
	w.Header().Set("Content-Type", api.ContentTypeProblem)
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// hijackAndClose drops the connection without answering, which the client
// sees as a connection error.
func hijackAndClose(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Error("response writer cannot hijack")
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_ = conn.Close()
}

func sampleEndpoint() api.Endpoint {
	return api.Endpoint{Name: "payments", URL: "https://pay.example.com", Tags: map[string]string{"env": "prod"}}
}

var hexKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestHeadersOnEveryRequest(t *testing.T) {
	var mu sync.Mutex
	var seen []http.Header
	var bodies []string
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		bodies = append(bodies, string(b))
		mu.Unlock()
		switch r.Method {
		case http.MethodPost:
			var e api.Endpoint
			if err := json.Unmarshal(b, &e); err != nil {
				t.Errorf("request body: %v", err)
			}
			e.ID, e.Revision = "ep_1", 1
			writeJSON(w, http.StatusCreated, e)
		case http.MethodGet:
			writeJSON(w, http.StatusOK, api.Endpoint{Meta: api.Meta{ID: "ep_1", Revision: 1}, Name: "payments"})
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	}), nil)
	ctx := context.Background()

	created, err := c.CreateEndpoint(ctx, sampleEndpoint())
	if err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	if created.ID != "ep_1" || created.Name != "payments" || created.Tags["env"] != "prod" {
		t.Errorf("created = %+v", created)
	}
	if _, err := c.GetEndpoint(ctx, "ep_1"); err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	if err := c.DeleteEndpoint(ctx, "ep_1", 0); err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}

	if len(seen) != 3 {
		t.Fatalf("got %d requests, want 3", len(seen))
	}
	for i, h := range seen {
		if got := h.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("request %d: Authorization = %q", i, got)
		}
		if got := h.Get("Accept"); got != "application/json" {
			t.Errorf("request %d: Accept = %q", i, got)
		}
		if got := h.Get("User-Agent"); got != "aio-test/1.0" {
			t.Errorf("request %d: User-Agent = %q", i, got)
		}
		if got := h.Get("If-Match"); got != "" {
			t.Errorf("request %d: If-Match = %q, want none for revision 0", i, got)
		}
	}
	post, get, del := seen[0], seen[1], seen[2]
	if got := post.Get("Content-Type"); got != "application/json" {
		t.Errorf("POST Content-Type = %q", got)
	}
	if !hexKey.MatchString(post.Get(api.HeaderIdempotency)) {
		t.Errorf("POST Idempotency-Key = %q, want 32 hex digits", post.Get(api.HeaderIdempotency))
	}
	if !hexKey.MatchString(del.Get(api.HeaderIdempotency)) {
		t.Errorf("DELETE Idempotency-Key = %q, want 32 hex digits", del.Get(api.HeaderIdempotency))
	}
	if got := get.Get(api.HeaderIdempotency); got != "" {
		t.Errorf("GET Idempotency-Key = %q, want none", got)
	}
	if got := get.Get("Content-Type"); got != "" {
		t.Errorf("GET Content-Type = %q, want none without a body", got)
	}
	if bodies[1] != "" || bodies[2] != "" {
		t.Errorf("GET/DELETE bodies = %q, %q; want empty", bodies[1], bodies[2])
	}
}

func TestUpdateSendsIfMatchAndPaths(t *testing.T) {
	var mu sync.Mutex
	var got []string
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.EscapedPath()+" "+r.Header.Get("If-Match"))
		mu.Unlock()
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		var e api.Endpoint
		_ = json.NewDecoder(r.Body).Decode(&e)
		e.ID, e.Revision = "ep_a/b", 8
		writeJSON(w, http.StatusOK, e)
	}), nil)
	ctx := context.Background()

	updated, err := c.UpdateEndpoint(ctx, "ep_a/b", 7, sampleEndpoint())
	if err != nil {
		t.Fatalf("UpdateEndpoint: %v", err)
	}
	if updated.Revision != 8 || updated.URL != "https://pay.example.com" {
		t.Errorf("updated = %+v", updated)
	}
	if _, err := c.UpdateEndpoint(ctx, "ep_1", 0, sampleEndpoint()); err != nil {
		t.Fatalf("UpdateEndpoint without revision: %v", err)
	}
	if err := c.DeleteEndpoint(ctx, "ep_1", 12); err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}
	want := []string{
		`PUT /v1/endpoints/ep_a%2Fb "7"`,
		`PUT /v1/endpoints/ep_1 `,
		`DELETE /v1/endpoints/ep_1 "12"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := c.GetEndpoint(ctx, ""); !errors.Is(err, errEmptyID) {
		t.Errorf("GetEndpoint(\"\") = %v, want errEmptyID", err)
	}
}

func TestIdempotencyKeySameOnEveryRetryOfOneCall(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	var hits atomic.Int32
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get(api.HeaderIdempotency))
		mu.Unlock()
		// Every call fails twice, then succeeds.
		if hits.Add(1)%3 != 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, http.StatusCreated, api.Endpoint{Meta: api.Meta{ID: "ep_1"}, Name: "payments"})
	}), nil)

	for range 2 {
		if _, err := c.CreateEndpoint(context.Background(), sampleEndpoint()); err != nil {
			t.Fatalf("CreateEndpoint: %v", err)
		}
	}
	if len(keys) != 6 {
		t.Fatalf("got %d attempts, want 6: %q", len(keys), keys)
	}
	if keys[0] == "" {
		t.Fatal("no Idempotency-Key")
	}
	for i := 1; i < 3; i++ {
		if keys[i] != keys[0] {
			t.Errorf("retry %d of the first call sent key %q, want %q", i, keys[i], keys[0])
		}
		if keys[3+i] != keys[3] {
			t.Errorf("retry %d of the second call sent key %q, want %q", i, keys[3+i], keys[3])
		}
	}
	if keys[3] == keys[0] {
		t.Errorf("the second call reused the first call's key %q", keys[0])
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	var hits atomic.Int32
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		writeJSON(w, http.StatusOK, api.Endpoint{Meta: api.Meta{ID: "ep_1"}})
	}), func(cfg *Config) { cfg.MaxBackoff = 5 * time.Second })

	start := time.Now()
	if _, err := c.GetEndpoint(context.Background(), "ep_1"); err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	if elapsed := time.Since(start); elapsed < 900*time.Millisecond {
		t.Errorf("call took %v; want at least ~1s as Retry-After asked", elapsed)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("hits = %d, want 2", n)
	}
}

func TestRetryAfterCappedByMaxBackoff(t *testing.T) {
	var hits atomic.Int32
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		writeJSON(w, http.StatusCreated, api.Endpoint{Meta: api.Meta{ID: "ep_1"}})
	}), func(cfg *Config) { cfg.MaxBackoff = 200 * time.Millisecond })

	start := time.Now()
	if _, err := c.CreateEndpoint(context.Background(), sampleEndpoint()); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("call took %v; Retry-After should have been capped at 200ms", elapsed)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("hits = %d, want 2", n)
	}
}

func TestRetriedStatuses(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var hits atomic.Int32
			c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hits.Add(1) == 1 {
					w.WriteHeader(status)
					return
				}
				writeJSON(w, http.StatusOK, api.Endpoint{Meta: api.Meta{ID: "ep_1"}})
			}), nil)
			got, err := c.GetEndpoint(context.Background(), "ep_1")
			if err != nil {
				t.Fatalf("GetEndpoint: %v", err)
			}
			if got.ID != "ep_1" {
				t.Errorf("ID = %q", got.ID)
			}
			if n := hits.Load(); n != 2 {
				t.Errorf("hits = %d, want 2", n)
			}
		})
	}
}

func TestNotRetriedStatuses(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusNotImplemented, http.StatusBadRequest, http.StatusNotFound, http.StatusConflict} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var hits atomic.Int32
			c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				writeProblem(w, api.Problem{Title: http.StatusText(status), Status: status, Detail: "boom"})
			}), nil)
			_, err := c.CreateEndpoint(context.Background(), sampleEndpoint())
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if apiErr.Status != status {
				t.Errorf("Status = %d, want %d", apiErr.Status, status)
			}
			if n := hits.Load(); n != 1 {
				t.Errorf("hits = %d, want exactly 1", n)
			}
		})
	}
}

func TestRetriesExhausted(t *testing.T) {
	var hits atomic.Int32
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		status := http.StatusServiceUnavailable
		if n == 3 {
			status = http.StatusBadGateway
		}
		writeProblem(w, api.Problem{Title: http.StatusText(status), Status: status, Detail: "attempt failed"})
	}), func(cfg *Config) { cfg.RetryMax = 2 })

	_, err := c.GetEndpoint(context.Background(), "ep_1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v (%T), want *APIError", err, err)
	}
	if apiErr.Status != http.StatusBadGateway {
		t.Errorf("Status = %d, want the last status 502", apiErr.Status)
	}
	if apiErr.Attempts != 3 {
		t.Errorf("Attempts = %d, want 3", apiErr.Attempts)
	}
	if !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("message %q should name the status and the attempts", err)
	}
	if n := hits.Load(); n != 3 {
		t.Errorf("hits = %d, want 3", n)
	}
}

func TestAttemptsCountedWhenAFinalStatusFollowsRetries(t *testing.T) {
	var hits atomic.Int32
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}), nil)
	_, err := c.GetEndpoint(context.Background(), "ep_1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusInternalServerError || apiErr.Attempts != 3 {
		t.Fatalf("err = %#v, want APIError 500 after 3 attempts", err)
	}
	if apiErr.Title != "Internal Server Error" {
		t.Errorf("Title = %q, want the status text", apiErr.Title)
	}
}

func TestNegativeRetryMaxDisablesRetries(t *testing.T) {
	var hits atomic.Int32
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}), func(cfg *Config) { cfg.RetryMax = -1 })
	_, err := c.GetEndpoint(context.Background(), "ep_1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want APIError 503", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("hits = %d, want 1", n)
	}
}

func TestWriteWithoutIdempotencyKeyIsNotRetried(t *testing.T) {
	var hits atomic.Int32
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get(api.HeaderIdempotency) != "" {
			t.Errorf("unexpected Idempotency-Key %q", r.Header.Get(api.HeaderIdempotency))
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}), nil)

	err := c.send(context.Background(), request{method: http.MethodPost, path: "/v1/endpoints", body: sampleEndpoint()}, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want APIError 503", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("hits = %d, want exactly 1 (a write without a key must not be retried)", n)
	}
}

func TestConnectionErrorRetried(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			var hits atomic.Int32
			var mu sync.Mutex
			var keys []string
			c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				keys = append(keys, r.Header.Get(api.HeaderIdempotency))
				mu.Unlock()
				if hits.Add(1) == 1 {
					hijackAndClose(t, w)
					return
				}
				writeJSON(w, http.StatusOK, api.Endpoint{Meta: api.Meta{ID: "ep_1"}})
			}), nil)

			var err error
			if method == http.MethodGet {
				_, err = c.GetEndpoint(context.Background(), "ep_1")
			} else {
				_, err = c.CreateEndpoint(context.Background(), sampleEndpoint())
			}
			if err != nil {
				t.Fatalf("%s after a dropped connection: %v", method, err)
			}
			if n := hits.Load(); n < 2 {
				t.Errorf("hits = %d, want at least 2", n)
			}
			if method == http.MethodPost {
				for _, k := range keys {
					if k == "" || k != keys[0] {
						t.Errorf("keys = %q, want the same non-empty key on every attempt", keys)
						break
					}
				}
			}
		})
	}
}

func TestConnectionErrorsExhausted(t *testing.T) {
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hijackAndClose(t, w)
	}), func(cfg *Config) { cfg.RetryMax = 2 })

	_, err := c.GetEndpoint(context.Background(), "ep_1")
	if err == nil {
		t.Fatal("want an error")
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want a connection error, not an APIError", err)
	}
	if !strings.Contains(err.Error(), "(3 attempts)") || !strings.Contains(err.Error(), "/v1/endpoints/ep_1") {
		t.Errorf("message %q should name the call and the number of attempts", err)
	}
	if errors.Unwrap(err) == nil {
		t.Errorf("error %q should wrap its cause", err)
	}
}

func TestConnectionRefusedIsRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there any more
	c, err := New(Config{Address: addr, Token: testToken, RetryMax: 2, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetEndpoint(context.Background(), "ep_1")
	if err == nil || !strings.Contains(err.Error(), "(3 attempts)") {
		t.Errorf("err = %v, want a connection error after 3 attempts", err)
	}
}

func TestTLSVerificationErrorNotRetried(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.Endpoint{Meta: api.Meta{ID: "ep_1"}})
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)

	// The default client does not trust httptest's certificate.
	c, err := New(Config{Address: srv.URL, Token: testToken, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetEndpoint(context.Background(), "ep_1")
	if err == nil || !strings.Contains(err.Error(), "(1 attempt)") {
		t.Errorf("err = %v, want a certificate error after 1 attempt", err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("connections = %d, want 1", n)
	}

	// With the server's certificate trusted through Config.HTTPClient, the
	// same call succeeds: the base client's TLS settings are used.
	c, err = New(Config{Address: srv.URL, Token: testToken, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetEndpoint(context.Background(), "ep_1"); err != nil {
		t.Errorf("with a trusting base client: %v", err)
	}
}

func TestEachAttemptIsBoundedByRequestTimeout(t *testing.T) {
	var hits atomic.Int32
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			select { // hang until the client gives up on this attempt
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		writeJSON(w, http.StatusOK, api.Endpoint{Meta: api.Meta{ID: "ep_1"}})
	}), func(cfg *Config) { cfg.RequestTimeout = 150 * time.Millisecond })

	start := time.Now()
	if _, err := c.GetEndpoint(context.Background(), "ep_1"); err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("call took %v; the hung attempt should have timed out after 150ms", elapsed)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("hits = %d, want 2", n)
	}
}

func TestCallerDeadlineIsNotRetried(t *testing.T) {
	var hits atomic.Int32
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}), nil)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetEndpoint(ctx, "ep_1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("call took %v after the caller's deadline", elapsed)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("hits = %d, want 1", n)
	}
}

func TestCallerCancelDuringBackoff(t *testing.T) {
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "10")
		w.WriteHeader(http.StatusTooManyRequests)
	}), func(cfg *Config) { cfg.MaxBackoff = 10 * time.Second })

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.GetEndpoint(ctx, "ep_1")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "/v1/endpoints/ep_1") {
		t.Errorf("err = %v, want a deadline error naming the call", err)
	}
}

func TestDecodeErrorOf2xx(t *testing.T) {
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{not json")
	}), nil)
	_, err := c.GetEndpoint(context.Background(), "ep_1")
	if err == nil {
		t.Fatal("want a decode error")
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		t.Errorf("a decode error must not be an APIError: %v", err)
	}
	var syntaxErr *json.SyntaxError
	if !errors.As(err, &syntaxErr) {
		t.Errorf("err = %v, want it to wrap the JSON error", err)
	}
}

func TestLoggingNeverContainsToken(t *testing.T) {
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	var hits atomic.Int32
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, http.StatusCreated, api.Endpoint{Meta: api.Meta{ID: "ep_logged"}})
	}), nil)

	if _, err := c.CreateEndpoint(ctx, sampleEndpoint()); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	if _, err := c.GetEndpoint(ctx, "ep_logged"); err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}

	out := buf.String()
	if out == "" {
		t.Fatal("nothing was logged")
	}
	if strings.Contains(out, testToken) {
		t.Errorf("the token appears in the log:\n%s", out)
	}
	if strings.Contains(out, "Bearer") {
		t.Errorf("the Authorization header appears in the log:\n%s", out)
	}
	entries, err := tflogtest.MultilineJSONDecode(strings.NewReader(out))
	if err != nil {
		t.Fatalf("decoding log: %v", err)
	}
	var requests, responses, retried int
	var sawKey, sawStatus, sawGetPath bool
	for _, e := range entries {
		switch e["@message"] {
		case "aio api request":
			requests++
			if e["attempt"] == float64(2) {
				retried++
			}
			if e["method"] == "POST" && e["path"] == "/v1/endpoints" && hexKey.MatchString(asString(e["idempotency_key"])) {
				sawKey = true
			}
			if e["method"] == "GET" && e["path"] == "/v1/endpoints/ep_logged" {
				sawGetPath = true
			}
		case "aio api response":
			responses++
			if e["status"] == float64(503) {
				sawStatus = true
			}
		}
	}
	if requests != 3 || responses != 3 {
		t.Errorf("logged %d requests and %d responses, want 3 each:\n%s", requests, responses, out)
	}
	if retried != 1 || !sawKey || !sawStatus || !sawGetPath {
		t.Errorf("log misses attempt number, idempotency key, status or path (retried=%d key=%v status=%v path=%v):\n%s",
			retried, sawKey, sawStatus, sawGetPath, out)
	}
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}
