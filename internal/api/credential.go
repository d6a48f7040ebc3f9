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
		} else if msg := c.TokenURLPlaintextProblem(); msg != "" {
			add("token_url", msg)
		}
	}
	if c.Secret == nil {
		if creating {
			add("secret", "is required")
		}
	} else if msg := CredentialSecretProblem(c.Type, c.QueryParam != nil, *c.Secret); msg != "" {
		add("secret", msg)
	}
	if c.RotationPeriod != nil && !bad["rotation_period"] {
		// The example fits a rotation period better than ParseDuration's.
		if _, err := ParseDuration(*c.RotationPeriod); err != nil {
			add("rotation_period", "must be a positive duration, as in 720h")
		}
	}
	return errs
}

// CredentialSecretProblem returns why secret cannot be the secret of a
// credential of type typ (inQuery: an api_key sent as a query parameter),
// or "". The message never quotes the secret. The provider asks it at plan
// time, so that a secret read from a file with its trailing newline fails
// the plan instead of the apply.
func CredentialSecretProblem(typ string, inQuery bool, secret string) string {
	switch {
	case secret == "" || len(secret) > MaxSecret:
		return fmt.Sprintf("must be 1 to %d characters", MaxSecret)
	case (typ == CredBearer || (typ == CredAPIKey && !inQuery)) && !HeaderValueRegexp.MatchString(secret):
		return HeaderValueMessage + ": it is sent in an HTTP header"
	}
	return ""
}

// ResendsSecret names the fields of next, an update of the credential c,
// whose change would make aiod send c's secret somewhere new or in a new
// form. Such an update must carry the secret: only someone who holds the
// secret may decide where it goes, so that an editor who does not know it
// cannot, say, add their own host to allowed_hosts and then point an
// endpoint there to receive it. aiod refuses such an update without the
// secret, and the provider asks for the secret at plan time; both use this
// one rule. The fields are:
//
//   - allowed_hosts, when next allows a host or port that c does not
//     (WidenedHosts); a narrowing or a reordering is no widening;
//   - type, which changes how and to whom the secret is presented (a
//     client secret meant for the token server would go to the API host as
//     a bearer token);
//   - header and query_param (api_key), when the place of the key changes:
//     a query parameter lands in access logs and proxies, a header name may
//     be one the target logs or echoes; header unset and header x-api-key
//     are the same place;
//   - token_url (oauth2_client_credentials): the client secret is sent
//     there, and another path on an allowed host may be another service;
//   - username (basic) and client_id (oauth2_client_credentials): the
//     secret is the password of that user or the secret of that client;
//     presented as someone else's, on a shared service whose other accounts
//     an editor may own, it would be tried (and perhaps logged) for them.
//
// Scopes, names, descriptions and rotation fields change none of this and
// need no secret.
func (c Credential) ResendsSecret(next Credential) []string {
	var out []string
	if len(WidenedHosts(c.AllowedHosts, next.AllowedHosts)) > 0 {
		out = append(out, "allowed_hosts")
	}
	if c.Type != next.Type {
		// Every other field is read differently under another type, so
		// the type names the change.
		return append(out, "type")
	}
	differ := func(a, b *string) bool {
		if a == nil || b == nil {
			return a != b
		}
		return *a != *b
	}
	if c.Type == CredAPIKey && c.apiKeyPlace() != next.apiKeyPlace() {
		if differ(c.Header, next.Header) {
			out = append(out, "header")
		}
		if differ(c.QueryParam, next.QueryParam) {
			out = append(out, "query_param")
		}
	}
	for _, f := range []struct {
		name string
		a, b *string
	}{
		{"token_url", c.TokenURL, next.TokenURL},
		{"client_id", c.ClientID, next.ClientID},
		{"username", c.Username, next.Username},
	} {
		if differ(f.a, f.b) {
			out = append(out, f.name)
		}
	}
	return out
}

// apiKeyPlace is where an api_key credential's probes put the key: a query
// parameter or a header, the default header when none is named.
func (c Credential) apiKeyPlace() string {
	switch {
	case c.QueryParam != nil:
		return "query " + *c.QueryParam
	case c.Header != nil:
		return "header " + *c.Header
	}
	return "header " + DefaultAPIKeyHeader
}

// ResendsSecretMessage explains, after the field name "secret", why an
// update that changes fields (as ResendsSecret names them) must carry the
// secret.
func ResendsSecretMessage(fields []string) string {
	return "is required because this update " + ResendsSecretChanges(fields) +
		": the secret would be sent somewhere new or in a new form, and only someone who holds it may send it there; send the secret with the update"
}

// ResendsSecretChanges says what an update changes, from the fields
// ResendsSecret names, as in "widens allowed_hosts and changes type", so
// that aiod and the provider describe it in the same words.
func ResendsSecretChanges(fields []string) string {
	var parts, changed []string
	for _, f := range fields {
		if f == "allowed_hosts" {
			parts = append(parts, "widens allowed_hosts")
		} else {
			changed = append(changed, f)
		}
	}
	if len(changed) > 0 {
		parts = append(parts, "changes "+strings.Join(changed, ", "))
	}
	return strings.Join(parts, " and ")
}

// TokenURLPlaintextProblem explains why the client secret may not go to
// the token URL, a plain http URL whose host:port no "http://" entry of
// allowed_hosts covers (see PlaintextRule), or returns "". A loopback
// address is allowed; a name is judged by the probe when it connects.
func (c *Credential) TokenURLPlaintextProblem() string {
	if c.TokenURL == nil {
		return ""
	}
	u, err := url.Parse(*c.TokenURL)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Scheme, "http") || IsLoopbackHost(u.Hostname()) {
		return ""
	}
	host, port := hostAndPort(u)
	if HostsAllowPlaintext(c.AllowedHosts, host, port) {
		return ""
	}
	hp := HostPort(u)
	return fmt.Sprintf("is plain http, and the client secret is sent there in cleartext: use https, or add http://%s to allowed_hosts to allow it", hp)
}
