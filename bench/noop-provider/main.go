// Command noop-provider is the floor of the Terraform benchmark (make
// bench-terraform): a plugin-framework provider with one resource,
// noop_thing, of one string attribute, whose operations touch no network
// and no disk. Whatever an aio_endpoint costs beyond a noop_thing is the
// cost of the AIO provider and aiod; whatever a noop_thing costs beyond a
// terraform_data is the cost of being a plugin at all.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func main() {
	err := providerserver.Serve(context.Background(), func() provider.Provider { return noopProvider{} },
		providerserver.ServeOpts{Address: "registry.terraform.io/bench/noop"})
	if err != nil {
		log.Fatal(err)
	}
}

type noopProvider struct{}

var _ provider.Provider = noopProvider{}

func (noopProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "noop"
}

func (noopProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

func (noopProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (noopProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return thing{} }, func() resource.Resource { return wide{} }}
}

func (noopProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

// thing is a resource that keeps what it is given and does nothing else.
type thing struct{}

var _ resource.Resource = thing{}

type thingModel struct {
	ID    types.String `tfsdk:"id"`
	Value types.String `tfsdk:"value"`
}

func (thing) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_thing"
}

func (thing) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id": schema.StringAttribute{Computed: true,
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"value": schema.StringAttribute{Required: true},
	}}
}

func (thing) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m thingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	m.ID = m.Value
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (thing) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m thingModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (thing) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m thingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (thing) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// wide is noop_wide: a resource that does nothing, with the attributes of
// an aio_endpoint (4 computed that keep their state, 8 set by the
// configuration), so that the benchmark can tell the cost of a schema this
// size in Terraform and the framework from the cost of the AIO provider
// (make bench-terraform BENCH_TF_FLAGS='-only noop_wide').
type wide struct{}

var _ resource.Resource = wide{}

// wideComputed and wideSet are noop_wide's attributes.
var (
	wideComputed = []string{"id", "created_at", "updated_at", "revision"}
	wideSet      = []string{"name", "url", "api_version", "description", "owner", "data_classification", "credential_id", "note"}
)

func (wide) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_wide"
}

func (wide) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	attrs := map[string]schema.Attribute{}
	for _, n := range wideComputed {
		attrs[n] = schema.StringAttribute{Computed: true,
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
	}
	for _, n := range wideSet {
		attrs[n] = schema.StringAttribute{Optional: true}
	}
	resp.Schema = schema.Schema{Attributes: attrs}
}

// wideModel is noop_wide's state, read and written whole, as the AIO
// provider's resources do (one Get, one Set a call): setting attribute by
// attribute walks the whole object each time, a cost aio_endpoint does not
// pay, and would make this baseline slower than what it measures.
type wideModel struct {
	ID                 types.String `tfsdk:"id"`
	CreatedAt          types.String `tfsdk:"created_at"`
	UpdatedAt          types.String `tfsdk:"updated_at"`
	Revision           types.String `tfsdk:"revision"`
	Name               types.String `tfsdk:"name"`
	URL                types.String `tfsdk:"url"`
	APIVersion         types.String `tfsdk:"api_version"`
	Description        types.String `tfsdk:"description"`
	Owner              types.String `tfsdk:"owner"`
	DataClassification types.String `tfsdk:"data_classification"`
	CredentialID       types.String `tfsdk:"credential_id"`
	Note               types.String `tfsdk:"note"`
}

// settle gives the computed attributes still unknown a value.
func (m *wideModel) settle() {
	for _, v := range []*types.String{&m.ID, &m.CreatedAt, &m.UpdatedAt, &m.Revision} {
		if v.IsUnknown() {
			*v = types.StringValue("value")
		}
	}
}

func (wide) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m wideModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	m.settle()
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (wide) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (wide) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m wideModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	m.settle()
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (wide) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
