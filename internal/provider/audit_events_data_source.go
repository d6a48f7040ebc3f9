package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*auditEventsDataSource)(nil)

// NewAuditEventsDataSource returns the aio_audit_events data source.
func NewAuditEventsDataSource() datasource.DataSource { return &auditEventsDataSource{} }

// auditEventsDataSource lists audit events for compliance reporting.
type auditEventsDataSource struct {
	client *client.Client
}

// auditEventsDataSourceModel is the state of aio_audit_events.
type auditEventsDataSourceModel struct {
	ObjectID types.String      `tfsdk:"object_id"`
	Kind     types.String      `tfsdk:"kind"`
	Actor    types.String      `tfsdk:"actor"`
	Since    timetypes.RFC3339 `tfsdk:"since"`
	Events   []auditEventModel `tfsdk:"events"`
}

// auditEventModel is one audit event.
type auditEventModel struct {
	ID            types.String       `tfsdk:"id"`
	Time          timetypes.RFC3339  `tfsdk:"time"`
	Actor         types.String       `tfsdk:"actor"`
	ActorRole     types.String       `tfsdk:"actor_role"`
	Action        types.String       `tfsdk:"action"`
	ObjectKind    types.String       `tfsdk:"object_kind"`
	ObjectID      types.String       `tfsdk:"object_id"`
	Revision      types.Int64        `tfsdk:"revision"`
	ChangedFields []types.String     `tfsdk:"changed_fields"`
	Changes       []auditChangeModel `tfsdk:"changes"`
}

// auditChangeModel is one changed path of an audit event with its values.
type auditChangeModel struct {
	Path      types.String `tfsdk:"path"`
	OldValue  types.String `tfsdk:"old_value"`
	NewValue  types.String `tfsdk:"new_value"`
	Sensitive types.Bool   `tfsdk:"sensitive"`
}

func (d *auditEventsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_audit_events"
}

func (d *auditEventsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists audit events, oldest first, for compliance reporting: every change made through the API or the `aiod` command line, with who made it, which paths changed and their old and new values. Secret values are never recorded; a secret change is recorded as a sensitive change of `secret`, values withheld.",
		Attributes: map[string]schema.Attribute{
			"object_id": schema.StringAttribute{MarkdownDescription: "Lists only events about the object with this ID. Unset by default (every object).", Optional: true},
			"kind": schema.StringAttribute{
				MarkdownDescription: "Lists only events about objects of this kind: one of " + oneOfDescription(api.AuditKinds) + ". Unset by default (every kind).",
				Optional:            true, Validators: []validator.String{stringvalidator.OneOf(api.AuditKinds...)},
			},
			"actor": schema.StringAttribute{MarkdownDescription: "Lists only events made by this actor: a token name, or `cli` for the `aiod` command line. Unset by default (every actor).", Optional: true},
			"since": schema.StringAttribute{
				MarkdownDescription: "Lists only events at or after this time, in RFC 3339 format. Unset by default (from the first event).",
				Optional:            true, CustomType: timetypes.RFC3339Type{},
			},
			"events": schema.ListNestedAttribute{
				MarkdownDescription: "The matching events, oldest first.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":          str("The event's ID, such as `aud_01h...`."),
					"time":        schema.StringAttribute{MarkdownDescription: "When the change was made, in RFC 3339 format.", Computed: true, CustomType: timetypes.RFC3339Type{}},
					"actor":       str("Who made the change: the token's name, or `cli` for the `aiod` command line."),
					"actor_role":  str("The actor's role: `admin`, `editor`, `viewer`, or `cli`."),
					"action":      str("What was done: `create`, `update`, `delete`, `restore` or `revoke`; `run` for a retention policy's run, `erase` for an erasure, `test` for a notification channel's test message."),
					"object_kind": str("The kind of the object changed, such as `endpoint` or `credential`."),
					"object_id":   str("The ID of the object changed."),
					"revision":    schema.Int64Attribute{MarkdownDescription: "The object's revision after the change (before it, for a delete).", Computed: true},
					"changed_fields": schema.ListAttribute{
						MarkdownDescription: "The names of the fields that changed, such as `url`, `tags.env` or `secret`, as the API has always listed them (a list index as `.1`); `changes` holds the same changes with values.",
						Computed:            true, ElementType: types.StringType,
					},
					"changes": schema.ListNestedAttribute{
						MarkdownDescription: "Each changed path with its old and new values, ordered by path, the sensitive ones last. Empty for deletes, token events and events recorded before values were kept.",
						Computed:            true,
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"path":      str("The changed path: nested fields joined by dots and list indexes in brackets, such as `request.headers.accept` or `assertions[1].target`."),
							"old_value": str("The value before the change, as JSON (`null` when the field was unset or the object new); null for a sensitive change."),
							"new_value": str("The value after the change, as JSON (`null` when the field became unset); null for a sensitive change."),
							"sensitive": schema.BoolAttribute{
								MarkdownDescription: "Whether the path holds a secret, whose values are never recorded: `old_value` and `new_value` are then null.",
								Computed:            true,
							},
						}},
					},
				}},
			},
		},
	}
}

func (d *auditEventsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

func (d *auditEventsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg auditEventsDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	f := client.AuditFilter{ObjectID: cfg.ObjectID.ValueString(), Kind: cfg.Kind.ValueString(), Actor: cfg.Actor.ValueString()}
	if !cfg.Since.IsNull() {
		t, diags := cfg.Since.ValueRFC3339Time()
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
		f.Since = t
	}
	events, err := d.client.ListAllAuditEvents(ctx, f)
	if err != nil {
		addClientError(&resp.Diagnostics, resp.State.Schema, "Could not list audit events", err)
		return
	}
	cfg.Events = make([]auditEventModel, 0, len(events))
	for _, ev := range events {
		cfg.Events = append(cfg.Events, auditEventFromAPI(ev))
	}
	tflog.Debug(ctx, "listed audit events", map[string]any{"count": len(events)})
	resp.Diagnostics.Append(resp.State.Set(ctx, cfg)...)
}

func auditEventFromAPI(ev api.AuditEvent) auditEventModel {
	fields := make([]types.String, len(ev.ChangedFields))
	for i, f := range ev.ChangedFields {
		fields[i] = types.StringValue(f)
	}
	return auditEventModel{
		ID: types.StringValue(ev.ID), Time: timeValue(ev.Time), Actor: types.StringValue(ev.Actor),
		ActorRole: types.StringValue(ev.ActorRole), Action: types.StringValue(ev.Action),
		ObjectKind: types.StringValue(ev.ObjectKind), ObjectID: types.StringValue(ev.ObjectID),
		Revision: types.Int64Value(ev.Revision), ChangedFields: fields, Changes: auditChangesFromAPI(ev.Changes),
	}
}

// auditChangesFromAPI converts the changes of an event; a withheld value
// is null.
func auditChangesFromAPI(in []api.Change) []auditChangeModel {
	out := make([]auditChangeModel, len(in))
	for i, c := range in {
		out[i] = auditChangeModel{Path: types.StringValue(c.Path), Sensitive: types.BoolValue(c.Sensitive),
			OldValue: types.StringNull(), NewValue: types.StringNull()}
		if !c.Sensitive {
			out[i].OldValue, out[i].NewValue = types.StringValue(string(c.Old)), types.StringValue(string(c.New))
		}
	}
	return out
}
