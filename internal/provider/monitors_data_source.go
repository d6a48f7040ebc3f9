package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*monitorsDataSource)(nil)

// NewMonitorsDataSource returns the aio_monitors data source.
func NewMonitorsDataSource() datasource.DataSource { return &monitorsDataSource{} }

// monitorsDataSource lists monitors, filtered by endpoint and tags.
type monitorsDataSource struct {
	client *client.Client
}

// monitorsDataSourceModel is the state of aio_monitors.
type monitorsDataSourceModel struct {
	EndpointID types.String `tfsdk:"endpoint_id"`
	Tags       types.Map    `tfsdk:"tags"`
	Monitors   types.List   `tfsdk:"monitors"`
}

func (d *monitorsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_monitors"
}

func (d *monitorsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the monitors that match every given filter, ordered by ID (roughly creation order). Without filters it lists every monitor.",
		Attributes: map[string]schema.Attribute{
			"endpoint_id": schema.StringAttribute{
				MarkdownDescription: "Lists only the monitors of this endpoint. Unset by default (every endpoint).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(endpointIDRegexp, "must be an endpoint ID, as in ep_...")},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Lists only monitors that carry every one of these tags with exactly these values. Unset by default (no tag filter).",
				Optional:            true, ElementType: types.StringType, Validators: tagsValidators(),
			},
			"monitors": schema.ListNestedAttribute{
				MarkdownDescription: "The matching monitors, each with every attribute of the `aio_monitor` resource.",
				Computed:            true,
				NestedObject:        schema.NestedAttributeObject{Attributes: computedAttributes(monitorResourceSchema().Attributes)},
			},
		},
	}
}

func (d *monitorsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

func (d *monitorsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg monitorsDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tags, diags := tagsToAPI(ctx, cfg.Tags)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	items, err := d.client.ListAllMonitors(ctx, client.MonitorListOptions{ListOptions: client.ListOptions{Tags: tags}, EndpointID: cfg.EndpointID.ValueString()})
	if err != nil {
		addClientError(&resp.Diagnostics, "Could not list monitors", err)
		return
	}
	models := make([]monitorResourceModel, 0, len(items))
	for _, m := range items {
		model, diags := monitorModelFromAPI(ctx, m, monitorResourceModel{})
		resp.Diagnostics.Append(diags...)
		models = append(models, model)
	}
	cfg.Monitors, diags = types.ListValueFrom(ctx, monitorResourceSchema().Type(), models)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Debug(ctx, "listed monitors", map[string]any{"count": len(items)})
	resp.Diagnostics.Append(resp.State.Set(ctx, cfg)...)
}
