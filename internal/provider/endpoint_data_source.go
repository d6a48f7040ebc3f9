package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

var (
	_ datasource.DataSourceWithConfigure        = (*endpointDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*endpointDataSource)(nil)
)

// NewEndpointDataSource returns the aio_endpoint data source.
func NewEndpointDataSource() datasource.DataSource { return &endpointDataSource{} }

// endpointDataSource reads one endpoint by ID or by name.
type endpointDataSource struct {
	client *client.Client
}

func (d *endpointDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_endpoint"
}

// endpointDataSourceAttributes are the attributes of one endpoint, all
// computed, for the data sources. lookup makes id and name inputs.
func endpointDataSourceAttributes(lookup bool) map[string]schema.Attribute {
	d := dataSourceDescriptions(endpointDescriptions)
	computed := func(name string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: d[name], Computed: true}
	}
	attrs := map[string]schema.Attribute{
		"id":                  computed("id"),
		"name":                computed("name"),
		"url":                 computed("url"),
		"api_version":         computed("api_version"),
		"description":         computed("description"),
		"owner":               computed("owner"),
		"data_classification": computed("data_classification"),
		"credential_id":       computed("credential_id"),
		"tags":                schema.MapAttribute{MarkdownDescription: d["tags"], Computed: true, ElementType: types.StringType},
		"revision":            schema.Int64Attribute{MarkdownDescription: d["revision"], Computed: true},
		"created_at":          schema.StringAttribute{MarkdownDescription: d["created_at"], Computed: true, CustomType: timetypes.RFC3339Type{}},
		"updated_at":          schema.StringAttribute{MarkdownDescription: d["updated_at"], Computed: true, CustomType: timetypes.RFC3339Type{}},
	}
	if lookup {
		attrs["id"] = schema.StringAttribute{
			MarkdownDescription: d["id"] + " Set exactly one of `id` and `name` to choose the endpoint.",
			Optional:            true, Computed: true,
		}
		attrs["name"] = schema.StringAttribute{
			MarkdownDescription: d["name"] + " Set exactly one of `id` and `name` to choose the endpoint.",
			Optional:            true, Computed: true, Validators: nameValidators(),
		}
	}
	return attrs
}

func (d *endpointDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one endpoint, chosen by `id` or by `name`, as aiod has it now.",
		Attributes:          endpointDataSourceAttributes(true),
	}
}

func (d *endpointDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name")),
	}
}

func (d *endpointDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

func (d *endpointDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg endpointResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var (
		e   api.Endpoint
		err error
	)
	if id := cfg.ID.ValueString(); id != "" {
		ctx = tflog.SetField(ctx, "endpoint_id", id)
		e, err = d.client.GetEndpoint(ctx, id)
		if errors.Is(err, client.ErrNotFound) {
			resp.Diagnostics.AddAttributeError(path.Root("id"), "Endpoint not found", fmt.Sprintf("No endpoint has the ID %q.", id))
			return
		}
	} else {
		name := cfg.Name.ValueString()
		var page api.List[api.Endpoint]
		page, err = d.client.ListEndpoints(ctx, client.ListOptions{Name: name, Limit: 1})
		if err == nil && len(page.Items) == 0 {
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Endpoint not found", fmt.Sprintf("No endpoint is named %q.", name))
			return
		}
		if err == nil {
			e = page.Items[0]
		}
	}
	if err != nil {
		addClientError(&resp.Diagnostics, "Could not read the endpoint", err)
		return
	}
	tflog.Debug(ctx, "read endpoint", map[string]any{"endpoint_id": e.ID})
	resp.Diagnostics.Append(resp.State.Set(ctx, endpointModelFromAPI(e))...)
}
