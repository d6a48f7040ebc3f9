package api

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// KindCredential names credentials in audit events.
const KindCredential = "credential"

// Credential types.
const (
	CredAPIKey       = "api_key"
	CredBearer       = "bearer"
	CredBasic        = "basic"
	CredOAuth2Client = "oauth2_client_credentials" //nolint:gosec // G101: a type name, not a credential.
)

// CredentialTypes lists every credential type.
var CredentialTypes = []string{CredAPIKey, CredBearer, CredBasic, CredOAuth2Client}

// DefaultAPIKeyHeader is the header an api_key credential uses when it names
// neither a header nor a query parameter. It is applied when a probe runs,
// never stored, so that what the provider planned is what comes back.
const DefaultAPIKeyHeader = "x-api-key"

// MaxSecret bounds a secret's length.
const MaxSecret = 8192

// HeaderNamePattern is a lower-case HTTP header name (an RFC 9110 token in
// lower case). Header names are compared in lower case everywhere, so the
// API and the provider accept only that form and nothing needs rewriting.
const HeaderNamePattern = "^[a-z0-9!#$%&'*+.^_`|~-]+$"

// HeaderNameRegexp is HeaderNamePattern compiled.
var HeaderNameRegexp = regexp.MustCompile(HeaderNamePattern)

// HeaderValuePattern is an HTTP header value without control characters
// (RFC 9110 §5.5): tab is the only one allowed. CR and LF would split the
// header (Go's client refuses them only when the probe runs, as a confusing
// network error), and NUL or ESC have no place in a header either.
const HeaderValuePattern = "^[^\x00-\x08\x0a-\x1f\x7f]*$"

// HeaderValueRegexp is HeaderValuePattern compiled.
var HeaderValueRegexp = regexp.MustCompile(HeaderValuePattern)

// HeaderValueMessage is the error of a value HeaderValueRegexp refuses.
const HeaderValueMessage = "must not contain control characters such as CR, LF or NUL (tab is allowed)"

// BodyShapingHeaders are the request headers a monitor may not set because
// they change how the response body is encoded or which part of it comes
// back. With accept-encoding set by hand, Go's client no longer
// decompresses the answer: the stored excerpt would be raw gzip, inside
// which the scrubber cannot see a secret the target echoes, and
// bytes_received would vary with how well the echo compresses (a length
// oracle). range and if-range fetch a slice chosen by the monitor, which
// can cut an echoed secret where no scrubber recognises it; te asks for
// transfer codings the same way accept-encoding asks for content codings.
// aiod asks for gzip itself and decompresses it before anything looks at
// the body.
var BodyShapingHeaders = []string{"accept-encoding", "if-range", "range", "te"}

// BodyShapingHeaderMessage is the error of a header BodyShapingHeaders
// lists.
const BodyShapingHeaderMessage = "is refused: it changes the encoding or the part of the response body that comes back, which would hide an echoed secret from the scrubber; aiod negotiates compression itself"

// Credential is the secret used to reach an endpoint. The secret itself is
// write-only: accepted on create and update (left out of a PUT, it is
// unchanged) and never returned.
type Credential struct {
	Meta
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Type        string  `json:"type"`
	// Header (api_key) names the header that carries the key.
	Header *string `json:"header"`
	// QueryParam (api_key) names the query parameter that carries the key.
	QueryParam *string `json:"query_param"`
	// Username (basic) goes with the secret as the password.
	Username *string `json:"username"`
	// TokenURL, ClientID and Scopes (oauth2_client_credentials) fetch an
	// access token; the secret is the client secret.
	TokenURL *string  `json:"token_url"`
	ClientID *string  `json:"client_id"`
	Scopes   []string `json:"scopes"`
	// AllowedHosts are the host patterns (see HostPatternRule) the secret
	// may be sent to: the endpoint hosts, every redirect hop, and the
	// OAuth2 token URL. aiod checks them when a probe runs and when an
	// endpoint or monitor is attached to the credential. An empty list
	// (a credential migrated from before allowed_hosts that nothing used)
	// sends the secret nowhere.
	AllowedHosts []string `json:"allowed_hosts"`
	// Secret is write-only: never set in a response.
	Secret *string `json:"secret,omitempty"`
	// ExpiresAt is when the secret stops working, if known.
	ExpiresAt *time.Time `json:"expires_at"`
	// RotationPeriod is how often the secret should be rotated, as a Go
	// duration ("720h"); stored as given and compared by its value.
	RotationPeriod *string `json:"rotation_period"`
	// RotationDueAt is LastRotatedAt + RotationPeriod (computed).
	RotationDueAt *time.Time `json:"rotation_due_at"`
	// SecretRevision counts secret changes (computed).
	SecretRevision int64 `json:"secret_revision,omitempty"`
	// LastRotatedAt is when the secret last changed (computed).
	LastRotatedAt *time.Time `json:"last_rotated_at"`
}

// Validate checks a credential as received. creating tells whether the
// secret is required (on create) or optional (on update).
func (c *Credential) Validate(creating bool) []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	errs = append(errs, ValidateName("name", c.Name)...)
	errs = append(errs, validateDescription("description", c.Description)...)
	// The optional one-line fields first get the rules every optional
	// string shares (not empty, no control characters, bounded); a field
	// that fails them gets no further, more specific, message.
	bad := map[string]bool{}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{
		// Only the limits the provider also checks at plan time; zero
		// is none.
		{"header", c.Header, 0},
		{"query_param", c.QueryParam, MaxShortText},
		{"username", c.Username, MaxShortText},
		{"token_url", c.TokenURL, 0},
		{"client_id", c.ClientID, 0},
		{"rotation_period", c.RotationPeriod, 0},
	} {
		if fe := validateText(f.name, f.v, f.max); fe != nil {
			errs = append(errs, fe...)
			bad[f.name] = true
		}
	}
	if !slices.Contains(CredentialTypes, c.Type) {
		add("type", "must be one of "+strings.Join(CredentialTypes, ", "))
	}
	// Fields that belong to another type are refused rather than ignored:
	// ignoring them would store what the provider did not plan.
	only := func(field string, set bool, types ...string) {
		if set && !slices.Contains(types, c.Type) {
			add(field, "is only valid for type "+strings.Join(types, " or "))
		}
	}
	only("header", c.Header != nil, CredAPIKey)
	only("query_param", c.QueryParam != nil, CredAPIKey)
	only("username", c.Username != nil, CredBasic)
	only("token_url", c.TokenURL != nil, CredOAuth2Client)
	only("client_id", c.ClientID != nil, CredOAuth2Client)
	only("scopes", c.Scopes != nil, CredOAuth2Client)
	if c.Header != nil && !bad["header"] && !HeaderNameRegexp.MatchString(*c.Header) {
		add("header", "must be a lower-case HTTP header name, as in x-api-key")
	}
	if c.Header != nil && *c.Header == "authorization" {
		add("header", "use type bearer or basic for the authorization header")
	}
	if c.Header != nil && c.QueryParam != nil {
		add("query_param", "set either header or query_param, not both")
	}
	if c.Type == CredBasic {
		if c.Username == nil {
			add("username", "is required for type basic")
		} else if !bad["username"] && strings.Contains(*c.Username, ":") {
			add("username", "must be at most 256 characters without ':'")
		}
	}
	if c.Type == CredOAuth2Client {
		if c.TokenURL == nil {
			add("token_url", "is required for type oauth2_client_credentials")
		} else if u, err := url.Parse(*c.TokenURL); !bad["token_url"] && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			add("token_url", "must be an absolute http or https URL")
		}
		if c.ClientID == nil {
			add("client_id", "is required for type oauth2_client_credentials")
		}
		seen := map[string]bool{}
		for i, s := range c.Scopes {
			if s == "" || strings.ContainsAny(s, " \t\n") {
				add(fmt.Sprintf("scopes.%d", i), "must be a non-empty scope without spaces")
			}
			if seen[s] {
				add(fmt.Sprintf("scopes.%d", i), "is repeated; scopes are a set")
			}
			seen[s] = true
		}
	}
	hostErrs := ValidateAllowedHosts("allowed_hosts", c.AllowedHosts)
	errs = append(errs, hostErrs...)
	if c.TokenURL != nil && len(hostErrs) == 0 {
		// The client secret goes to the token URL: it must be allowed too.
		if hp, ok := c.AllowsURL(*c.TokenURL); !ok && !slices.ContainsFunc(errs, func(e FieldError) bool { return e.Field == "token_url" }) {
			add("token_url", fmt.Sprintf("its host %s is not in allowed_hosts; the client secret is sent there, so add it", hp))
		}
	}
	if c.Secret == nil {
		if creating {
			add("secret", "is required")
		}
	} else if *c.Secret == "" || len(*c.Secret) > MaxSecret {
		add("secret", fmt.Sprintf("must be 1 to %d characters", MaxSecret))
	} else if sentInHeader := c.Type == CredBearer || (c.Type == CredAPIKey && c.QueryParam == nil); sentInHeader &&
		!HeaderValueRegexp.MatchString(*c.Secret) {
		// The secret itself is not echoed: the message only says what is
		// wrong with it.
		add("secret", HeaderValueMessage+": it is sent in an HTTP header")
	}
	if c.RotationPeriod != nil && !bad["rotation_period"] {
		// The example fits a rotation period better than ParseDuration's.
		if _, err := ParseDuration(*c.RotationPeriod); err != nil {
			add("rotation_period", "must be a positive duration, as in 720h")
		}
	}
	return errs
}
