package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

func TestIdempotentCreate(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	editor, admin := srv.Tokens[api.RoleEditor], srv.AdminToken
	body := `{"name":"idem","url":"https://idem.example.com/","tags":{"a":"1"}}`

	first := call(t, srv, http.MethodPost, "/v1/endpoints", editor, body, api.HeaderIdempotency, "K")
	wantStatus(t, first, http.StatusCreated)
	wantNoHeader(t, first, api.HeaderReplayed)

	fake.Advance(time.Minute)
	second := call(t, srv, http.MethodPost, "/v1/endpoints", editor, body, api.HeaderIdempotency, "K")
	wantStatus(t, second, http.StatusCreated)
	wantHeader(t, second, api.HeaderReplayed, "true")
	wantHeader(t, second, "Content-Type", api.ContentTypeJSON)
	if !bytes.Equal(first.Body, second.Body) {
		t.Errorf("replayed body\n%s\ndiffers from\n%s", second.Body, first.Body)
	}
	for _, h := range []string{"Location", "ETag"} {
		wantHeader(t, second, h, first.Header.Get(h))
	}
	l, _ := listEndpoints(t, srv, "")
	if len(l.Items) != 1 {
		t.Fatalf("%d endpoints after a replayed create, want 1", len(l.Items))
	}
	if n := len(auditFor(t, srv, l.Items[0].ID)); n != 1 {
		t.Errorf("%d audit events after a replayed create, want 1", n)
	}

	// The same key with another body is refused and creates nothing.
	r := call(t, srv, http.MethodPost, "/v1/endpoints", editor,
		`{"name":"idem2","url":"https://idem.example.com/"}`, api.HeaderIdempotency, "K")
	wantProblem(t, r, http.StatusUnprocessableEntity)
	wantNoHeader(t, r, api.HeaderReplayed)
	// Even a body that differs only in spacing is another body.
	r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, body+" ", api.HeaderIdempotency, "K")
	wantProblem(t, r, http.StatusUnprocessableEntity)

	// The same key from another token is another request: it runs (and
	// here trips over the taken name rather than replaying).
	r = call(t, srv, http.MethodPost, "/v1/endpoints", admin, body, api.HeaderIdempotency, "K")
	wantFields(t, wantProblem(t, r, http.StatusConflict), "name")
	r = call(t, srv, http.MethodPost, "/v1/endpoints", admin,
		`{"name":"idem-admin","url":"https://idem.example.com/"}`, api.HeaderIdempotency, "K")
	wantStatus(t, r, http.StatusCreated)
	wantNoHeader(t, r, api.HeaderReplayed)

	// A failed request stores nothing: after the 409 above, the admin's
	// key K holds the 201 of idem-admin, not the 409.
	r = call(t, srv, http.MethodPost, "/v1/endpoints", admin,
		`{"name":"idem-admin","url":"https://idem.example.com/"}`, api.HeaderIdempotency, "K")
	wantStatus(t, r, http.StatusCreated)
	wantHeader(t, r, api.HeaderReplayed, "true")

	// Without a key, a repeated create is a conflict, not a replay.
	r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, body)
	wantFields(t, wantProblem(t, r, http.StatusConflict), "name")

	// A key is too long past 255 characters.
	r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, minimal("long-key"), api.HeaderIdempotency, strings.Repeat("k", 256))
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "Idempotency-Key")
	r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, minimal("long-key"), api.HeaderIdempotency, strings.Repeat("k", 255))
	wantStatus(t, r, http.StatusCreated)

	// After 24 hours the key is forgotten: the same request runs again
	// (and finds its name taken).
	fake.Advance(24 * time.Hour)
	r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, body, api.HeaderIdempotency, "K")
	wantFields(t, wantProblem(t, r, http.StatusConflict), "name")
	wantNoHeader(t, r, api.HeaderReplayed)

	// The expired answers are purged from the database, not only ignored:
	// the editor's K, the admin's K, the two long-key ones... every one
	// stored so far has expired.
	n, err := srv.API.PurgeExpiredIdempotency(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Fatalf("purged %d expired answers, want every one stored (at least 3)", n)
	}
	var left int
	db, err := sql.Open("sqlite", srv.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT COUNT(*) FROM idempotency_keys`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d idempotency rows left after the purge (%v)", left, err)
	}
	if n, err := srv.API.PurgeExpiredIdempotency(context.Background()); err != nil || n != 0 {
		t.Fatalf("second purge: %d, %v", n, err)
	}
}

func TestIdempotentUpdateAndDelete(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	e1 := createEndpoint(t, srv, editor, minimal("one"))
	e2 := createEndpoint(t, srv, editor, minimal("two"))

	body := minimal("one")
	body["url"] = "https://one.example.com/v2"
	path := "/v1/endpoints/" + e1.ID
	first := call(t, srv, http.MethodPut, path, editor, body, api.HeaderIdempotency, "K2", "If-Match", `"1"`)
	wantStatus(t, first, http.StatusOK)
	wantHeader(t, first, "ETag", `"2"`)
	wantNoHeader(t, first, api.HeaderReplayed)

	// The retried PUT (its first answer lost) gets the stored 200, not a
	// 412 from its own If-Match.
	again := call(t, srv, http.MethodPut, path, editor, body, api.HeaderIdempotency, "K2", "If-Match", `"1"`)
	wantStatus(t, again, http.StatusOK)
	wantHeader(t, again, api.HeaderReplayed, "true")
	wantHeader(t, again, "ETag", `"2"`)
	if !bytes.Equal(again.Body, first.Body) {
		t.Errorf("replayed PUT body\n%s\nwant\n%s", again.Body, first.Body)
	}
	if n := len(auditFor(t, srv, e1.ID)); n != 2 {
		t.Errorf("%d audit events after a replayed PUT, want 2", n)
	}
	// Without the key, the same stale If-Match is a 412.
	r := call(t, srv, http.MethodPut, path, editor, body, "If-Match", `"1"`)
	wantProblem(t, r, http.StatusPreconditionFailed)
	// The same key on another path is independent.
	body2 := minimal("two")
	body2["url"] = "https://two.example.com/v2"
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+e2.ID, editor, body2, api.HeaderIdempotency, "K2", "If-Match", `"1"`)
	wantStatus(t, r, http.StatusOK)
	wantNoHeader(t, r, api.HeaderReplayed)
	wantHeader(t, r, "ETag", `"2"`)

	// DELETE with a key: the replay gets the stored 204.
	r = call(t, srv, http.MethodDelete, path, editor, nil, api.HeaderIdempotency, "K3")
	wantStatus(t, r, http.StatusNoContent)
	wantNoHeader(t, r, api.HeaderReplayed)
	r = call(t, srv, http.MethodDelete, path, editor, nil, api.HeaderIdempotency, "K3")
	wantStatus(t, r, http.StatusNoContent)
	wantHeader(t, r, api.HeaderReplayed, "true")
	if len(r.Body) != 0 {
		t.Errorf("replayed 204 has a body: %q", r.Body)
	}
	// With a new key it is a plain second delete.
	r = call(t, srv, http.MethodDelete, path, editor, nil, api.HeaderIdempotency, "K4")
	wantProblem(t, r, http.StatusNotFound)
	if n := len(auditFor(t, srv, e1.ID)); n != 3 {
		t.Errorf("%d audit events after create, update, delete and replays, want 3", n)
	}
}

// A request whose key is still being worked on gets 409. The writer
// connection is held by the test, so that the first request waits inside
// the server with its key in flight.
func TestIdempotencyKeyInFlight(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]

	held, release := make(chan struct{}), make(chan struct{})
	writeDone := make(chan error, 1)
	go func() {
		writeDone <- srv.Store.Write(context.Background(), func(store.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()

	body := minimal("inflight")
	type outcome struct {
		r   response
		err error
	}
	results := make(chan outcome, 2)
	for range 2 {
		go func() {
			r, err := tryCall(srv, http.MethodPost, "/v1/endpoints", editor, body, api.HeaderIdempotency, "KF")
			results <- outcome{r, err}
		}()
	}
	// Whichever came second is refused at once, while the first waits.
	var o outcome
	select {
	case o = <-results:
	case <-time.After(20 * time.Second):
		t.Fatal("no request answered while the first held its key")
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	r := o.r
	p := wantProblem(t, r, http.StatusConflict)
	wantFields(t, p) // not the name conflict, which names "name"
	if !strings.Contains(p.Detail, "in progress") {
		t.Errorf("409 detail %q does not say the key is in progress", p.Detail)
	}
	// Retry-After marks this conflict as one that passes by itself.
	wantHeader(t, r, "Retry-After", "1")
	wantNoHeader(t, r, api.HeaderReplayed)

	close(release)
	released = true
	if err := <-writeDone; err != nil {
		t.Fatalf("held write: %v", err)
	}
	if o = <-results; o.err != nil {
		t.Fatal(o.err)
	}
	wantStatus(t, o.r, http.StatusCreated)
	// Once the first is done, the key replays.
	r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, body, api.HeaderIdempotency, "KF")
	wantStatus(t, r, http.StatusCreated)
	wantHeader(t, r, api.HeaderReplayed, "true")
}

// TestIdempotencyKeyBeforeValidation: a body that fails validation is
// answered inside the write transaction, after the key's stored answer
// would have been: a known key with another, invalid body is the key's
// 422, not the body's 400, on create and on replace, and changes nothing.
// (Mutation testing found the order unpinned: kinds.go read.)
func TestIdempotencyKeyBeforeValidation(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	bad := `{"name":"","url":"not a url"}`

	r := call(t, srv, http.MethodPost, "/v1/endpoints", editor, minimal("first"), api.HeaderIdempotency, "C")
	wantStatus(t, r, http.StatusCreated)
	r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, bad, api.HeaderIdempotency, "C")
	wantProblem(t, r, http.StatusUnprocessableEntity)
	// Without a key the same body is the 400 it is.
	r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, bad)
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "name", "url")

	ep := createEndpoint(t, srv, editor, minimal("second"))
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+ep.ID, editor, minimal("second-renamed"), api.HeaderIdempotency, "P")
	wantStatus(t, r, http.StatusOK)
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+ep.ID, editor, bad, api.HeaderIdempotency, "P")
	wantProblem(t, r, http.StatusUnprocessableEntity)

	l, _ := listEndpoints(t, srv, "")
	names := []string{}
	for _, e := range l.Items {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{"first", "second-renamed"}) && !slices.Equal(names, []string{"second-renamed", "first"}) {
		t.Errorf("endpoints %v, want first and second-renamed", names)
	}
}
