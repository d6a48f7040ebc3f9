package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
)

var auditIDRe = regexp.MustCompile(`^aud_[0-9a-hjkmnp-tv-z]{26}$`)

func TestAuditTrail(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	editor, admin := srv.Tokens[api.RoleEditor], srv.AdminToken

	fake.Advance(time.Hour)
	e := createEndpoint(t, srv, editor, map[string]any{
		"name": "audited", "url": "https://a.example.com/", "description": "d", "tags": map[string]string{"env": "dev"},
	})
	other := createEndpoint(t, srv, editor, minimal("other"))

	fake.Advance(time.Hour)
	r := call(t, srv, http.MethodPut, "/v1/endpoints/"+e.ID, admin, map[string]any{
		"name": "audited", "url": "https://a.example.com/v2", "description": "d", "tags": map[string]string{"env": "prod"},
	}, "If-Match", `"1"`)
	wantStatus(t, r, http.StatusOK)

	// Refused changes write no event: a duplicate name (409), a stale
	// revision (412), a duplicate rename, a bad body.
	wantProblem(t, call(t, srv, http.MethodPost, "/v1/endpoints", editor, minimal("audited")), http.StatusConflict)
	wantProblem(t, call(t, srv, http.MethodPut, "/v1/endpoints/"+e.ID, editor, minimal("audited"), "If-Match", `"1"`), http.StatusPreconditionFailed)
	wantProblem(t, call(t, srv, http.MethodPut, "/v1/endpoints/"+other.ID, editor, minimal("audited")), http.StatusConflict)
	wantProblem(t, call(t, srv, http.MethodPost, "/v1/endpoints", editor, `{"name":"x"}`), http.StatusBadRequest)

	fake.Advance(time.Hour)
	r = call(t, srv, http.MethodPut, "/v1/endpoints/"+e.ID, editor, map[string]any{
		"name": "audited-2", "url": "https://a.example.com/v2", "description": "d", "owner": "ops",
		"tags": map[string]string{"env": "prod"}, "data_classification": "confidential",
	})
	wantStatus(t, r, http.StatusOK)

	fake.Advance(time.Hour)
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/endpoints/"+e.ID, editor, nil), http.StatusNoContent)

	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour).Truncate(time.Microsecond) }
	type want struct {
		actor, role, action string
		rev                 int64
		fields              []string
		time                time.Time
	}
	wants := []want{
		{"test-editor", "editor", "create", 1, []string{"name", "url", "description", "data_classification", "tags"}, at(1)},
		{"test-admin", "admin", "update", 2, []string{"url", "tags.env"}, at(2)},
		{"test-editor", "editor", "update", 3, []string{"name", "owner", "data_classification"}, at(3)},
		{"test-editor", "editor", "delete", 3, []string{}, at(4)},
	}
	evs := auditFor(t, srv, e.ID)
	if len(evs) != len(wants) {
		t.Fatalf("%d events for %s, want %d: %+v", len(evs), e.ID, len(wants), evs)
	}
	for i, w := range wants {
		ev := evs[i]
		if !auditIDRe.MatchString(ev.ID) {
			t.Errorf("event %d: id %q", i, ev.ID)
		}
		if ev.Actor != w.actor || ev.ActorRole != w.role || ev.Action != w.action || ev.ObjectKind != api.KindEndpoint ||
			ev.ObjectID != e.ID || ev.Revision != w.rev || !slices.Equal(ev.ChangedFields, w.fields) || !ev.Time.Equal(w.time) {
			t.Errorf("event %d = %+v\nwant %+v", i, ev, w)
		}
	}

	// The raw form of an event: exact members; a delete lists no fields
	// as [], not null.
	r = call(t, srv, http.MethodGet, "/v1/audit-events?object_id="+e.ID+"&limit=1&after="+cursorAfter(t, srv, e.ID, 3), srv.Tokens[api.RoleViewer], nil)
	wantStatus(t, r, http.StatusOK)
	var page struct {
		Items []map[string]any `json:"items"`
	}
	decode(t, r, &page)
	if len(page.Items) != 1 {
		t.Fatalf("one-event page: %s", r.Body)
	}
	if !strings.Contains(string(r.Body), `"changed_fields":[]`) || !strings.Contains(string(r.Body), `"time":"2026-03-01T14:00:00.123456Z"`) {
		t.Errorf("delete event raw: %s", r.Body)
	}
	var keys []string
	for k := range page.Items[0] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"action", "actor", "actor_role", "changed_fields", "changes", "id", "object_id", "object_kind", "revision", "time"}; !slices.Equal(keys, want) {
		t.Errorf("event members %q, want %q", keys, want)
	}

	// Filters.
	all := auditEvents(t, srv, nil)
	// 3 token events of the test setup + 4 of "audited" + 1 of "other".
	if len(all) != 8 {
		t.Fatalf("%d events in all, want 8: %+v", len(all), all)
	}
	count := func(q url.Values) []string {
		var out []string
		for _, ev := range auditEvents(t, srv, q) {
			out = append(out, ev.Action+":"+ev.ObjectKind+":"+ev.Actor)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"kind token", url.Values{"kind": {"token"}}, []string{"create:token:cli", "create:token:cli", "create:token:cli"}},
		{"kind endpoint", url.Values{"kind": {"endpoint"}}, []string{"create:endpoint:test-editor", "create:endpoint:test-editor",
			"update:endpoint:test-admin", "update:endpoint:test-editor", "delete:endpoint:test-editor"}},
		{"actor", url.Values{"actor": {"test-admin"}}, []string{"update:endpoint:test-admin"}},
		{"actor unknown", url.Values{"actor": {"nobody"}}, nil},
		{"object other", url.Values{"object_id": {other.ID}}, []string{"create:endpoint:test-editor"}},
		{"object and actor", url.Values{"object_id": {e.ID}, "actor": {"test-editor"}}, []string{"create:endpoint:test-editor",
			"update:endpoint:test-editor", "delete:endpoint:test-editor"}},
		// since is inclusive, to the microsecond.
		{"since exact", url.Values{"since": {"2026-03-01T12:00:00.123456Z"}}, []string{"update:endpoint:test-admin",
			"update:endpoint:test-editor", "delete:endpoint:test-editor"}},
		{"since a microsecond later", url.Values{"since": {"2026-03-01T12:00:00.123457Z"}}, []string{
			"update:endpoint:test-editor", "delete:endpoint:test-editor"}},
		{"since with an offset", url.Values{"since": {"2026-03-01T13:00:00+01:00"}}, []string{"update:endpoint:test-admin",
			"update:endpoint:test-editor", "delete:endpoint:test-editor"}},
		{"since and kind", url.Values{"since": {"2026-03-01T10:30:00Z"}, "kind": {"token"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := count(tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("events %q, want %q", got, tc.want)
			}
		})
	}

	// Cursor paging walks every event once, oldest first.
	var (
		paged []string
		sizes []int
		q     = url.Values{"limit": {"3"}}
	)
	for range 10 {
		r := call(t, srv, http.MethodGet, "/v1/audit-events?"+q.Encode(), srv.Tokens[api.RoleViewer], nil)
		wantStatus(t, r, http.StatusOK)
		var l auditList
		decode(t, r, &l)
		sizes = append(sizes, len(l.Items))
		for _, ev := range l.Items {
			paged = append(paged, ev.ID)
		}
		if l.NextCursor == "" {
			wantKeys(t, rawObject(t, r.Body), "items")
			break
		}
		q.Set("after", l.NextCursor)
	}
	var ids []string
	for i, ev := range all {
		ids = append(ids, ev.ID)
		if i > 0 && ev.Time.Before(all[i-1].Time) {
			t.Errorf("event %d is older than event %d", i, i-1)
		}
	}
	if !slices.Equal(sizes, []int{3, 3, 2}) || !slices.Equal(paged, ids) {
		t.Errorf("pages %v of %v, want [3 3 2] of %v", sizes, paged, ids)
	}
}

// cursorAfter returns the cursor that follows the n-th event of an object.
func cursorAfter(t *testing.T, srv *acctest.Server, objectID string, n int) string {
	t.Helper()
	r := call(t, srv, http.MethodGet, "/v1/audit-events?object_id="+objectID+"&limit="+strconv.Itoa(n), srv.Tokens[api.RoleViewer], nil)
	wantStatus(t, r, http.StatusOK)
	var l auditList
	decode(t, r, &l)
	if len(l.Items) != n || l.NextCursor == "" {
		t.Fatalf("first %d events of %s: %s", n, objectID, r.Body)
	}
	return url.QueryEscape(l.NextCursor)
}

// TestAuditUnknownKindRefused: a kind filter that no event can have is the
// caller's mistake (a typo would otherwise list nothing, silently), so it
// gets 400 on kind naming the kinds there are.
func TestAuditUnknownKindRefused(t *testing.T) {
	srv := acctest.NewServer(t)
	r := call(t, srv, http.MethodGet, "/v1/audit-events?kind=nonsense", srv.Tokens[api.RoleViewer], nil)
	p := wantProblem(t, r, http.StatusBadRequest)
	wantFields(t, p, "kind")
	if want := "must be one of endpoint, credential, monitor, notification_channel, alert_threshold, retention_policy, token, encryption_key, erasure_request"; len(p.Errors) == 1 && p.Errors[0].Message != want {
		t.Errorf("message = %q, want %q", p.Errors[0].Message, want)
	}
	for _, k := range api.AuditKinds {
		wantStatus(t, call(t, srv, http.MethodGet, "/v1/audit-events?kind="+k, srv.Tokens[api.RoleViewer], nil), http.StatusOK)
	}
}
