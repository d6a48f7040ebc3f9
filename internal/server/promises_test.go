package server_test

// The tests in this file each kill one of the one-line breaks that issue
// 14 found the rest of the suite blind to (scripts/mutation-killers.sh
// applies each break and checks that these tests fail): a monitor PUT that
// changes nothing bumping the revision, a monitor update writing no audit
// event, a monitor PUT ignoring a stale If-Match, and a handler ignoring a
// failed audit insert (the "same transaction" promise, so far proved only
// inside the store).

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// faultyStore is the real store with switchable faults, for the promises
// that only show when a store call fails. It wraps transactions so that a
// fault strikes inside the handler's write, as a real failure would.
type faultyStore struct {
	store.Store
	// failAudit makes every audit insert fail.
	failAudit atomic.Bool
	// writeErr, when set, is what every Write fails with before it starts.
	writeErr atomic.Pointer[error]
}

var errAuditBroken = errors.New("audit insert broken by the test")

func (f *faultyStore) Write(ctx context.Context, fn func(tx store.Tx) error) error {
	if e := f.writeErr.Load(); e != nil {
		return *e
	}
	return f.Store.Write(ctx, func(tx store.Tx) error { return fn(faultyTx{Tx: tx, f: f}) })
}

// faultyTx fails audit inserts while its store says so.
type faultyTx struct {
	store.Tx
	f *faultyStore
}

func (t faultyTx) InsertAuditEvent(ctx context.Context, ev api.AuditEvent) error {
	if t.f.failAudit.Load() {
		return errAuditBroken
	}
	return t.Tx.InsertAuditEvent(ctx, ev)
}

// newFaultyServer starts an aiod whose server uses a faultyStore.
func newFaultyServer(t *testing.T, opts acctest.Options) (*acctest.Server, *faultyStore) {
	t.Helper()
	var fs *faultyStore
	opts.WrapStore = func(st store.Store) store.Store {
		fs = &faultyStore{Store: st}
		return fs
	}
	return acctest.NewServer(t, opts), fs
}

// TestMonitorNoOpPutKeepsRevision: a PUT of exactly the stored monitor,
// later on the clock, answers the stored monitor at revision 1 with its
// old updated_at, and writes no audit event; with and without If-Match.
func TestMonitorNoOpPutKeepsRevision(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	editor := srv.Tokens[api.RoleEditor]
	ep := createEndpoint(t, srv, editor, minimal("noop"))
	body := monitorBody("noop-health", ep.ID)
	r := call(t, srv, http.MethodPost, "/v1/monitors", editor, body)
	wantStatus(t, r, http.StatusCreated)
	var m api.Monitor
	decode(t, r, &m)

	for _, hdr := range [][]string{{"If-Match", `"1"`}, nil} {
		fake.Advance(time.Minute)
		r = call(t, srv, http.MethodPut, "/v1/monitors/"+m.ID, editor, body, hdr...)
		wantStatus(t, r, http.StatusOK)
		wantHeader(t, r, "ETag", `"1"`)
		var got api.Monitor
		decode(t, r, &got)
		if got.Revision != 1 || !got.UpdatedAt.Equal(m.UpdatedAt) {
			t.Errorf("no-op PUT (%q) answered revision %d updated %s, want 1 and %s", hdr, got.Revision, got.UpdatedAt, m.UpdatedAt)
		}
	}
	r = call(t, srv, http.MethodGet, "/v1/monitors/"+m.ID, editor, nil)
	var stored api.Monitor
	decode(t, r, &stored)
	if stored.Revision != 1 || !stored.UpdatedAt.Equal(m.UpdatedAt) {
		t.Errorf("after two no-op PUTs the monitor is at revision %d updated %s, want 1 and %s", stored.Revision, stored.UpdatedAt, m.UpdatedAt)
	}
	if evs := auditFor(t, srv, m.ID); len(evs) != 1 {
		t.Errorf("%d audit events after no-op PUTs, want only the create's: %+v", len(evs), evs)
	}
}

// TestMonitorUpdateIsAudited: every monitor update writes one audit event
// naming the actor, the new revision and the changed field.
func TestMonitorUpdateIsAudited(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	ep := createEndpoint(t, srv, editor, minimal("audited"))
	body := monitorBody("audited-health", ep.ID)
	r := call(t, srv, http.MethodPost, "/v1/monitors", editor, body)
	wantStatus(t, r, http.StatusCreated)
	var m api.Monitor
	decode(t, r, &m)

	for i, interval := range []string{"2m", "3m"} {
		body["interval"] = interval
		r = call(t, srv, http.MethodPut, "/v1/monitors/"+m.ID, editor, body)
		wantStatus(t, r, http.StatusOK)
		evs := auditFor(t, srv, m.ID)
		if len(evs) != i+2 {
			t.Fatalf("%d audit events after update %d, want %d: %+v", len(evs), i+1, i+2, evs)
		}
		ev := evs[len(evs)-1]
		if ev.Action != api.ActionUpdate || ev.ObjectKind != api.KindMonitor || ev.Revision != int64(i+2) ||
			ev.Actor != "test-editor" || !slices.Equal(ev.ChangedFields, []string{"interval"}) {
			t.Errorf("audit event of update %d = %+v, want update of the monitor at revision %d by test-editor changing interval", i+1, ev, i+2)
		}
	}
}

// TestMonitorPutRefusesStaleIfMatch: once a monitor moved on, a PUT with
// an older (or a future) revision is 412, changes nothing and is not
// audited; the current revision still works.
func TestMonitorPutRefusesStaleIfMatch(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	ep := createEndpoint(t, srv, editor, minimal("stale"))
	body := monitorBody("stale-health", ep.ID)
	r := call(t, srv, http.MethodPost, "/v1/monitors", editor, body)
	wantStatus(t, r, http.StatusCreated)
	var m api.Monitor
	decode(t, r, &m)
	body["interval"] = "2m"
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/monitors/"+m.ID, editor, body, "If-Match", `"1"`), http.StatusOK)

	body["interval"] = "5m"
	for _, stale := range []string{`"1"`, `"3"`} {
		wantProblem(t, call(t, srv, http.MethodPut, "/v1/monitors/"+m.ID, editor, body, "If-Match", stale), http.StatusPreconditionFailed)
	}
	r = call(t, srv, http.MethodGet, "/v1/monitors/"+m.ID, editor, nil)
	var got api.Monitor
	decode(t, r, &got)
	if got.Revision != 2 || got.Interval == nil || *got.Interval != "2m" {
		t.Errorf("after stale PUTs the monitor is at revision %d with interval %v, want 2 and 2m", got.Revision, got.Interval)
	}
	if evs := auditFor(t, srv, m.ID); len(evs) != 2 {
		t.Errorf("%d audit events, want 2 (create, the one update)", len(evs))
	}
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/monitors/"+m.ID, editor, body, "If-Match", `"2"`), http.StatusOK)
}

// TestFailedAuditInsertRollsBackTheChange: the change, its audit event and
// its idempotency record commit together. When the audit insert fails, a
// create, an update and a delete through the API each answer 500 and leave
// nothing behind: no object, no new revision, no idempotency record (so
// that the retry, once the fault is gone, really creates, exactly once).
func TestFailedAuditInsertRollsBackTheChange(t *testing.T) {
	srv, fs := newFaultyServer(t, acctest.Options{})
	editor := srv.Tokens[api.RoleEditor]
	ctx := context.Background()
	kept := createEndpoint(t, srv, editor, minimal("kept"))

	fs.failAudit.Store(true)
	r := call(t, srv, http.MethodPost, "/v1/endpoints", editor, minimal("lost"), api.HeaderIdempotency, "create-lost")
	p := wantProblem(t, r, http.StatusInternalServerError)
	if p.Detail != "internal error" {
		t.Errorf("500 detail = %q, want the cause kept out of the answer", p.Detail)
	}
	r = call(t, srv, http.MethodPost, "/v1/monitors", editor, monitorBody("lost-health", kept.ID))
	wantProblem(t, r, http.StatusInternalServerError)
	changed := minimal("kept")
	changed["url"] = "https://kept.example.com/changed"
	wantProblem(t, call(t, srv, http.MethodPut, "/v1/endpoints/"+kept.ID, editor, changed), http.StatusInternalServerError)
	wantProblem(t, call(t, srv, http.MethodDelete, "/v1/endpoints/"+kept.ID, editor, nil), http.StatusInternalServerError)

	// The real store holds exactly what it held before the fault.
	eps, _, err := srv.Store.ListEndpoints(ctx, store.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 1 || eps[0].ID != kept.ID || eps[0].Revision != 1 || eps[0].URL != kept.URL {
		t.Errorf("after failed audit inserts the endpoints are %+v, want only %s at revision 1", eps, kept.ID)
	}
	mons, _, err := srv.Store.ListMonitors(ctx, store.MonitorQuery{})
	if err != nil || len(mons) != 0 {
		t.Errorf("a monitor was stored without its audit event: %+v (%v)", mons, err)
	}
	fs.failAudit.Store(false)
	if evs := auditFor(t, srv, kept.ID); len(evs) != 1 {
		t.Errorf("%d audit events of %s, want only its create", len(evs), kept.ID)
	}

	// The retry with the same key is a new create, not a replay of a 500.
	r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, minimal("lost"), api.HeaderIdempotency, "create-lost")
	wantStatus(t, r, http.StatusCreated)
	wantNoHeader(t, r, api.HeaderReplayed)
	r = call(t, srv, http.MethodPost, "/v1/endpoints", editor, minimal("lost"), api.HeaderIdempotency, "create-lost")
	wantStatus(t, r, http.StatusCreated)
	wantHeader(t, r, api.HeaderReplayed, "true")
	if l, _ := listEndpoints(t, srv, "name=lost"); len(l.Items) != 1 {
		t.Errorf("%d endpoints named lost, want exactly 1", len(l.Items))
	}
}

// revisionFaultStore is the real store whose revision reads fail.
type revisionFaultStore struct{ store.Store }

var errRevisionRead = errors.New("revision read broken by the test")

func (revisionFaultStore) GetRevision(context.Context, string, int64) (api.Revision, error) {
	return api.Revision{}, errRevisionRead
}

// TestRevisionReadErrorIsNotA404: a store that fails to read a revision
// is a 500, not "has no revision" (a 404 would tell the client the
// revision is gone).
func TestRevisionReadErrorIsNotA404(t *testing.T) {
	srv := acctest.NewServer(t, acctest.Options{WrapStore: func(st store.Store) store.Store { return revisionFaultStore{Store: st} }})
	ep := createEndpoint(t, srv, srv.Tokens[api.RoleEditor], minimal("rev-fault"))
	r := call(t, srv, http.MethodGet, "/v1/endpoints/"+ep.ID+"/revisions/1", srv.Tokens[api.RoleViewer], nil)
	wantProblem(t, r, http.StatusInternalServerError)
}
