package server_test

import (
	"net/http"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// retBody is a minimal retention policy: raw results deleted after 24 h.
func retBody(name string) map[string]any {
	return map[string]any{"name": name, "data_kind": "probe_results", "max_age": "24h", "action": "delete"}
}

func createRetention(t testing.TB, srv *acctest.Server, body any) api.RetentionPolicy {
	t.Helper()
	r := call(t, srv, http.MethodPost, "/v1/retention-policies", srv.AdminToken, body)
	wantStatus(t, r, http.StatusCreated)
	var p api.RetentionPolicy
	decode(t, r, &p)
	return p
}
