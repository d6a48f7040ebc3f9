package server_test

// Tests of the smaller holes found in the security review of issue 7:
// each fails on the code before its fix.

import (
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
