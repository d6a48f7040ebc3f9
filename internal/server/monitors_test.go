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

// TestMonitorTypeMustFitEndpointScheme: an http monitor of a tcp://
// endpoint and a tcp monitor of an https:// endpoint are refused on type,
// at create and at update, with nothing stored; and an endpoint whose new
// URL scheme would strand its monitors is refused on url, naming them.
func TestMonitorTypeMustFitEndpointScheme(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	web := createEndpoint(t, srv, editor, minimal("web"))
	db := createEndpoint(t, srv, editor, map[string]any{"name": "db", "url": "tcp://db.internal:5432"})

	wantTypeError := func(r response, want string) {
		t.Helper()
		p := wantProblem(t, r, http.StatusBadRequest)
		wantFields(t, p, "type")
		if len(p.Errors) == 1 && p.Errors[0].Message != want {
			t.Errorf("type message = %q, want %q", p.Errors[0].Message, want)
		}
	}
	httpOnTCP := monitorBody("http-on-tcp", db.ID)
	wantTypeError(call(t, srv, http.MethodPost, "/v1/monitors", editor, httpOnTCP),
		"an http monitor cannot probe a tcp:// endpoint; use type tcp (endpoint "+db.ID+" is tcp://db.internal:5432)")
	tcpOnHTTPS := monitorBody("tcp-on-https", web.ID)
	tcpOnHTTPS["type"] = "tcp"
	wantTypeError(call(t, srv, http.MethodPost, "/v1/monitors", editor, tcpOnHTTPS),
		"a tcp monitor cannot probe a https:// endpoint; use type http (endpoint "+web.ID+" is https://web.example.com/)")

	// Update: a fitting monitor moved to an endpoint it does not fit.
	r := call(t, srv, http.MethodPost, "/v1/monitors", editor, monitorBody("web-health", web.ID))
	wantStatus(t, r, http.StatusCreated)
	var m api.Monitor
	decode(t, r, &m)
	moved := monitorBody("web-health", db.ID)
	wantTypeError(call(t, srv, http.MethodPut, "/v1/monitors/"+m.ID, editor, moved),
		"an http monitor cannot probe a tcp:// endpoint; use type tcp (endpoint "+db.ID+" is tcp://db.internal:5432)")

	// The endpoint of an http monitor cannot become tcp://, while a change
	// that keeps the scheme family (https to http) is fine.
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+web.ID, editor, map[string]any{"name": "web", "url": "tcp://web.internal:443"})
	p := wantProblem(t, r, http.StatusBadRequest)
	wantFields(t, p, "url")
	want := "a tcp:// URL does not fit the monitors of this endpoint: web-health (" + m.ID + ", type http); change their type or point them elsewhere first"
	if len(p.Errors) == 1 && p.Errors[0].Message != want {
		t.Errorf("url message = %q, want %q", p.Errors[0].Message, want)
	}
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+web.ID, editor, map[string]any{"name": "web", "url": "http://web.example.com/"})
	wantStatus(t, r, http.StatusOK)

	// Nothing was stored by the refused requests.
	r = call(t, srv, http.MethodGet, "/v1/monitors", editor, nil)
	var list api.List[api.Monitor]
	decode(t, r, &list)
	if len(list.Items) != 1 || list.Items[0].EndpointID != web.ID {
		t.Errorf("monitors after refused requests = %+v, want only web-health on %s", list.Items, web.ID)
	}
}

// TestTCPEndpointTakesNoCredential: every credential type is sent in an
// HTTP request, so a tcp:// endpoint naming one is refused on credential_id.
func TestTCPEndpointTakesNoCredential(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	r := call(t, srv, http.MethodPost, "/v1/endpoints", editor,
		map[string]any{"name": "db", "url": "tcp://db.internal:5432", "credential_id": "cred_01jabcdefghjkmnpqrstvwxyz0"})
	p := wantProblem(t, r, http.StatusBadRequest)
	wantFields(t, p, "credential_id")
	if len(p.Errors) == 1 && p.Errors[0].Message != api.TCPCredentialMessage {
		t.Errorf("message = %q, want %q", p.Errors[0].Message, api.TCPCredentialMessage)
	}
}
