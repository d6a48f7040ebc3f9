package retention

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Compliance reads, per data kind and scope, the policy in force, the
// oldest record held and how many records are held past their policy. A
// record counts as overdue only once it is past its cutoff by more than
// one interval and a minute: until then the next pass may not have run.
func (e *Enforcer) Compliance(ctx context.Context) (api.RetentionCompliance, error) {
	now := e.cfg.Clock.Now()
	grace := e.cfg.Interval + time.Minute
	policies, err := store.ListAll(ctx, func(ctx context.Context, q store.RetentionPolicyQuery) ([]api.RetentionPolicy, string, error) {
		return e.st.ListRetentionPolicies(ctx, q)
	})
	if err != nil {
		return api.RetentionCompliance{}, err
	}
	out := api.RetentionCompliance{CheckedAt: now, Compliant: true, Items: []api.RetentionComplianceItem{}}
	add := func(it api.RetentionComplianceItem, sel store.RetentionSelector, cutoff time.Time, anonymize bool) error {
		oldest, err := e.st.RetentionOldest(ctx, sel)
		if err != nil {
			return err
		}
		it.OldestAt = oldest
		if !cutoff.IsZero() && oldest != nil && oldest.Before(cutoff.Add(-grace)) {
			sel.Before = cutoff.Add(-grace)
			counts, err := e.st.RetentionCount(ctx, sel, anonymize)
			if err != nil {
				return err
			}
			for _, c := range counts {
				it.Overdue += c
			}
		}
		it.Compliant = it.Overdue == 0
		out.Compliant = out.Compliant && it.Compliant
		out.Items = append(out.Items, it)
		return nil
	}
	for _, dk := range api.DataKinds {
		var deletes []api.RetentionPolicy
		for _, p := range policies {
			if p.DataKind != dk.Name || !p.IsEnabled() {
				continue
			}
			sel, cut, _ := e.selector(p, now)
			it := api.RetentionComplianceItem{DataKind: dk.Name, Scope: scopeWords(p), PolicyID: p.ID, Action: p.Action,
				MaxAge: p.MaxAge}
			if p.Action == api.RetentionDelete {
				deletes = append(deletes, p)
			}
			if err := add(it, sel, cut, p.Action == api.RetentionAnonymize); err != nil {
				return out, err
			}
		}
		sel := store.RetentionSelector{DataKind: dk.Name}
		for _, p := range deletes {
			sel.Exclude = append(sel.Exclude, scopeOf(p))
		}
		it := api.RetentionComplianceItem{DataKind: dk.Name, Scope: "default", Action: api.RetentionDelete}
		var cut time.Time
		if age := e.defaults[dk.Name]; age > 0 {
			it.MaxAge = age.String()
			cut, _ = e.cutoff(dk.Name, api.RetentionDelete, age, now)
		}
		if err := add(it, sel, cut, false); err != nil {
			return out, err
		}
	}
	return out, nil
}

// scopeWords describes a policy's scope: "all", "endpoint_ids=ep_a,ep_b",
// "endpoint_tags=team:payments" or "data_classifications=pii".
func scopeWords(p api.RetentionPolicy) string {
	switch {
	case p.EndpointIDs != nil:
		return "endpoint_ids=" + strings.Join(sorted(p.EndpointIDs), ",")
	case p.DataClassifications != nil:
		return "data_classifications=" + strings.Join(sorted(p.DataClassifications), ",")
	case p.EndpointTags != nil:
		var kv []string
		for k, v := range p.EndpointTags {
			kv = append(kv, fmt.Sprintf("%s:%s", k, v))
		}
		return "endpoint_tags=" + strings.Join(sorted(kv), ",")
	}
	return "all"
}

func sorted(v []string) []string {
	out := slices.Clone(v)
	slices.Sort(out)
	return out
}
