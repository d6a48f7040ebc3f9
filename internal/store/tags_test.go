package store

import (
	"fmt"

	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// TestTagFiltersBothWays lists endpoints and monitors by tags, alone, two
// at a time, with a name prefix and (monitors) an endpoint, in pages of
// 1, 3, 7 and 100, once with every tag counted common (each filter an
// EXISTS lookup per object) and once with none (each an IN set): both give
// exactly the objects that carry every tag, in ID order, across the pages.
func TestTagFiltersBothWays(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	ctx := t.Context()
	saved := tagCommon
	t.Cleanup(func() { tagCommon = saved })
	tagsOf := func(i int) map[string]string {
		tags := map[string]string{"env": []string{"prod", "dev"}[i%2], "shard": fmt.Sprint(i % 5)}
		if i%3 == 0 {
			tags["team"] = "a"
		}
		return tags
	}
	epTags, monTags, monEP := map[string]map[string]string{}, map[string]map[string]string{}, map[string]string{}
	write(t, s, func(tx Tx) error {
		for i := range 40 {
			e := tagged(endpoint(fmt.Sprintf("ep_%03d", i), fmt.Sprintf("e%03d", i)), tagsOf(i))
			if i == 7 {
				e.Tags = nil // an object without tags
			}
			epTags[e.ID] = e.Tags
			if err := tx.InsertEndpoint(ctx, e); err != nil {
				return err
			}
		}
		for i := range 60 {
			m := monitor(fmt.Sprintf("mon_%03d", i), fmt.Sprintf("m%03d", i))
			m.EndpointID, m.Tags = fmt.Sprintf("ep_%03d", i%4), tagsOf(i+1)
			monTags[m.ID], monEP[m.ID] = m.Tags, m.EndpointID
			if err := tx.InsertMonitor(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	matching := func(all map[string]map[string]string, tags []Tag, keep func(id string) bool) []string {
		var ids []string
		for _, id := range slices.Sorted(maps.Keys(all)) {
			ok := keep(id)
			for _, tg := range tags {
				ok = ok && all[id][tg.Key] == tg.Value
			}
			if ok {
				ids = append(ids, id)
			}
		}
		return ids
	}
	filters := [][]Tag{{{"env", "prod"}}, {{"shard", "3"}}, {{"team", "a"}}, {{"team", "b"}},
		{{"env", "dev"}, {"team", "a"}}, {{"env", "prod"}, {"shard", "2"}}}
	for _, common := range []int{1, 1 << 30} {
		tagCommon = common
		for _, tags := range filters {
			for _, limit := range []int{1, 3, 7, 100} {
				name := fmt.Sprintf("common at %d, %v, pages of %d", common, tags, limit)
				got := listIDs(t, s, ListQuery{Tags: tags, Limit: limit})
				checkIDs(t, name, got, matching(epTags, tags, func(string) bool { return true }))
				got = listIDs(t, s, ListQuery{Tags: tags, Limit: limit, NamePrefix: "e01"})
				checkIDs(t, name+", name e01…", got, matching(epTags, tags, func(id string) bool { return id >= "ep_010" && id <= "ep_019" }))
				var mons []string
				q := MonitorQuery{ListQuery: ListQuery{Tags: tags, Limit: limit}, EndpointID: "ep_002"}
				for {
					page, next, err := s.ListMonitors(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					for _, m := range page {
						mons = append(mons, m.ID)
					}
					if next == "" {
						break
					}
					q.After = next
				}
				checkIDs(t, name+", monitors of ep_002", mons, matching(monTags, tags, func(id string) bool { return monEP[id] == "ep_002" }))
			}
		}
	}
}

// TestCommonTagsPerKind: whether a tag is common is counted among the
// objects of the listed kind only. A tag on five endpoints and one monitor
// is common among endpoints at a threshold of three, rare among monitors,
// and a tag no object carries is rare everywhere.
func TestCommonTagsPerKind(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "aio.db"))
	ctx := t.Context()
	saved := tagCommon
	t.Cleanup(func() { tagCommon = saved })
	tagCommon = 3
	write(t, s, func(tx Tx) error {
		for i := range 5 {
			if err := tx.InsertEndpoint(ctx, tagged(endpoint(fmt.Sprintf("ep_%d", i), fmt.Sprintf("e%d", i)), map[string]string{"team": "x"})); err != nil {
				return err
			}
		}
		m := monitor("mon_1", "m1")
		m.EndpointID, m.Tags = "ep_0", map[string]string{"team": "x"}
		return tx.InsertMonitor(ctx, m)
	})
	for _, c := range []struct {
		prefix string
		tag    Tag
		want   bool
	}{{api.PrefixEndpoint, Tag{"team", "x"}, true}, {api.PrefixMonitor, Tag{"team", "x"}, false}, {api.PrefixEndpoint, Tag{"team", "y"}, false}} {
		got, err := s.commonTags(ctx, c.prefix, []Tag{c.tag})
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != c.want {
			t.Errorf("%v among %s…: common %v, want %v", c.tag, c.prefix, got[0], c.want)
		}
	}
	if lo, hi := prefixRange("ep_"); lo != "ep_" || hi != "ep`" {
		t.Errorf("prefixRange(ep_) = %q, %q", lo, hi)
	}
	// The listings agree: five endpoints, one monitor.
	if ids := listIDs(t, s, ListQuery{Tags: []Tag{{"team", "x"}}}); len(ids) != 5 {
		t.Errorf("endpoints with team:x: %v", ids)
	}
	mons, _, err := s.ListMonitors(ctx, MonitorQuery{ListQuery: ListQuery{Tags: []Tag{{"team", "x"}}}})
	if err != nil || len(mons) != 1 || mons[0].ID != "mon_1" {
		t.Errorf("monitors with team:x: %v, %v", mons, err)
	}
}

// BenchmarkListByTag lists pages of 100 endpoints by a tag in a store of
// 10,000 endpoints and 30,000 monitors, all tagged env:prod, a tenth of
// each shard:3, one endpoint rare:yes, and team:x on 3,000 endpoints and
// five monitors (listed among the monitors): "chosen" is the listing as it
// runs (commonTags picks the way per tag), "set" forces the IN set for
// every tag, as every listing did before commonTags. Each op walks every
// page of the filter from the first.
func BenchmarkListByTag(b *testing.B) {
	s, err := OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "aio.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	if err := s.Write(ctx, func(tx Tx) error {
		for i := range 10000 {
			tags := map[string]string{"env": "prod", "shard": fmt.Sprint(i % 10)}
			if i == 5000 {
				tags["rare"] = "yes"
			}
			if i < 3000 {
				tags["team"] = "x"
			}
			if err := tx.InsertEndpoint(ctx, tagged(endpoint(fmt.Sprintf("ep_%05d", i), fmt.Sprintf("e%05d", i)), tags)); err != nil {
				return err
			}
		}
		for i := range 30000 {
			m := monitor(fmt.Sprintf("mon_%05d", i), fmt.Sprintf("m%05d", i))
			m.EndpointID, m.Tags = fmt.Sprintf("ep_%05d", i%10000), map[string]string{"env": "prod", "shard": fmt.Sprint(i % 10)}
			if i < 5 {
				m.Tags["team"] = "x"
			}
			if err := tx.InsertMonitor(ctx, m); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	saved := tagCommon
	defer func() { tagCommon = saved }()
	for _, way := range []struct {
		name   string
		common int
	}{{"chosen", 2000}, {"set", 1 << 30}} {
		for _, c := range []struct {
			kind string
			tag  Tag
		}{{"endpoints", Tag{"env", "prod"}}, {"endpoints", Tag{"shard", "3"}}, {"endpoints", Tag{"rare", "yes"}}, {"monitors", Tag{"team", "x"}}} {
			b.Run(way.name+"/"+c.kind+"/"+c.tag.Key+":"+c.tag.Value, func(b *testing.B) {
				tagCommon = way.common
				pages := 0
				for b.Loop() {
					q := ListQuery{Tags: []Tag{c.tag}, Limit: 100}
					for {
						var next string
						var err error
						if c.kind == "monitors" {
							_, next, err = s.ListMonitors(ctx, MonitorQuery{ListQuery: q})
						} else {
							_, next, err = s.ListEndpoints(ctx, q)
						}
						if err != nil {
							b.Fatal(err)
						}
						pages++
						if next == "" {
							break
						}
						q.After = next
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(pages)/1000, "ms/page")
			})
		}
	}
}
