package store

// The store contract suite: every backend must pass every scenario here,
// and the kind scenarios of kinds_contract_test.go with them. TestContract
// (backends_test.go) runs it on every backend.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// t0 carries nanoseconds on purpose: the store keeps microseconds, so every
// expected time is t0 (or a time derived from it) truncated to microseconds.
var t0 = time.Date(2025, time.March, 14, 15, 9, 26, 535897932, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// us is what the store gives back for a time: the same instant in UTC,
// truncated to microseconds.
func us(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func usPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return new(us(*t))
}

type contractScenario struct {
	Name string
	Run  func(t *testing.T, s Store, open func(t *testing.T) Store)
}

// runContract runs every scenario of the store contract, each as a subtest
// against its own store. open must return a store on a new, empty database
// the first time it is called for a given t, and a new store on that same
// database when it is called again for the same t (the durability scenario
// closes the store and reopens it). open closes what it opens with
// t.Cleanup, and Close must be safe to call twice.
func runContract(t *testing.T, open func(t *testing.T) Store) {
	scenarios := []contractScenario{
		{Name: "WriteRollback", Run: testWriteRollback},
		{Name: "WriteReadsOwnWrites", Run: testWriteReadsOwnWrites},
		{Name: "AuditEvents", Run: testAuditEvents},
		{Name: "AuditEventsPaging", Run: testAuditEventsPaging},
		{Name: "Idempotency", Run: testIdempotency},
		{Name: "IdempotencyDeleteExpired", Run: testIdempotencyDeleteExpired},
		{Name: "Tokens", Run: testTokens},
		{Name: "TokensCountUsableAdmins", Run: testTokensCountUsableAdmins},
		{Name: "TokensRevoke", Run: testTokensRevoke},
		{Name: "ConcurrentWritesAndReads", Run: testConcurrentWritesAndReads},
		{Name: "Reopen", Run: testReopen},
		{Name: "Revisions", Run: testRevisions},
		{Name: "RevisionsPaging", Run: testRevisionsPaging},
		{Name: "Tombstones", Run: testTombstones},
		{Name: "RetentionDeleteRevisions", Run: testRetentionDeleteRevisions},
		{Name: "AuditChanges", Run: testAuditChanges},
		{Name: "Settings", Run: testSettings},
	}
	scenarios = append(scenarios, kindScenarios()...)
	for _, scenario := range scenarios {
		t.Run(scenario.Name, func(t *testing.T) {
			s := open(t)
			if err := s.Ping(t.Context()); err != nil {
				t.Fatalf("Ping on a new store: %v", err)
			}
			scenario.Run(t, s, open)
		})
	}
}

// ---- helpers ----

func write(t *testing.T, s Store, fn func(tx Tx) error) {
	t.Helper()
	if err := s.Write(t.Context(), fn); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// wantErr fails unless err is (or wraps) target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error should've been %v, got %v", what, target, err)
	}
}

// endpoint returns a minimal endpoint: every optional field nil.
func endpoint(id, name string) api.Endpoint {
	return api.Endpoint{
		Meta:               api.Meta{ID: id, Revision: 1, CreatedAt: t0, UpdatedAt: t0},
		Name:               name,
		URL:                "https://" + id + ".example.com/v1",
		DataClassification: api.ClassInternal,
	}
}

func tagged(e api.Endpoint, tags map[string]string) api.Endpoint {
	e.Tags = tags
	return e
}

// stored is what the store gives back for e.
func stored(e api.Endpoint) api.Endpoint {
	e.CreatedAt = us(e.CreatedAt)
	e.UpdatedAt = us(e.UpdatedAt)
	return e
}

func getEndpoint(t *testing.T, r Reader, id string) api.Endpoint {
	t.Helper()
	e, err := r.GetEndpoint(t.Context(), id)
	if err != nil {
		t.Fatalf("GetEndpoint(%q): %v", id, err)
	}
	return e
}

func checkEndpoint(t *testing.T, got, want api.Endpoint) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("endpoint %s:\ngot  %s\nwant %s", want.ID, dumpEndpoint(got), dumpEndpoint(want))
	}
}

// dumpEndpoint shows pointers by value and tells a nil map from an empty one.
func dumpEndpoint(e api.Endpoint) string {
	str := func(p *string) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprintf("%q", *p)
	}
	tags := "nil"
	if e.Tags != nil {
		tags = fmt.Sprintf("%v", e.Tags)
	}
	return fmt.Sprintf("{ID:%s Name:%q URL:%q APIVersion:%s Description:%s Owner:%s DataClassification:%q Tags:%s Revision:%d CreatedAt:%s (%s) UpdatedAt:%s (%s)}",
		e.ID, e.Name, e.URL, str(e.APIVersion), str(e.Description), str(e.Owner), e.DataClassification, tags, e.Revision,
		e.CreatedAt.Format(time.RFC3339Nano), e.CreatedAt.Location(), e.UpdatedAt.Format(time.RFC3339Nano), e.UpdatedAt.Location())
}

func endpointIDs(eps []api.Endpoint) []string {
	ids := []string{}
	for _, e := range eps {
		ids = append(ids, e.ID)
	}
	return ids
}

// listIDs lists every page of q and returns the IDs in order.
func listIDs(t *testing.T, r Reader, q ListQuery) []string {
	t.Helper()
	var ids []string
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatalf("ListEndpoints(%+v): cursor never ends", q)
		}
		eps, next, err := r.ListEndpoints(t.Context(), q)
		if err != nil {
			t.Fatalf("ListEndpoints(%+v): %v", q, err)
		}
		ids = append(ids, endpointIDs(eps)...)
		if next == "" {
			return ids
		}
		q.After = next
	}
}

func checkIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: IDs should've been %q, got %q", what, want, got)
	}
}

// ---- write transactions ----

func fullState(t *testing.T, s Store) (endpoints, events, tokens int) {
	t.Helper()
	endpoints = len(listIDs(t, s, ListQuery{}))
	evs, _, err := s.ListAuditEvents(t.Context(), AuditQuery{Limit: MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	toks, err := s.ListTokens(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return endpoints, len(evs), len(toks)
}

func testWriteRollback(t *testing.T, s Store, _ func(*testing.T) Store) {
	errBoom := errors.New("boom")
	key := IdempotencyKey{TokenID: "tok_1", Method: "POST", Path: "/v1/endpoints", Key: "k1"}

	// fn returns an error after several writes: none of them is stored.
	err := s.Write(t.Context(), func(tx Tx) error {
		ctx := t.Context()
		if err := tx.InsertEndpoint(ctx, tagged(endpoint("ep_1", "one"), map[string]string{"env": "prod"})); err != nil {
			return err
		}
		if err := tx.InsertAuditEvent(ctx, auditEvent("aud_1", at(0), "alice", api.KindEndpoint, "ep_1")); err != nil {
			return err
		}
		if err := tx.PutIdempotency(ctx, idemRecord(key, "fp", 201, at(0))); err != nil {
			return err
		}
		if err := tx.InsertToken(ctx, token("tok_1", "admin-1", api.RoleAdmin), "hash-1"); err != nil {
			return err
		}
		return fmt.Errorf("handler failed: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("Write should've returned fn's error, got %v", err)
	}
	checkRolledBack(t, s, key)

	// A store error part-way rolls back what came before it.
	endpointKind.put(t, s, endpoint("ep_taken", "taken"))
	err = s.Write(t.Context(), func(tx Tx) error {
		ctx := t.Context()
		if err := tx.InsertEndpoint(ctx, tagged(endpoint("ep_1", "one"), map[string]string{"env": "prod"})); err != nil {
			return err
		}
		if err := tx.InsertAuditEvent(ctx, auditEvent("aud_1", at(0), "alice", api.KindEndpoint, "ep_1")); err != nil {
			return err
		}
		return tx.InsertEndpoint(ctx, endpoint("ep_2", "taken"))
	})
	wantErr(t, "second insert", err, ErrConflict)
	checkRolledBack(t, s, key)

	// A panic in fn rolls back, and the writer is free again afterwards.
	func() {
		defer func() {
			if p := recover(); p != "kaboom" {
				t.Errorf("the panic should've reached the caller, got %v", p)
			}
		}()
		_ = s.Write(t.Context(), func(tx Tx) error {
			if err := tx.InsertEndpoint(t.Context(), endpoint("ep_1", "one")); err != nil {
				return err
			}
			panic("kaboom")
		})
	}()
	checkRolledBack(t, s, key)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.Write(ctx, func(tx Tx) error { return tx.InsertEndpoint(ctx, endpoint("ep_after", "after")) }); err != nil {
		t.Fatalf("Write after a rolled-back Write: %v", err)
	}
	checkIDs(t, "after all rollbacks", listIDs(t, s, ListQuery{}), []string{"ep_after", "ep_taken"})
}

func checkRolledBack(t *testing.T, s Store, key IdempotencyKey) {
	t.Helper()
	ctx := t.Context()
	_, err := s.GetEndpoint(ctx, "ep_1")
	wantErr(t, "rolled-back endpoint", err, ErrNotFound)
	checkIDs(t, "rolled-back tags", listIDs(t, s, ListQuery{Tags: []Tag{{"env", "prod"}}}), nil)
	evs, _, err := s.ListAuditEvents(ctx, AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 0 {
		t.Errorf("rolled-back audit events should've been gone, got %d", len(evs))
	}
	_, err = s.GetIdempotency(ctx, key, at(time.Minute))
	wantErr(t, "rolled-back idempotency record", err, ErrNotFound)
	_, err = s.GetTokenByHash(ctx, "hash-1")
	wantErr(t, "rolled-back token", err, ErrNotFound)
}

func testWriteReadsOwnWrites(t *testing.T, s Store, _ func(*testing.T) Store) {
	e := tagged(endpoint("ep_1", "one"), map[string]string{"env": "prod"})
	ev := auditEvent("aud_1", at(0), "alice", api.KindEndpoint, "ep_1")
	key := IdempotencyKey{TokenID: "tok_1", Method: "POST", Path: "/v1/endpoints", Key: "k1"}
	rec := idemRecord(key, "fp", 201, at(0))
	tok := token("tok_1", "admin-1", api.RoleAdmin)
	write(t, s, func(tx Tx) error {
		ctx := t.Context()
		if err := tx.InsertEndpoint(ctx, e); err != nil {
			return err
		}
		checkEndpoint(t, getEndpoint(t, tx, "ep_1"), stored(e))
		checkIDs(t, "tx list by tag", listIDs(t, tx, ListQuery{Tags: []Tag{{"env", "prod"}}}), []string{"ep_1"})
		// Not committed yet: the store's own reads do not see it.
		if _, err := s.GetEndpoint(ctx, "ep_1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("an uncommitted endpoint should've been invisible outside the transaction, got err %v", err)
		}

		if err := tx.InsertAuditEvent(ctx, ev); err != nil {
			return err
		}
		evs, _, err := tx.ListAuditEvents(ctx, AuditQuery{ObjectID: "ep_1"})
		if err != nil {
			return err
		}
		checkAuditIDs(t, "tx audit", evs, []string{"aud_1"})

		if err := tx.PutIdempotency(ctx, rec); err != nil {
			return err
		}
		got, err := tx.GetIdempotency(ctx, key, at(time.Minute))
		if err != nil {
			return fmt.Errorf("GetIdempotency in tx: %w", err)
		}
		checkIdem(t, got, rec)

		if err := tx.InsertToken(ctx, tok, "hash-1"); err != nil {
			return err
		}
		gotTok, err := tx.GetTokenByHash(ctx, "hash-1")
		if err != nil {
			return fmt.Errorf("GetTokenByHash in tx: %w", err)
		}
		checkToken(t, gotTok, tok)
		n, err := tx.CountUsableAdminTokens(ctx, at(0))
		if err != nil {
			return err
		}
		if n != 1 {
			t.Errorf("CountUsableAdminTokens in tx should've been 1, got %d", n)
		}
		return nil
	})
	checkEndpoint(t, getEndpoint(t, s, "ep_1"), stored(e))
	if n, evs, toks := fullState(t, s); n != 1 || evs != 1 || toks != 1 {
		t.Errorf("after commit: endpoints, events, tokens should've been 1, 1, 1, got %d, %d, %d", n, evs, toks)
	}
}

// ---- audit events ----

func auditEvent(id string, tm time.Time, actor, kind, objectID string) api.AuditEvent {
	return api.AuditEvent{
		ID: id, Time: tm, Actor: actor, ActorRole: api.RoleAdmin, Action: api.ActionUpdate,
		ObjectKind: kind, ObjectID: objectID, Revision: 1, ChangedFields: []string{"name"},
	}
}

func storedEvent(ev api.AuditEvent) api.AuditEvent {
	ev.Time = us(ev.Time)
	if ev.ChangedFields == nil {
		ev.ChangedFields = []string{}
	}
	if ev.Changes == nil {
		ev.Changes = []api.Change{}
	}
	return ev
}

func checkAuditIDs(t *testing.T, what string, evs []api.AuditEvent, want []string) {
	t.Helper()
	ids := []string{}
	for _, ev := range evs {
		ids = append(ids, ev.ID)
	}
	checkIDs(t, what, ids, want)
}

// auditFixture inserts five events whose IDs and times are both out of
// insertion order, so that results must come back by insertion order.
func auditFixture(t *testing.T, s Store) []api.AuditEvent {
	e1 := auditEvent("aud_c", at(3*time.Hour), "alice", api.KindEndpoint, "ep_1")
	e1.ChangedFields = []string{"name", "url"}
	e1.Revision = 3
	e2 := auditEvent("aud_a", at(time.Hour), "bob", api.KindEndpoint, "ep_2")
	e2.ChangedFields = nil
	e2.ActorRole = api.RoleEditor
	e2.Action = api.ActionCreate
	e3 := auditEvent("aud_e", at(2*time.Hour), "alice", api.KindToken, "tok_1")
	e3.ChangedFields = []string{}
	e3.Action = api.ActionRevoke
	e4 := auditEvent("aud_b", at(4*time.Hour), "bob", api.KindEndpoint, "ep_1")
	e4.ChangedFields = []string{"tags"}
	e4.Action = api.ActionDelete
	e4.Revision = 4
	e5 := auditEvent("aud_d", at(0), "cli", api.KindToken, "tok_2")
	e5.ActorRole = ""
	e5.ChangedFields = []string{"name", "role", "expires_at"}
	evs := []api.AuditEvent{e1, e2, e3, e4, e5}
	for _, ev := range evs {
		// One Write each, like the server does.
		write(t, s, func(tx Tx) error { return tx.InsertAuditEvent(t.Context(), ev) })
	}
	return evs
}

func testAuditEvents(t *testing.T, s Store, _ func(*testing.T) Store) {
	evs := auditFixture(t, s)

	all, next, err := s.ListAuditEvents(t.Context(), AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if next != "" {
		t.Errorf("next cursor should've been empty, got %q", next)
	}
	if len(all) != len(evs) {
		t.Fatalf("should've listed %d events, got %d", len(evs), len(all))
	}
	for i := range evs {
		if want := storedEvent(evs[i]); !reflect.DeepEqual(all[i], want) {
			t.Errorf("event %d:\ngot  %#v\nwant %#v", i, all[i], want)
		}
		if all[i].ChangedFields == nil {
			t.Errorf("event %s: ChangedFields should've been non-nil after reading", all[i].ID)
		}
	}

	for _, c := range []struct {
		name string
		q    AuditQuery
		want []string
	}{
		{"no filter", AuditQuery{}, []string{"aud_c", "aud_a", "aud_e", "aud_b", "aud_d"}},
		{"object_id=ep_1", AuditQuery{ObjectID: "ep_1"}, []string{"aud_c", "aud_b"}},
		{"object_id=tok_2", AuditQuery{ObjectID: "tok_2"}, []string{"aud_d"}},
		{"object_id=unknown", AuditQuery{ObjectID: "ep_9"}, nil},
		{"kind=token", AuditQuery{Kind: api.KindToken}, []string{"aud_e", "aud_d"}},
		{"kind=endpoint", AuditQuery{Kind: api.KindEndpoint}, []string{"aud_c", "aud_a", "aud_b"}},
		{"actor=alice", AuditQuery{Actor: "alice"}, []string{"aud_c", "aud_e"}},
		{"actor=bob", AuditQuery{Actor: "bob"}, []string{"aud_a", "aud_b"}},
		{"actor=Alice (exact)", AuditQuery{Actor: "Alice"}, nil},
		{"since=t0+2h (inclusive)", AuditQuery{Since: at(2 * time.Hour)}, []string{"aud_c", "aud_e", "aud_b"}},
		{"since=t0+2h+1µs", AuditQuery{Since: at(2*time.Hour + time.Microsecond)}, []string{"aud_c", "aud_b"}},
		{"since=t0 (inclusive)", AuditQuery{Since: at(0)}, []string{"aud_c", "aud_a", "aud_e", "aud_b", "aud_d"}},
		{"since=t0+4h (inclusive)", AuditQuery{Since: at(4 * time.Hour)}, []string{"aud_b"}},
		{"since=t0+5h", AuditQuery{Since: at(5 * time.Hour)}, nil},
		{"since in another zone", AuditQuery{Since: at(2 * time.Hour).In(time.FixedZone("X", -7*3600))}, []string{"aud_c", "aud_e", "aud_b"}},
		{"actor=bob kind=endpoint since=t0+2h", AuditQuery{Actor: "bob", Kind: api.KindEndpoint, Since: at(2 * time.Hour)}, []string{"aud_b"}},
		{"object_id=ep_1 actor=alice", AuditQuery{ObjectID: "ep_1", Actor: "alice"}, []string{"aud_c"}},
	} {
		got, next, err := s.ListAuditEvents(t.Context(), c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		checkAuditIDs(t, c.name, got, c.want)
		if next != "" {
			t.Errorf("%s: next cursor should've been empty, got %q", c.name, next)
		}
	}
}

func testAuditEventsPaging(t *testing.T, s Store, _ func(*testing.T) Store) {
	auditFixture(t, s)

	pages := func(q AuditQuery) [][]string {
		var out [][]string
		for range 10 {
			evs, next, err := s.ListAuditEvents(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, ev := range evs {
				ids = append(ids, ev.ID)
			}
			out = append(out, ids)
			if next == "" {
				return out
			}
			q.After = next
		}
		t.Fatalf("ListAuditEvents(%+v): cursor never ends", q)
		return nil
	}
	for _, c := range []struct {
		name string
		q    AuditQuery
		want [][]string
	}{
		{"limit 2", AuditQuery{Limit: 2}, [][]string{{"aud_c", "aud_a"}, {"aud_e", "aud_b"}, {"aud_d"}}},
		{"limit 5 (exact)", AuditQuery{Limit: 5}, [][]string{{"aud_c", "aud_a", "aud_e", "aud_b", "aud_d"}}},
		{"limit 1 kind=endpoint", AuditQuery{Limit: 1, Kind: api.KindEndpoint}, [][]string{{"aud_c"}, {"aud_a"}, {"aud_b"}}},
		{"limit 1 actor=alice", AuditQuery{Limit: 1, Actor: "alice"}, [][]string{{"aud_c"}, {"aud_e"}}},
		{"limit 2 since=t0+2h", AuditQuery{Limit: 2, Since: at(2 * time.Hour)}, [][]string{{"aud_c", "aud_e"}, {"aud_b"}}},
	} {
		if got := pages(c.q); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: pages should've been %q, got %q", c.name, c.want, got)
		}
	}

	// Events written after a page was read show up on the next page.
	first, next, err := s.ListAuditEvents(t.Context(), AuditQuery{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 5 || next != "" {
		t.Fatalf("should've listed 5 events and no cursor, got %d and %q", len(first), next)
	}
	write(t, s, func(tx Tx) error {
		return tx.InsertAuditEvent(t.Context(), auditEvent("aud_0", at(-time.Hour), "dave", api.KindEndpoint, "ep_3"))
	})
	got, _, err := s.ListAuditEvents(t.Context(), AuditQuery{Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	checkAuditIDs(t, "first page after another insert", got, []string{"aud_c", "aud_a", "aud_e", "aud_b"})
	if got := pages(AuditQuery{Limit: 4}); !reflect.DeepEqual(got, [][]string{{"aud_c", "aud_a", "aud_e", "aud_b"}, {"aud_d", "aud_0"}}) {
		t.Errorf("pages after another insert: got %q", got)
	}
}

// ---- idempotency ----

func idemRecord(k IdempotencyKey, fingerprint string, status int, created time.Time) IdempotencyRecord {
	return IdempotencyRecord{
		IdempotencyKey: k,
		Fingerprint:    fingerprint,
		Status:         status,
		Header:         map[string]string{"ETag": `"1"`, "Location": "/v1/endpoints/ep_1"},
		Body:           []byte("{\"id\":\"ep_1\",\"bin\":\"\x00\xff\"}\n"),
		CreatedAt:      created,
		ExpiresAt:      created.Add(24 * time.Hour),
	}
}

func checkIdem(t *testing.T, got, want IdempotencyRecord) {
	t.Helper()
	want.CreatedAt = us(want.CreatedAt)
	want.ExpiresAt = us(want.ExpiresAt)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("idempotency record:\ngot  %+v (body %q)\nwant %+v (body %q)", got, got.Body, want, want.Body)
	}
}

func putIdem(t *testing.T, s Store, recs ...IdempotencyRecord) {
	t.Helper()
	write(t, s, func(tx Tx) error {
		for _, rec := range recs {
			if err := tx.PutIdempotency(t.Context(), rec); err != nil {
				return err
			}
		}
		return nil
	})
}

func testIdempotency(t *testing.T, s Store, _ func(*testing.T) Store) {
	ctx := t.Context()
	k := IdempotencyKey{TokenID: "tok_1", Method: "POST", Path: "/v1/endpoints", Key: "6f1e0c1a"}
	rec := idemRecord(k, "fp-1", 201, t0)
	putIdem(t, s, rec)

	got, err := s.GetIdempotency(ctx, k, at(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	checkIdem(t, got, rec)
	// Expiry: valid up to the microsecond before expires_at, gone at it.
	if _, err := s.GetIdempotency(ctx, k, us(rec.ExpiresAt).Add(-time.Microsecond)); err != nil {
		t.Errorf("just before expiry the record should've been found, got %v", err)
	}
	_, err = s.GetIdempotency(ctx, k, us(rec.ExpiresAt))
	wantErr(t, "get at expires_at", err, ErrNotFound)
	_, err = s.GetIdempotency(ctx, k, rec.ExpiresAt.Add(time.Hour))
	wantErr(t, "get after expires_at", err, ErrNotFound)

	// The same key in another scope is another request.
	others := []IdempotencyKey{
		{TokenID: "tok_2", Method: k.Method, Path: k.Path, Key: k.Key},
		{TokenID: k.TokenID, Method: "PUT", Path: k.Path, Key: k.Key},
		{TokenID: k.TokenID, Method: k.Method, Path: "/v1/endpoints/ep_1", Key: k.Key},
		{TokenID: k.TokenID, Method: k.Method, Path: k.Path, Key: "6F1E0C1A"},
	}
	for _, o := range others {
		_, err := s.GetIdempotency(ctx, o, at(time.Hour))
		wantErr(t, fmt.Sprintf("get %+v before put", o), err, ErrNotFound)
	}
	var recs []IdempotencyRecord
	for i, o := range others {
		r := idemRecord(o, fmt.Sprintf("fp-other-%d", i), 200+i, at(time.Duration(i)*time.Minute))
		r.Header = map[string]string{"ETag": fmt.Sprintf(`"%d"`, i)}
		r.Body = []byte(fmt.Sprintf("body %d", i))
		recs = append(recs, r)
	}
	putIdem(t, s, recs...)
	for _, r := range recs {
		got, err := s.GetIdempotency(ctx, r.IdempotencyKey, at(time.Hour))
		if err != nil {
			t.Fatalf("get %+v: %v", r.IdempotencyKey, err)
		}
		checkIdem(t, got, r)
	}
	got, err = s.GetIdempotency(ctx, k, at(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	checkIdem(t, got, rec) // untouched by its neighbours

	// Once expired, the key is free: a new record replaces the old one.
	again := idemRecord(k, "fp-2", 200, at(25*time.Hour))
	again.Header = map[string]string{"ETag": `"2"`}
	again.Body = []byte(`{"id":"ep_2"}`)
	putIdem(t, s, again)
	got, err = s.GetIdempotency(ctx, k, at(26*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	checkIdem(t, got, again)
	_, err = s.GetIdempotency(ctx, k, again.ExpiresAt)
	wantErr(t, "get of the replacement at its expiry", err, ErrNotFound)

	// A record without headers or body.
	bare := IdempotencyRecord{
		IdempotencyKey: IdempotencyKey{TokenID: "tok_1", Method: "DELETE", Path: "/v1/endpoints/ep_1", Key: "k-del"},
		Fingerprint:    "fp-del", Status: 204, Header: map[string]string{},
		Body: []byte{}, CreatedAt: t0, ExpiresAt: at(24 * time.Hour),
	}
	putIdem(t, s, bare)
	got, err = s.GetIdempotency(ctx, bare.IdempotencyKey, at(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != 204 || got.Fingerprint != "fp-del" || len(got.Header) != 0 || len(got.Body) != 0 {
		t.Errorf("bare record: got %+v", got)
	}
}

func testIdempotencyDeleteExpired(t *testing.T, s Store, _ func(*testing.T) Store) {
	ctx := t.Context()
	key := func(k string) IdempotencyKey {
		return IdempotencyKey{TokenID: "tok_1", Method: "POST", Path: "/v1/endpoints", Key: k}
	}
	withExpiry := func(k string, exp time.Time) IdempotencyRecord {
		r := idemRecord(key(k), "fp-"+k, 201, t0)
		r.ExpiresAt = exp
		return r
	}
	now := at(2 * time.Hour)
	putIdem(t, s,
		withExpiry("long-ago", at(time.Hour)),
		withExpiry("just-before", now.Add(-time.Microsecond)),
		withExpiry("exactly-now", now),
		withExpiry("just-after", us(now).Add(time.Microsecond)),
		withExpiry("later", at(24*time.Hour)),
	)

	var n int64
	write(t, s, func(tx Tx) error {
		var err error
		n, err = tx.DeleteExpiredIdempotency(ctx, now)
		return err
	})
	if n != 3 {
		t.Errorf("DeleteExpiredIdempotency should've removed 3 records, removed %d", n)
	}
	// Removed ones are gone even when asked at a time they were valid.
	for _, k := range []string{"long-ago", "just-before", "exactly-now"} {
		_, err := s.GetIdempotency(ctx, key(k), t0)
		wantErr(t, "expired record "+k+" after cleanup", err, ErrNotFound)
	}
	for _, k := range []string{"just-after", "later"} {
		got, err := s.GetIdempotency(ctx, key(k), now)
		if err != nil {
			t.Errorf("record %s should've survived the cleanup: %v", k, err)
			continue
		}
		if got.Fingerprint != "fp-"+k {
			t.Errorf("record %s: fingerprint should've been %q, got %q", k, "fp-"+k, got.Fingerprint)
		}
	}
	write(t, s, func(tx Tx) error {
		var err error
		n, err = tx.DeleteExpiredIdempotency(ctx, now)
		return err
	})
	if n != 0 {
		t.Errorf("a second cleanup at the same time should've removed 0 records, removed %d", n)
	}
	write(t, s, func(tx Tx) error {
		var err error
		n, err = tx.DeleteExpiredIdempotency(ctx, at(48*time.Hour))
		return err
	})
	if n != 2 {
		t.Errorf("a cleanup after every expiry should've removed 2 records, removed %d", n)
	}
}

// ---- tokens ----

func token(id, name, role string) api.Token {
	return api.Token{ID: id, Name: name, Role: role, CreatedAt: t0}
}

func storedToken(tok api.Token) api.Token {
	tok.CreatedAt = us(tok.CreatedAt)
	tok.ExpiresAt = usPtr(tok.ExpiresAt)
	tok.RevokedAt = usPtr(tok.RevokedAt)
	return tok
}

func dumpToken(tok api.Token) string {
	ptr := func(p *time.Time) string {
		if p == nil {
			return "nil"
		}
		return p.Format(time.RFC3339Nano) + " (" + p.Location().String() + ")"
	}
	return fmt.Sprintf("{ID:%s Name:%q Role:%q ExpiresAt:%s RevokedAt:%s CreatedAt:%s (%s)}",
		tok.ID, tok.Name, tok.Role, ptr(tok.ExpiresAt), ptr(tok.RevokedAt), tok.CreatedAt.Format(time.RFC3339Nano), tok.CreatedAt.Location())
}

// checkToken compares got with what the store should give back for want.
func checkToken(t *testing.T, got, want api.Token) {
	t.Helper()
	want = storedToken(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("token %s:\ngot  %s\nwant %s", want.ID, dumpToken(got), dumpToken(want))
	}
}

func insertTokens(t *testing.T, s Store, toks map[string]api.Token) {
	t.Helper()
	hashes := slices.Sorted(maps.Keys(toks))
	write(t, s, func(tx Tx) error {
		for _, h := range hashes {
			if err := tx.InsertToken(t.Context(), toks[h], h); err != nil {
				return fmt.Errorf("insert %s: %w", toks[h].Name, err)
			}
		}
		return nil
	})
}

func testTokens(t *testing.T, s Store, _ func(*testing.T) Store) {
	ctx := t.Context()
	charlie := token("tok_1", "charlie", api.RoleAdmin)
	alpha := token("tok_2", "alpha", api.RoleEditor)
	alpha.ExpiresAt = new(at(30*24*time.Hour + 7*time.Nanosecond))
	alpha.CreatedAt = at(time.Second)
	bravo := token("tok_3", "bravo", api.RoleViewer)
	bravo.RevokedAt = new(at(time.Minute))
	write(t, s, func(tx Tx) error {
		for _, x := range []struct {
			tok  api.Token
			hash string
		}{{charlie, "hash-c"}, {alpha, "hash-a"}, {bravo, "hash-b"}} {
			if err := tx.InsertToken(ctx, x.tok, x.hash); err != nil {
				return err
			}
		}
		return nil
	})

	for hash, want := range map[string]api.Token{"hash-c": charlie, "hash-a": alpha, "hash-b": bravo} {
		got, err := s.GetTokenByHash(ctx, hash)
		if err != nil {
			t.Fatalf("GetTokenByHash(%q): %v", hash, err)
		}
		checkToken(t, got, want)
	}
	got, err := s.GetTokenByHash(ctx, "hash-c")
	if err != nil {
		t.Fatal(err)
	}
	if got.ExpiresAt != nil || got.RevokedAt != nil {
		t.Errorf("nil ExpiresAt and RevokedAt should've stayed nil, got %s", dumpToken(got))
	}
	_, err = s.GetTokenByHash(ctx, "hash-unknown")
	wantErr(t, "GetTokenByHash of an unknown hash", err, ErrNotFound)
	_, err = s.GetTokenByHash(ctx, "tok_1") // an ID is not a hash
	wantErr(t, "GetTokenByHash by ID", err, ErrNotFound)

	// A taken name is a conflict, and nothing of the refused token is stored.
	dup := token("tok_4", "alpha", api.RoleAdmin)
	err = s.Write(ctx, func(tx Tx) error { return tx.InsertToken(ctx, dup, "hash-dup") })
	wantErr(t, "insert of a taken token name", err, ErrConflict)
	_, err = s.GetTokenByHash(ctx, "hash-dup")
	wantErr(t, "the refused token", err, ErrNotFound)

	list, err := s.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("ListTokens should've returned 3 tokens, got %d", len(list))
	}
	for i, want := range []api.Token{alpha, bravo, charlie} {
		checkToken(t, list[i], want)
	}
}

func testTokensCountUsableAdmins(t *testing.T, s Store, _ func(*testing.T) Store) {
	ctx := t.Context()
	now := at(10 * 24 * time.Hour)
	count := func(now time.Time) int {
		t.Helper()
		n, err := s.CountUsableAdminTokens(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(now); n != 0 {
		t.Errorf("an empty store should've counted 0 usable admins, got %d", n)
	}

	withExpiry := func(tok api.Token, exp time.Time) api.Token { tok.ExpiresAt = &exp; return tok }
	withRevoked := func(tok api.Token, rev time.Time) api.Token { tok.RevokedAt = &rev; return tok }
	insertTokens(t, s, map[string]api.Token{
		"h1": token("tok_1", "admin-forever", api.RoleAdmin),
		"h2": withExpiry(token("tok_2", "admin-later", api.RoleAdmin), now.Add(time.Hour)),
		"h3": withExpiry(token("tok_3", "admin-just-after", api.RoleAdmin), us(now).Add(time.Microsecond)),
		"h4": withExpiry(token("tok_4", "admin-expires-now", api.RoleAdmin), now),
		"h5": withExpiry(token("tok_5", "admin-expired", api.RoleAdmin), now.Add(-time.Hour)),
		"h6": withRevoked(token("tok_6", "admin-revoked", api.RoleAdmin), at(time.Hour)),
		"h7": withRevoked(withExpiry(token("tok_7", "admin-revoked-later", api.RoleAdmin), now.Add(time.Hour)), at(time.Hour)),
		"h8": token("tok_8", "editor", api.RoleEditor),
		"h9": token("tok_9", "viewer", api.RoleViewer),
		"hA": token("tok_A", "Admin-role-case", "Admin"),
	})
	if n := count(now); n != 3 {
		t.Errorf("usable admins at now should've been 3 (forever, later, just-after), got %d", n)
	}
	if n := count(us(now).Add(time.Microsecond)); n != 2 {
		t.Errorf("usable admins 1µs later should've been 2 (forever, later), got %d", n)
	}
	if n := count(now.Add(-time.Hour)); n != 4 {
		t.Errorf("usable admins an hour earlier should've been 4, got %d", n)
	}
	if n := count(now.Add(time.Hour)); n != 1 {
		t.Errorf("usable admins an hour later should've been 1 (forever), got %d", n)
	}
	write(t, s, func(tx Tx) error {
		_, err := tx.RevokeToken(ctx, "admin-forever", now)
		return err
	})
	if n := count(now); n != 2 {
		t.Errorf("usable admins after a revoke should've been 2, got %d", n)
	}
}

func testTokensRevoke(t *testing.T, s Store, _ func(*testing.T) Store) {
	ctx := t.Context()
	one := token("tok_1", "one", api.RoleAdmin)
	two := token("tok_2", "two", api.RoleEditor)
	two.ExpiresAt = new(at(time.Hour))
	three := token("tok_3", "three", api.RoleViewer)
	insertTokens(t, s, map[string]api.Token{"h1": one, "h2": two, "h3": three})

	revoke := func(idOrName string, when time.Time) (api.Token, error) {
		var tok api.Token
		err := s.Write(ctx, func(tx Tx) error {
			var err error
			tok, err = tx.RevokeToken(ctx, idOrName, when)
			return err
		})
		return tok, err
	}

	// By ID.
	when1 := at(5*time.Minute + 333*time.Nanosecond)
	got, err := revoke("tok_1", when1)
	if err != nil {
		t.Fatal(err)
	}
	want := one
	want.RevokedAt = &when1
	checkToken(t, got, want)
	fromStore, err := s.GetTokenByHash(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	checkToken(t, fromStore, want)

	// By name.
	when2 := at(6 * time.Minute)
	got, err = revoke("two", when2)
	if err != nil {
		t.Fatal(err)
	}
	want2 := two
	want2.RevokedAt = &when2
	checkToken(t, got, want2)
	fromStore, err = s.GetTokenByHash(ctx, "h2")
	if err != nil {
		t.Fatal(err)
	}
	checkToken(t, fromStore, want2)

	// Others are untouched.
	fromStore, err = s.GetTokenByHash(ctx, "h3")
	if err != nil {
		t.Fatal(err)
	}
	checkToken(t, fromStore, three)

	// Unknown.
	_, err = revoke("tok_unknown", when2)
	wantErr(t, "revoke of an unknown ID", err, ErrNotFound)
	_, err = revoke("unknown-name", when2)
	wantErr(t, "revoke of an unknown name", err, ErrNotFound)

	// Revoking again never moves the original revocation time.
	_, _ = revoke("tok_1", at(time.Hour))
	fromStore, err = s.GetTokenByHash(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	checkToken(t, fromStore, want)
}

// ---- concurrency ----

func testConcurrentWritesAndReads(t *testing.T, s Store, _ func(*testing.T) Store) {
	const (
		writers = 8
		writes  = 25
		readers = 4
	)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	var (
		wg      sync.WaitGroup
		done    = make(chan struct{})
		errs    = make(chan error, writers*writes+readers*1000)
		reads   sync.WaitGroup
		want    []string
		nReads  [readers]int
		lastLen [readers]int
		// firstReads ends when every reader completed a read; the
		// writers hold their last write until then, so that each reader
		// is seen to get through while writes are still going on.
		firstReads sync.WaitGroup
		readersIn  = make(chan struct{})
	)
	firstReads.Add(readers)
	go func() { firstReads.Wait(); close(readersIn) }()
	for w := range writers {
		for i := range writes {
			want = append(want, fmt.Sprintf("ep_w%d_%02d", w, i))
		}
	}
	slices.Sort(want)

	for r := range readers {
		reads.Add(1)
		go func() {
			defer reads.Done()
			defer func() {
				// A reader that failed before its first read must not
				// keep the writers waiting; its error is reported.
				if nReads[r] == 0 {
					firstReads.Done()
				}
			}()
			for {
				select {
				case <-done:
					return
				default:
				}
				eps, _, err := s.ListEndpoints(ctx, ListQuery{Limit: MaxLimit})
				if err != nil {
					errs <- fmt.Errorf("reader %d: ListEndpoints: %w", r, err)
					return
				}
				// Committed writes never disappear.
				if len(eps) < lastLen[r] {
					errs <- fmt.Errorf("reader %d: listing shrank from %d to %d", r, lastLen[r], len(eps))
					return
				}
				lastLen[r] = len(eps)
				nReads[r]++
				if nReads[r] == 1 {
					firstReads.Done()
				}
				if len(eps) > 0 {
					if _, err := s.GetEndpoint(ctx, eps[len(eps)/2].ID); err != nil {
						errs <- fmt.Errorf("reader %d: GetEndpoint: %w", r, err)
						return
					}
				}
			}
		}()
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range writes {
				id := fmt.Sprintf("ep_w%d_%02d", w, i)
				if i == writes-1 {
					select {
					case <-readersIn:
					case <-ctx.Done():
						errs <- fmt.Errorf("writer %d: a reader never completed a read while the writes went on", w)
					}
				}
				err := s.Write(ctx, func(tx Tx) error {
					// Read before writing, as the server does (name
					// check, If-Match): a transaction that took only a
					// read lock at BEGIN would fail to upgrade it here.
					if _, _, err := tx.ListEndpoints(ctx, ListQuery{Name: "name-" + id}); err != nil {
						return err
					}
					e := tagged(endpoint(id, "name-"+id), map[string]string{"writer": fmt.Sprint(w)})
					if err := tx.InsertEndpoint(ctx, e); err != nil {
						return err
					}
					if _, err := tx.GetEndpoint(ctx, id); err != nil {
						return err
					}
					return tx.InsertAuditEvent(ctx, auditEvent("aud_"+id, t0, "writer", api.KindEndpoint, id))
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d, write %d: %w", w, i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	reads.Wait()
	close(errs)
	for err := range errs {
		if strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "busy") {
			t.Errorf("lock contention surfaced as an error: %v", err)
		} else {
			t.Error(err)
		}
	}

	checkIDs(t, "after concurrent writes", listIDs(t, s, ListQuery{Limit: 7}), want)
	for w := range writers {
		got := listIDs(t, s, ListQuery{Tags: []Tag{{"writer", fmt.Sprint(w)}}})
		if len(got) != writes {
			t.Errorf("writer %d: should've stored %d endpoints, got %d", w, writes, len(got))
		}
	}
	evs, _, err := s.ListAuditEvents(t.Context(), AuditQuery{Limit: MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != writers*writes {
		t.Errorf("should've stored %d audit events, got %d", writers*writes, len(evs))
	}
	for r, n := range nReads {
		if n == 0 {
			t.Errorf("reader %d never completed a read: reads wait behind writes", r)
		}
	}
}

// ---- durability ----

func testReopen(t *testing.T, s Store, open func(*testing.T) Store) {
	ctx := t.Context()
	e := api.Endpoint{
		Meta: api.Meta{ID: "ep_1", Revision: 3, CreatedAt: t0, UpdatedAt: at(time.Hour)}, Name: "durable", URL: "https://durable.example.com/",
		APIVersion: new("v1"), Description: new(""), DataClassification: api.ClassConfidential,
		Tags: map[string]string{"env": "prod"},
	}
	ev := auditEvent("aud_1", at(time.Hour), "alice", api.KindEndpoint, "ep_1")
	key := IdempotencyKey{TokenID: "tok_1", Method: "PUT", Path: "/v1/endpoints/ep_1", Key: "k"}
	rec := idemRecord(key, "fp", 200, at(time.Hour))
	tok := token("tok_1", "admin", api.RoleAdmin)
	write(t, s, func(tx Tx) error {
		if err := tx.InsertEndpoint(ctx, e); err != nil {
			return err
		}
		if err := tx.InsertAuditEvent(ctx, ev); err != nil {
			return err
		}
		if err := tx.PutIdempotency(ctx, rec); err != nil {
			return err
		}
		return tx.InsertToken(ctx, tok, "hash-1")
	})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	check := func(s Store, events []string, endpoints []string) {
		t.Helper()
		checkEndpoint(t, getEndpoint(t, s, "ep_1"), stored(e))
		checkIDs(t, "endpoints", listIDs(t, s, ListQuery{}), endpoints)
		checkIDs(t, "tag env=prod", listIDs(t, s, ListQuery{Tags: []Tag{{"env", "prod"}}}), []string{"ep_1"})
		evs, _, err := s.ListAuditEvents(ctx, AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		checkAuditIDs(t, "audit events", evs, events)
		if len(evs) > 0 && !reflect.DeepEqual(evs[0], storedEvent(ev)) {
			t.Errorf("audit event:\ngot  %#v\nwant %#v", evs[0], storedEvent(ev))
		}
		got, err := s.GetIdempotency(ctx, key, at(2*time.Hour))
		if err != nil {
			t.Fatalf("GetIdempotency: %v", err)
		}
		checkIdem(t, got, rec)
		gotTok, err := s.GetTokenByHash(ctx, "hash-1")
		if err != nil {
			t.Fatalf("GetTokenByHash: %v", err)
		}
		checkToken(t, gotTok, tok)
	}

	s2 := open(t)
	check(s2, []string{"aud_1"}, []string{"ep_1"})
	// The schema is whole: writes work, and unique names still conflict.
	write(t, s2, func(tx Tx) error {
		if err := tx.InsertEndpoint(ctx, endpoint("ep_2", "second")); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, auditEvent("aud_0", at(0), "bob", api.KindEndpoint, "ep_2"))
	})
	err := s2.Write(ctx, func(tx Tx) error { return tx.InsertEndpoint(ctx, endpoint("ep_3", "durable")) })
	wantErr(t, "insert of a taken name after reopen", err, ErrConflict)
	err = s2.Write(ctx, func(tx Tx) error { return tx.InsertToken(ctx, token("tok_2", "admin", api.RoleAdmin), "hash-2") })
	wantErr(t, "insert of a taken token name after reopen", err, ErrConflict)
	if err := s2.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// A third open: still everything, and audit order continues.
	s3 := open(t)
	check(s3, []string{"aud_1", "aud_0"}, []string{"ep_1", "ep_2"})
	if err := s3.Ping(ctx); err != nil {
		t.Errorf("Ping after reopen: %v", err)
	}
}

// ---- settings ----

// testSettings: a setting not stored is ErrNotFound; PutSetting stores a
// value and replaces it, without touching the other keys; a write that
// fails after PutSetting leaves the value it replaced.
func testSettings(t *testing.T, s Store, _ func(*testing.T) Store) {
	ctx := t.Context()
	_, err := s.GetSetting(ctx, "key_a")
	wantErr(t, "GetSetting of a key never stored", err, ErrNotFound)
	write(t, s, func(tx Tx) error {
		if err := tx.PutSetting(ctx, "key_a", []byte("one")); err != nil {
			return err
		}
		return tx.PutSetting(ctx, "key_b", []byte{0, 1, 2})
	})
	get := func(key, want string) {
		t.Helper()
		if v, err := s.GetSetting(ctx, key); err != nil || string(v) != want {
			t.Errorf("GetSetting(%s) = %q, %v; want %q", key, v, err, want)
		}
	}
	get("key_a", "one")
	get("key_b", "\x00\x01\x02")
	write(t, s, func(tx Tx) error { return tx.PutSetting(ctx, "key_a", []byte("two")) })
	get("key_a", "two")
	get("key_b", "\x00\x01\x02")
	err = s.Write(ctx, func(tx Tx) error {
		if err := tx.PutSetting(ctx, "key_a", []byte("three")); err != nil {
			return err
		}
		return errors.New("rolled back")
	})
	if err == nil {
		t.Fatal("a failing write should've failed")
	}
	get("key_a", "two")
}
