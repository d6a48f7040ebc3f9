package provider

import (
	"context"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// The alert threshold kind: its model and conversions, shared by the
// aio_alert_threshold resource and the aio_alert_threshold and
// aio_alert_thresholds data sources. As for the monitor, the nested
// attributes (slo, burn_rate_windows) are types.Object and types.List, so
// that they can hold unknown values.

// thresholdKind describes alert thresholds to the generic resource and
// data sources.
var thresholdKind = &kind[api.AlertThreshold, thresholdModel]{
	name:                  "alert_threshold",
	plural:                "alert_thresholds",
	prefix:                api.PrefixThreshold,
	schema:                thresholdResourceSchema,
	dataSourceDescription: "Reads one alert threshold, chosen by `id` or by `name`, as aiod has it now.",
	fromAPI:               thresholdModelFromAPI,
	create:                (*client.Client).CreateThreshold,
	get:                   (*client.Client).GetThreshold,
	update:                (*client.Client).UpdateThreshold,
	delete:                (*client.Client).DeleteThreshold,
	list: func(ctx context.Context, c *client.Client, opts client.ListOptions, extra map[string]string) ([]api.AlertThreshold, error) {
		return c.ListAllThresholds(ctx, client.ThresholdListOptions{ListOptions: opts,
			MonitorID: extra["monitor_id"], EndpointID: extra["endpoint_id"], Metric: extra["metric"]})
	},
}

// thresholdModel is the state of aio_alert_threshold, of the data source
// and of each item of aio_alert_thresholds.
type thresholdModel struct {
	ID               types.String      `tfsdk:"id"`
	Name             types.String      `tfsdk:"name"`
	MonitorID        types.String      `tfsdk:"monitor_id"`
	EndpointID       types.String      `tfsdk:"endpoint_id"`
	Metric           types.String      `tfsdk:"metric"`
	Comparison       types.String      `tfsdk:"comparison"`
	Warning          types.Float64     `tfsdk:"warning"`
	Critical         types.Float64     `tfsdk:"critical"`
	Window           durationValue     `tfsdk:"window"`
	PendingFor       holdDurationValue `tfsdk:"pending_for"`
	RecoveryFor      holdDurationValue `tfsdk:"recovery_for"`
	RecoveryWarning  types.Float64     `tfsdk:"recovery_warning"`
	RecoveryCritical types.Float64     `tfsdk:"recovery_critical"`
	NoData           types.String      `tfsdk:"no_data"`
	ReminderInterval durationValue     `tfsdk:"reminder_interval"`
	ChannelIDs       types.Set         `tfsdk:"channel_ids"`
	Enabled          types.Bool        `tfsdk:"enabled"`
	Tags             types.Map         `tfsdk:"tags"`
	RunbookURL       types.String      `tfsdk:"runbook_url"`
	Description      types.String      `tfsdk:"description"`
	SLO              types.Object      `tfsdk:"slo"`
	BurnRateWindows  types.List        `tfsdk:"burn_rate_windows"`
	Revision         types.Int64       `tfsdk:"revision"`
	CreatedAt        timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt        timetypes.RFC3339 `tfsdk:"updated_at"`
}

// sloModel is the value of slo.
type sloModel struct {
	ObjectivePercent types.Float64 `tfsdk:"objective_percent"`
	Period           durationValue `tfsdk:"period"`
}

// burnRateWindowModel is one element of burn_rate_windows.
type burnRateWindowModel struct {
	LongWindow  durationValue `tfsdk:"long_window"`
	ShortWindow durationValue `tfsdk:"short_window"`
	Factor      types.Float64 `tfsdk:"factor"`
	Severity    types.String  `tfsdk:"severity"`
}

// thresholdNestedTypes are the attribute types of the nested attributes,
// read from the resource schema once so that they cannot drift from it.
type thresholdNestedTypes struct {
	slo, window map[string]attr.Type
}

var thresholdTypes = sync.OnceValue(func() thresholdNestedTypes {
	attrs := thresholdResourceSchema().Attributes
	return thresholdNestedTypes{
		slo:    attrs["slo"].GetType().(types.ObjectType).AttrTypes,
		window: attrs["burn_rate_windows"].GetType().(types.ListType).ElemType.(types.ObjectType).AttrTypes,
	}
})

// holdDurationFromAPI is durationFromAPI for durations that may be zero.
func holdDurationFromAPI(ctx context.Context, v *string, prior holdDurationValue) holdDurationValue {
	nv := holdDurationOf(v)
	if v != nil && known(prior) {
		if eq, _ := prior.StringSemanticEquals(ctx, nv); eq {
			return prior
		}
	}
	return nv
}

// thresholdModelFromAPI converts an API threshold to the model; prior
// (plan or state, or the zero value) keeps durations as written when they
// mean the same.
func thresholdModelFromAPI(ctx context.Context, a api.AlertThreshold, prior thresholdModel) (thresholdModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	nt := thresholdTypes()
	out := thresholdModel{
		ID:               types.StringValue(a.ID),
		Name:             types.StringValue(a.Name),
		MonitorID:        types.StringPointerValue(a.MonitorID),
		EndpointID:       types.StringPointerValue(a.EndpointID),
		Metric:           types.StringValue(a.Metric),
		Comparison:       types.StringPointerValue(a.Comparison),
		Warning:          types.Float64PointerValue(a.Warning),
		Critical:         types.Float64PointerValue(a.Critical),
		Window:           durationFromAPI(ctx, a.Window, prior.Window),
		PendingFor:       holdDurationFromAPI(ctx, a.PendingFor, prior.PendingFor),
		RecoveryFor:      holdDurationFromAPI(ctx, a.RecoveryFor, prior.RecoveryFor),
		RecoveryWarning:  types.Float64PointerValue(a.RecoveryWarning),
		RecoveryCritical: types.Float64PointerValue(a.RecoveryCritical),
		NoData:           types.StringValue(a.NoData),
		ReminderInterval: durationFromAPI(ctx, a.ReminderInterval, prior.ReminderInterval),
		ChannelIDs:       stringSetFromAPI(a.ChannelIDs),
		Enabled:          types.BoolValue(a.IsEnabled()),
		Tags:             tagsFromAPI(a.Tags),
		RunbookURL:       types.StringPointerValue(a.RunbookURL),
		Description:      types.StringPointerValue(a.Description),
		SLO:              types.ObjectNull(nt.slo),
		BurnRateWindows:  types.ListNull(types.ObjectType{AttrTypes: nt.window}),
		Revision:         types.Int64Value(a.Revision),
		CreatedAt:        timeValue(a.CreatedAt),
		UpdatedAt:        timeValue(a.UpdatedAt),
	}
	if a.SLO != nil {
		var ps sloModel
		if !prior.SLO.IsNull() && fullyKnown(ctx, prior.SLO) {
			diags.Append(prior.SLO.As(ctx, &ps, basetypes.ObjectAsOptions{})...)
		}
		var d diag.Diagnostics
		out.SLO, d = types.ObjectValueFrom(ctx, nt.slo, sloModel{
			ObjectivePercent: types.Float64Value(a.SLO.ObjectivePercent),
			Period:           durationFromAPI(ctx, &a.SLO.Period, ps.Period),
		})
		diags.Append(d...)
	}
	if a.BurnRateWindows != nil {
		var pw []burnRateWindowModel
		// The zero model (a data source's) has a null list without an element
		// type, which only IsNull may look at.
		if !prior.BurnRateWindows.IsNull() && fullyKnown(ctx, prior.BurnRateWindows) {
			diags.Append(prior.BurnRateWindows.ElementsAs(ctx, &pw, false)...)
		}
		ws := make([]burnRateWindowModel, len(a.BurnRateWindows))
		for i, w := range a.BurnRateWindows {
			var p burnRateWindowModel
			if i < len(pw) {
				p = pw[i]
			}
			ws[i] = burnRateWindowModel{
				LongWindow:  durationFromAPI(ctx, &w.LongWindow, p.LongWindow),
				ShortWindow: durationFromAPI(ctx, &w.ShortWindow, p.ShortWindow),
				Factor:      types.Float64Value(w.Factor),
				Severity:    types.StringValue(w.Severity),
			}
		}
		var d diag.Diagnostics
		out.BurnRateWindows, d = types.ListValueFrom(ctx, types.ObjectType{AttrTypes: nt.window}, ws)
		diags.Append(d...)
	}
	return out, diags
}

// float64Ptr returns nil for a null or unknown number.
func float64Ptr(v types.Float64) *float64 {
	if !known(v) {
		return nil
	}
	f := v.ValueFloat64()
	return &f
}

// toAPI converts the model to the API's form. Values not known yet are
// left out (as null), which only ValidateConfig sees: a plan given to
// Create or Update is known.
func (m thresholdModel) toAPI(ctx context.Context) (api.AlertThreshold, diag.Diagnostics) {
	var diags diag.Diagnostics
	out := api.AlertThreshold{
		Name:             m.Name.ValueString(),
		MonitorID:        stringPtr(m.MonitorID),
		EndpointID:       stringPtr(m.EndpointID),
		Metric:           m.Metric.ValueString(),
		Comparison:       stringPtr(m.Comparison),
		Warning:          float64Ptr(m.Warning),
		Critical:         float64Ptr(m.Critical),
		Window:           durationPtr(m.Window),
		PendingFor:       stringPtr(m.PendingFor.StringValue),
		RecoveryFor:      stringPtr(m.RecoveryFor.StringValue),
		RecoveryWarning:  float64Ptr(m.RecoveryWarning),
		RecoveryCritical: float64Ptr(m.RecoveryCritical),
		NoData:           m.NoData.ValueString(),
		ReminderInterval: durationPtr(m.ReminderInterval),
		Enabled:          boolPtr(m.Enabled),
		RunbookURL:       stringPtr(m.RunbookURL),
		Description:      stringPtr(m.Description),
	}
	var d diag.Diagnostics
	out.Tags, d = tagsToAPI(ctx, m.Tags)
	diags.Append(d...)
	if fullyKnown(ctx, m.ChannelIDs) && !m.ChannelIDs.IsNull() {
		out.ChannelIDs = []string{}
		diags.Append(m.ChannelIDs.ElementsAs(ctx, &out.ChannelIDs, false)...)
	}
	if fullyKnown(ctx, m.SLO) && !m.SLO.IsNull() {
		var s sloModel
		diags.Append(m.SLO.As(ctx, &s, basetypes.ObjectAsOptions{})...)
		out.SLO = &api.SLO{ObjectivePercent: s.ObjectivePercent.ValueFloat64(), Period: s.Period.ValueString()}
	}
	if fullyKnown(ctx, m.BurnRateWindows) && !m.BurnRateWindows.IsNull() {
		var ws []burnRateWindowModel
		diags.Append(m.BurnRateWindows.ElementsAs(ctx, &ws, false)...)
		out.BurnRateWindows = make([]api.BurnRateWindow, len(ws))
		for i, w := range ws {
			out.BurnRateWindows[i] = api.BurnRateWindow{LongWindow: w.LongWindow.ValueString(), ShortWindow: w.ShortWindow.ValueString(),
				Factor: w.Factor.ValueFloat64(), Severity: w.Severity.ValueString()}
		}
	}
	return out, diags
}
