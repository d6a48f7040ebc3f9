package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// NewMonitorsDataSource returns the aio_monitors data source, which lists
// monitors filtered by endpoint and tags.
func NewMonitorsDataSource() datasource.DataSource {
	return &objectsDataSource[api.Monitor, monitorModel]{
		kind:        monitorKind,
		description: "Lists the monitors that match every given filter, ordered by ID (roughly creation order). Without filters it lists every monitor.",
		filters: map[string]schema.Attribute{
			"endpoint_id": schema.StringAttribute{
				MarkdownDescription: "Lists only the monitors of this endpoint. Unset by default (every endpoint).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(endpointIDRegexp, "must be an endpoint ID, as in ep_...")},
			},
			"tags": tagsFilter("monitors"),
		},
	}
}
