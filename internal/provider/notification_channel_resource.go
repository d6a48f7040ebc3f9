package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

var (
	_ resource.ResourceWithConfigure      = (*channelResource)(nil)
	_ resource.ResourceWithImportState    = (*channelResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*channelResource)(nil)
	_ resource.ResourceWithValidateConfig = (*channelResource)(nil)
	_ resource.ResourceWithUpgradeState   = (*channelResource)(nil)
)

// NewChannelResource returns the aio_notification_channel resource.
func NewChannelResource() resource.Resource {
	return &channelResource{objectResource[api.NotificationChannel, channelModel]{kind: channelKind}}
}

// channelResource manages a notification channel and its secret. Read,
// Delete and import are the generic resource's; the secret follows the
// credential's rules (secretDecision and its helpers in
// credential_resource.go), except that an email channel has no secret.
type channelResource struct {
	objectResource[api.NotificationChannel, channelModel]
}

// channelDescriptions are the attributes' descriptions in the resource;
// the data source rewrites them (schema_convert.go).
//
//nolint:gosec // G101: attribute descriptions, not credentials.
var channelDescriptions = map[string]string{
	"id":            "The notification channel's ID, assigned by aiod, such as `chan_01h...`.",
	"name":          "The channel's name, unique among notification channels: 1 to 128 letters, digits, `.`, `_` or `-`, starting with a letter or digit.",
	"type":          "Where alerts go: `webhook` (a signed JSON POST to `url`), `slack` (a Slack incoming webhook, whose URL is the secret), `pagerduty` (PagerDuty's Events API v2, with the routing key as the secret) or `email` (to the `to` addresses, through aiod's SMTP server). Changing it to another type with a secret sends the secret again.",
	"description":   "A description of the channel, at most 1,024 characters. Unset by default.",
	"enabled":       "Whether the channel receives alerts. A disabled channel receives nothing until it is enabled again. Defaults to `true`.",
	"send_resolved": "Whether the channel is also told when an alert resolves, not only when it fires. Defaults to `true`.",
	"tags":          "Free-form key/value tags for filtering and ownership, at most 50. Keys are 1 to 128 characters without `:`; values at most 256 characters. Unset by default.",
	"url":           "For `webhook`: the URL every delivery is POSTed to, an absolute `http` or `https` URL of at most 2,048 characters. Required for that type, not valid for the others. aiod's egress policy applies when it sends. The URL is not secret: every viewer reads it and the Terraform state holds it in plain text, so it must carry no token (a receiver that authenticates by a token in its URL, as Teams, Google Chat or Discord do, is not one to give a `webhook` channel; Slack's URL is the `slack` type's secret).",
	"headers":       "For `webhook`: extra headers sent with every delivery, at most 20, with lower-case names. `authorization` is refused (receivers verify the `AIO-Signature` header instead), as are every `aio-` header (aiod's own) and the headers that aiod sets or that change how a delivery is sent (`proxy-authorization`, `cookie`, `content-type`, `content-length`, `content-encoding`, `transfer-encoding`, `connection`, `host`, `te`, `trailer`, `upgrade`, `keep-alive`, `user-agent`); values may not hold control characters. The values are not secret (every viewer reads them, the Terraform state holds them): put no API key in them. Unset by default.",
	"events_url":    "For `pagerduty`: the Events API v2 URL, an absolute `http` or `https` URL. Unset by default, which sends to PagerDuty's own `" + api.DefaultPagerDutyEventsURL + "`. The routing key is sent to this URL. Changing it sends the secret again: the plan needs `secret_wo` (or `secret`), and aiod refuses the change without it.",
	"to":            "For `email`: the recipients, a set of 1 to 50 plain addresses such as `ops@example.com` (no display names). Required for that type, not valid for the others.",
	"secret": "The channel's secret, for Terraform before 1.11 and OpenTofu: the webhook's signing secret (deliveries carry an HMAC-SHA256 signature made with it), the Slack incoming-webhook URL (an `https` URL), or the PagerDuty routing key. " +
		"Required for those types when the channel is created and when the secret changes; not valid for `email`. It is marked sensitive but **is stored in the Terraform state**; prefer `secret_wo`. Conflicts with `secret_wo`. Unset by default.",
	"secret_wo":         "The channel's secret (see `secret`) as a write-only value (Terraform 1.11 or later): sent to aiod and kept in neither plan nor state. Requires `secret_wo_version`; bump the version to send a new secret. Needed only by the plans and applies that send the secret (on create, when `secret_wo_version` changes and when `type` changes): other plans, such as a drift check in CI, may leave it null. Conflicts with `secret`. Unset by default.",
	"secret_wo_version": "The version of `secret_wo`, any whole number you choose. Changing it sends the current `secret_wo` to aiod; without a change, `secret_wo` is not sent again and may be null. Required with `secret_wo`. Unset by default.",
	"secret_revision":   "The revision of the secret in aiod: 1 on creation and one more on every change of the secret, made here or elsewhere; 0 for an email channel that never had a secret. A change made outside Terraform shows as an update in the next plan.",
	"revision":          "The channel's revision in aiod: 1 on creation and one more on every change, made here or elsewhere.",
	"created_at":        "When the channel was created, in RFC 3339 format.",
	"updated_at":        "When the channel was last changed, in RFC 3339 format.",
}

// channelResourceSchema is the schema of aio_notification_channel; the
// data source derives its own from it.
func channelResourceSchema() schema.Schema {
	d := channelDescriptions
	computedTime := func(name string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: d[name], Computed: true, CustomType: timetypes.RFC3339Type{}}
	}
	return schema.Schema{
		// Version 0 is the first shape of the state; see UpgradeState in
		// object_resource.go before changing it.
		Version: 0,
		MarkdownDescription: "A notification channel: where alert thresholds send their alerts, as a signed webhook, a Slack message, a PagerDuty event or an email. " +
			"Its secret is encrypted at rest and never returned by the API; with `secret_wo` it is in neither the plan nor the state, and a secret changed outside Terraform still shows in `terraform plan`, through `secret_revision`. " +
			"aiod delivers alerts through a durable outbox with retries. " +
			"`POST /v1/notification-channels/{id}/test` sends a test message now: a firing warning labelled as a test (threshold \"AIO test message\" with an empty ID, a summary starting with `TEST`); " +
			"a `pagerduty` channel gets the trigger and then, at once, its resolve with the same `dedup_key` (`aio/test/<event_id>`), so the test incident opens and closes by itself.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: d["id"], Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{MarkdownDescription: d["name"], Required: true, Validators: nameValidators()},
			"type": schema.StringAttribute{
				MarkdownDescription: d["type"], Required: true,
				Validators: []validator.String{stringvalidator.OneOf(api.ChannelTypes...)},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: d["description"], Optional: true,
				Validators: optionalString(append([]validator.String{stringvalidator.LengthAtMost(api.MaxDescription)}, textValidators()...)...),
			},
			"enabled": schema.BoolAttribute{
				MarkdownDescription: d["enabled"], Optional: true, Computed: true, Default: booldefault.StaticBool(true),
			},
			"send_resolved": schema.BoolAttribute{
				MarkdownDescription: d["send_resolved"], Optional: true, Computed: true, Default: booldefault.StaticBool(true),
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: d["tags"], Optional: true, ElementType: types.StringType, Validators: tagsValidators(),
			},
			"url": schema.StringAttribute{
				MarkdownDescription: d["url"], Optional: true,
				Validators: optionalString(apiRuleValidator{what: "URL", rule: api.HTTPURLProblem}),
			},
			"headers": schema.MapAttribute{
				MarkdownDescription: d["headers"], Optional: true, ElementType: types.StringType,
				Validators: []validator.Map{channelHeadersValidator{}},
			},
			"events_url": schema.StringAttribute{
				MarkdownDescription: d["events_url"], Optional: true,
				Validators: optionalString(apiRuleValidator{what: "URL", rule: api.HTTPURLProblem}),
			},
			"to": schema.SetAttribute{
				MarkdownDescription: d["to"], Optional: true, ElementType: types.StringType,
				Validators: []validator.Set{
					setvalidator.SizeBetween(1, api.MaxEmailRecipients),
					setvalidator.ValueStringsAre(apiRuleValidator{what: "email address", rule: api.EmailAddressProblem}),
				},
			},
			"secret": schema.StringAttribute{
				MarkdownDescription: d["secret"], Optional: true, Sensitive: true,
				Validators: optionalString(stringvalidator.LengthAtMost(api.MaxSecret),
					stringvalidator.ConflictsWith(path.MatchRoot("secret_wo"))),
			},
			"secret_wo": schema.StringAttribute{
				MarkdownDescription: d["secret_wo"], Optional: true, Sensitive: true, WriteOnly: true,
				Validators: optionalString(stringvalidator.LengthAtMost(api.MaxSecret),
					stringvalidator.AlsoRequires(path.MatchRoot("secret_wo_version"))),
			},
			"secret_wo_version": schema.Int64Attribute{MarkdownDescription: d["secret_wo_version"], Optional: true},
			"secret_revision":   schema.Int64Attribute{MarkdownDescription: d["secret_revision"], Computed: true},
			"revision":          schema.Int64Attribute{MarkdownDescription: d["revision"], Computed: true},
			"created_at": schema.StringAttribute{
				MarkdownDescription: d["created_at"], Computed: true, CustomType: timetypes.RFC3339Type{},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": computedTime("updated_at"),
		},
	}
}

// ValidateConfig checks the rules that tie settings to the type, on the
// attribute that breaks them, as aiod does. Unknown values are judged when
// Terraform validates again with known values.
func (r *channelResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m channelModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Type.IsUnknown() || m.Type.IsNull() {
		return
	}
	typ := m.Type.ValueString()
	settings := []struct {
		name string
		v    attr.Value
		typ  string
	}{
		{"url", m.URL, api.ChannelWebhook},
		{"headers", m.Headers, api.ChannelWebhook},
		{"events_url", m.EventsURL, api.ChannelPagerDuty},
		{"to", m.To, api.ChannelEmail},
	}
	for _, s := range settings {
		if known(s.v) && typ != s.typ {
			resp.Diagnostics.AddAttributeError(path.Root(s.name), "Attribute not valid for this type",
				fmt.Sprintf("%s is only valid for type %s, not %s.", s.name, s.typ, typ))
		}
	}
	required := map[string][]struct {
		name string
		v    attr.Value
	}{api.ChannelWebhook: {{"url", m.URL}}, api.ChannelEmail: {{"to", m.To}}}
	for _, s := range required[typ] {
		if s.v.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root(s.name), "Missing required attribute",
				fmt.Sprintf("%s is required for type %s.", s.name, typ))
		}
	}
	if !api.HasSecret(typ) {
		for _, name := range []string{"secret", "secret_wo", "secret_wo_version"} {
			var v attr.Value
			resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name), &v)...)
			if v != nil && !v.IsNull() {
				resp.Diagnostics.AddAttributeError(path.Root(name), "Attribute not valid for this type",
					fmt.Sprintf("An %s channel has no secret: leave %s unset.", typ, name))
			}
		}
		return
	}
	// The write-only value is in the configuration while it is validated,
	// so the secret is checked before any apply (a Slack URL, a control
	// character such as the newline a file() leaves at the end). The
	// messages do not quote the value: it is a secret.
	checkSecretsAtPlan(ctx, req.Config, &resp.Diagnostics, func(secret string) (string, string) {
		switch msg := api.ChannelSecretProblem(typ, secret); {
		case msg == "":
			return "", ""
		case typ == api.ChannelSlack && api.SlackWebhookProblem(secret) == msg:
			return "Invalid Slack webhook URL", "For type slack the secret is the Slack incoming-webhook URL: an absolute https URL."
		default:
			return "Invalid secret", "The secret " + msg + "."
		}
	})
}

func (r *channelResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	plan, in, ok := r.planned(ctx, req.Plan, &resp.Diagnostics)
	if !ok {
		return
	}
	if api.HasSecret(in.Type) {
		var diags diag.Diagnostics
		ctx, in.Secret, diags = secretFromConfig(ctx, req.Config, plan.Secret)
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	out, ok := r.createObject(ctx, in, plan, &resp.State, &resp.Diagnostics)
	if !ok {
		return
	}
	tflog.Debug(ctx, "stored the channel's secret", map[string]any{"notification_channel_id": out.ID, "secret_revision": out.SecretRevision})
	resp.Diagnostics.Append(setPrivateRevision(ctx, resp.Private, out.SecretRevision)...)
}

// channelSecretDecision is secretDecision for a channel: a type without a
// secret never sends one, and a change to a type with a secret, or of the
// URL a PagerDuty routing key is sent to, always does (aiod refuses to
// carry a secret over to another type or another events URL).
func channelSecretDecision(ctx context.Context, priv interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}, plan, state channelModel) (secretState, diag.Diagnostics) {
	dec, diags := secretDecision(ctx, priv, plan.secretAttrs(), state.secretAttrs())
	if !plan.Type.Equal(state.Type) {
		dec.changed, dec.send = true, true
	}
	// A PagerDuty routing key goes to events_url: moving it elsewhere sends
	// the key there, which only someone who holds the key may do (aiod
	// refuses it without the secret, as for a credential's allowed_hosts).
	if !plan.EventsURL.IsUnknown() && !plan.EventsURL.Equal(state.EventsURL) {
		dec.changed, dec.send = true, true
	}
	if !plan.Type.IsUnknown() && !api.HasSecret(plan.Type.ValueString()) {
		dec = secretState{}
	}
	return dec, diags
}

// ModifyPlan decides at plan time what the apply will do with the secret,
// as the credential's does: a secret is required only when it is going to
// be sent, so that a drift check runs without it.
// modifyPlanKeepsUnchangedPlans is false: ModifyPlan plans a secret
// resend on a plan equal to the prior state when the secret changed
// outside Terraform, so the refresh's fast path leaves the plan to it.
func (r *channelResource) modifyPlanKeepsUnchangedPlans() bool { return false }

func (r *channelResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan, state channelModel
	var wo types.String
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("secret_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	noSecret := plan.Secret.IsNull() && wo.IsNull()
	typeKnown := !plan.Type.IsUnknown()
	hasSecret := typeKnown && api.HasSecret(plan.Type.ValueString())
	if req.State.Raw.IsNull() {
		if hasSecret && noSecret {
			addMissingSecret(&resp.Diagnostics, "The channel is created with its secret")
			return
		}
		if typeKnown && !hasSecret {
			// An email channel has no secret: its revision stays 0.
			plan.SecretRevision = types.Int64Value(0)
			resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
		}
		return
	}
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	dec, diags := channelSecretDecision(ctx, req.Private, plan, state)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if dec.changed && noSecret && !plan.SecretWOVersion.IsUnknown() && hasSecret {
		addMissingSecret(&resp.Diagnostics, "secret_wo_version, secret or type changed, so the apply sends the secret")
		return
	}
	if dec.drifted {
		resp.Diagnostics.AddWarning("Secret changed outside Terraform",
			fmt.Sprintf("The secret of notification channel %s was changed outside Terraform (its secret_revision is now %d). Apply sends the configured secret again.",
				state.ID.ValueString(), state.SecretRevision.ValueInt64()))
	}
	if dec.send && noSecret {
		resp.Diagnostics.AddAttributeWarning(path.Root("secret_wo"), "The apply needs the secret",
			"Terraform has no record that aiod holds the configured secret (after an import, or after a change outside Terraform), so the apply sends it: supply secret_wo (or secret) to the apply.")
	}
	switch {
	// An events_url not known yet may move the routing key: the apply
	// decides, so what a send changes is planned unknown.
	case dec.send || !typeKnown || plan.EventsURL.IsUnknown():
		plan.SecretRevision = types.Int64Unknown()
		plan.Revision = types.Int64Unknown()
		plan.UpdatedAt = timetypes.NewRFC3339Unknown()
	default:
		// Without a secret change it stays as it is, also when the type
		// becomes email (aiod keeps the count, so that it never goes back).
		plan.SecretRevision = state.SecretRevision
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

func (r *channelResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	plan, in, ok := r.planned(ctx, req.Plan, &resp.Diagnostics)
	var state channelModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if !ok || resp.Diagnostics.HasError() {
		return
	}
	dec, diags := channelSecretDecision(ctx, req.Private, plan, state)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if dec.send {
		var diags diag.Diagnostics
		ctx, in.Secret, diags = secretFromConfig(ctx, req.Config, plan.Secret)
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	out, ok := r.updateObject(ctx, req.State, in, plan, &resp.State, &resp.Diagnostics)
	if !ok {
		return
	}
	tflog.Debug(ctx, "updated the channel", map[string]any{"notification_channel_id": out.ID, "secret_sent": dec.send, "secret_revision": out.SecretRevision})
	resp.Diagnostics.Append(setPrivateRevision(ctx, resp.Private, out.SecretRevision)...)
}
