package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/probe"
)

var (
	_ resource.ResourceWithConfigure      = (*monitorResource)(nil)
	_ resource.ResourceWithImportState    = (*monitorResource)(nil)
	_ resource.ResourceWithValidateConfig = (*monitorResource)(nil)
)

// NewMonitorResource returns the aio_monitor resource.
func NewMonitorResource() resource.Resource { return &monitorResource{} }

// monitorResource manages a monitor that aiod probes on its interval.
type monitorResource struct {
	client *client.Client
}

// monitorResourceModel is the state of aio_monitor.
type monitorResourceModel struct {
	ID                   types.String         `tfsdk:"id"`
	Name                 types.String         `tfsdk:"name"`
	EndpointID           types.String         `tfsdk:"endpoint_id"`
	Type                 types.String         `tfsdk:"type"`
	Enabled              types.Bool           `tfsdk:"enabled"`
	Interval             timetypes.GoDuration `tfsdk:"interval"`
	Timeout              timetypes.GoDuration `tfsdk:"timeout"`
	Tags                 types.Map            `tfsdk:"tags"`
	Request              *monitorRequestModel `tfsdk:"request"`
	Assertions           []assertionModel     `tfsdk:"assertions"`
	RetryStrategy        *retryStrategyModel  `tfsdk:"retry_strategy"`
	DegradedResponseTime timetypes.GoDuration `tfsdk:"degraded_response_time"`
	Revision             types.Int64          `tfsdk:"revision"`
	CreatedAt            timetypes.RFC3339    `tfsdk:"created_at"`
	UpdatedAt            timetypes.RFC3339    `tfsdk:"updated_at"`
}

type monitorRequestModel struct {
	Method          types.String     `tfsdk:"method"`
	Path            types.String     `tfsdk:"path"`
	Query           types.Map        `tfsdk:"query"`
	Headers         types.Map        `tfsdk:"headers"`
	Body            types.String     `tfsdk:"body"`
	FollowRedirects types.Bool       `tfsdk:"follow_redirects"`
	CredentialID    types.String     `tfsdk:"credential_id"`
	TLS             *monitorTLSModel `tfsdk:"tls"`
}

type monitorTLSModel struct {
	InsecureSkipVerify types.Bool   `tfsdk:"insecure_skip_verify"`
	CACert             types.String `tfsdk:"ca_cert"`
	ServerName         types.String `tfsdk:"server_name"`
}

type assertionModel struct {
	Source     types.String `tfsdk:"source"`
	Property   types.String `tfsdk:"property"`
	Comparison types.String `tfsdk:"comparison"`
	Target     types.String `tfsdk:"target"`
}

type retryStrategyModel struct {
	Type        types.String         `tfsdk:"type"`
	MaxRetries  types.Int64          `tfsdk:"max_retries"`
	BaseBackoff timetypes.GoDuration `tfsdk:"base_backoff"`
	MaxBackoff  timetypes.GoDuration `tfsdk:"max_backoff"`
	Jitter      types.Bool           `tfsdk:"jitter"`
	RetryOn     *retryOnModel        `tfsdk:"retry_on"`
}

type retryOnModel struct {
	NetworkError types.Bool `tfsdk:"network_error"`
	Timeout      types.Bool `tfsdk:"timeout"`
	StatusCodes  types.Set  `tfsdk:"status_codes"`
}

func (r *monitorResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_monitor"
}

// monitorResourceSchema is the resource schema; the data sources derive
// their computed copy from it.
func monitorResourceSchema() schema.Schema {
	durationStr := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Optional: true, CustomType: timetypes.GoDurationType{}}
	}
	return schema.Schema{
		MarkdownDescription: "A monitor: aiod probes its endpoint once per `interval` (HTTP(S) or TCP), checks the answer against the `assertions`, retries as the `retry_strategy` says, and keeps the results that the `aio_monitor_status` data source summarises as availability, response time, throughput, error rate and retry rate.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The monitor's ID, assigned by aiod, such as `mon_01h...`.", Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "The monitor's name, unique among monitors: 1 to 128 letters, digits, `.`, `_` or `-`, starting with a letter or digit.",
				Required:            true, Validators: nameValidators(),
			},
			"endpoint_id": schema.StringAttribute{
				MarkdownDescription: "The ID of the `aio_endpoint` to probe. Changing it is an in-place update that keeps the monitor's history.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(endpointIDRegexp, "must be an endpoint ID, as in ep_...")},
			},
			"type": schema.StringAttribute{
				MarkdownDescription: "The kind of probe: `http` (an HTTP(S) request) or `tcp` (a TCP connect to the endpoint's `tcp://host:port`). Changing it replaces the monitor.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.OneOf(api.MonitorHTTP, api.MonitorTCP)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"enabled": schema.BoolAttribute{
				MarkdownDescription: "Whether aiod probes the monitor. A disabled monitor keeps its history. Defaults to `true`.",
				Optional:            true, Computed: true, Default: booldefault.StaticBool(true),
			},
			"interval": schema.StringAttribute{
				MarkdownDescription: "How often the monitor is probed, as a Go duration from `5s` to `24h`; `60s` and `1m` are the same value. Defaults to `60s`.",
				Optional:            true, Computed: true, CustomType: timetypes.GoDurationType{},
				Default: stringdefault.StaticString(api.DefaultInterval),
			},
			"timeout": durationStr("The time limit of one probe attempt, as a Go duration from `100ms` to the `interval`. When unset, the smaller of `10s` and the `interval` applies."),
			"tags": schema.MapAttribute{
				MarkdownDescription: "Free-form key/value tags, at most 50; keys without `:`. Unset by default.",
				Optional:            true, ElementType: types.StringType, Validators: tagsValidators(),
			},
			"request": schema.SingleNestedAttribute{
				MarkdownDescription: "The HTTP request of an `http` monitor. When unset, a `GET` of the endpoint's URL.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"method": schema.StringAttribute{
						MarkdownDescription: "The HTTP method: one of " + oneOfDescription(api.HTTPMethods) + ". Defaults to `GET`.",
						Optional:            true, Computed: true, Default: stringdefault.StaticString(api.DefaultMethod),
						Validators: []validator.String{stringvalidator.OneOf(api.HTTPMethods...)},
					},
					"path": schema.StringAttribute{
						MarkdownDescription: "A path joined to the endpoint's URL, such as `/health`; no scheme, host or query. Unset by default (the endpoint's URL as is).",
						Optional:            true,
						Validators:          []validator.String{stringvalidator.RegexMatches(probePathRegexp, "must be a path such as /health, without scheme, host, query or fragment")},
					},
					"query": schema.MapAttribute{
						MarkdownDescription: "Query parameters added to the URL. They never appear in error texts. Unset by default.",
						Optional:            true, ElementType: types.StringType,
						Validators: []validator.Map{mapvalidator.KeysAre(stringvalidator.LengthAtLeast(1))},
					},
					"headers": schema.MapAttribute{
						MarkdownDescription: "Request headers, with lower-case names. `authorization` is refused: use `credential_id`. Unset by default.",
						Optional:            true, ElementType: types.StringType,
						Validators: []validator.Map{mapvalidator.KeysAre(
							stringvalidator.RegexMatches(api.HeaderNameRegexp, "must be a lower-case header name"),
							stringvalidator.NoneOf("authorization"))},
					},
					"body": schema.StringAttribute{
						MarkdownDescription: "The request body, at most 64 KiB. Unset by default.",
						Optional:            true, Validators: []validator.String{stringvalidator.LengthAtMost(api.MaxRequestBody)},
					},
					"follow_redirects": schema.BoolAttribute{
						MarkdownDescription: "Whether redirects (at most 10) are followed. Credentials are never sent to another host. Defaults to `true`.",
						Optional:            true, Computed: true, Default: booldefault.StaticBool(true),
					},
					"credential_id": schema.StringAttribute{
						MarkdownDescription: "The ID of the `aio_credential` to use. When unset, the endpoint's `credential_id` applies, if any.",
						Optional:            true,
						Validators:          []validator.String{stringvalidator.RegexMatches(credentialIDRegexp, "must be a credential ID, as in cred_...")},
					},
					"tls": schema.SingleNestedAttribute{
						MarkdownDescription: "TLS settings of the probe. Unset by default (system trust, the URL's host name).",
						Optional:            true,
						Attributes: map[string]schema.Attribute{
							"insecure_skip_verify": schema.BoolAttribute{
								MarkdownDescription: "Skips the verification of the server's certificate; the certificate's expiry is still recorded. Defaults to `false`.",
								Optional:            true, Computed: true, Default: booldefault.StaticBool(false),
							},
							"ca_cert": schema.StringAttribute{
								MarkdownDescription: "PEM certificates of the authorities to trust. They replace the system's trusted authorities for this monitor (as curl's `--cacert` does), so the endpoint's certificate must chain to one of them. Unset by default (the system's authorities).",
								Optional:            true,
								Validators:          []validator.String{stringvalidator.RegexMatches(pemRegexp, "must be PEM certificates")},
							},
							"server_name": schema.StringAttribute{
								MarkdownDescription: "The server name sent in SNI and verified in the certificate, when it differs from the URL's host. Unset by default.",
								Optional:            true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
							},
						},
					},
				},
			},
			"assertions": schema.ListNestedAttribute{
				MarkdownDescription: "Checks the answer must pass, all of them. When unset, the status code must be 2xx. At most 20.",
				Optional:            true,
				Validators:          []validator.List{listvalidator.SizeBetween(1, api.MaxAssertions)},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"source": schema.StringAttribute{
						MarkdownDescription: "What is checked: one of " + oneOfDescription(api.AssertionSources) + ". A `tcp` monitor can check only `response_time`.",
						Required:            true, Validators: []validator.String{stringvalidator.OneOf(api.AssertionSources...)},
					},
					"property": schema.StringAttribute{
						MarkdownDescription: "For `header`, the lower-case header name; for `json_body`, a JSONPath (RFC 9535) such as `$.status`. Not set for other sources.",
						Optional:            true,
					},
					"comparison": schema.StringAttribute{
						MarkdownDescription: "How the value is compared with `target`: one of " + oneOfDescription(api.Comparisons) + ". `status_code` and `response_time` take `equals`, `not_equals`, `less_than` and `greater_than`.",
						Required:            true, Validators: []validator.String{stringvalidator.OneOf(api.Comparisons...)},
					},
					"target": schema.StringAttribute{
						MarkdownDescription: "The value compared with: a whole number for `status_code`, a Go duration such as `500ms` for `response_time`, an RE2 regular expression for `matches`, text otherwise. Not set for `is_empty` and `not_empty`.",
						Optional:            true,
					},
				}},
			},
			"retry_strategy": schema.SingleNestedAttribute{
				MarkdownDescription: "How a failing probe is retried within one run. A probe that passes only after a retry counts as passed, as a retry, and as degraded. When unset, no retries.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"type": schema.StringAttribute{
						MarkdownDescription: "The backoff between attempts: `none` (no retries), `fixed` (`base_backoff` each time), `linear` (`base_backoff` times the retry number) or `exponential` (`base_backoff` doubled each retry), capped at `max_backoff`.",
						Required:            true, Validators: []validator.String{stringvalidator.OneOf(api.RetryTypes...)},
					},
					"max_retries": schema.Int64Attribute{
						MarkdownDescription: "Retries after the first attempt, from 0 to 10. When unset, 2 for a type other than `none`.",
						Optional:            true, Validators: []validator.Int64{int64validator.Between(0, api.MaxRetries)},
					},
					"base_backoff": durationStr("The first wait between attempts, as a Go duration. When unset, `1s`."),
					"max_backoff":  durationStr("The longest wait between attempts, as a Go duration; at least `base_backoff`. When unset, `30s`."),
					"jitter": schema.BoolAttribute{
						MarkdownDescription: "Whether each wait is randomised between zero and its computed length (full jitter). When unset, `false`.",
						Optional:            true,
					},
					"retry_on": schema.SingleNestedAttribute{
						MarkdownDescription: "Which failures are retried. When unset, every failed attempt.",
						Optional:            true,
						Attributes: map[string]schema.Attribute{
							"network_error": schema.BoolAttribute{MarkdownDescription: "Retries connection errors. When unset, `true`.", Optional: true},
							"timeout":       schema.BoolAttribute{MarkdownDescription: "Retries attempts that ran out of time. When unset, `true`.", Optional: true},
							"status_codes": schema.SetAttribute{
								MarkdownDescription: "Retries answers with these HTTP status codes, such as `[502, 503, 504]`. Unset by default (no status is retried).",
								Optional:            true, ElementType: types.Int64Type,
								Validators: []validator.Set{setvalidator.ValueInt64sAre(int64validator.Between(100, 599))},
							},
						},
					},
				},
			},
			"degraded_response_time": durationStr("A probe that passes but takes longer than this, as a Go duration, counts as degraded; at most the `timeout` (when `timeout` is unset, the smaller of `10s` and the `interval`), since a slower probe fails. Unset by default (never degraded for slowness)."),
			"revision":               schema.Int64Attribute{MarkdownDescription: "The monitor's revision in aiod: 1 on creation and one more on every change, made here or elsewhere.", Computed: true},
			"created_at": schema.StringAttribute{
				MarkdownDescription: "When the monitor was created, in RFC 3339 format.", Computed: true, CustomType: timetypes.RFC3339Type{},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": schema.StringAttribute{MarkdownDescription: "When the monitor was last changed, in RFC 3339 format.", Computed: true, CustomType: timetypes.RFC3339Type{}},
		},
	}
}

func (r *monitorResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = monitorResourceSchema()
}

// ValidateConfig applies the API's own cross-field rules (timeout from
// 100ms to the interval, degraded_response_time within the timeout,
// request only for http, what each assertion needs, JSONPaths that parse)
// at plan time, on the attribute that breaks them.
func (r *monitorResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m monitorResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !m.fullyKnown() {
		return
	}
	in, diags := m.toAPI(ctx)
	if diags.HasError() {
		return
	}
	// Values the schema defaults but the configuration may leave out.
	if in.EndpointID == "" {
		in.EndpointID = api.PrefixEndpoint
	}
	for _, fe := range in.Validate() {
		// Rules the schema already checks per attribute would repeat.
		if fe.Field == "name" || fe.Field == "endpoint_id" || strings.HasPrefix(fe.Field, "tags") {
			continue
		}
		p, _ := fieldPath(fe.Field)
		resp.Diagnostics.AddAttributeError(p, "Invalid monitor configuration", fe.Field+" "+fe.Message+".")
	}
	if resp.Diagnostics.HasError() || in.Retry == nil {
		return
	}
	// Retries are allowed to outlast the interval, but then runs are
	// skipped and counted as missed: say so while it is cheap to change.
	if worst, interval := probe.WorstCaseDuration(in), in.EffectiveInterval(); worst > interval {
		resp.Diagnostics.AddAttributeWarning(path.Root("retry_strategy"), "Retries can outlast the interval",
			fmt.Sprintf("With every attempt timing out, one run takes up to %s (attempts of %s plus the waits between them), longer than the interval of %s: the runs that come due meanwhile are skipped and counted as missed. Shorten the timeout or the retries, or lengthen the interval.",
				worst, in.EffectiveTimeout(), interval))
	}
}

// fullyKnown tells whether every value the cross-field rules read is known.
func (m monitorResourceModel) fullyKnown() bool {
	vals := []attr.Value{m.Type, m.Interval, m.Timeout, m.DegradedResponseTime}
	if m.Request != nil {
		vals = append(vals, m.Request.Method, m.Request.Path, m.Request.Headers, m.Request.Query, m.Request.Body, m.Request.CredentialID)
		if m.Request.TLS != nil {
			vals = append(vals, m.Request.TLS.CACert)
		}
	}
	for _, a := range m.Assertions {
		vals = append(vals, a.Source, a.Property, a.Comparison, a.Target)
	}
	if rs := m.RetryStrategy; rs != nil {
		vals = append(vals, rs.Type, rs.MaxRetries, rs.BaseBackoff, rs.MaxBackoff)
		if rs.RetryOn != nil {
			vals = append(vals, rs.RetryOn.StatusCodes)
		}
	}
	for _, v := range vals {
		if v.IsUnknown() {
			return false
		}
	}
	return true
}

func (r *monitorResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

func (r *monitorResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan monitorResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	in, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.client.CreateMonitor(ctx, in)
	if err != nil {
		addClientError(&resp.Diagnostics, "Could not create the monitor", err)
		return
	}
	ctx = tflog.SetField(ctx, "monitor_id", out.ID)
	tflog.Debug(ctx, "created monitor", map[string]any{"revision": out.Revision})
	resp.Diagnostics.Append(resp.State.Set(ctx, monitorModelFromAPI(out, plan))...)
}

func (r *monitorResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state monitorResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = tflog.SetField(ctx, "monitor_id", state.ID.ValueString())
	out, err := r.client.GetMonitor(ctx, state.ID.ValueString())
	if errors.Is(err, client.ErrNotFound) {
		tflog.Debug(ctx, "monitor is gone; removing it from state")
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addClientError(&resp.Diagnostics, "Could not read the monitor", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, monitorModelFromAPI(out, state))...)
}

func (r *monitorResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state monitorResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	in, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = tflog.SetField(ctx, "monitor_id", state.ID.ValueString())
	out, err := r.client.UpdateMonitor(ctx, state.ID.ValueString(), state.Revision.ValueInt64(), in)
	if err != nil {
		addClientError(&resp.Diagnostics, "Could not update the monitor", err)
		return
	}
	tflog.Debug(ctx, "updated monitor", map[string]any{"revision": out.Revision})
	resp.Diagnostics.Append(resp.State.Set(ctx, monitorModelFromAPI(out, plan))...)
}

func (r *monitorResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state monitorResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = tflog.SetField(ctx, "monitor_id", state.ID.ValueString())
	err := r.client.DeleteMonitor(ctx, state.ID.ValueString(), state.Revision.ValueInt64())
	if err != nil && !errors.Is(err, client.ErrNotFound) {
		addClientError(&resp.Diagnostics, "Could not delete the monitor", err)
		return
	}
	tflog.Debug(ctx, "deleted monitor")
}

func (r *monitorResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByID(ctx, "aio_monitor", api.PrefixMonitor, req, resp)
}

// durationFromAPI keeps the server's text (which is what was planned) and
// null for nil. prior, when semantically equal, is kept as written.
func durationFromAPI(ctx context.Context, v *string, prior timetypes.GoDuration) timetypes.GoDuration {
	if v == nil {
		return timetypes.NewGoDurationNull()
	}
	nv := timetypes.NewGoDurationValueFromStringMust(*v)
	if !prior.IsNull() && sameDuration(ctx, prior, nv) {
		return prior
	}
	return nv
}

func boolFromAPI(v *bool) types.Bool { return types.BoolPointerValue(v) }

func boolPtr(v types.Bool) *bool {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	b := v.ValueBool()
	return &b
}

func durationPtr(v timetypes.GoDuration) *string { return stringPtr(v.StringValue) }

// monitorModelFromAPI converts an API monitor to the model; prior (plan or
// state) keeps durations as written when they mean the same.
func monitorModelFromAPI(m api.Monitor, prior monitorResourceModel) monitorResourceModel {
	ctx := context.Background()
	out := monitorResourceModel{
		ID:                   types.StringValue(m.ID),
		Name:                 types.StringValue(m.Name),
		EndpointID:           types.StringValue(m.EndpointID),
		Type:                 types.StringValue(m.Type),
		Enabled:              types.BoolValue(m.IsEnabled()),
		Interval:             durationFromAPI(ctx, m.Interval, prior.Interval),
		Timeout:              durationFromAPI(ctx, m.Timeout, prior.Timeout),
		Tags:                 tagsFromAPI(m.Tags),
		DegradedResponseTime: durationFromAPI(ctx, m.DegradedResponseTime, prior.DegradedResponseTime),
		Revision:             types.Int64Value(m.Revision),
		CreatedAt:            timeValue(m.CreatedAt),
		UpdatedAt:            timeValue(m.UpdatedAt),
	}
	if rq := m.Request; rq != nil {
		out.Request = &monitorRequestModel{
			Method: types.StringPointerValue(rq.Method), Path: types.StringPointerValue(rq.Path),
			Query: tagsFromAPI(rq.Query), Headers: tagsFromAPI(rq.Headers), Body: types.StringPointerValue(rq.Body),
			FollowRedirects: boolFromAPI(rq.FollowRedirects), CredentialID: types.StringPointerValue(rq.CredentialID),
		}
		if t := rq.TLS; t != nil {
			out.Request.TLS = &monitorTLSModel{
				InsecureSkipVerify: boolFromAPI(t.InsecureSkipVerify), CACert: types.StringPointerValue(t.CACert),
				ServerName: types.StringPointerValue(t.ServerName),
			}
		}
	}
	if m.Assertions != nil {
		out.Assertions = make([]assertionModel, len(m.Assertions))
		for i, a := range m.Assertions {
			out.Assertions[i] = assertionModel{
				Source: types.StringValue(a.Source), Property: types.StringPointerValue(a.Property),
				Comparison: types.StringValue(a.Comparison), Target: types.StringPointerValue(a.Target),
			}
		}
	}
	if rs := m.Retry; rs != nil {
		var pr retryStrategyModel
		if prior.RetryStrategy != nil {
			pr = *prior.RetryStrategy
		}
		out.RetryStrategy = &retryStrategyModel{
			Type: types.StringValue(rs.Type), MaxRetries: types.Int64PointerValue(rs.MaxRetries),
			BaseBackoff: durationFromAPI(ctx, rs.BaseBackoff, pr.BaseBackoff), MaxBackoff: durationFromAPI(ctx, rs.MaxBackoff, pr.MaxBackoff),
			Jitter: boolFromAPI(rs.Jitter),
		}
		if ro := rs.RetryOn; ro != nil {
			codes := types.SetNull(types.Int64Type)
			if ro.StatusCodes != nil {
				elems := make([]attr.Value, len(ro.StatusCodes))
				for i, c := range ro.StatusCodes {
					elems[i] = types.Int64Value(c)
				}
				codes = types.SetValueMust(types.Int64Type, elems)
			}
			out.RetryStrategy.RetryOn = &retryOnModel{NetworkError: boolFromAPI(ro.NetworkError), Timeout: boolFromAPI(ro.Timeout), StatusCodes: codes}
		}
	}
	return out
}

// toAPI converts the planned model to the API's form.
func (m monitorResourceModel) toAPI(ctx context.Context) (api.Monitor, diag.Diagnostics) {
	var diags diag.Diagnostics
	tags, d := tagsToAPI(ctx, m.Tags)
	diags.Append(d...)
	out := api.Monitor{
		Name: m.Name.ValueString(), EndpointID: m.EndpointID.ValueString(), Type: m.Type.ValueString(),
		Enabled: boolPtr(m.Enabled), Interval: durationPtr(m.Interval), Timeout: durationPtr(m.Timeout), Tags: tags,
		DegradedResponseTime: durationPtr(m.DegradedResponseTime),
	}
	if rq := m.Request; rq != nil {
		query, d := tagsToAPI(ctx, rq.Query)
		diags.Append(d...)
		headers, d := tagsToAPI(ctx, rq.Headers)
		diags.Append(d...)
		out.Request = &api.MonitorRequest{
			Method: stringPtr(rq.Method), Path: stringPtr(rq.Path), Query: query, Headers: headers, Body: stringPtr(rq.Body),
			FollowRedirects: boolPtr(rq.FollowRedirects), CredentialID: stringPtr(rq.CredentialID),
		}
		if t := rq.TLS; t != nil {
			out.Request.TLS = &api.MonitorTLS{InsecureSkipVerify: boolPtr(t.InsecureSkipVerify), CACert: stringPtr(t.CACert), ServerName: stringPtr(t.ServerName)}
		}
	}
	if m.Assertions != nil {
		out.Assertions = make([]api.Assertion, len(m.Assertions))
		for i, a := range m.Assertions {
			out.Assertions[i] = api.Assertion{Source: a.Source.ValueString(), Property: stringPtr(a.Property), Comparison: a.Comparison.ValueString(), Target: stringPtr(a.Target)}
		}
	}
	if rs := m.RetryStrategy; rs != nil {
		out.Retry = &api.RetryStrategy{
			Type: rs.Type.ValueString(), BaseBackoff: durationPtr(rs.BaseBackoff), MaxBackoff: durationPtr(rs.MaxBackoff), Jitter: boolPtr(rs.Jitter),
		}
		if !rs.MaxRetries.IsNull() && !rs.MaxRetries.IsUnknown() {
			n := rs.MaxRetries.ValueInt64()
			out.Retry.MaxRetries = &n
		}
		if ro := rs.RetryOn; ro != nil {
			out.Retry.RetryOn = &api.RetryOn{NetworkError: boolPtr(ro.NetworkError), Timeout: boolPtr(ro.Timeout)}
			if !ro.StatusCodes.IsNull() && !ro.StatusCodes.IsUnknown() {
				out.Retry.RetryOn.StatusCodes = []int64{}
				diags.Append(ro.StatusCodes.ElementsAs(ctx, &out.Retry.RetryOn.StatusCodes, false)...)
			}
		}
	}
	return out, diags
}
