package server_test

// Tests of the smaller holes found in the security review of issue 7:
// each fails on the code before its fix.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/testutil"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
)

// TestTooManyTagFilters checks that a listing refuses more tag filters
// than it allows with a 400 on `tag`, rather than letting the database
// fail with a 500 on an expression too large.
func TestTooManyTagFilters(t *testing.T) {
	srv := acctest.NewServer(t)
	viewer := srv.Tokens[api.RoleViewer]
	tags := func(n int) string {
		q := url.Values{}
		for i := range n {
			q.Add("tag", fmt.Sprintf("k%d:v", i))
		}
		return q.Encode()
	}
	for _, path := range []string{"/v1/endpoints", "/v1/credentials", "/v1/monitors"} {
		// The most filters allowed, as many as an object may carry tags,
		// still answer.
		wantStatus(t, call(t, srv, http.MethodGet, path+"?"+tags(api.MaxTags), viewer, nil), http.StatusOK)
		for _, n := range []int{api.MaxTags + 1, 1000} {
			p := wantProblem(t, call(t, srv, http.MethodGet, path+"?"+tags(n), viewer, nil), http.StatusBadRequest)
			wantFields(t, p, "tag")
			if !strings.Contains(p.Errors[0].Message, fmt.Sprint(api.MaxTags)) {
				t.Errorf("%s with %d tags: message %q does not say the limit", path, n, p.Errors[0].Message)
			}
		}
	}
}

// TestMalformedCursor checks that every listing refuses an `after` it
// never returned with a 400 on `after`, where it used to read it as a
// position and answer the first page (or none).
func TestMalformedCursor(t *testing.T) {
	srv := acctest.NewServer(t)
	admin := srv.AdminToken
	var monitorIDs []string
	for _, name := range []string{"cur-a", "cur-b"} {
		monitorIDs = append(monitorIDs, createMonitor(t, srv, name).ID)
		createCredential(t, srv, admin, credBody(name, api.CredAPIKey, "s3cret-"+name))
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		path string
		// bad are cursors of the right encoding that this listing never
		// returns, besides those every listing refuses.
		bad []string
	}{
		{"/v1/endpoints", []string{enc(monitorIDs[0]), enc("ep_"), enc("ep_zzzzzzzzzzzzzzzzzzzzzzzzzz")}},
		{"/v1/credentials", []string{enc(monitorIDs[0]), enc("cred_")}},
		{"/v1/monitors", []string{enc("ep_0123456789abcdefghjkmnpqrs"), enc("mon_")}},
		{"/v1/audit-events", []string{enc("0"), enc("-1"), enc(monitorIDs[0])}},
		{"/v1/tokens", []string{enc("no-such-token"), enc(monitorIDs[0])}},
		{"/v1/monitors/" + monitorIDs[0] + "/results", []string{enc("-"), enc(monitorIDs[0])}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			// The control: a cursor the listing returned pages on.
			r := call(t, srv, http.MethodGet, tc.path+"?limit=1", admin, nil)
			wantStatus(t, r, http.StatusOK)
			var page struct {
				Items      []json.RawMessage `json:"items"`
				NextCursor string            `json:"next_cursor"`
			}
			if err := json.Unmarshal(r.Body, &page); err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(tc.path, "/results") {
				if len(page.Items) != 1 || page.NextCursor == "" {
					t.Fatalf("first page of one: %s", r.Body)
				}
				r = call(t, srv, http.MethodGet, tc.path+"?limit=1&after="+url.QueryEscape(page.NextCursor), admin, nil)
				wantStatus(t, r, http.StatusOK)
				if strings.Contains(string(r.Body), string(page.Items[0])) {
					t.Errorf("the second page repeats the first: %s", r.Body)
				}
			}
			for _, after := range append([]string{enc("a"), "not base64 !!!", enc("")}, tc.bad...) {
				if after == "" {
					continue // an empty after is no cursor at all
				}
				r := call(t, srv, http.MethodGet, tc.path+"?after="+url.QueryEscape(after), admin, nil)
				p := wantProblem(t, r, http.StatusBadRequest)
				wantFields(t, p, "after")
			}
		})
	}
}

// TestUnauthorizedIsUniform checks that every refused token gets the same
// answer, so that a 401 does not tell whether a token exists (expired or
// revoked) or never did.
func TestUnauthorizedIsUniform(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	_, revoked := storeToken(t, srv, fake, "revoked-one", api.RoleAdmin, 0)
	revokeInStore(t, srv, "revoked-one")
	_, expired := storeToken(t, srv, fake, "expiring-one", api.RoleAdmin, time.Minute)
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints", expired, nil), http.StatusOK)
	fake.Advance(time.Minute)

	answers := map[string]response{}
	for name, hdr := range map[string]string{
		"unknown":   "Bearer aio_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"malformed": "Bearer not a token at all",
		"revoked":   "Bearer " + revoked,
		"expired":   "Bearer " + expired,
		"none":      "",
		"basic":     "Basic YWRtaW46YWRtaW4=",
	} {
		var h []string
		if hdr != "" {
			h = []string{"Authorization", hdr}
		}
		r := call(t, srv, http.MethodGet, "/v1/endpoints", "", nil, h...)
		wantProblem(t, r, http.StatusUnauthorized)
		answers[name] = r
	}
	want := answers["unknown"]
	for name, r := range answers {
		if !bytes.Equal(r.Body, want.Body) {
			t.Errorf("401 of a %s token:\n%s\nof an unknown one:\n%s", name, r.Body, want.Body)
		}
	}
	// Whether a token was presented may show in WWW-Authenticate (RFC
	// 6750 says so); whether it exists may not.
	for _, name := range []string{"malformed", "revoked", "expired"} {
		wantHeader(t, answers[name], "WWW-Authenticate", want.Header.Get("WWW-Authenticate"))
	}
}

// TestSecurityHeaders checks that every answer, whatever its route and
// status, carries nosniff and no-store.
func TestSecurityHeaders(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	e := createEndpoint(t, srv, editor, minimal("headers"))
	for _, tc := range []struct {
		method, path, token string
		body                any
		status              int
	}{
		{http.MethodGet, "/v1/endpoints", editor, nil, http.StatusOK},
		{http.MethodGet, "/v1/endpoints/" + e.ID, editor, nil, http.StatusOK},
		{http.MethodPost, "/v1/endpoints", editor, minimal("headers-2"), http.StatusCreated},
		{http.MethodPost, "/v1/endpoints", editor, `{"name":`, http.StatusBadRequest},
		{http.MethodDelete, "/v1/endpoints/" + e.ID, editor, nil, http.StatusNoContent},
		{http.MethodGet, "/v1/endpoints", "", nil, http.StatusUnauthorized},
		{http.MethodGet, "/v1/tokens", editor, nil, http.StatusForbidden},
		{http.MethodGet, "/v1/endpoints/ep_nope", editor, nil, http.StatusNotFound},
		{http.MethodGet, "/no/such/route", "", nil, http.StatusNotFound},
		{http.MethodPatch, "/v1/endpoints", editor, nil, http.StatusMethodNotAllowed},
		{http.MethodGet, "/healthz", "", nil, http.StatusOK},
		{http.MethodGet, "/readyz", "", nil, http.StatusOK},
	} {
		r := call(t, srv, tc.method, tc.path, tc.token, tc.body)
		if r.Status != tc.status {
			t.Errorf("%s %s: %s, want %d", tc.method, tc.path, r, tc.status)
		}
		wantHeader(t, r, "X-Content-Type-Options", "nosniff")
		wantHeader(t, r, "Cache-Control", "no-store")
	}
}

// clientFrom returns an HTTP client whose connections come from the given
// loopback address, so that a test can act as two clients.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// TestFailedAuthIsThrottledPerAddress checks that an address that keeps
// failing authentication is answered 429 with Retry-After once it used its
// budget, until the budget refills, and that other addresses are not.
func TestFailedAuthIsThrottledPerAddress(t *testing.T) {
	fake := clock.NewFake(t0)
	// Three failures, refilled at one per 10 s.
	srv := acctest.NewServer(t, acctest.Options{Clock: fake, AuthFailureLimit: 3, AuthFailureWindow: 30 * time.Second})
	viewer := srv.Tokens[api.RoleViewer]
	get := func(c *http.Client, token string) response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/endpoints", nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return response{Status: res.StatusCode, Header: res.Header, Body: b}
	}
	// Linux answers on all of 127/8; elsewhere 127.0.0.2 may need setting up.
	if ln, err := net.Listen("tcp", "127.0.0.2:0"); err != nil {
		t.Skipf("127.0.0.2 is not usable here, so there is no second client address: %v", err)
	} else {
		ln.Close()
	}
	a, b := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
	const bad = "aio_wrong"

	// A valid token does not use the budget.
	for range 5 {
		wantStatus(t, get(a, viewer), http.StatusOK)
	}
	for range 3 {
		wantProblem(t, get(a, bad), http.StatusUnauthorized)
	}
	for _, token := range []string{bad, "", viewer} {
		// Past the budget, the address is refused before its token is
		// looked at, a valid one too: else a correct guess would show.
		r := get(a, token)
		p := wantProblem(t, r, http.StatusTooManyRequests)
		wantHeader(t, r, "Retry-After", "10")
		if !strings.Contains(p.Detail, "address") {
			t.Errorf("429 detail %q does not say the address is limited", p.Detail)
		}
	}
	// Another address is not affected.
	wantProblem(t, get(b, bad), http.StatusUnauthorized)
	wantStatus(t, get(b, viewer), http.StatusOK)

	// Refused requests do not count: after 10 s one more try is allowed,
	// and a valid token gets through again.
	fake.Advance(6 * time.Second)
	wantHeader(t, get(a, viewer), "Retry-After", "4")
	fake.Advance(4 * time.Second)
	wantStatus(t, get(a, viewer), http.StatusOK)
	wantProblem(t, get(a, bad), http.StatusUnauthorized)
	wantProblem(t, get(a, viewer), http.StatusTooManyRequests)
}

// TestSlowBodyIs408 sends the headers of a request over a real TCP
// connection, then trickles its body: the server must answer 408 once
// BodyReadTimeout has passed (not hold the request, not answer 500), close
// the connection and log it as the client's doing, not as an error.
func TestSlowBodyIs408(t *testing.T) {
	var logs testutil.SyncBuffer
	const timeout = 300 * time.Millisecond
	srv := acctest.NewServer(t, acctest.Options{BodyReadTimeout: timeout,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	editor := srv.Tokens[api.RoleEditor]

	// The control: a body sent at once is well within the timeout.
	createEndpoint(t, srv, editor, minimal("fast"))

	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := []byte(`{"name":"slow","url":"https://slow.example.com/"}`)
	head := fmt.Sprintf("POST /v1/endpoints HTTP/1.1\r\nHost: aiod\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", editor, len(body))
	start := time.Now()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	// One byte every 50 ms: the body would take 2.5 s, and each byte
	// arrives well within any per-read timeout.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for _, c := range body {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{c}); err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a slow body: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	took := time.Since(start)
	r := response{Status: res.StatusCode, Header: res.Header, Body: b}
	p := wantProblem(t, r, http.StatusRequestTimeout)
	if !strings.Contains(p.Detail, timeout.String()) {
		t.Errorf("408 detail %q does not name the timeout", p.Detail)
	}
	if !res.Close {
		t.Error("the connection is kept open after a 408")
	}
	if took < timeout || took > 2*time.Second {
		t.Errorf("answered after %s; want about %s", took, timeout)
	}
	if l, _ := listEndpoints(t, srv, "name=slow"); len(l.Items) != 0 {
		t.Errorf("the slow request created %+v", l.Items)
	}

	var sawRequest bool
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var l struct {
			Level  string `json:"level"`
			Msg    string `json:"msg"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if l.Level == "ERROR" || l.Level == "WARN" {
			t.Errorf("a slow client is logged as a fault of aiod: %s", sc.Text())
		}
		if l.Msg == "request" && l.Status == http.StatusRequestTimeout {
			sawRequest = true
		}
	}
	if !sawRequest {
		t.Errorf("no request log line with status 408:\n%s", logs.String())
	}
}
