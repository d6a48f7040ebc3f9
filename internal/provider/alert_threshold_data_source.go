package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// NewThresholdDataSource returns the aio_alert_threshold data source,
// which reads one alert threshold by ID or by name.
func NewThresholdDataSource() datasource.DataSource {
	return &objectDataSource[api.AlertThreshold, thresholdModel]{kind: thresholdKind}
}

// NewThresholdsDataSource returns the aio_alert_thresholds data source,
// which lists alert thresholds filtered by name prefix, tags, monitor,
// endpoint and metric.
func NewThresholdsDataSource() datasource.DataSource {
	return &objectsDataSource[api.AlertThreshold, thresholdModel]{
		kind:        thresholdKind,
		description: "Lists the alert thresholds that match every given filter, ordered by ID (roughly creation order). Without filters it lists every threshold.",
		filters: map[string]schema.Attribute{
			"name_prefix": namePrefixFilter("alert thresholds"),
			"tags":        tagsFilter("alert thresholds"),
			"monitor_id": schema.StringAttribute{
				MarkdownDescription: "Lists only the thresholds of this monitor. Unset by default (no monitor filter).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(monitorIDRegexp, "must be a monitor ID, as in mon_...")},
			},
			"endpoint_id": schema.StringAttribute{
				MarkdownDescription: "Lists only the thresholds of this endpoint (over all its monitors), not those of its monitors one by one. Unset by default (no endpoint filter).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(endpointIDRegexp, "must be an endpoint ID, as in ep_...")},
			},
			"metric": schema.StringAttribute{
				MarkdownDescription: "Lists only the thresholds of this metric: one of " + oneOfDescription(api.ThresholdMetrics) + ". Unset by default (every metric).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(api.ThresholdMetrics...)},
			},
		},
	}
}
