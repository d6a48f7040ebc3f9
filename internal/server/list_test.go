package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

func names(items []api.Endpoint) []string {
	out := []string{}
	for _, e := range items {
		out = append(out, e.Name)
	}
	slices.Sort(out)
	return out
}

func TestListEndpoints(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]

	// An empty listing is an empty array, not null, and has no cursor.
	_, r := listEndpoints(t, srv, "")
	obj := rawObject(t, r.Body)
	wantKeys(t, obj, "items")
	wantRaw(t, obj, "items", `[]`)

	fixtures := []struct {
		name string
		tags map[string]string
	}{
		{"svc-1", map[string]string{"env": "prod", "team": "a"}},
		{"svc-2", map[string]string{"env": "prod", "team": "b"}},
		{"svc-3", map[string]string{"env": "dev", "team": "a"}},
		{"svc-4", map[string]string{"env": "prod", "team": "a", "ref": "git:main"}},
		{"svc-5", nil},
		{"pay_1", map[string]string{}},
		{"payX1", map[string]string{"env": "prod"}},
	}
	byName := map[string]api.Endpoint{}
	var ids []string
	for _, f := range fixtures {
		body := minimal(f.name)
		if f.tags != nil {
			body["tags"] = f.tags
		}
		e := createEndpoint(t, srv, editor, body)
		byName[f.name] = e
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)

	t.Run("pages of 3", func(t *testing.T) {
		var (
			got   []string
			sizes []int
			q     = url.Values{"limit": {"3"}}
		)
		for range 10 {
			l, r := listEndpoints(t, srv, q.Encode())
			sizes = append(sizes, len(l.Items))
			for _, e := range l.Items {
				got = append(got, e.ID)
				if want := byName[e.Name]; e.ID != want.ID || e.URL != want.URL || e.Revision != 1 {
					t.Errorf("listed %+v, created %+v", e, want)
				}
			}
			obj := rawObject(t, r.Body)
			if l.NextCursor == "" {
				wantKeys(t, obj, "items") // no "next_cursor" at all on the last page
				break
			}
			wantKeys(t, obj, "items", "next_cursor")
			q.Set("after", l.NextCursor)
		}
		if !slices.Equal(sizes, []int{3, 3, 1}) {
			t.Errorf("page sizes %v, want [3 3 1]", sizes)
		}
		if !slices.Equal(got, ids) {
			t.Errorf("paged IDs\n%v\nwant (sorted, each once)\n%v", got, ids)
		}
	})
	t.Run("a page exactly full is the last", func(t *testing.T) {
		l, r := listEndpoints(t, srv, "limit=7")
		if len(l.Items) != 7 {
			t.Errorf("%d items, want 7", len(l.Items))
		}
		wantKeys(t, rawObject(t, r.Body), "items")
		l, _ = listEndpoints(t, srv, "limit=6")
		if len(l.Items) != 6 || l.NextCursor == "" {
			t.Fatalf("limit=6: %d items, cursor %q", len(l.Items), l.NextCursor)
		}
		l, _ = listEndpoints(t, srv, "limit=6&after="+url.QueryEscape(l.NextCursor))
		if len(l.Items) != 1 || l.Items[0].ID != ids[6] || l.NextCursor != "" {
			t.Errorf("second page of 6: %+v, cursor %q", l.Items, l.NextCursor)
		}
	})

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"payX1", "pay_1", "svc-1", "svc-2", "svc-3", "svc-4", "svc-5"}},
		{"name=svc-2", []string{"svc-2"}},
		{"name=svc", []string{}},
		{"name_prefix=svc-", []string{"svc-1", "svc-2", "svc-3", "svc-4", "svc-5"}},
		// '_' and '%' are not wildcards.
		{"name_prefix=pay_", []string{"pay_1"}},
		{"name_prefix=" + url.QueryEscape("%"), []string{}},
		{"name_prefix=pay", []string{"payX1", "pay_1"}},
		{"tag=env:prod", []string{"payX1", "svc-1", "svc-2", "svc-4"}},
		{"tag=env:prod&tag=team:a", []string{"svc-1", "svc-4"}},
		{"tag=team:a&tag=env:dev", []string{"svc-3"}},
		{"tag=env:prod&tag=env:dev", []string{}},
		{"tag=team:c", []string{}},
		// A value with ':' splits at the first one.
		{"tag=ref:git:main", []string{"svc-4"}},
		{"tag=ref:git", []string{}},
		{"tag=env:prod&name_prefix=svc", []string{"svc-1", "svc-2", "svc-4"}},
		{"tag=env:prod&name=payX1", []string{"payX1"}},
	} {
		t.Run("filter "+tc.query, func(t *testing.T) {
			l, r := listEndpoints(t, srv, tc.query)
			if got := names(l.Items); !slices.Equal(got, tc.want) {
				t.Errorf("names %q, want %q", got, tc.want)
			}
			if len(tc.want) == 0 {
				wantRaw(t, rawObject(t, r.Body), "items", `[]`)
			}
		})
	}

	t.Run("filtered pages", func(t *testing.T) {
		l, _ := listEndpoints(t, srv, "tag=env:prod&limit=2")
		if len(l.Items) != 2 || l.NextCursor == "" {
			t.Fatalf("first page: %d items, cursor %q", len(l.Items), l.NextCursor)
		}
		first := l.Items
		l, _ = listEndpoints(t, srv, "tag=env:prod&limit=2&after="+url.QueryEscape(l.NextCursor))
		if len(l.Items) != 2 || l.NextCursor != "" {
			t.Fatalf("second page: %d items, cursor %q", len(l.Items), l.NextCursor)
		}
		if got := names(append(first, l.Items...)); !slices.Equal(got, []string{"payX1", "svc-1", "svc-2", "svc-4"}) {
			t.Errorf("paged names %q", got)
		}
	})

	t.Run("tags follow updates and deletes", func(t *testing.T) {
		body := minimal("svc-1")
		body["tags"] = map[string]string{"team": "a"}
		r := call(t, srv, http.MethodPut, "/v1/endpoints/"+byName["svc-1"].ID, editor, body, "If-Match", `"1"`)
		wantStatus(t, r, http.StatusOK)
		r = call(t, srv, http.MethodDelete, "/v1/endpoints/"+byName["svc-2"].ID, editor, nil)
		wantStatus(t, r, http.StatusNoContent)
		l, _ := listEndpoints(t, srv, "tag=env:prod")
		if got := names(l.Items); !slices.Equal(got, []string{"payX1", "svc-4"}) {
			t.Errorf("tag=env:prod after update and delete: %q", got)
		}
		l, _ = listEndpoints(t, srv, "tag=team:a")
		if got := names(l.Items); !slices.Equal(got, []string{"svc-1", "svc-3", "svc-4"}) {
			t.Errorf("tag=team:a after update: %q", got)
		}
	})

	// A listing keeps null and {} apart, as GET does.
	l, r := listEndpoints(t, srv, "name_prefix=pay_")
	if len(l.Items) != 1 || !strings.Contains(string(r.Body), `"tags":{}`) {
		t.Errorf("pay_1 listed as %s", r.Body)
	}
	_, r = listEndpoints(t, srv, "name=svc-5")
	if !strings.Contains(string(r.Body), `"tags":null`) || !strings.Contains(string(r.Body), `"api_version":null`) {
		t.Errorf("svc-5 listed as %s", r.Body)
	}
}
