package server_test

import (
	"bytes"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
)

var endpointIDRe = regexp.MustCompile(`^ep_[0-9a-hjkmnp-tv-z]{26}$`)

var endpointKeys = []string{"id", "name", "url", "api_version", "description", "owner",
	"data_classification", "tags", "credential_id", "revision", "created_at", "updated_at"}

func TestEndpointCRUD(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	editor := srv.Tokens[api.RoleEditor]

	// Create: description and tags {} are kept as sent; api_version
	// left out stays null; data_classification gets its one default.
	sent := `{"name":"orders-api","url":"https://orders.example.com/v1","description":"Orders.","owner":"team-a","tags":{}}`
	r := call(t, srv, http.MethodPost, "/v1/endpoints", editor, sent)
	wantStatus(t, r, http.StatusCreated)
	wantHeader(t, r, "Content-Type", api.ContentTypeJSON)
	wantHeader(t, r, "ETag", `"1"`)
	obj := rawObject(t, r.Body)
	wantKeys(t, obj, endpointKeys...)
	wantRaw(t, obj, "name", `"orders-api"`)
	wantRaw(t, obj, "url", `"https://orders.example.com/v1"`)
	wantRaw(t, obj, "api_version", `null`)
	wantRaw(t, obj, "description", `"Orders."`)
	wantRaw(t, obj, "owner", `"team-a"`)
	wantRaw(t, obj, "tags", `{}`)
	wantRaw(t, obj, "data_classification", `"internal"`)
	wantRaw(t, obj, "revision", `1`)
	wantRaw(t, obj, "created_at", `"`+t0Micro+`"`)
	wantRaw(t, obj, "updated_at", `"`+t0Micro+`"`)
	var created api.Endpoint
	decode(t, r, &created)
	if !endpointIDRe.MatchString(created.ID) {
		t.Fatalf("id %q is not ep_ + 26 base32 digits", created.ID)
	}
	wantHeader(t, r, "Location", "/v1/endpoints/"+created.ID)
	createBody := r.Body

	// A second endpoint with everything optional left out: nulls stay
	// null, and an explicit classification is kept.
	r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, `{"name":"bare","url":"tcp://db.internal:5432","data_classification":"pii"}`)
	wantStatus(t, r, http.StatusCreated)
	obj = rawObject(t, r.Body)
	wantKeys(t, obj, endpointKeys...)
	for _, k := range []string{"api_version", "description", "owner", "tags"} {
		wantRaw(t, obj, k, `null`)
	}
	wantRaw(t, obj, "data_classification", `"pii"`)
	wantRaw(t, obj, "url", `"tcp://db.internal:5432"`)

	// GET returns exactly what create returned.
	r = call(t, srv, http.MethodGet, "/v1/endpoints/"+created.ID, srv.Tokens[api.RoleViewer], nil)
	wantStatus(t, r, http.StatusOK)
	wantHeader(t, r, "ETag", `"1"`)
	wantHeader(t, r, "Content-Type", api.ContentTypeJSON)
	if !bytes.Equal(r.Body, createBody) {
		t.Errorf("GET body\n%s\ndiffers from the create body\n%s", r.Body, createBody)
	}

	// PUT changing the url: revision 2, updated_at moves, created_at stays.
	fake.Advance(time.Second)
	put := `{"name":"orders-api","url":"https://orders.example.com/v2","description":"Orders.","owner":"team-a","tags":{}}`
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+created.ID, editor, put, "If-Match", `"1"`)
	wantStatus(t, r, http.StatusOK)
	wantHeader(t, r, "ETag", `"2"`)
	obj = rawObject(t, r.Body)
	wantKeys(t, obj, endpointKeys...)
	wantRaw(t, obj, "id", `"`+created.ID+`"`)
	wantRaw(t, obj, "url", `"https://orders.example.com/v2"`)
	wantRaw(t, obj, "revision", `2`)
	wantRaw(t, obj, "created_at", `"`+t0Micro+`"`)
	wantRaw(t, obj, "updated_at", `"2026-03-01T10:00:01.123456Z"`)
	wantRaw(t, obj, "description", `"Orders."`)
	wantRaw(t, obj, "tags", `{}`)
	wantRaw(t, obj, "api_version", `null`)
	updatedBody := r.Body
	if n := len(auditFor(t, srv, created.ID)); n != 2 {
		t.Fatalf("%d audit events after create and update, want 2", n)
	}

	// The same PUT again (with the new revision, and once without
	// If-Match, and once leaving out the defaulted classification):
	// nothing changes, nothing is audited.
	fake.Advance(time.Second)
	for _, tc := range []struct {
		name, body string
		hdr        []string
	}{
		{"same body", put, []string{"If-Match", `"2"`}},
		{"weak etag", put, []string{"If-Match", `W/"2"`}},
		{"no If-Match", put, nil},
		{"explicit default", `{"name":"orders-api","url":"https://orders.example.com/v2","description":"Orders.","owner":"team-a","tags":{},"data_classification":"internal"}`, nil},
	} {
		t.Run("noop/"+tc.name, func(t *testing.T) {
			r := call(t, srv, http.MethodPut, "/v1/endpoints/"+created.ID, editor, tc.body, tc.hdr...)
			wantStatus(t, r, http.StatusOK)
			wantHeader(t, r, "ETag", `"2"`)
			if !bytes.Equal(r.Body, updatedBody) {
				t.Errorf("no-op PUT body\n%s\nwant\n%s", r.Body, updatedBody)
			}
		})
	}
	if n := len(auditFor(t, srv, created.ID)); n != 2 {
		t.Fatalf("%d audit events after no-op PUTs, want still 2", n)
	}

	// A stale If-Match is refused and changes nothing.
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+created.ID, editor,
		`{"name":"orders-api","url":"https://stale.example.com/"}`, "If-Match", `"1"`)
	p := wantProblem(t, r, http.StatusPreconditionFailed)
	if !bytes.Contains([]byte(p.Detail), []byte("revision 1")) || !bytes.Contains([]byte(p.Detail), []byte("at 2")) {
		t.Errorf("412 detail %q does not name both revisions", p.Detail)
	}
	r = call(t, srv, http.MethodGet, "/v1/endpoints/"+created.ID, editor, nil)
	if !bytes.Equal(r.Body, updatedBody) {
		t.Errorf("after a 412 the endpoint is\n%s\nwant\n%s", r.Body, updatedBody)
	}

	// Null and {} are different values: going from tags {} to no tags is
	// a change.
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+created.ID, editor,
		`{"name":"orders-api","url":"https://orders.example.com/v2","description":"Orders.","owner":"team-a"}`, "If-Match", `"2"`)
	wantStatus(t, r, http.StatusOK)
	wantHeader(t, r, "ETag", `"3"`)
	obj = rawObject(t, r.Body)
	wantRaw(t, obj, "tags", `null`)
	wantRaw(t, obj, "revision", `3`)
	wantRaw(t, obj, "updated_at", `"2026-03-01T10:00:02.123456Z"`)
	evs := auditFor(t, srv, created.ID)
	if len(evs) != 3 || !slices.Equal(evs[2].ChangedFields, []string{"tags"}) {
		t.Fatalf("audit after tags {} → null: %+v", evs)
	}

	// DELETE with a stale revision is refused; with the current one it
	// answers 204 without a body; a second DELETE is 404.
	r = call(t, srv, http.MethodDelete, "/v1/endpoints/"+created.ID, editor, nil, "If-Match", `"2"`)
	wantProblem(t, r, http.StatusPreconditionFailed)
	r = call(t, srv, http.MethodDelete, "/v1/endpoints/"+created.ID, editor, nil, "If-Match", `"3"`)
	wantStatus(t, r, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 has a body: %q", r.Body)
	}
	wantNoHeader(t, r, "Content-Type")
	r = call(t, srv, http.MethodDelete, "/v1/endpoints/"+created.ID, editor, nil)
	wantProblem(t, r, http.StatusNotFound)
	r = call(t, srv, http.MethodGet, "/v1/endpoints/"+created.ID, editor, nil)
	wantProblem(t, r, http.StatusNotFound)
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+created.ID, editor, put)
	wantProblem(t, r, http.StatusNotFound)
	if n := len(auditFor(t, srv, created.ID)); n != 4 {
		t.Fatalf("%d audit events after create, 2 updates and a delete, want 4", n)
	}
	// The name is free again.
	createEndpoint(t, srv, editor, minimal("orders-api"))
}

func TestEndpointNamesAreUnique(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	a := createEndpoint(t, srv, editor, minimal("alpha"))
	b := createEndpoint(t, srv, editor, minimal("beta"))
	eventsBefore := len(auditEvents(t, srv, nil))

	body := minimal("alpha")
	body["url"] = "https://other.example.com/"
	r := call(t, srv, http.MethodPost, "/v1/endpoints", editor, body)
	p := wantProblem(t, r, http.StatusConflict)
	wantFields(t, p, "name")

	// Names are compared exactly; another case is another name.
	createEndpoint(t, srv, editor, minimal("Alpha"))
	eventsBefore++

	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+b.ID, editor, minimal("alpha"), "If-Match", `"1"`)
	p = wantProblem(t, r, http.StatusConflict)
	wantFields(t, p, "name")

	// Neither the refused create nor the refused rename left a trace.
	if got := len(auditEvents(t, srv, nil)); got != eventsBefore {
		t.Errorf("%d audit events after two refused changes, want %d", got, eventsBefore)
	}
	l, _ := listEndpoints(t, srv, "name=alpha")
	if len(l.Items) != 1 || l.Items[0].ID != a.ID || l.Items[0].URL != "https://alpha.example.com/" {
		t.Errorf("endpoints named alpha: %+v", l.Items)
	}
	r = call(t, srv, http.MethodGet, "/v1/endpoints/"+b.ID, editor, nil)
	wantHeader(t, r, "ETag", `"1"`)

	// Renaming to one's own name is no conflict, and renaming to a free
	// name works.
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+b.ID, editor, minimal("beta"), "If-Match", `"1"`)
	wantStatus(t, r, http.StatusOK)
	wantHeader(t, r, "ETag", `"1"`)
	body = minimal("beta")
	body["name"] = "gamma"
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+b.ID, editor, body, "If-Match", `"1"`)
	wantStatus(t, r, http.StatusOK)
	wantHeader(t, r, "ETag", `"2"`)
}
