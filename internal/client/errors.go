package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
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

// Error returns a one-line description including the field errors. A 412
// says what to do about it, because "precondition failed" alone means
// nothing to someone running terraform apply.
func (e *APIError) Error() string {
	var b strings.Builder
	status := fmt.Sprintf("HTTP %d", e.Status)
	if e.Title != "" {
		status += " " + e.Title
	}
	if e.Status == http.StatusPreconditionFailed {
		b.WriteString("the object changed since it was read; run plan again (")
		b.WriteString(status)
		if e.Detail != "" {
			b.WriteString(": ")
			b.WriteString(e.Detail)
		}
		b.WriteString(")")
	} else {
		b.WriteString(status)
		if e.Detail != "" && e.Detail != e.Title {
			b.WriteString(": ")
			b.WriteString(e.Detail)
		}
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
