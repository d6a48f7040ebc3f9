package server_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

func TestBadInput(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	existing := createEndpoint(t, srv, editor, minimal("existing"))
	epPath := "/v1/endpoints/" + existing.ID
	eventsBefore := len(auditEvents(t, srv, nil))

	ep := func(mod string) string {
		// A valid body with one member replaced or added.
		return `{"name":"bad-input","url":"https://x.example.com/"` + mod + `}`
	}
	cases := []struct {
		name   string
		method string
		path   string
		body   string
		hdr    []string
		// fields are the exact field names the problem must carry;
		// prefix, when set, is what the single field must start with.
		fields []string
		prefix string
	}{
		{name: "malformed JSON", body: `{"name":`, fields: []string{""}},
		{name: "not JSON", body: `name=x`, fields: []string{""}},
		{name: "empty body", body: ``, fields: []string{""}},
		{name: "array body", body: `[]`, fields: []string{""}},
		{name: "string body", body: `"x"`, fields: []string{""}},
		{name: "two objects", body: ep("") + ep(""), fields: []string{""}},
		{name: "unknown field", body: ep(`,"colour":"red"`), fields: []string{"colour"}},
		{name: "tags a string", body: ep(`,"tags":"x"`), fields: []string{"tags"}},
		{name: "tag value a number", body: ep(`,"tags":{"a":1}`), prefix: "tags"},
		{name: "name a number", body: `{"name":5,"url":"https://x.example.com/"}`, fields: []string{"name"}},
		{name: "revision a string", body: ep(`,"revision":"x"`), fields: []string{"revision"}},
		{name: "ftp url", body: `{"name":"x","url":"ftp://files.example.com/"}`, fields: []string{"url"}},
		{name: "relative url", body: `{"name":"x","url":"/just/a/path"}`, fields: []string{"url"}},
		{name: "empty url", body: `{"name":"x","url":""}`, fields: []string{"url"}},
		{name: "missing url", body: `{"name":"x"}`, fields: []string{"url"}},
		{name: "url with user", body: `{"name":"x","url":"https://u:p@x.example.com/"}`, fields: []string{"url"}},
		{name: "tcp url without port", body: `{"name":"x","url":"tcp://db.example.com"}`, fields: []string{"url"}},
		{name: "tcp url with path", body: `{"name":"x","url":"tcp://db.example.com:5432/db"}`, fields: []string{"url"}},
		{name: "port out of range", body: `{"name":"x","url":"https://x.example.com:70000/"}`, fields: []string{"url"}},
		{name: "name with space", body: `{"name":"has space","url":"https://x.example.com/"}`, fields: []string{"name"}},
		{name: "empty name", body: `{"name":"","url":"https://x.example.com/"}`, fields: []string{"name"}},
		{name: "missing name", body: `{"url":"https://x.example.com/"}`, fields: []string{"name"}},
		{name: "name of 200 characters", body: `{"name":"` + strings.Repeat("a", 200) + `","url":"https://x.example.com/"}`, fields: []string{"name"}},
		{name: "name of 129 characters", body: `{"name":"` + strings.Repeat("a", 129) + `","url":"https://x.example.com/"}`, fields: []string{"name"}},
		{name: "name starting with a dot", body: `{"name":".x","url":"https://x.example.com/"}`, fields: []string{"name"}},
		{name: "bad classification", body: ep(`,"data_classification":"secret"`), fields: []string{"data_classification"}},
		{name: "tag key with colon", body: ep(`,"tags":{"a:b":"c"}`), fields: []string{"tags.a:b"}},
		{name: "empty tag key", body: ep(`,"tags":{"":"c"}`), prefix: "tags"},
		{name: "empty api_version", body: ep(`,"api_version":""`), fields: []string{"api_version"}},
		{name: "empty owner", body: ep(`,"owner":""`), fields: []string{"owner"}},
		{name: "empty description", body: ep(`,"description":""`), fields: []string{"description"}},
		{name: "name with ESC", body: `{"name":"pay\u001bments","url":"https://x.example.com/"}`, fields: []string{"name"}},
		{name: "description with NUL", body: ep(`,"description":"a\u0000b"`), fields: []string{"description"}},
		{name: "description with bidi override", body: ep(`,"description":"a\u202eb"`), fields: []string{"description"}},
		{name: "long description", body: ep(`,"description":"` + strings.Repeat("d", api.MaxDescription+1) + `"`), fields: []string{"description"}},
		{name: "several fields at once", body: `{"name":"","url":"ftp://x","api_version":""}`, fields: []string{"name", "url", "api_version"}},

		{name: "PUT malformed JSON", method: http.MethodPut, path: epPath, body: `{`, fields: []string{""}},
		{name: "PUT unknown field", method: http.MethodPut, path: epPath, body: ep(`,"colour":"red"`), fields: []string{"colour"}},
		{name: "PUT bad url", method: http.MethodPut, path: epPath, body: `{"name":"existing","url":"ftp://x/"}`, fields: []string{"url"}},
		{name: "PUT If-Match not a number", method: http.MethodPut, path: epPath, body: minimalJSON("existing"), hdr: []string{"If-Match", `"abc"`}, fields: []string{"If-Match"}},
		{name: "PUT If-Match zero", method: http.MethodPut, path: epPath, body: minimalJSON("existing"), hdr: []string{"If-Match", `"0"`}, fields: []string{"If-Match"}},
		{name: "DELETE If-Match not a number", method: http.MethodDelete, path: epPath, hdr: []string{"If-Match", `"abc"`}, fields: []string{"If-Match"}},

		{name: "list limit 0", method: http.MethodGet, path: "/v1/endpoints?limit=0", fields: []string{"limit"}},
		{name: "list limit abc", method: http.MethodGet, path: "/v1/endpoints?limit=abc", fields: []string{"limit"}},
		{name: "list limit too big", method: http.MethodGet, path: "/v1/endpoints?limit=1001", fields: []string{"limit"}},
		{name: "list limit negative", method: http.MethodGet, path: "/v1/endpoints?limit=-1", fields: []string{"limit"}},
		{name: "list after garbage", method: http.MethodGet, path: "/v1/endpoints?after=garbage!!", fields: []string{"after"}},
		{name: "list tag without colon", method: http.MethodGet, path: "/v1/endpoints?tag=env", fields: []string{"tag"}},
		{name: "list tag with empty key", method: http.MethodGet, path: "/v1/endpoints?tag=:prod", fields: []string{"tag"}},
		{name: "list limit and after bad", method: http.MethodGet, path: "/v1/endpoints?limit=x&after=!", fields: []string{"limit", "after"}},
		{name: "audit since yesterday", method: http.MethodGet, path: "/v1/audit-events?since=yesterday", fields: []string{"since"}},
		{name: "audit limit 0", method: http.MethodGet, path: "/v1/audit-events?limit=0", fields: []string{"limit"}},
		{name: "audit after garbage", method: http.MethodGet, path: "/v1/audit-events?after=garbage!!", fields: []string{"after"}},
		// A well-formed cursor that this listing never returned.
		{name: "audit after foreign cursor", method: http.MethodGet, path: "/v1/audit-events?after=" + base64.RawURLEncoding.EncodeToString([]byte("ep_x")), fields: []string{"after"}},
		{name: "audit limit and foreign cursor", method: http.MethodGet, path: "/v1/audit-events?limit=0&after=" + base64.RawURLEncoding.EncodeToString([]byte("12x")), fields: []string{"limit", "after"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method, path := tc.method, tc.path
			if method == "" {
				method, path = http.MethodPost, "/v1/endpoints"
			}
			var body any
			if method == http.MethodPost || method == http.MethodPut {
				body = tc.body
			}
			r := call(t, srv, method, path, editor, body, tc.hdr...)
			p := wantProblem(t, r, http.StatusBadRequest)
			if tc.prefix != "" {
				if len(p.Errors) != 1 || !strings.HasPrefix(p.Errors[0].Field, tc.prefix) {
					t.Errorf("fields %q, want one starting with %q", fieldsOf(p), tc.prefix)
				}
				return
			}
			wantFields(t, p, tc.fields...)
		})
	}

	// None of it changed anything.
	l, _ := listEndpoints(t, srv, "")
	if len(l.Items) != 1 || l.Items[0].ID != existing.ID || l.Items[0].Revision != 1 {
		t.Errorf("endpoints after bad input: %+v", l.Items)
	}
	if got := len(auditEvents(t, srv, nil)); got != eventsBefore {
		t.Errorf("%d audit events after bad input, want %d", got, eventsBefore)
	}
}

func minimalJSON(name string) string {
	return `{"name":"` + name + `","url":"https://` + name + `.example.com/"}`
}

func TestBodyTooLarge(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	e := createEndpoint(t, srv, editor, minimal("big"))
	huge := `{"name":"big","url":"https://big.example.com/","description":"` + strings.Repeat("x", 1<<20) + `"}`

	r := call(t, srv, http.MethodPost, "/v1/endpoints", editor, huge)
	wantProblem(t, r, http.StatusRequestEntityTooLarge)
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+e.ID, editor, huge, api.HeaderIdempotency, "big")
	wantProblem(t, r, http.StatusRequestEntityTooLarge)
	r = call(t, srv, http.MethodPost, "/v1/tokens", srv.AdminToken, `{"name":"`+strings.Repeat("x", 1<<20)+`","role":"viewer"}`)
	wantProblem(t, r, http.StatusRequestEntityTooLarge)

	// Exactly at the limit is not too large (it is a bad description).
	atLimit := `{"name":"big","url":"https://big.example.com/","description":"`
	atLimit += strings.Repeat("x", 1<<20-len(atLimit)-2) + `"}`
	if len(atLimit) != 1<<20 {
		t.Fatalf("body is %d bytes", len(atLimit))
	}
	r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, atLimit)
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "description")
}

func TestUnknownRoutes(t *testing.T) {
	srv := acctest.NewServer(t)
	for _, tc := range []struct{ method, path, token string }{
		{http.MethodGet, "/", ""},
		{http.MethodGet, "/v1/nope", srv.AdminToken},
		{http.MethodGet, "/v1/nope", ""},
		{http.MethodGet, "/v2/endpoints", srv.AdminToken},
		{http.MethodPost, "/v1/endpoints/x/y", srv.AdminToken},
		{http.MethodGet, "/v1/endpoints/", srv.AdminToken},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := call(t, srv, tc.method, tc.path, tc.token, nil)
			p := wantProblem(t, r, http.StatusNotFound)
			if !strings.Contains(p.Detail, tc.path) {
				t.Errorf("detail %q does not name the path", p.Detail)
			}
		})
	}
}

// A value the field's own decoder refuses (a time that is not RFC 3339) is
// a 400 on that field, not on the body as a whole.
func TestBadTimeNamesItsField(t *testing.T) {
	srv := acctest.NewServer(t)
	r := call(t, srv, http.MethodPost, "/v1/credentials", srv.Tokens[api.RoleEditor],
		`{"name":"t","type":"bearer","secret":"s","expires_at":"tomorrow"}`)
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "expires_at")
}

// A known path with a method it does not take is a 405 naming the methods
// it does take; an unknown path stays a 404.
func TestWrongMethodIs405(t *testing.T) {
	srv := acctest.NewServer(t)
	r := call(t, srv, http.MethodPatch, "/v1/endpoints/ep_x", srv.AdminToken, nil)
	wantProblem(t, r, http.StatusMethodNotAllowed)
	wantHeader(t, r, "Allow", "GET, PUT, DELETE")
	r = call(t, srv, http.MethodPut, "/v1/endpoints", srv.AdminToken, nil)
	wantProblem(t, r, http.StatusMethodNotAllowed)
	wantHeader(t, r, "Allow", "GET, POST")
	r = call(t, srv, http.MethodGet, "/v1/tokens/tok_x", srv.AdminToken, nil)
	wantProblem(t, r, http.StatusMethodNotAllowed)
	wantHeader(t, r, "Allow", "DELETE")
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/nothing-here", srv.AdminToken, nil), http.StatusNotFound)
}

// The last usable admin token cannot be revoked through the API, and the
// refused revocation changes nothing.
func TestLastAdminTokenCannotBeRevoked(t *testing.T) {
	srv := acctest.NewServer(t)
	r := call(t, srv, http.MethodGet, "/v1/tokens", srv.AdminToken, nil)
	wantStatus(t, r, http.StatusOK)
	var list api.List[api.Token]
	decode(t, r, &list)
	var adminID string
	for _, tok := range list.Items {
		if tok.Role == api.RoleAdmin {
			adminID = tok.ID
		}
	}
	r = call(t, srv, http.MethodDelete, "/v1/tokens/"+adminID, srv.AdminToken, nil)
	wantProblem(t, r, http.StatusConflict)
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/tokens", srv.AdminToken, nil), http.StatusOK)
	// With a second admin token, the first can go.
	r = call(t, srv, http.MethodPost, "/v1/tokens", srv.AdminToken, map[string]string{"name": "second-admin", "role": api.RoleAdmin})
	wantStatus(t, r, http.StatusCreated)
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/tokens/"+adminID, srv.AdminToken, nil), http.StatusNoContent)
}
