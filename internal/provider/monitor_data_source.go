package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/datasource"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// NewMonitorDataSource returns the aio_monitor data source, which reads one
// monitor by ID or by name.
func NewMonitorDataSource() datasource.DataSource {
	return &objectDataSource[api.Monitor, monitorModel]{kind: monitorKind}
}
