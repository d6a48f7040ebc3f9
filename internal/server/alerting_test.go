package server_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/server"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// alertFixture is what seedAlerting stored: IDs made with the real ID
// scheme, so that the filters' checks pass on them.
type alertFixture struct {
	thrA, thrB       string
	chanA, chanB     string
	events           []api.AlertEvent // in recording order
	deliveries       []api.Delivery   // in recording order
	alertTime, start time.Time
}

// seedAlerting stores, through the store as the engine will: thrA's
// critical firing and warning pending, thrB's critical resolved (not
// current); five events of thrA and thrB a minute apart, each with a
// delivery to chanA, and the last two also to chanB; the first delivery
// delivered.
func seedAlerting(t *testing.T, srv *acctest.Server) alertFixture {
	t.Helper()
	base := t0.Truncate(time.Microsecond)
	f := alertFixture{
		thrA: ids.New(api.PrefixThreshold, base), thrB: ids.New(api.PrefixThreshold, base),
		chanA: ids.New(api.PrefixChannel, base), chanB: ids.New(api.PrefixChannel, base),
		alertTime: base.Add(time.Minute), start: base,
	}
	ctx := t.Context()
	err := srv.Store.RecordTransitions(ctx, store.AlertBatch{States: []store.AlertStateRecord{
		{ThresholdID: f.thrA, Severity: api.SeverityCritical, State: api.AlertFiring, Since: f.alertTime, Notified: true,
			LastNotified: f.alertTime, Value: new(42.5), StartedAt: f.alertTime},
		{ThresholdID: f.thrA, Severity: api.SeverityWarning, State: api.AlertPending, Since: f.start, StartedAt: f.start},
		{ThresholdID: f.thrB, Severity: api.SeverityCritical, State: api.AlertResolved, Since: f.alertTime},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		at := base.Add(time.Duration(i) * time.Minute)
		thr := []string{f.thrA, f.thrB}[i%2]
		ev := api.AlertEvent{ID: ids.New(api.PrefixAlertEvent, at), ThresholdID: thr, ThresholdName: "thr-" + thr[len(thr)-4:],
			MonitorID: new(ids.New(api.PrefixMonitor, at)), MonitorName: new("checkout"), Severity: api.SeverityCritical, FromState: api.AlertPending,
			ToState: api.AlertFiring, Metric: "error_rate_percent", Window: new("5m"), Value: new(float64(10 + i)), At: at,
			StartedAt: new(at)}
		b := store.AlertBatch{Events: []api.AlertEvent{ev}}
		for _, ch := range []string{f.chanA, f.chanB} {
			if ch == f.chanB && i < 3 {
				continue
			}
			d := api.Delivery{ID: ids.New(api.PrefixDelivery, at), EventID: ev.ID, ChannelID: ch, State: api.DeliveryPending,
				CreatedAt: at, NextAttemptAt: new(at)}
			b.Deliveries = append(b.Deliveries, d)
		}
		if err := srv.Store.RecordTransitions(ctx, b); err != nil {
			t.Fatal(err)
		}
		f.events = append(f.events, ev)
		f.deliveries = append(f.deliveries, b.Deliveries...)
	}
	d, err := srv.Store.RecordDeliveryAttempt(ctx, store.DeliveryAttemptRecord{DeliveryAttempt: api.DeliveryAttempt{
		DeliveryID: f.deliveries[0].ID, At: base.Add(time.Second), Status: new(200), DurationMS: 12}, State: api.DeliveryDelivered})
	if err != nil {
		t.Fatal(err)
	}
	f.deliveries[0] = d
	return f
}

// pageOf is a page as the API sends it.
type pageOf[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// listAll reads every page of a listing with the viewer's token.
func listAll[T any](t *testing.T, srv *acctest.Server, path string, q url.Values) []T {
	t.Helper()
	q = maps(q)
	var out []T
	for range 20 {
		r := call(t, srv, http.MethodGet, path+"?"+q.Encode(), srv.Tokens[api.RoleViewer], nil)
		wantStatus(t, r, http.StatusOK)
		var p pageOf[T]
		decode(t, r, &p)
		if p.Items == nil {
			t.Fatalf("%s: items should've been an array, got %s", path, r.Body)
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out
		}
		q.Set("after", p.NextCursor)
	}
	t.Fatalf("%s: too many pages", path)
	return nil
}

// maps copies url.Values, so that paging does not change the caller's.
func maps(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

func TestListAlerts(t *testing.T) {
	srv := acctest.NewServer(t)
	// Nothing stored yet: an empty array and no cursor.
	r := call(t, srv, http.MethodGet, "/v1/alerts", srv.Tokens[api.RoleViewer], nil)
	wantStatus(t, r, http.StatusOK)
	obj := rawObject(t, r.Body)
	wantKeys(t, obj, "items")
	wantRaw(t, obj, "items", `[]`)

	f := seedAlerting(t, srv)
	critical := api.Alert{ThresholdID: f.thrA, Severity: api.SeverityCritical, State: api.AlertFiring, Value: new(42.5),
		StartedAt: new(f.alertTime), Since: f.alertTime}
	warning := api.Alert{ThresholdID: f.thrA, Severity: api.SeverityWarning, State: api.AlertPending, StartedAt: new(f.start), Since: f.start}
	for _, c := range []struct {
		query url.Values
		want  []api.Alert
	}{
		{nil, []api.Alert{critical, warning}},
		{url.Values{"limit": {"1"}}, []api.Alert{critical, warning}},
		{url.Values{"state": {"firing"}}, []api.Alert{critical}},
		{url.Values{"severity": {"warning"}}, []api.Alert{warning}},
		{url.Values{"threshold_id": {f.thrB}}, []api.Alert{}},
		{url.Values{"threshold_id": {f.thrB, f.thrA}, "state": {"pending"}}, []api.Alert{warning}},
	} {
		if got := listAll[api.Alert](t, srv, "/v1/alerts", c.query); !reflect.DeepEqual(got, c.want) && len(got)+len(c.want) > 0 {
			t.Errorf("GET /v1/alerts?%s:\n got %+v\nwant %+v", c.query.Encode(), got, c.want)
		}
	}

	// The wire shape: every member, null values as null.
	r = call(t, srv, http.MethodGet, "/v1/alerts?severity=warning", srv.Tokens[api.RoleViewer], nil)
	wantStatus(t, r, http.StatusOK)
	var raw struct{ Items []map[string]any }
	decodeLoose(t, r.Body, &raw)
	wantMembers(t, raw.Items[0], "threshold_id", "severity", "state", "value", "started_at", "since")
	if raw.Items[0]["value"] != nil {
		t.Errorf("a pending alert without a value should've had value null, got %v", raw.Items[0]["value"])
	}
}

func TestListAlertEvents(t *testing.T) {
	srv := acctest.NewServer(t)
	f := seedAlerting(t, srv)
	newestFirst := slices.Clone(f.events)
	slices.Reverse(newestFirst)
	if got := listAll[api.AlertEvent](t, srv, "/v1/alert-events", url.Values{"limit": {"2"}}); !reflect.DeepEqual(got, newestFirst) {
		t.Errorf("every event, newest first:\n got %+v\nwant %+v", got, newestFirst)
	}
	got := listAll[api.AlertEvent](t, srv, "/v1/alert-events", url.Values{"threshold_id": {f.thrB}})
	if want := []api.AlertEvent{f.events[3], f.events[1]}; !reflect.DeepEqual(got, want) {
		t.Errorf("thrB's events:\n got %+v\nwant %+v", got, want)
	}
	got = listAll[api.AlertEvent](t, srv, "/v1/alert-events", url.Values{"since": {f.events[3].At.Format(time.RFC3339Nano)}})
	if want := []api.AlertEvent{f.events[4], f.events[3]}; !reflect.DeepEqual(got, want) {
		t.Errorf("events since the fourth:\n got %+v\nwant %+v", got, want)
	}

	r := call(t, srv, http.MethodGet, "/v1/alert-events?limit=1", srv.Tokens[api.RoleViewer], nil)
	var raw struct {
		Items      []map[string]any
		NextCursor string `json:"next_cursor"`
	}
	decodeLoose(t, r.Body, &raw)
	wantMembers(t, raw.Items[0], "id", "threshold_id", "threshold_name", "monitor_id", "monitor_name", "endpoint_id", "endpoint_name",
		"runbook_url", "severity", "from_state",
		"to_state", "metric", "window", "long_window", "short_window", "value", "at", "started_at", "resolved_at", "reason", "reminder")
	if raw.NextCursor == "" {
		t.Error("a page of 1 of 5 should've had a next_cursor")
	}
}

func TestListDeliveries(t *testing.T) {
	srv := acctest.NewServer(t)
	f := seedAlerting(t, srv)
	newestFirst := slices.Clone(f.deliveries)
	slices.Reverse(newestFirst)
	if got := listAll[api.Delivery](t, srv, "/v1/deliveries", url.Values{"limit": {"3"}}); !reflect.DeepEqual(got, newestFirst) {
		t.Errorf("every delivery, newest first:\n got %+v\nwant %+v", got, newestFirst)
	}
	ofChannel := func(ch string) []api.Delivery {
		var out []api.Delivery
		for _, d := range newestFirst {
			if d.ChannelID == ch {
				out = append(out, d)
			}
		}
		return out
	}
	for _, c := range []struct {
		query url.Values
		want  []api.Delivery
	}{
		{url.Values{"channel_id": {f.chanB}}, ofChannel(f.chanB)},
		{url.Values{"event_id": {f.events[4].ID}}, newestFirst[:2]},
		{url.Values{"state": {"delivered"}}, []api.Delivery{f.deliveries[0]}},
		{url.Values{"state": {"failed"}}, []api.Delivery{}},
		{url.Values{"channel_id": {f.chanA}, "state": {"pending"}, "limit": {"1"}}, ofChannel(f.chanA)[:4]},
	} {
		got := listAll[api.Delivery](t, srv, "/v1/deliveries", c.query)
		if !reflect.DeepEqual(got, c.want) && len(got)+len(c.want) > 0 {
			t.Errorf("GET /v1/deliveries?%s:\n got %+v\nwant %+v", c.query.Encode(), got, c.want)
		}
	}

	r := call(t, srv, http.MethodGet, "/v1/deliveries?state=delivered", srv.Tokens[api.RoleViewer], nil)
	var raw struct{ Items []map[string]any }
	decodeLoose(t, r.Body, &raw)
	wantMembers(t, raw.Items[0], "id", "event_id", "channel_id", "state", "attempts", "next_attempt_at", "last_attempt_at",
		"last_status", "last_error", "last_duration_ms", "created_at", "delivered_at")
	if raw.Items[0]["next_attempt_at"] != nil || raw.Items[0]["last_status"] != float64(200) {
		t.Errorf("a delivered delivery: %v", raw.Items[0])
	}
}

// Bad filters and cursors are 400s naming the parameter, as in the other
// listings.
func TestAlertingListingsRefuseBadFilters(t *testing.T) {
	srv := acctest.NewServer(t)
	seedAlerting(t, srv)
	mon := ids.New(api.PrefixMonitor, t0)
	otherCursor := base64.RawURLEncoding.EncodeToString([]byte("ep_notaseq"))
	tooMany := url.Values{}
	for i := range 101 {
		tooMany.Add("threshold_id", ids.New(api.PrefixThreshold, t0.Add(time.Duration(i)*time.Millisecond)))
	}
	for _, c := range []struct {
		path   string
		fields []string
	}{
		{"/v1/alerts?state=resolved", []string{"state"}},
		{"/v1/alerts?state=ok&severity=fatal", []string{"state", "severity"}},
		{"/v1/alerts?threshold_id=" + mon, []string{"threshold_id"}},
		{"/v1/alerts?threshold_id=thr_short", []string{"threshold_id"}},
		{"/v1/alerts?" + tooMany.Encode(), []string{"threshold_id"}},
		{"/v1/alerts?endpoint_id=ep_x&tag=envprod", []string{"endpoint_id", "tag"}},
		{"/v1/alerts?endpoint_id=" + mon, []string{"endpoint_id"}},
		{"/v1/alerts?after=!!!", []string{"after"}},
		{"/v1/alerts?after=" + otherCursor, []string{"after"}},
		{"/v1/alerts?limit=0", []string{"limit"}},
		{"/v1/alert-events?threshold_id=" + mon + "&since=yesterday", []string{"threshold_id", "since"}},
		{"/v1/alert-events?after=" + otherCursor, []string{"after"}},
		{"/v1/alert-events?after=" + base64.RawURLEncoding.EncodeToString([]byte("0")), []string{"after"}},
		{"/v1/alert-events?limit=1001", []string{"limit"}},
		{"/v1/deliveries?channel_id=" + mon + "&event_id=evt_x&state=sent", []string{"channel_id", "event_id", "state"}},
		{"/v1/deliveries?after=" + otherCursor, []string{"after"}},
	} {
		t.Run(c.path, func(t *testing.T) {
			r := call(t, srv, http.MethodGet, c.path, srv.Tokens[api.RoleViewer], nil)
			p := wantProblem(t, r, http.StatusBadRequest)
			wantFields(t, p, c.fields...)
		})
	}
	// An ID of another kind is called what it is.
	r := call(t, srv, http.MethodGet, "/v1/alerts?threshold_id="+mon, srv.Tokens[api.RoleViewer], nil)
	p := wantProblem(t, r, http.StatusBadRequest)
	if want := fmt.Sprintf("must be the ID of an alert threshold (%s…), not of a monitor", api.PrefixThreshold); len(p.Errors) != 1 || p.Errors[0].Message != want {
		t.Errorf("errors %+v, want the message %q", p.Errors, want)
	}
}

// TestAlertsTakeMaxThresholdIDFilters: the bound on threshold_id filters
// is inclusive. Exactly MaxThresholdIDFilters of them are a page of the
// alerts they name, not a 400.
func TestAlertsTakeMaxThresholdIDFilters(t *testing.T) {
	srv := acctest.NewServer(t)
	f := seedAlerting(t, srv)
	q := url.Values{"threshold_id": {f.thrA}}
	for i := range server.MaxThresholdIDFilters - 1 {
		q.Add("threshold_id", ids.New(api.PrefixThreshold, t0.Add(time.Duration(i+1)*time.Millisecond)))
	}
	got := listAll[api.Alert](t, srv, "/v1/alerts", q)
	if len(got) != 2 || got[0].ThresholdID != f.thrA || got[1].ThresholdID != f.thrA {
		t.Errorf("GET /v1/alerts with %d threshold_id filters, one of them thrA: got %+v, want thrA's two alerts",
			server.MaxThresholdIDFilters, got)
	}
}

// decodeLoose decodes a JSON body without refusing unknown members, to
// look at the wire shape.
func decodeLoose(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

// wantMembers checks that obj has exactly the given members.
func wantMembers(t *testing.T, obj map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range obj {
		got = append(got, k)
	}
	slices.Sort(got)
	keys = slices.Clone(keys)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("members = %q, want %q", got, keys)
	}
}

// GET /v1/alerts?endpoint_id= lists the alerts of the thresholds on the
// endpoint and on its monitors; tag filters select thresholds by their
// tags; both hold together, and with threshold_id.
func TestAlertsByEndpointAndTag(t *testing.T) {
	srv := acctest.NewServer(t)
	ctx := t.Context()
	base := t0.Truncate(time.Microsecond)
	m := func(id string) api.Meta { return api.Meta{ID: id, Revision: 1, CreatedAt: base, UpdatedAt: base} }
	ep1, ep2 := ids.New(api.PrefixEndpoint, base), ids.New(api.PrefixEndpoint, base)
	mon1, mon2 := ids.New(api.PrefixMonitor, base), ids.New(api.PrefixMonitor, base)
	thrEp, thrMon, thrOther := ids.New(api.PrefixThreshold, base), ids.New(api.PrefixThreshold, base), ids.New(api.PrefixThreshold, base)
	err := srv.Store.Write(ctx, func(tx store.Tx) error {
		for i, ep := range []string{ep1, ep2} {
			if err := tx.InsertEndpoint(ctx, api.Endpoint{Meta: m(ep), Name: fmt.Sprintf("ep-%d", i), URL: "https://example.com",
				DataClassification: api.ClassInternal}); err != nil {
				return err
			}
		}
		for i, mon := range []struct{ id, ep string }{{mon1, ep1}, {mon2, ep2}} {
			if err := tx.InsertMonitor(ctx, api.Monitor{Meta: m(mon.id), Name: fmt.Sprintf("mon-%d", i), EndpointID: mon.ep,
				Type: api.MonitorHTTP}); err != nil {
				return err
			}
		}
		for _, thr := range []api.AlertThreshold{
			{Meta: m(thrEp), Name: "on-endpoint", EndpointID: &ep1, Metric: api.MetricErrorRate, Comparison: new(api.CompareAbove),
				Critical: new(5.0), Window: new("5m"), Tags: map[string]string{"env": "prod"}},
			{Meta: m(thrMon), Name: "on-monitor", MonitorID: &mon1, Metric: api.MetricErrorRate, Comparison: new(api.CompareAbove),
				Critical: new(5.0), Window: new("5m"), Tags: map[string]string{"env": "dev"}},
			{Meta: m(thrOther), Name: "elsewhere", MonitorID: &mon2, Metric: api.MetricErrorRate, Comparison: new(api.CompareAbove),
				Critical: new(5.0), Window: new("5m"), Tags: map[string]string{"env": "prod"}},
		} {
			if err := tx.InsertThreshold(ctx, thr); err != nil {
				return err
			}
		}
		var states []store.AlertStateRecord
		for _, id := range []string{thrEp, thrMon, thrOther} {
			states = append(states, store.AlertStateRecord{ThresholdID: id, Severity: api.SeverityCritical, State: api.AlertFiring,
				Since: base, StartedAt: base, Notified: true, LastNotified: base})
		}
		return tx.RecordTransitions(ctx, store.AlertBatch{States: states})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"endpoint_id=" + ep1, []string{thrEp, thrMon}},
		{"endpoint_id=" + ep2, []string{thrOther}},
		{"tag=env:prod", []string{thrEp, thrOther}},
		{"tag=env:prod&endpoint_id=" + ep1, []string{thrEp}},
		{"tag=env:staging", nil},
		// The bound on tag filters is inclusive.
		{"tag=env:prod" + strings.Repeat("&tag=env:prod", server.MaxTagFilters-1), []string{thrEp, thrOther}},
		{"endpoint_id=" + ep1 + "&threshold_id=" + thrMon, []string{thrMon}},
		{"endpoint_id=" + ep2 + "&threshold_id=" + thrMon, nil},
	} {
		t.Run(c.query, func(t *testing.T) {
			q, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range listAll[api.Alert](t, srv, "/v1/alerts", q) {
				got = append(got, a.ThresholdID)
			}
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

// GET /v1/alerts?endpoint_id= has no bound on the endpoint's thresholds:
// the store selects them with a subquery. More than a thousand thresholds
// (the bound of the IN list the server once built) on an endpoint and its
// monitor all list, with the tag filter too.
func TestAlertsOfAnEndpointWithManyThresholds(t *testing.T) {
	srv := acctest.NewServer(t)
	ctx := t.Context()
	base := t0.Truncate(time.Microsecond)
	m := func(id string) api.Meta { return api.Meta{ID: id, Revision: 1, CreatedAt: base, UpdatedAt: base} }
	ep, other, mon := ids.New(api.PrefixEndpoint, base), ids.New(api.PrefixEndpoint, base), ids.New(api.PrefixMonitor, base)
	const many = 1100
	err := srv.Store.Write(ctx, func(tx store.Tx) error {
		for i, id := range []string{ep, other} {
			if err := tx.InsertEndpoint(ctx, api.Endpoint{Meta: m(id), Name: fmt.Sprintf("ep-%d", i), URL: "https://example.com",
				DataClassification: api.ClassInternal}); err != nil {
				return err
			}
		}
		if err := tx.InsertMonitor(ctx, api.Monitor{Meta: m(mon), Name: "mon", EndpointID: ep, Type: api.MonitorHTTP}); err != nil {
			return err
		}
		var states []store.AlertStateRecord
		for i := range many + 1 {
			thr := api.AlertThreshold{Meta: m(ids.New(api.PrefixThreshold, base)), Name: fmt.Sprintf("thr-%d", i),
				Metric: api.MetricErrorRate, Comparison: new(api.CompareAbove), Critical: new(5.0), Window: new("5m"),
				Tags: map[string]string{"team": "payments"}}
			switch {
			case i == many:
				// One on another endpoint, which the endpoint filter leaves out.
				thr.EndpointID = &other
			case i%2 == 0:
				thr.EndpointID = &ep
			default:
				thr.MonitorID = &mon
			}
			if err := tx.InsertThreshold(ctx, thr); err != nil {
				return err
			}
			states = append(states, store.AlertStateRecord{ThresholdID: thr.ID, Severity: api.SeverityCritical,
				State: api.AlertFiring, Since: base, StartedAt: base})
		}
		return tx.RecordTransitions(ctx, store.AlertBatch{States: states})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		query string
		want  int
	}{
		{"limit=1000&endpoint_id=" + ep, many},
		{"limit=1000&tag=team:payments&endpoint_id=" + ep, many},
		{"limit=1000&tag=team:payments", many + 1},
		{"limit=1000&endpoint_id=" + other, 1},
	} {
		q, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(listAll[api.Alert](t, srv, "/v1/alerts", q)); got != c.want {
			t.Errorf("%s: %d alerts, want %d", c.query, got, c.want)
		}
	}
}
