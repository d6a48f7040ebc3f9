package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// Sentinel errors, one per status the provider reacts to. An *APIError with
// the matching status satisfies errors.Is against them, so that callers can
// write errors.Is(err, client.ErrNotFound) without knowing about APIError.
var (
	// ErrNotFound matches 404: the object does not exist (any more). The
	// provider removes it from state on read and treats delete as done.
	ErrNotFound = errors.New("not found")
	// ErrConflict matches 409: a name already in use, an object still
	// referenced by others, or an idempotency key still in flight.
	ErrConflict = errors.New("conflict")
	// ErrPreconditionFailed matches 412: the revision sent in If-Match is
	// stale because the object changed since it was read.
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrUnauthorized matches 401: the token is missing, unknown, revoked
	// or expired.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden matches 403: the token's role may not do this.
	ErrForbidden = errors.New("forbidden")
)

// maxErrorBody limits how much of an error response is read; a problem
// document is small, and an HTML error page from a proxy is only excerpted.
const maxErrorBody = 64 << 10

// maxExcerpt is how many characters of a non-JSON error body are kept.
const maxExcerpt = 200

// APIError is a non-2xx answer from the API. Title, Detail and FieldErrors
// come from the RFC 9457 problem document when the server sent one; for
// anything else (a proxy's HTML page, say) Title is the status text and
// Detail a short excerpt of the body.
type APIError struct {
	// Status is the HTTP status code of the (last) response.
	Status int
	// Title is the problem's short summary, or the status text.
	Title string
	// Detail explains this occurrence of the problem.
	Detail string
	// FieldErrors name the request fields the server rejected, so that the
	// provider can attach each to its attribute.
	FieldErrors []api.FieldError
	// Attempts is how many attempts were made before this answer was
	// accepted as final; more than one means retries were exhausted.
	Attempts int
}

// Error returns a one-line description including the field errors. It
// states what aiod answered and nothing more: what to do about it is the
// caller's to say (the provider says it once, in addClientError), so that
// no advice is printed twice.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.StatusLine())
	if e.Detail != "" && e.Detail != e.Title {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if len(e.FieldErrors) > 0 {
		b.WriteString(" [")
		for i, fe := range e.FieldErrors {
			if i > 0 {
				b.WriteString("; ")
			}
			if fe.Field != "" {
				b.WriteString(fe.Field)
				b.WriteString(": ")
			}
			b.WriteString(fe.Message)
		}
		b.WriteString("]")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// StatusLine is "HTTP <status> <title>", as in "HTTP 409 Conflict".
func (e *APIError) StatusLine() string {
	status := fmt.Sprintf("HTTP %d", e.Status)
	if e.Title != "" {
		status += " " + e.Title
	}
	return status
}

// TransportError is a call that got no HTTP answer at all: the connection
// was refused or reset, an attempt timed out, or TLS failed. It names the
// call once (method, path and address) and wraps the cause, with the URL
// that net/http repeats in its own errors taken out.
type TransportError struct {
	// Method and Path name the call, as in GET /v1/endpoints.
	Method, Path string
	// Address is the aiod base URL the call was sent to.
	Address string
	// Attempts is how many attempts were made.
	Attempts int
	// Timeout is the per-attempt timeout; it is reported when the last
	// attempt ran out of it.
	Timeout time.Duration
	// Err is the cause of the last attempt's failure.
	Err error
}

// Error says what failed once: "GET /v1/endpoints on http://host:7420:
// connection refused (2 attempts)".
func (e *TransportError) Error() string {
	var cause string
	switch {
	case e.Refused():
		cause = "connection refused"
	case e.TimedOut():
		cause = fmt.Sprintf("no answer within the request timeout of %s", e.Timeout)
	default:
		cause = e.Err.Error()
	}
	return fmt.Sprintf("%s %s on %s: %s (%s)", e.Method, e.Path, e.Address, cause, plural(e.Attempts, "attempt"))
}

// Unwrap returns the cause, so that errors.Is(err, syscall.ECONNREFUSED)
// and the like work.
func (e *TransportError) Unwrap() error { return e.Err }

// Refused reports whether nothing listened at the address.
func (e *TransportError) Refused() bool { return errors.Is(e.Err, syscall.ECONNREFUSED) }

// TimedOut reports whether the last attempt ran out of the per-attempt
// timeout (rather than the caller giving up).
func (e *TransportError) TimedOut() bool {
	var t interface{ Timeout() bool }
	return e.Timeout > 0 && errors.As(e.Err, &t) && t.Timeout()
}

// newTransportError builds the error for a call that got no answer. A
// *url.Error is unwrapped: it repeats the method and the full URL, which
// the TransportError already names.
func newTransportError(method, path, address string, attempts int, timeout time.Duration, err error) *TransportError {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	return &TransportError{Method: method, Path: path, Address: address, Attempts: attempts, Timeout: timeout, Err: err}
}

// plural is "1 attempt" or "n attempts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Is matches the sentinel errors by status, so that errors.Is works on an
// *APIError however deeply it is wrapped.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrPreconditionFailed:
		return e.Status == http.StatusPreconditionFailed
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	}
	return false
}

// newAPIError reads resp's body (but does not close it) and builds the
// error for it.
func newAPIError(resp *http.Response, attempts int) *APIError {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{Status: resp.StatusCode, Attempts: attempts}
	if p, ok := parseProblem(resp.Header.Get("Content-Type"), data); ok {
		e.Title, e.Detail, e.FieldErrors = p.Title, p.Detail, p.Errors
	} else {
		e.Detail = excerpt(data)
	}
	if e.Title == "" {
		e.Title = http.StatusText(resp.StatusCode)
	}
	return e
}

// parseProblem decodes a problem document. A body is tried when its
// Content-Type is JSON of any kind, or when it has none but looks like a
// JSON object, since some proxies drop the header.
func parseProblem(contentType string, data []byte) (api.Problem, bool) {
	var p api.Problem
	mediaType, _, _ := mime.ParseMediaType(contentType)
	isJSON := mediaType == api.ContentTypeJSON || mediaType == api.ContentTypeProblem || strings.HasSuffix(mediaType, "+json")
	if !isJSON && (mediaType != "" || !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))) {
		return p, false
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, false
	}
	if p.Title == "" && p.Detail == "" && len(p.Errors) == 0 {
		return p, false
	}
	return p, true
}

// excerpt makes a short single-line excerpt of a body, so that an HTML
// error page does not flood the Terraform output.
func excerpt(data []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(data), "\uFFFD")), " ")
	if utf8.RuneCountInString(s) <= maxExcerpt {
		return s
	}
	r := []rune(s)
	return string(r[:maxExcerpt]) + "…"
}
