package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/server"
)

// target is what one request of the matrix needs: its path and body, and
// the status an allowed role gets.
type target struct {
	path   string
	body   any
	wantOK int
	// header holds extra request header name/value pairs (If-Match).
	header []string
	// check, when set, runs after the request: allowed tells whether the
	// role was allowed, so that a refused request can be shown to have
	// changed nothing.
	check func(t *testing.T, allowed bool)
}

// route is what the matrix knows of one API route: the least role it
// should need, which the server's table must agree with.
type route struct {
	need string
	// prepare makes a fresh target (a real object, so that a refusal is
	// never a 404 in disguise).
	prepare func(t *testing.T, srv *acctest.Server, seq string) target
}

// apiRoutes holds, for every authenticated route of the server's table
// ("METHOD /path"), the role it should need and how to exercise it.
var apiRoutes = map[string]route{
	"GET /v1/endpoints": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		return target{path: "/v1/endpoints", wantOK: http.StatusOK}
	}},
	"POST /v1/endpoints": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		name := "matrix-post-" + seq
		return target{path: "/v1/endpoints", body: minimal(name), wantOK: http.StatusCreated,
			check: func(t *testing.T, allowed bool) {
				l, _ := listEndpoints(t, srv, "name="+name)
				if got, want := len(l.Items), map[bool]int{true: 1, false: 0}[allowed]; got != want {
					t.Errorf("%d endpoints named %s after the request, want %d", got, name, want)
				}
			}}
	}},
	"GET /v1/endpoints/{id}": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		e := createEndpoint(t, srv, srv.AdminToken, minimal("matrix-get-"+seq))
		return target{path: "/v1/endpoints/" + e.ID, wantOK: http.StatusOK}
	}},
	"PUT /v1/endpoints/{id}": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		e := createEndpoint(t, srv, srv.AdminToken, minimal("matrix-put-"+seq))
		body := minimal(e.Name)
		body["url"] = "https://changed.example.com/"
		return target{path: "/v1/endpoints/" + e.ID, body: body, wantOK: http.StatusOK,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/endpoints/"+e.ID, srv.AdminToken, nil)
				wantStatus(t, r, http.StatusOK)
				wantHeader(t, r, "ETag", map[bool]string{true: `"2"`, false: `"1"`}[allowed])
			}}
	}},
	"DELETE /v1/endpoints/{id}": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		e := createEndpoint(t, srv, srv.AdminToken, minimal("matrix-del-"+seq))
		return target{path: "/v1/endpoints/" + e.ID, wantOK: http.StatusNoContent,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/endpoints/"+e.ID, srv.AdminToken, nil)
				wantStatus(t, r, map[bool]int{true: http.StatusNotFound, false: http.StatusOK}[allowed])
			}}
	}},
	"GET /v1/credentials": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		createCredential(t, srv, srv.AdminToken, credBody("matrix-list-"+seq, api.CredBearer, "s-"+seq))
		return target{path: "/v1/credentials", wantOK: http.StatusOK}
	}},
	"POST /v1/credentials": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		name := "matrix-cred-post-" + seq
		return target{path: "/v1/credentials", body: credBody(name, api.CredBasic, "s-"+seq), wantOK: http.StatusCreated,
			check: func(t *testing.T, allowed bool) {
				l, _ := listCredentials(t, srv, "name="+name)
				if got, want := len(l.Items), map[bool]int{true: 1, false: 0}[allowed]; got != want {
					t.Errorf("%d credentials named %s after the request, want %d", got, name, want)
				}
			}}
	}},
	"GET /v1/credentials/{id}": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		c := createCredential(t, srv, srv.AdminToken, credBody("matrix-cred-get-"+seq, api.CredBearer, "s-"+seq))
		return target{path: "/v1/credentials/" + c.ID, wantOK: http.StatusOK}
	}},
	"PUT /v1/credentials/{id}": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		name := "matrix-cred-put-" + seq
		c := createCredential(t, srv, srv.AdminToken, credBody(name, api.CredBearer, "old-"+seq))
		// A new secret and a metadata change: a refused request must
		// change neither.
		body := with(credBody(name, api.CredBearer, "new-"+seq), "description", "changed")
		return target{path: "/v1/credentials/" + c.ID, body: body, wantOK: http.StatusOK,
			check: func(t *testing.T, allowed bool) {
				g, r := getCredential(t, srv, c.ID)
				wantHeader(t, r, "ETag", map[bool]string{true: `"2"`, false: `"1"`}[allowed])
				if want := map[bool]int64{true: 2, false: 1}[allowed]; g.SecretRevision != want {
					t.Errorf("secret_revision %d, want %d", g.SecretRevision, want)
				}
				if got, want := storedSecret(t, srv, c.ID), map[bool]string{true: "new-", false: "old-"}[allowed]+seq; got != want {
					t.Errorf("stored secret %q, want %q", got, want)
				}
			}}
	}},
	"DELETE /v1/credentials/{id}": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		c := createCredential(t, srv, srv.AdminToken, credBody("matrix-cred-del-"+seq, api.CredBearer, "s-"+seq))
		return target{path: "/v1/credentials/" + c.ID, wantOK: http.StatusNoContent,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/credentials/"+c.ID, srv.AdminToken, nil)
				wantStatus(t, r, map[bool]int{true: http.StatusNotFound, false: http.StatusOK}[allowed])
			}}
	}},
	"GET /v1/notification-channels": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		createChannel(t, srv, srv.AdminToken, chanBody("matrix-chan-list-"+seq, api.ChannelWebhook, "s-"+seq))
		return target{path: "/v1/notification-channels", wantOK: http.StatusOK}
	}},
	"POST /v1/notification-channels": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		name := "matrix-chan-post-" + seq
		return target{path: "/v1/notification-channels", body: chanBody(name, api.ChannelPagerDuty, "s-"+seq), wantOK: http.StatusCreated,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/notification-channels?name="+name, srv.AdminToken, nil)
				if got := strings.Contains(string(r.Body), `"name":"`+name+`"`); got != allowed {
					t.Errorf("channel %s exists = %v, want %v", name, got, allowed)
				}
			}}
	}},
	"GET /v1/notification-channels/{id}": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		c := createChannel(t, srv, srv.AdminToken, chanBody("matrix-chan-get-"+seq, api.ChannelSlack, "s-"+seq))
		return target{path: "/v1/notification-channels/" + c.ID, wantOK: http.StatusOK}
	}},
	"PUT /v1/notification-channels/{id}": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		name := "matrix-chan-put-" + seq
		c := createChannel(t, srv, srv.AdminToken, chanBody(name, api.ChannelWebhook, "old-"+seq))
		// A new secret and a setting change: a refused request must change
		// neither.
		body := with(chanBody(name, api.ChannelWebhook, "new-"+seq), "description", "changed")
		return target{path: "/v1/notification-channels/" + c.ID, body: body, wantOK: http.StatusOK,
			check: func(t *testing.T, allowed bool) {
				g, r := getChannel(t, srv, c.ID)
				wantHeader(t, r, "ETag", map[bool]string{true: `"2"`, false: `"1"`}[allowed])
				if want := map[bool]int64{true: 2, false: 1}[allowed]; g.SecretRevision != want {
					t.Errorf("secret_revision %d, want %d", g.SecretRevision, want)
				}
				if got, want := storedChannelSecret(t, srv, c.ID), map[bool]string{true: "new-", false: "old-"}[allowed]+seq; got != want {
					t.Errorf("stored secret %q, want %q", got, want)
				}
			}}
	}},
	"DELETE /v1/notification-channels/{id}": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		c := createChannel(t, srv, srv.AdminToken, chanBody("matrix-chan-del-"+seq, api.ChannelEmail, ""))
		return target{path: "/v1/notification-channels/" + c.ID, wantOK: http.StatusNoContent,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/notification-channels/"+c.ID, srv.AdminToken, nil)
				wantStatus(t, r, map[bool]int{true: http.StatusNotFound, false: http.StatusOK}[allowed])
			}}
	}},
	"POST /v1/notification-channels/{id}/test": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		rv := newHookReceiver(t, "s-"+seq, http.StatusNoContent)
		c := createChannel(t, srv, srv.AdminToken, with(chanBody("matrix-chan-test-"+seq, api.ChannelWebhook, "s-"+seq), "url", rv.URL))
		return target{path: "/v1/notification-channels/" + c.ID + "/test", wantOK: http.StatusOK,
			check: func(t *testing.T, allowed bool) {
				if got, want := rv.verified.Load(), map[bool]int64{true: 1, false: 0}[allowed]; got != want {
					t.Errorf("receiver got %d signed test messages, want %d", got, want)
				}
			}}
	}},
	"GET /v1/monitors": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		return target{path: "/v1/monitors", wantOK: http.StatusOK}
	}},
	"POST /v1/monitors": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		e := createEndpoint(t, srv, srv.AdminToken, minimal("matrix-mon-ep-"+seq))
		name := "matrix-mon-post-" + seq
		return target{path: "/v1/monitors", body: monitorBody(name, e.ID), wantOK: http.StatusCreated,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/monitors?name="+name, srv.AdminToken, nil)
				wantStatus(t, r, http.StatusOK)
				if got := strings.Contains(string(r.Body), `"name":"`+name+`"`); got != allowed {
					t.Errorf("monitor %s exists = %v, want %v", name, got, allowed)
				}
			}}
	}},
	"GET /v1/monitors/{id}": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		m := createMonitor(t, srv, "matrix-mon-get-"+seq)
		return target{path: "/v1/monitors/" + m.ID, wantOK: http.StatusOK}
	}},
	"PUT /v1/monitors/{id}": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		m := createMonitor(t, srv, "matrix-mon-put-"+seq)
		body := monitorBody(m.Name, m.EndpointID)
		body["interval"] = "30s"
		return target{path: "/v1/monitors/" + m.ID, body: body, wantOK: http.StatusOK,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/monitors/"+m.ID, srv.AdminToken, nil)
				wantHeader(t, r, "ETag", map[bool]string{true: `"2"`, false: `"1"`}[allowed])
			}}
	}},
	"DELETE /v1/monitors/{id}": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		m := createMonitor(t, srv, "matrix-mon-del-"+seq)
		return target{path: "/v1/monitors/" + m.ID, wantOK: http.StatusNoContent,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/monitors/"+m.ID, srv.AdminToken, nil)
				wantStatus(t, r, map[bool]int{true: http.StatusNotFound, false: http.StatusOK}[allowed])
			}}
	}},
	"GET /v1/monitors/{id}/status": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		m := createMonitor(t, srv, "matrix-mon-status-"+seq)
		return target{path: "/v1/monitors/" + m.ID + "/status?window=1h", wantOK: http.StatusOK}
	}},
	"GET /v1/monitors/{id}/results": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		m := createMonitor(t, srv, "matrix-mon-results-"+seq)
		return target{path: "/v1/monitors/" + m.ID + "/results", wantOK: http.StatusOK}
	}},
	"GET /v1/alert-thresholds": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		return target{path: "/v1/alert-thresholds", wantOK: http.StatusOK}
	}},
	"POST /v1/alert-thresholds": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		m := createMonitor(t, srv, "matrix-thr-mon-"+seq)
		name := "matrix-thr-post-" + seq
		return target{path: "/v1/alert-thresholds", body: thrBody(name, m.ID), wantOK: http.StatusCreated,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/alert-thresholds?name="+name, srv.AdminToken, nil)
				if got := strings.Contains(string(r.Body), `"name":"`+name+`"`); got != allowed {
					t.Errorf("threshold %s exists = %v, want %v", name, got, allowed)
				}
			}}
	}},
	"GET /v1/alert-thresholds/{id}": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		a := createThreshold(t, srv, srv.AdminToken, thrBody("matrix-thr-get-"+seq, createMonitor(t, srv, "matrix-thr-get-mon-"+seq).ID))
		return target{path: "/v1/alert-thresholds/" + a.ID, wantOK: http.StatusOK}
	}},
	"PUT /v1/alert-thresholds/{id}": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		m := createMonitor(t, srv, "matrix-thr-put-mon-"+seq)
		a := createThreshold(t, srv, srv.AdminToken, thrBody("matrix-thr-put-"+seq, m.ID))
		return target{path: "/v1/alert-thresholds/" + a.ID, body: with(thrBody(a.Name, m.ID), "critical", 98), wantOK: http.StatusOK,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/alert-thresholds/"+a.ID, srv.AdminToken, nil)
				wantHeader(t, r, "ETag", map[bool]string{true: `"2"`, false: `"1"`}[allowed])
			}}
	}},
	"DELETE /v1/alert-thresholds/{id}": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		a := createThreshold(t, srv, srv.AdminToken, thrBody("matrix-thr-del-"+seq, createMonitor(t, srv, "matrix-thr-del-mon-"+seq).ID))
		return target{path: "/v1/alert-thresholds/" + a.ID, wantOK: http.StatusNoContent,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/alert-thresholds/"+a.ID, srv.AdminToken, nil)
				wantStatus(t, r, map[bool]int{true: http.StatusNotFound, false: http.StatusOK}[allowed])
			}}
	}},
	"GET /v1/retention-policies": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		return target{path: "/v1/retention-policies", wantOK: http.StatusOK}
	}},
	"POST /v1/retention-policies": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		name := "matrix-ret-post-" + seq
		return target{path: "/v1/retention-policies", body: retBody(name), wantOK: http.StatusCreated,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/retention-policies?name="+name, srv.AdminToken, nil)
				if got := strings.Contains(string(r.Body), `"name":"`+name+`"`); got != allowed {
					t.Errorf("retention policy %s exists = %v, want %v", name, got, allowed)
				}
			}}
	}},
	"GET /v1/retention-policies/{id}": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		p := createRetention(t, srv, retBody("matrix-ret-get-"+seq))
		return target{path: "/v1/retention-policies/" + p.ID, wantOK: http.StatusOK}
	}},
	"PUT /v1/retention-policies/{id}": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		p := createRetention(t, srv, retBody("matrix-ret-put-"+seq))
		return target{path: "/v1/retention-policies/" + p.ID, body: with(retBody(p.Name), "max_age", "2h"), wantOK: http.StatusOK,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/retention-policies/"+p.ID, srv.AdminToken, nil)
				wantHeader(t, r, "ETag", map[bool]string{true: `"2"`, false: `"1"`}[allowed])
			}}
	}},
	"DELETE /v1/retention-policies/{id}": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		p := createRetention(t, srv, retBody("matrix-ret-del-"+seq))
		return target{path: "/v1/retention-policies/" + p.ID, wantOK: http.StatusNoContent,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/retention-policies/"+p.ID, srv.AdminToken, nil)
				wantStatus(t, r, map[bool]int{true: http.StatusNotFound, false: http.StatusOK}[allowed])
			}}
	}},
	"POST /v1/retention-policies/{id}/run": {api.RoleEditor, func(t *testing.T, srv *acctest.Server, seq string) target {
		p := createRetention(t, srv, retBody("matrix-ret-run-"+seq))
		return target{path: "/v1/retention-policies/" + p.ID + "/run", body: map[string]any{}, wantOK: http.StatusCreated,
			check: func(t *testing.T, allowed bool) {
				var runs api.List[api.RetentionRun]
				decode(t, call(t, srv, http.MethodGet, "/v1/retention-policies/"+p.ID+"/runs", srv.AdminToken, nil), &runs)
				if got := len(runs.Items) > 0; got != allowed {
					t.Errorf("policy %s has runs = %v, want %v", p.ID, got, allowed)
				}
			}}
	}},
	"GET /v1/retention-policies/{id}/runs": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		p := createRetention(t, srv, retBody("matrix-ret-runs-"+seq))
		return target{path: "/v1/retention-policies/" + p.ID + "/runs", wantOK: http.StatusOK}
	}},
	"GET /v1/compliance/retention": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		return target{path: "/v1/compliance/retention", wantOK: http.StatusOK}
	}},
	// Erasure is the admins': it destroys history for good, and an
	// actor's erasure rewrites the audit trail, which an editor could
	// otherwise turn on the trail of their own changes. The receipt is
	// theirs too: while pending it names whom it is about.
	"POST /v1/erasure-requests": {api.RoleAdmin, func(t *testing.T, srv *acctest.Server, seq string) target {
		count := func() int {
			var l api.List[api.AuditEvent]
			decode(t, call(t, srv, http.MethodGet, "/v1/audit-events?kind=erasure_request&limit=1000", srv.AdminToken, nil), &l)
			return len(l.Items)
		}
		before := count()
		return target{path: "/v1/erasure-requests", body: map[string]any{"actor": "matrix-erased-" + seq}, wantOK: http.StatusAccepted,
			check: func(t *testing.T, allowed bool) {
				// The request's own audit event, and none for a refusal
				// (the erasure's, once carried out, may follow).
				if got := count() - before; allowed && got < 1 || !allowed && got != 0 {
					t.Errorf("%d new erasure audit events, allowed = %v", got, allowed)
				}
			}}
	}},
	"GET /v1/erasure-requests/{id}": {api.RoleAdmin, func(t *testing.T, srv *acctest.Server, seq string) target {
		r := call(t, srv, http.MethodPost, "/v1/erasure-requests", srv.AdminToken, map[string]any{"actor": "matrix-get-erased-" + seq})
		wantStatus(t, r, http.StatusAccepted)
		var e api.ErasureRequest
		decode(t, r, &e)
		return target{path: "/v1/erasure-requests/" + e.ID, wantOK: http.StatusOK}
	}},
	"GET /v1/audit-events": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		return target{path: "/v1/audit-events", wantOK: http.StatusOK}
	}},
	"GET /v1/alerts": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		return target{path: "/v1/alerts", wantOK: http.StatusOK}
	}},
	"GET /v1/alert-events": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		return target{path: "/v1/alert-events", wantOK: http.StatusOK}
	}},
	"GET /v1/deliveries": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		return target{path: "/v1/deliveries", wantOK: http.StatusOK}
	}},
	"GET /v1/whoami": {api.RoleViewer, func(t *testing.T, srv *acctest.Server, seq string) target {
		return target{path: "/v1/whoami", wantOK: http.StatusOK}
	}},
	"GET /v1/tokens": {api.RoleAdmin, func(t *testing.T, srv *acctest.Server, seq string) target {
		return target{path: "/v1/tokens", wantOK: http.StatusOK}
	}},
	"POST /v1/tokens": {api.RoleAdmin, func(t *testing.T, srv *acctest.Server, seq string) target {
		name := "matrix-tok-" + seq
		return target{path: "/v1/tokens", body: map[string]string{"name": name, "role": api.RoleViewer}, wantOK: http.StatusCreated,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/tokens", srv.AdminToken, nil)
				wantStatus(t, r, http.StatusOK)
				if got := strings.Contains(string(r.Body), `"name":"`+name+`"`); got != allowed {
					t.Errorf("token %s exists = %v, want %v", name, got, allowed)
				}
			}}
	}},
	"DELETE /v1/tokens/{id}": {api.RoleAdmin, func(t *testing.T, srv *acctest.Server, seq string) target {
		tok, secret := storeToken(t, srv, nil, "matrix-victim-"+seq, api.RoleViewer, 0)
		return target{path: "/v1/tokens/" + tok.ID, wantOK: http.StatusNoContent,
			check: func(t *testing.T, allowed bool) {
				r := call(t, srv, http.MethodGet, "/v1/endpoints", secret, nil)
				wantStatus(t, r, map[bool]int{true: http.StatusUnauthorized, false: http.StatusOK}[allowed])
			}}
	}},
}

// TestRouteTableIsCovered makes the matrix fail when the server's route
// table gains a route, or changes its role, without the matrix following,
// and when the matrix keeps a route the table no longer has.
func TestRouteTableIsCovered(t *testing.T) {
	inTable := map[string]bool{}
	for _, rt := range server.Routes() {
		pattern := rt.Method + " " + rt.Pattern
		inTable[pattern] = true
		if want, ok := apiRoutes[pattern]; !ok {
			t.Errorf("route %s of the server's table is missing from the matrix", pattern)
		} else if rt.Role != want.need {
			t.Errorf("route %s needs %q in the server's table, %q in the matrix", pattern, rt.Role, want.need)
		}
	}
	for pattern := range apiRoutes {
		if !inTable[pattern] {
			t.Errorf("route %s of the matrix is not in the server's table", pattern)
		}
	}
}

func TestAuthMatrix(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake, RateLimit: 10000, RateBurst: 10000, AuthFailureLimit: 10000})

	_, revoked := storeToken(t, srv, fake, "revoked-one", api.RoleAdmin, 0)
	revokeInStore(t, srv, "revoked-one")
	_, expired := storeToken(t, srv, fake, "expiring-one", api.RoleAdmin, time.Hour)
	// Still valid before its expiry...
	wantStatus(t, call(t, srv, http.MethodGet, "/v1/endpoints", expired, nil), http.StatusOK)
	fake.Advance(time.Hour) // ...and expired at it.

	const (
		realm   = `Bearer realm="aiod"`
		invalid = `Bearer realm="aiod", error="invalid_token"`
	)
	unauth := []struct {
		name   string
		header string // Authorization; "" sends none
		www    string
	}{
		{"no token", "", realm},
		{"empty bearer", "Bearer ", realm},
		{"basic scheme", "Basic YWRtaW46YWRtaW4=", realm},
		{"bad token", "Bearer aio_this-is-not-a-token", invalid},
		{"revoked token", "Bearer " + revoked, invalid},
		{"expired token", "Bearer " + expired, invalid},
	}
	seq := 0
	for _, info := range server.Routes() {
		pattern := info.Method + " " + info.Pattern
		rt, ok := apiRoutes[pattern]
		if !ok {
			t.Errorf("route %s has no entry in the matrix", pattern)
			continue
		}
		t.Run(pattern, func(t *testing.T) {
			for _, u := range unauth {
				t.Run(u.name, func(t *testing.T) {
					seq++
					tg := rt.prepare(t, srv, fmt.Sprint(seq))
					hdr := tg.header
					if u.header != "" {
						hdr = append([]string{"Authorization", u.header}, hdr...)
					}
					r := call(t, srv, info.Method, tg.path, "", tg.body, hdr...)
					wantProblem(t, r, http.StatusUnauthorized)
					wantHeader(t, r, "WWW-Authenticate", u.www)
					if tg.check != nil {
						tg.check(t, false)
					}
				})
			}
			for _, role := range []string{api.RoleViewer, api.RoleEditor, api.RoleAdmin} {
				t.Run(role, func(t *testing.T) {
					seq++
					tg := rt.prepare(t, srv, fmt.Sprint(seq))
					allowed := rank(role) >= rank(rt.need)
					r := call(t, srv, info.Method, tg.path, srv.Tokens[role], tg.body, tg.header...)
					if allowed {
						wantStatus(t, r, tg.wantOK)
					} else {
						p := wantProblem(t, r, http.StatusForbidden)
						if !strings.Contains(p.Detail, role) || !strings.Contains(p.Detail, rt.need) {
							t.Errorf("403 detail %q names neither the role %s nor the needed %s", p.Detail, role, rt.need)
						}
						wantNoHeader(t, r, "WWW-Authenticate")
					}
					if tg.check != nil {
						tg.check(t, allowed)
					}
				})
			}
		})
	}

	// A refused role is refused before the object is looked up: a viewer
	// deleting what does not exist gets 403, not 404.
	r := call(t, srv, http.MethodDelete, "/v1/endpoints/ep_doesnotexist", srv.Tokens[api.RoleViewer], nil)
	wantProblem(t, r, http.StatusForbidden)
	r = call(t, srv, http.MethodDelete, "/v1/tokens/tok_doesnotexist", srv.Tokens[api.RoleEditor], nil)
	wantProblem(t, r, http.StatusForbidden)
	r = call(t, srv, http.MethodDelete, "/v1/credentials/cred_doesnotexist", srv.Tokens[api.RoleViewer], nil)
	wantProblem(t, r, http.StatusForbidden)
	r = call(t, srv, http.MethodPost, "/v1/credentials", srv.Tokens[api.RoleViewer], `{"not":"even valid"}`)
	wantProblem(t, r, http.StatusForbidden)
	// And an unknown token is refused before anything else: 401, not 404.
	r = call(t, srv, http.MethodGet, "/v1/endpoints/ep_doesnotexist", "aio_nope", nil)
	wantProblem(t, r, http.StatusUnauthorized)
}

// rank orders roles by power.
func rank(role string) int {
	switch role {
	case api.RoleAdmin:
		return 3
	case api.RoleEditor:
		return 2
	case api.RoleViewer:
		return 1
	}
	return 0
}

// The auth scheme of RFC 9110 is case-insensitive, and the token may be
// surrounded by extra spaces.
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	srv := acctest.NewServer(t)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		r := call(t, srv, http.MethodGet, "/v1/endpoints", "", nil, "Authorization", scheme+"  "+srv.Tokens[api.RoleViewer]+" ")
		wantStatus(t, r, http.StatusOK)
	}
	r := call(t, srv, http.MethodGet, "/v1/endpoints", "", nil, "Authorization", "Bearer"+srv.Tokens[api.RoleViewer])
	wantProblem(t, r, http.StatusUnauthorized)
}
