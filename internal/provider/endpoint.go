package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// The endpoint kind: its model and conversions, shared by the
// aio_endpoint resource and the aio_endpoint and aio_endpoints data
// sources. An endpoint has no rules beyond its schema's validators, so the
// generic resource and data sources serve it as they are.

// endpointKind describes endpoints to the generic resource and data
// sources.
var endpointKind = &kind[api.Endpoint, endpointModel]{
	name:                  "endpoint",
	plural:                "endpoints",
	prefix:                api.PrefixEndpoint,
	schema:                endpointResourceSchema,
	dataSourceDescription: "Reads one endpoint, chosen by `id` or by `name`, as aiod has it now.",
	fromAPI:               endpointModelFromAPI,
	create:                (*client.Client).CreateEndpoint,
	get:                   (*client.Client).GetEndpoint,
	update:                (*client.Client).UpdateEndpoint,
	delete:                (*client.Client).DeleteEndpoint,
	list: func(ctx context.Context, c *client.Client, opts client.ListOptions, _ map[string]string) ([]api.Endpoint, error) {
		return c.ListAllEndpoints(ctx, opts)
	},
}

// endpointModel is the state of aio_endpoint, of the aio_endpoint data
// source and of each item of aio_endpoints.
type endpointModel struct {
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

// endpointModelFromAPI converts an API endpoint to the model. Every
// attribute comes from aiod as planned, so the prior model is not needed.
func endpointModelFromAPI(_ context.Context, e api.Endpoint, _ endpointModel) (endpointModel, diag.Diagnostics) {
	return endpointModel{
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
	}, nil
}

// toAPI converts the planned model to the API's form. Only configuration
// fields are sent; the server manages the rest.
func (m endpointModel) toAPI(ctx context.Context) (api.Endpoint, diag.Diagnostics) {
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
