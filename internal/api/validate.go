package api

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// NamePattern is the format of every object name. The provider validates the
// same pattern at plan time, so a bad name never reaches the server from
// Terraform.
const NamePattern = `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`

// NameRegexp is NamePattern compiled.
var NameRegexp = regexp.MustCompile(NamePattern)

// NameMessage explains NamePattern to a person.
const NameMessage = "must be 1 to 128 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"

// URLSchemes lists the schemes an endpoint URL may use.
var URLSchemes = []string{"http", "https", "tcp"}

// Limits on free-text fields, shared with the provider's plan-time validation.
const (
	MaxDescription = 1024
	MaxShortText   = 256
	MaxTagKey      = 128
	MaxTagValue    = 256
	MaxTags        = 50
)

// IsTCPURL tells whether an endpoint URL is a tcp:// address, which takes
// no credential (TCPCredentialMessage).
func IsTCPURL(u string) bool { return strings.HasPrefix(u, "tcp://") }

// TCPCredentialMessage explains why a tcp endpoint takes no credential.
const TCPCredentialMessage = "a tcp:// endpoint cannot use a credential: credentials are sent in HTTP requests, and a tcp probe only connects" //nolint:gosec // G101: a message, not a credential.

// ValidateName checks an object name.
func ValidateName(field, name string) []FieldError {
	if msg := NameProblem(name); msg != "" {
		return []FieldError{{Field: field, Message: msg}}
	}
	return nil
}

// ValidateURL checks an endpoint URL: an absolute http, https or tcp URL with
// a host; a tcp URL also needs a port and nothing after it.
func ValidateURL(field, raw string) []FieldError {
	fe := func(msg string) []FieldError { return []FieldError{{Field: field, Message: msg}} }
	if raw == "" {
		return fe("must not be empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fe("is not a valid URL")
	}
	if !slices.Contains(URLSchemes, u.Scheme) {
		return fe("scheme must be one of http, https or tcp")
	}
	if u.Hostname() == "" {
		return fe("must name a host")
	}
	if u.User != nil {
		return fe("must not carry user information; use a credential")
	}
	if u.Scheme == "tcp" {
		if u.Port() == "" {
			return fe("a tcp URL must name a port, as in tcp://host:5432")
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return fe("a tcp URL is only a host and a port")
		}
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil {
			return fe("port is not valid")
		}
	}
	return nil
}

// ValidateTags checks a tag map: keys must be non-empty and free of ':' (the
// list filter splits key:value at the first ':').
func ValidateTags(field string, tags map[string]string) []FieldError {
	var errs []FieldError
	if len(tags) > MaxTags {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf("must hold at most %d tags", MaxTags)})
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case k == "" || len(k) > MaxTagKey:
			errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf("tag keys must be 1 to %d characters", MaxTagKey)})
		case strings.Contains(k, ":"):
			errs = append(errs, FieldError{Field: field + "." + k, Message: "tag keys must not contain ':'"})
		case len(tags[k]) > MaxTagValue:
			errs = append(errs, FieldError{Field: field + "." + k, Message: fmt.Sprintf("tag values must be at most %d characters", MaxTagValue)})
		}
	}
	return errs
}

// validateText checks an optional one-line text field.
func validateText(field string, v *string, maxLen int) []FieldError {
	return ValidateOptionalText(field, v, TextRule{MaxLen: maxLen})
}

// validateDescription checks an optional description: free text in which
// tabs and line breaks are kept.
func validateDescription(field string, v *string) []FieldError {
	return ValidateOptionalText(field, v, TextRule{MaxLen: MaxDescription, Multiline: true})
}

// Validate checks an endpoint as received from a client. It does not fill
// in defaults; see Normalize.
func (e *Endpoint) Validate() []FieldError {
	var errs []FieldError
	errs = append(errs, ValidateName("name", e.Name)...)
	errs = append(errs, ValidateURL("url", e.URL)...)
	errs = append(errs, validateText("api_version", e.APIVersion, MaxShortText)...)
	errs = append(errs, validateDescription("description", e.Description)...)
	errs = append(errs, validateText("owner", e.Owner, MaxShortText)...)
	if e.DataClassification != "" && !slices.Contains(DataClassifications, e.DataClassification) {
		errs = append(errs, FieldError{Field: "data_classification", Message: "must be one of " + strings.Join(DataClassifications, ", ")})
	}
	errs = append(errs, ValidateTags("tags", e.Tags)...)
	if e.CredentialID != nil && *e.CredentialID == "" {
		errs = append(errs, FieldError{Field: "credential_id", Message: EmptyMessage})
	} else if e.CredentialID != nil && !strings.HasPrefix(*e.CredentialID, PrefixCredential) {
		errs = append(errs, FieldError{Field: "credential_id", Message: "must be a credential ID, as in cred_..."})
	} else if e.CredentialID != nil && IsTCPURL(e.URL) {
		// Every credential type is sent in an HTTP request (a header, a
		// query parameter or an OAuth2 token); a tcp probe only connects,
		// so the credential would silently never be used.
		errs = append(errs, FieldError{Field: "credential_id", Message: TCPCredentialMessage})
	}
	return errs
}

// Normalize fills in the documented default of data_classification, the
// one default the API applies; the provider plans the same default.
func (e *Endpoint) Normalize() {
	if e.DataClassification == "" {
		e.DataClassification = ClassInternal
	}
}

// ParseDuration reads a positive Go duration ("30s", "720h"), the form of
// every duration field of every kind: monitor intervals and timeouts,
// backoffs, rotation periods. Fields compare by the value it returns, not
// by their text, so that "60s" and "1m" are the same.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("must be a positive duration, as in 30s or 5m")
	}
	return d, nil
}
