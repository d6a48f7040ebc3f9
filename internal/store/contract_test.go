package store

// The store contract suite: every backend must pass every scenario here.
// A backend joins the suite with one Test function that calls runContract
// with a function opening that backend (see TestContractSQLite).

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
		{Name: "EndpointRoundTrip", Run: testEndpointRoundTrip},
		{Name: "EndpointNotFound", Run: testEndpointNotFound},
		{Name: "EndpointInsertConflict", Run: testEndpointInsertConflict},
		{Name: "EndpointUpdate", Run: testEndpointUpdate},
		{Name: "EndpointUpdateConflict", Run: testEndpointUpdateConflict},
		{Name: "EndpointDelete", Run: testEndpointDelete},
		{Name: "ListPaging", Run: testListPaging},
		{Name: "ListFilterName", Run: testListFilterName},
		{Name: "ListFilterNamePrefix", Run: testListFilterNamePrefix},
		{Name: "ListFilterTags", Run: testListFilterTags},
		{Name: "ListLimits", Run: testListLimits},
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
	}
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

func insertEndpoints(t *testing.T, s Store, eps ...api.Endpoint) {
	t.Helper()
	write(t, s, func(tx Tx) error {
		for _, e := range eps {
			if err := tx.InsertEndpoint(t.Context(), e); err != nil {
				return fmt.Errorf("insert %s: %w", e.ID, err)
			}
		}
		return nil
	})
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

// ---- endpoints ----

func testEndpointRoundTrip(t *testing.T, s Store, _ func(*testing.T) Store) {
	cet := time.FixedZone("CET", 3600)
	full := api.Endpoint{
		// A time in another zone comes back as the same instant in UTC.
		Meta:               api.Meta{ID: "ep_full", Revision: 42, CreatedAt: t0, UpdatedAt: time.Date(2025, time.April, 1, 9, 30, 0, 999999999, cet)},
		Name:               "payments",
		URL:                "https://payments.example.com/api?x=1",
		APIVersion:         new("2024-06-01"),
		Description:        new("Payment service, \"primary\""),
		Owner:              new("team-payments"),
		DataClassification: api.ClassPII,
		Tags:               map[string]string{"env": "prod", "team": "payments", "with space": "ünïcode: value"},
	}
	empties := api.Endpoint{
		Meta:               api.Meta{ID: "ep_empties", Revision: 1, CreatedAt: at(time.Nanosecond), UpdatedAt: at(999 * time.Nanosecond)},
		Name:               "empties",
		URL:                "https://empties.example.com/",
		APIVersion:         new(""),
		Description:        new(""),
		Owner:              new(""),
		DataClassification: api.ClassPublic,
		Tags:               map[string]string{},
	}
	nils := endpoint("ep_nils", "nils")
	nils.CreatedAt = time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)
	nils.UpdatedAt = time.Date(2025, time.March, 14, 15, 9, 26, 1000, time.UTC)
	insertEndpoints(t, s, full, empties, nils)

	for _, e := range []api.Endpoint{full, empties, nils} {
		got := getEndpoint(t, s, e.ID)
		checkEndpoint(t, got, stored(e))
	}
	// Spelled out, so that a failure says which rule broke.
	got := getEndpoint(t, s, "ep_nils")
	if got.APIVersion != nil || got.Description != nil || got.Owner != nil {
		t.Errorf("nil pointers should've stayed nil, got %s", dumpEndpoint(got))
	}
	if got.Tags != nil {
		t.Errorf("nil tags should've stayed nil, got %#v", got.Tags)
	}
	got = getEndpoint(t, s, "ep_empties")
	if got.Description == nil || *got.Description != "" {
		t.Errorf("empty description should've stayed \"\", got %s", dumpEndpoint(got))
	}
	if got.Tags == nil || len(got.Tags) != 0 {
		t.Errorf("empty tags should've stayed an empty non-nil map, got %#v", got.Tags)
	}
	if want := time.Date(2025, time.April, 1, 8, 30, 0, 999999000, time.UTC); !getEndpoint(t, s, "ep_full").UpdatedAt.Equal(want) {
		t.Errorf("UpdatedAt should've been %s", want)
	}

	// Listing returns the same objects as Get.
	eps, next, err := s.ListEndpoints(t.Context(), ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if next != "" {
		t.Errorf("next cursor should've been empty, got %q", next)
	}
	if len(eps) != 3 {
		t.Fatalf("ListEndpoints should've returned 3 endpoints, got %d", len(eps))
	}
	for i, e := range []api.Endpoint{empties, full, nils} { // ordered by ID
		checkEndpoint(t, eps[i], stored(e))
	}
}

func testEndpointNotFound(t *testing.T, s Store, _ func(*testing.T) Store) {
	_, err := s.GetEndpoint(t.Context(), "ep_unknown")
	wantErr(t, "GetEndpoint of an unknown ID", err, ErrNotFound)
	insertEndpoints(t, s, endpoint("ep_1", "one"))
	_, err = s.GetEndpoint(t.Context(), "ep_unknown")
	wantErr(t, "GetEndpoint of an unknown ID next to a known one", err, ErrNotFound)
	_, err = s.GetEndpoint(t.Context(), "one") // a name is not an ID
	wantErr(t, "GetEndpoint by name", err, ErrNotFound)
}

func testEndpointInsertConflict(t *testing.T, s Store, _ func(*testing.T) Store) {
	first := endpoint("ep_1", "taken")
	insertEndpoints(t, s, first)

	err := s.Write(t.Context(), func(tx Tx) error {
		return tx.InsertEndpoint(t.Context(), endpoint("ep_2", "taken"))
	})
	wantErr(t, "insert of a taken name", err, ErrConflict)
	if errors.Is(err, ErrNotFound) {
		t.Errorf("a conflict should not also be ErrNotFound: %v", err)
	}
	_, err = s.GetEndpoint(t.Context(), "ep_2")
	wantErr(t, "the refused endpoint", err, ErrNotFound)

	err = s.Write(t.Context(), func(tx Tx) error {
		return tx.InsertEndpoint(t.Context(), endpoint("ep_1", "other-name"))
	})
	wantErr(t, "insert of a taken ID", err, ErrConflict)

	checkEndpoint(t, getEndpoint(t, s, "ep_1"), stored(first))
	checkIDs(t, "after refused inserts", listIDs(t, s, ListQuery{}), []string{"ep_1"})
}

func testEndpointUpdate(t *testing.T, s Store, _ func(*testing.T) Store) {
	orig := api.Endpoint{
		Meta:               api.Meta{ID: "ep_1", Revision: 1, CreatedAt: t0, UpdatedAt: t0},
		Name:               "before",
		URL:                "https://before.example.com/",
		APIVersion:         new("v1"),
		Description:        nil,
		Owner:              new("team-a"),
		DataClassification: api.ClassConfidential,
		Tags:               map[string]string{"env": "prod", "team": "a"},
	}
	other := tagged(endpoint("ep_2", "other"), map[string]string{"team": "a"})
	insertEndpoints(t, s, orig, other)

	upd := api.Endpoint{
		Meta:               api.Meta{ID: "ep_1", Revision: 2, CreatedAt: at(-time.Hour), UpdatedAt: at(36*time.Hour + 123*time.Nanosecond)},
		Name:               "after",
		URL:                "https://after.example.com/v2",
		APIVersion:         nil,
		Description:        new("now described"),
		Owner:              new(""),
		DataClassification: api.ClassPublic,
		Tags:               map[string]string{"env": "dev", "tier": "gold"},
	}
	write(t, s, func(tx Tx) error { return tx.UpdateEndpoint(t.Context(), upd) })
	checkEndpoint(t, getEndpoint(t, s, "ep_1"), stored(upd))
	checkEndpoint(t, getEndpoint(t, s, "ep_2"), stored(other))

	// The old tag rows are gone; the new ones are found.
	checkIDs(t, "tag team=a", listIDs(t, s, ListQuery{Tags: []Tag{{"team", "a"}}}), []string{"ep_2"})
	checkIDs(t, "tag env=prod", listIDs(t, s, ListQuery{Tags: []Tag{{"env", "prod"}}}), nil)
	checkIDs(t, "tag env=dev", listIDs(t, s, ListQuery{Tags: []Tag{{"env", "dev"}}}), []string{"ep_1"})
	checkIDs(t, "tag tier=gold", listIDs(t, s, ListQuery{Tags: []Tag{{"tier", "gold"}}}), []string{"ep_1"})
	checkIDs(t, "old name", listIDs(t, s, ListQuery{Name: "before"}), nil)
	checkIDs(t, "new name", listIDs(t, s, ListQuery{Name: "after"}), []string{"ep_1"})

	// Updating to nil tags removes every tag row and stores null.
	upd2 := upd
	upd2.Tags = nil
	upd2.Revision = 3
	write(t, s, func(tx Tx) error { return tx.UpdateEndpoint(t.Context(), upd2) })
	checkEndpoint(t, getEndpoint(t, s, "ep_1"), stored(upd2))
	checkIDs(t, "tag env=dev after clearing tags", listIDs(t, s, ListQuery{Tags: []Tag{{"env", "dev"}}}), nil)

	// The old name is free again.
	insertEndpoints(t, s, endpoint("ep_3", "before"))

	// Update of an unknown ID.
	err := s.Write(t.Context(), func(tx Tx) error {
		return tx.UpdateEndpoint(t.Context(), endpoint("ep_unknown", "ghost"))
	})
	wantErr(t, "update of an unknown ID", err, ErrNotFound)
	_, err = s.GetEndpoint(t.Context(), "ep_unknown")
	wantErr(t, "update must not create", err, ErrNotFound)
}

func testEndpointUpdateConflict(t *testing.T, s Store, _ func(*testing.T) Store) {
	a := tagged(endpoint("ep_a", "alpha"), map[string]string{"k": "a"})
	b := tagged(endpoint("ep_b", "bravo"), map[string]string{"k": "b"})
	insertEndpoints(t, s, a, b)

	moved := a
	moved.Name = "bravo"
	moved.Tags = map[string]string{"k": "moved"}
	moved.Revision = 2
	err := s.Write(t.Context(), func(tx Tx) error { return tx.UpdateEndpoint(t.Context(), moved) })
	wantErr(t, "update to a taken name", err, ErrConflict)

	// Nothing of the refused update is stored, tags included.
	checkEndpoint(t, getEndpoint(t, s, "ep_a"), stored(a))
	checkEndpoint(t, getEndpoint(t, s, "ep_b"), stored(b))
	checkIDs(t, "tag k=moved", listIDs(t, s, ListQuery{Tags: []Tag{{"k", "moved"}}}), nil)
	checkIDs(t, "tag k=a", listIDs(t, s, ListQuery{Tags: []Tag{{"k", "a"}}}), []string{"ep_a"})

	// Keeping one's own name is no conflict.
	same := a
	same.Revision = 2
	write(t, s, func(tx Tx) error { return tx.UpdateEndpoint(t.Context(), same) })
	checkEndpoint(t, getEndpoint(t, s, "ep_a"), stored(same))
}

func testEndpointDelete(t *testing.T, s Store, _ func(*testing.T) Store) {
	a := tagged(endpoint("ep_a", "alpha"), map[string]string{"env": "prod"})
	b := tagged(endpoint("ep_b", "bravo"), map[string]string{"env": "prod"})
	insertEndpoints(t, s, a, b)

	write(t, s, func(tx Tx) error { return tx.DeleteEndpoint(t.Context(), "ep_a") })
	_, err := s.GetEndpoint(t.Context(), "ep_a")
	wantErr(t, "get after delete", err, ErrNotFound)
	checkEndpoint(t, getEndpoint(t, s, "ep_b"), stored(b))
	checkIDs(t, "list after delete", listIDs(t, s, ListQuery{}), []string{"ep_b"})
	checkIDs(t, "tag env=prod after delete", listIDs(t, s, ListQuery{Tags: []Tag{{"env", "prod"}}}), []string{"ep_b"})

	err = s.Write(t.Context(), func(tx Tx) error { return tx.DeleteEndpoint(t.Context(), "ep_a") })
	wantErr(t, "second delete", err, ErrNotFound)
	err = s.Write(t.Context(), func(tx Tx) error { return tx.DeleteEndpoint(t.Context(), "ep_unknown") })
	wantErr(t, "delete of an unknown ID", err, ErrNotFound)

	// The name and the ID are free again, and the old tags do not come back.
	reborn := endpoint("ep_a", "alpha")
	insertEndpoints(t, s, reborn)
	checkEndpoint(t, getEndpoint(t, s, "ep_a"), stored(reborn))
	checkIDs(t, "tag env=prod after re-create", listIDs(t, s, ListQuery{Tags: []Tag{{"env", "prod"}}}), []string{"ep_b"})
}

// ---- listing ----

func testListPaging(t *testing.T, s Store, _ func(*testing.T) Store) {
	var (
		eps  []api.Endpoint
		want []string
	)
	for i := range 25 {
		// Inserted out of ID order: 7 and 25 are coprime, so this visits
		// every number once.
		n := (i*7)%25 + 1
		eps = append(eps, endpoint(fmt.Sprintf("ep_%02d", n), fmt.Sprintf("svc-%02d", n)))
		want = append(want, fmt.Sprintf("ep_%02d", i+1))
	}
	insertEndpoints(t, s, eps...)

	var (
		got   []string
		sizes []int
		after string
	)
	for page := 0; page < 5; page++ {
		items, next, err := s.ListEndpoints(t.Context(), ListQuery{Limit: 10, After: after})
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(items))
		got = append(got, endpointIDs(items)...)
		if len(items) > 0 && next != "" && next != items[len(items)-1].ID {
			t.Errorf("page %d: next cursor should've pointed past %s, got %q", page, items[len(items)-1].ID, next)
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
	items, next, err := s.ListEndpoints(t.Context(), ListQuery{Limit: 5, After: "ep_20"})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "last full page", endpointIDs(items), want[20:])
	if next != "" {
		t.Errorf("a page ending at the last object should've had no next cursor, got %q", next)
	}
	// One page holding everything.
	items, next, err = s.ListEndpoints(t.Context(), ListQuery{Limit: 25})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 25 || next != "" {
		t.Errorf("limit 25 should've returned 25 items and no cursor, got %d and %q", len(items), next)
	}
	// Past the end.
	items, next, err = s.ListEndpoints(t.Context(), ListQuery{Limit: 10, After: "ep_25"})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 0 || next != "" {
		t.Errorf("a page after the last object should've been empty, got %q and cursor %q", endpointIDs(items), next)
	}
}

func testListFilterName(t *testing.T, s Store, _ func(*testing.T) Store) {
	insertEndpoints(t, s,
		endpoint("ep_1", "svc"),
		endpoint("ep_2", "svc-1"),
		endpoint("ep_3", "SVC"),
		endpoint("ep_4", "my-svc"),
	)
	for _, c := range []struct {
		name string
		want []string
	}{
		{"svc", []string{"ep_1"}},
		{"svc-1", []string{"ep_2"}},
		{"SVC", []string{"ep_3"}},
		{"sv", nil},
		{"svc%", nil},
		{"nope", nil},
	} {
		checkIDs(t, "name="+c.name, listIDs(t, s, ListQuery{Name: c.name}), c.want)
	}
	// Name and prefix together must both hold.
	checkIDs(t, "name=svc-1 prefix=svc", listIDs(t, s, ListQuery{Name: "svc-1", NamePrefix: "svc"}), []string{"ep_2"})
	checkIDs(t, "name=svc-1 prefix=my", listIDs(t, s, ListQuery{Name: "svc-1", NamePrefix: "my"}), nil)
}

func testListFilterNamePrefix(t *testing.T, s Store, _ func(*testing.T) Store) {
	insertEndpoints(t, s,
		endpoint("ep_01", "100%_off"),
		endpoint("ep_02", "100%_offer"),
		endpoint("ep_03", "100%Xoff"),   // matched by LIKE '100%\_%' unescaped
		endpoint("ep_04", "100abc_off"), // matched by LIKE '100%%' unescaped
		endpoint("ep_05", "100%"),
		endpoint("ep_06", "a_b-1"),
		endpoint("ep_07", "aXb-1"),
		endpoint("ep_08", "Svc-upper"),
		endpoint("ep_09", "svc-lower"),
		endpoint("ep_10", "ünï-1"),
		endpoint("ep_11", "ünïx-2"),
		endpoint("ep_12", `back\slash`),
		endpoint("ep_13", "backXslash"),
	)
	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"100%_", []string{"ep_01", "ep_02"}},
		{"100%_off", []string{"ep_01", "ep_02"}},
		{"100%_offe", []string{"ep_02"}},
		{"100%", []string{"ep_01", "ep_02", "ep_03", "ep_05"}},
		{"100", []string{"ep_01", "ep_02", "ep_03", "ep_04", "ep_05"}},
		{"%", nil},
		{"_", nil},
		{"a_b", []string{"ep_06"}},
		{"svc-", []string{"ep_09"}}, // case-sensitive
		{"Svc-", []string{"ep_08"}},
		{"ünï", []string{"ep_10", "ep_11"}},
		{"ünïx", []string{"ep_11"}},
		{`back\`, []string{"ep_12"}},
		{"100%_offer-and-more", nil}, // longer than every name
		{"", []string{"ep_01", "ep_02", "ep_03", "ep_04", "ep_05", "ep_06", "ep_07", "ep_08", "ep_09", "ep_10", "ep_11", "ep_12", "ep_13"}},
	} {
		checkIDs(t, fmt.Sprintf("name_prefix=%q", c.prefix), listIDs(t, s, ListQuery{NamePrefix: c.prefix}), c.want)
	}
	// The prefix filter pages like any other.
	items, next, err := s.ListEndpoints(t.Context(), ListQuery{NamePrefix: "100", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "prefix page 1", endpointIDs(items), []string{"ep_01", "ep_02"})
	if next != "ep_02" {
		t.Errorf("next cursor should've been %q, got %q", "ep_02", next)
	}
	checkIDs(t, "prefix all pages", listIDs(t, s, ListQuery{NamePrefix: "100", Limit: 2}), []string{"ep_01", "ep_02", "ep_03", "ep_04", "ep_05"})
}

func testListFilterTags(t *testing.T, s Store, _ func(*testing.T) Store) {
	insertEndpoints(t, s,
		tagged(endpoint("ep_1", "one"), map[string]string{"env": "prod", "team": "a"}),
		tagged(endpoint("ep_2", "two"), map[string]string{"env": "prod", "team": "b"}),
		tagged(endpoint("ep_3", "three"), map[string]string{"env": "dev", "team": "a"}),
		endpoint("ep_4", "four"),
		tagged(endpoint("ep_5", "five"), map[string]string{}),
		tagged(endpoint("ep_6", "six"), map[string]string{"team": "prod"}),
		tagged(endpoint("ep_7", "seven"), map[string]string{"env": "Prod", "team": ""}),
	)
	for _, c := range []struct {
		name string
		tags []Tag
		want []string
	}{
		{"env=prod", []Tag{{"env", "prod"}}, []string{"ep_1", "ep_2"}},
		{"team=a", []Tag{{"team", "a"}}, []string{"ep_1", "ep_3"}},
		{"team=prod (key matters)", []Tag{{"team", "prod"}}, []string{"ep_6"}},
		{"env=Prod (case matters)", []Tag{{"env", "Prod"}}, []string{"ep_7"}},
		{"team= (empty value)", []Tag{{"team", ""}}, []string{"ep_7"}},
		{"env=prod AND team=a", []Tag{{"env", "prod"}, {"team", "a"}}, []string{"ep_1"}},
		{"team=a AND env=prod", []Tag{{"team", "a"}, {"env", "prod"}}, []string{"ep_1"}},
		{"env=prod AND team=b", []Tag{{"env", "prod"}, {"team", "b"}}, []string{"ep_2"}},
		{"env=dev AND team=b", []Tag{{"env", "dev"}, {"team", "b"}}, nil},
		{"env=prod AND env=dev", []Tag{{"env", "prod"}, {"env", "dev"}}, nil},
		{"env=staging", []Tag{{"env", "staging"}}, nil},
	} {
		checkIDs(t, c.name, listIDs(t, s, ListQuery{Tags: c.tags}), c.want)
	}
	// Tags with other filters and with a cursor.
	checkIDs(t, "env=prod prefix=t", listIDs(t, s, ListQuery{Tags: []Tag{{"env", "prod"}}, NamePrefix: "t"}), []string{"ep_2"})
	items, next, err := s.ListEndpoints(t.Context(), ListQuery{Tags: []Tag{{"env", "prod"}}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "env=prod page 1", endpointIDs(items), []string{"ep_1"})
	if next != "ep_1" {
		t.Fatalf("next cursor should've been %q, got %q", "ep_1", next)
	}
	items, next, err = s.ListEndpoints(t.Context(), ListQuery{Tags: []Tag{{"env", "prod"}}, Limit: 1, After: next})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "env=prod page 2", endpointIDs(items), []string{"ep_2"})
	if next != "" {
		t.Errorf("the last page should've had no next cursor, got %q", next)
	}
}

func testListLimits(t *testing.T, s Store, _ func(*testing.T) Store) {
	var (
		eps []api.Endpoint
		ids []string
	)
	for i := range MaxLimit + 1 {
		id := fmt.Sprintf("ep_%04d", i)
		eps = append(eps, endpoint(id, fmt.Sprintf("svc-%04d", i)))
		ids = append(ids, id)
	}
	insertEndpoints(t, s, eps...)

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
		items, next, err := s.ListEndpoints(t.Context(), ListQuery{Limit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != c.wantN {
			t.Errorf("%s: should've returned %d items, got %d", c.name, c.wantN, len(items))
		} else {
			checkIDs(t, c.name, endpointIDs(items), ids[:c.wantN])
		}
		if next != c.wantNext {
			t.Errorf("%s: next cursor should've been %q, got %q", c.name, c.wantNext, next)
		}
	}
	items, next, err := s.ListEndpoints(t.Context(), ListQuery{Limit: 10 * MaxLimit, After: ids[MaxLimit-1]})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "after the clamped page", endpointIDs(items), ids[MaxLimit:])
	if next != "" {
		t.Errorf("the last page should've had no next cursor, got %q", next)
	}
	checkIDs(t, "all pages of the default size", listIDs(t, s, ListQuery{}), ids)
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
	insertEndpoints(t, s, endpoint("ep_taken", "taken"))
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
	)
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
			t.Logf("reader %d never completed a read", r)
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
