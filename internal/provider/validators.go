package provider

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// tagsValidators check a tag map at plan time with the server's limits.
func tagsValidators() []validator.Map {
	return []validator.Map{
		mapvalidator.SizeAtMost(api.MaxTags),
		mapvalidator.KeysAre(
			stringvalidator.LengthBetween(1, api.MaxTagKey),
			stringvalidator.RegexMatches(regexp.MustCompile(`^[^:]*$`), "must not contain ':'"),
		),
		mapvalidator.ValueStringsAre(stringvalidator.LengthAtMost(api.MaxTagValue)),
	}
}

// urlValidator checks an endpoint URL with the server's own rules.
type urlValidator struct{}

var _ validator.String = urlValidator{}

func (urlValidator) Description(context.Context) string {
	return "value must be an absolute http, https or tcp URL with a host (tcp: host and port only)"
}

func (v urlValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (urlValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	for _, fe := range api.ValidateURL("url", req.ConfigValue.ValueString()) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid URL",
			fmt.Sprintf("The URL %q %s.", req.ConfigValue.ValueString(), fe.Message))
	}
}

// tcpCredentialValidator refuses an endpoint's credential_id, set (even to
// a value not known yet, such as a credential created in the same apply)
// beside a tcp:// url: aiod refuses that pair, and the plan, not the
// apply after the credential was made, should say so.
type tcpCredentialValidator struct{}

var _ validator.String = tcpCredentialValidator{}

func (tcpCredentialValidator) Description(context.Context) string {
	return "must be unset when url is a tcp:// URL"
}

func (v tcpCredentialValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (tcpCredentialValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() {
		return
	}
	var u types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("url"), &u)...)
	if known(u) && api.IsTCPURL(u.ValueString()) {
		resp.Diagnostics.AddAttributeError(req.Path, "Credential not valid for a tcp endpoint", "The "+api.TCPCredentialMessage+".")
	}
}

// oneOfDescription renders allowed values for a description.
func oneOfDescription(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = "`" + v + "`"
	}
	return strings.Join(quoted, ", ")
}

var (
	regexpNoColon = regexp.MustCompile(`^[^:]*$`)
	regexpNoSpace = regexp.MustCompile(`^\S*$`)
	// credentialIDRegexp matches the form of a credential ID.
	credentialIDRegexp = regexp.MustCompile(`^cred_[0-9a-z]+$`)
	// monitorIDRegexp matches the form of a monitor ID.
	monitorIDRegexp = regexp.MustCompile(`^mon_[0-9a-z]+$`)
	// endpointIDRegexp matches the form of an endpoint ID.
	endpointIDRegexp = regexp.MustCompile(`^ep_[0-9a-z]+$`)
	// probePathRegexp is a URL path without scheme, host, query or fragment.
	probePathRegexp = regexp.MustCompile(`^/[^?#\s]*$`)
	// pemRegexp recognises PEM certificates.
	pemRegexp = regexp.MustCompile(`-----BEGIN CERTIFICATE-----`)
)

// microsecondTimeValidator refuses timestamps finer than a microsecond,
// the precision aiod keeps, so that what is planned is what comes back.
type microsecondTimeValidator struct{}

var _ validator.String = microsecondTimeValidator{}

func (microsecondTimeValidator) Description(context.Context) string {
	return "value must be an RFC 3339 time with at most microsecond precision"
}

func (v microsecondTimeValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (microsecondTimeValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	t, err := time.Parse(time.RFC3339Nano, req.ConfigValue.ValueString())
	if err == nil && t.Nanosecond()%1000 != 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid time", "aiod keeps times to the microsecond: give at most 6 fractional digits.")
	}
}

// httpURLValidator checks an absolute http or https URL with a host.
type httpURLValidator struct{}

var _ validator.String = httpURLValidator{}

func (httpURLValidator) Description(context.Context) string {
	return "value must be an absolute http or https URL with a host"
}

func (v httpURLValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (httpURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	u, err := url.Parse(req.ConfigValue.ValueString())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid URL",
			fmt.Sprintf("The URL %q must be an absolute http or https URL with a host.", req.ConfigValue.ValueString()))
	}
}

// hostPatternValidator checks one allowed_hosts entry with the server's own
// rule, so that a bad pattern is a plan error on its element.
type hostPatternValidator struct{}

var _ validator.String = hostPatternValidator{}

func (hostPatternValidator) Description(context.Context) string {
	return "value must be a host name, an IPv4 address or a bracketed IPv6 address, optionally with a leading `*.` (names only) and a `:port`"
}

func (v hostPatternValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (hostPatternValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	for _, fe := range api.ValidateHostPattern("", req.ConfigValue.ValueString()) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid host pattern",
			fmt.Sprintf("The allowed_hosts entry %q is invalid: it %s.", req.ConfigValue.ValueString(), fe.Message))
	}
}

// emptyStringMessage is how an empty optional string is refused, here at
// plan time and by aiod at apply time alike: for aiod, as for Terraform,
// an unset attribute is null, and "" would be a second way to say the same.
const emptyStringMessage = api.EmptyMessage

// optionalString returns the validators of an optional string attribute:
// an empty string is refused with emptyStringMessage, and inner validators
// see only non-empty strings, so that "" is one mistake reported once
// rather than also failing, say, a pattern.
func optionalString(inner ...validator.String) []validator.String {
	return []validator.String{notEmptyValidator{inner: inner}}
}

// notEmptyValidator refuses "" and hands every other value to inner.
type notEmptyValidator struct {
	inner []validator.String
}

var _ validator.String = notEmptyValidator{}

func (v notEmptyValidator) Description(ctx context.Context) string {
	parts := []string{"value must not be empty"}
	for _, in := range v.inner {
		parts = append(parts, in.Description(ctx))
	}
	return strings.Join(parts, "; ")
}

func (v notEmptyValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v notEmptyValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if req.ConfigValue.ValueString() == "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Empty value", fmt.Sprintf("%s %s.", req.Path, emptyStringMessage))
		return
	}
	for _, in := range v.inner {
		in.ValidateString(ctx, req, resp)
	}
}

// apiRuleValidator applies one of the API's own rules (a function that
// returns what is wrong with a value, or "") at plan time, so that the
// provider and aiod cannot disagree.
type apiRuleValidator struct {
	// what names the value in the summary, as in "URL".
	what string
	rule func(string) string
}

var _ validator.String = apiRuleValidator{}

func (v apiRuleValidator) Description(context.Context) string {
	return "value must be a valid " + v.what + " by aiod's rules"
}

func (v apiRuleValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v apiRuleValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := v.rule(req.ConfigValue.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+v.what,
			fmt.Sprintf("The %s %q %s.", v.what, req.ConfigValue.ValueString(), msg))
	}
}

// channelHeadersValidator checks a webhook channel's headers with aiod's
// rules, each on its own map key.
type channelHeadersValidator struct{}

var _ validator.Map = channelHeadersValidator{}

func (channelHeadersValidator) Description(context.Context) string {
	return "at most 20 headers with lower-case names; not authorization nor a header aiod sets; values without control characters"
}

func (v channelHeadersValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (channelHeadersValidator) ValidateMap(_ context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	elems := req.ConfigValue.Elements()
	if len(elems) > api.MaxChannelHeaders {
		resp.Diagnostics.AddAttributeError(req.Path, "Too many headers", fmt.Sprintf("A channel sends at most %d headers.", api.MaxChannelHeaders))
	}
	for k, e := range elems {
		s, ok := e.(types.String)
		if !ok || s.IsUnknown() || s.IsNull() {
			continue
		}
		if msg := api.ChannelHeaderProblem(k, s.ValueString()); msg != "" {
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(k), "Invalid header", fmt.Sprintf("The header %q %s.", k, msg))
		}
	}
}
