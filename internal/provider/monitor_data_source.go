package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

var (
	_ datasource.DataSourceWithConfigure        = (*monitorDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*monitorDataSource)(nil)
)

// NewMonitorDataSource returns the aio_monitor data source.
func NewMonitorDataSource() datasource.DataSource { return &monitorDataSource{} }

// monitorDataSource reads one monitor by ID or by name.
type monitorDataSource struct {
	client *client.Client
}

func (d *monitorDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_monitor"
}

func (d *monitorDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := computedAttributes(monitorResourceSchema().Attributes)
	for _, name := range []string{"id", "name"} {
		a := attrs[name].(schema.StringAttribute)
		a.Optional = true
		a.MarkdownDescription += " Set exactly one of `id` and `name` to choose the monitor."
		attrs[name] = a
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one monitor, chosen by `id` or by `name`, as aiod has it now.",
		Attributes:          attrs,
	}
}

func (d *monitorDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name"))}
}

func (d *monitorDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

func (d *monitorDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg monitorResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var (
		m   api.Monitor
		err error
	)
	if id := cfg.ID.ValueString(); id != "" {
		m, err = d.client.GetMonitor(ctx, id)
		if errors.Is(err, client.ErrNotFound) {
			resp.Diagnostics.AddAttributeError(path.Root("id"), "Monitor not found", fmt.Sprintf("No monitor has the ID %q.", id))
			return
		}
	} else {
		name := cfg.Name.ValueString()
		var all []api.Monitor
		all, err = d.client.ListAllMonitors(ctx, client.MonitorListOptions{ListOptions: client.ListOptions{Name: name, Limit: 1}})
		if err == nil && len(all) == 0 {
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Monitor not found", fmt.Sprintf("No monitor is named %q.", name))
			return
		}
		if err == nil {
			m = all[0]
		}
	}
	if err != nil {
		addClientError(&resp.Diagnostics, "Could not read the monitor", err)
		return
	}
	tflog.Debug(ctx, "read monitor", map[string]any{"monitor_id": m.ID})
	model, diags := monitorModelFromAPI(ctx, m, monitorResourceModel{})
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, model)...)
}
