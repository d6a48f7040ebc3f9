package api

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/theory/jsonpath"
)

// KindMonitor names monitors in audit events.
const KindMonitor = "monitor"

// Monitor types.
const (
	MonitorHTTP = "http"
	MonitorTCP  = "tcp"
)

// Probe outcomes.
const (
	OutcomeUp       = "up"
	OutcomeDegraded = "degraded"
	OutcomeDown     = "down"
)

// Assertion sources.
const (
	SourceStatusCode   = "status_code"
	SourceResponseTime = "response_time"
	SourceHeader       = "header"
	SourceTextBody     = "text_body"
	SourceJSONBody     = "json_body"
)

// AssertionSources lists every assertion source.
var AssertionSources = []string{SourceStatusCode, SourceResponseTime, SourceHeader, SourceTextBody, SourceJSONBody}

// Assertion comparisons.
const (
	CmpEquals      = "equals"
	CmpNotEquals   = "not_equals"
	CmpLessThan    = "less_than"
	CmpGreaterThan = "greater_than"
	CmpContains    = "contains"
	CmpNotContains = "not_contains"
	CmpMatches     = "matches"
	CmpIsEmpty     = "is_empty"
	CmpNotEmpty    = "not_empty"
)

// Comparisons lists every comparison.
var Comparisons = []string{CmpEquals, CmpNotEquals, CmpLessThan, CmpGreaterThan, CmpContains, CmpNotContains, CmpMatches, CmpIsEmpty, CmpNotEmpty}

// Retry strategy types.
const (
	RetryNone        = "none"
	RetryFixed       = "fixed"
	RetryLinear      = "linear"
	RetryExponential = "exponential"
)

// RetryTypes lists every retry strategy type.
var RetryTypes = []string{RetryNone, RetryFixed, RetryLinear, RetryExponential}

// HTTPMethods lists the methods a probe may use.
var HTTPMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// Monitor limits and defaults. Defaults the provider plans too are applied
// by Normalize; the implicit ones (timeout, assertions, credential) are
// resolved when the probe runs and never stored.
const (
	DefaultInterval   = "60s"
	MinInterval       = 5 * time.Second
	MaxInterval       = 24 * time.Hour
	DefaultMaxTimeout = 10 * time.Second
	// MinTimeout is the shortest timeout: below it even a nearby target
	// cannot answer reliably, and the monitor would report only noise.
	MinTimeout          = 100 * time.Millisecond
	DefaultMethod       = "GET"
	MaxRetries          = 10
	MaxAssertions       = 20
	MaxRequestBody      = 64 << 10
	DefaultRetryBase    = time.Second
	DefaultRetryMax     = 30 * time.Second
	DefaultStatusWindow = "1h"
	MaxStatusWindow     = 90 * 24 * time.Hour
	// DefaultFollowRedirects is follow_redirects when unset.
	DefaultFollowRedirects = true
)

// Monitor probes an endpoint and yields the health figures.
type Monitor struct {
	Meta
	Name       string            `json:"name"`
	EndpointID string            `json:"endpoint_id"`
	Type       string            `json:"type"`
	Enabled    *bool             `json:"enabled"`
	Interval   *string           `json:"interval"`
	Timeout    *string           `json:"timeout"`
	Tags       map[string]string `json:"tags"`
	Request    *MonitorRequest   `json:"request"`
	Assertions []Assertion       `json:"assertions"`
	Retry      *RetryStrategy    `json:"retry_strategy"`
	// DegradedResponseTime: a passing probe slower than this is degraded.
	DegradedResponseTime *string `json:"degraded_response_time"`
}

// MonitorRequest is the HTTP request of an http monitor.
type MonitorRequest struct {
	Method          *string           `json:"method"`
	Path            *string           `json:"path"`
	Query           map[string]string `json:"query"`
	Headers         map[string]string `json:"headers"`
	Body            *string           `json:"body"`
	FollowRedirects *bool             `json:"follow_redirects"`
	CredentialID    *string           `json:"credential_id"`
	TLS             *MonitorTLS       `json:"tls"`
}

// MonitorTLS adjusts the TLS handshake of a probe.
type MonitorTLS struct {
	InsecureSkipVerify *bool   `json:"insecure_skip_verify"`
	CACert             *string `json:"ca_cert"`
	ServerName         *string `json:"server_name"`
}

// Assertion is one check a probe's response must pass.
type Assertion struct {
	Source     string  `json:"source"`
	Property   *string `json:"property"`
	Comparison string  `json:"comparison"`
	Target     *string `json:"target"`
}

// RetryStrategy says how a failing probe is retried within one run.
type RetryStrategy struct {
	Type        string   `json:"type"`
	MaxRetries  *int64   `json:"max_retries"`
	BaseBackoff *string  `json:"base_backoff"`
	MaxBackoff  *string  `json:"max_backoff"`
	Jitter      *bool    `json:"jitter"`
	RetryOn     *RetryOn `json:"retry_on"`
}

// RetryOn names the failures that are retried.
type RetryOn struct {
	NetworkError *bool   `json:"network_error"`
	Timeout      *bool   `json:"timeout"`
	StatusCodes  []int64 `json:"status_codes"`
}

// MonitorTypeForScheme is the monitor type that can probe a URL of each
// endpoint scheme: http monitors send HTTP requests, tcp monitors only
// connect.
var MonitorTypeForScheme = map[string]string{"http": MonitorHTTP, "https": MonitorHTTP, "tcp": MonitorTCP}

// MonitorFitsEndpoint returns why a monitor of type monitorType cannot
// probe an endpoint whose URL is endpointURL, or "" when it can (or when
// the URL's scheme is unknown, which the endpoint's own validation
// reports).
func MonitorFitsEndpoint(monitorType, endpointURL string) string {
	scheme, _, _ := strings.Cut(endpointURL, "://")
	want, ok := MonitorTypeForScheme[strings.ToLower(scheme)]
	if !ok || want == monitorType {
		return ""
	}
	article := "a"
	if monitorType == MonitorHTTP {
		article = "an" // http is read letter by letter: "an http monitor"
	}
	return fmt.Sprintf("%s %s monitor cannot probe a %s:// endpoint; use type %s", article, monitorType, strings.ToLower(scheme), want)
}

// EffectiveInterval is the monitor's interval, with the default.
func (m *Monitor) EffectiveInterval() time.Duration {
	if m.Interval != nil {
		if d, err := ParseDuration(*m.Interval); err == nil {
			return d
		}
	}
	d, _ := ParseDuration(DefaultInterval)
	return d
}

// EffectiveTimeout is the monitor's timeout, or the smaller of 10s and the
// interval when none is set.
func (m *Monitor) EffectiveTimeout() time.Duration {
	if m.Timeout != nil {
		if d, err := ParseDuration(*m.Timeout); err == nil {
			return d
		}
	}
	return min(DefaultMaxTimeout, m.EffectiveInterval())
}

// IsEnabled tells whether the monitor runs (the default is yes).
func (m *Monitor) IsEnabled() bool { return m.Enabled == nil || *m.Enabled }

// Normalize applies the defaults that the provider plans as well.
func (m *Monitor) Normalize() {
	if m.Enabled == nil {
		t := true
		m.Enabled = &t
	}
	if m.Interval == nil {
		s := DefaultInterval
		m.Interval = &s
	}
	if m.Request != nil {
		if m.Request.Method == nil {
			s := DefaultMethod
			m.Request.Method = &s
		}
		if m.Request.FollowRedirects == nil {
			b := DefaultFollowRedirects
			m.Request.FollowRedirects = &b
		}
		if t := m.Request.TLS; t != nil && t.InsecureSkipVerify == nil {
			b := false
			t.InsecureSkipVerify = &b
		}
	}
}

// Validate checks a monitor as received, cross-field rules included.
func (m *Monitor) Validate() []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	errs = append(errs, ValidateName("name", m.Name)...)
	// Every optional string first gets the rules they all share (not
	// empty, no control characters); a field that fails them gets no
	// further, more specific, message.
	bad := map[string]bool{}
	texts := m.optionalTexts()
	for _, field := range slices.Sorted(maps.Keys(texts)) {
		v := texts[field]
		if fe := ValidateOptionalText(field, v.value, v.rule); fe != nil {
			errs = append(errs, fe...)
			bad[field] = true
		}
	}
	if !strings.HasPrefix(m.EndpointID, PrefixEndpoint) {
		add("endpoint_id", "must be an endpoint ID, as in ep_...")
	}
	if m.Type != MonitorHTTP && m.Type != MonitorTCP {
		add("type", "must be http or tcp")
	}
	interval := m.EffectiveInterval()
	// timesOK: interval and timeout parse, so that the effective timeout
	// is the one the probe will use and can bound degraded_response_time.
	timesOK := true
	if m.Interval != nil && !bad["interval"] {
		if d, err := ParseDuration(*m.Interval); err != nil {
			add("interval", err.Error())
			timesOK = false
		} else if d < MinInterval || d > MaxInterval {
			add("interval", "must be from 5s to 24h")
		}
	}
	if bad["interval"] || bad["timeout"] {
		timesOK = false
	}
	if m.Timeout != nil && !bad["timeout"] {
		if d, err := ParseDuration(*m.Timeout); err != nil {
			add("timeout", err.Error())
			timesOK = false
		} else if d < MinTimeout {
			add("timeout", "must be at least 100ms")
		} else if d > interval {
			add("timeout", "must be less than or equal to the interval")
		}
	}
	if m.DegradedResponseTime != nil && !bad["degraded_response_time"] {
		if d, err := ParseDuration(*m.DegradedResponseTime); err != nil {
			add("degraded_response_time", err.Error())
		} else if timeout := m.EffectiveTimeout(); timesOK && d > timeout {
			// A probe slower than its timeout fails: the threshold could
			// never trigger.
			if m.Timeout != nil {
				add("degraded_response_time", "must be less than or equal to the timeout")
			} else {
				add("degraded_response_time", "must be less than or equal to the timeout ("+timeout.String()+
					" when unset: the smaller of 10s and the interval)")
			}
		}
	}
	errs = append(errs, ValidateTags("tags", m.Tags)...)
	if m.Type == MonitorTCP && m.Request != nil {
		add("request", "is only valid for http monitors")
	}
	if r := m.Request; r != nil {
		if r.Method != nil && !bad["request.method"] && !slices.Contains(HTTPMethods, *r.Method) {
			add("request.method", "must be one of "+strings.Join(HTTPMethods, ", "))
		}
		if r.Path != nil && !bad["request.path"] {
			if u, err := url.Parse(*r.Path); err != nil || u.IsAbs() || u.Host != "" || u.RawQuery != "" || u.Fragment != "" {
				add("request.path", "must be a path without scheme, host or query; use query for parameters")
			}
		}
		for _, k := range slices.Sorted(maps.Keys(r.Headers)) {
			switch {
			case !HeaderNameRegexp.MatchString(k):
				add("request.headers."+k, "header names must be lower case")
			case k == "authorization":
				add("request.headers.authorization", "is refused: use a credential")
			case slices.Contains(BodyShapingHeaders, k):
				add("request.headers."+k, BodyShapingHeaderMessage)
			case !HeaderValueRegexp.MatchString(r.Headers[k]):
				add("request.headers."+k, HeaderValueMessage)
			}
		}
		for k := range r.Query {
			if k == "" {
				add("request.query", "parameter names must not be empty")
			}
		}
		if r.Body != nil && len(*r.Body) > MaxRequestBody {
			add("request.body", fmt.Sprintf("must be at most %d bytes", MaxRequestBody))
		}
		if r.CredentialID != nil && !bad["request.credential_id"] && !strings.HasPrefix(*r.CredentialID, PrefixCredential) {
			add("request.credential_id", "must be a credential ID, as in cred_...")
		}
		if r.TLS != nil && r.TLS.CACert != nil && !bad["request.tls.ca_cert"] && !strings.Contains(*r.TLS.CACert, "-----BEGIN CERTIFICATE-----") {
			add("request.tls.ca_cert", "must be PEM certificates")
		}
	}
	if len(m.Assertions) > MaxAssertions {
		add("assertions", fmt.Sprintf("must hold at most %d assertions", MaxAssertions))
	}
	for i, a := range m.Assertions {
		field := fmt.Sprintf("assertions.%d", i)
		errs = append(errs, a.validate(field, m.Type, bad[field+".property"], bad[field+".target"])...)
	}
	if rs := m.Retry; rs != nil {
		errs = append(errs, rs.validate(bad)...)
	}
	return errs
}

// textValue is an optional string and the rule it follows.
type textValue struct {
	value *string
	rule  TextRule
}

// optionalTexts names every optional string of a monitor, nested ones by
// their dotted field path, with the rule each follows.
func (m *Monitor) optionalTexts() map[string]textValue {
	// No new length limits here: a limit the provider does not check at
	// plan time would first show at apply.
	line := TextRule{}
	out := map[string]textValue{
		"interval":               {m.Interval, line},
		"timeout":                {m.Timeout, line},
		"degraded_response_time": {m.DegradedResponseTime, line},
	}
	if r := m.Request; r != nil {
		out["request.method"] = textValue{r.Method, line}
		out["request.path"] = textValue{r.Path, line}
		out["request.body"] = textValue{r.Body, TextRule{AnyCharacters: true}}
		out["request.credential_id"] = textValue{r.CredentialID, line}
		if t := r.TLS; t != nil {
			out["request.tls.ca_cert"] = textValue{t.CACert, TextRule{Multiline: true}}
			out["request.tls.server_name"] = textValue{t.ServerName, line}
		}
	}
	for i, a := range m.Assertions {
		out[fmt.Sprintf("assertions.%d.property", i)] = textValue{a.Property, line}
		out[fmt.Sprintf("assertions.%d.target", i)] = textValue{a.Target, TextRule{AnyCharacters: true}}
	}
	if rs := m.Retry; rs != nil {
		out["retry_strategy.base_backoff"] = textValue{rs.BaseBackoff, line}
		out["retry_strategy.max_backoff"] = textValue{rs.MaxBackoff, line}
	}
	return out
}

// validate checks one assertion; badProperty and badTarget say that the
// property or target already failed the rules of every optional string.
func (a Assertion) validate(field, monitorType string, badProperty, badTarget bool) []FieldError {
	var errs []FieldError
	add := func(f, msg string) { errs = append(errs, FieldError{Field: field + f, Message: msg}) }
	if !slices.Contains(AssertionSources, a.Source) {
		add(".source", "must be one of "+strings.Join(AssertionSources, ", "))
		return errs
	}
	if !slices.Contains(Comparisons, a.Comparison) {
		add(".comparison", "must be one of "+strings.Join(Comparisons, ", "))
		return errs
	}
	if monitorType == MonitorTCP && a.Source != SourceResponseTime {
		add(".source", "a tcp monitor can only assert response_time")
	}
	needsProperty := a.Source == SourceHeader || a.Source == SourceJSONBody
	switch {
	case badProperty:
	case needsProperty && a.Property == nil:
		add(".property", "is required for source "+a.Source)
	case !needsProperty && a.Property != nil:
		add(".property", "is only valid for sources header and json_body")
	case a.Source == SourceHeader && !HeaderNameRegexp.MatchString(*a.Property):
		add(".property", "must be a lower-case header name")
	case a.Source == SourceJSONBody:
		// Parsed with the library the probe uses, so that whatever is
		// accepted here can be evaluated.
		if _, err := jsonpath.Parse(*a.Property); err != nil {
			add(".property", "must be a valid JSONPath (RFC 9535) starting with $, as in $.status: "+
				strings.TrimPrefix(err.Error(), "jsonpath: "))
		}
	}
	unary := a.Comparison == CmpIsEmpty || a.Comparison == CmpNotEmpty
	if unary && a.Target != nil {
		add(".target", "must not be set for "+a.Comparison)
	}
	if !unary && a.Target == nil {
		add(".target", "is required for "+a.Comparison)
	}
	numeric := a.Source == SourceStatusCode || a.Source == SourceResponseTime
	if numeric && a.Target != nil && !badTarget {
		switch a.Comparison {
		case CmpEquals, CmpNotEquals, CmpLessThan, CmpGreaterThan:
			if a.Source == SourceResponseTime {
				if _, err := ParseDuration(*a.Target); err != nil {
					add(".target", "must be a duration, as in 500ms")
				}
			} else if _, err := strconv.Atoi(*a.Target); err != nil {
				add(".target", "must be a whole number")
			}
		default:
			add(".comparison", "must be equals, not_equals, less_than or greater_than for source "+a.Source)
		}
	}
	if a.Comparison == CmpMatches && a.Target != nil && !badTarget {
		if _, err := regexp.Compile(*a.Target); err != nil {
			add(".target", "must be a valid regular expression (RE2)")
		}
	}
	return errs
}

// validate checks a retry strategy; bad names the fields that already
// failed the rules of every optional string.
func (rs RetryStrategy) validate(bad map[string]bool) []FieldError {
	var errs []FieldError
	add := func(f, msg string) { errs = append(errs, FieldError{Field: "retry_strategy." + f, Message: msg}) }
	if !slices.Contains(RetryTypes, rs.Type) {
		add("type", "must be one of "+strings.Join(RetryTypes, ", "))
	}
	if rs.MaxRetries != nil && (*rs.MaxRetries < 0 || *rs.MaxRetries > MaxRetries) {
		add("max_retries", "must be from 0 to 10")
	}
	var base, maxB time.Duration
	var err error
	if rs.BaseBackoff != nil && !bad["retry_strategy.base_backoff"] {
		if base, err = ParseDuration(*rs.BaseBackoff); err != nil {
			add("base_backoff", err.Error())
		}
	}
	if rs.MaxBackoff != nil && !bad["retry_strategy.max_backoff"] {
		if maxB, err = ParseDuration(*rs.MaxBackoff); err != nil {
			add("max_backoff", err.Error())
		}
	}
	if base > 0 && maxB > 0 && maxB < base {
		add("max_backoff", "must be at least base_backoff")
	}
	if rs.RetryOn != nil {
		for i, c := range rs.RetryOn.StatusCodes {
			if c < 100 || c > 599 {
				add(fmt.Sprintf("retry_on.status_codes.%d", i), "must be an HTTP status code from 100 to 599")
			}
		}
	}
	return errs
}

// ProbeResult is one probe run's outcome.
type ProbeResult struct {
	MonitorID  string    `json:"monitor_id"`
	Time       time.Time `json:"time"`
	Outcome    string    `json:"outcome"`
	StatusCode *int      `json:"status_code"`
	// Latencies in milliseconds; the phases are null when they did not
	// happen (no DNS for an IP address, no TLS for http).
	LatencyMS        float64    `json:"latency_ms"`
	DNSMS            *float64   `json:"dns_ms"`
	ConnectMS        *float64   `json:"connect_ms"`
	TLSMS            *float64   `json:"tls_ms"`
	FirstByteMS      *float64   `json:"first_byte_ms"`
	TLSCertExpiresAt *time.Time `json:"tls_cert_expires_at"`
	BytesReceived    int64      `json:"bytes_received"`
	Attempts         int        `json:"attempts"`
	Error            *string    `json:"error"`
	// BodyExcerpt is kept only on failure and only for endpoints whose data
	// is neither pii nor confidential.
	BodyExcerpt *string `json:"body_excerpt"`
}

// MonitorStatus holds the figures of a monitor over a window. Figures are
// null when the window holds no probes.
type MonitorStatus struct {
	MonitorID           string     `json:"monitor_id"`
	Window              string     `json:"window"`
	Status              *string    `json:"status"`
	LastCheckedAt       *time.Time `json:"last_checked_at"`
	AvailabilityPercent *float64   `json:"availability_percent"`
	LatencyAvgMS        *float64   `json:"latency_avg_ms"`
	LatencyP95MS        *float64   `json:"latency_p95_ms"`
	LatencyP99MS        *float64   `json:"latency_p99_ms"`
	ProbesPerMinute     *float64   `json:"probes_per_minute"`
	BytesPerMinute      *float64   `json:"bytes_per_minute"`
	ErrorRatePercent    *float64   `json:"error_rate_percent"`
	RetryRatePercent    *float64   `json:"retry_rate_percent"`
	Probes              int64      `json:"probes"`
	Missed              int64      `json:"missed"`
	TLSCertExpiresAt    *time.Time `json:"tls_cert_expires_at"`
}
