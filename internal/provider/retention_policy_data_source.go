package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// NewRetentionDataSource returns the aio_retention_policy data source,
// which reads one retention policy, with its last run, by ID or by name.
func NewRetentionDataSource() datasource.DataSource {
	return &objectDataSource[api.RetentionPolicy, retentionModel]{kind: retentionKind}
}

// NewRetentionsDataSource returns the aio_retention_policies data source,
// which lists retention policies filtered by name prefix, tags and data
// kind.
func NewRetentionsDataSource() datasource.DataSource {
	return &objectsDataSource[api.RetentionPolicy, retentionModel]{
		kind:        retentionKind,
		description: "Lists the retention policies that match every given filter, ordered by ID (roughly creation order), each with the report of its last run. Without filters it lists every policy.",
		filters: map[string]schema.Attribute{
			"name_prefix": namePrefixFilter("retention policies"),
			"tags":        tagsFilter("retention policies"),
			"data_kind": schema.StringAttribute{
				MarkdownDescription: "Lists only the policies of this data kind: one of " + oneOfDescription(api.DataKindNames) + ". Unset by default (every data kind).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(api.DataKindNames...)},
			},
		},
	}
}
