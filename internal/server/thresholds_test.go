package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
)

// thrBody returns a valid threshold body on a monitor: availability below
// 99.5 % over an hour.
func thrBody(name, monitorID string) map[string]any {
	return map[string]any{"name": name, "monitor_id": monitorID, "metric": api.MetricAvailability,
		"comparison": "below", "warning": 99.9, "critical": 99.5, "window": "1h"}
}

// burnBody returns a valid burn-rate threshold body on an endpoint.
func burnBody(name, endpointID string) map[string]any {
	return map[string]any{"name": name, "endpoint_id": endpointID, "metric": api.MetricBurnRate,
		"slo": map[string]any{"objective_percent": 99.9, "period": "720h"}}
}

// createThreshold creates a threshold and returns it.
func createThreshold(t testing.TB, srv *acctest.Server, token string, body any) api.AlertThreshold {
	t.Helper()
	r := call(t, srv, http.MethodPost, "/v1/alert-thresholds", token, body)
	wantStatus(t, r, http.StatusCreated)
	var a api.AlertThreshold
	decode(t, r, &a)
	return a
}

func TestThresholdCRUD(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	m := createMonitor(t, srv, "thr-crud-mon")
	a := createThreshold(t, srv, editor, thrBody("availability", m.ID))
	if !strings.HasPrefix(a.ID, api.PrefixThreshold) || a.Revision != 1 {
		t.Fatalf("created %+v", a)
	}
	// The defaults the provider plans are filled in; nothing else is (no
	// burn-rate windows, no reminder).
	if *a.PendingFor != "0s" || *a.RecoveryFor != "0s" || a.NoData != api.NoDataOK || !a.IsEnabled() ||
		a.ReminderInterval != nil || a.BurnRateWindows != nil || a.SLO != nil {
		t.Errorf("defaults: %+v", a)
	}
	path := "/v1/alert-thresholds/" + a.ID
	// Durations compare by value: "60m" is the same window as "1h", and
	// "0m" the same pending period as "0s", so the PUT changes nothing.
	same := with(thrBody("availability", m.ID), "window", "60m", "pending_for", "0m")
	r := call(t, srv, http.MethodPut, path, editor, same)
	wantStatus(t, r, http.StatusOK)
	wantHeader(t, r, "ETag", `"1"`)
	r = call(t, srv, http.MethodPut, path, editor, with(thrBody("availability", m.ID), "critical", 99.0, "recovery_critical", 99.2))
	wantHeader(t, r, "ETag", `"2"`)
	evs := auditFor(t, srv, a.ID)
	if got := evs[len(evs)-1].ChangedFields; !slices.Equal(got, []string{"critical", "recovery_critical"}) {
		t.Errorf("changed fields %q", got)
	}
	// A burn-rate threshold keeps its windows null: the SRE workbook's are
	// applied when it is evaluated, never stored.
	ep := createEndpoint(t, srv, editor, minimal("thr-crud-ep"))
	b := createThreshold(t, srv, editor, burnBody("burn", ep.ID))
	if b.BurnRateWindows != nil || b.Window != nil || b.Comparison != nil {
		t.Errorf("burn-rate threshold filled in: %+v", b)
	}
	// The SLO period and the windows' durations compare by value too, and
	// a changed window factor is a change of that path.
	bPath := "/v1/alert-thresholds/" + b.ID
	win := func(long, short string, factor float64) []map[string]any {
		return []map[string]any{{"long_window": long, "short_window": short, "factor": factor, "severity": "critical"}}
	}
	withWin := with(burnBody("burn", ep.ID), "burn_rate_windows", win("1h", "5m", 14.4))
	wantHeader(t, call(t, srv, http.MethodPut, bPath, editor, withWin), "ETag", `"2"`)
	sameBurn := with(burnBody("burn", ep.ID), "slo", map[string]any{"objective_percent": 99.9, "period": "43200m"},
		"burn_rate_windows", win("60m", "300s", 14.4))
	wantHeader(t, call(t, srv, http.MethodPut, bPath, editor, sameBurn), "ETag", `"2"`)
	r = call(t, srv, http.MethodPut, bPath, editor, with(withWin, "burn_rate_windows", win("1h", "5m", 6)))
	wantHeader(t, r, "ETag", `"3"`)
	evs = auditFor(t, srv, b.ID)
	if got := evs[len(evs)-1].ChangedFields; !slices.Equal(got, []string{"burn_rate_windows.0.factor"}) {
		t.Errorf("changed fields %q, want [burn_rate_windows.0.factor]", got)
	}
	l := call(t, srv, http.MethodGet, "/v1/alert-thresholds?metric="+api.MetricBurnRate, srv.Tokens[api.RoleViewer], nil)
	wantStatus(t, l, http.StatusOK)
	if !strings.Contains(string(l.Body), b.ID) || strings.Contains(string(l.Body), a.ID) {
		t.Errorf("metric filter: %s", l.Body)
	}
	l = call(t, srv, http.MethodGet, "/v1/alert-thresholds?monitor_id="+m.ID, srv.Tokens[api.RoleViewer], nil)
	if !strings.Contains(string(l.Body), a.ID) || strings.Contains(string(l.Body), b.ID) {
		t.Errorf("monitor filter: %s", l.Body)
	}
	wantStatus(t, call(t, srv, http.MethodDelete, path, editor, nil), http.StatusNoContent)
	wantProblem(t, call(t, srv, http.MethodDelete, path, editor, nil), http.StatusNotFound)
}

func TestThresholdValidation(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	m := createMonitor(t, srv, "thr-val-mon")
	ep := createEndpoint(t, srv, editor, minimal("thr-val-ep"))
	base := thrBody("v", m.ID)
	burn := burnBody("v", ep.ID)
	windows := func(ws ...map[string]any) []map[string]any { return ws }
	win := func(long, short string, factor float64, severity string) map[string]any {
		return map[string]any{"long_window": long, "short_window": short, "factor": factor, "severity": severity}
	}
	cases := []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"neither monitor nor endpoint", without(base, "monitor_id"), []string{"monitor_id"}},
		{"both monitor and endpoint", with(base, "endpoint_id", ep.ID), []string{"endpoint_id"}},
		{"monitor of the wrong kind", with(base, "monitor_id", ep.ID), []string{"monitor_id"}},
		{"unknown monitor", with(base, "monitor_id", "mon_missing"), []string{"monitor_id"}},
		{"unknown endpoint", with(without(base, "monitor_id"), "endpoint_id", "ep_missing"), []string{"endpoint_id"}},
		{"unknown channel", with(base, "channel_ids", []string{"chan_missing"}), []string{"channel_ids"}},
		{"not a channel ID", with(base, "channel_ids", []string{"ep_x"}), []string{"channel_ids.0"}},
		{"bad metric", with(base, "metric", "uptime"), []string{"metric"}},
		{"no comparison", without(base, "comparison"), []string{"comparison"}},
		{"bad comparison", with(base, "comparison", "over"), []string{"comparison"}},
		{"no value", without(base, "warning", "critical"), []string{"critical"}},
		{"percentage above 100", with(base, "critical", 101), []string{"critical"}},
		{"warning more severe than critical (below)", with(base, "warning", 99.0, "critical", 99.5), []string{"warning"}},
		{"warning more severe than critical (above)", with(base, "metric", api.MetricLatencyP95, "comparison", "above", "warning", 900, "critical", 500), []string{"warning"}},
		{"recovery on the firing side", with(base, "recovery_critical", 99.0), []string{"recovery_critical"}},
		{"recovery without its value", with(without(base, "warning"), "recovery_warning", 99.95), []string{"recovery_warning"}},
		{"consecutive failures not whole", with(base, "metric", api.MetricConsecutiveFailure, "comparison", "above", "warning", nil, "critical", 2.5, "window", nil), []string{"critical"}},
		{"window missing", without(base, "window"), []string{"window"}},
		{"window too short", with(base, "window", "30s"), []string{"window"}},
		{"window too long", with(base, "window", "2161h"), []string{"window"}},
		{"window on a state metric", with(base, "metric", api.MetricTLSCertExpiry, "warning", 30, "critical", 7), []string{"window"}},
		{"negative pending_for", with(base, "pending_for", "-1s"), []string{"pending_for"}},
		{"bad recovery_for", with(base, "recovery_for", "soon"), []string{"recovery_for"}},
		{"reminder too short", with(base, "reminder_interval", "10s"), []string{"reminder_interval"}},
		{"bad no_data", with(base, "no_data", "ignore"), []string{"no_data"}},
		{"runbook not http", with(base, "runbook_url", "file:///etc/passwd"), []string{"runbook_url"}},
		{"slo on availability", with(base, "slo", map[string]any{"objective_percent": 99.9, "period": "720h"}), []string{"slo"}},
		{"burn rate without slo", without(burn, "slo"), []string{"slo"}},
		{"burn rate with critical", with(burn, "critical", 1), []string{"critical"}},
		{"burn rate with window", with(burn, "window", "1h"), []string{"window"}},
		{"objective 100", with(burn, "slo", map[string]any{"objective_percent": 100, "period": "720h"}), []string{"slo.objective_percent"}},
		{"slo period too short", with(burn, "slo", map[string]any{"objective_percent": 99, "period": "1h"}), []string{"slo.period"}},
		{"slo period shorter than the default windows", with(burn, "slo", map[string]any{"objective_percent": 99, "period": "48h"}), []string{"slo.period"}},
		{"empty windows", with(burn, "burn_rate_windows", []map[string]any{}), []string{"burn_rate_windows"}},
		{"short not shorter", with(burn, "burn_rate_windows", windows(win("1h", "1h", 14.4, "critical"))), []string{"burn_rate_windows.0.short_window"}},
		{"window past the period", with(burn, "burn_rate_windows", windows(win("1h", "5m", 14.4, "critical"), win("800h", "6h", 1, "warning"))), []string{"burn_rate_windows.1.long_window"}},
		{"zero factor", with(burn, "burn_rate_windows", windows(win("1h", "5m", 0, "critical"))), []string{"burn_rate_windows.0.factor"}},
		{"bad severity", with(burn, "burn_rate_windows", windows(win("1h", "5m", 2, "page"))), []string{"burn_rate_windows.0.severity"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, call(t, srv, http.MethodPost, "/v1/alert-thresholds", editor, tc.body), http.StatusBadRequest)
			wantFields(t, p, tc.fields...)
		})
	}
}

// TestThresholdReferrers: a monitor, an endpoint or a channel that a
// threshold references cannot be deleted (409 naming the thresholds), and
// can once the threshold lets go of it.
func TestThresholdReferrers(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	m := createMonitor(t, srv, "ref-mon")
	ep := createEndpoint(t, srv, editor, minimal("ref-ep"))
	ch := createChannel(t, srv, editor, chanBody("ref-chan", api.ChannelEmail, ""))
	onMon := createThreshold(t, srv, editor, with(thrBody("on-mon", m.ID), "channel_ids", []string{ch.ID}))
	onEp := createThreshold(t, srv, editor, with(burnBody("on-ep", ep.ID), "channel_ids", []string{ch.ID}))
	for path, want := range map[string][]string{
		"/v1/monitors/" + m.ID:               {onMon.ID},
		"/v1/endpoints/" + ep.ID:             {onEp.ID},
		"/v1/notification-channels/" + ch.ID: {onMon.ID, onEp.ID},
	} {
		r := call(t, srv, http.MethodDelete, path, editor, nil)
		wantProblem(t, r, http.StatusConflict)
		for _, id := range want {
			if !strings.Contains(string(r.Body), id) {
				t.Errorf("DELETE %s: the 409 does not name %s: %s", path, id, r.Body)
			}
		}
	}
	// The endpoint's own monitors still block it too.
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/alert-thresholds/"+onMon.ID, editor, thrBody("on-mon", m.ID)), http.StatusOK)
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/alert-thresholds/"+onEp.ID, editor, nil), http.StatusNoContent)
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/notification-channels/"+ch.ID, editor, nil), http.StatusNoContent)
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/alert-thresholds/"+onMon.ID, editor, nil), http.StatusNoContent)
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/monitors/"+m.ID, editor, nil), http.StatusNoContent)
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/endpoints/"+ep.ID, editor, nil), http.StatusNoContent)
}

// TestThresholdChannelRefsAfterAKnownOne: every reference is checked, not
// only up to the first that exists: the channels after a known monitor or
// endpoint, and every channel after a known one. The 400 names the
// missing channel.
func TestThresholdChannelRefsAfterAKnownOne(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	m := createMonitor(t, srv, "thr-refs-mon")
	ep := createEndpoint(t, srv, editor, minimal("thr-refs-ep"))
	ch := createChannel(t, srv, editor, chanBody("thr-refs-hook", api.ChannelWebhook, "hook-secret"))
	missing := ids.New(api.PrefixChannel, t0)
	for _, body := range []map[string]any{
		with(thrBody("refs", m.ID), "channel_ids", []string{ch.ID, missing}),
		with(burnBody("refs", ep.ID), "channel_ids", []string{missing}),
	} {
		r := call(t, srv, http.MethodPost, "/v1/alert-thresholds", editor, body)
		p := wantProblem(t, r, http.StatusBadRequest)
		wantFields(t, p, "channel_ids")
		if len(p.Errors) != 1 || !strings.Contains(p.Errors[0].Message, missing) {
			t.Errorf("errors %+v, want one naming %s", p.Errors, missing)
		}
	}
}
