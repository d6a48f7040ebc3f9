package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
)

// updateGolden rewrites testdata/golden files instead of comparing with them:
// go test ./internal/server -run TestGoldenAPISession -update-golden
var updateGolden = flag.Bool("update-golden", false, "rewrite the golden transcripts in testdata/golden")

// goldenIDRe matches every object ID the API makes. IDs are random, so the
// transcript names them by kind and order of first appearance instead.
var goldenIDRe = regexp.MustCompile(`\b(ep|cred|mon|thr|chan|ret|aud|evt|tok)_[0-9a-z]{26}\b`)

// goldenCursorRe matches a cursor in a body or a query string. Cursors are
// opaque on the wire but encode an ID, so they are normalized through it.
var goldenCursorRe = regexp.MustCompile(`("next_cursor":"|after=)([A-Za-z0-9_-]+)`)

// goldenHeaders are the response headers the transcript records: those
// that carry API meaning. Date and lengths say nothing about the API.
var goldenHeaders = []string{"Content-Type", "ETag", "Location", api.HeaderReplayed, "Retry-After", "Allow", "WWW-Authenticate", "Cache-Control", "X-Content-Type-Options", "Connection"}

// transcript records a scripted API session with IDs and cursors
// normalized, so that a refactoring of the server can be checked against
// the answers it gave before, byte for byte.
type transcript struct {
	t    *testing.T
	srv  *acctest.Server
	clk  *clock.Fake
	buf  bytes.Buffer
	ids  map[string]string
	seen map[string]int
}

func (tr *transcript) norm(s string) string {
	s = goldenCursorRe.ReplaceAllStringFunc(s, func(m string) string {
		sub := goldenCursorRe.FindStringSubmatch(m)
		raw, err := base64.RawURLEncoding.DecodeString(sub[2])
		if err != nil {
			return sub[1] + "<cursor:?>"
		}
		return sub[1] + "<cursor:" + tr.normIDs(string(raw)) + ">"
	})
	return tr.normIDs(s)
}

func (tr *transcript) normIDs(s string) string {
	return goldenIDRe.ReplaceAllStringFunc(s, func(id string) string {
		if n, ok := tr.ids[id]; ok {
			return n
		}
		kind := id[:strings.IndexByte(id, '_')]
		tr.seen[kind]++
		n := fmt.Sprintf("%s_%d", kind, tr.seen[kind])
		tr.ids[id] = n
		return n
	})
}

// do makes one request as role and records it and its answer. It returns
// the answer for the script to pick IDs and revisions from.
func (tr *transcript) do(title, method, path, role string, body any, hdr ...string) response {
	tr.t.Helper()
	tr.clk.Advance(time.Second)
	token := ""
	if role != "" {
		token = tr.srv.Tokens[role]
	}
	r := call(tr.t, tr.srv, method, path, token, body, hdr...)
	fmt.Fprintf(&tr.buf, "### %s\n%s %s (%s)", title, method, tr.norm(path), roleName(role))
	for i := 0; i+1 < len(hdr); i += 2 {
		fmt.Fprintf(&tr.buf, " [%s: %s]", hdr[i], tr.norm(hdr[i+1]))
	}
	tr.buf.WriteString("\n")
	switch b := body.(type) {
	case nil:
	case string:
		tr.buf.WriteString(tr.norm(b) + "\n")
	default:
		enc := mustJSON(tr.t, b)
		tr.buf.WriteString(tr.norm(string(enc)) + "\n")
	}
	fmt.Fprintf(&tr.buf, "--> %d\n", r.Status)
	for _, h := range goldenHeaders {
		for _, v := range r.Header.Values(h) {
			fmt.Fprintf(&tr.buf, "%s: %s\n", h, tr.norm(v))
		}
	}
	tr.buf.WriteString(tr.norm(string(r.Body)))
	if !bytes.HasSuffix(r.Body, []byte("\n")) {
		tr.buf.WriteString("\n")
	}
	tr.buf.WriteString("\n")
	return r
}

func roleName(role string) string {
	if role == "" {
		return "no token"
	}
	return role
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compare checks the transcript against testdata/golden/name, or rewrites
// the file with -update-golden.
func (tr *transcript) compare(name string) {
	tr.t.Helper()
	file := filepath.Join("testdata", "golden", name)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
			tr.t.Fatal(err)
		}
		if err := os.WriteFile(file, tr.buf.Bytes(), 0o600); err != nil {
			tr.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file) //nolint:gosec // G304: a fixed test data path.
	if err != nil {
		tr.t.Fatalf("read %s (run with -update-golden to create it): %v", file, err)
	}
	if got := tr.buf.Bytes(); !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				tr.t.Fatalf("%s differs first at line %d:\n got: %s\nwant: %s\n(run with -update-golden only when the change is intended)", file, i+1, g, w)
			}
		}
	}
}

// field reads one string member of a JSON object answer.
func field(t testing.TB, r response, key string) string {
	t.Helper()
	obj := rawObject(t, r.Body)
	var s string
	raw, ok := obj[key]
	if !ok {
		t.Fatalf("answer has no %q: %s", key, r.Body)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s is not a string: %s", key, raw)
	}
	return s
}

// TestGoldenAPISession runs a scripted session of API calls over every
// kind — create, get, list with filters and paging, update with and
// without changes, stale If-Match, replayed and reused idempotency keys,
// field errors, roles, referenced deletes, delete twice, the audit trail —
// and compares the answers with testdata/golden/api_session.txt byte for
// byte (IDs and cursors normalized). It pins the API's behaviour so that a
// restructuring of the server cannot change it unnoticed.
func TestGoldenAPISession(t *testing.T) {
	clk := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: clk})
	tr := &transcript{t: t, srv: srv, clk: clk, ids: map[string]string{}, seen: map[string]int{}}
	const ed, vw = api.RoleEditor, api.RoleViewer

	// Endpoints.
	epBody := map[string]any{
		"name": "payments", "url": "https://api.payments.example.com/v2", "description": "Payments API",
		"owner": "team-payments", "api_version": "2.1", "data_classification": "pii",
		"tags": map[string]string{"env": "prod", "team": "payments"},
	}
	r := tr.do("create endpoint", http.MethodPost, "/v1/endpoints", ed, epBody, api.HeaderIdempotency, "key-ep-1")
	ep := field(t, r, "id")
	tr.do("replay the create with the same key", http.MethodPost, "/v1/endpoints", ed, epBody, api.HeaderIdempotency, "key-ep-1")
	tr.do("same key, another body", http.MethodPost, "/v1/endpoints", ed, minimal("other"), api.HeaderIdempotency, "key-ep-1")
	tr.do("name conflict", http.MethodPost, "/v1/endpoints", ed, minimal("payments"))
	tr.do("field errors", http.MethodPost, "/v1/endpoints", ed, map[string]any{
		"name": "", "url": "ftp://x", "data_classification": "secret", "tags": map[string]string{"": "x"},
	})
	tr.do("malformed JSON", http.MethodPost, "/v1/endpoints", ed, `{"name":`)
	tr.do("unknown field", http.MethodPost, "/v1/endpoints", ed, `{"name":"x","url":"https://x.example.com","colour":"red"}`)
	tr.do("viewer may not create", http.MethodPost, "/v1/endpoints", vw, minimal("viewer-made"))
	tr.do("no token", http.MethodGet, "/v1/endpoints", "", nil)
	ep2 := field(t, tr.do("create a second endpoint", http.MethodPost, "/v1/endpoints", ed, map[string]any{
		"name": "partner-queue", "url": "tcp://queue.partner.example:5672", "tags": map[string]string{"env": "staging"},
	}), "id")
	tr.do("create a third endpoint", http.MethodPost, "/v1/endpoints", ed, minimal("payments-sandbox"))
	tr.do("get endpoint", http.MethodGet, "/v1/endpoints/"+ep, vw, nil)
	tr.do("get a missing endpoint", http.MethodGet, "/v1/endpoints/ep_00000000000000000000000000", vw, nil)
	r = tr.do("list, first page", http.MethodGet, "/v1/endpoints?limit=2", vw, nil)
	next := field(t, r, "next_cursor")
	tr.do("list, second page", http.MethodGet, "/v1/endpoints?limit=2&after="+next, vw, nil)
	tr.do("list by name prefix", http.MethodGet, "/v1/endpoints?name_prefix=payments", vw, nil)
	tr.do("list by name", http.MethodGet, "/v1/endpoints?name=partner-queue", vw, nil)
	tr.do("list by two tags", http.MethodGet, "/v1/endpoints?tag=env:prod&tag=team:payments", vw, nil)
	tr.do("list with a bad limit", http.MethodGet, "/v1/endpoints?limit=0", vw, nil)
	changed := map[string]any{
		"name": "payments", "url": "https://api.payments.example.com/v3", "description": "Payments API v3",
		"owner": "team-payments", "api_version": "3.0", "data_classification": "pii",
		"tags": map[string]string{"env": "prod", "team": "payments"},
	}
	tr.do("update with If-Match", http.MethodPut, "/v1/endpoints/"+ep, ed, changed, "If-Match", `"1"`, api.HeaderIdempotency, "key-ep-put-1")
	tr.do("replay the update", http.MethodPut, "/v1/endpoints/"+ep, ed, changed, "If-Match", `"1"`, api.HeaderIdempotency, "key-ep-put-1")
	tr.do("update that changes nothing", http.MethodPut, "/v1/endpoints/"+ep, ed, changed, "If-Match", `"2"`)
	tr.do("stale If-Match", http.MethodPut, "/v1/endpoints/"+ep, ed, epBody, "If-Match", `"1"`)
	tr.do("update a missing endpoint", http.MethodPut, "/v1/endpoints/ep_00000000000000000000000000", ed, epBody)
	tr.do("method not allowed", http.MethodPatch, "/v1/endpoints/"+ep, ed, epBody)

	// Credentials.
	credBody := map[string]any{
		"name": "payments-key", "type": "api_key", "header": "x-api-key", "allowed_hosts": []string{"api.payments.example.com"}, "secret": "s3cr3t-value-0001",
		"description": "Key for the payments API", "rotation_period": "720h",
	}
	r = tr.do("create credential", http.MethodPost, "/v1/credentials", ed, credBody, api.HeaderIdempotency, "key-cred-1")
	cred := field(t, r, "id")
	tr.do("credential field errors", http.MethodPost, "/v1/credentials", ed, map[string]any{
		"name": "bad", "type": "basic", "header": "X-Key", "secret": "",
	})
	tr.do("get credential", http.MethodGet, "/v1/credentials/"+cred, vw, nil)
	credNoSecret := map[string]any{
		"name": "payments-key", "type": "api_key", "header": "x-api-key", "allowed_hosts": []string{"api.payments.example.com"},
		"description": "Key for the payments API", "rotation_period": "720h",
	}
	tr.do("update credential without the secret (unchanged)", http.MethodPut, "/v1/credentials/"+cred, ed, credNoSecret, "If-Match", `"1"`)
	credNoSecret["rotation_period"] = "30d"
	tr.do("credential with a bad duration", http.MethodPut, "/v1/credentials/"+cred, ed, credNoSecret, "If-Match", `"1"`)
	credRotated := map[string]any{
		"name": "payments-key", "type": "api_key", "header": "x-api-key", "allowed_hosts": []string{"api.payments.example.com"}, "secret": "s3cr3t-value-0002",
		"description": "Key for the payments API", "rotation_period": "720h",
	}
	tr.do("rotate the secret", http.MethodPut, "/v1/credentials/"+cred, ed, credRotated, "If-Match", `"1"`)
	tr.do("list credentials", http.MethodGet, "/v1/credentials", vw, nil)
	tr.do("attach the credential to the endpoint", http.MethodPut, "/v1/endpoints/"+ep, ed, map[string]any{
		"name": "payments", "url": "https://api.payments.example.com/v3", "description": "Payments API v3",
		"owner": "team-payments", "api_version": "3.0", "data_classification": "pii",
		"tags": map[string]string{"env": "prod", "team": "payments"}, "credential_id": cred,
	}, "If-Match", `"2"`)
	tr.do("delete a referenced credential", http.MethodDelete, "/v1/credentials/"+cred, ed, nil)

	// Monitors.
	monBody := map[string]any{
		"name": "payments-health", "endpoint_id": ep, "type": "http", "interval": "30s", "timeout": "5s",
		"tags": map[string]string{"env": "prod"},
		"request": map[string]any{
			"method": "GET", "path": "/health", "headers": map[string]string{"accept": "application/json"},
		},
		"assertions": []map[string]any{
			{"source": "status_code", "comparison": "equals", "target": "200"},
			{"source": "json_body", "property": "$.status", "comparison": "equals", "target": "ok"},
		},
		"retry_strategy": map[string]any{"type": "fixed", "max_retries": 2, "base_backoff": "1s"},
	}
	r = tr.do("create monitor", http.MethodPost, "/v1/monitors", ed, monBody, api.HeaderIdempotency, "key-mon-1")
	mon := field(t, r, "id")
	tr.do("monitor field errors", http.MethodPost, "/v1/monitors", ed, map[string]any{
		"name": "bad-monitor", "endpoint_id": "ep_nope", "type": "ping", "interval": "1s",
		"request":    map[string]any{"method": "get"},
		"assertions": []map[string]any{{"source": "status_code", "comparison": "sometimes", "target": "200"}},
	})
	tr.do("monitor on a missing endpoint", http.MethodPost, "/v1/monitors", ed, map[string]any{
		"name": "orphan", "endpoint_id": "ep_00000000000000000000000000", "type": "http",
	})
	tr.do("tcp monitor", http.MethodPost, "/v1/monitors", ed, map[string]any{
		"name": "queue-tcp", "endpoint_id": ep2, "type": "tcp", "interval": "1m",
	})
	tr.do("get monitor", http.MethodGet, "/v1/monitors/"+mon, vw, nil)
	tr.do("list monitors by tag", http.MethodGet, "/v1/monitors?tag=env:prod", vw, nil)
	monBody["interval"] = "0.5m"
	tr.do("same interval, other spelling, changes nothing", http.MethodPut, "/v1/monitors/"+mon, ed, monBody, "If-Match", `"1"`)
	monBody["enabled"] = false
	tr.do("disable the monitor", http.MethodPut, "/v1/monitors/"+mon, ed, monBody, "If-Match", `"1"`)
	tr.do("status of a monitor with no probes", http.MethodGet, "/v1/monitors/"+mon+"/status", vw, nil)
	tr.do("results of a monitor with no probes", http.MethodGet, "/v1/monitors/"+mon+"/results", vw, nil)
	tr.do("delete a referenced endpoint", http.MethodDelete, "/v1/endpoints/"+ep, ed, nil)

	// Deletes and the audit trail.
	tr.do("delete with a stale If-Match", http.MethodDelete, "/v1/monitors/"+mon, ed, nil, "If-Match", `"1"`)
	tr.do("delete monitor", http.MethodDelete, "/v1/monitors/"+mon, ed, nil, api.HeaderIdempotency, "key-mon-del")
	tr.do("replay the delete", http.MethodDelete, "/v1/monitors/"+mon, ed, nil, api.HeaderIdempotency, "key-mon-del")
	tr.do("delete it again", http.MethodDelete, "/v1/monitors/"+mon, ed, nil)
	tr.do("audit trail of the endpoint", http.MethodGet, "/v1/audit-events?object_id="+ep, vw, nil)
	tr.do("audit trail of credentials", http.MethodGet, "/v1/audit-events?kind=credential", vw, nil)

	// Change history: revisions, a diff with values, a restore, a deleted
	// object brought back.
	tr.do("revisions of the endpoint", http.MethodGet, "/v1/endpoints/"+ep+"/revisions?limit=2", vw, nil)
	tr.do("one revision", http.MethodGet, "/v1/endpoints/"+ep+"/revisions/1", vw, nil)
	tr.do("diff of two revisions", http.MethodGet, "/v1/endpoints/"+ep+"/diff?from=1&to=3", vw, nil)
	tr.do("restore with a stale If-Match", http.MethodPost, "/v1/endpoints/"+ep+"/revisions/1/restore", ed, nil, "If-Match", `"2"`)
	tr.do("restore revision 2", http.MethodPost, "/v1/endpoints/"+ep+"/revisions/2/restore", ed, nil, "If-Match", `"3"`)
	tr.do("restore needs an editor", http.MethodPost, "/v1/endpoints/"+ep+"/revisions/1/restore", vw, nil, "If-Match", `"4"`)
	tr.do("deleted monitors", http.MethodGet, "/v1/deleted/monitors", vw, nil)
	tr.do("restore the deleted monitor", http.MethodPost, "/v1/deleted/monitors/"+mon+"/restore", ed, nil)
	tr.do("whoami", http.MethodGet, "/v1/whoami", ed, nil)
	tr.do("tokens need admin", http.MethodGet, "/v1/tokens", ed, nil)
	tr.do("unknown path", http.MethodGet, "/v1/nothing", vw, nil)

	tr.compare("api_session.txt")
}
