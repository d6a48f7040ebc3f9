package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// NewEndpointsDataSource returns the aio_endpoints data source, which lists
// endpoints filtered by name prefix and tags.
func NewEndpointsDataSource() datasource.DataSource {
	return &objectsDataSource[api.Endpoint, endpointModel]{
		kind:        endpointKind,
		description: "Lists the endpoints that match every given filter, ordered by ID (roughly creation order). Without filters it lists every endpoint.",
		filters: map[string]schema.Attribute{
			"name_prefix": namePrefixFilter("endpoints"),
			"tags":        tagsFilter("endpoints"),
		},
	}
}
