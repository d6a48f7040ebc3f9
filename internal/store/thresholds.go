package store

import (
	"context"
	"database/sql"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// thresholds is how alert thresholds are stored. A threshold references
// its monitor or endpoint by column, and its channels as a set, so that
// deleting any of them finds it as a referrer.
var thresholds = newTable(table[api.AlertThreshold]{
	tableSpec: tableSpec{
		name:   "alert_thresholds",
		prefix: api.PrefixThreshold,
		columns: []string{"name", "monitor_id", "endpoint_id", "metric", "comparison", "warning", "critical", "figure_window",
			"pending_for", "recovery_for", "recovery_warning", "recovery_critical", "no_data", "reminder_interval",
			"channel_ids", "enabled", "runbook_url", "description", "slo", "burn_rate_windows"},
		refs: []reference{
			{column: "monitor_id", kind: api.KindMonitor},
			{column: "endpoint_id", kind: api.KindEndpoint},
			{column: "channel_ids", kind: api.KindChannel, set: true},
		},
	},
	scan: scanThreshold,
	args: thresholdArgs,
	meta: func(a *api.AlertThreshold) *api.Meta { return &a.Meta },
	tags: func(a *api.AlertThreshold) *map[string]string { return &a.Tags },
	links: func(a *api.AlertThreshold) map[string][]string {
		return map[string][]string{"channel_ids": a.ChannelIDs}
	},
})

// ThresholdQuery selects a page of alert thresholds: the filters of every
// kind and the thresholds' own.
type ThresholdQuery struct {
	ListQuery
	// MonitorID selects the thresholds of this monitor.
	MonitorID string
	// EndpointID selects the thresholds of this endpoint (over all its
	// monitors), not those of its monitors one by one.
	EndpointID string
	// Metric selects the thresholds of this metric.
	Metric string
}

func scanThreshold(s scanner) (api.AlertThreshold, error) {
	var (
		a                                                    api.AlertThreshold
		enabled                                              bool
		pending, recovery                                    string
		mon, ep, cmp, window, reminder, channels, runbook    sql.NullString
		desc, slo, windows                                   sql.NullString
		warning, critical, recoveryWarning, recoveryCritical sql.NullFloat64
	)
	err := s.Scan(&a.Name, &mon, &ep, &a.Metric, &cmp, &warning, &critical, &window, &pending, &recovery,
		&recoveryWarning, &recoveryCritical, &a.NoData, &reminder, &channels, &enabled, &runbook, &desc, &slo, &windows)
	if err != nil {
		return a, err
	}
	a.MonitorID, a.EndpointID, a.Comparison, a.Window = nullStringPtr(mon), nullStringPtr(ep), nullStringPtr(cmp), nullStringPtr(window)
	a.PendingFor, a.RecoveryFor, a.Enabled = &pending, &recovery, &enabled
	a.ReminderInterval, a.RunbookURL, a.Description = nullStringPtr(reminder), nullStringPtr(runbook), nullStringPtr(desc)
	a.Warning, a.Critical = nullFloatPtr(warning), nullFloatPtr(critical)
	a.RecoveryWarning, a.RecoveryCritical = nullFloatPtr(recoveryWarning), nullFloatPtr(recoveryCritical)
	ids, err := decodeJSONPtr[[]string](channels)
	if ids != nil {
		a.ChannelIDs = *ids
	}
	if err != nil {
		return a, err
	}
	if a.SLO, err = decodeJSONPtr[api.SLO](slo); err != nil {
		return a, err
	}
	w, err := decodeJSONPtr[[]api.BurnRateWindow](windows)
	if w != nil {
		a.BurnRateWindows = *w
	}
	return a, err
}

func thresholdArgs(a api.AlertThreshold) ([]any, error) {
	channels, err := jsonColumn(a.ChannelIDs, a.ChannelIDs == nil)
	if err != nil {
		return nil, err
	}
	slo, err := jsonColumn(a.SLO, a.SLO == nil)
	if err != nil {
		return nil, err
	}
	windows, err := jsonColumn(a.BurnRateWindows, a.BurnRateWindows == nil)
	if err != nil {
		return nil, err
	}
	pending, recovery, noData := api.DefaultPendingFor, api.DefaultRecoveryFor, a.NoData
	if a.PendingFor != nil {
		pending = *a.PendingFor
	}
	if a.RecoveryFor != nil {
		recovery = *a.RecoveryFor
	}
	if noData == "" {
		noData = api.DefaultNoData
	}
	return []any{a.Name, a.MonitorID, a.EndpointID, a.Metric, a.Comparison, a.Warning, a.Critical, a.Window, pending, recovery,
		a.RecoveryWarning, a.RecoveryCritical, noData, a.ReminderInterval, channels, a.IsEnabled(), a.RunbookURL, a.Description,
		slo, windows}, nil
}

func (r sqlReader) GetThreshold(ctx context.Context, id string) (api.AlertThreshold, error) {
	return getObject(ctx, r, thresholds, id)
}

func (r sqlReader) ListThresholds(ctx context.Context, q ThresholdQuery) ([]api.AlertThreshold, string, error) {
	var extra []filter
	if q.MonitorID != "" {
		extra = append(extra, filter{"monitor_id = ?", q.MonitorID})
	}
	if q.EndpointID != "" {
		extra = append(extra, filter{"endpoint_id = ?", q.EndpointID})
	}
	if q.Metric != "" {
		extra = append(extra, filter{"metric = ?", q.Metric})
	}
	return listObjects(ctx, r, thresholds, q.ListQuery, extra...)
}

func (r sqlReader) MonitorReferrers(ctx context.Context, id string) ([]string, error) {
	return r.referrers(ctx, api.KindMonitor, id)
}

func (t sqlTx) InsertThreshold(ctx context.Context, a api.AlertThreshold) error {
	return insertObject(ctx, t, thresholds, a)
}

func (t sqlTx) UpdateThreshold(ctx context.Context, a api.AlertThreshold) error {
	return updateObject(ctx, t, thresholds, a)
}

func (t sqlTx) DeleteThreshold(ctx context.Context, id string) error {
	return deleteObject(ctx, t, thresholds, id)
}
