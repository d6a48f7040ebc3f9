package store

// The kind scenarios of the store contract: one set of test functions that
// every object kind passes (round trip, not found, name conflicts, update,
// delete, the shared list filters and cursor paging), driven by a table of
// kind fixtures. runContract runs them for every kind on every backend. A
// new kind joins with one fixture; what only one kind does (credential
// sealing, a monitor's endpoint filter) keeps a scenario of its own.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// kindFixture is what the kind scenarios need to know of one kind: how to
// make its objects and which Store methods keep them.
type kindFixture[T any] struct {
	// name starts the names of the kind's scenarios.
	name string
	// prefix starts the IDs of the kind's objects.
	prefix string
	// minimal returns an object with every optional field nil, revision 1,
	// created and updated at t0.
	minimal func(id, name string) T
	// full returns an object with every field set, each to another value
	// than minimal's, so that an update from one to the other changes all.
	full func(id, name string) T
	// edges returns objects that round-trip the hard cases of the kind:
	// empty values next to nil ones, times in other zones and with
	// nanoseconds.
	edges func() []T
	// withTags returns v carrying tags; nil for a kind without tags.
	withTags func(v T, tags map[string]string) T
	// meta returns v's Meta, for revisions and timestamps.
	meta func(v *T) *api.Meta
	// stored returns what the store gives back for v.
	stored func(v T) T

	// The kind's methods of Reader and Tx, as method expressions.
	get    func(r Reader, ctx context.Context, id string) (T, error)
	list   func(r Reader, ctx context.Context, q ListQuery) ([]T, string, error)
	insert func(tx Tx, ctx context.Context, v T) error
	update func(tx Tx, ctx context.Context, v T) error
	delete func(tx Tx, ctx context.Context, id string) error
}

// kindScenarios returns the kind scenarios of the store contract for every
// kind. Each kind is turned into scenarios by scenariosOf, so that the test
// functions keep the kind's Go type.
func kindScenarios() []contractScenario {
	return slices.Concat(
		scenariosOf(endpointKind),
		scenariosOf(credentialKind),
		scenariosOf(monitorKind),
		scenariosOf(channelKind),
		scenariosOf(thresholdKind),
		scenariosOf(retentionKind),
		[]contractScenario{
			{Name: "MonitorFilterEndpoint", Run: testMonitorFilterEndpoint},
			{Name: "Referrers", Run: testReferrers},
			{Name: "ThresholdFilters", Run: testThresholdFilters},
			{Name: "ThresholdReferrers", Run: testThresholdReferrers},
		},
	)
}

func scenariosOf[T any](k kindFixture[T]) []contractScenario {
	var out []contractScenario
	for _, sc := range []struct {
		name string
		run  func(t *testing.T, s Store, k kindFixture[T])
	}{
		{"RoundTrip", testKindRoundTrip[T]},
		{"NotFound", testKindNotFound[T]},
		{"InsertConflict", testKindInsertConflict[T]},
		{"Update", testKindUpdate[T]},
		{"UpdateConflict", testKindUpdateConflict[T]},
		{"Delete", testKindDelete[T]},
		{"ListPaging", testKindListPaging[T]},
		{"ListFilterName", testKindListFilterName[T]},
		{"ListFilterNamePrefix", testKindListFilterNamePrefix[T]},
		{"ListFilterTags", testKindListFilterTags[T]},
		{"ListLimits", testKindListLimits[T]},
	} {
		out = append(out, contractScenario{
			Name: k.name + sc.name,
			Run:  func(t *testing.T, s Store, _ func(*testing.T) Store) { sc.run(t, s, k) },
		})
	}
	return out
}

// ---- the kinds ----

var endpointKind = kindFixture[api.Endpoint]{
	name:    "Endpoint",
	prefix:  api.PrefixEndpoint,
	minimal: endpoint,
	full: func(id, name string) api.Endpoint {
		e := endpoint(id, name)
		e.Revision, e.UpdatedAt = 7, at(time.Hour)
		e.URL = "https://" + id + ".example.net/full?x=1"
		e.APIVersion, e.Description, e.Owner = new("2024-06-01"), new(`Payment service, "primary"`), new("team-payments")
		e.DataClassification = api.ClassPII
		e.Tags = map[string]string{"env": "prod", "team": "payments", "with space": "ünïcode: value"}
		e.CredentialID = new("cred_x")
		return e
	},
	edges: func() []api.Endpoint {
		empties := endpoint("ep_empties", "empties")
		empties.APIVersion, empties.Description, empties.Owner, empties.CredentialID = new(""), new(""), new(""), new("")
		empties.Tags = map[string]string{}
		zoned := endpoint("ep_zoned", "zoned")
		// A time in another zone comes back as the same instant in UTC.
		zoned.CreatedAt = at(time.Nanosecond)
		zoned.UpdatedAt = time.Date(2025, time.April, 1, 9, 30, 0, 999999999, time.FixedZone("CET", 3600))
		return []api.Endpoint{empties, zoned}
	},
	withTags: tagged,
	meta:     func(e *api.Endpoint) *api.Meta { return &e.Meta },
	stored:   stored,
	get:      Reader.GetEndpoint,
	list:     Reader.ListEndpoints,
	insert:   Tx.InsertEndpoint,
	update:   Tx.UpdateEndpoint,
	delete:   Tx.DeleteEndpoint,
}

// credentialKind carries no tags; its round trip of the sealed secret and
// of a plaintext that must not be stored is in credentials_contract_test.go.
var credentialKind = kindFixture[CredentialRecord]{
	name:    "Credential",
	prefix:  api.PrefixCredential,
	minimal: credMinimal,
	full:    credFull,
	edges: func() []CredentialRecord {
		empty := credMinimal("cred_empty", "empty-scopes")
		empty.Type, empty.Scopes = api.CredOAuth2Client, []string{}
		return []CredentialRecord{empty}
	},
	meta:   func(c *CredentialRecord) *api.Meta { return &c.Meta },
	stored: credStored,
	get:    Reader.GetCredential,
	list:   Reader.ListCredentials,
	insert: Tx.InsertCredential,
	update: Tx.UpdateCredential,
	delete: Tx.DeleteCredential,
}

var monitorKind = kindFixture[api.Monitor]{
	name:    "Monitor",
	prefix:  api.PrefixMonitor,
	minimal: monitor,
	full: func(id, name string) api.Monitor {
		m := monitor(id, name)
		m.Revision, m.UpdatedAt = 5, at(2*time.Hour)
		m.EndpointID, m.Type = "ep_other", api.MonitorTCP
		m.Enabled, m.Interval, m.Timeout, m.DegradedResponseTime = new(false), new("1m"), new("2s"), new("750ms")
		m.Tags = map[string]string{"env": "prod", "tier": "gold"}
		m.Request = &api.MonitorRequest{
			Method: new("POST"), Path: new("/health?deep=1"), Query: map[string]string{"q": "1"},
			Headers: map[string]string{"x-trace": "on"}, Body: new(`{"ping":true}`), FollowRedirects: new(false),
			CredentialID: new("cred_m"),
			TLS:          &api.MonitorTLS{InsecureSkipVerify: new(true), CACert: new("PEM"), ServerName: new("svc.internal")},
		}
		m.Assertions = []api.Assertion{
			{Source: api.SourceStatusCode, Comparison: api.CmpEquals, Target: new("200")},
			{Source: api.SourceJSONBody, Property: new("$.ok"), Comparison: api.CmpEquals, Target: new("true")},
		}
		m.Retry = &api.RetryStrategy{Type: api.RetryExponential, MaxRetries: new(int64(3)), BaseBackoff: new("1s"),
			MaxBackoff: new("10s"), Jitter: new(true),
			RetryOn: &api.RetryOn{NetworkError: new(true), Timeout: new(false), StatusCodes: []int64{502, 503}}}
		return m
	},
	edges: func() []api.Monitor {
		// Empty collections stay empty and apart from nil ones.
		empties := monitor("mon_empties", "empties")
		empties.Tags, empties.Assertions = map[string]string{}, []api.Assertion{}
		empties.Request = &api.MonitorRequest{Query: map[string]string{}, Headers: map[string]string{}}
		empties.Retry = &api.RetryStrategy{Type: api.RetryNone, RetryOn: &api.RetryOn{StatusCodes: []int64{}}}
		enabled := monitor("mon_enabled", "enabled")
		enabled.Enabled, enabled.Interval = new(true), new(api.DefaultInterval)
		enabled.UpdatedAt = time.Date(2025, time.April, 1, 9, 30, 0, 999999999, time.FixedZone("CET", 3600))
		return []api.Monitor{empties, enabled}
	},
	withTags: func(m api.Monitor, tags map[string]string) api.Monitor { m.Tags = tags; return m },
	meta:     func(m *api.Monitor) *api.Meta { return &m.Meta },
	stored:   storedMonitor,
	get:      Reader.GetMonitor,
	// The shared filters only: the endpoint filter has its own scenario.
	list: func(r Reader, ctx context.Context, q ListQuery) ([]api.Monitor, string, error) {
		return r.ListMonitors(ctx, MonitorQuery{ListQuery: q})
	},
	insert: Tx.InsertMonitor,
	update: Tx.UpdateMonitor,
	delete: Tx.DeleteMonitor,
}

// monitor returns a minimal monitor of endpoint ep_1: every optional field
// nil.
func monitor(id, name string) api.Monitor {
	return api.Monitor{
		Meta:       api.Meta{ID: id, Revision: 1, CreatedAt: t0, UpdatedAt: t0},
		Name:       name,
		EndpointID: "ep_1",
		Type:       api.MonitorHTTP,
	}
}

// storedMonitor is what the store gives back for m: enabled and interval
// are stored with their defaults filled in.
func storedMonitor(m api.Monitor) api.Monitor {
	m.CreatedAt, m.UpdatedAt = us(m.CreatedAt), us(m.UpdatedAt)
	m.Enabled = new(m.IsEnabled())
	if m.Interval == nil {
		m.Interval = new(api.DefaultInterval)
	}
	return m
}

// ---- helpers ----

// kindDump shows an object with pointers by value and nil apart from
// empty, for failure messages.
func kindDump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v (%v)", v, err)
	}
	return string(b)
}

func (k kindFixture[T]) id(v T) string { return k.meta(&v).ID }

func (k kindFixture[T]) ids(vs []T) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, k.id(v))
	}
	return out
}

// obj returns a minimal object whose ID ends in n, two digits wide, so
// that IDs sort as the numbers do.
func (k kindFixture[T]) obj(n int, name string) T {
	return k.minimal(fmt.Sprintf("%s%02d", k.prefix, n), name)
}

func (k kindFixture[T]) tagged(v T, tags map[string]string) T {
	if k.withTags == nil {
		return v
	}
	return k.withTags(v, tags)
}

func (k kindFixture[T]) put(t *testing.T, s Store, vs ...T) {
	t.Helper()
	write(t, s, func(tx Tx) error {
		for _, v := range vs {
			if err := k.insert(tx, t.Context(), v); err != nil {
				return fmt.Errorf("insert %s: %w", k.id(v), err)
			}
		}
		return nil
	})
}

// check fails unless the object with want's ID reads back as want.
func (k kindFixture[T]) check(t *testing.T, r Reader, want T) {
	t.Helper()
	got, err := k.get(r, t.Context(), k.id(want))
	if err != nil {
		t.Fatalf("get %s: %v", k.id(want), err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s %s:\ngot  %s\nwant %s", k.name, k.id(want), kindDump(got), kindDump(want))
	}
}

// listIDs lists every page of q and returns the IDs in order.
func (k kindFixture[T]) listIDs(t *testing.T, r Reader, q ListQuery) []string {
	t.Helper()
	return k.ids(allPages(t, func(ctx context.Context, q ListQuery) ([]T, string, error) { return k.list(r, ctx, q) }, q))
}

// allPages reads every page of q with list, checking that each page is a
// slice (an empty one when nothing matched) and that the cursor ends.
func allPages[T, Q any, PQ pageQuery[Q]](t *testing.T, list func(ctx context.Context, q Q) ([]T, string, error), q Q) []T {
	t.Helper()
	var out []T
	for range 10000 {
		items, next, err := list(t.Context(), q)
		if err != nil {
			t.Fatalf("list (%+v): %v", q, err)
		}
		if items == nil {
			t.Fatalf("list (%+v): a nil page, want an empty slice", q)
		}
		out = append(out, items...)
		if next == "" {
			return out
		}
		PQ(&q).page().After = next
	}
	t.Fatalf("list (%+v): the cursor never ends", q)
	return nil
}

// withRevision returns v with the given revision, moved in time by d.
func (k kindFixture[T]) withRevision(v T, rev int64, d time.Duration) T {
	m := k.meta(&v)
	m.Revision, m.UpdatedAt = rev, m.UpdatedAt.Add(d)
	return v
}

// ---- the scenarios ----

func testKindRoundTrip[T any](t *testing.T, s Store, k kindFixture[T]) {
	all := append([]T{k.full(k.prefix+"full", "full"), k.minimal(k.prefix+"nils", "nils")}, k.edges()...)
	k.put(t, s, all...)
	// Reads inside the writing transaction see the same.
	write(t, s, func(tx Tx) error {
		for _, v := range all {
			k.check(t, tx, k.stored(v))
		}
		return nil
	})
	for _, v := range all {
		k.check(t, s, k.stored(v))
	}
	// Listing returns the same objects as get, ordered by ID.
	items, next, err := k.list(s, t.Context(), ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if next != "" {
		t.Errorf("next cursor should've been empty, got %q", next)
	}
	want := slices.Clone(all)
	slices.SortFunc(want, func(a, b T) int { return cmpString(k.id(a), k.id(b)) })
	if len(items) != len(want) {
		t.Fatalf("list should've returned %d objects, got %q", len(want), k.ids(items))
	}
	for i := range want {
		if w := k.stored(want[i]); !reflect.DeepEqual(items[i], w) {
			t.Errorf("listed %s:\ngot  %s\nwant %s", k.id(w), kindDump(items[i]), kindDump(w))
		}
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testKindNotFound[T any](t *testing.T, s Store, k kindFixture[T]) {
	_, err := k.get(s, t.Context(), k.prefix+"unknown")
	wantErr(t, "get of an unknown ID", err, ErrNotFound)
	k.put(t, s, k.minimal(k.prefix+"1", "one"))
	_, err = k.get(s, t.Context(), k.prefix+"unknown")
	wantErr(t, "get of an unknown ID next to a known one", err, ErrNotFound)
	_, err = k.get(s, t.Context(), "one") // a name is not an ID
	wantErr(t, "get by name", err, ErrNotFound)
}

func testKindInsertConflict[T any](t *testing.T, s Store, k kindFixture[T]) {
	first := k.minimal(k.prefix+"1", "taken")
	k.put(t, s, first)

	err := s.Write(t.Context(), func(tx Tx) error { return k.insert(tx, t.Context(), k.minimal(k.prefix+"2", "taken")) })
	wantErr(t, "insert of a taken name", err, ErrConflict)
	if errors.Is(err, ErrNotFound) {
		t.Errorf("a conflict should not also be ErrNotFound: %v", err)
	}
	_, err = k.get(s, t.Context(), k.prefix+"2")
	wantErr(t, "the refused object", err, ErrNotFound)

	err = s.Write(t.Context(), func(tx Tx) error { return k.insert(tx, t.Context(), k.minimal(k.prefix+"1", "other-name")) })
	wantErr(t, "insert of a taken ID", err, ErrConflict)

	k.check(t, s, k.stored(first))
	checkIDs(t, "after refused inserts", k.listIDs(t, s, ListQuery{}), []string{k.prefix + "1"})
}

func testKindUpdate[T any](t *testing.T, s Store, k kindFixture[T]) {
	id := k.prefix + "1"
	orig := k.tagged(k.full(id, "before"), map[string]string{"env": "prod", "team": "a"})
	other := k.tagged(k.minimal(k.prefix+"2", "other"), map[string]string{"team": "a"})
	k.put(t, s, orig, other)

	// From every field set to every optional field nil, and back.
	upd := k.tagged(k.minimal(id, "after"), map[string]string{"env": "dev", "tier": "gold"})
	upd = k.withRevision(upd, 2, 36*time.Hour+123*time.Nanosecond)
	k.meta(&upd).CreatedAt = at(-time.Hour)
	write(t, s, func(tx Tx) error { return k.update(tx, t.Context(), upd) })
	k.check(t, s, k.stored(upd))
	k.check(t, s, k.stored(other))
	checkIDs(t, "old name", k.listIDs(t, s, ListQuery{Name: "before"}), nil)
	checkIDs(t, "new name", k.listIDs(t, s, ListQuery{Name: "after"}), []string{id})
	if k.withTags != nil {
		// The old tag rows are gone; the new ones are found.
		checkIDs(t, "tag team=a", k.listIDs(t, s, ListQuery{Tags: []Tag{{"team", "a"}}}), []string{k.prefix + "2"})
		checkIDs(t, "tag env=prod", k.listIDs(t, s, ListQuery{Tags: []Tag{{"env", "prod"}}}), nil)
		checkIDs(t, "tag env=dev", k.listIDs(t, s, ListQuery{Tags: []Tag{{"env", "dev"}}}), []string{id})
		checkIDs(t, "tag tier=gold", k.listIDs(t, s, ListQuery{Tags: []Tag{{"tier", "gold"}}}), []string{id})
		// Updating to nil tags removes every tag row and stores null.
		untagged := k.withRevision(k.withTags(upd, nil), 3, time.Second)
		write(t, s, func(tx Tx) error { return k.update(tx, t.Context(), untagged) })
		k.check(t, s, k.stored(untagged))
		checkIDs(t, "tag env=dev after clearing tags", k.listIDs(t, s, ListQuery{Tags: []Tag{{"env", "dev"}}}), nil)
	}
	back := k.withRevision(k.full(id, "before"), 4, 48*time.Hour)
	write(t, s, func(tx Tx) error { return k.update(tx, t.Context(), back) })
	k.check(t, s, k.stored(back))

	// A failed transaction leaves nothing of its update behind.
	boom := errors.New("boom")
	err := s.Write(t.Context(), func(tx Tx) error {
		if err := k.update(tx, t.Context(), upd); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, "rolled back update", err, boom)
	k.check(t, s, k.stored(back))

	// The name an update gave up is free again.
	write(t, s, func(tx Tx) error {
		return k.update(tx, t.Context(), k.withRevision(k.full(id, "renamed"), 5, time.Hour))
	})
	k.put(t, s, k.minimal(k.prefix+"3", "before"))

	// Update of an unknown ID.
	err = s.Write(t.Context(), func(tx Tx) error { return k.update(tx, t.Context(), k.minimal(k.prefix+"unknown", "ghost")) })
	wantErr(t, "update of an unknown ID", err, ErrNotFound)
	_, err = k.get(s, t.Context(), k.prefix+"unknown")
	wantErr(t, "update must not create", err, ErrNotFound)
}

func testKindUpdateConflict[T any](t *testing.T, s Store, k kindFixture[T]) {
	a := k.tagged(k.minimal(k.prefix+"a", "alpha"), map[string]string{"k": "a"})
	b := k.tagged(k.minimal(k.prefix+"b", "bravo"), map[string]string{"k": "b"})
	k.put(t, s, a, b)

	moved := k.tagged(k.withRevision(k.minimal(k.prefix+"a", "bravo"), 2, 0), map[string]string{"k": "moved"})
	err := s.Write(t.Context(), func(tx Tx) error { return k.update(tx, t.Context(), moved) })
	wantErr(t, "update to a taken name", err, ErrConflict)

	// Nothing of the refused update is stored, tags included.
	k.check(t, s, k.stored(a))
	k.check(t, s, k.stored(b))
	if k.withTags != nil {
		checkIDs(t, "tag k=moved", k.listIDs(t, s, ListQuery{Tags: []Tag{{"k", "moved"}}}), nil)
		checkIDs(t, "tag k=a", k.listIDs(t, s, ListQuery{Tags: []Tag{{"k", "a"}}}), []string{k.prefix + "a"})
	}

	// Keeping one's own name is no conflict.
	same := k.withRevision(a, 2, 0)
	write(t, s, func(tx Tx) error { return k.update(tx, t.Context(), same) })
	k.check(t, s, k.stored(same))
}

func testKindDelete[T any](t *testing.T, s Store, k kindFixture[T]) {
	a := k.tagged(k.minimal(k.prefix+"a", "alpha"), map[string]string{"env": "prod"})
	b := k.tagged(k.minimal(k.prefix+"b", "bravo"), map[string]string{"env": "prod"})
	k.put(t, s, a, b)

	write(t, s, func(tx Tx) error { return k.delete(tx, t.Context(), k.prefix+"a") })
	_, err := k.get(s, t.Context(), k.prefix+"a")
	wantErr(t, "get after delete", err, ErrNotFound)
	k.check(t, s, k.stored(b))
	checkIDs(t, "list after delete", k.listIDs(t, s, ListQuery{}), []string{k.prefix + "b"})

	err = s.Write(t.Context(), func(tx Tx) error { return k.delete(tx, t.Context(), k.prefix+"a") })
	wantErr(t, "second delete", err, ErrNotFound)
	err = s.Write(t.Context(), func(tx Tx) error { return k.delete(tx, t.Context(), k.prefix+"unknown") })
	wantErr(t, "delete of an unknown ID", err, ErrNotFound)

	// The name and the ID are free again, and the old tags do not come back.
	reborn := k.minimal(k.prefix+"a", "alpha")
	k.put(t, s, reborn)
	k.check(t, s, k.stored(reborn))
	if k.withTags != nil {
		checkIDs(t, "tag env=prod after re-create", k.listIDs(t, s, ListQuery{Tags: []Tag{{"env", "prod"}}}), []string{k.prefix + "b"})
	}
}

func testKindListPaging[T any](t *testing.T, s Store, k kindFixture[T]) {
	var (
		vs   []T
		want []string
	)
	for i := range 25 {
		// Inserted out of ID order: 7 and 25 are coprime, so this visits
		// every number once.
		n := (i*7)%25 + 1
		vs = append(vs, k.obj(n, fmt.Sprintf("svc-%02d", n)))
		want = append(want, fmt.Sprintf("%s%02d", k.prefix, i+1))
	}
	k.put(t, s, vs...)

	var (
		got   []string
		sizes []int
		after string
	)
	for page := 0; page < 5; page++ {
		items, next, err := k.list(s, t.Context(), ListQuery{Limit: 10, After: after})
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(items))
		got = append(got, k.ids(items)...)
		if len(items) > 0 && next != "" && next != k.id(items[len(items)-1]) {
			t.Errorf("page %d: next cursor should've pointed past %s, got %q", page, k.id(items[len(items)-1]), next)
		}
		if next == "" {
			break
		}
		after = next
	}
	if !slices.Equal(sizes, []int{10, 10, 5}) {
		t.Errorf("page sizes should've been [10 10 5], got %v", sizes)
	}
	checkIDs(t, "every page", got, want)

	// A page that ends exactly at the last object says so.
	items, next, err := k.list(s, t.Context(), ListQuery{Limit: 5, After: want[19]})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "last full page", k.ids(items), want[20:])
	if next != "" {
		t.Errorf("a page ending at the last object should've had no next cursor, got %q", next)
	}
	// One page holding everything.
	items, next, err = k.list(s, t.Context(), ListQuery{Limit: 25})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 25 || next != "" {
		t.Errorf("limit 25 should've returned 25 items and no cursor, got %d and %q", len(items), next)
	}
	// Past the end.
	items, next, err = k.list(s, t.Context(), ListQuery{Limit: 10, After: want[24]})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 0 || next != "" {
		t.Errorf("a page after the last object should've been empty, got %q and cursor %q", k.ids(items), next)
	}
}

func testKindListFilterName[T any](t *testing.T, s Store, k kindFixture[T]) {
	k.put(t, s, k.obj(1, "svc"), k.obj(2, "svc-1"), k.obj(3, "SVC"), k.obj(4, "my-svc"))
	id := func(n int) string { return fmt.Sprintf("%s%02d", k.prefix, n) }
	for _, c := range []struct {
		name string
		want []string
	}{
		{"svc", []string{id(1)}},
		{"svc-1", []string{id(2)}},
		{"SVC", []string{id(3)}},
		{"sv", nil},
		{"svc%", nil},
		{"nope", nil},
	} {
		checkIDs(t, "name="+c.name, k.listIDs(t, s, ListQuery{Name: c.name}), c.want)
	}
	// Name and prefix together must both hold.
	checkIDs(t, "name=svc-1 prefix=svc", k.listIDs(t, s, ListQuery{Name: "svc-1", NamePrefix: "svc"}), []string{id(2)})
	checkIDs(t, "name=svc-1 prefix=my", k.listIDs(t, s, ListQuery{Name: "svc-1", NamePrefix: "my"}), nil)
}

func testKindListFilterNamePrefix[T any](t *testing.T, s Store, k kindFixture[T]) {
	names := []string{
		"100%_off", "100%_offer",
		"100%Xoff",   // matched by LIKE '100%\_%' unescaped
		"100abc_off", // matched by LIKE '100%%' unescaped
		"100%", "a_b-1", "aXb-1", "Svc-upper", "svc-lower", "ünï-1", "ünïx-2", `back\slash`, "backXslash",
	}
	var all []string
	for i, name := range names {
		k.put(t, s, k.obj(i+1, name))
		all = append(all, fmt.Sprintf("%s%02d", k.prefix, i+1))
	}
	ids := func(ns ...int) []string {
		var out []string
		for _, n := range ns {
			out = append(out, all[n-1])
		}
		return out
	}
	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"100%_", ids(1, 2)},
		{"100%_off", ids(1, 2)},
		{"100%_offe", ids(2)},
		{"100%", ids(1, 2, 3, 5)},
		{"100", ids(1, 2, 3, 4, 5)},
		{"%", nil},
		{"_", nil},
		{"a_b", ids(6)},
		{"svc-", ids(9)}, // case-sensitive
		{"Svc-", ids(8)},
		{"ünï", ids(10, 11)},
		{"ünïx", ids(11)},
		{`back\`, ids(12)},
		{"100%_offer-and-more", nil}, // longer than every name
		{"", all},
	} {
		checkIDs(t, fmt.Sprintf("name_prefix=%q", c.prefix), k.listIDs(t, s, ListQuery{NamePrefix: c.prefix}), c.want)
	}
	// The prefix filter pages like any other.
	items, next, err := k.list(s, t.Context(), ListQuery{NamePrefix: "100", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "prefix page 1", k.ids(items), ids(1, 2))
	if next != all[1] {
		t.Errorf("next cursor should've been %q, got %q", all[1], next)
	}
	checkIDs(t, "prefix all pages", k.listIDs(t, s, ListQuery{NamePrefix: "100", Limit: 2}), ids(1, 2, 3, 4, 5))
}

func testKindListFilterTags[T any](t *testing.T, s Store, k kindFixture[T]) {
	id := func(n int) string { return fmt.Sprintf("%s%02d", k.prefix, n) }
	if k.withTags == nil {
		// A kind without tags has no object that carries one: a tag filter
		// matches none, even an empty value, and ends the listing.
		k.put(t, s, k.obj(1, "one"), k.obj(2, "two"))
		for _, tags := range [][]Tag{{{"env", "prod"}}, {{"team", ""}}, {{"env", "prod"}, {"team", "a"}}} {
			items, next, err := k.list(s, t.Context(), ListQuery{Tags: tags})
			if err != nil {
				t.Fatal(err)
			}
			if items == nil || len(items) != 0 || next != "" {
				t.Errorf("tags %v on a kind without tags: %q (nil: %t), cursor %q; want an empty page", tags, k.ids(items), items == nil, next)
			}
		}
		checkIDs(t, "no tag filter", k.listIDs(t, s, ListQuery{}), []string{id(1), id(2)})
		return
	}
	k.put(t, s,
		k.withTags(k.obj(1, "one"), map[string]string{"env": "prod", "team": "a"}),
		k.withTags(k.obj(2, "two"), map[string]string{"env": "prod", "team": "b"}),
		k.withTags(k.obj(3, "three"), map[string]string{"env": "dev", "team": "a"}),
		k.obj(4, "four"),
		k.withTags(k.obj(5, "five"), map[string]string{}),
		k.withTags(k.obj(6, "six"), map[string]string{"team": "prod"}),
		k.withTags(k.obj(7, "seven"), map[string]string{"env": "Prod", "team": ""}),
	)
	for _, c := range []struct {
		name string
		tags []Tag
		want []string
	}{
		{"env=prod", []Tag{{"env", "prod"}}, []string{id(1), id(2)}},
		{"team=a", []Tag{{"team", "a"}}, []string{id(1), id(3)}},
		{"team=prod (key matters)", []Tag{{"team", "prod"}}, []string{id(6)}},
		{"env=Prod (case matters)", []Tag{{"env", "Prod"}}, []string{id(7)}},
		{"team= (empty value)", []Tag{{"team", ""}}, []string{id(7)}},
		{"env=prod AND team=a", []Tag{{"env", "prod"}, {"team", "a"}}, []string{id(1)}},
		{"team=a AND env=prod", []Tag{{"team", "a"}, {"env", "prod"}}, []string{id(1)}},
		{"env=prod AND team=b", []Tag{{"env", "prod"}, {"team", "b"}}, []string{id(2)}},
		{"env=dev AND team=b", []Tag{{"env", "dev"}, {"team", "b"}}, nil},
		{"env=prod AND env=dev", []Tag{{"env", "prod"}, {"env", "dev"}}, nil},
		{"env=staging", []Tag{{"env", "staging"}}, nil},
	} {
		checkIDs(t, c.name, k.listIDs(t, s, ListQuery{Tags: c.tags}), c.want)
	}
	// Tags with other filters and with a cursor.
	checkIDs(t, "env=prod prefix=t", k.listIDs(t, s, ListQuery{Tags: []Tag{{"env", "prod"}}, NamePrefix: "t"}), []string{id(2)})
	items, next, err := k.list(s, t.Context(), ListQuery{Tags: []Tag{{"env", "prod"}}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "env=prod page 1", k.ids(items), []string{id(1)})
	if next != id(1) {
		t.Fatalf("next cursor should've been %q, got %q", id(1), next)
	}
	items, next, err = k.list(s, t.Context(), ListQuery{Tags: []Tag{{"env", "prod"}}, Limit: 1, After: next})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "env=prod page 2", k.ids(items), []string{id(2)})
	if next != "" {
		t.Errorf("the last page should've had no next cursor, got %q", next)
	}
}

func testKindListLimits[T any](t *testing.T, s Store, k kindFixture[T]) {
	var (
		vs  []T
		ids []string
	)
	for i := range MaxLimit + 1 {
		id := fmt.Sprintf("%s%04d", k.prefix, i)
		vs = append(vs, k.minimal(id, fmt.Sprintf("svc-%04d", i)))
		ids = append(ids, id)
	}
	k.put(t, s, vs...)

	for _, c := range []struct {
		name     string
		limit    int
		wantN    int
		wantNext string
	}{
		{"limit 0 is DefaultLimit", 0, DefaultLimit, ids[DefaultLimit-1]},
		{"limit 1", 1, 1, ids[0]},
		{"limit MaxLimit", MaxLimit, MaxLimit, ids[MaxLimit-1]},
		{"limit MaxLimit+1 is clamped", MaxLimit + 1, MaxLimit, ids[MaxLimit-1]},
		{"limit 10*MaxLimit is clamped", 10 * MaxLimit, MaxLimit, ids[MaxLimit-1]},
	} {
		items, next, err := k.list(s, t.Context(), ListQuery{Limit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != c.wantN {
			t.Errorf("%s: should've returned %d items, got %d", c.name, c.wantN, len(items))
		} else {
			checkIDs(t, c.name, k.ids(items), ids[:c.wantN])
		}
		if next != c.wantNext {
			t.Errorf("%s: next cursor should've been %q, got %q", c.name, c.wantNext, next)
		}
	}
	items, next, err := k.list(s, t.Context(), ListQuery{Limit: 10 * MaxLimit, After: ids[MaxLimit-1]})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "after the clamped page", k.ids(items), ids[MaxLimit:])
	if next != "" {
		t.Errorf("the last page should've had no next cursor, got %q", next)
	}
	checkIDs(t, "all pages of the default size", k.listIDs(t, s, ListQuery{}), ids)
	// ListAll reads every page, more than one of MaxLimit here.
	all, err := ListAll(t.Context(), func(ctx context.Context, q ListQuery) ([]T, string, error) { return k.list(s, ctx, q) })
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "ListAll", k.ids(all), ids)
}

// ---- what one kind does ----

// testMonitorFilterEndpoint lists the monitors of one endpoint, alone and
// with the filters and the paging every kind has.
func testMonitorFilterEndpoint(t *testing.T, s Store, _ func(*testing.T) Store) {
	k := monitorKind
	on := func(m api.Monitor, ep string) api.Monitor { m.EndpointID = ep; return m }
	k.put(t, s,
		on(k.withTags(k.obj(1, "a-one"), map[string]string{"env": "prod"}), "ep_1"),
		on(k.obj(2, "b-two"), "ep_2"),
		on(k.withTags(k.obj(3, "a-three"), map[string]string{"env": "dev"}), "ep_1"),
		on(k.withTags(k.obj(4, "a-four"), map[string]string{"env": "prod"}), "ep_1"),
		on(k.withTags(k.obj(5, "a-five"), map[string]string{"env": "prod"}), "ep_2"),
	)
	for _, c := range []struct {
		name string
		q    MonitorQuery
		want []string
	}{
		{"ep_1", MonitorQuery{EndpointID: "ep_1"}, []string{"mon_01", "mon_03", "mon_04"}},
		{"ep_2", MonitorQuery{EndpointID: "ep_2"}, []string{"mon_02", "mon_05"}},
		{"no endpoint filter", MonitorQuery{}, []string{"mon_01", "mon_02", "mon_03", "mon_04", "mon_05"}},
		{"unknown endpoint", MonitorQuery{EndpointID: "ep_unknown"}, nil},
		{"ep_1 by pages of 1", MonitorQuery{ListQuery: ListQuery{Limit: 1}, EndpointID: "ep_1"}, []string{"mon_01", "mon_03", "mon_04"}},
		{"ep_1 after mon_01", MonitorQuery{ListQuery: ListQuery{After: "mon_01"}, EndpointID: "ep_1"}, []string{"mon_03", "mon_04"}},
		{"ep_1 tag env=prod", MonitorQuery{ListQuery: ListQuery{Tags: []Tag{{"env", "prod"}}}, EndpointID: "ep_1"}, []string{"mon_01", "mon_04"}},
		{"ep_2 prefix a-", MonitorQuery{ListQuery: ListQuery{NamePrefix: "a-"}, EndpointID: "ep_2"}, []string{"mon_05"}},
		{"ep_2 name a-one", MonitorQuery{ListQuery: ListQuery{Name: "a-one"}, EndpointID: "ep_2"}, nil},
	} {
		checkIDs(t, c.name, k.ids(allPages(t, s.ListMonitors, c.q)), c.want)
	}
	// ListAll takes the monitors' own query type; a filter set by the list
	// function holds on every page.
	all, err := ListAll(t.Context(), func(ctx context.Context, q MonitorQuery) ([]api.Monitor, string, error) {
		q.EndpointID = "ep_2"
		return s.ListMonitors(ctx, q)
	})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "ListAll of ep_2", k.ids(all), []string{"mon_02", "mon_05"})
	all, err = ListAll(t.Context(), s.ListMonitors)
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "ListAll", k.ids(all), []string{"mon_01", "mon_02", "mon_03", "mon_04", "mon_05"})
}

// testReferrers checks who references whom across kinds: endpoints and
// monitors reference credentials, monitors reference endpoints.
func testReferrers(t *testing.T, s Store, _ func(*testing.T) Store) {
	ctx := t.Context()
	credentialKind.put(t, s, credMinimal("cred_a", "a"), credMinimal("cred_b", "b"))
	ep := func(id, cred string) api.Endpoint {
		e := endpoint(id, id)
		if cred != "" {
			e.CredentialID = &cred
		}
		return e
	}
	mon := func(id, ep, cred string) api.Monitor {
		m := monitor(id, id)
		m.EndpointID = ep
		if cred != "" {
			m.Request = &api.MonitorRequest{CredentialID: &cred}
		}
		return m
	}
	endpointKind.put(t, s, ep("ep_3", "cred_a"), ep("ep_1", "cred_a"), ep("ep_2", "cred_b"), ep("ep_4", ""))
	monitorKind.put(t, s, mon("mon_1", "ep_1", "cred_b"), mon("mon_2", "ep_1", ""), mon("mon_3", "ep_3", ""))

	refs := func(r Reader, of string) []string {
		t.Helper()
		var (
			got []string
			err error
		)
		if strings.HasPrefix(of, api.PrefixCredential) {
			got, err = r.CredentialReferrers(ctx, of)
		} else {
			got, err = r.EndpointReferrers(ctx, of)
		}
		if err != nil {
			t.Fatalf("referrers of %s: %v", of, err)
		}
		if got == nil {
			t.Fatalf("referrers of %s = nil, want a slice", of)
		}
		return got
	}
	for of, want := range map[string][]string{
		"cred_a":    {"ep_1", "ep_3"},
		"cred_b":    {"ep_2", "mon_1"},
		"cred_none": nil,
		"ep_1":      {"mon_1", "mon_2"},
		"ep_3":      {"mon_3"},
		"ep_4":      nil,
		"ep_none":   nil,
	} {
		checkIDs(t, "referrers of "+of, refs(s, of), want)
	}

	// Re-pointed and deleted objects stop referring; reads inside the
	// transaction see it at once.
	write(t, s, func(tx Tx) error {
		moved := endpointKind.withRevision(ep("ep_1", "cred_b"), 2, 0)
		if err := tx.UpdateEndpoint(ctx, moved); err != nil {
			return err
		}
		if err := tx.DeleteEndpoint(ctx, "ep_2"); err != nil {
			return err
		}
		if err := tx.UpdateMonitor(ctx, monitorKind.withRevision(mon("mon_1", "ep_3", ""), 2, 0)); err != nil {
			return err
		}
		checkIDs(t, "referrers of cred_b inside the transaction", refs(tx, "cred_b"), []string{"ep_1"})
		checkIDs(t, "referrers of ep_3 inside the transaction", refs(tx, "ep_3"), []string{"mon_1", "mon_3"})
		return nil
	})
	checkIDs(t, "referrers of cred_a after re-pointing", refs(s, "cred_a"), []string{"ep_3"})
	checkIDs(t, "referrers of cred_b after re-pointing", refs(s, "cred_b"), []string{"ep_1"})
	checkIDs(t, "referrers of ep_1 after re-pointing", refs(s, "ep_1"), []string{"mon_2"})
	write(t, s, func(tx Tx) error { return tx.DeleteMonitor(ctx, "mon_2") })
	checkIDs(t, "referrers of ep_1 after its monitor's delete", refs(s, "ep_1"), nil)
}
