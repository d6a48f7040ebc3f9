package api

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EmptyMessage is the one answer to an optional string given as "". Null
// and "" would otherwise be two ways to say "unset" that Terraform tells
// apart (an import writes null for a stored "", and the next plan shows a
// change), so every optional string of every kind refuses "" and the
// provider says the same at plan time.
const EmptyMessage = "must not be empty; omit the attribute instead"

// ControlMessage explains why a text was refused for carrying characters
// that a terminal or an editor would act on instead of showing.
const ControlMessage = "must not contain control characters (such as NUL or ESC) or bidirectional text overrides"

// MultilineControlMessage is ControlMessage for free text, where tabs and
// line breaks are kept.
const MultilineControlMessage = "must not contain control characters other than tab and line breaks (such as NUL or ESC) or bidirectional text overrides"

// isBidiControl reports the bidirectional embedding, override and isolate
// characters (U+202A–U+202E, U+2066–U+2069): they make a text display in
// another order than it is stored, so that a reviewer of a plan reads
// something other than what is applied.
func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// HasForbiddenRune reports whether s holds a character that no text in
// the API may carry: a C0 or C1 control character (NUL, ESC, DEL, ...) or a
// bidirectional override. When multiline is true, tab, line feed and a
// carriage return directly before a line feed (a CRLF line break) are
// allowed, because descriptions are free text written in heredocs.
func HasForbiddenRune(s string, multiline bool) bool {
	for i, r := range s {
		switch {
		case multiline && (r == '\t' || r == '\n'):
		case multiline && r == '\r' && strings.HasPrefix(s[i+1:], "\n"):
		case unicode.IsControl(r) || isBidiControl(r):
			return true
		}
	}
	return false
}

// TextRule says what one optional text field accepts.
type TextRule struct {
	// MaxLen is the largest length in bytes; zero means no limit here.
	MaxLen int
	// Multiline keeps tabs and line breaks (descriptions).
	Multiline bool
	// AnyCharacters skips the control character check, for values that
	// are data sent to or compared with a target (a request body, an
	// assertion target) rather than text shown to people.
	AnyCharacters bool
}

// ValidateOptionalText checks an optional string: nil (null) is fine; ""
// is refused with EmptyMessage; control characters and bidirectional
// overrides are refused; and the length is bounded. It reports at most one
// error, the first that applies, so that one mistake gets one message.
func ValidateOptionalText(field string, v *string, rule TextRule) []FieldError {
	if v == nil {
		return nil
	}
	if msg := textProblem(*v, rule); msg != "" {
		return []FieldError{{Field: field, Message: msg}}
	}
	return nil
}

func textProblem(s string, rule TextRule) string {
	switch {
	case s == "":
		return EmptyMessage
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case !rule.AnyCharacters && HasForbiddenRune(s, rule.Multiline):
		if rule.Multiline {
			return MultilineControlMessage
		}
		return ControlMessage
	case rule.MaxLen > 0 && len(s) > rule.MaxLen:
		return fmt.Sprintf("must be at most %d characters", rule.MaxLen)
	}
	return ""
}

// NameProblem returns why name is not a valid object name, or "". A name
// with a control character or a bidirectional override gets its own
// message, since the pattern's message would not tell the user what is
// wrong with a name that looks right on screen.
func NameProblem(name string) string {
	if HasForbiddenRune(name, false) {
		return ControlMessage
	}
	if !NameRegexp.MatchString(name) {
		return NameMessage
	}
	return ""
}
