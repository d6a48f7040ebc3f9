package provider

import (
	"context"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

var (
	_ resource.ResourceWithConfigure      = (*thresholdResource)(nil)
	_ resource.ResourceWithImportState    = (*thresholdResource)(nil)
	_ resource.ResourceWithValidateConfig = (*thresholdResource)(nil)
	_ resource.ResourceWithUpgradeState   = (*thresholdResource)(nil)
)

// NewThresholdResource returns the aio_alert_threshold resource.
func NewThresholdResource() resource.Resource {
	return &thresholdResource{objectResource[api.AlertThreshold, thresholdModel]{kind: thresholdKind}}
}

// thresholdResource manages an alert threshold: the generic resource, with
// the API's cross-field rules applied at plan time (ValidateConfig).
type thresholdResource struct {
	objectResource[api.AlertThreshold, thresholdModel]
}

// channelIDRegexp matches the form of a notification channel ID.
var channelIDRegexp = regexp.MustCompile(`^chan_[0-9a-z]+$`)

// thresholdValueDescription describes warning, critical and their
// recovery values.
func thresholdValueDescription(first string) string {
	return first + " In the metric's unit: percent (0 to 100) for `availability_percent`, `error_rate_percent` and `retry_rate_percent`; " +
		"milliseconds for the latencies; probes per minute; a whole number of at least 1 for `consecutive_failures`; days for the expiries. " +
		"Not used by `error_budget_burn_rate`. Unset by default."
}

// thresholdResourceSchema is the schema of aio_alert_threshold; the data
// sources derive theirs from it.
func thresholdResourceSchema() schema.Schema {
	windowDuration := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Required: true, CustomType: durationType{}, PlanModifiers: durationPlanModifiers()}
	}
	return schema.Schema{
		// Version 0 is the first shape of the state; see UpgradeState in
		// object_resource.go before changing it.
		Version: 0,
		MarkdownDescription: "An alert threshold: a rule on a health figure of one monitor, or of all the monitors of an endpoint together, that raises a `warning` or `critical` alert and tells the notification channels in `channel_ids`. " +
			"It watches one metric: availability, error or retry rate, latency (average, p95, p99), throughput, consecutive failures, days until the TLS certificate or the credential expires, " +
			"or the burn rate of an SLO's error budget (multiwindow, as in the Google SRE workbook). " +
			"aiod evaluates every enabled threshold every 10 seconds from the stored rollups; the `aio_alerts` data source reads the current alerts, for a CI gate.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The threshold's ID, assigned by aiod, such as `thr_01h...`.", Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "The threshold's name, unique among alert thresholds: 1 to 128 letters, digits, `.`, `_` or `-`, starting with a letter or digit.",
				Required:            true, Validators: nameValidators(),
			},
			"monitor_id": schema.StringAttribute{
				MarkdownDescription: "The ID of the `aio_monitor` whose figure is watched. Set exactly one of `monitor_id` and `endpoint_id`. A monitor that thresholds watch cannot be deleted. Unset by default.",
				Optional:            true,
				Validators:          optionalString(stringvalidator.RegexMatches(monitorIDRegexp, "must be a monitor ID, as in mon_...")),
			},
			"endpoint_id": schema.StringAttribute{
				MarkdownDescription: "The ID of the `aio_endpoint` whose monitors' figures are watched together, as one figure over all their probes. Set exactly one of `monitor_id` and `endpoint_id`. An endpoint that thresholds watch cannot be deleted. Unset by default.",
				Optional:            true,
				Validators:          optionalString(stringvalidator.RegexMatches(endpointIDRegexp, "must be an endpoint ID, as in ep_...")),
			},
			"metric": schema.StringAttribute{
				MarkdownDescription: "The figure watched: one of " + oneOfDescription(api.ThresholdMetrics) + ". " +
					"The percentages, latencies and `probes_per_minute` are computed over `window`; `consecutive_failures` is the current run of failed probes, among the raw results aiod keeps (4 hours by default: up to 1,440 probes at a 10 s interval); " +
					"`tls_cert_expires_in_days` and `credential_expires_in_days` are the days left until the certificate the probes see, or the credential's `expires_at` or `rotation_due_at`, whichever is earlier; " +
					"`error_budget_burn_rate` alerts through `slo` and `burn_rate_windows` instead of `comparison`, `warning` and `critical`.",
				Required:   true,
				Validators: []validator.String{stringvalidator.OneOf(api.ThresholdMetrics...)},
			},
			"comparison": schema.StringAttribute{
				MarkdownDescription: "Whether the alert fires when the figure is `above` or `below` the values. Required for every metric except `error_budget_burn_rate`, which does not use it. Unset by default.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(api.ThresholdComparisons...)},
			},
			"warning": schema.Float64Attribute{
				MarkdownDescription: thresholdValueDescription("The value past which a `warning` alert fires. Set `warning`, `critical` or both; the warning must be on the less severe side of the critical value (below it with `above`, above it with `below`)."),
				Optional:            true,
			},
			"critical": schema.Float64Attribute{
				MarkdownDescription: thresholdValueDescription("The value past which a `critical` alert fires. Set `warning`, `critical` or both."),
				Optional:            true,
			},
			"window": schema.StringAttribute{
				MarkdownDescription: "The span the figure is computed over, as a Go duration from `1m` to `2160h` (90 days); `60m` and `1h` are the same value. Required for the metrics computed over a window (the percentages, latencies and `probes_per_minute`), not used by the others. Unset by default.",
				Optional:            true, CustomType: durationType{}, PlanModifiers: durationPlanModifiers(),
			},
			"pending_for": schema.StringAttribute{
				MarkdownDescription: "How long the condition must hold before the alert fires, as a Go duration from `0s` to `168h` (7 days). Defaults to `0s`: the alert fires at the first evaluation that sees the condition.",
				Optional:            true, Computed: true, CustomType: holdDurationType{}, PlanModifiers: durationPlanModifiers(),
				Default: stringdefault.StaticString(api.DefaultPendingFor),
			},
			"recovery_for": schema.StringAttribute{
				MarkdownDescription: "How long the condition must be clear before the alert resolves, as a Go duration from `0s` to `168h` (7 days). Defaults to `0s`: the alert resolves at the first evaluation that sees it clear.",
				Optional:            true, Computed: true, CustomType: holdDurationType{}, PlanModifiers: durationPlanModifiers(),
				Default: stringdefault.StaticString(api.DefaultRecoveryFor),
			},
			"recovery_warning": schema.Float64Attribute{
				MarkdownDescription: thresholdValueDescription("Hysteresis of the warning: a `warning` alert resolves only once the figure is past this value, which must lie on the clear side of `warning` (below it with `above`, above it with `below`). Requires `warning`; without it the alert resolves as soon as the figure is back past `warning`."),
				Optional:            true,
			},
			"recovery_critical": schema.Float64Attribute{
				MarkdownDescription: thresholdValueDescription("Hysteresis of the critical alert, as `recovery_warning` is of the warning. Requires `critical`."),
				Optional:            true,
			},
			"no_data": schema.StringAttribute{
				MarkdownDescription: "What the threshold is when its window holds no figure (no probes): `ok` (no alert), `alerting` (the alert fires at its most severe level) or `keep_last` (the state stays as it was). Defaults to `ok`.",
				Optional:            true, Computed: true, Default: stringdefault.StaticString(api.DefaultNoData),
				Validators: []validator.String{stringvalidator.OneOf(api.NoDataPolicies...)},
			},
			"reminder_interval": schema.StringAttribute{
				MarkdownDescription: "How often a firing alert is sent again, as a Go duration from `1m` to `168h` (7 days). Unset by default: an alert is sent when it fires and when it resolves, never in between.",
				Optional:            true, CustomType: durationType{}, PlanModifiers: durationPlanModifiers(),
			},
			"channel_ids": schema.SetAttribute{
				MarkdownDescription: "The IDs of the `aio_notification_channel`s told of the threshold's alerts, a set of at most 20. A channel that thresholds use cannot be deleted. Unset by default (alerts are recorded, and sent nowhere).",
				Optional:            true, ElementType: types.StringType,
				Validators: []validator.Set{
					setvalidator.SizeAtMost(api.MaxThresholdChannels),
					setvalidator.ValueStringsAre(stringvalidator.RegexMatches(channelIDRegexp, "must be a notification channel ID, as in chan_...")),
				},
			},
			"enabled": schema.BoolAttribute{
				MarkdownDescription: "Whether the threshold is evaluated. A disabled threshold raises no alert. Defaults to `true`.",
				Optional:            true, Computed: true, Default: booldefault.StaticBool(true),
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Free-form key/value tags for filtering and ownership, at most 50. Keys are 1 to 128 characters without `:`; values at most 256 characters. Unset by default.",
				Optional:            true, ElementType: types.StringType, Validators: tagsValidators(),
			},
			"runbook_url": schema.StringAttribute{
				MarkdownDescription: "A link to what to do when the alert fires, an absolute `http` or `https` URL, sent with every notification. Unset by default.",
				Optional:            true, Validators: optionalString(apiRuleValidator{what: "URL", rule: api.HTTPURLProblem}),
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "A description of the threshold, at most 1,024 characters. Unset by default.",
				Optional:            true,
				Validators:          optionalString(append([]validator.String{stringvalidator.LengthAtMost(api.MaxDescription)}, textValidators()...)...),
			},
			"slo": schema.SingleNestedAttribute{
				MarkdownDescription: "For `error_budget_burn_rate`: the service level objective whose error budget is watched. Required for that metric, not valid for the others.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"objective_percent": schema.Float64Attribute{
						MarkdownDescription: "The share of good probes the service promises, in percent, above 0 and below 100, such as `99.9`. The error budget is what is left: 0.1 % of the probes for 99.9.",
						Required:            true,
						Validators:          []validator.Float64{float64validator.Between(0, 100), float64validator.NoneOf(0, 100)},
					},
					"period": schema.StringAttribute{
						MarkdownDescription: "The period the objective holds over, as a Go duration from `24h` to `2160h` (90 days), such as `720h` (30 days); at least `72h` without `burn_rate_windows`, whose default longest window is 3 days. A burn rate of 1 spends the budget exactly over it.",
						Required:            true, CustomType: durationType{}, PlanModifiers: durationPlanModifiers(),
					},
				},
			},
			"burn_rate_windows": schema.ListNestedAttribute{
				MarkdownDescription: "For `error_budget_burn_rate`: the multiwindow conditions, 1 to 10. A condition fires at its severity when both its long and its short window burn the budget faster than its factor. " +
					"Unset by default, which applies the Google SRE workbook's three when the threshold is evaluated (they are not stored, and the attribute stays null): " +
					"`1h`/`5m` at 14.4 critical, `6h`/`30m` at 6 critical, and `72h`/`6h` at 1 warning. Not valid for the other metrics.",
				Optional: true,
				Validators: []validator.List{
					listvalidator.SizeBetween(1, api.MaxBurnRateWindows),
				},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"long_window":  windowDuration("The long window, as a Go duration from `1m` to the SLO's `period`, such as `1h`: it makes the alert significant."),
					"short_window": windowDuration("The short window, as a Go duration shorter than `long_window`, such as `5m`: it makes the alert stop soon after the burn does."),
					"factor": schema.Float64Attribute{
						MarkdownDescription: "The burn rate that fires the condition, above 0 and at most 1,000: 1 spends the budget exactly over the SLO's period, 14.4 spends 2 % of a 30-day budget in one hour.",
						Required:            true,
						Validators:          []validator.Float64{float64validator.Between(0, api.MaxBurnRateFactor), float64validator.NoneOf(0)},
					},
					"severity": schema.StringAttribute{
						MarkdownDescription: "The severity of the alert the condition raises: `warning` or `critical`.",
						Required:            true, Validators: []validator.String{stringvalidator.OneOf(api.Severities...)},
					},
				}},
			},
			"revision": schema.Int64Attribute{
				MarkdownDescription: "The threshold's revision in aiod: 1 on creation and one more on every change, made here or elsewhere.", Computed: true,
			},
			"created_at": schema.StringAttribute{
				MarkdownDescription: "When the threshold was created, in RFC 3339 format.", Computed: true, CustomType: timetypes.RFC3339Type{},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": schema.StringAttribute{
				MarkdownDescription: "When the threshold was last changed, in RFC 3339 format.", Computed: true, CustomType: timetypes.RFC3339Type{},
			},
		},
	}
}

// ValidateConfig applies the API's own rules (exactly one of monitor_id
// and endpoint_id, which fields each metric needs, warning on the less
// severe side of critical, recovery values on the clear side, the windows'
// ranges, the burn-rate windows) at plan time, on the attribute that
// breaks them. While a value the rules read is not known yet, they wait
// for Terraform to validate again with known values.
func (r *thresholdResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m thresholdModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, v := range []attr.Value{m.Metric, m.Comparison, m.Warning, m.Critical, m.Window, m.RecoveryWarning,
		m.RecoveryCritical, m.SLO, m.BurnRateWindows, m.ReminderInterval} {
		if !fullyKnown(ctx, v) {
			return
		}
	}
	in, diags := m.toAPI(ctx)
	if diags.HasError() {
		return
	}
	// An ID not known yet (made by another resource in the same apply) is
	// set: what matters here is which of the two is.
	if m.MonitorID.IsUnknown() {
		in.MonitorID = new(api.PrefixMonitor + "x")
	}
	if m.EndpointID.IsUnknown() {
		in.EndpointID = new(api.PrefixEndpoint + "x")
	}
	in.Name = "x"
	for _, fe := range in.Validate() {
		if thresholdCheckedBySchema(fe) {
			continue
		}
		p, _ := fieldPath(req.Config.Schema, fe.Field)
		resp.Diagnostics.AddAttributeError(p, "Invalid alert threshold configuration", p.String()+" "+fe.Message+".")
	}
}

// thresholdCheckedBySchema tells whether a schema validator already
// reports the API's error fe, so that each mistake is reported once.
func thresholdCheckedBySchema(fe api.FieldError) bool {
	switch {
	case fe.Field == "name", fe.Field == "description", fe.Field == "runbook_url", fe.Field == "no_data",
		fe.Field == "pending_for", fe.Field == "recovery_for",
		strings.HasPrefix(fe.Field, "tags"), strings.HasPrefix(fe.Field, "channel_ids"),
		strings.HasSuffix(fe.Field, ".factor"), strings.HasSuffix(fe.Field, ".severity"),
		fe.Field == "slo.objective_percent", fe.Field == "burn_rate_windows" && strings.HasPrefix(fe.Message, "must hold"):
		return true
	case fe.Field == "metric" || fe.Field == "comparison":
		return strings.HasPrefix(fe.Message, "must be")
	case fe.Field == "monitor_id" || fe.Field == "endpoint_id":
		return strings.HasPrefix(fe.Message, "must be")
	}
	return fe.Message == apiDurationMessage || fe.Message == api.EmptyMessage
}
