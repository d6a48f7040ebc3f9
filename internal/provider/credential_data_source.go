package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

var (
	_ datasource.DataSourceWithConfigure        = (*credentialDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*credentialDataSource)(nil)
)

// NewCredentialDataSource returns the aio_credential data source.
func NewCredentialDataSource() datasource.DataSource { return &credentialDataSource{} }

// credentialDataSource reads a credential's metadata; never its secret.
type credentialDataSource struct {
	client *client.Client
}

// credentialDataSourceModel is the state of the aio_credential data source:
// the resource's attributes less the secret ones.
type credentialDataSourceModel struct {
	ID             types.String      `tfsdk:"id"`
	Name           types.String      `tfsdk:"name"`
	Description    types.String      `tfsdk:"description"`
	Type           types.String      `tfsdk:"type"`
	Header         types.String      `tfsdk:"header"`
	QueryParam     types.String      `tfsdk:"query_param"`
	Username       types.String      `tfsdk:"username"`
	TokenURL       types.String      `tfsdk:"token_url"`
	ClientID       types.String      `tfsdk:"client_id"`
	Scopes         types.Set         `tfsdk:"scopes"`
	AllowedHosts   types.Set         `tfsdk:"allowed_hosts"`
	ExpiresAt      timetypes.RFC3339 `tfsdk:"expires_at"`
	RotationPeriod durationValue     `tfsdk:"rotation_period"`
	RotationDueAt  timetypes.RFC3339 `tfsdk:"rotation_due_at"`
	SecretRevision types.Int64       `tfsdk:"secret_revision"`
	LastRotatedAt  timetypes.RFC3339 `tfsdk:"last_rotated_at"`
	Revision       types.Int64       `tfsdk:"revision"`
	CreatedAt      timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt      timetypes.RFC3339 `tfsdk:"updated_at"`
}

func (d *credentialDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential"
}

func (d *credentialDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	desc := dataSourceDescriptions(credentialDescriptions)
	str := func(name string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc[name], Computed: true}
	}
	tm := func(name string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc[name], Computed: true, CustomType: timetypes.RFC3339Type{}}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads a credential's metadata, chosen by `id` or by `name`. The secret is never readable: not through this data source, nor through the API.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: desc["id"] + " Set exactly one of `id` and `name` to choose the credential.",
				Optional:            true, Computed: true,
			},
			"name": schema.StringAttribute{
				MarkdownDescription: desc["name"] + " Set exactly one of `id` and `name` to choose the credential.",
				Optional:            true, Computed: true, Validators: nameValidators(),
			},
			"description":     str("description"),
			"type":            str("type"),
			"header":          str("header"),
			"query_param":     str("query_param"),
			"username":        str("username"),
			"token_url":       str("token_url"),
			"client_id":       str("client_id"),
			"scopes":          schema.SetAttribute{MarkdownDescription: desc["scopes"], Computed: true, ElementType: types.StringType},
			"allowed_hosts":   schema.SetAttribute{MarkdownDescription: desc["allowed_hosts"], Computed: true, ElementType: types.StringType},
			"expires_at":      tm("expires_at"),
			"rotation_period": schema.StringAttribute{MarkdownDescription: desc["rotation_period"], Computed: true, CustomType: durationType{}},
			"rotation_due_at": tm("rotation_due_at"),
			"secret_revision": schema.Int64Attribute{MarkdownDescription: desc["secret_revision"], Computed: true},
			"last_rotated_at": tm("last_rotated_at"),
			"revision":        schema.Int64Attribute{MarkdownDescription: desc["revision"], Computed: true},
			"created_at":      tm("created_at"),
			"updated_at":      tm("updated_at"),
		},
	}
}

func (d *credentialDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name"))}
}

func (d *credentialDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

func (d *credentialDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg credentialDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var (
		c   api.Credential
		err error
	)
	if id := cfg.ID.ValueString(); id != "" {
		c, err = d.client.GetCredential(ctx, id)
		if errors.Is(err, client.ErrNotFound) {
			resp.Diagnostics.AddAttributeError(path.Root("id"), "Credential not found", fmt.Sprintf("No credential has the ID %q.", id))
			return
		}
	} else {
		name := cfg.Name.ValueString()
		var page api.List[api.Credential]
		page, err = d.client.ListCredentials(ctx, client.ListOptions{Name: name, Limit: 1})
		if err == nil && len(page.Items) == 0 {
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Credential not found", fmt.Sprintf("No credential is named %q.", name))
			return
		}
		if err == nil {
			c = page.Items[0]
		}
	}
	if err != nil {
		addClientError(&resp.Diagnostics, "Could not read the credential", err)
		return
	}
	tflog.Debug(ctx, "read credential", map[string]any{"credential_id": c.ID})
	m := credentialModelFromAPI(c, credentialResourceModel{})
	resp.Diagnostics.Append(resp.State.Set(ctx, credentialDataSourceModel{
		ID: m.ID, Name: m.Name, Description: m.Description, Type: m.Type, Header: m.Header, QueryParam: m.QueryParam,
		Username: m.Username, TokenURL: m.TokenURL, ClientID: m.ClientID, Scopes: m.Scopes, AllowedHosts: m.AllowedHosts, ExpiresAt: m.ExpiresAt,
		RotationPeriod: m.RotationPeriod, RotationDueAt: m.RotationDueAt, SecretRevision: m.SecretRevision,
		LastRotatedAt: m.LastRotatedAt, Revision: m.Revision, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
	})...)
}
