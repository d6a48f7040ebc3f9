package provider

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
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
)

var (
	_ resource.ResourceWithConfigure      = (*monitorResource)(nil)
	_ resource.ResourceWithImportState    = (*monitorResource)(nil)
	_ resource.ResourceWithValidateConfig = (*monitorResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*monitorResource)(nil)
	_ unchangedPlanKeeper                 = (*monitorResource)(nil)
	_ resource.ResourceWithUpgradeState   = (*monitorResource)(nil)
)

// NewMonitorResource returns the aio_monitor resource.
func NewMonitorResource() resource.Resource {
	return &monitorResource{objectResource[api.Monitor, monitorModel]{kind: monitorKind}}
}

// monitorResource manages a monitor that aiod probes on its interval. Its
// CRUD and import are the generic resource's; ValidateConfig and
// ModifyPlan apply the monitor's own rules at plan time.
type monitorResource struct {
	objectResource[api.Monitor, monitorModel]
}

// monitorResourceSchema is the resource schema; the data sources derive
// their computed copy from it.
func monitorResourceSchema() schema.Schema {
	durationStr := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Optional: true, CustomType: durationType{}, PlanModifiers: durationPlanModifiers()}
	}
	return schema.Schema{
		// Version 0 is the first shape of the state; see UpgradeState in
		// object_resource.go before changing it.
		Version:             0,
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
				// Not RequiresReplace: a monitor that an alert threshold watches
				// cannot be deleted (409), so a replacement could not be
				// applied in either order; aiod changes the type in place.
				MarkdownDescription: "The kind of probe: `http` (an HTTP(S) request) or `tcp` (a TCP connect to the endpoint's `tcp://host:port`). Changing it is an in-place update that keeps the monitor's ID, history and the alert thresholds that watch it.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.OneOf(api.MonitorHTTP, api.MonitorTCP)},
			},
			"enabled": schema.BoolAttribute{
				MarkdownDescription: "Whether aiod probes the monitor. A disabled monitor keeps its history. Defaults to `true`.",
				Optional:            true, Computed: true, Default: booldefault.StaticBool(true),
			},
			"interval": schema.StringAttribute{
				MarkdownDescription: "How often the monitor is probed, as a Go duration from `5s` to `24h`; `60s` and `1m` are the same value. Defaults to `60s`.",
				Optional:            true, Computed: true, CustomType: durationType{}, PlanModifiers: durationPlanModifiers(),
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
						Validators:          optionalString(stringvalidator.RegexMatches(probePathRegexp, "must be a path such as /health, without scheme, host, query or fragment")),
					},
					"query": schema.MapAttribute{
						MarkdownDescription: "Query parameters added to the URL. They never appear in error texts. Unset by default.",
						Optional:            true, ElementType: types.StringType,
						Validators: []validator.Map{mapvalidator.KeysAre(stringvalidator.LengthAtLeast(1))},
					},
					"headers": schema.MapAttribute{
						MarkdownDescription: "Request headers, with lower-case names. `authorization` is refused: use `credential_id`. `accept-encoding`, `range`, `if-range` and `te` are refused: they change the encoding or the part of the response body that comes back, which would hide an echoed secret from the scrubber (aiod negotiates compression itself). Unset by default.",
						Optional:            true, ElementType: types.StringType,
						Validators: []validator.Map{
							mapvalidator.KeysAre(
								stringvalidator.RegexMatches(api.HeaderNameRegexp, "must be a lower-case header name"),
								stringvalidator.NoneOf(append([]string{"authorization"}, api.BodyShapingHeaders...)...)),
							mapvalidator.ValueStringsAre(stringvalidator.RegexMatches(api.HeaderValueRegexp, api.HeaderValueMessage)),
						},
					},
					"body": schema.StringAttribute{
						MarkdownDescription: "The request body, at most 64 KiB. Unset by default.",
						Optional:            true, Validators: optionalString(stringvalidator.LengthAtMost(api.MaxRequestBody)),
					},
					"follow_redirects": schema.BoolAttribute{
						MarkdownDescription: "Whether redirects (at most 10) are followed. Credentials are never sent to another host. Defaults to `true`.",
						Optional:            true, Computed: true, Default: booldefault.StaticBool(true),
					},
					"credential_id": schema.StringAttribute{
						MarkdownDescription: "The ID of the `aio_credential` to use. When unset, the endpoint's `credential_id` applies, if any.",
						Optional:            true,
						Validators:          optionalString(stringvalidator.RegexMatches(credentialIDRegexp, "must be a credential ID, as in cred_...")),
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
								Validators:          optionalString(stringvalidator.RegexMatches(pemRegexp, "must be PEM certificates")),
							},
							"server_name": schema.StringAttribute{
								MarkdownDescription: "The server name sent in SNI and verified in the certificate, when it differs from the URL's host. Unset by default.",
								Optional:            true, Validators: optionalString(),
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
						Optional:            true, Validators: optionalString(),
					},
					"comparison": schema.StringAttribute{
						MarkdownDescription: "How the value is compared with `target`: one of " + oneOfDescription(api.Comparisons) + ". `status_code` and `response_time` take `equals`, `not_equals`, `less_than` and `greater_than`.",
						Required:            true, Validators: []validator.String{stringvalidator.OneOf(api.Comparisons...)},
					},
					"target": schema.StringAttribute{
						MarkdownDescription: "The value compared with: a whole number for `status_code`, a Go duration such as `500ms` for `response_time`, an RE2 regular expression for `matches`, text otherwise. Not set for `is_empty` and `not_empty`.",
						Optional:            true, Validators: optionalString(),
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

// ValidateConfig applies the API's own cross-field rules (timeout from
// 100ms to the interval, degraded_response_time within the timeout,
// request only for http, what each assertion needs, JSONPaths that parse)
// at plan time, on the attribute that breaks them. Rules of a single
// attribute are the schema's validators; they are not repeated here.
func (r *monitorResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m monitorModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// The cross-field rules read these values. While one of them is not
	// known yet (a module input, another resource's attribute), the rules
	// wait: Terraform validates the configuration again during apply, when
	// every value is known.
	for _, v := range []attr.Value{m.Type, m.Interval, m.Timeout, m.DegradedResponseTime, m.Request, m.Assertions, m.RetryStrategy} {
		if !fullyKnown(ctx, v) {
			return
		}
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
		if checkedBySchema(fe) {
			continue
		}
		// The detail names the attribute the way Terraform writes paths,
		// as in assertions[1].target: Terraform shows the resource's first
		// line for an attribute nested in an object.
		p, _ := fieldPath(req.Config.Schema, fe.Field)
		resp.Diagnostics.AddAttributeError(p, "Invalid monitor configuration", p.String()+" "+fe.Message+".")
	}
	if resp.Diagnostics.HasError() || in.Retry == nil {
		return
	}
	// Retries are allowed to outlast the interval, but then runs are
	// skipped and counted as missed: say so while it is cheap to change.
	if worst, interval := in.WorstCaseDuration(), in.EffectiveInterval(); worst > interval {
		resp.Diagnostics.AddAttributeWarning(path.Root("retry_strategy"), "Retries can outlast the interval",
			fmt.Sprintf("With every attempt timing out, one run takes up to %s (attempts of %s plus the waits between them), longer than the interval of %s: the runs that come due meanwhile are skipped and counted as missed. Shorten the timeout or the retries, or lengthen the interval.",
				worst, in.EffectiveTimeout(), interval))
	}
}

// monitorSchemaFields are the API fields whose every rule is also a
// validator of their attribute in the schema; an API error on one of them
// would repeat the schema's error in other words.
var monitorSchemaFields = map[string]bool{
	"name": true, "endpoint_id": true, "type": true, "assertions": true,
	"request.method": true, "request.path": true, "request.query": true, "request.body": true,
	"request.credential_id": true, "request.tls.ca_cert": true,
	"retry_strategy.type": true, "retry_strategy.max_retries": true,
}

// checkedBySchema tells whether a schema validator already reports the
// API's error fe, so that each mistake is reported once.
func checkedBySchema(fe api.FieldError) bool {
	switch {
	case monitorSchemaFields[fe.Field],
		strings.HasPrefix(fe.Field, "tags"),
		strings.HasPrefix(fe.Field, "request.headers."),
		strings.HasPrefix(fe.Field, "retry_strategy.retry_on.status_codes"):
		return true
	case strings.HasSuffix(fe.Field, ".source") || strings.HasSuffix(fe.Field, ".comparison"):
		// The schema checks the allowed values; the API's other rules on
		// these (source and comparison combined, tcp) are cross-field.
		return strings.HasPrefix(fe.Message, "must be one of")
	}
	// Every duration has durationType, which refuses what ParseDuration
	// refuses, and every optional string refuses "" (optionalString).
	return fe.Message == apiDurationMessage || fe.Message == api.EmptyMessage
}

// apiDurationMessage is aiod's message for a value that is not a positive
// duration, taken from the API package rather than copied.
var apiDurationMessage = func() string {
	_, err := api.ParseDuration("")
	return err.Error()
}()

// modifyPlanKeepsUnchangedPlans tells the refresh's fast path
// (fast_path.go) that ModifyPlan does nothing to a plan that is the prior
// state: it returns when neither the type nor the endpoint changes, and
// the generic resource's keeps an unchanged plan too.
// TestMonitorModifyPlanKeepsAnUnchangedPlan holds it to that.
func (r *monitorResource) modifyPlanKeepsUnchangedPlans() bool { return true }

// ModifyPlan warns when the monitor's type does not fit its endpoint's URL
// scheme (an http monitor on a tcp:// endpoint, a tcp monitor on an
// http(s):// one), which aiod refuses. It reads the endpoint only when both
// are known and one of them changes; a failed read leaves the check to aiod
// at apply time rather than failing the plan.
func (r *monitorResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.objectResource.ModifyPlan(ctx, req, resp)
	r.warnOfSchemeMismatch(ctx, req, resp)
}

// warnOfSchemeMismatch warns when a created monitor, or one whose type or
// endpoint changes, does not fit its endpoint's scheme.
func (r *monitorResource) warnOfSchemeMismatch(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.client == nil {
		return
	}
	var typ, endpointID, priorType, priorEndpointID types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("type"), &typ)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("endpoint_id"), &endpointID)...)
	if resp.Diagnostics.HasError() || !known(typ) || !known(endpointID) {
		return
	}
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("type"), &priorType)...)
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("endpoint_id"), &priorEndpointID)...)
		if resp.Diagnostics.HasError() || (typ.Equal(priorType) && endpointID.Equal(priorEndpointID)) {
			return
		}
	}
	ep, err := r.client.GetEndpoint(ctx, endpointID.ValueString())
	if err != nil {
		tflog.Debug(ctx, "could not read the monitor's endpoint to check its scheme", map[string]any{"endpoint_id": endpointID.ValueString(), "error": err.Error()})
		return
	}
	if msg := schemeMismatch(typ.ValueString(), ep.URL); msg != "" {
		resp.Diagnostics.AddAttributeWarning(path.Root("type"), "Monitor type does not fit the endpoint", msg)
	}
}

// schemeMismatch says why a monitor of type typ cannot probe an endpoint
// at rawURL, or returns "".
func schemeMismatch(typ, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	switch {
	case typ == api.MonitorHTTP && u.Scheme == "tcp":
		return fmt.Sprintf("An http monitor sends HTTP requests, but its endpoint's URL %s is a tcp:// address. Use type = \"tcp\", or an endpoint with an http:// or https:// URL; aiod refuses this monitor.", rawURL)
	case typ == api.MonitorTCP && (u.Scheme == "http" || u.Scheme == "https"):
		return fmt.Sprintf("A tcp monitor connects to a tcp://host:port address, but its endpoint's URL %s is an %s:// address. Use type = \"http\", or an endpoint with a tcp:// URL; aiod refuses this monitor.", rawURL, u.Scheme)
	}
	return ""
}
