package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// The credential kind: its model and conversions, shared by the
// aio_credential resource and data source. The rules of the secret (when
// it is sent, how its drift is found) are the resource's, in
// credential_resource.go.

// credentialKind describes credentials to the generic resource and data
// source. The data source leaves out the secret's attributes: the API never
// returns a secret.
var credentialKind = &kind[api.Credential, credentialModel]{
	name:                  "credential",
	plural:                "credentials",
	prefix:                api.PrefixCredential,
	schema:                credentialResourceSchema,
	dataSourceDescription: "Reads a credential's metadata, chosen by `id` or by `name`. The secret is never readable: not through this data source, nor through the API.",
	dataSourceOmits:       []string{"secret", "secret_wo", "secret_wo_version"},
	fromAPI:               credentialModelFromAPI,
	create:                (*client.Client).CreateCredential,
	get:                   (*client.Client).GetCredential,
	update:                (*client.Client).UpdateCredential,
	delete:                (*client.Client).DeleteCredential,
	list: func(ctx context.Context, c *client.Client, opts client.ListOptions, _ map[string]string) ([]api.Credential, error) {
		return c.ListAllCredentials(ctx, opts)
	},
}

// credentialModel is the state of aio_credential; the aio_credential data
// source holds the same less the secret's attributes.
type credentialModel struct {
	ID              types.String      `tfsdk:"id"`
	Name            types.String      `tfsdk:"name"`
	Description     types.String      `tfsdk:"description"`
	Type            types.String      `tfsdk:"type"`
	Header          types.String      `tfsdk:"header"`
	QueryParam      types.String      `tfsdk:"query_param"`
	Username        types.String      `tfsdk:"username"`
	TokenURL        types.String      `tfsdk:"token_url"`
	ClientID        types.String      `tfsdk:"client_id"`
	Scopes          types.Set         `tfsdk:"scopes"`
	AllowedHosts    types.Set         `tfsdk:"allowed_hosts"`
	Secret          types.String      `tfsdk:"secret"`
	SecretWO        types.String      `tfsdk:"secret_wo"`
	SecretWOVersion types.Int64       `tfsdk:"secret_wo_version"`
	ExpiresAt       timetypes.RFC3339 `tfsdk:"expires_at"`
	RotationPeriod  durationValue     `tfsdk:"rotation_period"`
	RotationDueAt   timetypes.RFC3339 `tfsdk:"rotation_due_at"`
	SecretRevision  types.Int64       `tfsdk:"secret_revision"`
	LastRotatedAt   timetypes.RFC3339 `tfsdk:"last_rotated_at"`
	Revision        types.Int64       `tfsdk:"revision"`
	CreatedAt       timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt       timetypes.RFC3339 `tfsdk:"updated_at"`
}

// credentialModelFromAPI converts an API credential to the model. The API
// never returns the secret, so secret and secret_wo_version are carried
// over from prior (the plan or the prior state); secret_wo is never kept.
func credentialModelFromAPI(ctx context.Context, c api.Credential, prior credentialModel) (credentialModel, diag.Diagnostics) {
	m := credentialModel{
		ID:              types.StringValue(c.ID),
		Name:            types.StringValue(c.Name),
		Description:     types.StringPointerValue(c.Description),
		Type:            types.StringValue(c.Type),
		Header:          types.StringPointerValue(c.Header),
		QueryParam:      types.StringPointerValue(c.QueryParam),
		Username:        types.StringPointerValue(c.Username),
		TokenURL:        types.StringPointerValue(c.TokenURL),
		ClientID:        types.StringPointerValue(c.ClientID),
		Scopes:          stringSetFromAPI(c.Scopes),
		AllowedHosts:    stringSetFromAPI(c.AllowedHosts),
		Secret:          prior.Secret,
		SecretWO:        types.StringNull(),
		SecretWOVersion: prior.SecretWOVersion,
		ExpiresAt:       keepSameInstant(ctx, prior.ExpiresAt, timePtrValue(c.ExpiresAt)),
		RotationPeriod:  durationOf(c.RotationPeriod),
		RotationDueAt:   timePtrValue(c.RotationDueAt),
		SecretRevision:  types.Int64Value(c.SecretRevision),
		LastRotatedAt:   timePtrValue(c.LastRotatedAt),
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
func (m credentialModel) toAPI(ctx context.Context) (api.Credential, diag.Diagnostics) {
	var diags diag.Diagnostics
	c := api.Credential{
		Name:        m.Name.ValueString(),
		Description: stringPtr(m.Description),
		Type:        m.Type.ValueString(),
		Header:      stringPtr(m.Header),
		QueryParam:  stringPtr(m.QueryParam),
		Username:    stringPtr(m.Username),
		TokenURL:    stringPtr(m.TokenURL),
		ClientID:    stringPtr(m.ClientID),
	}
	if !m.Scopes.IsNull() && !m.Scopes.IsUnknown() {
		c.Scopes = []string{}
		diags.Append(m.Scopes.ElementsAs(ctx, &c.Scopes, false)...)
	}
	if !m.AllowedHosts.IsNull() && !m.AllowedHosts.IsUnknown() {
		c.AllowedHosts = []string{}
		diags.Append(m.AllowedHosts.ElementsAs(ctx, &c.AllowedHosts, false)...)
	}
	if !m.ExpiresAt.IsNull() && !m.ExpiresAt.IsUnknown() {
		t, d := m.ExpiresAt.ValueRFC3339Time()
		diags.Append(d...)
		c.ExpiresAt = &t
	}
	c.RotationPeriod = stringPtr(m.RotationPeriod.StringValue)
	return c, diags
}

// timePtrValue renders an optional server timestamp.
func timePtrValue(t *time.Time) timetypes.RFC3339 {
	if t == nil {
		return timetypes.NewRFC3339Null()
	}
	return timeValue(*t)
}

// sameInstant tells whether two timestamps are both null or the same
// instant, whatever their offsets.
func sameInstant(_ context.Context, a, b timetypes.RFC3339) bool {
	if a.IsNull() || b.IsNull() || a.IsUnknown() || b.IsUnknown() {
		return a.Equal(b)
	}
	ta, da := a.ValueRFC3339Time()
	tb, db := b.ValueRFC3339Time()
	return !da.HasError() && !db.HasError() && ta.Equal(tb)
}

// keepSameInstant keeps the configured form of a timestamp (its offset)
// when aiod returns the same instant in UTC, so that "+02:00" in the
// configuration does not read back as a change.
func keepSameInstant(ctx context.Context, prior, got timetypes.RFC3339) timetypes.RFC3339 {
	if sameInstant(ctx, prior, got) && !prior.IsNull() && !prior.IsUnknown() {
		return prior
	}
	return got
}
