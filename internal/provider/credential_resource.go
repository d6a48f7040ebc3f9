package provider

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

var (
	_ resource.ResourceWithConfigure      = (*credentialResource)(nil)
	_ resource.ResourceWithImportState    = (*credentialResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*credentialResource)(nil)
	_ resource.ResourceWithValidateConfig = (*credentialResource)(nil)
	_ resource.ResourceWithUpgradeState   = (*credentialResource)(nil)
)

// privateSecretRevision is the private-state key holding the server's
// secret_revision as of the last create or update made by Terraform. A
// different secret_revision after refresh means the secret was changed
// outside Terraform.
const privateSecretRevision = "secret_revision"

// NewCredentialResource returns the aio_credential resource.
func NewCredentialResource() resource.Resource {
	return &credentialResource{objectResource[api.Credential, credentialModel]{kind: credentialKind}}
}

// credentialResource manages a credential and its secret. Read, Delete and
// import are the generic resource's; Create and Update add the secret when
// it is to be sent and keep its secret_revision in private state, and
// ModifyPlan decides at plan time whether it will be.
type credentialResource struct {
	objectResource[api.Credential, credentialModel]
}

// credentialDescriptions are the attributes' descriptions in the resource;
// the data source rewrites them (schema_convert.go).
//
//nolint:gosec // G101: attribute descriptions, not credentials.
var credentialDescriptions = map[string]string{
	"id":          "The credential's ID, assigned by aiod, such as `cred_01h...`.",
	"name":        "The credential's name, unique among credentials: 1 to 128 letters, digits, `.`, `_` or `-`, starting with a letter or digit.",
	"description": "A description of the credential, at most 1,024 characters. Unset by default.",
	"type":        "How the secret is presented: `api_key` (in a header or a query parameter), `bearer` (an `Authorization: Bearer` header), `basic` (HTTP basic authentication with `username`), or `oauth2_client_credentials` (an access token fetched from `token_url` with `client_id` and the secret as the client secret).",
	"header":      "For `api_key`: the lower-case name of the header that carries the key. When neither `header` nor `query_param` is set, probes use `x-api-key`. Unset by default.",
	"query_param": "For `api_key`: the query parameter that carries the key instead of a header. Conflicts with `header`. Unset by default.",
	"username":    "For `basic`: the user name; the secret is the password. Required for `basic`.",
	"token_url":   "For `oauth2_client_credentials`: the token endpoint, an absolute `http` or `https` URL. Required for that type.",
	"client_id":   "For `oauth2_client_credentials`: the client ID. Required for that type.",
	"scopes":      "For `oauth2_client_credentials`: the scopes to request, a set of strings without spaces. Unset by default (no scope parameter).",
	"allowed_hosts": "The hosts aiod may send the secret to, as a set of patterns: the endpoint URLs' hosts, every host a probe follows a redirect to, " +
		"the host named by a monitor's `host` header or TLS `server_name`, and, for `oauth2_client_credentials`, the host of `token_url`. " +
		"When a probe would send the secret anywhere else, it does not send it, and the result is `down` with an error naming the host. " +
		"The same holds for plain `http`: entries without a scheme allow https only, and a probe that would send the secret in cleartext to a host that is not loopback fails without sending it, " +
		"unless an entry with an `http://` prefix allows that host and port (see below); aiod refuses, with an error on the field, an endpoint `url` with the `http` scheme whose host and port no such entry allows, unless the host is a loopback address or `localhost`. " +
		"aiod also refuses, with an error on the field, to attach the credential to an endpoint or monitor whose host is not allowed, " +
		"to change such an endpoint's `url` to a host that is not allowed, and to remove a host that something using the credential still needs. " +
		api.HostPatternRule + " " +
		"Examples: `[\"api.payments.example.com\"]`, `[\"*.partner.example\", \"auth.partner.example:8443\"]`, `[\"127.0.0.1\", \"[::1]:8080\"]`, `[\"http://legacy.internal:8080\"]`. " +
		"**Review every change of this attribute:** it is what keeps the secret from reaching a host chosen by whoever can edit endpoints and monitors, " +
		"so a widening (a new host, a wildcard, a port dropped, an `http://` entry) hands the secret to more servers or lets it travel in cleartext. " +
		"For that reason a widening needs the secret: the plan fails with \"Missing secret\" on `secret_wo` unless `secret_wo` (or `secret`) has a value, " +
		"and the apply sends the secret again (`secret_revision` goes up by one); aiod itself refuses a widening without the secret. " +
		"A narrowing needs no secret. " +
		"Credentials created before this attribute existed were given the hosts of what used them, and an empty set when nothing did (such a credential is sent nowhere).",
	"secret":            "The secret (key, token, password or client secret) for Terraform before 1.11 and OpenTofu. It is marked sensitive but **is stored in the Terraform state**; prefer `secret_wo`. Conflicts with `secret_wo`; one of the two must have a value when the credential is created and when the secret changes. Unset by default.",
	"secret_wo":         "The secret as a write-only value (Terraform 1.11 or later): sent to aiod and kept in neither plan nor state. Requires `secret_wo_version`; bump the version to send a new secret. Needed only by the plans and applies that send the secret: on create, when `secret_wo_version` changes, and when the update would send the secret somewhere new or in a new form (a widened `allowed_hosts`, or another `type`, `header`, `query_param`, `token_url`, `client_id` or `username`), which aiod accepts only from someone who holds the secret. Other plans, such as a drift check in CI, may leave it null. Conflicts with `secret`. Unset by default.",
	"secret_wo_version": "The version of `secret_wo`, any whole number you choose. Changing it sends the current `secret_wo` to aiod; without a change, `secret_wo` is not sent again and may be null. Required with `secret_wo`. Unset by default.",
	"expires_at":        "When the secret stops working, in RFC 3339 format, if known. Unset by default.",
	"rotation_period":   "How often the secret should be rotated, as a Go duration such as `720h` (30 days). Sets `rotation_due_at`. Unset by default.",
	"rotation_due_at":   "When the secret is next due for rotation, in RFC 3339 format: the earlier of `expires_at` and `last_rotated_at` plus `rotation_period`; null when neither is set.",
	"secret_revision":   "The revision of the secret in aiod: 1 on creation and one more on every change of the secret, made here or elsewhere. A change made outside Terraform shows as an update in the next plan.",
	"last_rotated_at":   "When the secret last changed, in RFC 3339 format.",
	"revision":          "The credential's revision in aiod: 1 on creation and one more on every change, made here or elsewhere.",
	"created_at":        "When the credential was created, in RFC 3339 format.",
	"updated_at":        "When the credential was last changed, in RFC 3339 format.",
}

// credentialResourceSchema is the schema of aio_credential; the data
// source derives its own from it.
func credentialResourceSchema() schema.Schema {
	d := credentialDescriptions
	optString := func(name string, v ...validator.String) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: d[name], Optional: true, Validators: optionalString(v...)}
	}
	computedTime := func(name string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: d[name], Computed: true, CustomType: timetypes.RFC3339Type{}}
	}
	return schema.Schema{
		// Version 0 is the first shape of the state; see UpgradeState in
		// object_resource.go before changing it.
		Version:             0,
		MarkdownDescription: "A credential: the secret aiod uses to reach an endpoint. The secret is encrypted at rest and never returned by the API; with `secret_wo` it is in neither the plan nor the state. A secret changed outside Terraform still shows in `terraform plan`, through `secret_revision`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: d["id"], Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name":        schema.StringAttribute{MarkdownDescription: d["name"], Required: true, Validators: nameValidators()},
			"description": optString("description", append([]validator.String{stringvalidator.LengthAtMost(api.MaxDescription)}, textValidators()...)...),
			"type": schema.StringAttribute{
				MarkdownDescription: d["type"], Required: true,
				Validators: []validator.String{stringvalidator.OneOf(api.CredentialTypes...)},
			},
			"header": optString("header",
				stringvalidator.RegexMatches(api.HeaderNameRegexp, "must be a lower-case HTTP header name, as in x-api-key"),
				stringvalidator.NoneOf("authorization"),
				stringvalidator.ConflictsWith(path.MatchRoot("query_param"))),
			"query_param": optString("query_param", stringvalidator.LengthBetween(1, api.MaxShortText)),
			"username": optString("username", stringvalidator.LengthBetween(1, api.MaxShortText),
				stringvalidator.RegexMatches(regexpNoColon, "must not contain ':'")),
			"token_url": optString("token_url", httpURLValidator{}),
			"client_id": optString("client_id", stringvalidator.LengthBetween(1, api.MaxShortText)),
			"scopes": schema.SetAttribute{
				MarkdownDescription: d["scopes"], Optional: true, ElementType: types.StringType,
				Validators: []validator.Set{setvalidator.ValueStringsAre(
					stringvalidator.LengthAtLeast(1), stringvalidator.RegexMatches(regexpNoSpace, "must not contain spaces"))},
			},
			"allowed_hosts": schema.SetAttribute{
				MarkdownDescription: d["allowed_hosts"], Required: true, ElementType: types.StringType,
				Validators: []validator.Set{
					setvalidator.SizeBetween(1, api.MaxAllowedHosts),
					setvalidator.ValueStringsAre(hostPatternValidator{}),
				},
			},
			"secret": schema.StringAttribute{
				MarkdownDescription: d["secret"], Optional: true, Sensitive: true,
				Validators: optionalString(stringvalidator.LengthAtMost(api.MaxSecret),
					stringvalidator.ConflictsWith(path.MatchRoot("secret_wo"))),
			},
			"secret_wo": schema.StringAttribute{
				MarkdownDescription: d["secret_wo"], Optional: true, Sensitive: true, WriteOnly: true,
				// secret_wo_version may go without secret_wo (a plan
				// without the secret), but not the other way round: without
				// a version the secret would never be sent again.
				Validators: optionalString(stringvalidator.LengthAtMost(api.MaxSecret),
					stringvalidator.AlsoRequires(path.MatchRoot("secret_wo_version"))),
			},
			"secret_wo_version": schema.Int64Attribute{MarkdownDescription: d["secret_wo_version"], Optional: true},
			"expires_at": schema.StringAttribute{
				MarkdownDescription: d["expires_at"], Optional: true, CustomType: timetypes.RFC3339Type{},
				Validators: []validator.String{microsecondTimeValidator{}},
			},
			"rotation_period": schema.StringAttribute{MarkdownDescription: d["rotation_period"], Optional: true, CustomType: durationType{}, PlanModifiers: durationPlanModifiers()},
			"rotation_due_at": computedTime("rotation_due_at"),
			"secret_revision": schema.Int64Attribute{MarkdownDescription: d["secret_revision"], Computed: true},
			"last_rotated_at": computedTime("last_rotated_at"),
			"revision":        schema.Int64Attribute{MarkdownDescription: d["revision"], Computed: true},
			"created_at": schema.StringAttribute{
				MarkdownDescription: d["created_at"], Computed: true, CustomType: timetypes.RFC3339Type{},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": computedTime("updated_at"),
		},
	}
}

// ValidateConfig checks the rules that tie fields to the type, on the
// attribute that breaks them. A value that is not known yet (a module
// input, another resource's attribute) may turn out null, so it is judged
// when Terraform validates again with known values.
func (r *credentialResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m credentialModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Type.IsUnknown() || m.Type.IsNull() {
		return
	}
	typ := m.Type.ValueString()
	belongs := map[string]struct {
		v     attr.Value
		types []string
	}{
		"header":      {m.Header, []string{api.CredAPIKey}},
		"query_param": {m.QueryParam, []string{api.CredAPIKey}},
		"username":    {m.Username, []string{api.CredBasic}},
		"token_url":   {m.TokenURL, []string{api.CredOAuth2Client}},
		"client_id":   {m.ClientID, []string{api.CredOAuth2Client}},
		"scopes":      {m.Scopes, []string{api.CredOAuth2Client}},
	}
	for name, b := range belongs {
		if known(b.v) && typ != b.types[0] {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Attribute not valid for this type",
				fmt.Sprintf("%s is only valid for type %s, not %s.", name, b.types[0], typ))
		}
	}
	required := map[string][]string{api.CredBasic: {"username"}, api.CredOAuth2Client: {"token_url", "client_id"}}
	for _, name := range required[typ] {
		if belongs[name].v.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Missing required attribute",
				fmt.Sprintf("%s is required for type %s.", name, typ))
		}
	}
	validateTokenURLAllowed(ctx, m, &resp.Diagnostics)
	// The write-only value is in the configuration while it is validated,
	// so the secret is checked before any apply (such as the newline a
	// file() leaves at the end of a token sent in a header). Whether an
	// api_key goes in a header or the query must be known for that. The
	// message does not quote the value: it is a secret.
	if m.QueryParam.IsUnknown() {
		return
	}
	checkSecretsAtPlan(ctx, req.Config, &resp.Diagnostics, func(secret string) (string, string) {
		if msg := api.CredentialSecretProblem(typ, !m.QueryParam.IsNull(), secret); msg != "" {
			return "Invalid secret", "The secret " + msg + "."
		}
		return "", ""
	})
}

// checkSecretsAtPlan checks secret and secret_wo, where the configuration
// knows them, with problem, which returns the summary and detail of the
// error (never quoting the secret) or "" for a good one. The write-only
// value is in the configuration while it is validated, so a bad secret
// fails the plan instead of the apply. A value that is "" or too long has
// its own message from the schema's validators, and is left to them.
func checkSecretsAtPlan(ctx context.Context, cfg tfsdk.Config, diags *diag.Diagnostics, problem func(secret string) (summary, detail string)) {
	for _, name := range []string{"secret", "secret_wo"} {
		var v types.String
		diags.Append(cfg.GetAttribute(ctx, path.Root(name), &v)...)
		if !known(v) || v.ValueString() == "" || len(v.ValueString()) > api.MaxSecret {
			continue
		}
		if summary, detail := problem(v.ValueString()); summary != "" {
			diags.AddAttributeError(path.Root(name), summary, detail)
		}
	}
}

// validateTokenURLAllowed reports on token_url when allowed_hosts, both
// known, leave out its host: the client secret is sent there, and aiod
// would refuse the credential.
func validateTokenURLAllowed(ctx context.Context, m credentialModel, diags *diag.Diagnostics) {
	if m.TokenURL.IsNull() || m.TokenURL.IsUnknown() || m.AllowedHosts.IsNull() || m.AllowedHosts.IsUnknown() {
		return
	}
	var hosts []types.String
	if d := m.AllowedHosts.ElementsAs(ctx, &hosts, false); d.HasError() {
		return
	}
	c := api.Credential{TokenURL: m.TokenURL.ValueStringPointer()}
	for _, h := range hosts {
		if h.IsUnknown() {
			return
		}
		c.AllowedHosts = append(c.AllowedHosts, h.ValueString())
	}
	if hp, ok := c.AllowsURL(m.TokenURL.ValueString()); !ok && api.ValidateAllowedHosts("allowed_hosts", c.AllowedHosts) == nil {
		diags.AddAttributeError(path.Root("token_url"), "Token URL not in allowed_hosts",
			fmt.Sprintf("The client secret is sent to %s, which allowed_hosts does not allow. Add it to allowed_hosts.", hp))
	} else if msg := c.TokenURLPlaintextProblem(); ok && msg != "" {
		diags.AddAttributeError(path.Root("token_url"), "Token URL over plain http",
			"The token_url "+msg+".")
	}
}

// secretFromConfig returns the configured secret (secret_wo is only in the
// configuration, never in the plan; secret is in both) and ctx with the
// secret masked in every log line, so that no caller can send the secret
// without masking it.
func secretFromConfig(ctx context.Context, cfg configGetter, planSecret types.String) (context.Context, *string, diag.Diagnostics) {
	var wo types.String
	diags := cfg.GetAttribute(ctx, path.Root("secret_wo"), &wo)
	var v string
	switch {
	case !wo.IsNull() && !wo.IsUnknown():
		v = wo.ValueString()
	case !planSecret.IsNull() && !planSecret.IsUnknown():
		v = planSecret.ValueString()
	default:
		diags.AddAttributeError(path.Root("secret_wo"), "Missing secret",
			"The secret must be sent to aiod now, but neither secret nor secret_wo has a known value. Write-only values from ephemeral variables must be supplied on every apply that sends the secret.")
		return ctx, nil, diags
	}
	// From here on, every log line written with the returned context has
	// the secret masked.
	return maskSecret(ctx, v), &v, diags
}

// configGetter is what tfsdk.Config offers, so that Create and Update
// share secretFromConfig.
type configGetter interface {
	GetAttribute(ctx context.Context, p path.Path, target any) diag.Diagnostics
}

func setPrivateRevision(ctx context.Context, p interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}, rev int64) diag.Diagnostics {
	return p.SetKey(ctx, privateSecretRevision, []byte(strconv.FormatInt(rev, 10)))
}

func (r *credentialResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	plan, in, ok := r.planned(ctx, req.Plan, &resp.Diagnostics)
	if !ok {
		return
	}
	var diags diag.Diagnostics
	ctx, in.Secret, diags = secretFromConfig(ctx, req.Config, plan.Secret)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, ok := r.createObject(ctx, in, plan, &resp.State, &resp.Diagnostics)
	if !ok {
		return
	}
	tflog.Debug(ctx, "stored the credential's secret", map[string]any{"credential_id": out.ID, "secret_revision": out.SecretRevision})
	resp.Diagnostics.Append(setPrivateRevision(ctx, resp.Private, out.SecretRevision)...)
}

// secretState is what ModifyPlan and Update decide about the secret.
type secretState struct {
	// send: the apply sends the secret.
	send bool
	// changed: the configuration changed secret_wo_version or secret.
	changed bool
	drifted bool
	noTrace bool
	// resends names the attributes whose planned change would send the
	// secret somewhere new or in a new form (api.Credential.ResendsSecret):
	// aiod refuses such an update without the secret.
	resends []string
}

// secretAttrs are the attributes that every resource with a write-only
// secret has (aio_credential, aio_notification_channel), which the secret
// rules below read.
type secretAttrs struct {
	Secret          types.String
	SecretWOVersion types.Int64
	SecretRevision  types.Int64
}

// secretAttrs returns the credential's secret attributes.
func (m credentialModel) secretAttrs() secretAttrs {
	return secretAttrs{Secret: m.Secret, SecretWOVersion: m.SecretWOVersion, SecretRevision: m.SecretRevision}
}

// secretDecision tells whether the secret must be sent: its version or
// value changed in the configuration, it was changed outside Terraform
// (the refreshed secret_revision differs from the one Terraform last
// wrote), Terraform has no record of it (after an import), or the update
// would send it somewhere new or in a new form (credentials add that in
// credentialSecretDecision).
func secretDecision(ctx context.Context, priv interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}, plan, state secretAttrs) (secretState, diag.Diagnostics) {
	raw, diags := priv.GetKey(ctx, privateSecretRevision)
	var s secretState
	if len(raw) == 0 {
		s.noTrace = true
	} else if known, err := strconv.ParseInt(string(raw), 10, 64); err != nil || known != state.SecretRevision.ValueInt64() {
		s.drifted = true
	}
	s.changed = !plan.SecretWOVersion.Equal(state.SecretWOVersion) || !plan.Secret.Equal(state.Secret)
	s.send = s.noTrace || s.drifted || s.changed
	return s, diags
}

// credentialSecretDecision is secretDecision for a credential, which also
// sends the secret when the update would send it somewhere new or in a new
// form (secretResends).
func credentialSecretDecision(ctx context.Context, priv interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}, plan, state credentialModel) (secretState, diag.Diagnostics) {
	s, diags := secretDecision(ctx, priv, plan.secretAttrs(), state.secretAttrs())
	s.resends = secretResends(state, plan)
	s.send = s.send || len(s.resends) > 0
	return s, diags
}

// secretResends names the attributes whose change from state to plan
// would make aiod send the secret somewhere new or in a new form, by the
// rule aiod applies (api.Credential.ResendsSecret). Only known values are
// judged: an attribute not known yet is taken as unchanged at plan time,
// and the apply, where every value is known, judges it again.
func secretResends(state, plan credentialModel) []string {
	old := credentialSecretFields(state, nil)
	return old.ResendsSecret(credentialSecretFields(plan, &old))
}

// credentialSecretFields is the part of m that decides where and how the
// secret is sent. A value of m that is not known yet is taken from
// fallback, when given.
func credentialSecretFields(m credentialModel, fallback *api.Credential) api.Credential {
	var c api.Credential
	if fallback != nil {
		c = *fallback
	}
	if !m.Type.IsUnknown() {
		c.Type = m.Type.ValueString()
	}
	for _, f := range []struct {
		v   types.String
		dst **string
	}{
		{m.Header, &c.Header},
		{m.QueryParam, &c.QueryParam},
		{m.Username, &c.Username},
		{m.TokenURL, &c.TokenURL},
		{m.ClientID, &c.ClientID},
	} {
		if !f.v.IsUnknown() {
			*f.dst = stringPtr(f.v)
		}
	}
	if hosts, ok := knownStrings(m.AllowedHosts); ok {
		c.AllowedHosts = hosts
	}
	return c
}

// secretTargetUnknown tells whether a value that decides where and how the
// secret is sent is not known yet (a module's input computed during the
// apply). The apply, not the plan, then finds out whether the secret is
// sent, so what a send changes must be planned unknown: planned as it is,
// the apply would contradict its own plan when the value turns out to
// widen where the secret goes.
func secretTargetUnknown(m credentialModel) bool {
	for _, v := range []types.String{m.Type, m.Header, m.QueryParam, m.Username, m.TokenURL, m.ClientID} {
		if v.IsUnknown() {
			return true
		}
	}
	_, known := knownStrings(m.AllowedHosts)
	return !known
}

// knownStrings returns the elements of a set of strings, or false when the
// set or one of its elements is not known yet.
func knownStrings(s types.Set) ([]string, bool) {
	if s.IsUnknown() {
		return nil, false
	}
	var out []string
	for _, e := range s.Elements() {
		v, ok := e.(types.String)
		if !ok || v.IsUnknown() {
			return nil, false
		}
		if !v.IsNull() {
			out = append(out, v.ValueString())
		}
	}
	return out, true
}

// ModifyPlan decides at plan time what the apply will do with the secret,
// and plans rotation_due_at null when nothing can set it.
//
// A secret is required only when it is going to be sent: on create, when
// secret_wo_version or secret changes, and when the update would send the
// secret somewhere new or in a new form (a widened allowed_hosts, another
// type, header, query_param, token_url, client_id or username), which aiod
// accepts only from someone who holds the secret. Any other plan, such as
// a nightly drift check or a narrowing of allowed_hosts, runs without the
// secret (an ephemeral variable left unset), since aiod keeps the one it
// has.
// modifyPlanKeepsUnchangedPlans is false: ModifyPlan plans a secret
// resend on a plan equal to the prior state when the secret changed
// outside Terraform, so the refresh's fast path leaves the plan to it.
func (r *credentialResource) modifyPlanKeepsUnchangedPlans() bool { return false }

func (r *credentialResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan, state credentialModel
	var wo types.String
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("secret_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Null only when configured null: an unknown value may still be a
	// secret when the apply comes.
	noSecret := plan.Secret.IsNull() && wo.IsNull()
	// aiod computes rotation_due_at from expires_at and rotation_period
	// only; with both unset it stays null, and the plan can say so.
	noRotation := plan.ExpiresAt.IsNull() && plan.RotationPeriod.IsNull()
	if req.State.Raw.IsNull() {
		if noSecret {
			addMissingSecret(&resp.Diagnostics, "The credential is created with its secret")
			return
		}
		if noRotation {
			plan.RotationDueAt = timetypes.NewRFC3339Null()
			resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
		}
		return
	}
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	dec, diags := credentialSecretDecision(ctx, req.Private, plan, state)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	// A version not known yet may turn out unchanged: the apply decides,
	// and fails on secret_wo if it must send a secret it does not have.
	if dec.changed && noSecret && !plan.SecretWOVersion.IsUnknown() {
		addMissingSecret(&resp.Diagnostics, "secret_wo_version (or secret) changed, so the apply sends the secret")
		return
	}
	// aiod sends the secret somewhere new or in a new form only when the
	// update carries it, so that only someone who holds the secret can
	// widen where it goes.
	if len(dec.resends) > 0 && noSecret {
		addMissingSecret(&resp.Diagnostics, "This update "+api.ResendsSecretChanges(dec.resends)+
			", which would send the secret somewhere new or in a new form, so aiod accepts it only with the secret")
		return
	}
	if dec.drifted {
		resp.Diagnostics.AddWarning("Secret changed outside Terraform",
			fmt.Sprintf("The secret of credential %s was changed outside Terraform (its secret_revision is now %d). Apply sends the configured secret again.",
				state.ID.ValueString(), state.SecretRevision.ValueInt64()))
	}
	if dec.send && noSecret {
		resp.Diagnostics.AddAttributeWarning(path.Root("secret_wo"), "The apply needs the secret",
			"Terraform has no record that aiod holds the configured secret (after an import, or after a change outside Terraform), so the apply sends it: supply secret_wo (or secret) to the apply.")
	}
	if dec.send || secretTargetUnknown(plan) {
		plan.SecretRevision = types.Int64Unknown()
		plan.LastRotatedAt = timetypes.NewRFC3339Unknown()
		plan.RotationDueAt = timetypes.NewRFC3339Unknown()
		plan.Revision = types.Int64Unknown()
		plan.UpdatedAt = timetypes.NewRFC3339Unknown()
	} else {
		// Without a secret change these stay as they are, so that a change
		// of, say, the description does not show them as unknown.
		plan.SecretRevision = state.SecretRevision
		plan.LastRotatedAt = state.LastRotatedAt
		if sameDuration(ctx, plan.RotationPeriod, state.RotationPeriod) && sameInstant(ctx, plan.ExpiresAt, state.ExpiresAt) {
			plan.RotationDueAt = state.RotationDueAt
		}
	}
	if noRotation {
		plan.RotationDueAt = timetypes.NewRFC3339Null()
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
	if !dec.send && !secretTargetUnknown(plan) && !resp.Diagnostics.HasError() {
		// Nothing is sent: as for every kind (objectResource.ModifyPlan),
		// a plan that differs from the state only in spelling (such as
		// rotation_period "43200m" over "720h") is no change.
		keepStateWhenUnchanged(ctx, req.State, &resp.Plan)
	}
}

// addMissingSecret reports a plan that would have to send a secret it
// does not have.
func addMissingSecret(diags *diag.Diagnostics, why string) {
	diags.AddAttributeError(path.Root("secret_wo"), "Missing secret",
		why+", but neither secret_wo nor secret has a value. Supply the secret to this plan and its apply, for example TF_VAR_<name> for an ephemeral variable. Plans that send no secret need none.")
}

func (r *credentialResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	plan, in, ok := r.planned(ctx, req.Plan, &resp.Diagnostics)
	var state credentialModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if !ok || resp.Diagnostics.HasError() {
		return
	}
	dec, diags := credentialSecretDecision(ctx, req.Private, plan, state)
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
	tflog.Debug(ctx, "updated the credential's secret", map[string]any{"credential_id": out.ID, "secret_sent": dec.send, "secret_revision": out.SecretRevision})
	resp.Diagnostics.Append(setPrivateRevision(ctx, resp.Private, out.SecretRevision)...)
}

// maskSecret keeps the secret out of every log line written with ctx, by
// field name and by value, as a second line of defence: nothing logs it on
// purpose.
func maskSecret(ctx context.Context, secret string) context.Context {
	ctx = tflog.MaskFieldValuesWithFieldKeys(ctx, "secret", "secret_wo")
	return tflog.MaskAllFieldValuesStrings(tflog.MaskMessageStrings(ctx, secret), secret)
}
