package server_test

import (
	"net/http"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// monitorBody is a minimal valid http monitor of an endpoint.
func monitorBody(name, endpointID string) map[string]any {
	return map[string]any{"name": name, "endpoint_id": endpointID, "type": "http", "enabled": false}
}

// createMonitor makes an endpoint and a disabled monitor of it.
func createMonitor(t testing.TB, srv *acctest.Server, name string) api.Monitor {
	t.Helper()
	e := createEndpoint(t, srv, srv.AdminToken, minimal(name+"-ep"))
	r := call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, monitorBody(name, e.ID))
	wantStatus(t, r, http.StatusCreated)
	var m api.Monitor
	decode(t, r, &m)
	return m
}
