package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*retentionComplianceDataSource)(nil)

// NewRetentionComplianceDataSource returns the aio_retention_compliance
// data source.
func NewRetentionComplianceDataSource() datasource.DataSource {
	return &retentionComplianceDataSource{}
}

// retentionComplianceDataSource reads whether the data aiod holds is
// within its retention policies, for a scheduled pipeline's gate.
type retentionComplianceDataSource struct {
	client *client.Client
}

// retentionComplianceModel is the state of aio_retention_compliance.
type retentionComplianceModel struct {
	DataKind  types.String      `tfsdk:"data_kind"`
	CheckedAt timetypes.RFC3339 `tfsdk:"checked_at"`
	Compliant types.Bool        `tfsdk:"compliant"`
	Overdue   types.Int64       `tfsdk:"overdue"`
	Items     types.List        `tfsdk:"items"`
}

// complianceItemModel is one element of items.
type complianceItemModel struct {
	DataKind  types.String      `tfsdk:"data_kind"`
	Scope     types.String      `tfsdk:"scope"`
	PolicyID  types.String      `tfsdk:"policy_id"`
	Action    types.String      `tfsdk:"action"`
	MaxAge    types.String      `tfsdk:"max_age"`
	OldestAt  timetypes.RFC3339 `tfsdk:"oldest_at"`
	Overdue   types.Int64       `tfsdk:"overdue"`
	Compliant types.Bool        `tfsdk:"compliant"`
}

var complianceItemTypes = map[string]attr.Type{
	"data_kind": types.StringType, "scope": types.StringType, "policy_id": types.StringType, "action": types.StringType,
	"max_age": types.StringType, "oldest_at": timetypes.RFC3339Type{}, "overdue": types.Int64Type, "compliant": types.BoolType,
}

func (d *retentionComplianceDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_retention_compliance"
}

func (d *retentionComplianceDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads whether the data aiod holds is within its retention: for every data kind and scope, the policy in force, the oldest record held and how many records are held past their age. " +
			"A record counts as overdue once it is past its age by more than one enforcement interval and a minute (the next run may not have come yet). " +
			"Assert on `compliant` in a `check` block (warns) or a `postcondition` (fails the run) of a scheduled pipeline, to prove retention in CI.",
		Attributes: map[string]schema.Attribute{
			"data_kind": schema.StringAttribute{
				MarkdownDescription: "Reads only this data kind: one of " + oneOfDescription(api.DataKindNames) + ". Unset by default (every data kind).",
				Optional:            true, Validators: []validator.String{stringvalidator.OneOf(api.DataKindNames...)},
			},
			"checked_at": schema.StringAttribute{MarkdownDescription: "When aiod checked, in RFC 3339 format.", Computed: true, CustomType: timetypes.RFC3339Type{}},
			"compliant":  schema.BoolAttribute{MarkdownDescription: "Whether every item read is within policy: no record is overdue.", Computed: true},
			"overdue":    schema.Int64Attribute{MarkdownDescription: "How many records, over every item read, are held past their age.", Computed: true},
			"items": schema.ListNestedAttribute{
				MarkdownDescription: "One item per data kind and scope: each enabled policy, and the built-in default for what no delete policy covers (scope `default`).",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"data_kind": str("The data kind."),
					"scope":     str("The scope: `all`, `default` (what no delete policy covers), or the policy's, as `data_classifications=pii`, `endpoint_ids=ep_a,ep_b` or `endpoint_tags=team:payments`."),
					"policy_id": str("The ID of the policy in force; null for the built-in default."),
					"action":    str("What happens past `max_age`: `delete` or `anonymize`."),
					"max_age":   str("The age past which the data is deleted or anonymized, as a Go duration; null when the data is kept for ever."),
					"oldest_at": schema.StringAttribute{MarkdownDescription: "The time of the oldest record held in the scope, in RFC 3339 format; null when there is none.", Computed: true, CustomType: timetypes.RFC3339Type{}},
					"overdue":   schema.Int64Attribute{MarkdownDescription: "How many records are held past `max_age` (not yet anonymized, for `anonymize`).", Computed: true},
					"compliant": schema.BoolAttribute{MarkdownDescription: "Whether no record of the item is overdue.", Computed: true},
				}},
			},
		},
	}
}

func (d *retentionComplianceDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

func (d *retentionComplianceDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg retentionComplianceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := d.client.RetentionCompliance(ctx)
	if err != nil {
		addClientError(&resp.Diagnostics, resp.State.Schema, "Could not read the retention compliance", err)
		return
	}
	out := retentionComplianceModel{DataKind: cfg.DataKind, CheckedAt: timeValue(c.CheckedAt), Compliant: types.BoolValue(true)}
	items := []complianceItemModel{}
	var overdue int64
	for _, it := range c.Items {
		if known(cfg.DataKind) && it.DataKind != cfg.DataKind.ValueString() {
			continue
		}
		items = append(items, complianceItemModel{
			DataKind: types.StringValue(it.DataKind), Scope: types.StringValue(it.Scope), PolicyID: optionalText(it.PolicyID),
			Action: types.StringValue(it.Action), MaxAge: optionalText(it.MaxAge), OldestAt: timePtrValue(it.OldestAt),
			Overdue: types.Int64Value(it.Overdue), Compliant: types.BoolValue(it.Compliant),
		})
		overdue += it.Overdue
		if !it.Compliant {
			out.Compliant = types.BoolValue(false)
		}
	}
	out.Overdue = types.Int64Value(overdue)
	list, diags := types.ListValueFrom(ctx, types.ObjectType{AttrTypes: complianceItemTypes}, items)
	resp.Diagnostics.Append(diags...)
	out.Items = list
	tflog.Debug(ctx, "read retention compliance", map[string]any{"compliant": out.Compliant.ValueBool(), "overdue": overdue})
	resp.Diagnostics.Append(resp.State.Set(ctx, out)...)
}

// optionalText is null for an empty string.
func optionalText(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}
