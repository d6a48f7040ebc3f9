package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/datasource"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// NewChannelDataSource returns the aio_notification_channel data source,
// which reads a channel's settings by ID or by name; never its secret.
func NewChannelDataSource() datasource.DataSource {
	return &objectDataSource[api.NotificationChannel, channelModel]{kind: channelKind}
}
