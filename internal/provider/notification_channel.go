package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// The notification channel kind: its model and conversions, shared by the
// aio_notification_channel resource and data source. The rules of the
// secret are the resource's (channel_resource.go), and they are the
// credential's rules.

// channelKind describes notification channels to the generic resource and
// data source. The data source leaves out the secret's attributes: the API
// never returns a secret.
var channelKind = &kind[api.NotificationChannel, channelModel]{
	name:                  "notification_channel",
	plural:                "notification_channels",
	prefix:                api.PrefixChannel,
	schema:                channelResourceSchema,
	dataSourceDescription: "Reads a notification channel's settings, chosen by `id` or by `name`. Its secret (signing secret, Slack webhook URL or PagerDuty routing key) is never readable: not through this data source, nor through the API.",
	dataSourceOmits:       []string{"secret", "secret_wo", "secret_wo_version"},
	fromAPI:               channelModelFromAPI,
	create:                (*client.Client).CreateChannel,
	get:                   (*client.Client).GetChannel,
	update:                (*client.Client).UpdateChannel,
	delete:                (*client.Client).DeleteChannel,
	list: func(ctx context.Context, c *client.Client, opts client.ListOptions, _ map[string]string) ([]api.NotificationChannel, error) {
		return c.ListAllChannels(ctx, opts)
	},
}

// channelModel is the state of aio_notification_channel; the data source
// holds the same less the secret's attributes.
type channelModel struct {
	ID              types.String      `tfsdk:"id"`
	Name            types.String      `tfsdk:"name"`
	Type            types.String      `tfsdk:"type"`
	Description     types.String      `tfsdk:"description"`
	Enabled         types.Bool        `tfsdk:"enabled"`
	SendResolved    types.Bool        `tfsdk:"send_resolved"`
	Tags            types.Map         `tfsdk:"tags"`
	URL             types.String      `tfsdk:"url"`
	Headers         types.Map         `tfsdk:"headers"`
	EventsURL       types.String      `tfsdk:"events_url"`
	To              types.Set         `tfsdk:"to"`
	Secret          types.String      `tfsdk:"secret"`
	SecretWO        types.String      `tfsdk:"secret_wo"`
	SecretWOVersion types.Int64       `tfsdk:"secret_wo_version"`
	SecretRevision  types.Int64       `tfsdk:"secret_revision"`
	Revision        types.Int64       `tfsdk:"revision"`
	CreatedAt       timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt       timetypes.RFC3339 `tfsdk:"updated_at"`
}

// secretAttrs returns the channel's secret attributes.
func (m channelModel) secretAttrs() secretAttrs {
	return secretAttrs{Secret: m.Secret, SecretWOVersion: m.SecretWOVersion, SecretRevision: m.SecretRevision}
}

// channelModelFromAPI converts an API channel to the model. The API never
// returns the secret, so secret and secret_wo_version are carried over
// from prior (the plan or the prior state); secret_wo is never kept.
func channelModelFromAPI(_ context.Context, c api.NotificationChannel, prior channelModel) (channelModel, diag.Diagnostics) {
	m := channelModel{
		ID:              types.StringValue(c.ID),
		Name:            types.StringValue(c.Name),
		Type:            types.StringValue(c.Type),
		Description:     types.StringPointerValue(c.Description),
		Enabled:         types.BoolValue(c.IsEnabled()),
		SendResolved:    types.BoolValue(c.SendResolved == nil || *c.SendResolved),
		Tags:            tagsFromAPI(c.Tags),
		URL:             types.StringPointerValue(c.URL),
		Headers:         tagsFromAPI(c.Headers),
		EventsURL:       types.StringPointerValue(c.EventsURL),
		To:              stringSetFromAPI(c.To),
		Secret:          prior.Secret,
		SecretWO:        types.StringNull(),
		SecretWOVersion: prior.SecretWOVersion,
		SecretRevision:  types.Int64Value(c.SecretRevision),
		Revision:        types.Int64Value(c.Revision),
		CreatedAt:       timeValue(c.CreatedAt),
		UpdatedAt:       timeValue(c.UpdatedAt),
	}
	if m.Secret.IsUnknown() {
		m.Secret = types.StringNull()
	}
	if m.SecretWOVersion.IsUnknown() {
		m.SecretWOVersion = types.Int64Null()
	}
	return m, nil
}

// toAPI converts the planned model to the API's form, without the secret,
// which Create and Update add when it is to be sent.
func (m channelModel) toAPI(ctx context.Context) (api.NotificationChannel, diag.Diagnostics) {
	c := api.NotificationChannel{
		Name:        m.Name.ValueString(),
		Type:        m.Type.ValueString(),
		Description: stringPtr(m.Description),
		URL:         stringPtr(m.URL),
		EventsURL:   stringPtr(m.EventsURL),
	}
	if !m.Enabled.IsNull() && !m.Enabled.IsUnknown() {
		c.Enabled = m.Enabled.ValueBoolPointer()
	}
	if !m.SendResolved.IsNull() && !m.SendResolved.IsUnknown() {
		c.SendResolved = m.SendResolved.ValueBoolPointer()
	}
	var diags diag.Diagnostics
	c.Tags, diags = tagsToAPI(ctx, m.Tags)
	headers, d := tagsToAPI(ctx, m.Headers)
	diags.Append(d...)
	c.Headers = headers
	if !m.To.IsNull() && !m.To.IsUnknown() {
		c.To = []string{}
		diags.Append(m.To.ElementsAs(ctx, &c.To, false)...)
	}
	return c, diags
}
