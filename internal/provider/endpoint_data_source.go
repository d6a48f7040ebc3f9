package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/datasource"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// NewEndpointDataSource returns the aio_endpoint data source, which reads
// one endpoint by ID or by name.
func NewEndpointDataSource() datasource.DataSource {
	return &objectDataSource[api.Endpoint, endpointModel]{kind: endpointKind}
}
