package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/server"
)

// TestTokenRateLimit: a token created with its own rate_limit gets that
// rate with a burst of twice it, whatever the server's default; a token
// without one keeps the default; the answer and the token list show it.
func TestTokenRateLimit(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake, RateLimit: 1000, RateBurst: 1000})

	r := call(t, srv, http.MethodPost, "/v1/tokens", srv.AdminToken, map[string]any{"name": "slow", "role": "viewer", "rate_limit": 1.5})
	wantStatus(t, r, http.StatusCreated)
	var slow server.TokenCreated
	decode(t, r, &slow)
	if slow.RateLimit == nil || *slow.RateLimit != 1.5 {
		t.Fatalf("created token's rate_limit = %v, want 1.5", slow.RateLimit)
	}
	// Burst: ceil(2 × 1.5) = 3 requests, then 429.
	for i := range 3 {
		wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints", slow.Secret, nil), http.StatusOK)
		_ = i
	}
	p := wantProblem(t, call(t, srv, http.MethodGet, "/v1/endpoints", slow.Secret, nil), http.StatusTooManyRequests)
	if !strings.Contains(p.Detail, "rate limit") {
		t.Errorf("429 detail %q", p.Detail)
	}
	// 1.5 per second: two thirds of a second refills one request.
	fake.Advance(700 * time.Millisecond)
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints", slow.Secret, nil), http.StatusOK)
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/endpoints", slow.Secret, nil), http.StatusTooManyRequests)

	// A token without its own limit has the server's: far more than 3.
	r = call(t, srv, http.MethodPost, "/v1/tokens", srv.AdminToken, map[string]any{"name": "plain", "role": "viewer"})
	wantStatus(t, r, http.StatusCreated)
	var plain server.TokenCreated
	decode(t, r, &plain)
	if plain.RateLimit != nil {
		t.Errorf("a token created without rate_limit has %v, want null", *plain.RateLimit)
	}
	for i := range 50 {
		if r := call(t, srv, http.MethodGet, "/v1/endpoints", plain.Secret, nil); r.Status != http.StatusOK {
			t.Fatalf("request %d of a default token: %s", i+1, r)
		}
	}

	var l struct {
		Items []api.Token `json:"items"`
	}
	decode(t, call(t, srv, http.MethodGet, "/v1/tokens", srv.AdminToken, nil), &l)
	for _, tok := range l.Items {
		if tok.Name == "slow" && (tok.RateLimit == nil || *tok.RateLimit != 1.5) {
			t.Errorf("token list: slow has rate_limit %v", tok.RateLimit)
		}
	}
}

// TestTokenRateLimitValidation: a rate_limit that is not a positive number
// of requests per second is refused with 400 on the field, and no token is
// made.
func TestTokenRateLimitValidation(t *testing.T) {
	srv := acctest.NewServer(t)
	for _, body := range []string{
		`{"name":"b","role":"viewer","rate_limit":0}`,
		`{"name":"b","role":"viewer","rate_limit":-3}`,
		`{"name":"b","role":"viewer","rate_limit":1e9}`,
		`{"name":"b","role":"viewer","rate_limit":"fast"}`,
	} {
		p := wantProblem(t, call(t, srv, http.MethodPost, "/v1/tokens", srv.AdminToken, body), http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Field != "rate_limit" {
			t.Errorf("%s: errors %+v, want one on rate_limit", body, p.Errors)
		}
	}
	var l struct {
		Items []api.Token `json:"items"`
	}
	decode(t, call(t, srv, http.MethodGet, "/v1/tokens", srv.AdminToken, nil), &l)
	for _, tok := range l.Items {
		if tok.Name == "b" {
			t.Errorf("a refused create made token %+v", tok)
		}
	}
	// Only an admin may create tokens, so an editor cannot lift its own
	// limit by minting itself a faster token.
	wantProblem(t, call(t, srv, http.MethodPost, "/v1/tokens", srv.Tokens[api.RoleEditor],
		map[string]any{"name": "fast", "role": "editor", "rate_limit": 100000}), http.StatusForbidden)
}

// TestAPIRequestsMetric: /metrics counts API requests by method, route
// pattern (not the path, whose IDs are unbounded) and status.
func TestAPIRequestsMetric(t *testing.T) {
	srv := acctest.NewServer(t, acctest.Options{Engine: true})
	editor := srv.Tokens[api.RoleEditor]
	wantStatus(t, call(t, srv, http.MethodPost, "/v1/endpoints", editor, minimal("m1")), http.StatusCreated)
	for range 3 {
		wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints", editor, nil), http.StatusOK)
	}
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints/ep_nope", editor, nil), http.StatusNotFound)
	r := call(t, srv, http.MethodGet, "/metrics", "", nil)
	wantStatus(t, r, http.StatusOK)
	body := string(r.Body)
	for _, want := range []string{
		`aio_api_requests_total{code="201",method="POST",route="/v1/endpoints"} 1`,
		`aio_api_requests_total{code="200",method="GET",route="/v1/endpoints"} 3`,
		`aio_api_requests_total{code="404",method="GET",route="/v1/endpoints/{id}"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "ep_nope") {
		t.Error("/metrics labels a request by its path")
	}
}

// TestDefaultRateLimitRefills: a server given no rate (0) refills tokens'
// budgets at DefaultRateLimit, not at zero: after the burst is spent, one
// request's worth of time later one more request goes through, and only
// one. (Mutation testing: defaulting only a negative rate went unnoticed,
// as no test spent a burst under the default rate.)
func TestDefaultRateLimitRefills(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake, RateBurst: 2})
	viewer := srv.Tokens[api.RoleViewer]
	for range 2 {
		wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints", viewer, nil), http.StatusOK)
	}
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/endpoints", viewer, nil), http.StatusTooManyRequests)
	fake.Advance(time.Duration(float64(time.Second)/server.DefaultRateLimit) + time.Microsecond)
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints", viewer, nil), http.StatusOK)
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/endpoints", viewer, nil), http.StatusTooManyRequests)
}
