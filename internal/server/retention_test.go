package server_test

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
	"github.com/aio-platform/terraform-provider-aio/internal/server"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// retBody is a minimal retention policy: raw results deleted after 24 h.
func retBody(name string) map[string]any {
	return map[string]any{"name": name, "data_kind": "probe_results", "max_age": "24h", "action": "delete"}
}

func createRetention(t testing.TB, srv *acctest.Server, body any) api.RetentionPolicy {
	t.Helper()
	r := call(t, srv, http.MethodPost, "/v1/retention-policies", srv.AdminToken, body)
	wantStatus(t, r, http.StatusCreated)
	var p api.RetentionPolicy
	decode(t, r, &p)
	return p
}

func TestRetentionPolicyValidation(t *testing.T) {
	srv := acctest.NewServer(t)
	for _, tc := range []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"unknown data kind", with(retBody("v1"), "data_kind", "revisions_x"), []string{"data_kind"}},
		{"age below a minute", with(retBody("v2"), "max_age", "59s"), []string{"max_age"}},
		{"age above ten years", with(retBody("v3"), "max_age", "87601h"), []string{"max_age"}},
		{"not a duration", with(retBody("v4"), "max_age", "a week"), []string{"max_age"}},
		{"unknown action", with(retBody("v5"), "action", "archive"), []string{"action"}},
		{"fields with delete", with(retBody("v6"), "anonymize_fields", []string{"error"}), []string{"anonymize_fields"}},
		{"anonymize without fields", with(retBody("v7"), "action", "anonymize"), []string{"anonymize_fields"}},
		{"field of another kind", with(retBody("v8"), "action", "anonymize", "anonymize_fields", []string{"error", "actor"}),
			[]string{"anonymize_fields.1"}},
		{"repeated field", with(retBody("v9"), "action", "anonymize", "anonymize_fields", []string{"error", "error"}),
			[]string{"anonymize_fields.1"}},
		{"anonymize rollups", with(retBody("v10"), "data_kind", "minute_rollups", "action", "anonymize", "anonymize_fields", []string{"error"}),
			[]string{"action"}},
		{"two scopes", with(retBody("v11"), "endpoint_ids", []string{"ep_a"}, "data_classifications", []string{"pii"}), []string{"endpoint_ids"}},
		{"scoped audit events", with(retBody("v12"), "data_kind", "audit_events", "endpoint_tags", map[string]string{"team": "a"}),
			[]string{"data_kind"}},
		{"bad endpoint ID", with(retBody("v13"), "endpoint_ids", []string{"ep_a", "mon_b"}), []string{"endpoint_ids.1"}},
		{"bad classification", with(retBody("v14"), "data_classifications", []string{"secret"}), []string{"data_classifications.0"}},
		{"empty scope", with(retBody("v15"), "endpoint_ids", []string{}), []string{"endpoint_ids"}},
		{"empty tags scope", with(retBody("v16"), "endpoint_tags", map[string]string{}), []string{"endpoint_tags"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, call(t, srv, http.MethodPost, "/v1/retention-policies", srv.AdminToken, tc.body), http.StatusBadRequest)
			wantFields(t, p, tc.fields...)
		})
	}
	// Nothing was stored.
	var l api.List[api.RetentionPolicy]
	decode(t, call(t, srv, http.MethodGet, "/v1/retention-policies", srv.AdminToken, nil), &l)
	if len(l.Items) != 0 {
		t.Errorf("%d policies stored by refused requests", len(l.Items))
	}
}

func TestRetentionPolicyRunsThroughTheAPI(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	ep := createEndpoint(t, srv, srv.AdminToken, with(minimal("ret-ep"), "data_classification", "pii"))
	m := createMonitor(t, srv, "ret-mon")
	ctx := t.Context()
	e := "boom"
	var rs []api.ProbeResult
	for _, age := range []time.Duration{time.Minute, 2 * time.Hour, 3 * time.Hour} {
		rs = append(rs, api.ProbeResult{MonitorID: m.ID, Time: t0.Add(-age), Outcome: api.OutcomeDown, Attempts: 1, Error: &e})
	}
	if err := srv.Store.WriteResults(ctx, rs, nil); err != nil {
		t.Fatal(err)
	}
	p := createRetention(t, srv, with(retBody("ret-run"), "max_age", "1h", "endpoint_ids", []string{ep.ID, m.EndpointID}))
	if p.Revision != 1 || p.LastRunAt != nil || !p.IsEnabled() {
		t.Errorf("created policy = %+v", p)
	}
	// The same age written otherwise changes nothing.
	r := call(t, srv, http.MethodPut, "/v1/retention-policies/"+p.ID, srv.AdminToken,
		with(retBody("ret-run"), "max_age", "60m", "endpoint_ids", []string{m.EndpointID, ep.ID}))
	wantStatus(t, r, http.StatusOK)
	wantHeader(t, r, "ETag", `"1"`)

	path := "/v1/retention-policies/" + p.ID
	var dry api.RetentionRun
	r = call(t, srv, http.MethodPost, path+"/run", srv.Tokens[api.RoleEditor], map[string]any{"dry_run": true})
	wantStatus(t, r, http.StatusOK)
	decode(t, r, &dry)
	if !dry.DryRun || dry.Deleted != 2 || len(dry.Scopes) != 1 || dry.Scopes[0].EndpointID != m.EndpointID {
		t.Errorf("dry run = %+v, want 2 results of %s", dry, m.EndpointID)
	}
	var runs api.List[api.RetentionRun]
	decode(t, call(t, srv, http.MethodGet, path+"/runs", srv.Tokens[api.RoleViewer], nil), &runs)
	if len(runs.Items) != 0 {
		t.Errorf("a dry run was recorded: %+v", runs.Items)
	}
	var run api.RetentionRun
	r = call(t, srv, http.MethodPost, path+"/run", srv.Tokens[api.RoleEditor], nil)
	wantStatus(t, r, http.StatusCreated)
	decode(t, r, &run)
	if run.Deleted != 2 || run.DryRun || run.Trigger != api.TriggerAPI {
		t.Errorf("run = %+v", run)
	}
	decode(t, call(t, srv, http.MethodGet, path+"/runs", srv.Tokens[api.RoleViewer], nil), &runs)
	if len(runs.Items) != 1 || runs.Items[0].ID != run.ID {
		t.Errorf("runs = %+v, want the one run", runs.Items)
	}
	var got api.RetentionPolicy
	decode(t, call(t, srv, http.MethodGet, path, srv.AdminToken, nil), &got)
	if got.LastRunAt == nil || *got.LastRunDeleted != 2 || got.Revision != 1 {
		t.Errorf("policy after the run = %+v, want the run reported and no new revision", got)
	}
	// A PUT keeps the report: it is the engine's, not the request's.
	r = call(t, srv, http.MethodPut, path, srv.AdminToken, with(retBody("ret-run"), "max_age", "2h", "last_run_deleted", 99))
	wantStatus(t, r, http.StatusOK)
	decode(t, r, &got)
	if got.Revision != 2 || got.LastRunDeleted == nil || *got.LastRunDeleted != 2 {
		t.Errorf("policy after a PUT = %+v", got)
	}
	var evs api.List[api.AuditEvent]
	decode(t, call(t, srv, http.MethodGet, "/v1/audit-events?object_id="+p.ID, srv.AdminToken, nil), &evs)
	var counts map[string]int64
	for _, ev := range evs.Items {
		if ev.Action == api.ActionRun {
			counts = ev.Counts
			if ev.Actor != "test-editor" {
				t.Errorf("run audited as %q, want test-editor", ev.Actor)
			}
		}
	}
	if counts["deleted"] != 2 {
		t.Errorf("run audit counts = %v", counts)
	}
	wantProblem(t, call(t, srv, http.MethodPost, "/v1/retention-policies/ret_nope/run", srv.AdminToken, nil), http.StatusNotFound)
	wantProblem(t, call(t, srv, http.MethodPost, path+"/run", srv.AdminToken, map[string]any{"dry_run": "yes"}), http.StatusBadRequest)

	var c api.RetentionCompliance
	decode(t, call(t, srv, http.MethodGet, "/v1/compliance/retention", srv.Tokens[api.RoleViewer], nil), &c)
	if len(c.Items) < len(api.DataKinds) || !c.Compliant {
		t.Errorf("compliance = %+v", c)
	}
}

func TestErasureRequestsEndToEnd(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	createEndpoint(t, srv, editor, minimal("erase-ep-1"))
	createEndpoint(t, srv, editor, minimal("erase-ep-2"))
	m := createMonitor(t, srv, "erase-mon")
	e := "contains personal data"
	now := time.Now().UTC()
	if err := srv.Store.WriteResults(t.Context(), []api.ProbeResult{
		{MonitorID: m.ID, Time: now.Add(-time.Minute), Outcome: api.OutcomeDown, Attempts: 1, Error: &e},
	}, nil); err != nil {
		t.Fatal(err)
	}
	erase := func(body map[string]any) api.ErasureRequest {
		t.Helper()
		r := call(t, srv, http.MethodPost, "/v1/erasure-requests", srv.AdminToken, body)
		wantStatus(t, r, http.StatusAccepted)
		var req api.ErasureRequest
		decode(t, r, &req)
		wantHeader(t, r, "Location", "/v1/erasure-requests/"+req.ID)
		var got api.ErasureRequest
		deadline := time.Now().Add(10 * time.Second)
		for {
			decode(t, call(t, srv, http.MethodGet, "/v1/erasure-requests/"+req.ID, srv.AdminToken, nil), &got)
			if got.State == api.ErasureCompleted || got.State == api.ErasureFailed || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got.State != api.ErasureCompleted || got.CompletedAt == nil {
			t.Fatalf("erasure request = %+v", got)
		}
		return got
	}
	got := erase(map[string]any{"endpoint_id": m.EndpointID})
	if got.Deleted < 1 {
		t.Errorf("endpoint erasure deleted %d records", got.Deleted)
	}
	var results api.List[api.ProbeResult]
	decode(t, call(t, srv, http.MethodGet, "/v1/monitors/"+m.ID+"/results", srv.AdminToken, nil), &results)
	if len(results.Items) != 0 {
		t.Errorf("results left after erasure: %+v", results.Items)
	}
	// The editor's changes are in the trail under its name...
	var evs api.List[api.AuditEvent]
	decode(t, call(t, srv, http.MethodGet, "/v1/audit-events?actor=test-editor", srv.AdminToken, nil), &evs)
	n := len(evs.Items)
	if n < 2 {
		t.Fatalf("audit events of test-editor = %d", n)
	}
	// The editor wrote revisions too (the change history names who wrote
	// each): the erasure pseudonymizes those as well.
	var revs api.List[api.Revision]
	decode(t, call(t, srv, http.MethodGet, "/v1/monitors/"+m.ID+"/revisions", srv.AdminToken, nil), &revs)
	edited := 0
	for _, r := range revs.Items {
		if r.Actor == "test-editor" {
			edited++
		}
	}
	got = erase(map[string]any{"actor": "test-editor"})
	if got.Anonymized < int64(n+edited) || got.Actor == nil || !strings.HasPrefix(*got.Actor, api.PseudonymPrefix) {
		t.Errorf("actor erasure = %+v, want at least %d events and %d revisions under a pseudonym", got, n, edited)
	}
	// ...and then under one pseudonym, the same for all of them.
	decode(t, call(t, srv, http.MethodGet, "/v1/audit-events?actor=test-editor", srv.AdminToken, nil), &evs)
	if len(evs.Items) != 0 {
		t.Errorf("audit events still name test-editor: %d", len(evs.Items))
	}
	decode(t, call(t, srv, http.MethodGet, "/v1/audit-events?actor="+*got.Actor, srv.AdminToken, nil), &evs)
	if len(evs.Items) != n {
		t.Errorf("audit events under the pseudonym = %d, want %d", len(evs.Items), n)
	}
	var erasures api.List[api.AuditEvent]
	decode(t, call(t, srv, http.MethodGet, "/v1/audit-events?kind=erasure_request", srv.AdminToken, nil), &erasures)
	erased := 0
	for _, ev := range erasures.Items {
		if ev.Action == api.ActionErase {
			erased++
		}
	}
	if erased != 2 {
		t.Errorf("erase audit events = %d, want 2", erased)
	}
	p := wantProblem(t, call(t, srv, http.MethodPost, "/v1/erasure-requests", srv.AdminToken, map[string]any{"endpoint_id": "ep_x", "actor": "x"}),
		http.StatusBadRequest)
	wantFields(t, p, "actor")
	wantProblem(t, call(t, srv, http.MethodGet, "/v1/erasure-requests/era_nope", srv.AdminToken, nil), http.StatusNotFound)
}

// TestErasureLeavesNoNameInTheIdempotentAnswer: the answer kept for
// replays of an actor's erasure carries the pseudonym, never the name, and
// the database file holds the name nowhere once the erasure completed (not
// in the idempotency records either: before, the replay answered the name
// for a day). A replay still finds the request, and another body with the
// same key is still refused.
func TestErasureLeavesNoNameInTheIdempotentAnswer(t *testing.T) {
	srv := acctest.NewServer(t)
	const name = "erasable-person-7f3a"
	r := call(t, srv, http.MethodPost, "/v1/tokens", srv.AdminToken, map[string]any{"name": name, "role": api.RoleEditor})
	wantStatus(t, r, http.StatusCreated)
	var created server.TokenCreated
	decode(t, r, &created)
	tok := created.Secret
	createEndpoint(t, srv, tok, minimal("erasable-ep"))
	body := map[string]any{"actor": name}
	first := call(t, srv, http.MethodPost, "/v1/erasure-requests", srv.AdminToken, body, api.HeaderIdempotency, "erase-1")
	wantStatus(t, first, http.StatusAccepted)
	var req api.ErasureRequest
	decode(t, first, &req)
	var got api.ErasureRequest
	waitFor(t, 10*time.Second, "the erasure to complete", func() bool {
		decode(t, call(t, srv, http.MethodGet, "/v1/erasure-requests/"+req.ID, srv.AdminToken, nil), &got)
		return got.State == api.ErasureCompleted
	})
	if got.Actor == nil || !strings.HasPrefix(*got.Actor, api.PseudonymPrefix) {
		t.Fatalf("receipt %+v, want the pseudonym", got)
	}
	replay := call(t, srv, http.MethodPost, "/v1/erasure-requests", srv.AdminToken, body, api.HeaderIdempotency, "erase-1")
	wantStatus(t, replay, http.StatusAccepted)
	wantHeader(t, replay, api.HeaderReplayed, "true")
	var again api.ErasureRequest
	decode(t, replay, &again)
	if again.ID != req.ID || again.Actor == nil || *again.Actor != *got.Actor || strings.Contains(string(replay.Body), name) {
		t.Errorf("replay %s, want request %s under %s", replay.Body, req.ID, *got.Actor)
	}
	wantProblem(t, call(t, srv, http.MethodPost, "/v1/erasure-requests", srv.AdminToken, map[string]any{"actor": "someone-else"},
		api.HeaderIdempotency, "erase-1"), http.StatusUnprocessableEntity)
	// The fingerprint is taken over the pseudonym, not over the body as
	// sent: the same request spelled with other whitespace is the same
	// request (over the raw body, it was refused with 422).
	spaced := call(t, srv, http.MethodPost, "/v1/erasure-requests", srv.AdminToken, `{ "actor" : "`+name+`" }`,
		api.HeaderIdempotency, "erase-1")
	wantStatus(t, spaced, http.StatusAccepted)
	wantHeader(t, spaced, api.HeaderReplayed, "true")
	// The file: no row of the idempotency records names the actor.
	db, err := sql.Open("sqlite", "file:"+srv.DBPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM idempotency_keys WHERE CAST(body AS TEXT) LIKE ?`, "%"+name+"%").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d idempotency records hold the erased name", n)
	}
}

// TestRevisionsPolicy: the change history is a data kind a policy can
// govern, for every endpoint only (revisions belong to no endpoint), and
// its anonymizable field is the actor.
func TestRevisionsPolicy(t *testing.T) {
	srv := acctest.NewServer(t)
	p := createRetention(t, srv, map[string]any{"name": "history-90d", "data_kind": "revisions", "max_age": "2160h", "action": "delete"})
	if p.DataKind != api.DataRevisions {
		t.Errorf("data_kind = %q", p.DataKind)
	}
	createRetention(t, srv, map[string]any{"name": "history-actors", "data_kind": "revisions", "max_age": "720h",
		"action": "anonymize", "anonymize_fields": []string{"actor"}})
	for _, body := range []map[string]any{
		{"name": "scoped", "data_kind": "revisions", "max_age": "24h", "action": "delete", "endpoint_ids": []string{"ep_x"}},
		{"name": "bad-field", "data_kind": "revisions", "max_age": "24h", "action": "anonymize", "anonymize_fields": []string{"error"}},
	} {
		wantProblem(t, call(t, srv, http.MethodPost, "/v1/retention-policies", srv.AdminToken, body), http.StatusBadRequest)
	}
}

// TestRevisionsPolicyCannotRewriteRecentHistory: an editor's policy over
// the change history may not delete nor pseudonymize revisions and
// tombstones younger than the floor (the audit floor, or the history
// retention if shorter): before, a one-minute policy let an editor hide who
// changed an object out of band and make a deleted object unrestorable.
func TestRevisionsPolicyCannotRewriteRecentHistory(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	editor := srv.Tokens[api.RoleEditor]
	ep := createEndpoint(t, srv, editor, minimal("history-kept"))
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/endpoints/"+ep.ID, editor, with(minimal("history-kept"), "description", "changed out of band")), http.StatusOK)
	gone := createEndpoint(t, srv, editor, minimal("history-gone"))
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/endpoints/"+gone.ID, editor, nil), http.StatusNoContent)

	var policies []string
	for _, body := range []map[string]any{
		{"name": "history-1m", "data_kind": "revisions", "max_age": "1m", "action": "delete"},
		{"name": "history-actors-1m", "data_kind": "revisions", "max_age": "1m", "action": "anonymize", "anonymize_fields": []string{"actor"}},
	} {
		r := call(t, srv, http.MethodPost, "/v1/retention-policies", editor, body)
		wantStatus(t, r, http.StatusCreated)
		var p api.RetentionPolicy
		decode(t, r, &p)
		policies = append(policies, p.ID)
	}
	fake.Advance(10 * time.Minute)
	for _, id := range policies {
		var run api.RetentionRun
		r := call(t, srv, http.MethodPost, "/v1/retention-policies/"+id+"/run", editor, nil)
		wantStatus(t, r, http.StatusCreated)
		decode(t, r, &run)
		if run.Deleted != 0 || run.Anonymized != 0 || !run.FloorApplied || !run.Cutoff.Equal(fake.Now().Add(-retention.DefaultAuditFloor)) {
			t.Errorf("run of %s = %+v, want nothing changed and the floor applied", id, run)
		}
	}
	var revs api.List[api.Revision]
	decode(t, call(t, srv, http.MethodGet, "/v1/endpoints/"+ep.ID+"/revisions", srv.Tokens[api.RoleViewer], nil), &revs)
	if len(revs.Items) != 2 {
		t.Fatalf("%d revisions left, want 2", len(revs.Items))
	}
	for _, rv := range revs.Items {
		if rv.Actor != "test-editor" {
			t.Errorf("revision %d's actor = %q, want test-editor", rv.Revision, rv.Actor)
		}
	}
	wantStatus(t, call(t, srv, http.MethodPost, "/v1/deleted/endpoints/"+gone.ID+"/restore", srv.AdminToken, nil), http.StatusCreated)
}

// A server built without Config.Retention (the enforcer lives in the
// engine, which aiod wires in) answers 503 where the enforcer is needed,
// and still stores policies and erasure requests: those wait, pending,
// for an aiod that enforces.
func TestRetentionWithoutEnforcer(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "aio.db")
	st, err := store.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	srv := newServerWithoutKeyring(t, st, dbPath)
	p := createRetention(t, srv, retBody("no-enforcer"))
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/v1/retention-policies/" + p.ID + "/run"},
		{http.MethodGet, "/v1/compliance/retention"},
	} {
		pr := wantProblem(t, call(t, srv, tc.method, tc.path, srv.AdminToken, map[string]any{}), http.StatusServiceUnavailable)
		if !strings.Contains(pr.Detail, "does not enforce retention") {
			t.Errorf("%s %s: %+v", tc.method, tc.path, pr)
		}
	}
	r := call(t, srv, http.MethodPost, "/v1/erasure-requests", srv.AdminToken, map[string]any{"actor": "someone"})
	wantStatus(t, r, http.StatusAccepted)
	var req api.ErasureRequest
	decode(t, r, &req)
	got, err := st.GetErasureRequest(ctx, req.ID)
	if err != nil || got.State != api.ErasurePending {
		t.Errorf("erasure request %+v (%v), want stored and pending", got, err)
	}
}

// TestRetentionPolicyAuditNamesMaxAge: a created policy's audit event
// names max_age with the other fields it sets (compared with a policy that
// has none, whose empty age is no duration), and max_age compares by
// value on update: "1440m" is the same age as "24h".
func TestRetentionPolicyAuditNamesMaxAge(t *testing.T) {
	srv := acctest.NewServer(t)
	p := createRetention(t, srv, retBody("audited"))
	evs := auditFor(t, srv, p.ID)
	if got := evs[len(evs)-1].ChangedFields; !slices.Contains(got, "max_age") {
		t.Errorf("create's changed fields %q, want max_age among them", got)
	}
	path := "/v1/retention-policies/" + p.ID
	wantHeader(t, call(t, srv, http.MethodPut, path, srv.AdminToken, with(retBody("audited"), "max_age", "1440m")), "ETag", `"1"`)
}

// TestErasureRequestWakesTheEnforcer: an accepted erasure request wakes
// the retention enforcer, which carries it out at once, not at its next
// look for work (an hour away here). Two requests one after the other:
// the enforcer's first look, just after it starts, may find the first one
// by itself; once that is done it is idle, and only a wake brings it to
// the second.
func TestErasureRequestWakesTheEnforcer(t *testing.T) {
	srv := acctest.NewServer(t, acctest.Options{RetentionPoll: time.Hour})
	ep := createEndpoint(t, srv, srv.Tokens[api.RoleEditor], minimal("wake-ep"))
	for i := range 2 {
		r := call(t, srv, http.MethodPost, "/v1/erasure-requests", srv.AdminToken, map[string]any{"endpoint_id": ep.ID})
		wantStatus(t, r, http.StatusAccepted)
		var req api.ErasureRequest
		decode(t, r, &req)
		deadline := time.Now().Add(10 * time.Second)
		for req.State != api.ErasureCompleted && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			decode(t, call(t, srv, http.MethodGet, "/v1/erasure-requests/"+req.ID, srv.AdminToken, nil), &req)
		}
		if req.State != api.ErasureCompleted {
			t.Fatalf("erasure request %d still %s after 10 s: the enforcer was not woken", i+1, req.State)
		}
	}
}
