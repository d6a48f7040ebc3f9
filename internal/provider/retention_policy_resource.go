package provider

import (
	"context"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

var (
	_ resource.ResourceWithConfigure      = (*retentionResource)(nil)
	_ resource.ResourceWithImportState    = (*retentionResource)(nil)
	_ resource.ResourceWithValidateConfig = (*retentionResource)(nil)
	_ resource.ResourceWithUpgradeState   = (*retentionResource)(nil)
)

// NewRetentionResource returns the aio_retention_policy resource.
func NewRetentionResource() resource.Resource {
	return &retentionResource{objectResource[api.RetentionPolicy, retentionModel]{kind: retentionKind}}
}

// retentionResource manages a retention policy: the generic resource,
// with the API's cross-field rules applied at plan time (ValidateConfig).
type retentionResource struct {
	objectResource[api.RetentionPolicy, retentionModel]
}

// allAnonymizeFields are the fields some data kind can anonymize; which
// ones a data kind takes is checked by ValidateConfig.
var allAnonymizeFields = func() []string {
	var out []string
	for _, k := range api.DataKinds {
		for _, f := range k.AnonymizeFields {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}()

// anonymizeFieldsDescription lists the fields of each data kind.
func anonymizeFieldsDescription() string {
	var parts []string
	for _, k := range api.DataKinds {
		if len(k.AnonymizeFields) > 0 {
			parts = append(parts, "`"+k.Name+"`: "+oneOfDescription(k.AnonymizeFields))
		}
	}
	return strings.Join(parts, "; ")
}

// retentionResourceSchema is the schema of aio_retention_policy; the data
// source derives its own from it.
func retentionResourceSchema() schema.Schema {
	scope := " Set at most one of `endpoint_ids`, `endpoint_tags` and `data_classifications`; with none, the policy covers every endpoint. Not valid for `audit_events`, which belong to no endpoint. Unset by default."
	return schema.Schema{
		// Version 0 is the first shape of the state; see UpgradeState in
		// object_resource.go before changing it.
		Version: 0,
		MarkdownDescription: "A retention policy: how long aiod keeps one kind of the data it stores (raw probe results, minute or hour rollups, alert events, deliveries, audit events, the change history), " +
			"for every endpoint or for some of them, and whether it then deletes the data or anonymizes fields of it. " +
			"aiod enforces every enabled policy every 10 minutes (settable on aiod) in small batches. Where delete policies overlap the shortest `max_age` wins; " +
			"an anonymize policy applies to what is older than its age and younger than any delete; data no delete policy covers keeps aiod's built-in default " +
			"(raw results 4 hours, minute rollups 49 hours, hour rollups 91 days, revisions and tombstones 400 days, the rest for ever). Audit events younger than aiod's audit floor (400 days by default) are never deleted nor anonymized by a policy, " +
			"nor revisions and tombstones younger than that floor or than aiod's history retention if shorter. " +
			"Anonymized text becomes `[anonymized]`, an anonymized actor a keyed pseudonym (`anon:...`, the same for every event of the same actor), and the values are gone from the database file. " +
			"The `aio_retention_compliance` data source tells whether the data held is within policy.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The policy's ID, assigned by aiod, such as `ret_01h...`.", Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "The policy's name, unique among retention policies: 1 to 128 letters, digits, `.`, `_` or `-`, starting with a letter or digit.",
				Required:            true, Validators: nameValidators(),
			},
			"data_kind": schema.StringAttribute{
				MarkdownDescription: "The kind of data the policy governs: one of " + oneOfDescription(api.DataKindNames) + ". " +
					"`probe_results` are the raw results with their errors and body excerpts (and the missed runs); deleting `alert_events` deletes their deliveries with them.",
				Required:   true,
				Validators: []validator.String{stringvalidator.OneOf(api.DataKindNames...)},
			},
			"max_age": schema.StringAttribute{
				MarkdownDescription: "How long the data is kept as it is, as a Go duration from `1m` to `87600h` (10 years), such as `720h` (30 days); `60m` and `1h` are the same value. Older data is deleted or anonymized, by `action`.",
				Required:            true, CustomType: durationType{}, PlanModifiers: durationPlanModifiers(),
			},
			"action": schema.StringAttribute{
				MarkdownDescription: "What happens to data older than `max_age`: `delete`, or `anonymize` (the fields in `anonymize_fields` are replaced; the record stays).",
				Required:            true, Validators: []validator.String{stringvalidator.OneOf(api.RetentionActions...)},
			},
			"anonymize_fields": schema.SetAttribute{
				MarkdownDescription: "With `action = \"anonymize\"`, the fields replaced, per data kind: " + anonymizeFieldsDescription() + ". Required with `anonymize`, not valid with `delete`. Unset by default.",
				Optional:            true, ElementType: types.StringType,
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(stringvalidator.OneOf(allAnonymizeFields...))},
			},
			"endpoint_ids": schema.SetAttribute{
				MarkdownDescription: "Scope: the IDs of the `aio_endpoint`s whose data the policy covers, 1 to 100. A policy does not keep an endpoint from being deleted." + scope,
				Optional:            true, ElementType: types.StringType,
				Validators: []validator.Set{
					setvalidator.SizeBetween(1, api.MaxRetentionScopeItems),
					setvalidator.ValueStringsAre(stringvalidator.RegexMatches(endpointIDRegexp, "must be an endpoint ID, as in ep_...")),
				},
			},
			"endpoint_tags": schema.MapAttribute{
				MarkdownDescription: "Scope: the policy covers the data of the endpoints that carry every one of these tags (at least one)." + scope,
				Optional:            true, ElementType: types.StringType,
				Validators: append(tagsValidators(), mapvalidator.SizeAtLeast(1)),
			},
			"data_classifications": schema.SetAttribute{
				MarkdownDescription: "Scope: the policy covers the data of the endpoints of these `data_classification`s: " + oneOfDescription(api.DataClassifications) + ", such as `[\"pii\"]`." + scope,
				Optional:            true, ElementType: types.StringType,
				Validators: []validator.Set{
					setvalidator.SizeBetween(1, len(api.DataClassifications)),
					setvalidator.ValueStringsAre(stringvalidator.OneOf(api.DataClassifications...)),
				},
			},
			"enabled": schema.BoolAttribute{
				MarkdownDescription: "Whether aiod enforces the policy. A disabled policy changes nothing and covers nothing: the built-in default applies to its data. Defaults to `true`.",
				Optional:            true, Computed: true, Default: booldefault.StaticBool(true),
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "A description of the policy, at most 1,024 characters, such as the legal basis of the age. Unset by default.",
				Optional:            true,
				Validators:          optionalString(append([]validator.String{stringvalidator.LengthAtMost(api.MaxDescription)}, textValidators()...)...),
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Free-form key/value tags for filtering and ownership, at most 50. Keys are 1 to 128 characters without `:`; values at most 256 characters. Unset by default.",
				Optional:            true, ElementType: types.StringType, Validators: tagsValidators(),
			},
			"last_run_at": schema.StringAttribute{
				MarkdownDescription: "When the policy last ran (on schedule or on request), in RFC 3339 format; null before its first run.",
				Computed:            true, CustomType: timetypes.RFC3339Type{},
			},
			"last_run_deleted": schema.Int64Attribute{
				MarkdownDescription: "How many records the last run deleted; null before the first run.", Computed: true,
			},
			"last_run_anonymized": schema.Int64Attribute{
				MarkdownDescription: "How many records the last run anonymized; null before the first run.", Computed: true,
			},
			"next_run_at": schema.StringAttribute{
				MarkdownDescription: "When the next scheduled run is due, in RFC 3339 format; null while the policy is disabled or before aiod scheduled it.",
				Computed:            true, CustomType: timetypes.RFC3339Type{},
			},
			"revision": schema.Int64Attribute{
				MarkdownDescription: "The policy's revision in aiod: 1 on creation and one more on every change, made here or elsewhere. Runs do not change it.", Computed: true,
			},
			"created_at": schema.StringAttribute{
				MarkdownDescription: "When the policy was created, in RFC 3339 format.", Computed: true, CustomType: timetypes.RFC3339Type{},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": schema.StringAttribute{
				MarkdownDescription: "When the policy was last changed, in RFC 3339 format.", Computed: true, CustomType: timetypes.RFC3339Type{},
			},
		},
	}
}

// ValidateConfig applies the API's cross-field rules at plan time, on the
// attribute that breaks them: the age's range, which fields a data kind
// can anonymize, one scope at most, no scope for audit events. A scope not
// known yet counts as set; other values not known yet wait for Terraform
// to validate again.
func (r *retentionResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m retentionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, v := range []attr.Value{m.DataKind, m.MaxAge, m.Action, m.AnonymizeFields} {
		if !fullyKnown(ctx, v) {
			return
		}
	}
	in, diags := m.toAPI(ctx)
	if diags.HasError() {
		return
	}
	if !m.EndpointIDs.IsNull() && !fullyKnown(ctx, m.EndpointIDs) {
		in.EndpointIDs = []string{api.PrefixEndpoint + "x"}
	}
	if !m.EndpointTags.IsNull() && !fullyKnown(ctx, m.EndpointTags) {
		in.EndpointTags = map[string]string{"x": "x"}
	}
	if !m.DataClassifications.IsNull() && !fullyKnown(ctx, m.DataClassifications) {
		in.DataClassifications = []string{api.ClassPII}
	}
	in.Name, in.Description, in.Tags = "x", nil, nil
	for _, fe := range in.Validate() {
		if retentionCheckedBySchema(fe) {
			continue
		}
		p, _ := fieldPath(req.Config.Schema, fe.Field)
		resp.Diagnostics.AddAttributeError(p, "Invalid retention policy configuration", p.String()+" "+fe.Message+".")
	}
}

// retentionCheckedBySchema tells whether a schema validator already
// reports the API's error fe, so that each mistake is reported once.
func retentionCheckedBySchema(fe api.FieldError) bool {
	switch {
	case fe.Field == "data_kind" || fe.Field == "action":
		return strings.HasPrefix(fe.Message, "must be one of") || strings.HasPrefix(fe.Message, "must be delete")
	case strings.HasPrefix(fe.Field, "endpoint_ids."), strings.HasPrefix(fe.Field, "data_classifications."),
		strings.HasPrefix(fe.Field, "endpoint_tags"):
		return true
	case fe.Field == "endpoint_ids" || fe.Field == "data_classifications":
		return strings.HasPrefix(fe.Message, "must hold")
	case fe.Field == "anonymize_fields":
		return false
	case strings.HasPrefix(fe.Field, "anonymize_fields."):
		// A field of no data kind is the schema's; one of another kind's
		// is this check's.
		return !strings.Contains(fe.Message, "for data_kind") || strings.HasPrefix(fe.Message, "is repeated")
	}
	return fe.Message == apiDurationMessage || fe.Message == api.EmptyMessage
}
