package server_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
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

var monitorIDRe = regexp.MustCompile(`^mon_[0-9a-hjkmnp-tv-z]{26}$`)

var monitorKeys = []string{"id", "name", "endpoint_id", "type", "enabled", "interval", "timeout", "tags", "request",
	"assertions", "retry_strategy", "degraded_response_time", "revision", "created_at", "updated_at"}

// monitorList is a page of monitors as the API sends it.
type monitorList struct {
	Items      []api.Monitor `json:"items"`
	NextCursor string        `json:"next_cursor"`
}

// listMonitors lists monitors with the given raw query.
func listMonitors(t testing.TB, srv *acctest.Server, query string) (monitorList, response) {
	t.Helper()
	r := call(t, srv, http.MethodGet, "/v1/monitors?"+query, srv.Tokens[api.RoleViewer], nil)
	wantStatus(t, r, http.StatusOK)
	var l monitorList
	decode(t, r, &l)
	return l, r
}

func monitorNames(items []api.Monitor) []string {
	out := []string{}
	for _, m := range items {
		out = append(out, m.Name)
	}
	slices.Sort(out)
	return out
}

// TestMonitorCRUD walks a monitor through its life: create with the
// defaults filled in, read back byte for byte, a PUT that only respells a
// duration (no change), a real change audited by its nested paths, a stale
// If-Match, and delete.
func TestMonitorCRUD(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	editor := srv.Tokens[api.RoleEditor]
	ep := createEndpoint(t, srv, editor, minimal("orders"))

	sent := `{"name":"orders-health","endpoint_id":"` + ep.ID + `","type":"http","interval":"1m","tags":{"env":"prod"},` +
		`"request":{"path":"/health"},"assertions":[{"source":"status_code","comparison":"equals","target":"200"}]}`
	r := call(t, srv, http.MethodPost, "/v1/monitors", editor, sent)
	wantStatus(t, r, http.StatusCreated)
	wantHeader(t, r, "Content-Type", api.ContentTypeJSON)
	wantHeader(t, r, "ETag", `"1"`)
	obj := rawObject(t, r.Body)
	wantKeys(t, obj, monitorKeys...)
	wantRaw(t, obj, "endpoint_id", `"`+ep.ID+`"`)
	// The defaults the provider plans are filled in; what was sent is kept
	// as sent ("1m" stays "1m"); what was left out stays null.
	wantRaw(t, obj, "enabled", `true`)
	wantRaw(t, obj, "interval", `"1m"`)
	wantRaw(t, obj, "timeout", `null`)
	wantRaw(t, obj, "retry_strategy", `null`)
	wantRaw(t, obj, "revision", `1`)
	wantRaw(t, obj, "created_at", `"`+t0Micro+`"`)
	wantRaw(t, obj, "updated_at", `"`+t0Micro+`"`)
	var created api.Monitor
	decode(t, r, &created)
	if !monitorIDRe.MatchString(created.ID) {
		t.Fatalf("id %q is not mon_ + 26 base32 digits", created.ID)
	}
	if created.Request == nil || created.Request.Method == nil || *created.Request.Method != api.DefaultMethod {
		t.Errorf("request.method = %+v, want the default %s", created.Request, api.DefaultMethod)
	}
	wantHeader(t, r, "Location", "/v1/monitors/"+created.ID)
	createBody := r.Body
	if evs := auditFor(t, srv, created.ID); len(evs) != 1 || evs[0].Action != api.ActionCreate || evs[0].ObjectKind != api.KindMonitor {
		t.Fatalf("audit after create: %+v", evs)
	}

	r = call(t, srv, http.MethodGet, "/v1/monitors/"+created.ID, srv.Tokens[api.RoleViewer], nil)
	wantStatus(t, r, http.StatusOK)
	wantHeader(t, r, "ETag", `"1"`)
	if !bytes.Equal(r.Body, createBody) {
		t.Errorf("GET body\n%s\ndiffers from the create body\n%s", r.Body, createBody)
	}

	// Durations compare by value: "60s" is the "1m" already stored, so
	// nothing changes, and the answer is the stored monitor.
	fake.Advance(time.Second)
	respelled := strings.Replace(sent, `"1m"`, `"60s"`, 1)
	r = call(t, srv, http.MethodPut, "/v1/monitors/"+created.ID, editor, respelled, "If-Match", `"1"`)
	wantStatus(t, r, http.StatusOK)
	wantHeader(t, r, "ETag", `"1"`)
	if !bytes.Equal(r.Body, createBody) {
		t.Errorf("no-op PUT body\n%s\nwant\n%s", r.Body, createBody)
	}
	if n := len(auditFor(t, srv, created.ID)); n != 1 {
		t.Fatalf("%d audit events after a no-op PUT, want still 1", n)
	}

	// A real change: revision 2, and the audit event names the nested
	// paths that changed.
	changed := strings.Replace(strings.Replace(sent, `"/health"`, `"/ready"`, 1), `"prod"`, `"dev"`, 1)
	r = call(t, srv, http.MethodPut, "/v1/monitors/"+created.ID, editor, changed, "If-Match", `"1"`)
	wantStatus(t, r, http.StatusOK)
	wantHeader(t, r, "ETag", `"2"`)
	obj = rawObject(t, r.Body)
	wantKeys(t, obj, monitorKeys...)
	wantRaw(t, obj, "id", `"`+created.ID+`"`)
	wantRaw(t, obj, "revision", `2`)
	wantRaw(t, obj, "created_at", `"`+t0Micro+`"`)
	wantRaw(t, obj, "updated_at", `"2026-03-01T10:00:01.123456Z"`)
	wantRaw(t, obj, "tags", `{"env":"dev"}`)
	updatedBody := r.Body
	evs := auditFor(t, srv, created.ID)
	if len(evs) != 2 || evs[1].Action != api.ActionUpdate || evs[1].Revision != 2 ||
		!slices.Equal(evs[1].ChangedFields, []string{"tags.env", "request.path"}) {
		t.Fatalf("audit after the update: %+v", evs)
	}

	// A stale If-Match is refused and changes nothing.
	r = call(t, srv, http.MethodPut, "/v1/monitors/"+created.ID, editor, sent, "If-Match", `"1"`)
	p := wantProblem(t, r, http.StatusPreconditionFailed)
	if !strings.Contains(p.Detail, "monitor") || !strings.Contains(p.Detail, "revision 1") || !strings.Contains(p.Detail, "at 2") {
		t.Errorf("412 detail %q does not name the kind and both revisions", p.Detail)
	}
	r = call(t, srv, http.MethodGet, "/v1/monitors/"+created.ID, editor, nil)
	if !bytes.Equal(r.Body, updatedBody) {
		t.Errorf("after a 412 the monitor is\n%s\nwant\n%s", r.Body, updatedBody)
	}

	// DELETE: stale revision refused, then 204 without a body, then 404.
	r = call(t, srv, http.MethodDelete, "/v1/monitors/"+created.ID, editor, nil, "If-Match", `"1"`)
	wantProblem(t, r, http.StatusPreconditionFailed)
	r = call(t, srv, http.MethodDelete, "/v1/monitors/"+created.ID, editor, nil, "If-Match", `"2"`)
	wantStatus(t, r, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 has a body: %q", r.Body)
	}
	r = call(t, srv, http.MethodDelete, "/v1/monitors/"+created.ID, editor, nil)
	p = wantProblem(t, r, http.StatusNotFound)
	if want := `no monitor with id "` + created.ID + `"`; p.Detail != want {
		t.Errorf("404 detail %q, want %q", p.Detail, want)
	}
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/monitors/"+created.ID, editor, nil), http.StatusNotFound)
	wantProblem(t, call(t, srv, http.MethodPut, "/v1/monitors/"+created.ID, editor, sent), http.StatusNotFound)
	evs = auditFor(t, srv, created.ID)
	if len(evs) != 3 || evs[2].Action != api.ActionDelete || evs[2].Revision != 2 {
		t.Fatalf("audit after the delete: %+v", evs)
	}
	// The name is free again.
	r = call(t, srv, http.MethodPost, "/v1/monitors", editor, sent)
	wantStatus(t, r, http.StatusCreated)
}

// TestListMonitors: the filters every kind takes, and endpoint_id, which
// only monitors take, combine; pages follow the cursor in ID order.
func TestListMonitors(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]

	l, r := listMonitors(t, srv, "")
	wantRaw(t, rawObject(t, r.Body), "items", `[]`)
	if l.NextCursor != "" {
		t.Errorf("an empty listing has the cursor %q", l.NextCursor)
	}

	a := createEndpoint(t, srv, editor, minimal("svc-a"))
	b := createEndpoint(t, srv, editor, minimal("svc-b"))
	var ids []string
	for _, f := range []struct {
		name, endpointID string
		tags             map[string]string
	}{
		{"a-1", a.ID, map[string]string{"env": "prod"}},
		{"a-2", a.ID, map[string]string{"env": "dev"}},
		{"b-1", b.ID, map[string]string{"env": "prod"}},
	} {
		body := monitorBody(f.name, f.endpointID)
		body["tags"] = f.tags
		r := call(t, srv, http.MethodPost, "/v1/monitors", editor, body)
		wantStatus(t, r, http.StatusCreated)
		var m api.Monitor
		decode(t, r, &m)
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)

	for query, want := range map[string][]string{
		"":                                      {"a-1", "a-2", "b-1"},
		"endpoint_id=" + a.ID:                   {"a-1", "a-2"},
		"endpoint_id=" + b.ID:                   {"b-1"},
		"endpoint_id=ep_nosuchendpoint":         {},
		"endpoint_id=" + a.ID + "&tag=env:prod": {"a-1"},
		"tag=env:prod":                          {"a-1", "b-1"},
		"name=a-2":                              {"a-2"},
		"name_prefix=a-":                        {"a-1", "a-2"},
		"name_prefix=b-&endpoint_id=" + a.ID:    {},
	} {
		l, _ := listMonitors(t, srv, query)
		if got := monitorNames(l.Items); !slices.Equal(got, want) {
			t.Errorf("?%s lists %q, want %q", query, got, want)
		}
	}

	// Pages of two, in ID order, end without a cursor.
	var got []string
	query := "limit=2"
	for range 5 {
		l, _ := listMonitors(t, srv, query)
		for _, m := range l.Items {
			got = append(got, m.ID)
		}
		if l.NextCursor == "" {
			break
		}
		query = "limit=2&after=" + l.NextCursor
	}
	if !slices.Equal(got, ids) {
		t.Errorf("paged IDs %q, want %q", got, ids)
	}

	// The cursor of another kind's listing is not one of this listing.
	el, _ := listEndpoints(t, srv, "limit=1")
	r = call(t, srv, http.MethodGet, "/v1/monitors?after="+el.NextCursor, srv.Tokens[api.RoleViewer], nil)
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "after")
}

// TestMonitorReferences: a monitor must name an endpoint and a credential
// that exist, its name is unique, and while it exists neither its endpoint
// nor its credential can be deleted.
func TestMonitorReferences(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	ep := createEndpoint(t, srv, editor, minimal("orders"))
	cred := createCredential(t, srv, editor, credBody("orders-token", api.CredBearer, "s3cret"))
	eventsBefore := len(auditEvents(t, srv, nil))

	r := call(t, srv, http.MethodPost, "/v1/monitors", editor, monitorBody("lost", "ep_01jabcdefghjkmnpqrstvwxyz0"))
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "endpoint_id")
	body := monitorBody("lost", ep.ID)
	body["request"] = map[string]any{"credential_id": "cred_01jabcdefghjkmnpqrstvwxyz0"}
	r = call(t, srv, http.MethodPost, "/v1/monitors", editor, body)
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "request.credential_id")
	if got := len(auditEvents(t, srv, nil)); got != eventsBefore {
		t.Errorf("%d audit events after refused creates, want %d", got, eventsBefore)
	}

	body["request"] = map[string]any{"credential_id": cred.ID}
	r = call(t, srv, http.MethodPost, "/v1/monitors", editor, body)
	wantStatus(t, r, http.StatusCreated)
	var m api.Monitor
	decode(t, r, &m)

	// Names are unique among monitors, on create and on rename.
	r = call(t, srv, http.MethodPost, "/v1/monitors", editor, monitorBody("lost", ep.ID))
	p := wantProblem(t, r, http.StatusConflict)
	wantFields(t, p, "name")
	if want := `the monitor name "lost" is already taken`; p.Detail != want {
		t.Errorf("409 detail %q, want %q", p.Detail, want)
	}
	other := createMonitor(t, srv, "other")
	r = call(t, srv, http.MethodPut, "/v1/monitors/"+other.ID, editor, monitorBody("lost", other.EndpointID), "If-Match", `"1"`)
	wantFields(t, wantProblem(t, r, http.StatusConflict), "name")

	// The endpoint and the credential are still used by the monitor.
	r = call(t, srv, http.MethodDelete, "/v1/endpoints/"+ep.ID, editor, nil)
	p = wantProblem(t, r, http.StatusConflict)
	if !strings.Contains(p.Detail, m.ID) {
		t.Errorf("409 detail %q does not name the monitor %s", p.Detail, m.ID)
	}
	r = call(t, srv, http.MethodDelete, "/v1/credentials/"+cred.ID, editor, nil)
	p = wantProblem(t, r, http.StatusConflict)
	if !strings.Contains(p.Detail, m.ID) {
		t.Errorf("409 detail %q does not name the monitor %s", p.Detail, m.ID)
	}

	// Once the monitor is gone, both can go.
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/monitors/"+m.ID, editor, nil), http.StatusNoContent)
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/endpoints/"+ep.ID, editor, nil), http.StatusNoContent)
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/credentials/"+cred.ID, editor, nil), http.StatusNoContent)
}

// TestMonitorDeleteTakesItsResults: deleting a monitor deletes its stored
// results, rollups and state with it (the kind's afterDelete), and a
// delete that went well logs no error. Mutation testing found both
// unpinned: skipping afterDelete, or logging on success, went unnoticed.
func TestMonitorDeleteTakesItsResults(t *testing.T) {
	var logs bytes.Buffer
	srv := acctest.NewServer(t, acctest.Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	m := createMonitor(t, srv, "goes")
	keep := createMonitor(t, srv, "stays")
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	if err := srv.Store.WriteResults(ctx, []api.ProbeResult{
		{MonitorID: m.ID, Time: now.Add(-time.Minute), Outcome: api.OutcomeUp, Attempts: 1},
		{MonitorID: keep.ID, Time: now.Add(-time.Minute), Outcome: api.OutcomeDown, Attempts: 1},
	}, nil); err != nil {
		t.Fatal(err)
	}
	count := func(id string) (results, probes int, state bool) {
		t.Helper()
		rs, _, err := srv.Store.ListResults(ctx, id, store.ResultQuery{})
		if err != nil {
			t.Fatal(err)
		}
		roll, st, err := srv.Store.MonitorStatus(ctx, id, now.Add(-time.Hour), now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return len(rs), int(roll.Probes), st.LastCheckedAt != nil
	}
	if r, p, s := count(m.ID); r != 1 || p != 1 || !s {
		t.Fatalf("before the delete: %d results, %d probes in the rollups, state %v", r, p, s)
	}

	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/monitors/"+m.ID, srv.AdminToken, nil), http.StatusNoContent)
	if r, p, s := count(m.ID); r != 0 || p != 0 || s {
		t.Errorf("after the delete: %d results, %d probes in the rollups, state %v; want none", r, p, s)
	}
	if r, p, s := count(keep.ID); r != 1 || p != 1 || !s {
		t.Errorf("the other monitor: %d results, %d probes in the rollups, state %v; want its own", r, p, s)
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("a delete that went well logged an error:\n%s", logs.String())
	}
}
