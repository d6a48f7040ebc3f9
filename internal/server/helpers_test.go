package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// t0 is the start of every fake clock: it has nanoseconds so that the
// tests see the server truncate times to microseconds.
var t0 = time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)

// t0Micro is t0 as the API shows it.
const t0Micro = "2026-03-01T10:00:00.123456Z"

var httpClient = &http.Client{Timeout: 30 * time.Second}

// response is one HTTP answer, read completely.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string {
	return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body))
}

// call makes one request. body may be nil (no body), a string or []byte
// (sent as is) or anything else (encoded as JSON). hdr is a list of
// header name/value pairs.
func call(t testing.TB, srv *acctest.Server, method, path, token string, body any, hdr ...string) response {
	t.Helper()
	r, err := tryCall(srv, method, path, token, body, hdr...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tryCall is call for goroutines other than the test's: it returns its
// error instead of failing the test.
func tryCall(srv *acctest.Server, method, path, token string, body any, hdr ...string) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return response{}, fmt.Errorf("encode body: %w", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		return response{}, fmt.Errorf("new request: %w", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if len(hdr)%2 != 0 {
		return response{}, fmt.Errorf("odd header list %q", hdr)
	}
	for i := 0; i < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}

// wantStatus fails the test unless r has the given status.
func wantStatus(t testing.TB, r response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, bytes.TrimSpace(r.Body))
	}
}

// wantHeader fails the test unless r's header name is exactly want.
func wantHeader(t testing.TB, r response, name, want string) {
	t.Helper()
	if got := r.Header.Values(name); len(got) != 1 || got[0] != want {
		t.Errorf("header %s = %q, want exactly [%q]", name, got, want)
	}
}

// wantNoHeader fails the test if r carries header name.
func wantNoHeader(t testing.TB, r response, name string) {
	t.Helper()
	if got := r.Header.Values(name); len(got) != 0 {
		t.Errorf("header %s = %q, want none", name, got)
	}
}

// problemDoc is an RFC 9457 document, decoded strictly.
type problemDoc struct {
	Type   string           `json:"type"`
	Title  string           `json:"title"`
	Status int              `json:"status"`
	Detail string           `json:"detail"`
	Errors []api.FieldError `json:"errors"`
}

// wantProblem checks that r is a problem+json answer with the given status
// and returns its document.
func wantProblem(t testing.TB, r response, status int) problemDoc {
	t.Helper()
	wantStatus(t, r, status)
	wantHeader(t, r, "Content-Type", api.ContentTypeProblem)
	var p problemDoc
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decode problem %s: %v", r.Body, err)
	}
	if p.Status != status {
		t.Errorf("problem status = %d, want %d", p.Status, status)
	}
	if p.Title != http.StatusText(status) {
		t.Errorf("problem title = %q, want %q", p.Title, http.StatusText(status))
	}
	if p.Type != "about:blank" {
		t.Errorf("problem type = %q, want about:blank", p.Type)
	}
	if p.Detail == "" {
		t.Errorf("problem has no detail: %s", r.Body)
	}
	return p
}

// fieldsOf lists the field names of a problem's errors.
func fieldsOf(p problemDoc) []string {
	out := []string{}
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// wantFields checks that p names exactly the given fields, in order, each
// with a message.
func wantFields(t testing.TB, p problemDoc, fields ...string) {
	t.Helper()
	if got := fieldsOf(p); !slices.Equal(got, fields) {
		t.Errorf("problem fields = %q, want %q (%+v)", got, fields, p.Errors)
	}
	for _, e := range p.Errors {
		if e.Message == "" {
			t.Errorf("field error %q has no message", e.Field)
		}
	}
}

// decode decodes r's body into v, refusing unknown fields, and checks the
// content type.
func decode(t testing.TB, r response, v any) {
	t.Helper()
	wantHeader(t, r, "Content-Type", api.ContentTypeJSON)
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// rawObject decodes a JSON object into its raw members.
func rawObject(t testing.TB, b []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode object %s: %v", b, err)
	}
	return m
}

// wantRaw checks that member key of obj is exactly the JSON text want
// (compared after compaction).
func wantRaw(t testing.TB, obj map[string]json.RawMessage, key, want string) {
	t.Helper()
	got, ok := obj[key]
	if !ok {
		t.Errorf("member %q is missing", key)
		return
	}
	var a, b bytes.Buffer
	if err := json.Compact(&a, got); err != nil {
		t.Fatalf("compact %s: %v", got, err)
	}
	if err := json.Compact(&b, []byte(want)); err != nil {
		t.Fatalf("compact %s: %v", want, err)
	}
	if a.String() != b.String() {
		t.Errorf("%s = %s, want %s", key, a.String(), b.String())
	}
}

// wantKeys checks that obj has exactly the given members.
func wantKeys(t testing.TB, obj map[string]json.RawMessage, keys ...string) {
	t.Helper()
	var got []string
	for k := range obj {
		got = append(got, k)
	}
	slices.Sort(got)
	want := slices.Clone(keys)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("members = %q, want %q", got, want)
	}
}

// endpointList and auditList are pages as the API sends them.
type endpointList struct {
	Items      []api.Endpoint `json:"items"`
	NextCursor string         `json:"next_cursor"`
}

type auditList struct {
	Items      []api.AuditEvent `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

// createEndpoint creates an endpoint with the given body and returns it.
func createEndpoint(t testing.TB, srv *acctest.Server, token string, body any) api.Endpoint {
	t.Helper()
	r := call(t, srv, http.MethodPost, "/v1/endpoints", token, body)
	wantStatus(t, r, http.StatusCreated)
	var e api.Endpoint
	decode(t, r, &e)
	return e
}

// minimal returns the smallest valid endpoint body.
func minimal(name string) map[string]any {
	return map[string]any{"name": name, "url": "https://" + name + ".example.com/"}
}

// listEndpoints lists with the given raw query.
func listEndpoints(t testing.TB, srv *acctest.Server, query string) (endpointList, response) {
	t.Helper()
	r := call(t, srv, http.MethodGet, "/v1/endpoints?"+query, srv.Tokens[api.RoleViewer], nil)
	wantStatus(t, r, http.StatusOK)
	var l endpointList
	decode(t, r, &l)
	return l, r
}

// auditEvents returns every audit event matching the query, reading all
// pages.
func auditEvents(t testing.TB, srv *acctest.Server, query url.Values) []api.AuditEvent {
	t.Helper()
	var out []api.AuditEvent
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	for range 100 {
		r := call(t, srv, http.MethodGet, "/v1/audit-events?"+q.Encode(), srv.Tokens[api.RoleViewer], nil)
		wantStatus(t, r, http.StatusOK)
		var l auditList
		decode(t, r, &l)
		out = append(out, l.Items...)
		if l.NextCursor == "" {
			return out
		}
		q.Set("after", l.NextCursor)
	}
	t.Fatal("audit listing never ended")
	return nil
}

// auditFor returns the audit events of one object.
func auditFor(t testing.TB, srv *acctest.Server, objectID string) []api.AuditEvent {
	t.Helper()
	return auditEvents(t, srv, url.Values{"object_id": {objectID}})
}

// storeToken creates a token directly in the store, as the command line
// does, and returns it with its secret.
func storeToken(t testing.TB, srv *acctest.Server, clk clock.Clock, name, role string, ttl time.Duration) (api.Token, string) {
	t.Helper()
	if clk == nil {
		clk = clock.Real{}
	}
	var (
		tok    api.Token
		secret string
	)
	err := srv.Store.Write(context.Background(), func(tx store.Tx) error {
		var err error
		tok, secret, err = auth.Create(context.Background(), tx, clk, auth.CreateInput{Name: name, Role: role, TTL: ttl}, auth.CLIActor)
		return err
	})
	if err != nil {
		t.Fatalf("create token %s: %v", name, err)
	}
	return tok, secret
}

// revokeInStore revokes a token directly in the store.
func revokeInStore(t testing.TB, srv *acctest.Server, idOrName string) {
	t.Helper()
	err := srv.Store.Write(context.Background(), func(tx store.Tx) error {
		_, err := auth.Revoke(context.Background(), tx, clock.Real{}, idOrName, auth.CLIActor)
		return err
	})
	if err != nil {
		t.Fatalf("revoke %s: %v", idOrName, err)
	}
}
