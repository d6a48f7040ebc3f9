package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*monitorStatusDataSource)(nil)

// NewMonitorStatusDataSource returns the aio_monitor_status data source.
func NewMonitorStatusDataSource() datasource.DataSource { return &monitorStatusDataSource{} }

// monitorStatusDataSource reads a monitor's health figures, for CI gates.
type monitorStatusDataSource struct {
	client *client.Client
}

// monitorStatusDataSourceModel is the state of aio_monitor_status.
type monitorStatusDataSourceModel struct {
	MonitorID           types.String      `tfsdk:"monitor_id"`
	Window              durationValue     `tfsdk:"window"`
	Status              types.String      `tfsdk:"status"`
	LastCheckedAt       timetypes.RFC3339 `tfsdk:"last_checked_at"`
	AvailabilityPercent types.Float64     `tfsdk:"availability_percent"`
	LatencyAvgMS        types.Float64     `tfsdk:"latency_avg_ms"`
	LatencyP95MS        types.Float64     `tfsdk:"latency_p95_ms"`
	LatencyP99MS        types.Float64     `tfsdk:"latency_p99_ms"`
	ProbesPerMinute     types.Float64     `tfsdk:"probes_per_minute"`
	BytesPerMinute      types.Float64     `tfsdk:"bytes_per_minute"`
	ErrorRatePercent    types.Float64     `tfsdk:"error_rate_percent"`
	RetryRatePercent    types.Float64     `tfsdk:"retry_rate_percent"`
	Probes              types.Int64       `tfsdk:"probes"`
	Missed              types.Int64       `tfsdk:"missed"`
	TLSCertExpiresAt    timetypes.RFC3339 `tfsdk:"tls_cert_expires_at"`
}

func (d *monitorStatusDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_monitor_status"
}

func (d *monitorStatusDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	num := func(desc string) schema.Float64Attribute {
		return schema.Float64Attribute{MarkdownDescription: desc + " Null when the window holds no probes.", Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads a monitor's health figures over a window that ends now: availability, response time, throughput, error rate and retry rate. Put a `postcondition` on it to fail a CI run on an SLA breach, or read it in a `check` block to only warn. Reference the monitor's `id` (not `depends_on`, which defers the read to apply).",
		Attributes: map[string]schema.Attribute{
			"monitor_id": schema.StringAttribute{
				MarkdownDescription: "The ID of the monitor.", Required: true,
				Validators: []validator.String{stringvalidator.RegexMatches(monitorIDRegexp, "must be a monitor ID, as in mon_...")},
			},
			"window": schema.StringAttribute{
				MarkdownDescription: "The window the figures cover, ending now, as a Go duration from `1m` to `2160h` (90 days); `1h` when not set.",
				Optional:            true, CustomType: durationType{},
				Validators: []validator.String{statusWindowValidator{}},
			},
			"status":               schema.StringAttribute{MarkdownDescription: "The outcome of the latest probe: `up`, `degraded` or `down`; null before the first probe.", Computed: true},
			"last_checked_at":      schema.StringAttribute{MarkdownDescription: "When the latest probe ran, in RFC 3339 format; null before the first probe.", Computed: true, CustomType: timetypes.RFC3339Type{}},
			"availability_percent": num("The share of probes that were up or degraded, in percent (0 to 100)."),
			"latency_avg_ms":       num("The mean response time of the probes that reached the network, in milliseconds."),
			"latency_p95_ms":       num("The 95th percentile of the response time, in milliseconds, within 1 % of the exact value."),
			"latency_p99_ms":       num("The 99th percentile of the response time, in milliseconds, within 1 % of the exact value."),
			"probes_per_minute":    num("Probes per minute over the window (throughput)."),
			"bytes_per_minute":     num("Bytes received per minute over the window."),
			"error_rate_percent":   num("The share of probes that were down, in percent (0 to 100)."),
			"retry_rate_percent":   num("The share of probes that needed more than one attempt, in percent (0 to 100)."),
			"probes":               schema.Int64Attribute{MarkdownDescription: "How many probes ran in the window.", Computed: true},
			"missed":               schema.Int64Attribute{MarkdownDescription: "How many runs in the window were skipped because the previous run was still going.", Computed: true},
			"tls_cert_expires_at":  schema.StringAttribute{MarkdownDescription: "When the TLS certificate seen by the latest probe expires, in RFC 3339 format; null for plain HTTP or TCP.", Computed: true, CustomType: timetypes.RFC3339Type{}},
		},
	}
}

func (d *monitorStatusDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

func (d *monitorStatusDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg monitorStatusDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	window := cfg.Window.ValueString()
	if window == "" {
		window = api.DefaultStatusWindow
	}
	st, err := d.client.MonitorStatus(ctx, cfg.MonitorID.ValueString(), window)
	if errors.Is(err, client.ErrNotFound) {
		// Said like the other data sources say it, on the attribute, rather
		// than as the raw HTTP answer.
		resp.Diagnostics.AddAttributeError(path.Root("monitor_id"), "Monitor not found",
			fmt.Sprintf("No monitor has the ID %q: it was deleted, or the ID is of another kind of object.", cfg.MonitorID.ValueString()))
		return
	}
	if err != nil {
		addClientError(&resp.Diagnostics, resp.State.Schema, "Could not read the monitor's status", err)
		return
	}
	tflog.Debug(ctx, "read monitor status", map[string]any{"monitor_id": st.MonitorID, "probes": st.Probes})
	out := monitorStatusDataSourceModel{
		MonitorID: cfg.MonitorID, Window: cfg.Window,
		Status: types.StringPointerValue(st.Status), LastCheckedAt: timePtrValue(st.LastCheckedAt),
		AvailabilityPercent: types.Float64PointerValue(st.AvailabilityPercent),
		LatencyAvgMS:        types.Float64PointerValue(st.LatencyAvgMS),
		LatencyP95MS:        types.Float64PointerValue(st.LatencyP95MS),
		LatencyP99MS:        types.Float64PointerValue(st.LatencyP99MS),
		ProbesPerMinute:     types.Float64PointerValue(st.ProbesPerMinute),
		BytesPerMinute:      types.Float64PointerValue(st.BytesPerMinute),
		ErrorRatePercent:    types.Float64PointerValue(st.ErrorRatePercent),
		RetryRatePercent:    types.Float64PointerValue(st.RetryRatePercent),
		Probes:              types.Int64Value(st.Probes), Missed: types.Int64Value(st.Missed),
		TLSCertExpiresAt: timePtrValue(st.TLSCertExpiresAt),
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, out)...)
}

// statusWindowValidator checks the window at plan time against the bounds
// aiod applies (1m to api.MaxStatusWindow), so that a bad window fails the
// plan even when the read is deferred to apply.
type statusWindowValidator struct{}

var _ validator.String = statusWindowValidator{}

func (statusWindowValidator) Description(context.Context) string {
	return "value must be a Go duration from 1m to 2160h (90 days)"
}

func (v statusWindowValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (statusWindowValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		// durationType reports a value that is no positive duration.
		return
	}
	if d < time.Minute || d > api.MaxStatusWindow {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid window",
			fmt.Sprintf("window must be a Go duration from 1m to 2160h (90 days), as in 1h; got %q.", s))
	}
}
