package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// NewEndpointResource returns the aio_endpoint resource. An endpoint has
// no rules beyond its schema, so the generic resource serves it as it is.
func NewEndpointResource() resource.Resource {
	return &objectResource[api.Endpoint, endpointModel]{kind: endpointKind}
}

// endpointResourceSchema is the schema of aio_endpoint; the data sources
// derive theirs from it.
func endpointResourceSchema() schema.Schema {
	return schema.Schema{
		// Version 0 is the first shape of the state; see UpgradeState in
		// object_resource.go before changing it.
		Version:             0,
		MarkdownDescription: "An integration endpoint: an API, webhook, queue or partner service that applications talk to. Monitors probe it, credentials reach it, and every change to it, made here or elsewhere, shows in `terraform plan`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The endpoint's ID, assigned by aiod, such as `ep_01h...`.", Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "The endpoint's name, unique among endpoints: 1 to 128 letters, digits, `.`, `_` or `-`, starting with a letter or digit.",
				Required:            true, Validators: nameValidators(),
			},
			"url": schema.StringAttribute{
				MarkdownDescription: "The endpoint's base URL: an absolute `http`, `https` or `tcp` URL with a host; a `tcp` URL is only a host and a port, such as `tcp://db.internal:5432`. Monitors join their request path to it.",
				Required:            true, Validators: []validator.String{urlValidator{}},
			},
			"api_version": schema.StringAttribute{
				MarkdownDescription: "The version of the integration's API that is in use, such as `v2` or `2024-06-01`. Changing it is an in-place update that `terraform plan` shows. Unset by default.",
				Optional:            true, Validators: optionalString(stringvalidator.LengthAtMost(api.MaxShortText)),
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "A description of the integration, at most 1,024 characters. Unset by default.",
				Optional:            true,
				Validators:          optionalString(append([]validator.String{stringvalidator.LengthAtMost(api.MaxDescription)}, textValidators()...)...),
			},
			"owner": schema.StringAttribute{
				MarkdownDescription: "The team or person who owns the integration, at most 256 characters. Unset by default.",
				Optional:            true, Validators: optionalString(stringvalidator.LengthAtMost(api.MaxShortText)),
			},
			"data_classification": schema.StringAttribute{
				MarkdownDescription: "The sensitivity of the data the integration carries: one of " + oneOfDescription(api.DataClassifications) + ". Decides, among others, whether probe results may keep response excerpts. Defaults to `internal`.",
				Optional:            true, Computed: true,
				Default:    stringdefault.StaticString(api.ClassInternal),
				Validators: []validator.String{stringvalidator.OneOf(api.DataClassifications...)},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Free-form key/value tags for filtering and ownership, at most 50. Keys are 1 to 128 characters without `:`; values at most 256 characters. Unset by default.",
				Optional:            true, ElementType: types.StringType, Validators: tagsValidators(),
			},
			"credential_id": schema.StringAttribute{
				MarkdownDescription: "The ID of the `aio_credential` used by default to reach the endpoint; a monitor may name another. Unset by default (no credential). A credential still referenced cannot be deleted.",
				Optional:            true,
				Validators: append(optionalString(stringvalidator.RegexMatches(credentialIDRegexp, "must be a credential ID, as in cred_...")),
					tcpCredentialValidator{}),
			},
			"revision": schema.Int64Attribute{
				MarkdownDescription: "The endpoint's revision in aiod: 1 on creation and one more on every change, made here or elsewhere.", Computed: true,
			},
			"created_at": schema.StringAttribute{
				MarkdownDescription: "When the endpoint was created, in RFC 3339 format.", Computed: true, CustomType: timetypes.RFC3339Type{},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": schema.StringAttribute{
				MarkdownDescription: "When the endpoint was last changed, in RFC 3339 format.", Computed: true, CustomType: timetypes.RFC3339Type{},
			},
		},
	}
}
