package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

func newReq(method string, key string) *http.Request {
	req, _ := http.NewRequest(method, "http://127.0.0.1/v1/endpoints", nil)
	if key != "" {
		req.Header.Set(api.HeaderIdempotency, key)
	}
	return req
}

func TestShouldRetry(t *testing.T) {
	connErr := &url.Error{Op: "Get", URL: "http://127.0.0.1/v1/endpoints", Err: syscall.ECONNRESET}
	resp := func(status int) *http.Response { return &http.Response{StatusCode: status, Header: http.Header{}} }
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()

	tests := []struct {
		name string
		ctx  context.Context
		req  *http.Request
		resp *http.Response
		err  error
		want bool
	}{
		{"GET 429", bg, newReq("GET", ""), resp(429), nil, true},
		{"GET 502", bg, newReq("GET", ""), resp(502), nil, true},
		{"GET 503", bg, newReq("GET", ""), resp(503), nil, true},
		{"GET 504", bg, newReq("GET", ""), resp(504), nil, true},
		{"GET 500", bg, newReq("GET", ""), resp(500), nil, false},
		{"GET 501", bg, newReq("GET", ""), resp(501), nil, false},
		{"GET 404", bg, newReq("GET", ""), resp(404), nil, false},
		{"GET 200", bg, newReq("GET", ""), resp(200), nil, false},
		{"HEAD 503", bg, newReq("HEAD", ""), resp(503), nil, true},
		{"GET connection reset", bg, newReq("GET", ""), nil, connErr, true},
		{"POST with key 503", bg, newReq("POST", "k"), resp(503), nil, true},
		{"POST without key 503", bg, newReq("POST", ""), resp(503), nil, false},
		{"POST without key 429", bg, newReq("POST", ""), resp(429), nil, false},
		{"POST without key connection reset", bg, newReq("POST", ""), nil, connErr, false},
		{"POST with key connection reset", bg, newReq("POST", "k"), nil, connErr, true},
		{"PUT without key 502", bg, newReq("PUT", ""), resp(502), nil, false},
		{"PUT with key 502", bg, newReq("PUT", "k"), resp(502), nil, true},
		{"DELETE without key 504", bg, newReq("DELETE", ""), resp(504), nil, false},
		{"DELETE with key 504", bg, newReq("DELETE", "k"), resp(504), nil, true},
		{"POST with key 500", bg, newReq("POST", "k"), resp(500), nil, false},
		{"caller cancelled", cancelled, newReq("GET", ""), nil, &url.Error{Op: "Get", Err: context.Canceled}, false},
		{"caller cancelled 503", cancelled, newReq("GET", ""), resp(503), nil, false},
		{"certificate", bg, newReq("GET", ""), nil, &url.Error{Op: "Get", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}, false},
		{"unknown authority", bg, newReq("GET", ""), nil, &url.Error{Op: "Get", Err: x509.UnknownAuthorityError{}}, false},
		{"hostname", bg, newReq("GET", ""), nil, &url.Error{Op: "Get", Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "x"}}, false},
		{"unsupported scheme", bg, newReq("GET", ""), nil, &url.Error{Op: "Get", Err: errors.New(`unsupported protocol scheme "ftp"`)}, false},
		{"per-attempt timeout", bg, newReq("GET", ""), nil, &url.Error{Op: "Get", Err: fmt.Errorf("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shouldRetry(tt.ctx, tt.req, tt.resp, tt.err); got != tt.want {
				t.Errorf("shouldRetry = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRetryClientCheckRetryReadsRequestHeader(t *testing.T) {
	// The CheckRetry installed on the go-retryablehttp client must decide
	// from the request actually sent: a POST without key is final.
	c, err := New(Config{Address: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	noKey := newReq("POST", "")
	rc, _ := c.retryClient(context.Background(), noKey, request{method: "POST", path: "/v1/endpoints"})
	retry, err := rc.CheckRetry(context.Background(), &http.Response{StatusCode: 503, Request: noKey}, nil)
	if retry || err != nil {
		t.Errorf("CheckRetry(POST without key, 503) = %v, %v; want false, nil", retry, err)
	}
	retry, _ = rc.CheckRetry(context.Background(), nil, syscall.ECONNREFUSED)
	if retry {
		t.Error("CheckRetry(POST without key, connection refused) = true; want false")
	}
	withKey := newReq("POST", "abc")
	rc, _ = c.retryClient(context.Background(), withKey, request{method: "POST", path: "/v1/endpoints", idempotencyKey: "abc"})
	if retry, _ := rc.CheckRetry(context.Background(), nil, syscall.ECONNREFUSED); !retry {
		t.Error("CheckRetry(POST with key, connection refused) = false; want true")
	}
}

func TestBackoff(t *testing.T) {
	minW, maxW := 100*time.Millisecond, 1*time.Second
	for attempt := range 10 {
		want := exponential(minW, maxW, attempt)
		for range 50 {
			got := backoff(minW, maxW, attempt, nil)
			if got < want/2 || got > want {
				t.Fatalf("attempt %d: backoff %v outside [%v, %v]", attempt, got, want/2, want)
			}
		}
	}
	if got := exponential(minW, maxW, 0); got != minW {
		t.Errorf("exponential(0) = %v, want %v", got, minW)
	}
	if got := exponential(minW, maxW, 2); got != 400*time.Millisecond {
		t.Errorf("exponential(2) = %v, want 400ms", got)
	}
	if got := exponential(minW, maxW, 100); got != maxW {
		t.Errorf("exponential(100) = %v, want the cap %v", got, maxW)
	}

	with := func(status int, retryAfter string) *http.Response {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		return &http.Response{StatusCode: status, Header: h}
	}
	if got := backoff(minW, maxW, 0, with(429, "1")); got != maxW {
		t.Errorf("429 Retry-After 1 with cap 1s = %v, want 1s", got)
	}
	if got := backoff(minW, 5*time.Second, 0, with(503, "2")); got != 2*time.Second {
		t.Errorf("503 Retry-After 2 = %v, want 2s", got)
	}
	if got := backoff(minW, maxW, 0, with(429, "86400")); got != maxW {
		t.Errorf("429 Retry-After 86400 = %v, want the cap %v", got, maxW)
	}
	if got := backoff(minW, maxW, 0, with(429, "99999999999999999999")); got != maxW {
		t.Errorf("429 with an overflowing Retry-After = %v, want the cap %v", got, maxW)
	}
	// Retry-After is honoured only on 429 and 503.
	if got := backoff(minW, maxW, 0, with(502, "86400")); got > minW {
		t.Errorf("502 Retry-After = %v, want exponential backoff (≤ %v)", got, minW)
	}
	// An unparsable Retry-After falls back to exponential backoff.
	if got := backoff(minW, maxW, 0, with(429, "soon")); got > minW {
		t.Errorf("429 Retry-After soon = %v, want exponential backoff (≤ %v)", got, minW)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1", time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", 0, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"-5", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTypedErrors(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/v1/endpoints/")
		switch id {
		case "missing":
			writeProblem(w, api.Problem{Title: "Not Found", Status: 404, Detail: "endpoint missing does not exist"})
		case "stale":
			writeProblem(w, api.Problem{Title: "Precondition Failed", Status: 412, Detail: "revision 3 is not the current revision 4"})
		case "used":
			writeProblem(w, api.Problem{Title: "Conflict", Status: 409, Detail: "referenced by mon_1"})
		case "noauth":
			writeProblem(w, api.Problem{Title: "Unauthorized", Status: 401})
		case "forbidden":
			writeProblem(w, api.Problem{Title: "Forbidden", Status: 403, Detail: "role viewer may not write"})
		case "invalid":
			writeProblem(w, api.Problem{Title: "Bad Request", Status: 400, Detail: "the endpoint is invalid", Errors: []api.FieldError{
				{Field: "name", Message: "must not be empty"},
				{Field: "tags.env", Message: "is too long"},
			}})
		case "html":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusTeapot)
			_, _ = io.WriteString(w, "<html>\n<body>  short and stout "+strings.Repeat("x", 500)+"</body></html>")
		}
	})
	c, _ := newTestClient(t, handler, nil)
	ctx := context.Background()

	tests := []struct {
		id       string
		sentinel error
		status   int
		contains []string
	}{
		{"missing", ErrNotFound, 404, []string{"HTTP 404 Not Found", "endpoint missing does not exist"}},
		{"stale", ErrPreconditionFailed, 412, []string{"HTTP 412 Precondition Failed: revision 3 is not the current revision 4"}},
		{"used", ErrConflict, 409, []string{"409", "referenced by mon_1"}},
		{"noauth", ErrUnauthorized, 401, []string{"401 Unauthorized"}},
		{"forbidden", ErrForbidden, 403, []string{"403", "role viewer may not write"}},
		{"invalid", nil, 400, []string{"HTTP 400 Bad Request: the endpoint is invalid", "name: must not be empty", "tags.env: is too long"}},
		{"html", nil, 418, []string{"HTTP 418 I'm a teapot", "<html> <body> short and stout xxx", "…"}},
	}
	sentinels := []error{ErrNotFound, ErrConflict, ErrPreconditionFailed, ErrUnauthorized, ErrForbidden}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			_, err := c.UpdateEndpoint(ctx, tt.id, 3, sampleEndpoint())
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if apiErr.Status != tt.status {
				t.Errorf("Status = %d, want %d", apiErr.Status, tt.status)
			}
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != errors.Is(s, tt.sentinel) {
					t.Errorf("errors.Is(err, %v) = %v", s, got)
				}
			}
			// Wrapping by the caller keeps the match.
			if tt.sentinel != nil && !errors.Is(fmt.Errorf("updating: %w", err), tt.sentinel) {
				t.Errorf("wrapped error does not match %v", tt.sentinel)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message is not one line: %q", msg)
			}
			for _, s := range tt.contains {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not contain %q", msg, s)
				}
			}
			if len(msg) > 400 {
				t.Errorf("message is %d characters long: %q", len(msg), msg)
			}
		})
	}

	_, err := c.UpdateEndpoint(ctx, "invalid", 3, sampleEndpoint())
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatal(err)
	}
	want := []api.FieldError{{Field: "name", Message: "must not be empty"}, {Field: "tags.env", Message: "is too long"}}
	if fmt.Sprint(apiErr.FieldErrors) != fmt.Sprint(want) || apiErr.Title != "Bad Request" || apiErr.Detail != "the endpoint is invalid" {
		t.Errorf("APIError = %+v", apiErr)
	}
}

func TestProblemWithoutContentType(t *testing.T) {
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil // suppress sniffing
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, `{"title":"Conflict","status":409,"detail":"name payments is taken"}`)
	}), nil)
	_, err := c.CreateEndpoint(context.Background(), sampleEndpoint())
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "name payments is taken") {
		t.Errorf("err = %v", err)
	}
}

func TestListAllEndpointsFollowsCursor(t *testing.T) {
	var mu sync.Mutex
	var queries []url.Values
	pages := map[string]api.List[api.Endpoint]{
		"":   {Items: []api.Endpoint{{Meta: api.Meta{ID: "ep_1"}}, {Meta: api.Meta{ID: "ep_2"}}}, NextCursor: "c1"},
		"c1": {Items: []api.Endpoint{{Meta: api.Meta{ID: "ep_3"}}, {Meta: api.Meta{ID: "ep_4"}}}, NextCursor: "c2"},
		"c2": {Items: []api.Endpoint{{Meta: api.Meta{ID: "ep_5"}}}},
	}
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/endpoints" || r.Method != http.MethodGet {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
		mu.Lock()
		queries = append(queries, r.URL.Query())
		mu.Unlock()
		page, ok := pages[r.URL.Query().Get("after")]
		if !ok {
			writeProblem(w, api.Problem{Title: "Bad Request", Status: 400})
			return
		}
		writeJSON(w, http.StatusOK, page)
	}), nil)

	opts := ListOptions{NamePrefix: "pay", Tags: map[string]string{"team": "core", "env": "prod"}, Limit: 2}
	all, err := c.ListAllEndpoints(context.Background(), opts)
	if err != nil {
		t.Fatalf("ListAllEndpoints: %v", err)
	}
	var ids []string
	for _, e := range all {
		ids = append(ids, e.ID)
	}
	if got := strings.Join(ids, ","); got != "ep_1,ep_2,ep_3,ep_4,ep_5" {
		t.Errorf("ids = %s", got)
	}
	if len(queries) != 3 {
		t.Fatalf("got %d requests, want 3", len(queries))
	}
	for i, after := range []string{"", "c1", "c2"} {
		q := queries[i]
		if q.Get("after") != after {
			t.Errorf("page %d: after = %q, want %q", i, q.Get("after"), after)
		}
		if q.Get("name_prefix") != "pay" || q.Get("limit") != "2" {
			t.Errorf("page %d: query %v lost the filters", i, q)
		}
		if got := strings.Join(q["tag"], ","); got != "env:prod,team:core" {
			t.Errorf("page %d: tags = %s", i, got)
		}
	}

	// One page at a time.
	page, err := c.ListEndpoints(context.Background(), ListOptions{After: "c1"})
	if err != nil {
		t.Fatalf("ListEndpoints: %v", err)
	}
	if len(page.Items) != 2 || page.NextCursor != "c2" {
		t.Errorf("page = %+v", page)
	}
}

func TestListAllDetectsCursorLoop(t *testing.T) {
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.List[api.Endpoint]{Items: []api.Endpoint{{Meta: api.Meta{ID: "ep_1"}}}, NextCursor: "same"})
	}), nil)
	if _, err := c.ListAllEndpoints(context.Background(), ListOptions{}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("err = %v, want a cursor loop error", err)
	}
}

func TestListEmptyIsNotNil(t *testing.T) {
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"items": []any{}})
	}), nil)
	all, err := c.ListAllEndpoints(context.Background(), ListOptions{})
	if err != nil || all == nil || len(all) != 0 {
		t.Errorf("ListAllEndpoints = %#v, %v; want an empty, non-nil slice", all, err)
	}
}

func TestListOptionsEncoding(t *testing.T) {
	tests := []struct {
		opts ListOptions
		want string
	}{
		{ListOptions{}, ""},
		{ListOptions{Name: "pay ments&x"}, "name=pay+ments%26x"},
		{ListOptions{NamePrefix: "pay"}, "name_prefix=pay"},
		{ListOptions{Tags: map[string]string{"z": "1", "a": "b:c", "m": ""}}, "tag=a%3Ab%3Ac&tag=m%3A&tag=z%3A1"},
		{ListOptions{Limit: 50, After: "abc=="}, "after=abc%3D%3D&limit=50"},
	}
	for _, tt := range tests {
		if got := tt.opts.values().Encode(); got != tt.want {
			t.Errorf("%+v encodes as %q, want %q", tt.opts, got, tt.want)
		}
	}
	// The tag order is the key order on the wire, not just after Encode's
	// sorting of parameter names.
	if got := (ListOptions{Tags: map[string]string{"b": "2", "a": "1", "c": "3"}}).values()["tag"]; strings.Join(got, ",") != "a:1,b:2,c:3" {
		t.Errorf("tags = %v", got)
	}
}

func TestListQuerySentOnTheWire(t *testing.T) {
	var raw string
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw = r.URL.RawQuery
		writeJSON(w, http.StatusOK, api.List[api.Endpoint]{})
	}), nil)
	_, err := c.ListEndpoints(context.Background(), ListOptions{Name: "n", NamePrefix: "p", Tags: map[string]string{"env": "prod", "app": "a:b"}, Limit: 10, After: "cur"})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.ParseQuery(raw)
	if q.Get("name") != "n" || q.Get("name_prefix") != "p" || q.Get("limit") != "10" || q.Get("after") != "cur" ||
		strings.Join(q["tag"], ",") != "app:a:b,env:prod" {
		t.Errorf("query = %q", raw)
	}
}

func TestAuditEvents(t *testing.T) {
	since := time.Date(2025, 3, 1, 12, 30, 0, 123456789, time.FixedZone("CET", 3600))
	var mu sync.Mutex
	var queries []url.Values
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/audit-events" {
			t.Errorf("path = %s", r.URL.Path)
		}
		mu.Lock()
		queries = append(queries, r.URL.Query())
		mu.Unlock()
		if r.URL.Query().Get("after") == "" {
			writeJSON(w, http.StatusOK, api.List[api.AuditEvent]{Items: []api.AuditEvent{{ID: "aud_1", Action: api.ActionCreate}}, NextCursor: "n1"})
			return
		}
		writeJSON(w, http.StatusOK, api.List[api.AuditEvent]{Items: []api.AuditEvent{{ID: "aud_2", Action: api.ActionUpdate, ChangedFields: []string{"url"}}}})
	}), nil)
	f := AuditFilter{ObjectID: "ep_1", Kind: api.KindEndpoint, Actor: "ci", Since: since, Limit: 1}

	page, err := c.ListAuditEvents(context.Background(), f)
	if err != nil {
		t.Fatalf("ListAuditEvents: %v", err)
	}
	if len(page.Items) != 1 || page.NextCursor != "n1" {
		t.Errorf("page = %+v", page)
	}
	all, err := c.ListAllAuditEvents(context.Background(), f)
	if err != nil {
		t.Fatalf("ListAllAuditEvents: %v", err)
	}
	if len(all) != 2 || all[1].ID != "aud_2" || all[1].ChangedFields[0] != "url" {
		t.Errorf("all = %+v", all)
	}
	q := queries[0]
	if q.Get("object_id") != "ep_1" || q.Get("kind") != "endpoint" || q.Get("actor") != "ci" || q.Get("limit") != "1" {
		t.Errorf("query = %v", q)
	}
	if got := q.Get("since"); got != "2025-03-01T11:30:00.123456789Z" {
		t.Errorf("since = %q, want RFC 3339 with nanoseconds in UTC", got)
	}
	if parsed, err := time.Parse(time.RFC3339Nano, q.Get("since")); err != nil || !parsed.Equal(since) {
		t.Errorf("since %q does not round-trip: %v", q.Get("since"), err)
	}
	if got := queries[2].Get("after"); got != "n1" {
		t.Errorf("second page after = %q", got)
	}
	if got := (AuditFilter{}).values().Encode(); got != "" {
		t.Errorf("empty filter encodes as %q", got)
	}
}

func TestNewValidatesAddress(t *testing.T) {
	bad := []string{"", "   ", "aio.example.com", "localhost:8080", "ftp://aio.example.com", "http://", "https://aio.example.com/?x=1", "https://user:pw@aio.example.com", "://x"}
	for _, addr := range bad {
		if _, err := New(Config{Address: addr}); err == nil {
			t.Errorf("New(%q) succeeded, want an error", addr)
		}
	}
	good := map[string]string{
		"https://aio.example.com":         "https://aio.example.com",
		"https://aio.example.com/":        "https://aio.example.com",
		"http://127.0.0.1:8080//":         "http://127.0.0.1:8080",
		"HTTPS://aio.example.com/prefix/": "https://aio.example.com/prefix",
	}
	for addr, want := range good {
		c, err := New(Config{Address: addr})
		if err != nil {
			t.Errorf("New(%q): %v", addr, err)
			continue
		}
		if c.baseURL != want {
			t.Errorf("New(%q) base = %q, want %q", addr, c.baseURL, want)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	base := &http.Client{Timeout: time.Hour}
	c, err := New(Config{Address: "https://aio.example.com", HTTPClient: base})
	if err != nil {
		t.Fatal(err)
	}
	if c.retryMax != DefaultRetryMax || c.minBackoff != DefaultMinBackoff || c.maxBackoff != DefaultMaxBackoff || c.userAgent != DefaultUserAgent {
		t.Errorf("defaults not applied: %+v", c)
	}
	if c.httpClient.Timeout != DefaultRequestTimeout {
		t.Errorf("timeout = %v, want %v", c.httpClient.Timeout, DefaultRequestTimeout)
	}
	if base.Timeout != time.Hour || c.httpClient == base {
		t.Error("the base client was modified instead of copied")
	}
	c, err = New(Config{Address: "https://aio.example.com", MinBackoff: time.Second, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if c.minBackoff != 100*time.Millisecond {
		t.Errorf("minBackoff = %v, want it lowered to the cap", c.minBackoff)
	}
}

func TestPathPrefixIsKept(t *testing.T) {
	var path string
	c, srv := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		_ = json.NewEncoder(w).Encode(api.Endpoint{Meta: api.Meta{ID: "ep_1"}})
	}), nil)
	c2, err := New(Config{Address: srv.URL + "/aio/", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	_ = c
	if _, err := c2.GetEndpoint(context.Background(), "ep_1"); err != nil {
		t.Fatal(err)
	}
	if path != "/aio/v1/endpoints/ep_1" {
		t.Errorf("path = %q", path)
	}
}
