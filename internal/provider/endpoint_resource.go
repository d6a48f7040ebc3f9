package provider

import (
	"context"
	"errors"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

var (
	_ resource.ResourceWithConfigure   = (*endpointResource)(nil)
	_ resource.ResourceWithImportState = (*endpointResource)(nil)
)

// NewEndpointResource returns the aio_endpoint resource.
func NewEndpointResource() resource.Resource { return &endpointResource{} }

// endpointResource manages an integration endpoint.
type endpointResource struct {
	client *client.Client
}

// endpointResourceModel is the state of aio_endpoint; the aio_endpoint data
// source and the items of aio_endpoints share it.
type endpointResourceModel struct {
	ID                 types.String      `tfsdk:"id"`
	Name               types.String      `tfsdk:"name"`
	URL                types.String      `tfsdk:"url"`
	APIVersion         types.String      `tfsdk:"api_version"`
	Description        types.String      `tfsdk:"description"`
	Owner              types.String      `tfsdk:"owner"`
	DataClassification types.String      `tfsdk:"data_classification"`
	Tags               types.Map         `tfsdk:"tags"`
	CredentialID       types.String      `tfsdk:"credential_id"`
	Revision           types.Int64       `tfsdk:"revision"`
	CreatedAt          timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt          timetypes.RFC3339 `tfsdk:"updated_at"`
}

// Attribute descriptions, shared by the resource and the data sources.
//
//nolint:gosec // G101: attribute descriptions, not credentials.
var endpointDescriptions = map[string]string{
	"id":                  "The endpoint's ID, assigned by aiod, such as `ep_01h...`.",
	"name":                "The endpoint's name, unique among endpoints: 1 to 128 letters, digits, `.`, `_` or `-`, starting with a letter or digit.",
	"url":                 "The endpoint's base URL: an absolute `http`, `https` or `tcp` URL with a host; a `tcp` URL is only a host and a port, such as `tcp://db.internal:5432`. Monitors join their request path to it.",
	"api_version":         "The version of the integration's API that is in use, such as `v2` or `2024-06-01`. Changing it is an in-place update that `terraform plan` shows. Unset by default.",
	"description":         "A description of the integration, at most 1,024 characters. Unset by default.",
	"owner":               "The team or person who owns the integration, at most 256 characters. Unset by default.",
	"data_classification": "The sensitivity of the data the integration carries: one of " + oneOfDescription(api.DataClassifications) + ". Decides, among others, whether probe results may keep response excerpts. Defaults to `internal`.",
	"tags":                "Free-form key/value tags for filtering and ownership, at most 50. Keys are 1 to 128 characters without `:`; values at most 256 characters. Unset by default.",
	"credential_id":       "The ID of the `aio_credential` used by default to reach the endpoint; a monitor may name another. Unset by default (no credential). A credential still referenced cannot be deleted.",
	"revision":            "The endpoint's revision in aiod: 1 on creation and one more on every change, made here or elsewhere.",
	"created_at":          "When the endpoint was created, in RFC 3339 format.",
	"updated_at":          "When the endpoint was last changed, in RFC 3339 format.",
}

func (r *endpointResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_endpoint"
}

func (r *endpointResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	d := endpointDescriptions
	resp.Schema = schema.Schema{
		MarkdownDescription: "An integration endpoint: an API, webhook, queue or partner service that applications talk to. Monitors probe it, credentials reach it, and every change to it, made here or elsewhere, shows in `terraform plan`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: d["id"], Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{MarkdownDescription: d["name"], Required: true, Validators: nameValidators()},
			"url":  schema.StringAttribute{MarkdownDescription: d["url"], Required: true, Validators: []validator.String{urlValidator{}}},
			"api_version": schema.StringAttribute{
				MarkdownDescription: d["api_version"], Optional: true,
				Validators: optionalString(stringvalidator.LengthAtMost(api.MaxShortText)),
			},
			"description": schema.StringAttribute{
				MarkdownDescription: d["description"], Optional: true,
				Validators: optionalString(append([]validator.String{stringvalidator.LengthAtMost(api.MaxDescription)}, textValidators()...)...),
			},
			"owner": schema.StringAttribute{
				MarkdownDescription: d["owner"], Optional: true,
				Validators: optionalString(stringvalidator.LengthAtMost(api.MaxShortText)),
			},
			"data_classification": schema.StringAttribute{
				MarkdownDescription: d["data_classification"], Optional: true, Computed: true,
				Default:    stringdefault.StaticString(api.ClassInternal),
				Validators: []validator.String{stringvalidator.OneOf(api.DataClassifications...)},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: d["tags"], Optional: true, ElementType: types.StringType,
				Validators: tagsValidators(),
			},
			"credential_id": schema.StringAttribute{
				MarkdownDescription: d["credential_id"], Optional: true,
				Validators: optionalString(stringvalidator.RegexMatches(credentialIDRegexp, "must be a credential ID, as in cred_...")),
			},
			"revision": schema.Int64Attribute{MarkdownDescription: d["revision"], Computed: true},
			"created_at": schema.StringAttribute{
				MarkdownDescription: d["created_at"], Computed: true, CustomType: timetypes.RFC3339Type{},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": schema.StringAttribute{MarkdownDescription: d["updated_at"], Computed: true, CustomType: timetypes.RFC3339Type{}},
		},
	}
}

func (r *endpointResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

func (r *endpointResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan endpointResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	in, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.client.CreateEndpoint(ctx, in)
	if err != nil {
		addClientError(&resp.Diagnostics, "Could not create the endpoint", err)
		return
	}
	ctx = tflog.SetField(ctx, "endpoint_id", out.ID)
	tflog.Debug(ctx, "created endpoint", map[string]any{"revision": out.Revision})
	resp.Diagnostics.Append(resp.State.Set(ctx, endpointModelFromAPI(out))...)
}

func (r *endpointResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state endpointResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = tflog.SetField(ctx, "endpoint_id", state.ID.ValueString())
	out, err := r.client.GetEndpoint(ctx, state.ID.ValueString())
	if errors.Is(err, client.ErrNotFound) {
		tflog.Debug(ctx, "endpoint is gone; removing it from state")
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addClientError(&resp.Diagnostics, "Could not read the endpoint", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, endpointModelFromAPI(out))...)
}

func (r *endpointResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state endpointResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	in, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = tflog.SetField(ctx, "endpoint_id", state.ID.ValueString())
	out, err := r.client.UpdateEndpoint(ctx, state.ID.ValueString(), state.Revision.ValueInt64(), in)
	if err != nil {
		addClientError(&resp.Diagnostics, "Could not update the endpoint", err)
		return
	}
	tflog.Debug(ctx, "updated endpoint", map[string]any{"revision": out.Revision})
	resp.Diagnostics.Append(resp.State.Set(ctx, endpointModelFromAPI(out))...)
}

func (r *endpointResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state endpointResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = tflog.SetField(ctx, "endpoint_id", state.ID.ValueString())
	err := r.client.DeleteEndpoint(ctx, state.ID.ValueString(), state.Revision.ValueInt64())
	if err != nil && !errors.Is(err, client.ErrNotFound) {
		addClientError(&resp.Diagnostics, "Could not delete the endpoint", err)
		return
	}
	tflog.Debug(ctx, "deleted endpoint")
}

func (r *endpointResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByID(ctx, "aio_endpoint", api.PrefixEndpoint, req, resp)
}

// endpointModelFromAPI converts an API endpoint to the Terraform model.
func endpointModelFromAPI(e api.Endpoint) endpointResourceModel {
	return endpointResourceModel{
		ID:                 types.StringValue(e.ID),
		Name:               types.StringValue(e.Name),
		URL:                types.StringValue(e.URL),
		APIVersion:         types.StringPointerValue(e.APIVersion),
		Description:        types.StringPointerValue(e.Description),
		Owner:              types.StringPointerValue(e.Owner),
		DataClassification: types.StringValue(e.DataClassification),
		Tags:               tagsFromAPI(e.Tags),
		CredentialID:       types.StringPointerValue(e.CredentialID),
		Revision:           types.Int64Value(e.Revision),
		CreatedAt:          timeValue(e.CreatedAt),
		UpdatedAt:          timeValue(e.UpdatedAt),
	}
}

// toAPI converts the planned model to the API's form. Only configuration
// fields are sent; the server manages the rest.
func (m endpointResourceModel) toAPI(ctx context.Context) (api.Endpoint, diag.Diagnostics) {
	tags, diags := tagsToAPI(ctx, m.Tags)
	return api.Endpoint{
		Name:               m.Name.ValueString(),
		URL:                m.URL.ValueString(),
		APIVersion:         stringPtr(m.APIVersion),
		Description:        stringPtr(m.Description),
		Owner:              stringPtr(m.Owner),
		DataClassification: m.DataClassification.ValueString(),
		Tags:               tags,
		CredentialID:       stringPtr(m.CredentialID),
	}, diags
}
