package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// TestMaxMonitors: past the cap a create is refused with 400 and a message
// naming the cap; deleting one makes room again; updates are not counted.
func TestMaxMonitors(t *testing.T) {
	srv := acctest.NewServer(t, acctest.Options{MaxMonitors: 2})
	e := createEndpoint(t, srv, srv.AdminToken, minimal("ep"))
	var ids []string
	for _, name := range []string{"m1", "m2"} {
		r := call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, monitorBody(name, e.ID))
		wantStatus(t, r, http.StatusCreated)
		var m api.Monitor
		decode(t, r, &m)
		ids = append(ids, m.ID)
	}
	r := call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, monitorBody("m3", e.ID))
	p := wantProblem(t, r, http.StatusBadRequest)
	if !strings.Contains(p.Detail, "already has 2 monitors") || !strings.Contains(p.Detail, "--max-monitors 2") {
		t.Errorf("detail = %q", p.Detail)
	}
	// An update at the cap is fine.
	body := monitorBody("m1-renamed", e.ID)
	r = call(t, srv, http.MethodPut, "/v1/monitors/"+ids[0], srv.AdminToken, body)
	wantStatus(t, r, http.StatusOK)
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/monitors/"+ids[1], srv.AdminToken, nil), http.StatusNoContent)
	wantStatus(t, call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, monitorBody("m3", e.ID)), http.StatusCreated)
}

// TestMaxProbeRate: the enabled monitors' 1/interval may not add up past
// the cap. Disabled monitors do not count; enabling one or shortening its
// interval is refused on interval when it would exceed the cap, and
// lengthening is always allowed.
func TestMaxProbeRate(t *testing.T) {
	srv := acctest.NewServer(t, acctest.Options{MaxProbeRate: 0.4})
	e := createEndpoint(t, srv, srv.AdminToken, minimal("ep"))
	mon := func(name, interval string, enabled bool) map[string]any {
		b := monitorBody(name, e.ID)
		b["interval"], b["enabled"] = interval, enabled
		return b
	}
	create := func(body map[string]any) api.Monitor {
		t.Helper()
		r := call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, body)
		wantStatus(t, r, http.StatusCreated)
		var m api.Monitor
		decode(t, r, &m)
		return m
	}
	a := create(mon("a", "5s", true)) // 0.2/s
	b := create(mon("b", "5s", true)) // 0.4/s: exactly the cap
	off := create(mon("off", "5s", false))

	r := call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, mon("c", "10s", true))
	p := wantProblem(t, r, http.StatusBadRequest)
	wantFields(t, p, "interval")
	if msg := p.Errors[0].Message; !strings.Contains(msg, "probe rate to 0.5 probes/s, over its cap of 0.4 (--max-probe-rate)") {
		t.Errorf("message = %q", msg)
	}
	// Enabling the disabled one would add 0.2/s.
	r = call(t, srv, http.MethodPut, "/v1/monitors/"+off.ID, srv.AdminToken, mon("off", "5s", true))
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "interval")
	// Lengthening a's interval is allowed and makes room (0.1 + 0.2)...
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/monitors/"+a.ID, srv.AdminToken, mon("a", "10s", true)), http.StatusOK)
	create(mon("c", "10s", true)) // 0.1 + 0.2 + 0.1 = 0.4
	// ...and shortening it again is refused.
	r = call(t, srv, http.MethodPut, "/v1/monitors/"+a.ID, srv.AdminToken, mon("a", "5s", true))
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "interval")
	// A change that adds no load is allowed at the cap.
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/monitors/"+b.ID, srv.AdminToken, mon("b-renamed", "5s", true)), http.StatusOK)
}
