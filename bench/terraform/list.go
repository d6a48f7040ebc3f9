package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// listShards is how many values the list objects' shard tag takes: the tag
// filter selects one, a tenth of the objects.
const listShards = 10

// listResult is the list benchmark's figures.
type listResult struct {
	objects               int
	all, tagged           []time.Duration
	allPages, taggedPages int
}

// benchList creates objects endpoints with a shard tag through the API
// (with a token of its own, so that its burst of creates does not count
// against the root token Terraform uses), then times pages of 100: walks of
// every page without a filter and with tag=shard:3, at least 300 pages of
// each.
func benchList(ctx context.Context, d *aiod, objects int) (*listResult, error) {
	var tok struct {
		Secret string `json:"secret"`
	}
	// The setup token's own rate limit (a token's rate_limit, issue 13)
	// lets its creates through at full speed.
	if err := d.api(ctx, http.MethodPost, "/v1/tokens", devRootToken,
		map[string]any{"name": "bench-list", "role": "editor", "rate_limit": 1e6}, &tok); err != nil {
		return nil, err
	}
	start := time.Now()
	err := parallel(objects, 10, func(i int) error {
		return d.api(ctx, http.MethodPost, "/v1/endpoints", tok.Secret, map[string]any{
			"name": fmt.Sprintf("list-%05d", i), "url": fmt.Sprintf("https://list-%d.example.com/", i),
			"tags": map[string]string{"shard": fmt.Sprint(i % listShards), "bench": "list"},
		}, nil)
	})
	if err != nil {
		return nil, err
	}
	fmt.Printf("list benchmark: %d endpoints created in %.1fs\n", objects, time.Since(start).Seconds())
	r := &listResult{objects: objects}
	walk := func(filter string, into *[]time.Duration) (int, error) {
		pages, after := 0, ""
		for {
			q := url.Values{"limit": {"100"}}
			if filter != "" {
				q.Set("tag", filter)
			}
			if after != "" {
				q.Set("after", after)
			}
			var page struct {
				Items      []struct{} `json:"items"`
				NextCursor string     `json:"next_cursor"`
			}
			t := time.Now()
			if err := d.api(ctx, http.MethodGet, "/v1/endpoints?"+q.Encode(), tok.Secret, nil, &page); err != nil {
				return pages, err
			}
			*into = append(*into, time.Since(t))
			pages++
			if page.NextCursor == "" {
				return pages, nil
			}
			after = page.NextCursor
		}
	}
	for len(r.all) < 300 {
		n, err := walk("", &r.all)
		if err != nil {
			return nil, err
		}
		r.allPages = n
	}
	for len(r.tagged) < 300 {
		n, err := walk("shard:3", &r.tagged)
		if err != nil {
			return nil, err
		}
		r.taggedPages = n
	}
	return r, nil
}

// quantile is the q-quantile of ds (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}
