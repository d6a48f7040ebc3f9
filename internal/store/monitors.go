package store

import (
	"context"
	"database/sql"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// monitors is how monitors are stored. The credential of a monitor's
// request has a column of its own, so that referrers find it.
var monitors = newTable(table[api.Monitor]{
	tableSpec: tableSpec{
		name: "monitors",
		columns: []string{"id", "name", "endpoint_id", "type", "enabled", "interval", "timeout", "tags", "request",
			"assertions", "retry_strategy", "degraded_response_time", "credential_id", "revision", "created_at", "updated_at"},
		refs: []reference{{column: "endpoint_id", kind: api.KindEndpoint}, {column: "credential_id", kind: api.KindCredential}},
	},
	scan: scanMonitor,
	args: monitorArgs,
	id:   func(m api.Monitor) string { return m.ID },
	tags: func(m api.Monitor) map[string]string { return m.Tags },
})

// MonitorQuery selects a page of monitors: the filters of every kind and
// the monitors' own.
type MonitorQuery struct {
	ListQuery
	// EndpointID selects the monitors of this endpoint.
	EndpointID string
}

func scanMonitor(s scanner) (api.Monitor, error) {
	var (
		m                                              api.Monitor
		enabled                                        bool
		interval                                       string
		timeout, tags, req, asserts, retry, degr, cred sql.NullString
		created, updated                               string
	)
	if err := s.Scan(&m.ID, &m.Name, &m.EndpointID, &m.Type, &enabled, &interval, &timeout, &tags, &req, &asserts,
		&retry, &degr, &cred, &m.Revision, &created, &updated); err != nil {
		return m, err
	}
	m.Enabled, m.Interval = &enabled, &interval
	m.Timeout, m.DegradedResponseTime = nullStringPtr(timeout), nullStringPtr(degr)
	var err error
	if m.Tags, err = decodeTags(tags); err != nil {
		return m, err
	}
	if req.Valid {
		m.Request = &api.MonitorRequest{}
		if err := decodeJSONColumn(req, m.Request); err != nil {
			return m, err
		}
	}
	if asserts.Valid {
		m.Assertions = []api.Assertion{}
		if err := decodeJSONColumn(asserts, &m.Assertions); err != nil {
			return m, err
		}
	}
	if retry.Valid {
		m.Retry = &api.RetryStrategy{}
		if err := decodeJSONColumn(retry, m.Retry); err != nil {
			return m, err
		}
	}
	if m.CreatedAt, err = parseTime(created); err != nil {
		return m, err
	}
	m.UpdatedAt, err = parseTime(updated)
	return m, err
}

func monitorArgs(m api.Monitor) ([]any, error) {
	tags, err := encodeTags(m.Tags)
	if err != nil {
		return nil, err
	}
	req, err := jsonColumn(m.Request, m.Request == nil)
	if err != nil {
		return nil, err
	}
	asserts, err := jsonColumn(m.Assertions, m.Assertions == nil)
	if err != nil {
		return nil, err
	}
	retry, err := jsonColumn(m.Retry, m.Retry == nil)
	if err != nil {
		return nil, err
	}
	var cred *string
	if m.Request != nil {
		cred = m.Request.CredentialID
	}
	interval := api.DefaultInterval
	if m.Interval != nil {
		interval = *m.Interval
	}
	return []any{m.ID, m.Name, m.EndpointID, m.Type, m.IsEnabled(), interval, m.Timeout, tags, req, asserts, retry,
		m.DegradedResponseTime, cred, m.Revision, fmtTime(m.CreatedAt), fmtTime(m.UpdatedAt)}, nil
}

func (r sqlReader) GetMonitor(ctx context.Context, id string) (api.Monitor, error) {
	return getObject(ctx, r, monitors, id)
}

func (r sqlReader) ListMonitors(ctx context.Context, q MonitorQuery) ([]api.Monitor, string, error) {
	var extra []filter
	if q.EndpointID != "" {
		extra = append(extra, filter{"endpoint_id = ?", q.EndpointID})
	}
	return listObjects(ctx, r, monitors, q.ListQuery, extra...)
}

func (r sqlReader) MonitorIntervals(ctx context.Context, except string) ([]IntervalCount, error) {
	rows, err := r.query(ctx, `SELECT interval, enabled, COUNT(*) FROM monitors WHERE id <> ?
		GROUP BY interval, enabled ORDER BY interval, enabled`, except)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []IntervalCount{}
	for rows.Next() {
		var c IntervalCount
		if err := rows.Scan(&c.Interval, &c.Enabled, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (t sqlTx) InsertMonitor(ctx context.Context, m api.Monitor) error {
	return insertObject(ctx, t, monitors, m)
}

func (t sqlTx) UpdateMonitor(ctx context.Context, m api.Monitor) error {
	return updateObject(ctx, t, monitors, m)
}

func (t sqlTx) DeleteMonitor(ctx context.Context, id string) error {
	return deleteObject(ctx, t, monitors, id)
}
