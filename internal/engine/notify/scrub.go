package notify

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Redacted replaces scrubbed text.
const Redacted = "[redacted]"

// MaxErrorText bounds the error and reply text of a Result: long enough for
// any network error or a receiver's explanation, short enough that a
// hostile receiver cannot fill the deliveries table.
const MaxErrorText = 512

// Scrub returns text with every secret replaced by Redacted, in the forms in
// which a library or a receiver may echo it: as is, JSON- and Go-quoted,
// URL-encoded (query and path), hex and base64 (standard and URL alphabets,
// with and without padding). It then cuts the text to MaxErrorText, and
// removes from the cut text a tail that begins a form of a secret, so that
// a secret the cut falls into does not survive as its prefix.
//
// Senders build error text without secrets in the first place; Scrub is the
// second line, for what a library or a receiver echoes back.
func Scrub(text string, secrets ...[]byte) string {
	forms := allForms(secrets)
	return cutScrubbed(redact(text, forms), MaxErrorText, forms)
}

// allForms returns the forms of every non-empty secret, longest first.
func allForms(secrets [][]byte) []string {
	var out []string
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		for _, f := range SecretForms(s) {
			if f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

// redact replaces every form in text with Redacted.
func redact(text string, forms []string) string {
	for _, f := range forms {
		text = strings.ReplaceAll(text, f, Redacted)
	}
	return text
}

// cutScrubbed cuts text that is already redacted to at most n bytes,
// marking the cut, and removes what the cut left of a secret or of the
// marker (see trimPartial).
func cutScrubbed(text string, n int, forms []string) string {
	if len(text) <= n {
		return text
	}
	return trimPartial(truncate(text, n), forms)
}

// trimPartial removes from the end of cut text (with or without the
// ellipsis that marks the cut) the longest tail that is the beginning of a
// form of a secret, and then any beginning of the marker: redaction ran
// first, so such a tail can only be a secret (or a marker) that the cut
// fell into, and its prefix would tell a reader the secret's first
// characters. This mirrors the probe's scrubber (probe.scrubber.trimTail).
func trimPartial(text string, forms []string) string {
	body, mark := text, ""
	if strings.HasSuffix(body, "…") {
		body, mark = strings.TrimSuffix(body, "…"), "…"
	}
	best := len(body)
	for _, f := range forms {
		best = min(best, prefixAtEnd(body, f, len(f)))
	}
	body = body[:best]
	body = body[:prefixAtEnd(body, Redacted, len(Redacted)-1)]
	return body + mark
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

// SecretForms returns secret in the encodings Scrub removes. Tests use it
// to prove that no output carries a secret in any of them.
func SecretForms(secret []byte) []string {
	w := string(secret)
	out := []string{w}
	if j, err := json.Marshal(w); err == nil {
		out = append(out, string(j[1:len(j)-1]))
	}
	out = append(out, url.QueryEscape(w), url.PathEscape(w))
	h := hex.EncodeToString(secret)
	out = append(out, h, strings.ToUpper(h))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		out = append(out, enc.EncodeToString(secret))
	}
	// Longest first, so that a form is replaced before a shorter form
	// inside it could leave a tail of it behind.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
