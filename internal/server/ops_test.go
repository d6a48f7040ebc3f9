package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/testutil"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
)

func TestRateLimit(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake, RateLimit: 1, RateBurst: 3})
	editor, viewer := srv.Tokens[api.RoleEditor], srv.Tokens[api.RoleViewer]

	for i := range 3 {
		r := call(t, srv, http.MethodGet, "/v1/endpoints", editor, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("request %d of the burst: %s", i+1, r)
		}
	}
	limited := func(t *testing.T, r response, wantRetry int) {
		t.Helper()
		p := wantProblem(t, r, http.StatusTooManyRequests)
		if !strings.Contains(p.Detail, "rate limit") {
			t.Errorf("429 detail %q", p.Detail)
		}
		ra := r.Header.Get("Retry-After")
		n, err := strconv.Atoi(ra)
		if err != nil || n < 1 {
			t.Fatalf("Retry-After %q is not a whole number of seconds ≥ 1", ra)
		}
		if n != wantRetry {
			t.Errorf("Retry-After = %d, want %d", n, wantRetry)
		}
	}
	limited(t, call(t, srv, http.MethodGet, "/v1/endpoints", editor, nil), 1)
	// A refused request does not use up budget, nor does a write get
	// through.
	limited(t, call(t, srv, http.MethodPost, "/v1/endpoints", editor, minimal("limited")), 1)

	// Another token has its own budget.
	for i := range 3 {
		r := call(t, srv, http.MethodGet, "/v1/endpoints", viewer, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("viewer request %d: %s", i+1, r)
		}
	}
	l, _ := tryList(t, srv, srv.AdminToken)
	if len(l.Items) != 0 {
		t.Errorf("a rate-limited create went through: %+v", l.Items)
	}

	// A second later one more request is allowed, then it is limited
	// again.
	fake.Advance(time.Second)
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints", editor, nil), http.StatusOK)
	limited(t, call(t, srv, http.MethodGet, "/v1/endpoints", editor, nil), 1)
	fake.Advance(500 * time.Millisecond)
	limited(t, call(t, srv, http.MethodGet, "/v1/endpoints", editor, nil), 1) // 0.5 s, rounded up
}

func tryList(t *testing.T, srv *acctest.Server, token string) (endpointList, response) {
	t.Helper()
	r := call(t, srv, http.MethodGet, "/v1/endpoints", token, nil)
	wantStatus(t, r, http.StatusOK)
	var l endpointList
	decode(t, r, &l)
	return l, r
}

func TestRetryAfterRoundsUp(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake, RateLimit: 0.25, RateBurst: 1})
	editor := srv.Tokens[api.RoleEditor]
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints", editor, nil), http.StatusOK)
	for _, tc := range []struct {
		advance time.Duration
		want    string
	}{{0, "4"}, {1500 * time.Millisecond, "3"}, {time.Second, "2"}, {time.Second, "1"}} {
		fake.Advance(tc.advance)
		r := call(t, srv, http.MethodGet, "/v1/endpoints", editor, nil)
		wantProblem(t, r, http.StatusTooManyRequests)
		wantHeader(t, r, "Retry-After", tc.want)
	}
	fake.Advance(500 * time.Millisecond)
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints", editor, nil), http.StatusOK)
}

func TestHealth(t *testing.T) {
	srv := acctest.NewServer(t)
	for _, tc := range []struct{ path, body string }{
		{"/healthz", `{"status":"ok"}`},
		{"/readyz", `{"status":"ready"}`},
	} {
		// No token is needed, and a bad one does not matter.
		for _, hdr := range [][]string{nil, {"Authorization", "Bearer nonsense"}} {
			r := call(t, srv, http.MethodGet, tc.path, "", nil, hdr...)
			wantStatus(t, r, http.StatusOK)
			wantHeader(t, r, "Content-Type", api.ContentTypeJSON)
			if got := string(bytes.TrimSpace(r.Body)); got != tc.body {
				t.Errorf("%s body %s, want %s", tc.path, got, tc.body)
			}
		}
	}
	// When the database is gone, the server is alive but not ready.
	if err := srv.Store.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	wantStatus(t, call(t, srv, http.MethodGet, "/healthz", "", nil), http.StatusOK)
	wantProblem(t, call(t, srv, http.MethodGet, "/readyz", "", nil), http.StatusServiceUnavailable)
}

func TestTokensAPI(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	admin := srv.AdminToken

	r := call(t, srv, http.MethodPost, "/v1/tokens", admin, `{"name":"ci","role":"editor","ttl":"24h"}`)
	wantStatus(t, r, http.StatusCreated)
	wantHeader(t, r, "Cache-Control", "no-store")
	obj := rawObject(t, r.Body)
	wantKeys(t, obj, "id", "name", "role", "expires_at", "revoked_at", "created_at", "rate_limit", "secret")
	wantRaw(t, obj, "name", `"ci"`)
	wantRaw(t, obj, "role", `"editor"`)
	wantRaw(t, obj, "revoked_at", `null`)
	wantRaw(t, obj, "rate_limit", `null`)
	wantRaw(t, obj, "created_at", `"`+t0Micro+`"`)
	wantRaw(t, obj, "expires_at", `"2026-03-02T10:00:00.123456Z"`)
	var created struct {
		api.Token
		Secret string `json:"secret"`
	}
	decode(t, r, &created)
	if !strings.HasPrefix(created.ID, api.PrefixToken) || len(created.ID) != len(api.PrefixToken)+26 {
		t.Errorf("token id %q", created.ID)
	}
	if !strings.HasPrefix(created.Secret, "aio_") || len(created.Secret) < 40 {
		t.Fatalf("secret %q", created.Secret)
	}

	// The listing never shows a secret or its hash.
	r = call(t, srv, http.MethodGet, "/v1/tokens", admin, nil)
	wantStatus(t, r, http.StatusOK)
	for _, s := range []string{created.Secret, strings.TrimPrefix(created.Secret, "aio_"), `"secret"`, `"hash"`, admin} {
		if strings.Contains(string(r.Body), s) {
			t.Errorf("token listing contains %q: %s", s, r.Body)
		}
	}
	var list struct {
		Items []api.Token `json:"items"`
	}
	decode(t, r, &list)
	var listed []string
	for _, tok := range list.Items {
		listed = append(listed, tok.Name+":"+tok.Role)
	}
	if want := "ci:editor test-admin:admin test-editor:editor test-viewer:viewer"; strings.Join(listed, " ") != want {
		t.Errorf("tokens %q, want %q (ordered by name)", listed, want)
	}

	// The new token works, with its role.
	e := createEndpoint(t, srv, created.Secret, minimal("by-ci"))
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/tokens", created.Secret, nil), http.StatusForbidden)
	evs := auditFor(t, srv, e.ID)
	if len(evs) != 1 || evs[0].Actor != "ci" || evs[0].ActorRole != "editor" {
		t.Errorf("audit of a create by ci: %+v", evs)
	}

	// Its creation is audited, without the secret.
	r = call(t, srv, http.MethodGet, "/v1/audit-events?object_id="+created.ID, admin, nil)
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.Body), created.Secret) || strings.Contains(string(r.Body), strings.TrimPrefix(created.Secret, "aio_")) {
		t.Errorf("audit carries the secret: %s", r.Body)
	}
	var al auditList
	decode(t, r, &al)
	if len(al.Items) != 1 {
		t.Fatalf("token audit: %s", r.Body)
	}
	if ev := al.Items[0]; ev.Action != api.ActionCreate || ev.ObjectKind != api.KindToken || ev.Actor != "test-admin" ||
		ev.ActorRole != "admin" || ev.Revision != 1 || strings.Join(ev.ChangedFields, ",") != "name,role,expires_at" {
		t.Errorf("token create event %+v", ev)
	}

	// Token requests are validated.
	for _, tc := range []struct {
		body   string
		status int
		fields []string
	}{
		{`{"name":"ci","role":"viewer"}`, http.StatusConflict, []string{"name"}},
		{`{"name":"x","role":"root"}`, http.StatusBadRequest, []string{"role"}},
		{`{"name":"has space","role":"viewer"}`, http.StatusBadRequest, []string{"name"}},
		{`{"name":"x","role":"viewer","ttl":"-1h"}`, http.StatusBadRequest, []string{"ttl"}},
		{`{"name":"x","role":"viewer","ttl":"0s"}`, http.StatusBadRequest, []string{"ttl"}},
		{`{"name":"x","role":"viewer","ttl":"soon"}`, http.StatusBadRequest, []string{"ttl"}},
		{`{"name":"x","role":"viewer","secret":"mine"}`, http.StatusBadRequest, []string{"secret"}},
		{`{"name":"x"`, http.StatusBadRequest, []string{""}},
	} {
		r := call(t, srv, http.MethodPost, "/v1/tokens", admin, tc.body)
		wantFields(t, wantProblem(t, r, tc.status), tc.fields...)
	}

	// Revoking by id: 204, the token stops working, the revocation is
	// audited, and a second revocation is 404.
	r = call(t, srv, http.MethodDelete, "/v1/tokens/"+created.ID, admin, nil)
	wantStatus(t, r, http.StatusNoContent)
	r = call(t, srv, http.MethodGet, "/v1/endpoints", created.Secret, nil)
	wantProblem(t, r, http.StatusUnauthorized)
	wantHeader(t, r, "WWW-Authenticate", `Bearer realm="aiod", error="invalid_token"`)
	wantProblem(t, call(t, srv, http.MethodDelete, "/v1/tokens/"+created.ID, admin, nil), http.StatusNotFound)
	wantProblem(t, call(t, srv, http.MethodDelete, "/v1/tokens/tok_doesnotexist", admin, nil), http.StatusNotFound)
	evs = auditFor(t, srv, created.ID)
	if len(evs) != 2 || evs[1].Action != api.ActionRevoke || evs[1].Actor != "test-admin" || strings.Join(evs[1].ChangedFields, ",") != "revoked_at" {
		t.Errorf("token audit after revoke: %+v", evs)
	}
	r = call(t, srv, http.MethodGet, "/v1/tokens", admin, nil)
	if !strings.Contains(string(r.Body), `"revoked_at":"`+t0Micro+`"`) {
		t.Errorf("revoked token not listed as revoked: %s", r.Body)
	}

	// A token without ttl never expires; an expiring one stops at its
	// expiry.
	r = call(t, srv, http.MethodPost, "/v1/tokens", admin, `{"name":"forever","role":"viewer"}`)
	wantStatus(t, r, http.StatusCreated)
	wantRaw(t, rawObject(t, r.Body), "expires_at", `null`)
	decode(t, r, &created)
	forever := created.Secret
	r = call(t, srv, http.MethodPost, "/v1/tokens", admin, `{"name":"brief","role":"viewer","ttl":"1m"}`)
	wantStatus(t, r, http.StatusCreated)
	decode(t, r, &created)
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints", created.Secret, nil), http.StatusOK)
	fake.Advance(time.Minute)
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/endpoints", created.Secret, nil), http.StatusUnauthorized)
	fake.Advance(100 * 365 * 24 * time.Hour)
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints", forever, nil), http.StatusOK)

	// Revoking by name works too.
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/tokens/forever", admin, nil), http.StatusNoContent)
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/endpoints", forever, nil), http.StatusUnauthorized)
}

func TestRequestLogs(t *testing.T) {
	var buf testutil.SyncBuffer
	srv := acctest.NewServer(t, acctest.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	admin, editor := srv.AdminToken, srv.Tokens[api.RoleEditor]

	const badSecret = "aio_not-a-real-token-but-still-secret"
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints?name=querysecret", editor, nil), http.StatusOK)
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/endpoints", badSecret, nil), http.StatusUnauthorized)
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/tokens", editor, nil), http.StatusForbidden)
	e := createEndpoint(t, srv, editor, minimal("logged"))
	r := call(t, srv, http.MethodPost, "/v1/tokens", admin, `{"name":"logged-token","role":"viewer"}`)
	wantStatus(t, r, http.StatusCreated)
	var created struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(r.Body, &created); err != nil || created.Secret == "" {
		t.Fatalf("token create: %s", r.Body)
	}
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints/"+e.ID, created.Secret, nil), http.StatusOK)

	type line struct {
		Level  string `json:"level"`
		Msg    string `json:"msg"`
		Method string `json:"method"`
		Path   string `json:"path"`
		Status int    `json:"status"`
		Token  string `json:"token"`
	}
	var got []string
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if l.Msg == "request" {
			got = append(got, l.Method+" "+l.Path+" "+strconv.Itoa(l.Status)+" "+l.Token)
		}
	}
	want := []string{
		"GET /v1/endpoints 200 test-editor",
		"GET /v1/endpoints 401 ",
		"GET /v1/tokens 403 test-editor",
		"POST /v1/endpoints 201 test-editor",
		"POST /v1/tokens 201 test-admin",
		"GET /v1/endpoints/" + e.ID + " 200 logged-token",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("request log lines\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	logs := buf.String()
	for _, s := range []string{srv.Tokens[api.RoleAdmin], srv.Tokens[api.RoleEditor], srv.Tokens[api.RoleViewer],
		created.Secret, badSecret, "Bearer", "querysecret"} {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains %q:\n%s", s, logs)
		}
	}
}

// TestWhoami names the caller's own token and role, for every role, and
// never its secret.
func TestWhoami(t *testing.T) {
	srv := acctest.NewServer(t)
	for role, secret := range srv.Tokens {
		r := call(t, srv, http.MethodGet, "/v1/whoami", secret, nil)
		var tok api.Token
		decode(t, r, &tok)
		if tok.Name != "test-"+role || tok.Role != role || !strings.HasPrefix(tok.ID, api.PrefixToken) {
			t.Errorf("whoami as %s = %+v", role, tok)
		}
		if strings.Contains(string(r.Body), secret) {
			t.Errorf("whoami as %s returns the token's secret", role)
		}
	}
}

// TestTokenListPages: GET /v1/tokens pages by name like every listing:
// pages of 2 walk every token once, in order, and a page exactly full is
// the last (no next_cursor). Mutation testing found the token pager's
// own boundary and cursor arithmetic unpinned.
func TestTokenListPages(t *testing.T) {
	srv := acctest.NewServer(t)
	for _, name := range []string{"ci-a", "ci-b"} {
		wantStatus(t, call(t, srv, http.MethodPost, "/v1/tokens", srv.AdminToken, map[string]any{"name": name, "role": "viewer"}), http.StatusCreated)
	}
	var all api.List[api.Token]
	decode(t, call(t, srv, http.MethodGet, "/v1/tokens", srv.AdminToken, nil), &all)
	var want []string
	for _, tok := range all.Items {
		want = append(want, tok.Name)
	}
	if len(want) < 5 || !slices.IsSorted(want) || all.NextCursor != "" {
		t.Fatalf("all tokens: %v, next %q; want at least 5, by name, one page", want, all.NextCursor)
	}

	var got []string
	q := url.Values{"limit": {"2"}}
	for range len(want) {
		var page api.List[api.Token]
		decode(t, call(t, srv, http.MethodGet, "/v1/tokens?"+q.Encode(), srv.AdminToken, nil), &page)
		for _, tok := range page.Items {
			got = append(got, tok.Name)
		}
		if page.NextCursor == "" {
			break
		}
		q.Set("after", page.NextCursor)
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages of 2 gave %v, want %v", got, want)
	}

	var full api.List[api.Token]
	decode(t, call(t, srv, http.MethodGet, fmt.Sprintf("/v1/tokens?limit=%d", len(want)), srv.AdminToken, nil), &full)
	if len(full.Items) != len(want) || full.NextCursor != "" {
		t.Errorf("a page of exactly all %d tokens: %d items, next %q; want all and no next page", len(want), len(full.Items), full.NextCursor)
	}
}
