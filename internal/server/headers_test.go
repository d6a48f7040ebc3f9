package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
)

// TestHeaderValuesRefuseControlCharacters: CR, LF and other control
// characters in a monitor's header value, or in a secret that is sent as a
// header, are refused with 400 on the field, instead of failing every probe
// later; the secret never appears in the answer.
func TestHeaderValuesRefuseControlCharacters(t *testing.T) {
	srv := acctest.NewServer(t)
	e := createEndpoint(t, srv, srv.AdminToken, minimal("ep"))
	for _, v := range []string{"a\r\nx-injected: 1", "a\nb", "nul\x00", "esc\x1b", "del\x7f"} {
		body := monitorBody("m", e.ID)
		body["request"] = map[string]any{"headers": map[string]string{"x-foo": v, "x-ok": "fine\tvalue"}}
		r := call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, body)
		wantFields(t, wantProblem(t, r, http.StatusBadRequest), "request.headers.x-foo")
	}
	body := monitorBody("m", e.ID)
	body["request"] = map[string]any{"headers": map[string]string{"x-ok": "fine\tvalue ü"}}
	wantStatus(t, call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, body), http.StatusCreated)

	const bad = "s3cr3t\r\nx-evil: 1"
	for _, typ := range []string{"api_key", "bearer"} {
		r := call(t, srv, http.MethodPost, "/v1/credentials", srv.AdminToken, credBody("c-"+typ, typ, bad))
		p := wantProblem(t, r, http.StatusBadRequest)
		wantFields(t, p, "secret")
		if strings.Contains(string(r.Body), "s3cr3t") {
			t.Errorf("the answer echoes the secret: %s", r.Body)
		}
	}
	// In a query parameter or through basic's base64, any byte travels.
	q := credBody("c-query", "api_key", bad)
	q["query_param"] = "key"
	wantStatus(t, call(t, srv, http.MethodPost, "/v1/credentials", srv.AdminToken, q), http.StatusCreated)
}

// TestBodyShapingHeadersRefused: a monitor may not ask for a compressed or
// partial response body (accept-encoding, range, if-range, te): aiod would
// then store raw gzip or a slice of the body, in which the scrubber cannot
// find an echoed secret. Each is a 400 on its own field.
func TestBodyShapingHeadersRefused(t *testing.T) {
	srv := acctest.NewServer(t)
	e := createEndpoint(t, srv, srv.AdminToken, minimal("ep"))
	for _, name := range []string{"accept-encoding", "range", "if-range", "te"} {
		body := monitorBody("m", e.ID)
		body["request"] = map[string]any{"headers": map[string]string{name: "gzip", "x-ok": "1"}}
		p := wantProblem(t, call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, body), http.StatusBadRequest)
		wantFields(t, p, "request.headers."+name)
		if !strings.Contains(p.Errors[0].Message, "scrubber") {
			t.Errorf("%s: message %q does not say why", name, p.Errors[0].Message)
		}
	}
	body := monitorBody("m", e.ID)
	body["request"] = map[string]any{"headers": map[string]string{"accept": "application/json"}}
	wantStatus(t, call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, body), http.StatusCreated)
}
