// Package redact removes secrets from text that leaves aiod's engine:
// the error text, body excerpts and assertion values of probe results, and
// the error text and replies of notification delivery attempts. Both are
// stored and shown by the API, so a secret a target or a receiver echoes
// back must not survive in them, in any of the encodings it is likely to
// come back in.
//
// A Scrubber holds the secrets and computes their forms (FormsOf) once.
// The rules, in order: redact first, on the whole text (up to Slack past
// the cut), so that no cut can split a secret into pieces too short to be
// recognised; then cut; then remove any tail of the cut text that is the
// beginning of a form of a secret, so that a secret crossing the cut does
// not survive minus its last characters.
//
// It cannot catch everything: a party that controls the answer can
// transform a secret in ways no list of encodings foresees (reverse it,
// say). The protection against that is that aiod sends a secret only where
// it is meant to go; the scrubber is the second line, for echoes by honest
// but careless peers and for the encodings an attacker would try first.
package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Marker replaces scrubbed text.
const Marker = "[redacted]"

// Ellipsis marks text that was cut.
const Ellipsis = "…"

// Slack is how much text past a cut is scrubbed before cutting, so that a
// secret starting before the cut is seen whole and replaced rather than
// cut in two. Text beyond it is not looked at (a failing probe with a
// megabyte body should not cost a megabyte of scanning); a secret crossing
// that edge is handled like one crossing the cut.
const Slack = 64 << 10

// Scrubber removes every registered secret, in every form FormsOf lists,
// from text. The zero value is ready to use; a Scrubber is not safe for
// concurrent use.
type Scrubber struct {
	words   []string        // registered words
	pending int             // words[pending:] have no forms yet
	forms   []string        // every form of words[:pending], deduplicated
	seen    map[string]bool // the forms
}

// New returns a scrubber of the non-empty secrets.
func New(secrets ...[]byte) *Scrubber {
	s := &Scrubber{}
	for _, b := range secrets {
		s.Add(string(b))
	}
	return s
}

// Scrub scrubs text of the secrets and cuts it to at most n bytes (see
// Scrubber.Cut).
func Scrub(text string, n int, secrets ...[]byte) string { return New(secrets...).Cut(text, n) }

// Add registers w for scrubbing in every form (see FormsOf). Even a short
// secret is scrubbed: mangled error text is a better failure than a leaked
// secret. The forms are computed when text is first scrubbed, so that a
// probe that passes does not pay for them. An empty w is ignored.
func (s *Scrubber) Add(w string) {
	if w == "" || slices.Contains(s.words, w) {
		return
	}
	s.words = append(s.words, w)
}

// Forms returns every form of every registered secret.
func (s *Scrubber) Forms() []string {
	s.prepare()
	return slices.Clone(s.forms)
}

// prepare computes the forms of the words added since the last call.
func (s *Scrubber) prepare() {
	for ; s.pending < len(s.words); s.pending++ {
		if s.seen == nil {
			s.seen = map[string]bool{}
		}
		for _, f := range FormsOf(s.words[s.pending]) {
			if f != "" && !s.seen[f] {
				s.seen[f] = true
				s.forms = append(s.forms, f)
			}
		}
	}
}

// FormsOf returns the forms in which w may come back from a peer (a probe's
// target, a notification's receiver) or a library:
//
//   - raw;
//   - JSON-escaped as Go (with and without HTML escaping), as an ASCII-only
//     encoder (Python's default) writes it, and each with "/" escaped as
//     "\/" (PHP);
//   - Go-quoted (strconv.Quote and QuoteToASCII, what %q writes), without
//     the quotes;
//   - percent-encoded as a query value, as a path segment and with only
//     the RFC 3986 unreserved characters left, each with upper- and
//     lower-case hex digits;
//   - hex, lower and upper case;
//   - base64 in the standard and URL alphabets, padded and unpadded, and,
//     for w embedded in a larger base64 string (Basic's user:pass, a
//     token inside a JWT), the characters that depend only on w's bytes at
//     each of the three offsets w can have in the 3-byte groups.
//
// The forms of w's embedded base64 leave out up to two characters at each
// end (they also depend on neighbouring bytes), that is, up to 12 bits of
// w at each end of an embedded base64 echo.
func FormsOf(w string) []string {
	out := []string{w}
	jsonForms := []string{jsonInner(w, true), jsonInner(w, false), jsonASCII(w)}
	for _, j := range jsonForms {
		out = append(out, j, strings.ReplaceAll(j, "/", `\/`))
	}
	q := strconv.Quote(w)
	qa := strconv.QuoteToASCII(w)
	out = append(out, q[1:len(q)-1], qa[1:len(qa)-1])
	for _, p := range []string{url.QueryEscape(w), url.PathEscape(w), percentEncode(w)} {
		out = append(out, p, lowerPercent(p))
	}
	h := hex.EncodeToString([]byte(w))
	out = append(out, h, strings.ToUpper(h))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		out = append(out, enc.EncodeToString([]byte(w)), enc.WithPadding(base64.NoPadding).EncodeToString([]byte(w)))
		raw := enc.WithPadding(base64.NoPadding)
		for k := range 3 {
			// k bytes of something else precede w in its first 3-byte
			// group: the groups made only of w's bytes start at w[(3-k)%3].
			rest := w[min(len(w), (3-k)%3):]
			if n := len(rest) / 3 * 3; n > 0 {
				out = append(out, raw.EncodeToString([]byte(rest[:n])))
			}
		}
	}
	return out
}

// jsonInner is w as Go's encoding/json writes a string, without the quotes.
func jsonInner(w string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(w) // a string always encodes
	s := strings.TrimSuffix(b.String(), "\n")
	return s[1 : len(s)-1]
}

// jsonASCII is w as an ASCII-only JSON encoder writes it (Python's
// json.dumps, Java's many): short escapes for the usual controls, \u00XX
// for the others, \uXXXX (UTF-16, lower-case hex) for every non-ASCII
// rune. Invalid UTF-8 becomes U+FFFD, as in Go.
func jsonASCII(w string) string {
	var b strings.Builder
	for _, r := range w {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20:
				fmt.Fprintf(&b, `\u%04x`, r)
			case r < 0x80:
				b.WriteRune(r)
			case r > 0xffff:
				r -= 0x10000
				fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			default:
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		}
	}
	return b.String()
}

// percentEncode escapes every byte but the RFC 3986 unreserved characters
// (A-Z a-z 0-9 - . _ ~), with upper-case hex: what strict encoders write.
func percentEncode(w string) string {
	var b strings.Builder
	for i := range len(w) {
		c := w[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// lowerPercent lower-cases the hex digits of every %XX escape in s.
func lowerPercent(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lowerHex(b[i+1]), lowerHex(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func lowerHex(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + ('a' - 'A')
	}
	return c
}

// Redact replaces every occurrence of every form with the marker. All
// occurrences are found first, overlapping ones included, and each run of
// overlapping or touching occurrences becomes one marker: replacing one
// form at a time could leave the tail of another form that overlapped it.
func (s *Scrubber) Redact(text string) string {
	s.prepare()
	type span struct{ from, to int }
	var spans []span
	for _, f := range s.forms {
		for i := 0; i <= len(text)-len(f); {
			j := strings.Index(text[i:], f)
			if j < 0 {
				break
			}
			spans = append(spans, span{i + j, i + j + len(f)})
			i += j + 1
		}
	}
	if len(spans) == 0 {
		return text
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	var b strings.Builder
	last := 0
	for i := 0; i < len(spans); {
		from, to := spans[i].from, spans[i].to
		for i++; i < len(spans) && spans[i].from <= to; i++ {
			to = max(to, spans[i].to)
		}
		b.WriteString(text[last:from])
		b.WriteString(Marker)
		last = to
	}
	b.WriteString(text[last:])
	return b.String()
}

// TrimTail removes from the end of cut text the longest part that is the
// beginning of a form of a secret (what is left of a secret that crossed
// the cut: redact runs first, so this is a second line, for a secret past
// Slack or one completed by a UTF-8 repair, or text a read limit cut), then any beginning of the
// marker and any incomplete UTF-8 sequence that leaves. It is one pass:
// what is left before the removed part is text that stood in the open.
func (s *Scrubber) TrimTail(text string) string {
	s.prepare()
	best := len(text)
	for _, f := range s.forms {
		best = min(best, prefixAtEnd(text, f, len(f)))
	}
	text = text[:best]
	// A whole marker at the end stays; a cut one goes.
	text = text[:prefixAtEnd(text, Marker, len(Marker)-1)]
	for {
		r, size := utf8.DecodeLastRuneInString(text)
		if r != utf8.RuneError || size != 1 {
			return text
		}
		text = text[:len(text)-1]
	}
}

// prefixAtEnd returns the start of the longest suffix of text, at most
// maxLen bytes long, that is a beginning of f; len(text) when none.
func prefixAtEnd(text, f string, maxLen int) int {
	for i := max(0, len(text)-maxLen); i < len(text); i++ {
		if text[i] == f[0] && strings.HasPrefix(f, text[i:]) {
			return i
		}
	}
	return len(text)
}

// Cut scrubs text and cuts it to at most n bytes, marking the cut with an
// ellipsis. The result is valid UTF-8.
func (s *Scrubber) Cut(text string, n int) string {
	s.prepare()
	window := len(text) > n+Slack
	if window {
		text = text[:n+Slack]
	}
	text = s.Redact(text)
	if window {
		text = s.TrimTail(text)
	}
	if !utf8.ValidString(text) {
		// Redacted again: replacing invalid bytes could complete a form.
		text = s.Redact(strings.ToValidUTF8(text, "\uFFFD"))
		// A form that is not valid UTF-8 itself (a secret of raw bytes)
		// can begin or end inside a replacement character, and its
		// marker then leaves a piece of one. Each further round replaces
		// what is invalid with an ASCII '?': Redact adds only ASCII, so
		// every round removes non-ASCII bytes and the loop ends.
		for !utf8.ValidString(text) {
			text = s.Redact(strings.ToValidUTF8(text, "?"))
		}
	}
	if len(text) <= n && !window {
		return text
	}
	if limit := n - len(Ellipsis); len(text) > limit {
		c := max(limit, 0)
		for c > 0 && !utf8.RuneStart(text[c]) {
			c--
		}
		text = text[:c]
	}
	return s.TrimTail(text) + Ellipsis
}

// Truncate cuts s to at most n bytes on a rune boundary, marking the cut,
// and makes it valid UTF-8 (results are stored as text and served as JSON).
// It is for text that holds no secret (configuration); text from a target
// goes through Scrubber.Cut instead.
func Truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n - len(Ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + Ellipsis
}
