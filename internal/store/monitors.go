package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// monitors is how monitors are stored. The credential of a monitor's
// request has a column of its own, so that referrers find it.
var monitors = newTable(table[api.Monitor]{
	tableSpec: tableSpec{
		name:   "monitors",
		prefix: api.PrefixMonitor,
		columns: []string{"name", "endpoint_id", "type", "enabled", "interval", "timeout", "request",
			"assertions", "retry_strategy", "degraded_response_time", "credential_id"},
		refs: []reference{{column: "endpoint_id", kind: api.KindEndpoint}, {column: "credential_id", kind: api.KindCredential}},
	},
	scan: scanMonitor,
	args: monitorArgs,
	meta: func(m *api.Monitor) *api.Meta { return &m.Meta },
	tags: func(m *api.Monitor) *map[string]string { return &m.Tags },
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
		m                                        api.Monitor
		enabled                                  bool
		interval                                 string
		timeout, req, asserts, retry, degr, cred sql.NullString
	)
	if err := s.Scan(&m.Name, &m.EndpointID, &m.Type, &enabled, &interval, &timeout, &req, &asserts,
		&retry, &degr, &cred); err != nil {
		return m, err
	}
	m.Enabled, m.Interval = &enabled, &interval
	m.Timeout, m.DegradedResponseTime = nullStringPtr(timeout), nullStringPtr(degr)
	var err error
	if m.Request, err = decodeJSONPtr[api.MonitorRequest](req); err != nil {
		return m, err
	}
	if m.Retry, err = decodeJSONPtr[api.RetryStrategy](retry); err != nil {
		return m, err
	}
	// An empty list of assertions ("[]") stays empty, apart from none (NULL).
	assertions, err := decodeJSONPtr[[]api.Assertion](asserts)
	if assertions != nil {
		m.Assertions = *assertions
	}
	return m, err
}

func monitorArgs(m api.Monitor) ([]any, error) {
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
	return []any{m.Name, m.EndpointID, m.Type, m.IsEnabled(), interval, m.Timeout, req, asserts, retry,
		m.DegradedResponseTime, cred}, nil
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

// MonitorIntervals reads the load that triggers keep in monitor_load
// (migration 00019) instead of counting the monitors: a handful of rows
// whatever the number of monitors. The monitor left out is taken off its
// own group.
func (r sqlReader) MonitorIntervals(ctx context.Context, except string) ([]IntervalCount, error) {
	rows, err := r.query(ctx, `SELECT interval, enabled, monitors FROM monitor_load ORDER BY interval, enabled`)
	counts, err := collect(rows, err, func(s scanner) (IntervalCount, error) {
		var c IntervalCount
		err := s.Scan(&c.Interval, &c.Enabled, &c.Count)
		return c, err
	})
	if err != nil || except == "" {
		return counts, err
	}
	var (
		interval string
		enabled  bool
	)
	switch err := r.queryRow(ctx, `SELECT interval, enabled FROM monitors WHERE id = ?`, except).Scan(&interval, &enabled); {
	case errors.Is(err, sql.ErrNoRows):
		return counts, nil
	case err != nil:
		return nil, err
	}
	for i, c := range counts {
		if c.Interval == interval && c.Enabled == enabled {
			if c.Count <= 1 {
				return slices.Delete(counts, i, i+1), nil
			}
			counts[i].Count--
			break
		}
	}
	return counts, nil
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
