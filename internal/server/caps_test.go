package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// TestMaxMonitors: past the cap a create is refused with 400 and a message
// naming the cap; deleting one makes room again; updates are not counted.
func TestMaxMonitors(t *testing.T) {
	srv := acctest.NewServer(t, acctest.Options{MaxMonitors: 2})
	e := createEndpoint(t, srv, srv.AdminToken, minimal("ep"))
	var ids []string
	for _, name := range []string{"m1", "m2"} {
		// Enabled: with no --max-probe-rate, their probe rate is not capped.
		body := monitorBody(name, e.ID)
		body["enabled"] = true
		r := call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, body)
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

// TestMaxProbeRateToleranceIsInclusive: the cap's tolerance for
// floating-point sums is part of the cap, so a rate exactly at the cap
// plus its tolerance is allowed.
func TestMaxProbeRateToleranceIsInclusive(t *testing.T) {
	// 0.2/(1+1e-9) * (1+1e-9) is exactly 0.2 in float64: a monitor every
	// 5 s is exactly at the cap with its tolerance.
	srv := acctest.NewServer(t, acctest.Options{MaxProbeRate: 0.2 / (1 + 1e-9)})
	e := createEndpoint(t, srv, srv.AdminToken, minimal("ep"))
	body := monitorBody("every-5s", e.ID)
	body["interval"], body["enabled"] = "5s", true
	wantStatus(t, call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, body), http.StatusCreated)
}

// TestMaxProbeRateOverALoweredCap: an aiod whose monitors already probe
// faster than its cap (the cap was lowered after they were made) can still
// edit them: a change that keeps a monitor's rate is allowed, as is one
// that lowers it; one that raises it is refused.
func TestMaxProbeRateOverALoweredCap(t *testing.T) {
	srv := acctest.NewServer(t, acctest.Options{MaxProbeRate: 0.4})
	e := createEndpoint(t, srv, srv.AdminToken, minimal("ep"))
	// Three monitors every 5 s, 0.6/s, stored as an aiod with a higher
	// cap stored them.
	ctx := t.Context()
	var monIDs []string
	err := srv.Store.Write(ctx, func(tx store.Tx) error {
		for i := range 3 {
			at := t0.Add(time.Duration(i) * time.Millisecond)
			id := ids.New(api.PrefixMonitor, at)
			monIDs = append(monIDs, id)
			m := api.Monitor{Meta: api.Meta{ID: id, Revision: 1, CreatedAt: at, UpdatedAt: at}, Name: fmt.Sprintf("m%d", i),
				EndpointID: e.ID, Type: api.MonitorHTTP, Enabled: new(true), Interval: new("5s")}
			if err := tx.InsertMonitor(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	put := func(id, name, interval string) response {
		body := monitorBody(name, e.ID)
		body["interval"], body["enabled"] = interval, true
		return call(t, srv, http.MethodPut, "/v1/monitors/"+id, srv.AdminToken, body)
	}
	wantStatus(t, put(monIDs[0], "renamed", "5s"), http.StatusOK)
	wantStatus(t, put(monIDs[1], "m1", "10s"), http.StatusOK)
	// 0.2 + 0.2 + 1/6: the message rounds the rate to two decimals.
	p := wantProblem(t, put(monIDs[1], "m1", "6s"), http.StatusBadRequest)
	wantFields(t, p, "interval")
	if msg := p.Errors[0].Message; !strings.Contains(msg, "probe rate to 0.57 probes/s, over its cap of 0.4 ") {
		t.Errorf("message = %q", msg)
	}
}
