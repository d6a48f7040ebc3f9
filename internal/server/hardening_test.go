package server_test

// Tests of the smaller holes found in the security review of issue 7:
// each fails on the code before its fix.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
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
		// The most filters allowed still answer.
		wantStatus(t, call(t, srv, http.MethodGet, path+"?"+tags(20), viewer, nil), http.StatusOK)
		for _, n := range []int{21, 1000} {
			p := wantProblem(t, call(t, srv, http.MethodGet, path+"?"+tags(n), viewer, nil), http.StatusBadRequest)
			wantFields(t, p, "tag")
			if !strings.Contains(p.Errors[0].Message, "20") {
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
