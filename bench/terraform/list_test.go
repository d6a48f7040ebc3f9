package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
)

// TestListEveryKind runs the list benchmark on every kind against a real
// aiod (in process, on a real SQLite file) with 30 objects each: every
// create is accepted, each walk sees every page, the filtered walk of a
// kind holds a tenth of its objects (three), and the report prints a row
// and two goals per kind.
func TestListEveryKind(t *testing.T) {
	listMinRequests = 20
	t.Cleanup(func() { listMinRequests = 300 })
	srv := acctest.NewServer(t)
	d := &aiod{addr: srv.URL, http: &http.Client{}}
	tok, err := editorToken(t.Context(), d, srv.AdminToken, "bench-list")
	if err != nil {
		t.Fatal(err)
	}
	const objects = 30
	first, endpointIDs, err := benchList(t.Context(), d, tok, listKinds[0], objects, nil)
	if err != nil {
		t.Fatal(err)
	}
	more, err := benchListKinds(t.Context(), d, tok, objects, endpointIDs)
	if err != nil {
		t.Fatal(err)
	}
	lists := append([]*listResult{first}, more...)
	if len(lists) != len(listKinds) {
		t.Fatalf("%d kinds measured, want %d", len(lists), len(listKinds))
	}
	for i, l := range lists {
		if l.kind != listKinds[i].name || l.objects != objects {
			t.Errorf("kind %d: %s with %d objects", i, l.kind, l.objects)
		}
		// 30 objects are one page of 100, so each walk is one request.
		if l.allPages != 1 || len(l.all) != 20 || l.taggedPages != 1 || len(l.tagged) != 20 {
			t.Errorf("%s: %d requests of %d pages unfiltered, %d of %d filtered", l.kind, len(l.all), l.allPages, len(l.tagged), l.taggedPages)
		}
	}
	// What the filter selects: a tenth of the endpoints (by tag) and, for
	// credentials (no tags), those named list-03… of which there are none
	// at 30 objects.
	for _, q := range []struct {
		path string
		want int
	}{
		{"/v1/endpoints?tag=shard:3", 3}, {"/v1/monitors?tag=shard:3", 3}, {"/v1/notification-channels?tag=shard:3", 3},
		{"/v1/alert-thresholds?tag=shard:3", 3}, {"/v1/retention-policies?tag=shard:3", 3},
		{"/v1/credentials?name_prefix=list-0", objects}, {"/v1/credentials?name_prefix=list-03", 0},
	} {
		var page struct {
			Items []struct{} `json:"items"`
		}
		if err := d.api(t.Context(), http.MethodGet, q.path, tok, nil, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != q.want {
			t.Errorf("%s: %d items, want %d", q.path, len(page.Items), q.want)
		}
	}
	var out bytes.Buffer
	report(&out, options{}, nil, lists)
	for _, k := range listKinds {
		if n := strings.Count(out.String(), "list p99 of "+k.name+" "); n != 2 {
			t.Errorf("%d goals for %s in the report, want 2:\n%s", n, k.name, out.String())
		}
	}
}
