package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// retentionPolicies is how retention policies are stored. The endpoints a
// policy names are not references: a policy may outlive an endpoint (it
// then covers nothing of it), and it must not block the endpoint's delete,
// which is how erasure of an endpoint often begins.
var retentionPolicies = newTable(table[api.RetentionPolicy]{
	tableSpec: tableSpec{
		name:   "retention_policies",
		prefix: api.PrefixRetention,
		columns: []string{"name", "data_kind", "max_age", "action", "anonymize_fields", "endpoint_ids", "endpoint_tags",
			"data_classifications", "enabled", "description", "last_run_at", "last_run_deleted", "last_run_anonymized", "next_run_at"},
	},
	scan: scanRetentionPolicy,
	args: retentionPolicyArgs,
	meta: func(p *api.RetentionPolicy) *api.Meta { return &p.Meta },
	tags: func(p *api.RetentionPolicy) *map[string]string { return &p.Tags },
})

// RetentionPolicyQuery selects a page of retention policies.
type RetentionPolicyQuery struct {
	ListQuery
	// DataKind selects the policies of one data kind.
	DataKind string
}

func scanRetentionPolicy(s scanner) (api.RetentionPolicy, error) {
	var (
		p                                api.RetentionPolicy
		enabled                          bool
		fields, ids, tags, classes, desc sql.NullString
		lastRun, nextRun                 sql.NullString
		lastDeleted, lastAnonymized      sql.NullInt64
	)
	err := s.Scan(&p.Name, &p.DataKind, &p.MaxAge, &p.Action, &fields, &ids, &tags, &classes, &enabled, &desc,
		&lastRun, &lastDeleted, &lastAnonymized, &nextRun)
	if err != nil {
		return p, err
	}
	p.Enabled, p.Description = &enabled, nullStringPtr(desc)
	p.LastRunDeleted, p.LastRunAnonymized = nullInt64(lastDeleted), nullInt64(lastAnonymized)
	if p.LastRunAt, err = parseTimePtr(lastRun); err != nil {
		return p, err
	}
	if p.NextRunAt, err = parseTimePtr(nextRun); err != nil {
		return p, err
	}
	for _, c := range []struct {
		col sql.NullString
		dst *[]string
	}{{fields, &p.AnonymizeFields}, {ids, &p.EndpointIDs}, {classes, &p.DataClassifications}} {
		v, err := decodeJSONPtr[[]string](c.col)
		if err != nil {
			return p, err
		}
		if v != nil {
			*c.dst = *v
		}
	}
	if p.EndpointTags, err = decodeTags(tags); err != nil {
		return p, err
	}
	return p, nil
}

func retentionPolicyArgs(p api.RetentionPolicy) ([]any, error) {
	fields, err := jsonColumn(p.AnonymizeFields, p.AnonymizeFields == nil)
	if err != nil {
		return nil, err
	}
	ids, err := jsonColumn(p.EndpointIDs, p.EndpointIDs == nil)
	if err != nil {
		return nil, err
	}
	tags, err := encodeTags(p.EndpointTags)
	if err != nil {
		return nil, err
	}
	classes, err := jsonColumn(p.DataClassifications, p.DataClassifications == nil)
	if err != nil {
		return nil, err
	}
	return []any{p.Name, p.DataKind, p.MaxAge, p.Action, fields, ids, tags, classes, p.IsEnabled(), p.Description,
		fmtTimePtr(p.LastRunAt), p.LastRunDeleted, p.LastRunAnonymized, fmtTimePtr(p.NextRunAt)}, nil
}

func (r sqlReader) GetRetentionPolicy(ctx context.Context, id string) (api.RetentionPolicy, error) {
	return getObject(ctx, r, retentionPolicies, id)
}

func (r sqlReader) ListRetentionPolicies(ctx context.Context, q RetentionPolicyQuery) ([]api.RetentionPolicy, string, error) {
	var extra []filter
	if q.DataKind != "" {
		extra = append(extra, filter{"data_kind = ?", q.DataKind})
	}
	return listObjects(ctx, r, retentionPolicies, q.ListQuery, extra...)
}

func (t sqlTx) InsertRetentionPolicy(ctx context.Context, p api.RetentionPolicy) error {
	return insertObject(ctx, t, retentionPolicies, p)
}

func (t sqlTx) UpdateRetentionPolicy(ctx context.Context, p api.RetentionPolicy) error {
	return updateObject(ctx, t, retentionPolicies, p)
}

func (t sqlTx) DeleteRetentionPolicy(ctx context.Context, id string) error {
	return deleteObject(ctx, t, retentionPolicies, id)
}

// SetRetentionPolicyRun records what a run of the policy did and when the
// next is due, without a revision: it is a report, not a change of the
// configuration. A policy deleted meanwhile is no error.
func (t sqlTx) SetRetentionPolicyRun(ctx context.Context, id string, at time.Time, deleted, anonymized int64, next time.Time) error {
	_, err := t.exec(ctx, `UPDATE retention_policies SET last_run_at = ?, last_run_deleted = ?, last_run_anonymized = ?, next_run_at = ?
		WHERE id = ?`, fmtTime(at), deleted, anonymized, fmtTime(next), id)
	return err
}

// SetRetentionNextRun records when the next scheduled run of every
// enabled policy is due; a disabled policy has none.
func (t sqlTx) SetRetentionNextRun(ctx context.Context, next time.Time) error {
	_, err := t.exec(ctx, `UPDATE retention_policies SET next_run_at = CASE WHEN enabled THEN ? ELSE NULL END`, fmtTime(next))
	return err
}
