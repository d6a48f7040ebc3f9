package server_test

import (
	"bytes"
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
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/server"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// historyKind is one kind in the history tests: a create body and
// updates (nested fields included), with the exact paths each update
// changes, and the secret values its bodies carry.
type historyKind struct {
	kind string
	path string
	// versions returns the create body and the update bodies of an object
	// named name, and the secrets they carry.
	versions func(t *testing.T, srv *acctest.Server, name string) (bodies []map[string]any, secrets []string)
	// diffs are the changed paths of each update, in order.
	diffs [][]string
	// sensitive are the paths of each update whose values are withheld in
	// its audit event.
	sensitive [][]string
	// restorable tells whether a deleted object of the fixture can be
	// recreated from its tombstone (not one that held a secret).
	restorable bool
}

var historyKinds = []historyKind{
	{
		kind: api.KindEndpoint, path: "/v1/endpoints", restorable: true,
		versions: func(t *testing.T, srv *acctest.Server, name string) ([]map[string]any, []string) {
			v1 := with(minimal(name), "tags", map[string]string{"team": "a"})
			v2 := with(v1, "description", "payments API", "tags", map[string]string{"team": "b", "env": "prod"})
			v3 := with(v2, "url", "https://"+name+".example.com/v2", "tags", map[string]string{"team": "b"})
			return []map[string]any{v1, v2, v3}, nil
		},
		diffs:     [][]string{{"description", "tags.env", "tags.team"}, {"tags.env", "url"}},
		sensitive: [][]string{nil, nil},
	},
	{
		kind: api.KindCredential, path: "/v1/credentials",
		versions: func(t *testing.T, srv *acctest.Server, name string) ([]map[string]any, []string) {
			s1, s2 := newSecret(), newSecret()
			v1 := with(credBody(name, api.CredAPIKey, s1), "header", "x-api-key")
			v2 := with(v1, "secret", s2, "description", "rotated")
			v3 := with(v2, "allowed_hosts", []string{"*.example.com", "api.example.com"})
			delete(v3, "secret")
			return []map[string]any{v1, v2, v3}, []string{s1, s2}
		},
		diffs:     [][]string{{"description", "last_rotated_at", "secret_revision"}, {"allowed_hosts[1]"}},
		sensitive: [][]string{{"secret"}, nil},
	},
	{
		kind: api.KindMonitor, path: "/v1/monitors", restorable: true,
		versions: func(t *testing.T, srv *acctest.Server, name string) ([]map[string]any, []string) {
			e := createEndpoint(t, srv, srv.AdminToken, minimal(name+"-ep"))
			v1 := with(monitorBody(name, e.ID), "request", map[string]any{"headers": map[string]string{"accept": "application/json"}},
				"assertions", []map[string]any{{"source": "status_code", "comparison": "equals", "target": "200"}, {"source": "response_time", "comparison": "less_than", "target": "500ms"}})
			v2 := with(v1, "request", map[string]any{"headers": map[string]string{"accept": "text/plain"}},
				"assertions", []map[string]any{{"source": "status_code", "comparison": "equals", "target": "200"}, {"source": "response_time", "comparison": "less_than", "target": "800ms"}})
			v3 := with(v2, "interval", "30s", "tags", map[string]string{"team": "x"})
			return []map[string]any{v1, v2, v3}, nil
		},
		diffs:     [][]string{{"assertions[1].target", "request.headers.accept"}, {"interval", "tags"}},
		sensitive: [][]string{nil, nil},
	},
	{
		kind: api.KindChannel, path: "/v1/notification-channels",
		versions: func(t *testing.T, srv *acctest.Server, name string) ([]map[string]any, []string) {
			s1, s2 := newSecret(), newSecret()
			v1 := with(chanBody(name, api.ChannelWebhook, s1), "tags", map[string]string{"team": "a"})
			v2 := with(v1, "secret", s2, "url", "https://hooks.example.com/aio/v2")
			v3 := with(v2, "enabled", false)
			delete(v3, "secret")
			return []map[string]any{v1, v2, v3}, []string{s1, s2}
		},
		diffs:     [][]string{{"secret_revision", "url"}, {"enabled"}},
		sensitive: [][]string{{"secret"}, nil},
	},
	{
		kind: api.KindThreshold, path: "/v1/alert-thresholds", restorable: true,
		versions: func(t *testing.T, srv *acctest.Server, name string) ([]map[string]any, []string) {
			m := createMonitor(t, srv, name+"-mon")
			v1 := thrBody(name, m.ID)
			v2 := with(v1, "critical", 98.5, "tags", map[string]string{"sev": "page"})
			v3 := with(v2, "window", "2h")
			return []map[string]any{v1, v2, v3}, nil
		},
		diffs:     [][]string{{"critical", "tags"}, {"window"}},
		sensitive: [][]string{nil, nil},
	},
	{
		kind: api.KindRetention, path: "/v1/retention-policies", restorable: true,
		versions: func(t *testing.T, srv *acctest.Server, name string) ([]map[string]any, []string) {
			v1 := retBody(name)
			v2 := with(v1, "max_age", "12h", "tags", map[string]string{"team": "privacy"})
			v3 := with(v2, "action", "anonymize", "anonymize_fields", []string{"error", "body_excerpt"})
			return []map[string]any{v1, v2, v3}, nil
		},
		diffs:     [][]string{{"max_age", "tags"}, {"action", "anonymize_fields"}},
		sensitive: [][]string{nil, nil},
	},
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func changePaths(cs []api.Change) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Path)
	}
	return out
}

// member returns one member of a JSON object.
func member(t *testing.T, obj []byte, name string) json.RawMessage {
	t.Helper()
	return rawObject(t, obj)[name]
}

// TestHistoryEveryKind writes each kind through its life (create, updates
// of nested fields, delete) and checks its revisions, each snapshot, the
// diffs, the audit values and the tombstone exactly, and that no secret
// value is in any of them.
func TestHistoryEveryKind(t *testing.T) {
	srv := acctest.NewServer(t)
	editor, viewer := srv.Tokens[api.RoleEditor], srv.Tokens[api.RoleViewer]
	for _, hk := range historyKinds {
		t.Run(hk.kind, func(t *testing.T) {
			bodies, secrets := hk.versions(t, srv, "hist-"+strings.ReplaceAll(hk.kind, "_", "-"))
			var (
				answers [][]byte
				id      string
			)
			for i, b := range bodies {
				var r response
				if i == 0 {
					r = call(t, srv, http.MethodPost, hk.path, editor, b)
					wantStatus(t, r, http.StatusCreated)
					id = string(bytes.Trim(member(t, r.Body, "id"), `"`))
				} else {
					r = call(t, srv, http.MethodPut, hk.path+"/"+id, editor, b, "If-Match", fmt.Sprintf(`"%d"`, i))
					wantStatus(t, r, http.StatusOK)
				}
				answers = append(answers, r.Body)
			}
			var everything []byte
			read := func(path string, want int) response {
				t.Helper()
				r := call(t, srv, http.MethodGet, path, viewer, nil)
				wantStatus(t, r, want)
				everything = append(everything, r.Body...)
				return r
			}

			// The list, newest first, each snapshot what the write answered.
			var list api.List[api.Revision]
			decode(t, read(hk.path+"/"+id+"/revisions", http.StatusOK), &list)
			if got := len(list.Items); got != len(bodies) {
				t.Fatalf("%d revisions, want %d", got, len(bodies))
			}
			for i, v := range list.Items {
				n := int64(len(bodies) - i)
				wantAction := map[bool]string{true: api.ActionCreate, false: api.ActionUpdate}[n == 1]
				if v.Revision != n || v.ObjectID != id || v.ObjectKind != hk.kind || v.Actor != "test-editor" || v.ActorRole != api.RoleEditor || v.Action != wantAction {
					t.Errorf("revision %d: %+v", n, v)
				}
				if !jsonEqual(t, v.Object, answers[n-1]) {
					t.Errorf("snapshot of revision %d:\n%s\nwant what the write answered:\n%s", n, v.Object, answers[n-1])
				}
				var one api.Revision
				decode(t, read(fmt.Sprintf("%s/%s/revisions/%d", hk.path, id, n), http.StatusOK), &one)
				if !jsonEqual(t, one.Object, v.Object) || one.Revision != n {
					t.Errorf("GET revision %d = %+v", n, one)
				}
			}
			// Paging by one.
			var page api.List[api.Revision]
			decode(t, read(hk.path+"/"+id+"/revisions?limit=1", http.StatusOK), &page)
			if len(page.Items) != 1 || page.Items[0].Revision != 3 || page.NextCursor == "" {
				t.Errorf("first page of one: %+v", page)
			}
			decode(t, read(hk.path+"/"+id+"/revisions?limit=1&after="+page.NextCursor, http.StatusOK), &page)
			if len(page.Items) != 1 || page.Items[0].Revision != 2 {
				t.Errorf("second page of one: %+v", page)
			}

			// Diffs between neighbours: the exact paths, with the values
			// the snapshots hold.
			for i, want := range hk.diffs {
				from, to := i+1, i+2
				var d api.Diff
				decode(t, read(fmt.Sprintf("%s/%s/diff?from=%d&to=%d", hk.path, id, from, to), http.StatusOK), &d)
				if got := changePaths(d.Changes); !slices.Equal(got, want) {
					t.Errorf("diff %d→%d paths %q, want %q", from, to, got, want)
				}
				for _, c := range d.Changes {
					if c.Sensitive || c.Old == nil || c.New == nil || bytes.Equal(c.Old, c.New) {
						t.Errorf("diff %d→%d change %+v should carry two different values", from, to, c)
					}
				}
				// The reverse diff swaps old and new.
				var back api.Diff
				decode(t, read(fmt.Sprintf("%s/%s/diff?from=%d&to=%d", hk.path, id, to, from), http.StatusOK), &back)
				for j, c := range back.Changes {
					if j >= len(d.Changes) || !bytes.Equal(c.Old, d.Changes[j].New) || !bytes.Equal(c.New, d.Changes[j].Old) {
						t.Errorf("reverse diff change %+v does not mirror %+v", c, d.Changes)
					}
				}
			}
			// to defaults to the newest.
			var d api.Diff
			decode(t, read(fmt.Sprintf("%s/%s/diff?from=1", hk.path, id), http.StatusOK), &d)
			if d.To != 3 {
				t.Errorf("diff without to: %+v", d)
			}

			// The audit events carry the same paths with values, the secret
			// marked and withheld.
			events := auditEvents(t, srv, url.Values{"object_id": {id}})
			raw := read("/v1/audit-events?object_id="+id, http.StatusOK)
			if len(events) != len(bodies) {
				t.Fatalf("%d audit events, want %d", len(events), len(bodies))
			}
			for i, want := range hk.diffs {
				ev := events[i+1]
				var vals, withheld []string
				for _, c := range ev.Changes {
					if c.Sensitive {
						withheld = append(withheld, c.Path)
						if c.Old != nil || c.New != nil {
							t.Errorf("sensitive change %+v carries a value", c)
						}
						continue
					}
					vals = append(vals, c.Path)
				}
				if !slices.Equal(vals, want) || !slices.Equal(withheld, hk.sensitive[i]) {
					t.Errorf("audit event of revision %d: values at %q, withheld %q; want %q and %q", i+2, vals, withheld, want, hk.sensitive[i])
				}
			}
			if len(events[0].Changes) == 0 || events[0].Action != api.ActionCreate {
				t.Errorf("the create event carries no values: %+v", events[0])
			}

			// Delete: a tombstone with the last snapshot; the history stays
			// readable.
			wantStatus(t, call(t, srv, http.MethodDelete, hk.path+"/"+id, editor, nil), http.StatusNoContent)
			deleted := "/v1/deleted/" + hk.path[strings.LastIndex(hk.path, "/")+1:]
			var ts api.List[api.Tombstone]
			decode(t, read(deleted, http.StatusOK), &ts)
			var found *api.Tombstone
			for i := range ts.Items {
				if ts.Items[i].ObjectID == id {
					found = &ts.Items[i]
				}
			}
			if found == nil {
				t.Fatalf("no tombstone of %s in %+v", id, ts)
			}
			if found.Revision != 3 || found.ObjectKind != hk.kind || found.Actor != "test-editor" || !jsonEqual(t, found.Object, answers[2]) ||
				found.Name != bodies[0]["name"] {
				t.Errorf("tombstone %+v", found)
			}
			decode(t, read(hk.path+"/"+id+"/revisions", http.StatusOK), &list)
			if len(list.Items) != 3 {
				t.Errorf("revisions after delete: %d", len(list.Items))
			}

			findLeaks(t, hk.kind+" history", append(everything, raw.Body...), secrets)
			if len(secrets) > 0 {
				wantFound(t, hk.kind+" history", everything, `"path":"secret_revision"`)
			}
		})
	}
}

// TestHistoryRestore restores an old revision and a deleted object of
// every kind, with the rules of a write: If-Match, names, references,
// secrets.
func TestHistoryRestore(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	for _, hk := range historyKinds {
		t.Run(hk.kind, func(t *testing.T) {
			name := "rest-" + strings.ReplaceAll(hk.kind, "_", "-")
			bodies, secrets := hk.versions(t, srv, name)
			r := call(t, srv, http.MethodPost, hk.path, editor, bodies[0])
			wantStatus(t, r, http.StatusCreated)
			first := r.Body
			id := string(bytes.Trim(member(t, r.Body, "id"), `"`))
			for i, b := range bodies[1:] {
				wantStatus(t, call(t, srv, http.MethodPut, hk.path+"/"+id, editor, b, "If-Match", fmt.Sprintf(`"%d"`, i+1)), http.StatusOK)
			}
			restore := fmt.Sprintf("%s/%s/revisions/1/restore", hk.path, id)
			wantProblem(t, call(t, srv, http.MethodPost, restore, editor, nil), http.StatusPreconditionRequired)
			p := wantProblem(t, call(t, srv, http.MethodPost, restore, editor, nil, "If-Match", `"2"`), http.StatusPreconditionFailed)
			if !strings.Contains(p.Detail, "now at 3") {
				t.Errorf("412 detail %q", p.Detail)
			}
			wantProblem(t, call(t, srv, http.MethodPost, hk.path+"/"+id+"/revisions/9/restore", editor, nil, "If-Match", `"3"`), http.StatusNotFound)
			r = call(t, srv, http.MethodPost, restore, editor, nil, "If-Match", `"3"`)
			wantStatus(t, r, http.StatusOK)
			wantHeader(t, r, "ETag", `"4"`)
			// Revision 1's content at revision 4; a secret stays the current
			// one (secret_revision of revision 3), as no revision holds a
			// secret.
			got, want := rawObject(t, r.Body), rawObject(t, first)
			for _, f := range []string{"revision", "updated_at", "secret_revision", "last_rotated_at", "rotation_due_at"} {
				delete(got, f)
				delete(want, f)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("restored object\n%s\nwant revision 1's content\n%s", r.Body, first)
			}
			if len(secrets) > 0 {
				wantRaw(t, rawObject(t, r.Body), "secret_revision", `2`)
			}
			evs := auditEvents(t, srv, url.Values{"object_id": {id}})
			if last := evs[len(evs)-1]; last.Action != api.ActionRestore || last.Revision != 4 || len(last.Changes) == 0 {
				t.Errorf("restore audit event %+v", last)
			}
			// Restoring what the object already is changes nothing.
			r = call(t, srv, http.MethodPost, fmt.Sprintf("%s/%s/revisions/4/restore", hk.path, id), editor, nil, "If-Match", `"4"`)
			wantStatus(t, r, http.StatusOK)
			wantHeader(t, r, "ETag", `"4"`)

			// Deleted, then restored with the same ID at the next revision.
			wantStatus(t, call(t, srv, http.MethodDelete, hk.path+"/"+id, editor, nil), http.StatusNoContent)
			deleted := "/v1/deleted/" + hk.path[strings.LastIndex(hk.path, "/")+1:] + "/" + id + "/restore"
			if !hk.restorable {
				p := wantProblem(t, call(t, srv, http.MethodPost, deleted, editor, nil), http.StatusConflict)
				if !strings.Contains(p.Detail, "secret") {
					t.Errorf("409 detail %q does not say why", p.Detail)
				}
				wantStatus(t, call(t, srv, http.MethodGet, hk.path+"/"+id, editor, nil), http.StatusNotFound)
				return
			}
			// Name taken meanwhile: 409 on name.
			taken := call(t, srv, http.MethodPost, hk.path, editor, bodies[0])
			wantStatus(t, taken, http.StatusCreated)
			takenID := string(bytes.Trim(member(t, taken.Body, "id"), `"`))
			p = wantProblem(t, call(t, srv, http.MethodPost, deleted, editor, nil), http.StatusConflict)
			if !strings.Contains(p.Detail, "already taken") {
				t.Errorf("409 detail %q", p.Detail)
			}
			wantStatus(t, call(t, srv, http.MethodDelete, hk.path+"/"+takenID, editor, nil), http.StatusNoContent)
			r = call(t, srv, http.MethodPost, deleted, editor, nil)
			wantStatus(t, r, http.StatusCreated)
			wantHeader(t, r, "ETag", `"5"`)
			wantHeader(t, r, "Location", hk.path+"/"+id)
			g := call(t, srv, http.MethodGet, hk.path+"/"+id, editor, nil)
			wantStatus(t, g, http.StatusOK)
			if !jsonEqual(t, g.Body, r.Body) {
				t.Errorf("GET after restore %s, restore answered %s", g.Body, r.Body)
			}
			// The tombstone is gone; a second restore is 404.
			wantProblem(t, call(t, srv, http.MethodPost, deleted, editor, nil), http.StatusNotFound)
			var list api.List[api.Revision]
			decode(t, call(t, srv, http.MethodGet, hk.path+"/"+id+"/revisions", editor, nil), &list)
			if len(list.Items) != 5 || list.Items[0].Action != api.ActionRestore {
				t.Errorf("revisions after the restore of the deleted object: %+v", list.Items)
			}
		})
	}
}

// A monitor whose endpoint is gone cannot come back: the answer names the
// missing endpoint.
func TestHistoryRestoreDeletedMissingReference(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	m := createMonitor(t, srv, "orphan")
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/monitors/"+m.ID, editor, nil), http.StatusNoContent)
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/endpoints/"+m.EndpointID, editor, nil), http.StatusNoContent)
	r := call(t, srv, http.MethodPost, "/v1/deleted/monitors/"+m.ID+"/restore", editor, nil)
	if r.Status < 400 || r.Status >= 500 {
		t.Fatalf("restore of a monitor whose endpoint is gone: %s", r)
	}
	if !strings.Contains(string(r.Body), "endpoint_id") || !strings.Contains(string(r.Body), m.EndpointID) {
		t.Errorf("the answer does not name the missing endpoint: %s", r.Body)
	}
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/monitors/"+m.ID, editor, nil), http.StatusNotFound)
	// Restore the endpoint first, then the monitor comes back.
	wantStatus(t, call(t, srv, http.MethodPost, "/v1/deleted/endpoints/"+m.EndpointID+"/restore", editor, nil), http.StatusCreated)
	wantStatus(t, call(t, srv, http.MethodPost, "/v1/deleted/monitors/"+m.ID+"/restore", editor, nil), http.StatusCreated)
}

// Bad history requests: another kind's ID, unknown objects and revisions,
// bad revision numbers.
func TestHistoryBadRequests(t *testing.T) {
	srv := acctest.NewServer(t)
	viewer := srv.Tokens[api.RoleViewer]
	e := createEndpoint(t, srv, srv.AdminToken, minimal("bad-hist"))
	for _, c := range []struct {
		path   string
		status int
		field  string
	}{
		{"/v1/monitors/" + e.ID + "/revisions", http.StatusNotFound, ""},
		{"/v1/endpoints/ep_doesnotexist/revisions", http.StatusNotFound, ""},
		{"/v1/endpoints/" + e.ID + "/revisions/2", http.StatusNotFound, ""},
		{"/v1/endpoints/" + e.ID + "/revisions/0", http.StatusBadRequest, "n"},
		{"/v1/endpoints/" + e.ID + "/revisions/x", http.StatusBadRequest, "n"},
		{"/v1/endpoints/" + e.ID + "/revisions?after=eA", http.StatusBadRequest, "after"},
		{"/v1/endpoints/" + e.ID + "/diff", http.StatusBadRequest, "from"},
		{"/v1/endpoints/" + e.ID + "/diff?from=1&to=-1", http.StatusBadRequest, "to"},
		{"/v1/endpoints/" + e.ID + "/diff?from=1&to=7", http.StatusNotFound, ""},
		{"/v1/deleted/endpoints?after=bad", http.StatusBadRequest, "after"},
	} {
		p := wantProblem(t, call(t, srv, http.MethodGet, c.path, viewer, nil), c.status)
		if c.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != c.field) {
			t.Errorf("%s: errors %+v, want one on %q", c.path, p.Errors, c.field)
		}
	}
}

// historyObject makes an object of the kind at revision 2 through the API
// and returns its ID.
func historyObject(t *testing.T, srv *acctest.Server, hk historyKind, name string) string {
	t.Helper()
	bodies, _ := hk.versions(t, srv, name)
	r := call(t, srv, http.MethodPost, hk.path, srv.AdminToken, bodies[0])
	wantStatus(t, r, http.StatusCreated)
	id := string(bytes.Trim(member(t, r.Body, "id"), `"`))
	wantStatus(t, call(t, srv, http.MethodPut, hk.path+"/"+id, srv.AdminToken, bodies[1]), http.StatusOK)
	return id
}

// The history routes of every kind join the authorization matrix: viewers
// read revisions, diffs and tombstones (they read the objects), editors
// restore. A refused restore changes nothing.
func init() {
	for _, hk := range historyKinds {
		item := hk.path + "/{id}"
		seg := hk.path[strings.LastIndex(hk.path, "/")+1:]
		deleted := "/v1/deleted/" + seg
		name := func(what, seq string) string { return "matrix-" + seg + "-" + what + "-" + seq }
		apiRoutes["GET "+item+"/revisions"] = route{api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
			return target{path: hk.path + "/" + historyObject(t, srv, hk, name("revs", seq)) + "/revisions", wantOK: http.StatusOK}
		}}
		apiRoutes["GET "+item+"/revisions/{n}"] = route{api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
			return target{path: hk.path + "/" + historyObject(t, srv, hk, name("rev", seq)) + "/revisions/1", wantOK: http.StatusOK}
		}}
		apiRoutes["GET "+item+"/diff"] = route{api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
			return target{path: hk.path + "/" + historyObject(t, srv, hk, name("diff", seq)) + "/diff?from=1&to=2", wantOK: http.StatusOK}
		}}
		apiRoutes["POST "+item+"/revisions/{n}/restore"] = route{api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
			id := historyObject(t, srv, hk, name("restore", seq))
			return target{path: hk.path + "/" + id + "/revisions/1/restore", header: []string{"If-Match", `"2"`}, wantOK: http.StatusOK,
				check: func(t *testing.T, allowed bool) {
					r := call(t, srv, http.MethodGet, hk.path+"/"+id, srv.AdminToken, nil)
					wantHeader(t, r, "ETag", map[bool]string{true: `"3"`, false: `"2"`}[allowed])
				}}
		}}
		apiRoutes["GET "+deleted] = route{api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
			return target{path: deleted, wantOK: http.StatusOK}
		}}
		apiRoutes["POST "+deleted+"/{id}/restore"] = route{api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
			id := historyObject(t, srv, hk, name("undelete", seq))
			wantStatus(t, call(t, srv, http.MethodDelete, hk.path+"/"+id, srv.AdminToken, nil), http.StatusNoContent)
			// A kind whose fixture holds a secret is refused (409) for every
			// role allowed to try; the others come back.
			want := map[bool]int{true: http.StatusCreated, false: http.StatusConflict}[hk.restorable]
			return target{path: deleted + "/" + id + "/restore", wantOK: want,
				check: func(t *testing.T, allowed bool) {
					r := call(t, srv, http.MethodGet, hk.path+"/"+id, srv.AdminToken, nil)
					wantStatus(t, r, map[bool]int{true: http.StatusOK, false: http.StatusNotFound}[allowed && hk.restorable])
				}}
		}}
	}
}

// A restore keeps the current secret, so one that would send it somewhere
// new (a wider allowed_hosts) is refused as a PUT without the secret is:
// an editor cannot use an old revision to move a secret they do not hold.
func TestHistoryRestoreCannotMoveASecret(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	s1 := newSecret()
	body := with(credBody("moved", api.CredBearer, s1), "allowed_hosts", []string{"*.example.com"})
	c := createCredential(t, srv, editor, body)
	narrow := with(body, "allowed_hosts", []string{"api.example.com"})
	delete(narrow, "secret")
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/credentials/"+c.ID, editor, narrow), http.StatusOK)
	p := wantProblem(t, call(t, srv, http.MethodPost, "/v1/credentials/"+c.ID+"/revisions/1/restore", editor, nil, "If-Match", `"2"`), http.StatusBadRequest)
	if len(p.Errors) != 1 || p.Errors[0].Field != "secret" {
		t.Errorf("errors %+v, want one on secret", p.Errors)
	}
	g, _ := getCredential(t, srv, c.ID)
	if g.Revision != 2 || !slices.Equal(g.AllowedHosts, []string{"api.example.com"}) {
		t.Errorf("after the refused restore: %+v", g)
	}
	if got := storedSecret(t, srv, c.ID); got != s1 {
		t.Errorf("stored secret changed")
	}
}

// A deleted object past the history's retention is neither listed nor
// restorable, even before the retention pass prunes it.
func TestHistoryDeletedWithinRetention(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	editor := srv.Tokens[api.RoleEditor]
	old := createEndpoint(t, srv, editor, minimal("deleted-long-ago"))
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/endpoints/"+old.ID, editor, nil), http.StatusNoContent)
	fake.Advance(server.DefaultHistoryAge - time.Hour)
	recent := createEndpoint(t, srv, editor, minimal("deleted-lately"))
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/endpoints/"+recent.ID, editor, nil), http.StatusNoContent)
	listed := func() []string {
		var l api.List[api.Tombstone]
		decode(t, call(t, srv, http.MethodGet, "/v1/deleted/endpoints", editor, nil), &l)
		var ids []string
		for _, ts := range l.Items {
			ids = append(ids, ts.ObjectID)
		}
		slices.Sort(ids)
		return ids
	}
	both := []string{old.ID, recent.ID}
	slices.Sort(both)
	if got := listed(); !slices.Equal(got, both) {
		t.Errorf("deleted within retention: %v, want %v", got, both)
	}
	fake.Advance(2 * time.Hour) // The first delete is now 400 days and an hour old.
	if got := listed(); !slices.Equal(got, []string{recent.ID}) {
		t.Errorf("deleted within retention: %v, want only %s", got, recent.ID)
	}
	wantProblem(t, call(t, srv, http.MethodPost, "/v1/deleted/endpoints/"+old.ID+"/restore", editor, nil), http.StatusNotFound)
	wantStatus(t, call(t, srv, http.MethodPost, "/v1/deleted/endpoints/"+recent.ID+"/restore", editor, nil), http.StatusCreated)
}

// TestHistoryOfAnObjectFromBeforeHistory: an object stored before history
// was kept has no revisions, and its history is an empty list, live and
// once deleted (while its tombstone is kept); an ID never seen is a 404.
func TestHistoryOfAnObjectFromBeforeHistory(t *testing.T) {
	srv := acctest.NewServer(t)
	viewer := srv.Tokens[api.RoleViewer]
	base := time.Now().UTC().Truncate(time.Microsecond)
	id := ids.New(api.PrefixEndpoint, base)
	if err := srv.Store.Write(t.Context(), func(tx store.Tx) error {
		return tx.InsertEndpoint(t.Context(), api.Endpoint{Meta: api.Meta{ID: id, Revision: 1, CreatedAt: base, UpdatedAt: base},
			Name: "from-before-history", URL: "https://old.example.com", DataClassification: api.ClassInternal})
	}); err != nil {
		t.Fatal(err)
	}
	empty := func() {
		t.Helper()
		r := call(t, srv, http.MethodGet, "/v1/endpoints/"+id+"/revisions", viewer, nil)
		wantStatus(t, r, http.StatusOK)
		wantRaw(t, rawObject(t, r.Body), "items", `[]`)
	}
	empty()
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/endpoints/"+id, srv.Tokens[api.RoleEditor], nil), http.StatusNoContent)
	empty()
	never := ids.New(api.PrefixEndpoint, base.Add(time.Second))
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/endpoints/"+never+"/revisions", viewer, nil), http.StatusNotFound)
}
