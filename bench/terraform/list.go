package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// listMinRequests is the fewest pages timed for each walk of a kind: at
// least 300, so that the p99 is not the single slowest.
var listMinRequests = 300

// listShards is how many values the list objects' shard tag takes: the tag
// filter selects one, a tenth of the objects.
const listShards = 10

// listKind is one kind of configuration object the list benchmark creates
// and pages through.
type listKind struct {
	name string // as the report prints it
	path string // the collection, e.g. /v1/endpoints
	// body is the create body of the i-th object; refs holds the IDs of the
	// kind it refers to (endpoints for monitors, monitors for thresholds).
	body func(i int, refs []string) map[string]any
	// refersTo names the kind whose IDs body needs ("" for none).
	refersTo string
	// filter is the filtered walk's query: tag=shard:3 (a tenth of the
	// objects), or for credentials, which carry no tags, name_prefix=list-03
	// (a tenth at 10,000 objects).
	filter url.Values
}

// filterText prints a kind's filter.
func (k listKind) filterText() string {
	if k.filter == nil {
		return "tag=shard:3"
	}
	return k.filter.Encode()
}

// listTags are the tags every list object carries: shard selects a tenth.
func listTags(i int) map[string]string {
	return map[string]string{"shard": fmt.Sprint(i % listShards), "bench": "list"}
}

// listKinds are every configuration kind with a listing, in creation order
// (a kind comes after the kind it refers to). Monitors are created disabled,
// so that the engine does not probe the benchmark's made-up hosts;
// thresholds watch those monitors.
var listKinds = []listKind{
	{name: "endpoints", path: "/v1/endpoints", body: func(i int, _ []string) map[string]any {
		return map[string]any{"name": fmt.Sprintf("list-%05d", i), "url": fmt.Sprintf("https://list-%d.example.com/", i), "tags": listTags(i)}
	}},
	{name: "credentials", path: "/v1/credentials", body: func(i int, _ []string) map[string]any {
		return map[string]any{"name": fmt.Sprintf("list-%05d", i), "type": "bearer", "secret": fmt.Sprintf("list-secret-%05d", i),
			"allowed_hosts": []string{"*.example.com"}}
	}, filter: url.Values{"name_prefix": {"list-03"}}},
	{name: "monitors", path: "/v1/monitors", refersTo: "endpoints", body: func(i int, eps []string) map[string]any {
		return map[string]any{"name": fmt.Sprintf("list-%05d", i), "endpoint_id": eps[i%len(eps)], "type": "http", "enabled": false, "tags": listTags(i)}
	}},
	{name: "notification-channels", path: "/v1/notification-channels", body: func(i int, _ []string) map[string]any {
		return map[string]any{"name": fmt.Sprintf("list-%05d", i), "type": "webhook", "url": "https://hooks.example.com/aio",
			"secret": fmt.Sprintf("list-signing-%05d", i), "tags": listTags(i)}
	}},
	{name: "alert-thresholds", path: "/v1/alert-thresholds", refersTo: "monitors", body: func(i int, mons []string) map[string]any {
		return map[string]any{"name": fmt.Sprintf("list-%05d", i), "monitor_id": mons[i%len(mons)], "metric": "availability_percent",
			"comparison": "below", "warning": 99.9, "critical": 99.5, "window": "1h", "tags": listTags(i)}
	}},
	{name: "retention-policies", path: "/v1/retention-policies", body: func(i int, _ []string) map[string]any {
		return map[string]any{"name": fmt.Sprintf("list-%05d", i), "data_kind": "probe_results", "max_age": fmt.Sprintf("%dh", 720+i),
			"action": "delete", "tags": listTags(i)}
	}},
}

// listResult is the list benchmark's figures for one kind.
type listResult struct {
	kind, filter          string
	objects               int
	created               time.Duration
	all, tagged           []time.Duration
	allPages, taggedPages int
}

// benchList creates objects objects of kind k with a shard tag through the
// API, 10 at a time, then times pages of 100: walks of every page without a
// filter and with tag=shard:3, at least 300 pages of each. It returns the
// figures and the IDs created, for the kinds that refer to k.
func benchList(ctx context.Context, d *aiod, token string, k listKind, objects int, refs []string) (*listResult, []string, error) {
	ids := make([]string, objects)
	start := time.Now()
	err := parallel(objects, 10, func(i int) error {
		var created struct {
			ID string `json:"id"`
		}
		if err := d.api(ctx, http.MethodPost, k.path, token, k.body(i, refs), &created); err != nil {
			return err
		}
		ids[i] = created.ID
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	r := &listResult{kind: k.name, filter: k.filterText(), objects: objects, created: time.Since(start)}
	walk := func(filter url.Values, into *[]time.Duration) (int, error) {
		pages, after := 0, ""
		for {
			q := url.Values{"limit": {"100"}}
			for key, v := range filter {
				q[key] = v
			}
			if after != "" {
				q.Set("after", after)
			}
			var page struct {
				Items      []struct{} `json:"items"`
				NextCursor string     `json:"next_cursor"`
			}
			t := time.Now()
			if err := d.api(ctx, http.MethodGet, k.path+"?"+q.Encode(), token, nil, &page); err != nil {
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
	for len(r.all) < listMinRequests {
		n, err := walk(nil, &r.all)
		if err != nil {
			return nil, nil, err
		}
		r.allPages = n
	}
	for len(r.tagged) < listMinRequests {
		filter := k.filter
		if filter == nil {
			filter = url.Values{"tag": {"shard:3"}}
		}
		n, err := walk(filter, &r.tagged)
		if err != nil {
			return nil, nil, err
		}
		r.taggedPages = n
	}
	return r, ids, nil
}

// benchListKinds runs benchList on every kind of listKinds after the first
// (endpoints, measured before the Terraform runs), reusing the endpoints'
// IDs for the monitors.
func benchListKinds(ctx context.Context, d *aiod, token string, objects int, endpointIDs []string) ([]*listResult, error) {
	ids := map[string][]string{"endpoints": endpointIDs}
	var out []*listResult
	for _, k := range listKinds[1:] {
		r, created, err := benchList(ctx, d, token, k, objects, ids[k.refersTo])
		if err != nil {
			return out, fmt.Errorf("%s: %w", k.name, err)
		}
		ids[k.name] = created
		out = append(out, r)
	}
	return out, nil
}

// quantile is the q-quantile of ds (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}
