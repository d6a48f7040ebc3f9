package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*alertsDataSource)(nil)

// thresholdIDRegexp matches an alert threshold ID.
var thresholdIDRegexp = regexp.MustCompile(`^thr_[0-9a-z]+$`)

// maxAlertThresholdIDs is the most threshold IDs one listing of alerts may
// name (aiod's server.MaxThresholdIDFilters).
const maxAlertThresholdIDs = 100

// NewAlertsDataSource returns the aio_alerts data source.
func NewAlertsDataSource() datasource.DataSource { return &alertsDataSource{} }

// alertsDataSource lists the current alerts, so that a pipeline can gate a
// deploy on them with a check block or a postcondition.
type alertsDataSource struct {
	client *client.Client
}

// alertsDataSourceModel is the state of aio_alerts.
type alertsDataSourceModel struct {
	State          types.String            `tfsdk:"state"`
	Severity       types.String            `tfsdk:"severity"`
	EndpointID     types.String            `tfsdk:"endpoint_id"`
	ThresholdIDs   []types.String          `tfsdk:"threshold_ids"`
	Tags           map[string]types.String `tfsdk:"tags"`
	Alerts         []alertModel            `tfsdk:"alerts"`
	FiringCritical types.Int64             `tfsdk:"firing_critical"`
}

// alertModel is one current alert.
type alertModel struct {
	ThresholdID types.String      `tfsdk:"threshold_id"`
	State       types.String      `tfsdk:"state"`
	Severity    types.String      `tfsdk:"severity"`
	Value       types.Float64     `tfsdk:"value"`
	StartedAt   timetypes.RFC3339 `tfsdk:"started_at"`
	Since       timetypes.RFC3339 `tfsdk:"since"`
}

func (d *alertsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_alerts"
}

func (d *alertsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the current alerts (pending or firing) that match every given filter, ordered by threshold ID and severity. " +
			"An alert is one severity of one alert threshold; it is listed while it is pending or firing and no longer once it resolves. " +
			"Use it to gate a deploy in CI with a `check` block (a warning) or a `postcondition` (an error) on, for example, no critical alert firing for an endpoint.",
		Attributes: map[string]schema.Attribute{
			"state": schema.StringAttribute{
				MarkdownDescription: "Lists only alerts in this state: one of " + oneOfDescription(api.CurrentAlertStates) + ". Unset by default (both).",
				Optional:            true, Validators: []validator.String{stringvalidator.OneOf(api.CurrentAlertStates...)},
			},
			"severity": schema.StringAttribute{
				MarkdownDescription: "Lists only alerts of this severity: one of " + oneOfDescription(api.Severities) + ". Unset by default (both).",
				Optional:            true, Validators: []validator.String{stringvalidator.OneOf(api.Severities...)},
			},
			"endpoint_id": schema.StringAttribute{
				MarkdownDescription: "Lists only the alerts of the thresholds that watch this endpoint: those on the endpoint itself and those on each of its monitors. Unset by default (every endpoint).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(endpointIDRegexp, "must be an endpoint ID, as in ep_...")},
			},
			"threshold_ids": schema.SetAttribute{
				MarkdownDescription: "Lists only the alerts of these alert thresholds, by ID (at most 100). Unset by default (every threshold).",
				Optional:            true, ElementType: types.StringType,
				Validators: []validator.Set{
					setvalidator.SizeAtMost(maxAlertThresholdIDs),
					setvalidator.ValueStringsAre(stringvalidator.RegexMatches(thresholdIDRegexp, "must be an alert threshold ID, as in thr_...")),
				},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Lists only the alerts of thresholds that carry every one of these tags with exactly these values. Unset by default (no tag filter).",
				Optional:            true, ElementType: types.StringType, Validators: tagsValidators(),
			},
			"alerts": schema.ListNestedAttribute{
				MarkdownDescription: "The matching alerts, ordered by threshold ID and severity.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"threshold_id": str("The ID of the alert threshold whose alert this is."),
					"state":        str("The alert's state: `pending` (the condition holds, but not yet for the threshold's `pending_for`) or `firing`."),
					"severity":     str("The alert's severity: `warning` or `critical`."),
					"value": schema.Float64Attribute{
						MarkdownDescription: "The figure that the latest evaluation saw, in the threshold's metric unit; null when there was no data.",
						Computed:            true,
					},
					"started_at": schema.StringAttribute{
						MarkdownDescription: "When the alert began, in RFC 3339 format: when it went pending or, once firing, when it fired.",
						Computed:            true, CustomType: timetypes.RFC3339Type{},
					},
					"since": schema.StringAttribute{
						MarkdownDescription: "When the alert entered its current state, in RFC 3339 format.",
						Computed:            true, CustomType: timetypes.RFC3339Type{},
					},
				}},
			},
			"firing_critical": schema.Int64Attribute{
				MarkdownDescription: "The number of the matching alerts that are critical and firing: a deploy gate can require it to be zero.",
				Computed:            true,
			},
		},
	}
}

func (d *alertsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

func (d *alertsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg alertsDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	f := client.AlertFilter{State: cfg.State.ValueString(), Severity: cfg.Severity.ValueString(), EndpointID: cfg.EndpointID.ValueString()}
	for _, id := range cfg.ThresholdIDs {
		f.ThresholdIDs = append(f.ThresholdIDs, id.ValueString())
	}
	if len(cfg.Tags) > 0 {
		f.Tags = make(map[string]string, len(cfg.Tags))
		for k, v := range cfg.Tags {
			f.Tags[k] = v.ValueString()
		}
	}
	alerts, err := d.client.ListAllAlerts(ctx, f)
	if err != nil {
		addClientError(&resp.Diagnostics, resp.State.Schema, "Could not list alerts", err)
		return
	}
	cfg.Alerts = make([]alertModel, 0, len(alerts))
	var firingCritical int64
	for _, a := range alerts {
		cfg.Alerts = append(cfg.Alerts, alertFromAPI(a))
		if a.State == api.AlertFiring && a.Severity == api.SeverityCritical {
			firingCritical++
		}
	}
	cfg.FiringCritical = types.Int64Value(firingCritical)
	tflog.Debug(ctx, "listed alerts", map[string]any{"count": len(alerts), "firing_critical": firingCritical})
	resp.Diagnostics.Append(resp.State.Set(ctx, cfg)...)
}

func alertFromAPI(a api.Alert) alertModel {
	started := timetypes.NewRFC3339Null()
	if a.StartedAt != nil {
		started = timeValue(*a.StartedAt)
	}
	return alertModel{
		ThresholdID: types.StringValue(a.ThresholdID), State: types.StringValue(a.State), Severity: types.StringValue(a.Severity),
		Value: types.Float64PointerValue(a.Value), StartedAt: started, Since: timeValue(a.Since),
	}
}
