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

var _ datasource.DataSourceWithConfigure = (*endpointsDataSource)(nil)

// NewEndpointsDataSource returns the aio_endpoints data source.
func NewEndpointsDataSource() datasource.DataSource { return &endpointsDataSource{} }

// endpointsDataSource lists endpoints, filtered by name prefix and tags.
type endpointsDataSource struct {
	client *client.Client
}

// endpointsDataSourceModel is the state of aio_endpoints.
type endpointsDataSourceModel struct {
	NamePrefix types.String            `tfsdk:"name_prefix"`
	Tags       types.Map               `tfsdk:"tags"`
	Endpoints  []endpointResourceModel `tfsdk:"endpoints"`
}

func (d *endpointsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_endpoints"
}

func (d *endpointsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the endpoints that match every given filter, ordered by ID (roughly creation order). Without filters it lists every endpoint.",
		Attributes: map[string]schema.Attribute{
			"name_prefix": schema.StringAttribute{
				MarkdownDescription: "Lists only endpoints whose name starts with this text. Unset by default (no name filter).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Lists only endpoints that carry every one of these tags with exactly these values. Unset by default (no tag filter).",
				Optional:            true, ElementType: types.StringType, Validators: tagsValidators(),
			},
			"endpoints": schema.ListNestedAttribute{
				MarkdownDescription: "The matching endpoints, each with every attribute of the `aio_endpoint` resource.",
				Computed:            true,
				NestedObject:        schema.NestedAttributeObject{Attributes: endpointDataSourceAttributes(false)},
			},
		},
	}
}

func (d *endpointsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

func (d *endpointsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg endpointsDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tags, diags := tagsToAPI(ctx, cfg.Tags)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	items, err := d.client.ListAllEndpoints(ctx, client.ListOptions{NamePrefix: cfg.NamePrefix.ValueString(), Tags: tags})
	if err != nil {
		addClientError(&resp.Diagnostics, "Could not list endpoints", err)
		return
	}
	cfg.Endpoints = make([]endpointResourceModel, 0, len(items))
	for _, e := range items {
		cfg.Endpoints = append(cfg.Endpoints, endpointModelFromAPI(e))
	}
	tflog.Debug(ctx, "listed endpoints", map[string]any{"count": len(items)})
	resp.Diagnostics.Append(resp.State.Set(ctx, cfg)...)
}
