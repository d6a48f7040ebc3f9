package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// The retention policy kind: its model and conversions, shared by the
// aio_retention_policy resource and data source. The scopes are sets and a
// map (types.Set, types.Map), so that module inputs unknown at plan flow
// through.

// retentionKind describes retention policies to the generic resource and
// data sources.
var retentionKind = &kind[api.RetentionPolicy, retentionModel]{
	name:                  "retention_policy",
	plural:                "retention_policies",
	prefix:                api.PrefixRetention,
	schema:                retentionResourceSchema,
	dataSourceDescription: "Reads one retention policy, chosen by `id` or by `name`, as aiod has it now, with the report of its last run (`last_run_at`, `last_run_deleted`, `last_run_anonymized`) and when the next is due.",
	fromAPI:               retentionModelFromAPI,
	create:                (*client.Client).CreateRetentionPolicy,
	get:                   (*client.Client).GetRetentionPolicy,
	update:                (*client.Client).UpdateRetentionPolicy,
	delete:                (*client.Client).DeleteRetentionPolicy,
	list: func(ctx context.Context, c *client.Client, opts client.ListOptions, extra map[string]string) ([]api.RetentionPolicy, error) {
		return c.ListAllRetentionPolicies(ctx, client.RetentionListOptions{ListOptions: opts, DataKind: extra["data_kind"]})
	},
}

// retentionModel is the state of aio_retention_policy and of its data
// source.
type retentionModel struct {
	ID                  types.String      `tfsdk:"id"`
	Name                types.String      `tfsdk:"name"`
	DataKind            types.String      `tfsdk:"data_kind"`
	MaxAge              durationValue     `tfsdk:"max_age"`
	Action              types.String      `tfsdk:"action"`
	AnonymizeFields     types.Set         `tfsdk:"anonymize_fields"`
	EndpointIDs         types.Set         `tfsdk:"endpoint_ids"`
	EndpointTags        types.Map         `tfsdk:"endpoint_tags"`
	DataClassifications types.Set         `tfsdk:"data_classifications"`
	Enabled             types.Bool        `tfsdk:"enabled"`
	Description         types.String      `tfsdk:"description"`
	Tags                types.Map         `tfsdk:"tags"`
	LastRunAt           timetypes.RFC3339 `tfsdk:"last_run_at"`
	LastRunDeleted      types.Int64       `tfsdk:"last_run_deleted"`
	LastRunAnonymized   types.Int64       `tfsdk:"last_run_anonymized"`
	NextRunAt           timetypes.RFC3339 `tfsdk:"next_run_at"`
	Revision            types.Int64       `tfsdk:"revision"`
	CreatedAt           timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt           timetypes.RFC3339 `tfsdk:"updated_at"`
}

// retentionModelFromAPI converts an API policy to the model; prior keeps
// max_age as written when it means the same.
func retentionModelFromAPI(ctx context.Context, p api.RetentionPolicy, prior retentionModel) (retentionModel, diag.Diagnostics) {
	return retentionModel{
		ID:                  types.StringValue(p.ID),
		Name:                types.StringValue(p.Name),
		DataKind:            types.StringValue(p.DataKind),
		MaxAge:              durationFromAPI(ctx, &p.MaxAge, prior.MaxAge),
		Action:              types.StringValue(p.Action),
		AnonymizeFields:     stringSetFromAPI(p.AnonymizeFields),
		EndpointIDs:         stringSetFromAPI(p.EndpointIDs),
		EndpointTags:        tagsFromAPI(p.EndpointTags),
		DataClassifications: stringSetFromAPI(p.DataClassifications),
		Enabled:             types.BoolValue(p.IsEnabled()),
		Description:         types.StringPointerValue(p.Description),
		Tags:                tagsFromAPI(p.Tags),
		LastRunAt:           timePtrValue(p.LastRunAt),
		LastRunDeleted:      types.Int64PointerValue(p.LastRunDeleted),
		LastRunAnonymized:   types.Int64PointerValue(p.LastRunAnonymized),
		NextRunAt:           timePtrValue(p.NextRunAt),
		Revision:            types.Int64Value(p.Revision),
		CreatedAt:           timeValue(p.CreatedAt),
		UpdatedAt:           timeValue(p.UpdatedAt),
	}, nil
}

// setToAPI keeps a null set nil and an empty one empty; a set not known
// yet is nil, which only ValidateConfig sees.
func setToAPI(ctx context.Context, v types.Set) ([]string, diag.Diagnostics) {
	if !fullyKnown(ctx, v) || v.IsNull() {
		return nil, nil
	}
	out := []string{}
	diags := v.ElementsAs(ctx, &out, false)
	return out, diags
}

// toAPI converts the model to the API's form. The run report is the
// engine's and never sent.
func (m retentionModel) toAPI(ctx context.Context) (api.RetentionPolicy, diag.Diagnostics) {
	var diags diag.Diagnostics
	out := api.RetentionPolicy{
		Name:        m.Name.ValueString(),
		DataKind:    m.DataKind.ValueString(),
		MaxAge:      m.MaxAge.ValueString(),
		Action:      m.Action.ValueString(),
		Enabled:     boolPtr(m.Enabled),
		Description: stringPtr(m.Description),
	}
	var d diag.Diagnostics
	out.AnonymizeFields, d = setToAPI(ctx, m.AnonymizeFields)
	diags.Append(d...)
	out.EndpointIDs, d = setToAPI(ctx, m.EndpointIDs)
	diags.Append(d...)
	out.DataClassifications, d = setToAPI(ctx, m.DataClassifications)
	diags.Append(d...)
	if fullyKnown(ctx, m.EndpointTags) {
		out.EndpointTags, d = tagsToAPI(ctx, m.EndpointTags)
		diags.Append(d...)
	}
	out.Tags, d = tagsToAPI(ctx, m.Tags)
	diags.Append(d...)
	return out, diags
}
