package server_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
)

// TestMonitorResultsCursor pages a monitor's results, and refuses a cursor
// that decodes but is not one of ours with 400 on after (it used to be a
// 500: the store's parse error went out as an internal error).
func TestMonitorResultsCursor(t *testing.T) {
	srv := acctest.NewServer(t)
	m := createMonitor(t, srv, "cursor-mon")
	var rs []api.ProbeResult
	for i := range 3 {
		rs = append(rs, api.ProbeResult{MonitorID: m.ID, Time: t0.Add(time.Duration(i) * time.Second).Truncate(time.Microsecond),
			Outcome: api.OutcomeUp, LatencyMS: 1, Attempts: 1})
	}
	if err := srv.Store.WriteResults(t.Context(), rs, nil); err != nil {
		t.Fatal(err)
	}
	base := "/v1/monitors/" + m.ID + "/results"

	// A real cursor pages on.
	r := call(t, srv, http.MethodGet, base+"?limit=2", srv.AdminToken, nil)
	wantStatus(t, r, http.StatusOK)
	var page api.List[api.ProbeResult]
	decode(t, r, &page)
	if len(page.Items) != 2 || page.NextCursor == "" {
		t.Fatalf("first page: %d items, cursor %q", len(page.Items), page.NextCursor)
	}
	r = call(t, srv, http.MethodGet, base+"?limit=2&after="+url.QueryEscape(page.NextCursor), srv.AdminToken, nil)
	wantStatus(t, r, http.StatusOK)
	page = api.List[api.ProbeResult]{}
	decode(t, r, &page)
	if len(page.Items) != 1 || page.NextCursor != "" || !page.Items[0].Time.Equal(rs[2].Time) {
		t.Fatalf("second page: %+v", page)
	}

	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, after := range []string{
		"Zm9v",           // "foo": valid base64, not a cursor
		enc("123"),       // no separator
		enc("x.1"),       // not a time
		enc("1.y"),       // not a sequence
		enc("."),         // nothing on either side
		"not base64 !!!", // not base64 at all (refused before the store)
	} {
		r := call(t, srv, http.MethodGet, base+"?after="+url.QueryEscape(after), srv.AdminToken, nil)
		p := wantProblem(t, r, http.StatusBadRequest)
		wantFields(t, p, "after")
	}
}

// TestMonitorValidationAtTheAPI checks the API side of the monitor rules
// the provider also applies at plan time: JSONPaths that parse, a timeout
// of at least 100ms, degraded_response_time within the timeout.
func TestMonitorValidationAtTheAPI(t *testing.T) {
	srv := acctest.NewServer(t)
	e := createEndpoint(t, srv, srv.AdminToken, minimal("validation-ep"))
	cases := []struct {
		mod   func(map[string]any)
		field string
	}{
		{func(b map[string]any) {
			b["assertions"] = []map[string]any{
				{"source": "status_code", "comparison": "equals", "target": "200"},
				{"source": "json_body", "property": "$[?", "comparison": "not_empty"},
			}
		}, "assertions.1.property"},
		{func(b map[string]any) { b["timeout"] = "10ms" }, "timeout"},
		{func(b map[string]any) { b["timeout"] = "2s"; b["degraded_response_time"] = "3s" }, "degraded_response_time"},
		{func(b map[string]any) { b["interval"] = "5s"; b["degraded_response_time"] = "6s" }, "degraded_response_time"},
	}
	for _, c := range cases {
		b := monitorBody("validation-mon", e.ID)
		c.mod(b)
		p := wantProblem(t, call(t, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, b), http.StatusBadRequest)
		wantFields(t, p, c.field)
	}
}

// TestMonitorStatusWindow: the status of a monitor covers the window asked
// for, from 1m to 2160h (both allowed), 1h when none is given; a window
// outside those bounds, or not a duration, is a 400 on window, and a
// monitor that does not exist a 404.
func TestMonitorStatusWindow(t *testing.T) {
	clk := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: clk})
	m := createMonitor(t, srv, "status-mon")
	now := t0.Truncate(time.Microsecond)
	var rs []api.ProbeResult
	for _, ago := range []time.Duration{30 * time.Second, 2 * time.Hour, 2000 * time.Hour} {
		rs = append(rs, api.ProbeResult{MonitorID: m.ID, Time: now.Add(-ago), Outcome: api.OutcomeUp, LatencyMS: 1, Attempts: 1})
	}
	if err := srv.Store.WriteResults(t.Context(), rs, nil); err != nil {
		t.Fatal(err)
	}
	base := "/v1/monitors/" + m.ID + "/status"
	for _, c := range []struct {
		query, window string
		probes        int64
	}{
		{"?window=1m", "1m", 1},
		{"", "1h", 1},
		{"?window=3h", "3h", 2},
		{"?window=2160h", "2160h", 3},
	} {
		r := call(t, srv, http.MethodGet, base+c.query, srv.Tokens[api.RoleViewer], nil)
		wantStatus(t, r, http.StatusOK)
		var st api.MonitorStatus
		decode(t, r, &st)
		if st.MonitorID != m.ID || st.Window != c.window || st.Probes != c.probes {
			t.Errorf("GET status%s: monitor %q, window %q, %d probes; want %q, %q, %d", c.query, st.MonitorID, st.Window, st.Probes,
				m.ID, c.window, c.probes)
		}
	}
	for _, w := range []string{"59s", "2161h", "an hour"} {
		r := call(t, srv, http.MethodGet, base+"?window="+url.QueryEscape(w), srv.Tokens[api.RoleViewer], nil)
		wantFields(t, wantProblem(t, r, http.StatusBadRequest), "window")
	}
	r := call(t, srv, http.MethodGet, "/v1/monitors/"+ids.New(api.PrefixMonitor, t0)+"/status", srv.Tokens[api.RoleViewer], nil)
	wantProblem(t, r, http.StatusNotFound)
}

// TestMonitorResultsSinceUntil: since and until bound a monitor's results
// in time; a value that is not an RFC 3339 time is a 400 on its name.
func TestMonitorResultsSinceUntil(t *testing.T) {
	srv := acctest.NewServer(t)
	m := createMonitor(t, srv, "since-mon")
	base := t0.Truncate(time.Microsecond)
	var rs []api.ProbeResult
	for i := range 3 {
		rs = append(rs, api.ProbeResult{MonitorID: m.ID, Time: base.Add(time.Duration(i) * time.Second), Outcome: api.OutcomeUp,
			LatencyMS: 1, Attempts: 1})
	}
	if err := srv.Store.WriteResults(t.Context(), rs, nil); err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) string { return base.Add(d).Format(time.RFC3339Nano) }
	for _, c := range []struct {
		query url.Values
		want  []time.Time
	}{
		{url.Values{"since": {at(500 * time.Millisecond)}}, []time.Time{rs[2].Time, rs[1].Time}},
		{url.Values{"until": {at(1500 * time.Millisecond)}}, []time.Time{rs[1].Time, rs[0].Time}},
		{url.Values{"since": {at(500 * time.Millisecond)}, "until": {at(1500 * time.Millisecond)}}, []time.Time{rs[1].Time}},
	} {
		var got []time.Time
		for _, r := range listAll[api.ProbeResult](t, srv, "/v1/monitors/"+m.ID+"/results", c.query) {
			got = append(got, r.Time)
		}
		slices.SortFunc(got, func(a, b time.Time) int { return b.Compare(a) })
		if !slices.EqualFunc(got, c.want, time.Time.Equal) {
			t.Errorf("results?%s: %v, want %v", c.query.Encode(), got, c.want)
		}
	}
	for _, name := range []string{"since", "until"} {
		r := call(t, srv, http.MethodGet, "/v1/monitors/"+m.ID+"/results?"+name+"=yesterday", srv.Tokens[api.RoleViewer], nil)
		wantFields(t, wantProblem(t, r, http.StatusBadRequest), name)
	}
}
