package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/server"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

var credIDRe = regexp.MustCompile(`^cred_[0-9a-hjkmnp-tv-z]{26}$`)

// credentialKeys are the members of every credential the API returns:
// never "secret".
var credentialKeys = []string{"id", "name", "description", "type", "header", "query_param", "username",
	"token_url", "client_id", "scopes", "allowed_hosts", "expires_at", "rotation_period", "rotation_due_at",
	"secret_revision", "last_rotated_at", "revision", "created_at", "updated_at"}

// credMetaKeys are the fields a client sets, returned exactly as sent.
var credMetaKeys = []string{"name", "description", "type", "header", "query_param", "username",
	"token_url", "client_id", "scopes", "allowed_hosts", "expires_at", "rotation_period"}

type credentialList struct {
	Items      []api.Credential `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

// credBody returns the smallest valid credential body of a type.
func credBody(name, typ, secretValue string) map[string]any {
	// *.example.com covers the endpoints of minimal() and the token URL.
	b := map[string]any{"name": name, "type": typ, "secret": secretValue, "allowed_hosts": []string{"*.example.com"}}
	switch typ {
	case api.CredBasic:
		b["username"] = "user-" + name
	case api.CredOAuth2Client:
		b["token_url"] = "https://auth.example.com/oauth/token"
		b["client_id"] = "client-" + name
	}
	return b
}

// without returns a copy of body with the given members removed.
func without(body map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for k, v := range body {
		if !slices.Contains(keys, k) {
			out[k] = v
		}
	}
	return out
}

// with returns a copy of body with the given members set.
func with(body map[string]any, kv ...any) map[string]any {
	out := without(body)
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// wantNoSecretMember fails if a credential (or any item of a listing) in
// body has a "secret" member, whatever its value.
func wantNoSecretMember(t testing.TB, body []byte) {
	t.Helper()
	obj := rawObject(t, body)
	objs := []map[string]json.RawMessage{obj}
	if items, ok := obj["items"]; ok {
		var list []map[string]json.RawMessage
		if err := json.Unmarshal(items, &list); err != nil {
			t.Fatalf("decode items %s: %v", items, err)
		}
		objs = list
	}
	for _, o := range objs {
		if v, ok := o["secret"]; ok {
			t.Errorf("the response carries a secret member: %s", v)
		}
		if v, ok := o["secret_wo"]; ok {
			t.Errorf("the response carries a secret_wo member: %s", v)
		}
	}
}

// createCredential creates a credential and returns it.
func createCredential(t testing.TB, srv *acctest.Server, token string, body any) api.Credential {
	t.Helper()
	r := call(t, srv, http.MethodPost, "/v1/credentials", token, body)
	wantStatus(t, r, http.StatusCreated)
	wantNoSecretMember(t, r.Body)
	var c api.Credential
	decode(t, r, &c)
	return c
}

// getCredential reads a credential through the API.
func getCredential(t testing.TB, srv *acctest.Server, id string) (api.Credential, response) {
	t.Helper()
	r := call(t, srv, http.MethodGet, "/v1/credentials/"+id, srv.Tokens[api.RoleViewer], nil)
	wantStatus(t, r, http.StatusOK)
	wantNoSecretMember(t, r.Body)
	var c api.Credential
	decode(t, r, &c)
	return c, r
}

// listCredentials lists with the given raw query.
func listCredentials(t testing.TB, srv *acctest.Server, query string) (credentialList, response) {
	t.Helper()
	r := call(t, srv, http.MethodGet, "/v1/credentials?"+query, srv.Tokens[api.RoleViewer], nil)
	wantStatus(t, r, http.StatusOK)
	wantNoSecretMember(t, r.Body)
	var l credentialList
	decode(t, r, &l)
	return l, r
}

// storedSecret opens the stored secret of a credential with the server's
// keyring: what a probe would use.
func storedSecret(t testing.TB, srv *acctest.Server, id string) string {
	t.Helper()
	rec, err := srv.Store.GetCredential(context.Background(), id)
	if err != nil {
		t.Fatalf("get credential %s: %v", id, err)
	}
	plain, err := srv.Keyring.Open(rec.Sealed, secret.Binding{ObjectID: id, Revision: rec.SecretRevision})
	if err != nil {
		t.Fatalf("open the secret of %s: %v", id, err)
	}
	return string(plain)
}

// rfc is a time as the API renders it.
func rfc(tm time.Time) string { return `"` + tm.UTC().Format(time.RFC3339Nano) + `"` }

func TestCredentialCreateEachType(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	editor := srv.Tokens[api.RoleEditor]
	now := t0.Truncate(time.Microsecond)

	cases := []struct {
		name string
		body map[string]any
		// due is the expected rotation_due_at as JSON.
		due string
	}{
		{"api_key with header", map[string]any{"name": "key-header", "type": "api_key", "header": "x-api-key",
			"description": "Used by the probe.", "rotation_period": "720h"}, rfc(now.Add(720 * time.Hour))},
		{"api_key with query_param", map[string]any{"name": "key-query", "type": "api_key", "query_param": "api_key",
			// No rotation period: the rotation is due when the secret expires.
			"expires_at": "2027-01-02T03:04:05Z"}, `"2027-01-02T03:04:05Z"`},
		// Neither header nor query_param: the default header is applied
		// when a probe runs, never stored.
		{"api_key with neither", map[string]any{"name": "key-bare", "type": "api_key", "description": nil,
			"header": nil, "query_param": nil}, "null"},
		{"bearer", map[string]any{"name": "bearer-1", "type": "bearer", "description": "CI token",
			"rotation_period": "90m", "expires_at": "2026-06-30T00:00:00.5Z"}, rfc(now.Add(90 * time.Minute))},
		{"basic", map[string]any{"name": "basic-1", "type": "basic", "username": "svc-orders"}, "null"},
		{"oauth2 client credentials", map[string]any{"name": "oauth-1", "type": "oauth2_client_credentials",
			"token_url": "https://auth.example.com/oauth/token", "client_id": "orders-client",
			"scopes": []string{"write", "read"}, "rotation_period": "2160h"}, rfc(now.Add(2160 * time.Hour))},
		{"oauth2 with empty scopes", map[string]any{"name": "oauth-2", "type": "oauth2_client_credentials",
			"token_url": "http://127.0.0.1:8080/token", "client_id": "c2", "scopes": []string{}}, "null"},
		{"oauth2 without scopes", map[string]any{"name": "oauth-3", "type": "oauth2_client_credentials",
			"token_url": "https://auth.example.com/t", "client_id": "c3"}, "null"},
	}
	var ids []string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := with(tc.body, "secret", "s3cr3t-value-"+tc.name, "allowed_hosts", []string{"*.example.com", "127.0.0.1:8080"})
			key := "create-" + tc.name
			r := call(t, srv, http.MethodPost, "/v1/credentials", editor, body, api.HeaderIdempotency, key)
			wantStatus(t, r, http.StatusCreated)
			wantHeader(t, r, "ETag", `"1"`)
			wantNoSecretMember(t, r.Body)
			obj := rawObject(t, r.Body)
			wantKeys(t, obj, credentialKeys...)
			for _, k := range credMetaKeys {
				want := "null"
				if v, ok := body[k]; ok {
					b, err := json.Marshal(v)
					if err != nil {
						t.Fatal(err)
					}
					want = string(b)
				}
				wantRaw(t, obj, k, want)
			}
			wantRaw(t, obj, "secret_revision", `1`)
			wantRaw(t, obj, "revision", `1`)
			wantRaw(t, obj, "created_at", `"`+t0Micro+`"`)
			wantRaw(t, obj, "updated_at", `"`+t0Micro+`"`)
			wantRaw(t, obj, "last_rotated_at", `"`+t0Micro+`"`)
			wantRaw(t, obj, "rotation_due_at", tc.due)

			var c api.Credential
			decode(t, r, &c)
			if !credIDRe.MatchString(c.ID) {
				t.Errorf("id %q is not cred_ + 26 base32 digits", c.ID)
			}
			if c.Secret != nil {
				t.Errorf("secret = %q", *c.Secret)
			}
			wantHeader(t, r, "Location", "/v1/credentials/"+c.ID)
			ids = append(ids, c.ID)

			// GET returns exactly what create returned.
			_, g := getCredential(t, srv, c.ID)
			wantHeader(t, g, "ETag", `"1"`)
			if !bytes.Equal(g.Body, r.Body) {
				t.Errorf("GET body\n%s\ndiffers from the create body\n%s", g.Body, r.Body)
			}

			// A replay returns the stored answer: the same body, no
			// secret, and no second credential.
			rr := call(t, srv, http.MethodPost, "/v1/credentials", editor, body, api.HeaderIdempotency, key)
			wantStatus(t, rr, http.StatusCreated)
			wantHeader(t, rr, api.HeaderReplayed, "true")
			wantNoSecretMember(t, rr.Body)
			if !bytes.Equal(rr.Body, r.Body) {
				t.Errorf("replayed body\n%s\ndiffers from\n%s", rr.Body, r.Body)
			}
			if l, _ := listCredentials(t, srv, "name="+tc.body["name"].(string)); len(l.Items) != 1 {
				t.Errorf("%d credentials named %s after a replay, want 1", len(l.Items), tc.body["name"])
			}

			// The secret sealed is the secret sent.
			if got := storedSecret(t, srv, c.ID); got != "s3cr3t-value-"+tc.name {
				t.Errorf("stored secret %q", got)
			}
		})
	}

	// The listing shows every credential, in ID order, without secrets,
	// each exactly as GET shows it.
	l, _ := listCredentials(t, srv, "")
	if len(l.Items) != len(cases) {
		t.Fatalf("%d credentials listed, want %d", len(l.Items), len(cases))
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	for i, c := range l.Items {
		if c.ID != sorted[i] {
			t.Errorf("item %d = %s, want %s", i, c.ID, sorted[i])
		}
		g, _ := getCredential(t, srv, c.ID)
		a, _ := json.Marshal(c)
		b, _ := json.Marshal(g)
		if !bytes.Equal(a, b) {
			t.Errorf("listed %s\ndiffers from GET %s", a, b)
		}
	}
	// Paging, name_prefix, and tags (credentials have none: no match).
	var paged []string
	q := "limit=3"
	for range 10 {
		p, r := listCredentials(t, srv, q)
		for _, c := range p.Items {
			paged = append(paged, c.ID)
		}
		if p.NextCursor == "" {
			wantKeys(t, rawObject(t, r.Body), "items")
			break
		}
		q = "limit=3&after=" + p.NextCursor
	}
	if !slices.Equal(paged, sorted) {
		t.Errorf("paged %v, want %v", paged, sorted)
	}
	if p, _ := listCredentials(t, srv, "name_prefix=oauth-"); len(p.Items) != 3 {
		t.Errorf("name_prefix=oauth- gave %d, want 3", len(p.Items))
	}
	if p, r := listCredentials(t, srv, "tag=env:prod"); len(p.Items) != 0 || !strings.Contains(string(r.Body), `"items":[]`) {
		t.Errorf("tag filter on credentials: %s", r.Body)
	}
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/credentials/cred_doesnotexist", editor, nil), http.StatusNotFound)
}

func TestCredentialUpdate(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	editor := srv.Tokens[api.RoleEditor]
	at := func(d time.Duration) time.Time { return t0.Add(d).Truncate(time.Microsecond) }

	base := map[string]any{"name": "rotating", "type": "bearer", "description": "d1", "rotation_period": "60m",
		"allowed_hosts": []string{"api.example.com"}}
	r := call(t, srv, http.MethodPost, "/v1/credentials", editor, with(base, "secret", "first-secret"))
	wantStatus(t, r, http.StatusCreated)
	var c api.Credential
	decode(t, r, &c)
	path := "/v1/credentials/" + c.ID
	createdBody := r.Body
	events := func() []api.AuditEvent { return auditFor(t, srv, c.ID) }

	// noChange checks that a PUT changed nothing: the answer and a GET are
	// the original, and no audit event was written.
	noChange := func(t *testing.T, body map[string]any, wantBody []byte, nEvents int) {
		t.Helper()
		r := call(t, srv, http.MethodPut, path, editor, body)
		wantStatus(t, r, http.StatusOK)
		wantNoSecretMember(t, r.Body)
		if !bytes.Equal(r.Body, wantBody) {
			t.Errorf("PUT answer\n%s\nwant the unchanged\n%s", r.Body, wantBody)
		}
		if _, g := getCredential(t, srv, c.ID); !bytes.Equal(g.Body, wantBody) {
			t.Errorf("after a no-op PUT, GET\n%s\nwant\n%s", g.Body, wantBody)
		}
		if evs := events(); len(evs) != nEvents {
			t.Errorf("%d audit events after a no-op PUT, want %d: %+v", len(evs), nEvents, evs)
		}
	}

	fake.Advance(time.Minute)
	t.Run("no secret, same metadata", func(t *testing.T) { noChange(t, base, createdBody, 1) })
	t.Run("same secret, same metadata", func(t *testing.T) {
		noChange(t, with(base, "secret", "first-secret"), createdBody, 1)
	})
	t.Run("60m is 1h", func(t *testing.T) { noChange(t, with(base, "rotation_period", "1h"), createdBody, 1) })
	t.Run("60m is 3600s with the same secret", func(t *testing.T) {
		noChange(t, with(base, "rotation_period", "3600s", "secret", "first-secret"), createdBody, 1)
	})

	// Metadata only: revision +1, secret_revision and last_rotated_at stay.
	fake.Advance(time.Minute) // t0+2m
	r = call(t, srv, http.MethodPut, path, editor, with(base, "description", "d2"), "If-Match", `"1"`)
	wantStatus(t, r, http.StatusOK)
	wantHeader(t, r, "ETag", `"2"`)
	wantNoSecretMember(t, r.Body)
	obj := rawObject(t, r.Body)
	wantRaw(t, obj, "description", `"d2"`)
	wantRaw(t, obj, "revision", `2`)
	wantRaw(t, obj, "secret_revision", `1`)
	wantRaw(t, obj, "last_rotated_at", rfc(at(0)))
	wantRaw(t, obj, "rotation_due_at", rfc(at(time.Hour)))
	wantRaw(t, obj, "created_at", rfc(at(0)))
	wantRaw(t, obj, "updated_at", rfc(at(2*time.Minute)))
	if got := storedSecret(t, srv, c.ID); got != "first-secret" {
		t.Errorf("secret after a metadata update = %q", got)
	}
	base["description"] = "d2"

	// A new secret: secret_revision +1, last_rotated_at and rotation_due_at
	// move, revision +1.
	fake.Advance(time.Minute) // t0+3m
	r = call(t, srv, http.MethodPut, path, editor, with(base, "secret", "second-secret"), "If-Match", `"2"`)
	wantStatus(t, r, http.StatusOK)
	wantHeader(t, r, "ETag", `"3"`)
	wantNoSecretMember(t, r.Body)
	obj = rawObject(t, r.Body)
	wantKeys(t, obj, credentialKeys...)
	wantRaw(t, obj, "revision", `3`)
	wantRaw(t, obj, "secret_revision", `2`)
	wantRaw(t, obj, "last_rotated_at", rfc(at(3*time.Minute)))
	wantRaw(t, obj, "rotation_due_at", rfc(at(3*time.Minute+time.Hour)))
	wantRaw(t, obj, "updated_at", rfc(at(3*time.Minute)))
	wantRaw(t, obj, "description", `"d2"`)
	if got := storedSecret(t, srv, c.ID); got != "second-secret" {
		t.Errorf("secret after rotation = %q", got)
	}
	rotatedBody := r.Body

	// Sending the same new secret again is no change, nor is leaving it out.
	fake.Advance(time.Minute)
	t.Run("same new secret", func(t *testing.T) { noChange(t, with(base, "secret", "second-secret"), rotatedBody, 3) })
	t.Run("secret left out", func(t *testing.T) { noChange(t, base, rotatedBody, 3) })

	// A new secret and a metadata change at once.
	fake.Advance(time.Minute) // t0+5m
	r = call(t, srv, http.MethodPut, path, editor, with(base, "secret", "third-secret", "rotation_period", "2h", "description", nil))
	wantStatus(t, r, http.StatusOK)
	obj = rawObject(t, r.Body)
	wantRaw(t, obj, "revision", `4`)
	wantRaw(t, obj, "secret_revision", `3`)
	wantRaw(t, obj, "description", `null`)
	wantRaw(t, obj, "rotation_period", `"2h"`)
	wantRaw(t, obj, "rotation_due_at", rfc(at(5*time.Minute+2*time.Hour)))
	// rotation_period left out: rotation_due_at becomes null.
	fake.Advance(time.Minute) // t0+6m
	r = call(t, srv, http.MethodPut, path, editor, without(base, "rotation_period", "description"))
	wantStatus(t, r, http.StatusOK)
	obj = rawObject(t, r.Body)
	wantRaw(t, obj, "revision", `5`)
	wantRaw(t, obj, "secret_revision", `3`)
	wantRaw(t, obj, "rotation_period", `null`)
	wantRaw(t, obj, "rotation_due_at", `null`)
	wantRaw(t, obj, "last_rotated_at", rfc(at(5*time.Minute)))

	// The audit trail names the changed fields, "secret" for a secret.
	wantFieldsSeq := [][]string{
		{"name", "description", "type", "allowed_hosts", "rotation_period", "secret"},
		{"description"},
		{"secret"},
		{"description", "rotation_period", "secret"},
		{"rotation_period"},
	}
	evs := events()
	if len(evs) != len(wantFieldsSeq) {
		t.Fatalf("%d events, want %d: %+v", len(evs), len(wantFieldsSeq), evs)
	}
	for i, ev := range evs {
		if !slices.Equal(ev.ChangedFields, wantFieldsSeq[i]) || ev.Revision != int64(i+1) || ev.ObjectKind != api.KindCredential {
			t.Errorf("event %d = %+v, want fields %q at revision %d", i, ev, wantFieldsSeq[i], i+1)
		}
	}

	// A stale If-Match is 412 and changes nothing, the new secret included.
	r = call(t, srv, http.MethodPut, path, editor, with(base, "secret", "stale-secret"), "If-Match", `"4"`)
	wantProblem(t, r, http.StatusPreconditionFailed)
	if got := storedSecret(t, srv, c.ID); got != "third-secret" {
		t.Errorf("secret after a refused PUT = %q", got)
	}
	// An unknown ID is 404.
	wantProblem(t, call(t, srv, http.MethodPut, "/v1/credentials/cred_doesnotexist", editor, with(base, "secret", "x")), http.StatusNotFound)

	// A replayed PUT with a new secret returns its stored answer without
	// rotating twice.
	fake.Advance(time.Minute)
	put := with(without(base, "rotation_period", "description"), "secret", "fourth-secret")
	r = call(t, srv, http.MethodPut, path, editor, put, api.HeaderIdempotency, "rotate-4")
	wantStatus(t, r, http.StatusOK)
	rr := call(t, srv, http.MethodPut, path, editor, put, api.HeaderIdempotency, "rotate-4")
	wantStatus(t, rr, http.StatusOK)
	wantHeader(t, rr, api.HeaderReplayed, "true")
	wantNoSecretMember(t, rr.Body)
	if !bytes.Equal(rr.Body, r.Body) {
		t.Errorf("replay\n%s\nwant\n%s", rr.Body, r.Body)
	}
	if g, _ := getCredential(t, srv, c.ID); g.SecretRevision != 4 || g.Revision != 6 {
		t.Errorf("after a replayed rotation: secret_revision %d, revision %d; want 4, 6", g.SecretRevision, g.Revision)
	}
}

func TestCredentialUpdateSetsAndTypes(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	body := map[string]any{"name": "oauth", "type": "oauth2_client_credentials", "token_url": "https://a.example.com/t",
		"client_id": "c", "scopes": []string{"a", "b", "c"}, "allowed_hosts": []string{"a.example.com"}}
	c := createCredential(t, srv, editor, with(body, "secret", "cs"))
	path := "/v1/credentials/" + c.ID

	// Scopes are a set: another order is no change.
	r := call(t, srv, http.MethodPut, path, editor, with(body, "scopes", []string{"c", "a", "b"}))
	wantStatus(t, r, http.StatusOK)
	wantRaw(t, rawObject(t, r.Body), "revision", `1`)
	wantRaw(t, rawObject(t, r.Body), "scopes", `["a","b","c"]`)
	// Another set is; null and [] differ.
	for i, tc := range []struct {
		scopes any
		raw    string
	}{
		{[]string{"a", "b"}, `["a","b"]`},
		{[]string{}, `[]`},
		{nil, `null`},
	} {
		r = call(t, srv, http.MethodPut, path, editor, with(body, "scopes", tc.scopes))
		wantStatus(t, r, http.StatusOK)
		obj := rawObject(t, r.Body)
		wantRaw(t, obj, "scopes", tc.raw)
		wantRaw(t, obj, "revision", strconv.Itoa(2+i))
	}
	evs := auditFor(t, srv, c.ID)
	if len(evs) != 4 || !slices.Equal(evs[3].ChangedFields, []string{"scopes"}) {
		t.Errorf("events %+v", evs)
	}

	// A change of type: the fields of the old type must go with it, and
	// the secret too, as it is now presented another way.
	r = call(t, srv, http.MethodPut, path, editor, map[string]any{"name": "oauth", "type": "basic", "username": "u", "allowed_hosts": []string{"a.example.com"}})
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "secret")
	r = call(t, srv, http.MethodPut, path, editor, map[string]any{"name": "oauth", "type": "basic", "username": "u", "allowed_hosts": []string{"a.example.com"},
		"secret": "password"})
	wantStatus(t, r, http.StatusOK)
	obj := rawObject(t, r.Body)
	wantKeys(t, obj, credentialKeys...)
	for _, k := range []string{"token_url", "client_id", "scopes", "header", "query_param"} {
		wantRaw(t, obj, k, `null`)
	}
	wantRaw(t, obj, "username", `"u"`)
	wantRaw(t, obj, "secret_revision", `2`)
	evs = auditFor(t, srv, c.ID)
	if got := evs[len(evs)-1].ChangedFields; !slices.Equal(got, []string{"type", "username", "token_url", "client_id", "secret"}) {
		t.Errorf("type change fields %q", got)
	}
	r = call(t, srv, http.MethodPut, path, editor, map[string]any{"name": "oauth", "type": "basic", "username": "u", "client_id": "c", "allowed_hosts": []string{"a.example.com"}})
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "client_id")
}

func TestCredentialValidation(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	bearer := credBody("v", api.CredBearer, "s")
	apiKey := credBody("v", api.CredAPIKey, "s")
	basic := credBody("v", api.CredBasic, "s")
	oauth := credBody("v", api.CredOAuth2Client, "s")
	cases := []struct {
		name   string
		body   any
		fields []string
	}{
		{"missing secret", without(bearer, "secret"), []string{"secret"}},
		{"null secret", with(bearer, "secret", nil), []string{"secret"}},
		{"empty secret", with(bearer, "secret", ""), []string{"secret"}},
		{"secret too long", with(bearer, "secret", strings.Repeat("s", api.MaxSecret+1)), []string{"secret"}},
		{"unknown type", with(bearer, "type", "token"), []string{"type"}},
		{"missing type", without(bearer, "type"), []string{"type"}},
		{"missing name", without(bearer, "name"), []string{"name"}},
		{"header upper case", with(apiKey, "header", "X-Api-Key"), []string{"header"}},
		{"header empty", with(apiKey, "header", ""), []string{"header"}},
		{"header with space", with(apiKey, "header", "x api key"), []string{"header"}},
		{"header authorization", with(apiKey, "header", "authorization"), []string{"header"}},
		{"header and query_param", with(apiKey, "header", "x-api-key", "query_param", "key"), []string{"query_param"}},
		{"query_param empty", with(apiKey, "query_param", ""), []string{"query_param"}},
		{"username on bearer", with(bearer, "username", "u"), []string{"username"}},
		{"header on bearer", with(bearer, "header", "x-api-key"), []string{"header"}},
		{"scopes on api_key", with(apiKey, "scopes", []string{"a"}), []string{"scopes"}},
		{"token_url on basic", with(basic, "token_url", "https://a.example.com/"), []string{"token_url"}},
		{"basic without username", without(basic, "username"), []string{"username"}},
		{"basic with empty username", with(basic, "username", ""), []string{"username"}},
		{"basic username with colon", with(basic, "username", "a:b"), []string{"username"}},
		{"basic without username or secret", without(basic, "username", "secret"), []string{"username", "secret"}},
		{"oauth2 without token_url and client_id", without(oauth, "token_url", "client_id"), []string{"token_url", "client_id"}},
		{"oauth2 token_url ftp", with(oauth, "token_url", "ftp://auth.example.com/token"), []string{"token_url"}},
		{"oauth2 token_url relative", with(oauth, "token_url", "/token"), []string{"token_url"}},
		{"oauth2 empty client_id", with(oauth, "client_id", ""), []string{"client_id"}},
		{"oauth2 duplicate scopes", with(oauth, "scopes", []string{"read", "write", "read"}), []string{"scopes.2"}},
		{"oauth2 empty scope", with(oauth, "scopes", []string{"read", ""}), []string{"scopes.1"}},
		{"oauth2 scope with space", with(oauth, "scopes", []string{"a b"}), []string{"scopes.0"}},
		{"rotation_period soon", with(bearer, "rotation_period", "soon"), []string{"rotation_period"}},
		{"rotation_period negative", with(bearer, "rotation_period", "-1h"), []string{"rotation_period"}},
		{"rotation_period zero", with(bearer, "rotation_period", "0s"), []string{"rotation_period"}},
		{"rotation_period number", with(bearer, "rotation_period", 3600), []string{"rotation_period"}},
		{"scopes not an array", with(oauth, "scopes", "read"), []string{"scopes"}},
		{"unknown field secret_wo", with(bearer, "secret_wo", "s"), []string{"secret_wo"}},
		{"unknown field tags", with(bearer, "tags", map[string]string{}), []string{"tags"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, srv, http.MethodPost, "/v1/credentials", editor, tc.body)
			wantFields(t, wantProblem(t, r, http.StatusBadRequest), tc.fields...)
		})
	}

	// The same rules on PUT (where the secret may be left out, but not
	// sent empty), and a refused PUT changes nothing.
	c := createCredential(t, srv, editor, credBody("valid", api.CredAPIKey, "original"))
	_, before := getCredential(t, srv, c.ID)
	for _, tc := range []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"empty secret", credBody("valid", api.CredAPIKey, ""), []string{"secret"}},
		{"header upper case", with(credBody("valid", api.CredAPIKey, "new"), "header", "X-Api-Key"), []string{"header"}},
		{"unknown type", with(credBody("valid", api.CredAPIKey, "new"), "type", "magic"), []string{"type"}},
		{"basic without username", without(credBody("valid", api.CredBasic, "new"), "username"), []string{"username"}},
		{"rotation_period", with(without(credBody("valid", api.CredAPIKey, ""), "secret"), "rotation_period", "-1h"), []string{"rotation_period"}},
	} {
		t.Run("PUT "+tc.name, func(t *testing.T) {
			r := call(t, srv, http.MethodPut, "/v1/credentials/"+c.ID, editor, tc.body)
			wantFields(t, wantProblem(t, r, http.StatusBadRequest), tc.fields...)
		})
	}
	if _, after := getCredential(t, srv, c.ID); !bytes.Equal(after.Body, before.Body) {
		t.Errorf("refused PUTs changed the credential:\n%s\n%s", before.Body, after.Body)
	}
	if got := storedSecret(t, srv, c.ID); got != "original" {
		t.Errorf("refused PUTs changed the secret to %q", got)
	}

	// Nothing refused was stored or audited.
	if l, _ := listCredentials(t, srv, ""); len(l.Items) != 1 {
		t.Errorf("%d credentials after refused creates, want 1", len(l.Items))
	}
	evs := auditEvents(t, srv, map[string][]string{"kind": {api.KindCredential}})
	if len(evs) != 1 {
		t.Errorf("%d credential audit events, want 1: %+v", len(evs), evs)
	}
}

func TestCredentialExpiresAt(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]

	// An offset is the same instant: what comes back, from create and
	// from GET, is that instant, and sending it again is no change.
	body := with(credBody("exp", api.CredBearer, "s"), "expires_at", "2027-01-02T05:04:05+02:00")
	r := call(t, srv, http.MethodPost, "/v1/credentials", editor, body)
	wantStatus(t, r, http.StatusCreated)
	var c api.Credential
	decode(t, r, &c)
	if want := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC); c.ExpiresAt == nil || !c.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at = %v, want %v", c.ExpiresAt, want)
	}
	_, g := getCredential(t, srv, c.ID)
	if !bytes.Equal(g.Body, r.Body) {
		t.Errorf("GET\n%s\ndiffers from create\n%s", g.Body, r.Body)
	}
	for _, v := range []string{"2027-01-02T05:04:05+02:00", "2027-01-02T03:04:05Z", "2027-01-02T03:04:05.000000Z"} {
		r = call(t, srv, http.MethodPut, "/v1/credentials/"+c.ID, editor, with(body, "expires_at", v, "secret", "s"))
		wantStatus(t, r, http.StatusOK)
		wantRaw(t, rawObject(t, r.Body), "revision", `1`)
	}

	// Microseconds are kept exactly; finer than that cannot be stored, so
	// it is refused rather than silently changed.
	body = with(credBody("exp-us", api.CredBearer, "s"), "expires_at", "2027-01-02T03:04:05.123456Z")
	c = createCredential(t, srv, editor, body)
	r = call(t, srv, http.MethodPut, "/v1/credentials/"+c.ID, editor, body)
	wantStatus(t, r, http.StatusOK)
	wantRaw(t, rawObject(t, r.Body), "revision", `1`)
	wantRaw(t, rawObject(t, r.Body), "expires_at", `"2027-01-02T03:04:05.123456Z"`)

	nanos := with(credBody("exp-ns", api.CredBearer, "s"), "expires_at", "2027-01-02T03:04:05.123456789Z")
	wantFields(t, wantProblem(t, call(t, srv, http.MethodPost, "/v1/credentials", editor, nanos), http.StatusBadRequest), "expires_at")
	r = call(t, srv, http.MethodPut, "/v1/credentials/"+c.ID, editor, with(body, "expires_at", "2027-01-02T03:04:05.1234567Z"))
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "expires_at")
	wantProblem(t, call(t, srv, http.MethodPost, "/v1/credentials", editor, with(body, "name", "exp-bad", "expires_at", "tomorrow")), http.StatusBadRequest)
}

func TestCredentialNameUnique(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	createCredential(t, srv, editor, credBody("dup", api.CredBearer, "one"))
	// Another type does not make the name free.
	r := call(t, srv, http.MethodPost, "/v1/credentials", editor, credBody("dup", api.CredBasic, "two"))
	p := wantProblem(t, r, http.StatusConflict)
	wantFields(t, p, "name")
	if !strings.Contains(p.Detail, `"dup"`) {
		t.Errorf("409 detail %q does not name the name", p.Detail)
	}
	// A credential may share an endpoint's name: names are per kind.
	createEndpoint(t, srv, editor, minimal("shared"))
	createCredential(t, srv, editor, credBody("shared", api.CredBearer, "x"))

	// Renaming onto a taken name is 409 and changes nothing, the secret
	// included.
	other := createCredential(t, srv, editor, credBody("other", api.CredBearer, "other-secret"))
	r = call(t, srv, http.MethodPut, "/v1/credentials/"+other.ID, editor, credBody("dup", api.CredBearer, "new-secret"))
	wantFields(t, wantProblem(t, r, http.StatusConflict), "name")
	g, _ := getCredential(t, srv, other.ID)
	if g.Name != "other" || g.Revision != 1 || g.SecretRevision != 1 {
		t.Errorf("after a refused rename: %+v", g)
	}
	if got := storedSecret(t, srv, other.ID); got != "other-secret" {
		t.Errorf("secret after a refused rename = %q", got)
	}
	if l, _ := listCredentials(t, srv, "name=dup"); len(l.Items) != 1 {
		t.Errorf("%d credentials named dup", len(l.Items))
	}
}

func TestCredentialReferencedByEndpoint(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]

	// An unknown credential is a 400 on credential_id, on create and update.
	r := call(t, srv, http.MethodPost, "/v1/endpoints", editor, with(minimal("ep"), "credential_id", "cred_doesnotexist"))
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "credential_id")
	if l, _ := listEndpoints(t, srv, ""); len(l.Items) != 0 {
		t.Errorf("an endpoint was stored: %+v", l.Items)
	}

	cred := createCredential(t, srv, editor, credBody("used", api.CredBearer, "s"))
	e1 := createEndpoint(t, srv, editor, with(minimal("ep1"), "credential_id", cred.ID))
	if e1.CredentialID == nil || *e1.CredentialID != cred.ID {
		t.Fatalf("credential_id = %v, want %s", e1.CredentialID, cred.ID)
	}
	e2 := createEndpoint(t, srv, editor, minimal("ep2"))
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+e2.ID, editor, with(minimal("ep2"), "credential_id", "cred_nope"))
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "credential_id")
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+e2.ID, editor, with(minimal("ep2"), "credential_id", cred.ID))
	wantStatus(t, r, http.StatusOK)

	// Deleting a credential still referenced is 409 naming every referrer.
	r = call(t, srv, http.MethodDelete, "/v1/credentials/"+cred.ID, editor, nil)
	p := wantProblem(t, r, http.StatusConflict)
	for _, id := range []string{e1.ID, e2.ID} {
		if !strings.Contains(p.Detail, id) {
			t.Errorf("409 detail %q does not name %s", p.Detail, id)
		}
	}
	getCredential(t, srv, cred.ID)

	// Point one elsewhere: still 409, naming only the other.
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+e1.ID, editor, with(minimal("ep1"), "credential_id", nil))
	wantStatus(t, r, http.StatusOK)
	wantRaw(t, rawObject(t, r.Body), "credential_id", `null`)
	p = wantProblem(t, call(t, srv, http.MethodDelete, "/v1/credentials/"+cred.ID, editor, nil), http.StatusConflict)
	if strings.Contains(p.Detail, e1.ID) || !strings.Contains(p.Detail, e2.ID) {
		t.Errorf("409 detail %q, want only %s", p.Detail, e2.ID)
	}
	// Delete the other endpoint: the credential is free.
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/endpoints/"+e2.ID, editor, nil), http.StatusNoContent)

	r = call(t, srv, http.MethodDelete, "/v1/credentials/"+cred.ID, editor, nil, "If-Match", `"1"`)
	wantStatus(t, r, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 with a body: %s", r.Body)
	}
	wantProblem(t, call(t, srv, http.MethodDelete, "/v1/credentials/"+cred.ID, editor, nil), http.StatusNotFound)
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/credentials/"+cred.ID, editor, nil), http.StatusNotFound)
	// And a deleted credential cannot be referenced.
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+e1.ID, editor, with(minimal("ep1"), "credential_id", cred.ID))
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "credential_id")

	// Delete honours If-Match.
	c2 := createCredential(t, srv, editor, credBody("c2", api.CredBearer, "s"))
	wantProblem(t, call(t, srv, http.MethodDelete, "/v1/credentials/"+c2.ID, editor, nil, "If-Match", `"2"`), http.StatusPreconditionFailed)
	getCredential(t, srv, c2.ID)
}

func TestCredentialAudit(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	editor, admin := srv.Tokens[api.RoleEditor], srv.AdminToken
	secrets := []string{"audit-secret-one-7f3a", "audit-secret-two-91bc", "audit-secret-three-c0de"}

	body := map[string]any{"name": "audited", "type": "api_key", "header": "x-key", "description": "d", "allowed_hosts": []string{"api.example.com"}}
	fake.Advance(time.Hour)
	c := createCredential(t, srv, editor, with(body, "secret", secrets[0]))
	fake.Advance(time.Hour)
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/credentials/"+c.ID, admin, with(body, "secret", secrets[1])), http.StatusOK)
	fake.Advance(time.Hour)
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/credentials/"+c.ID, editor,
		with(body, "name", "audited-2", "header", nil, "query_param", "key", "secret", secrets[2])), http.StatusOK)
	// Refused and no-op changes write no event.
	wantProblem(t, call(t, srv, http.MethodPost, "/v1/credentials", editor, with(body, "name", "audited-2", "secret", secrets[0])), http.StatusConflict)
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/credentials/"+c.ID, editor,
		with(body, "name", "audited-2", "header", nil, "query_param", "key", "secret", secrets[2])), http.StatusOK)
	fake.Advance(time.Hour)
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/credentials/"+c.ID, editor, nil), http.StatusNoContent)

	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour).Truncate(time.Microsecond) }
	type want struct {
		actor, role, action string
		rev                 int64
		fields              []string
		time                time.Time
	}
	wants := []want{
		{"test-editor", "editor", "create", 1, []string{"name", "description", "type", "header", "allowed_hosts", "secret"}, at(1)},
		{"test-admin", "admin", "update", 2, []string{"secret"}, at(2)},
		{"test-editor", "editor", "update", 3, []string{"name", "header", "query_param", "secret"}, at(3)},
		{"test-editor", "editor", "delete", 3, []string{}, at(4)},
	}
	evs := auditFor(t, srv, c.ID)
	if len(evs) != len(wants) {
		t.Fatalf("%d events, want %d: %+v", len(evs), len(wants), evs)
	}
	for i, w := range wants {
		ev := evs[i]
		if ev.Actor != w.actor || ev.ActorRole != w.role || ev.Action != w.action || ev.ObjectKind != api.KindCredential ||
			ev.ObjectID != c.ID || ev.Revision != w.rev || !slices.Equal(ev.ChangedFields, w.fields) || !ev.Time.Equal(w.time) {
			t.Errorf("event %d = %+v\nwant %+v", i, ev, w)
		}
	}
	if got := auditEvents(t, srv, map[string][]string{"kind": {api.KindCredential}}); len(got) != len(wants) {
		t.Errorf("kind=credential gave %d events, want %d", len(got), len(wants))
	}

	// The raw audit listing never holds a secret value.
	r := call(t, srv, http.MethodGet, "/v1/audit-events?limit=1000", srv.Tokens[api.RoleViewer], nil)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), c.ID) {
		t.Fatalf("the audit listing does not show %s: %s", c.ID, r.Body)
	}
	for _, s := range secrets {
		if strings.Contains(string(r.Body), s) {
			t.Errorf("the audit listing holds the secret %q: %s", s, r.Body)
		}
	}
}

// newServerWithoutKeyring starts an aiod with no encryption key on the
// given database, with a token per role, as acctest.NewServer does.
func newServerWithoutKeyring(t *testing.T, st store.Store, dbPath string) *acctest.Server {
	t.Helper()
	ctx := context.Background()
	tokens := map[string]string{}
	err := st.Write(ctx, func(tx store.Tx) error {
		for _, role := range auth.Roles {
			_, s, err := auth.Create(ctx, tx, clock.Real{}, auth.CreateInput{Name: "nokey-" + role, Role: role}, auth.CLIActor)
			if err != nil {
				return err
			}
			tokens[role] = s
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, server.Config{Store: st})
	if err != nil {
		t.Fatalf("server.New without a keyring: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &acctest.Server{URL: hs.URL, Tokens: tokens, AdminToken: tokens[api.RoleAdmin], DBPath: dbPath, Store: st, API: srv, HTTP: hs}
}

func TestCredentialsWithoutKeyring(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "aio.db")
	st, err := store.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })

	// A credential sealed earlier, under a key this aiod was not given.
	kr, err := secret.NewKeyring(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	rec := store.CredentialRecord{Credential: api.Credential{Meta: api.Meta{ID: "cred_01jzzzzzzzzzzzzzzzzzzzzzzz", Revision: 1, CreatedAt: now, UpdatedAt: now}, Name: "sealed-earlier", Type: api.CredBearer,
		AllowedHosts: []string{"*.example.com"}, SecretRevision: 1, LastRotatedAt: &now}}
	if rec.Sealed, err = kr.Seal([]byte("old-secret"), secret.Binding{ObjectID: rec.ID, Revision: 1}); err != nil {
		t.Fatal(err)
	}
	if err := st.Write(ctx, func(tx store.Tx) error { return tx.InsertCredential(ctx, rec) }); err != nil {
		t.Fatal(err)
	}

	srv := newServerWithoutKeyring(t, st, dbPath)
	editor := srv.Tokens[api.RoleEditor]

	// Storing a secret is 503; nothing is stored.
	r := call(t, srv, http.MethodPost, "/v1/credentials", editor, credBody("new", api.CredBearer, "s"))
	p := wantProblem(t, r, http.StatusServiceUnavailable)
	if !strings.Contains(p.Detail, "key") {
		t.Errorf("503 detail %q does not say a key is missing", p.Detail)
	}
	r = call(t, srv, http.MethodPut, "/v1/credentials/"+rec.ID, editor, credBody("sealed-earlier", api.CredBearer, "new-secret"))
	wantProblem(t, r, http.StatusServiceUnavailable)
	// A bad body is still a 400 first.
	r = call(t, srv, http.MethodPost, "/v1/credentials", editor, with(credBody("new", api.CredBearer, "s"), "type", "nope"))
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "type")

	// Reads, metadata changes and deletes need no key.
	l, _ := listCredentials(t, srv, "")
	if len(l.Items) != 1 || l.Items[0].ID != rec.ID {
		t.Fatalf("listing without a keyring: %+v", l.Items)
	}
	g, _ := getCredential(t, srv, rec.ID)
	if g.SecretRevision != 1 {
		t.Errorf("secret_revision %d", g.SecretRevision)
	}
	r = call(t, srv, http.MethodPut, "/v1/credentials/"+rec.ID, editor, with(without(credBody("sealed-earlier", api.CredBearer, ""), "secret"), "description", "meta only"))
	wantStatus(t, r, http.StatusOK)
	wantRaw(t, rawObject(t, r.Body), "revision", `2`)
	wantRaw(t, rawObject(t, r.Body), "secret_revision", `1`)
	got, err := st.GetCredential(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := kr.Open(got.Sealed, secret.Binding{ObjectID: rec.ID, Revision: got.SecretRevision}); err != nil || string(plain) != "old-secret" {
		t.Errorf("the sealed secret after a metadata update: %q, %v", plain, err)
	}
	// Endpoints are unaffected.
	createEndpoint(t, srv, editor, with(minimal("ep"), "credential_id", rec.ID))
	wantStatus(t, call(t, srv, http.MethodGet, "/readyz", "", nil), http.StatusOK)
	if l, _ := listCredentials(t, srv, ""); len(l.Items) != 1 {
		t.Errorf("%d credentials, want 1", len(l.Items))
	}
	evs := auditEvents(t, srv, map[string][]string{"kind": {api.KindCredential}})
	if len(evs) != 1 || !slices.Equal(evs[0].ChangedFields, []string{"description"}) {
		t.Errorf("credential events %+v", evs)
	}
}
