package notify

import (
	"github.com/aio-platform/terraform-provider-aio/internal/redact"
)

// Redacted replaces scrubbed text.
const Redacted = redact.Marker

// MaxErrorText bounds the error and reply text of a Result: long enough for
// any network error or a receiver's explanation, short enough that a
// hostile receiver cannot fill the deliveries table.
const MaxErrorText = 512

// Scrub returns text with every secret replaced by Redacted, in every form
// in which a library or a receiver may echo it (redact.FormsOf: as is,
// JSON- and Go-quoted, URL-encoded, hex, base64, base64 inside a larger
// base64 string, ...), cut to MaxErrorText without leaving the beginning
// of a secret the cut fell into. It is the probes' scrubber (package
// redact), so a receiver's echo is held to the same rules as a target's.
//
// Senders build error text without secrets in the first place; Scrub is the
// second line, for what a library or a receiver echoes back.
func Scrub(text string, secrets ...[]byte) string {
	return redact.Scrub(text, MaxErrorText, secrets...)
}

// SecretForms returns secret in the encodings Scrub removes. Tests use it
// to prove that no output carries a secret in any of them.
func SecretForms(secret []byte) []string {
	var out []string
	for _, f := range redact.FormsOf(string(secret)) {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}
