package probe

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// redacted replaces scrubbed text.
const redacted = "[redacted]"

// maxErrorText bounds stored error text: long enough for any Go network
// error, short enough that a hostile target cannot fill the results table.
const maxErrorText = 1024

// scrubber removes, as a last resort, every known sensitive string from text
// that leaves the probe (error text, body excerpt): the secret, an OAuth2
// access token, the request's query string and the api_key query value.
// Errors are built without them in the first place; this catches what a
// library or a target echoes back.
type scrubber struct {
	words []string
}

// add registers w (and its URL-encoded forms, in which it appears inside
// URLs) for scrubbing. Even a short secret is scrubbed: mangled error text is
// a better failure than a leaked secret.
func (s *scrubber) add(w string) {
	if w == "" {
		return
	}
	s.words = append(s.words, w)
	if q := url.QueryEscape(w); q != w {
		s.words = append(s.words, q)
	}
	if q := url.PathEscape(w); q != w {
		s.words = append(s.words, q)
	}
}

// clean scrubs text and bounds its length.
func (s *scrubber) clean(text string) string {
	// Longest first, so that a word containing another is scrubbed whole.
	words := slices.Clone(s.words)
	slices.SortFunc(words, func(a, b string) int { return len(b) - len(a) })
	for _, w := range words {
		text = strings.ReplaceAll(text, w, redacted)
	}
	return truncate(text, maxErrorText)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut,
// and makes it valid UTF-8 (results are stored as text and served as JSON).
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

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
