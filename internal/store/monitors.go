package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

const monitorColumns = `id, name, endpoint_id, type, enabled, interval, timeout, tags, request, assertions, retry_strategy,
	degraded_response_time, credential_id, revision, created_at, updated_at`

// jsonColumn encodes an optional value as JSON text, nil as NULL.
func jsonColumn(v any, isNil bool) (any, error) {
	if isNil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

func decodeJSONColumn(s sql.NullString, v any) error {
	if !s.Valid {
		return nil
	}
	return json.Unmarshal([]byte(s.String), v)
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
	m, err := scanMonitor(r.queryRow(ctx, `SELECT `+monitorColumns+` FROM monitors WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	return m, err
}

func (r sqlReader) ListMonitors(ctx context.Context, q ListQuery) ([]api.Monitor, string, error) {
	where, args := listWhere(q)
	if q.EndpointID != "" {
		if where == "" {
			where = " WHERE endpoint_id = ?"
		} else {
			where += " AND endpoint_id = ?"
		}
		args = append(args, q.EndpointID)
	}
	return listByID(ctx, r, `SELECT `+monitorColumns+` FROM monitors`+where, args, q.Limit, scanMonitor,
		func(m api.Monitor) string { return m.ID })
}

func (r sqlReader) EndpointReferrers(ctx context.Context, id string) ([]string, error) {
	return r.ids(ctx, `SELECT id FROM monitors WHERE endpoint_id = ? ORDER BY id`, id)
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

func (r sqlReader) ids(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (t sqlTx) InsertMonitor(ctx context.Context, m api.Monitor) error {
	args, err := monitorArgs(m)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `INSERT INTO monitors (`+monitorColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
		return err
	}
	return t.putTags(ctx, m.ID, m.Tags)
}

func (t sqlTx) UpdateMonitor(ctx context.Context, m api.Monitor) error {
	args, err := monitorArgs(m)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, `UPDATE monitors SET id = ?, name = ?, endpoint_id = ?, type = ?, enabled = ?, interval = ?,
		timeout = ?, tags = ?, request = ?, assertions = ?, retry_strategy = ?, degraded_response_time = ?, credential_id = ?,
		revision = ?, created_at = ?, updated_at = ? WHERE id = ?`, append(args, m.ID)...); err != nil {
		return err
	}
	return t.putTags(ctx, m.ID, m.Tags)
}

func (t sqlTx) DeleteMonitor(ctx context.Context, id string) error {
	if err := t.execOne(ctx, `DELETE FROM monitors WHERE id = ?`, id); err != nil {
		return err
	}
	_, err := t.exec(ctx, `DELETE FROM object_tags WHERE object_id = ?`, id)
	return err
}
