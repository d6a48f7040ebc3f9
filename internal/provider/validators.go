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
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

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
