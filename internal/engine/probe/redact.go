package probe

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/aio-platform/terraform-provider-aio/internal/redact"
)

// redacted replaces scrubbed text.
const redacted = redact.Marker

// ellipsis marks text that was cut.
const ellipsis = redact.Ellipsis

// maxErrorText bounds stored error text: long enough for any Go network
// error, short enough that a hostile target cannot fill the results table.
const maxErrorText = 1024

// scrubSlack is how much text past a cut is scrubbed before cutting (see
// redact.Slack).
const scrubSlack = redact.Slack

// scrubber removes every known sensitive string, in every form in which a
// target may echo it, from text that leaves the probe (error text, body
// excerpt, values quoted by assertion failures): the secret, a basic
// credential's user:pass, an OAuth2 access token, and the request's query
// string. Errors are built without them in the first place; this catches
// what a library or a target echoes back. The work is the shared
// redact.Scrubber's, which notification delivery uses too; see package
// redact for the rules and their limits.
type scrubber struct{ s redact.Scrubber }

// add registers w for scrubbing in every form (redact.FormsOf).
func (s *scrubber) add(w string) { s.s.Add(w) }

// redact replaces every form of every secret with the marker.
func (s *scrubber) redact(text string) string { return s.s.Redact(text) }

// trimTail removes what a cut left of a secret at the end of text.
func (s *scrubber) trimTail(text string) string { return s.s.TrimTail(text) }

// cut scrubs text and cuts it to at most n bytes, marking the cut with an
// ellipsis. The result is valid UTF-8.
func (s *scrubber) cut(text string, n int) string { return s.s.Cut(text, n) }

// clean scrubs error text and bounds its length.
func (s *scrubber) clean(text string) string { return s.cut(text, maxErrorText) }

// truncate cuts s to at most n bytes on a rune boundary, marking the cut
// (redact.Truncate). It is for text that holds no secret (configuration);
// text from a target goes through scrubber.cut instead.
func truncate(s string, n int) string { return redact.Truncate(s, n) }

// redactURL renders a URL without userinfo, query and fragment: what error
// text may show of where a probe went.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[url]"
	}
	out := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	s := out.String()
	if u.RawQuery != "" || u.ForceQuery {
		s += "?" + redacted
	}
	return s
}

// sanitizeError renders err without any URL query: a *url.Error (what
// http.Client returns) is rebuilt with its URL redacted; the text is then
// scrubbed by the caller as a last resort.
func sanitizeError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		inner := "unknown error"
		if ue.Err != nil {
			inner = sanitizeError(ue.Err)
		}
		return fmt.Sprintf("%s %q: %s", ue.Op, redactURL(ue.URL), inner)
	}
	return err.Error()
}
