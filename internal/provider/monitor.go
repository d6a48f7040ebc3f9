package provider

import (
	"context"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// The monitor's model and its conversions to and from the API, shared by
// the aio_monitor resource and the aio_monitor and aio_monitors data
// sources.
//
// Nested attributes are types.Object and types.List, never Go structs or
// slices: a module input or a value computed by another resource is
// unknown at plan time, at any depth, and only the framework's types can
// hold that. The structs below are read from and written to those values
// with As and ObjectValueFrom, and only once the values are known.

// monitorKind describes monitors to the generic resource and data sources.
var monitorKind = &kind[api.Monitor, monitorModel]{
	name:                  "monitor",
	plural:                "monitors",
	prefix:                api.PrefixMonitor,
	schema:                monitorResourceSchema,
	dataSourceDescription: "Reads one monitor, chosen by `id` or by `name`, as aiod has it now.",
	fromAPI:               monitorModelFromAPI,
	create:                (*client.Client).CreateMonitor,
	get:                   (*client.Client).GetMonitor,
	update:                (*client.Client).UpdateMonitor,
	delete:                (*client.Client).DeleteMonitor,
	list: func(ctx context.Context, c *client.Client, opts client.ListOptions, extra map[string]string) ([]api.Monitor, error) {
		return c.ListAllMonitors(ctx, client.MonitorListOptions{ListOptions: opts, EndpointID: extra["endpoint_id"]})
	},
}

// monitorModel is the state of aio_monitor, of the aio_monitor data source
// and of each item of aio_monitors.
type monitorModel struct {
	ID                   types.String      `tfsdk:"id"`
	Name                 types.String      `tfsdk:"name"`
	EndpointID           types.String      `tfsdk:"endpoint_id"`
	Type                 types.String      `tfsdk:"type"`
	Enabled              types.Bool        `tfsdk:"enabled"`
	Interval             durationValue     `tfsdk:"interval"`
	Timeout              durationValue     `tfsdk:"timeout"`
	Tags                 types.Map         `tfsdk:"tags"`
	Request              types.Object      `tfsdk:"request"`
	Assertions           types.List        `tfsdk:"assertions"`
	RetryStrategy        types.Object      `tfsdk:"retry_strategy"`
	DegradedResponseTime durationValue     `tfsdk:"degraded_response_time"`
	Revision             types.Int64       `tfsdk:"revision"`
	CreatedAt            timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt            timetypes.RFC3339 `tfsdk:"updated_at"`
}

// monitorRequestModel is the value of request.
type monitorRequestModel struct {
	Method          types.String `tfsdk:"method"`
	Path            types.String `tfsdk:"path"`
	Query           types.Map    `tfsdk:"query"`
	Headers         types.Map    `tfsdk:"headers"`
	Body            types.String `tfsdk:"body"`
	FollowRedirects types.Bool   `tfsdk:"follow_redirects"`
	CredentialID    types.String `tfsdk:"credential_id"`
	TLS             types.Object `tfsdk:"tls"`
}

// monitorTLSModel is the value of request.tls.
type monitorTLSModel struct {
	InsecureSkipVerify types.Bool   `tfsdk:"insecure_skip_verify"`
	CACert             types.String `tfsdk:"ca_cert"`
	ServerName         types.String `tfsdk:"server_name"`
}

// assertionModel is one element of assertions.
type assertionModel struct {
	Source     types.String `tfsdk:"source"`
	Property   types.String `tfsdk:"property"`
	Comparison types.String `tfsdk:"comparison"`
	Target     types.String `tfsdk:"target"`
}

// retryStrategyModel is the value of retry_strategy.
type retryStrategyModel struct {
	Type        types.String  `tfsdk:"type"`
	MaxRetries  types.Int64   `tfsdk:"max_retries"`
	BaseBackoff durationValue `tfsdk:"base_backoff"`
	MaxBackoff  durationValue `tfsdk:"max_backoff"`
	Jitter      types.Bool    `tfsdk:"jitter"`
	RetryOn     types.Object  `tfsdk:"retry_on"`
}

// retryOnModel is the value of retry_strategy.retry_on.
type retryOnModel struct {
	NetworkError types.Bool `tfsdk:"network_error"`
	Timeout      types.Bool `tfsdk:"timeout"`
	StatusCodes  types.Set  `tfsdk:"status_codes"`
}

// monitorTypes are the attribute types of the nested attributes, read
// from the resource schema once so that they cannot drift from it.
type monitorNestedTypes struct {
	request, tls, assertion, retry, retryOn map[string]attr.Type
}

var monitorTypes = sync.OnceValue(func() monitorNestedTypes {
	attrs := monitorResourceSchema().Attributes
	obj := func(t attr.Type) map[string]attr.Type { return t.(types.ObjectType).AttrTypes }
	request := obj(attrs["request"].GetType())
	retry := obj(attrs["retry_strategy"].GetType())
	return monitorNestedTypes{
		request:   request,
		tls:       obj(request["tls"]),
		assertion: obj(attrs["assertions"].GetType().(types.ListType).ElemType),
		retry:     retry,
		retryOn:   obj(retry["retry_on"]),
	}
})

// known tells whether v holds a value, neither null nor unknown.
func known(v attr.Value) bool { return !v.IsNull() && !v.IsUnknown() }

// fullyKnown tells whether v and everything nested in it is known.
func fullyKnown(ctx context.Context, v attr.Value) bool {
	tv, err := v.ToTerraformValue(ctx)
	return err == nil && tv.IsFullyKnown()
}

// durationFromAPI keeps the server's text (which is what was planned) and
// null for nil. prior, when the same length, is kept as written.
func durationFromAPI(ctx context.Context, v *string, prior durationValue) durationValue {
	nv := durationOf(v)
	if v != nil && known(prior) {
		if eq, _ := prior.StringSemanticEquals(ctx, nv); eq {
			return prior
		}
	}
	return nv
}

func boolPtr(v types.Bool) *bool {
	if !known(v) {
		return nil
	}
	b := v.ValueBool()
	return &b
}

func int64Ptr(v types.Int64) *int64 {
	if !known(v) {
		return nil
	}
	n := v.ValueInt64()
	return &n
}

func durationPtr(v durationValue) *string { return stringPtr(v.StringValue) }

// monitorModelFromAPI converts an API monitor to the model; prior (plan or
// state, or the zero value) keeps durations as written when they mean the
// same.
func monitorModelFromAPI(ctx context.Context, m api.Monitor, prior monitorModel) (monitorModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	nt := monitorTypes()
	out := monitorModel{
		ID:                   types.StringValue(m.ID),
		Name:                 types.StringValue(m.Name),
		EndpointID:           types.StringValue(m.EndpointID),
		Type:                 types.StringValue(m.Type),
		Enabled:              types.BoolValue(m.IsEnabled()),
		Interval:             durationFromAPI(ctx, m.Interval, prior.Interval),
		Timeout:              durationFromAPI(ctx, m.Timeout, prior.Timeout),
		Tags:                 tagsFromAPI(m.Tags),
		Request:              types.ObjectNull(nt.request),
		Assertions:           types.ListNull(types.ObjectType{AttrTypes: nt.assertion}),
		RetryStrategy:        types.ObjectNull(nt.retry),
		DegradedResponseTime: durationFromAPI(ctx, m.DegradedResponseTime, prior.DegradedResponseTime),
		Revision:             types.Int64Value(m.Revision),
		CreatedAt:            timeValue(m.CreatedAt),
		UpdatedAt:            timeValue(m.UpdatedAt),
	}
	if rq := m.Request; rq != nil {
		r := monitorRequestModel{
			Method: types.StringPointerValue(rq.Method), Path: types.StringPointerValue(rq.Path),
			Query: tagsFromAPI(rq.Query), Headers: tagsFromAPI(rq.Headers), Body: types.StringPointerValue(rq.Body),
			FollowRedirects: types.BoolPointerValue(rq.FollowRedirects), CredentialID: types.StringPointerValue(rq.CredentialID),
			TLS: types.ObjectNull(nt.tls),
		}
		if t := rq.TLS; t != nil {
			var d diag.Diagnostics
			r.TLS, d = types.ObjectValueFrom(ctx, nt.tls, monitorTLSModel{
				InsecureSkipVerify: types.BoolPointerValue(t.InsecureSkipVerify), CACert: types.StringPointerValue(t.CACert),
				ServerName: types.StringPointerValue(t.ServerName),
			})
			diags.Append(d...)
		}
		var d diag.Diagnostics
		out.Request, d = types.ObjectValueFrom(ctx, nt.request, r)
		diags.Append(d...)
	}
	if m.Assertions != nil {
		as := make([]assertionModel, len(m.Assertions))
		for i, a := range m.Assertions {
			as[i] = assertionModel{
				Source: types.StringValue(a.Source), Property: types.StringPointerValue(a.Property),
				Comparison: types.StringValue(a.Comparison), Target: types.StringPointerValue(a.Target),
			}
		}
		var d diag.Diagnostics
		out.Assertions, d = types.ListValueFrom(ctx, types.ObjectType{AttrTypes: nt.assertion}, as)
		diags.Append(d...)
	}
	if rs := m.Retry; rs != nil {
		var pr retryStrategyModel
		if fullyKnown(ctx, prior.RetryStrategy) && !prior.RetryStrategy.IsNull() {
			diags.Append(prior.RetryStrategy.As(ctx, &pr, basetypes.ObjectAsOptions{})...)
		}
		r := retryStrategyModel{
			Type: types.StringValue(rs.Type), MaxRetries: types.Int64PointerValue(rs.MaxRetries),
			BaseBackoff: durationFromAPI(ctx, rs.BaseBackoff, pr.BaseBackoff), MaxBackoff: durationFromAPI(ctx, rs.MaxBackoff, pr.MaxBackoff),
			Jitter: types.BoolPointerValue(rs.Jitter), RetryOn: types.ObjectNull(nt.retryOn),
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
			var d diag.Diagnostics
			r.RetryOn, d = types.ObjectValueFrom(ctx, nt.retryOn, retryOnModel{
				NetworkError: types.BoolPointerValue(ro.NetworkError), Timeout: types.BoolPointerValue(ro.Timeout), StatusCodes: codes,
			})
			diags.Append(d...)
		}
		var d diag.Diagnostics
		out.RetryStrategy, d = types.ObjectValueFrom(ctx, nt.retry, r)
		diags.Append(d...)
	}
	return out, diags
}

// toAPI converts the model to the API's form. Every value it reads must be
// known, as it is in a plan given to Create or Update; ValidateConfig and
// ModifyPlan check fullyKnown first.
func (m monitorModel) toAPI(ctx context.Context) (api.Monitor, diag.Diagnostics) {
	var diags diag.Diagnostics
	tags, d := tagsToAPI(ctx, m.Tags)
	diags.Append(d...)
	out := api.Monitor{
		Name: m.Name.ValueString(), EndpointID: m.EndpointID.ValueString(), Type: m.Type.ValueString(),
		Enabled: boolPtr(m.Enabled), Interval: durationPtr(m.Interval), Timeout: durationPtr(m.Timeout), Tags: tags,
		DegradedResponseTime: durationPtr(m.DegradedResponseTime),
	}
	if known(m.Request) {
		var rq monitorRequestModel
		diags.Append(m.Request.As(ctx, &rq, basetypes.ObjectAsOptions{})...)
		query, d := tagsToAPI(ctx, rq.Query)
		diags.Append(d...)
		headers, d := tagsToAPI(ctx, rq.Headers)
		diags.Append(d...)
		out.Request = &api.MonitorRequest{
			Method: stringPtr(rq.Method), Path: stringPtr(rq.Path), Query: query, Headers: headers, Body: stringPtr(rq.Body),
			FollowRedirects: boolPtr(rq.FollowRedirects), CredentialID: stringPtr(rq.CredentialID),
		}
		if known(rq.TLS) {
			var t monitorTLSModel
			diags.Append(rq.TLS.As(ctx, &t, basetypes.ObjectAsOptions{})...)
			out.Request.TLS = &api.MonitorTLS{InsecureSkipVerify: boolPtr(t.InsecureSkipVerify), CACert: stringPtr(t.CACert), ServerName: stringPtr(t.ServerName)}
		}
	}
	if known(m.Assertions) {
		var as []assertionModel
		diags.Append(m.Assertions.ElementsAs(ctx, &as, false)...)
		out.Assertions = make([]api.Assertion, len(as))
		for i, a := range as {
			out.Assertions[i] = api.Assertion{Source: a.Source.ValueString(), Property: stringPtr(a.Property), Comparison: a.Comparison.ValueString(), Target: stringPtr(a.Target)}
		}
	}
	if known(m.RetryStrategy) {
		var rs retryStrategyModel
		diags.Append(m.RetryStrategy.As(ctx, &rs, basetypes.ObjectAsOptions{})...)
		out.Retry = &api.RetryStrategy{
			Type: rs.Type.ValueString(), MaxRetries: int64Ptr(rs.MaxRetries),
			BaseBackoff: durationPtr(rs.BaseBackoff), MaxBackoff: durationPtr(rs.MaxBackoff), Jitter: boolPtr(rs.Jitter),
		}
		if known(rs.RetryOn) {
			var ro retryOnModel
			diags.Append(rs.RetryOn.As(ctx, &ro, basetypes.ObjectAsOptions{})...)
			out.Retry.RetryOn = &api.RetryOn{NetworkError: boolPtr(ro.NetworkError), Timeout: boolPtr(ro.Timeout)}
			if known(ro.StatusCodes) {
				out.Retry.RetryOn.StatusCodes = []int64{}
				diags.Append(ro.StatusCodes.ElementsAs(ctx, &out.Retry.RetryOn.StatusCodes, false)...)
			}
		}
	}
	return out, diags
}
