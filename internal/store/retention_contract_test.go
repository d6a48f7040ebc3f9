package store

import (
	"context"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// retentionKind is the retention policy in the kind scenarios: a minimal
// policy deletes raw results after a day; a full one anonymizes them for
// the pii endpoints, with the engine's report of its last run set.
var retentionKind = kindFixture[api.RetentionPolicy]{
	name:    "RetentionPolicy",
	prefix:  api.PrefixRetention,
	minimal: retentionPolicy,
	full: func(id, name string) api.RetentionPolicy {
		p := retentionPolicy(id, name)
		p.Revision, p.UpdatedAt = 4, at(2*time.Hour)
		p.DataKind, p.MaxAge, p.Action = api.DataAuditEvents, "8760h", api.RetentionAnonymize
		p.AnonymizeFields = []string{"actor"}
		p.DataClassifications = []string{api.ClassPII, api.ClassConfidential}
		p.Enabled, p.Description = new(false), new(`Pseudonymize "actors" after a year`)
		p.Tags = map[string]string{"owner": "dpo"}
		p.LastRunAt, p.NextRunAt = new(at(time.Minute)), new(at(11*time.Minute))
		p.LastRunDeleted, p.LastRunAnonymized = new(int64(0)), new(int64(12))
		return p
	},
	edges: func() []api.RetentionPolicy {
		// Each scope round-trips, apart from the others; empty ones stay
		// empty, apart from null.
		ids := retentionPolicy("ret_ids", "ids")
		ids.EndpointIDs = []string{"ep_b", "ep_a"}
		tags := retentionPolicy("ret_tags", "tags")
		tags.EndpointTags, tags.Tags, tags.AnonymizeFields = map[string]string{"team": "pay", "env": "prod"}, map[string]string{}, []string{}
		return []api.RetentionPolicy{ids, tags}
	},
	withTags: func(p api.RetentionPolicy, tags map[string]string) api.RetentionPolicy { p.Tags = tags; return p },
	meta:     func(p *api.RetentionPolicy) *api.Meta { return &p.Meta },
	stored: func(p api.RetentionPolicy) api.RetentionPolicy {
		p.CreatedAt, p.UpdatedAt = us(p.CreatedAt), us(p.UpdatedAt)
		p.LastRunAt, p.NextRunAt = usPtr(p.LastRunAt), usPtr(p.NextRunAt)
		p.Enabled = new(p.IsEnabled())
		return p
	},
	get: Reader.GetRetentionPolicy,
	list: func(r Reader, ctx context.Context, q ListQuery) ([]api.RetentionPolicy, string, error) {
		return r.ListRetentionPolicies(ctx, RetentionPolicyQuery{ListQuery: q})
	},
	insert: Tx.InsertRetentionPolicy,
	update: Tx.UpdateRetentionPolicy,
	delete: Tx.DeleteRetentionPolicy,
}

// retentionPolicy returns a minimal policy: every optional field nil.
func retentionPolicy(id, name string) api.RetentionPolicy {
	return api.RetentionPolicy{
		Meta: api.Meta{ID: id, Revision: 1, CreatedAt: t0, UpdatedAt: t0},
		Name: name, DataKind: api.DataProbeResults, MaxAge: "24h", Action: api.RetentionDelete,
	}
}
