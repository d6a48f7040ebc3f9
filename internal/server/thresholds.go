package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// thresholds declares the alert threshold kind. A threshold references a
// monitor or an endpoint and its notification channels, which must exist;
// those references block their deletes (the store's table spec says so).
func (s *Server) thresholds() *kindSpec[api.AlertThreshold, *api.AlertThreshold] {
	return &kindSpec[api.AlertThreshold, *api.AlertThreshold]{
		kind: api.ThresholdKind,
		get:  store.Reader.GetThreshold,
		list: func(r store.Reader, ctx context.Context, q store.ListQuery, params url.Values) ([]api.AlertThreshold, string, error) {
			return r.ListThresholds(ctx, store.ThresholdQuery{ListQuery: q, MonitorID: params.Get("monitor_id"),
				EndpointID: params.Get("endpoint_id"), Metric: params.Get("metric")})
		},
		insert: store.Tx.InsertThreshold,
		update: store.Tx.UpdateThreshold,
		remove: store.Tx.DeleteThreshold,
		name:   func(a api.AlertThreshold) string { return a.Name },
		decode: decodeObject[api.AlertThreshold],
		check: func(ctx context.Context, tx store.Reader, _ *api.AlertThreshold, next api.AlertThreshold) error {
			return checkThresholdRefs(ctx, tx, next)
		},
		changes: func(_ context.Context, a, b api.AlertThreshold) []string { return thresholdChanges(a, b) },
		notify:  true,
	}
}

// checkThresholdRefs answers 400 on the field when the monitor, the
// endpoint or a channel the threshold names does not exist.
func checkThresholdRefs(ctx context.Context, tx store.Reader, a api.AlertThreshold) error {
	var errs []api.FieldError
	if a.MonitorID != nil {
		if _, err := tx.GetMonitor(ctx, *a.MonitorID); errors.Is(err, store.ErrNotFound) {
			errs = append(errs, api.FieldError{Field: "monitor_id", Message: fmt.Sprintf("no monitor has the ID %q", *a.MonitorID)})
		} else if err != nil {
			return err
		}
	}
	if a.EndpointID != nil {
		if _, err := tx.GetEndpoint(ctx, *a.EndpointID); errors.Is(err, store.ErrNotFound) {
			errs = append(errs, api.FieldError{Field: "endpoint_id", Message: fmt.Sprintf("no endpoint has the ID %q", *a.EndpointID)})
		} else if err != nil {
			return err
		}
	}
	if err := checkChannelRefs(ctx, tx, "channel_ids", a.ChannelIDs); err != nil {
		var p *problemError
		if !errors.As(err, &p) {
			return err
		}
		errs = append(errs, p.fields...)
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	return nil
}

// thresholdChanges names the fields that differ. Durations compare by
// value ("60s" and "1m" are the same, and so are "0s" and "0m"), channel
// IDs as a set, values as numbers.
func thresholdChanges(a, b api.AlertThreshold) []string {
	var out changeList
	out.add("name", a.Name != b.Name)
	out.add("monitor_id", !eqPtr(a.MonitorID, b.MonitorID))
	out.add("endpoint_id", !eqPtr(a.EndpointID, b.EndpointID))
	out.add("metric", a.Metric != b.Metric)
	out.add("comparison", !eqPtr(a.Comparison, b.Comparison))
	out.add("warning", !eqPtr(a.Warning, b.Warning))
	out.add("critical", !eqPtr(a.Critical, b.Critical))
	out.add("window", !sameHold(a.Window, b.Window))
	out.add("pending_for", !sameHold(a.PendingFor, b.PendingFor))
	out.add("recovery_for", !sameHold(a.RecoveryFor, b.RecoveryFor))
	out.add("recovery_warning", !eqPtr(a.RecoveryWarning, b.RecoveryWarning))
	out.add("recovery_critical", !eqPtr(a.RecoveryCritical, b.RecoveryCritical))
	out.add("no_data", a.NoData != b.NoData)
	out.add("reminder_interval", !sameHold(a.ReminderInterval, b.ReminderInterval))
	out.add("channel_ids", !sameSet(a.ChannelIDs, b.ChannelIDs))
	out.add("enabled", !eqPtr(a.Enabled, b.Enabled))
	out.nested("tags", a.Tags, b.Tags)
	out.add("runbook_url", !eqPtr(a.RunbookURL, b.RunbookURL))
	out.add("description", !eqPtr(a.Description, b.Description))
	out.nested("slo", canonicalSLO(a.SLO), canonicalSLO(b.SLO))
	out.nested("burn_rate_windows", canonicalWindows(a.BurnRateWindows), canonicalWindows(b.BurnRateWindows))
	return out
}

// sameHold compares two optional durations by value, zero included.
func sameHold(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	da, errA := time.ParseDuration(*a)
	db, errB := time.ParseDuration(*b)
	if errA != nil || errB != nil {
		return *a == *b
	}
	return da == db
}

// canonicalDuration writes a duration in one form, so that nested values
// compare by value.
func canonicalDuration(s string) string {
	if d, err := time.ParseDuration(s); err == nil {
		return d.String()
	}
	return s
}

func canonicalSLO(s *api.SLO) *api.SLO {
	if s == nil {
		return nil
	}
	c := *s
	c.Period = canonicalDuration(c.Period)
	return &c
}

func canonicalWindows(ws []api.BurnRateWindow) []api.BurnRateWindow {
	if ws == nil {
		return nil
	}
	out := make([]api.BurnRateWindow, len(ws))
	for i, w := range ws {
		w.LongWindow, w.ShortWindow = canonicalDuration(w.LongWindow), canonicalDuration(w.ShortWindow)
		out[i] = w
	}
	return out
}
