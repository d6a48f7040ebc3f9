package probe

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// The oracle below computes the forms of a secret with the standard library
// alone, independently of formsOf, so that a form the scrubber forgets is a
// test failure rather than a shared blind spot.

// oracleJSON is s as encoding/json writes it, without the quotes.
func oracleJSON(s string, escapeHTML bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	out := strings.TrimSpace(b.String())
	return out[1 : len(out)-1]
}

func unquoted(q string) string { return q[1 : len(q)-1] }

// fuzzEncodings are the ways FuzzScrubber embeds a secret in text, as a
// target echoing it might. Each returns the text to embed and, for base64
// inside a larger base64 string, the characters that depend on the secret
// alone (computed from the position of its bytes in the 3-byte groups).
var fuzzEncodings = []func(secret string, k, m int) (string, string){
	func(s string, _, _ int) (string, string) { return s, "" },
	func(s string, _, _ int) (string, string) { return oracleJSON(s, true), "" },
	func(s string, _, _ int) (string, string) { return oracleJSON(s, false), "" },
	func(s string, _, _ int) (string, string) { return unquoted(strconv.Quote(s)), "" },
	func(s string, _, _ int) (string, string) { return unquoted(strconv.QuoteToASCII(s)), "" },
	func(s string, _, _ int) (string, string) { return url.QueryEscape(s), "" },
	func(s string, _, _ int) (string, string) { return url.PathEscape(s), "" },
	func(s string, _, _ int) (string, string) { return hex.EncodeToString([]byte(s)), "" },
	func(s string, _, _ int) (string, string) { return strings.ToUpper(hex.EncodeToString([]byte(s))), "" },
	func(s string, _, _ int) (string, string) { return base64.StdEncoding.EncodeToString([]byte(s)), "" },
	func(s string, _, _ int) (string, string) { return base64.RawURLEncoding.EncodeToString([]byte(s)), "" },
	func(s string, k, m int) (string, string) { return embeddedBase64(base64.StdEncoding, s, k, m) },
	func(s string, k, m int) (string, string) { return embeddedBase64(base64.URLEncoding, s, k, m) },
	// The Authorization header of a basic credential, echoed.
	func(s string, _, _ int) (string, string) {
		e, mid := embeddedBase64Prefix(base64.StdEncoding, "probe-user:", s, "")
		return "Basic " + e, mid
	},
}

// embeddedBase64 encodes k bytes, the secret and m bytes together.
func embeddedBase64(enc *base64.Encoding, s string, k, m int) (string, string) {
	return embeddedBase64Prefix(enc, strings.Repeat("\x9f", k), s, strings.Repeat("~", m))
}

// embeddedBase64Prefix encodes before+s+after and returns the encoding and
// its characters that come from groups made of s's bytes only.
func embeddedBase64Prefix(enc *base64.Encoding, before, s, after string) (string, string) {
	e := enc.EncodeToString([]byte(before + s + after))
	from, to := len(before), len(before)+len(s)
	g0 := (from + 2) / 3 // first group starting at or after from
	g1 := to / 3         // groups before g1 end at or before to
	if g1 <= g0 {
		return e, ""
	}
	return e, e[4*g0 : 4*g1]
}

// oracleForms are the forms of s the scrubber must remove.
func oracleForms(s string) []string {
	b := []byte(s)
	return []string{
		s, oracleJSON(s, true), oracleJSON(s, false), unquoted(strconv.Quote(s)), unquoted(strconv.QuoteToASCII(s)),
		url.QueryEscape(s), url.PathEscape(s), hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b), base64.URLEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
	}
}

// checkNoLeak fails when out holds a form of the secret outside the
// scrubber's markers, or, when out was cut, when its end is the beginning of
// a form that text holds whole there: a secret crossing the cut that
// survives minus its last characters.
func checkNoLeak(t *testing.T, text, out string, forms []string) {
	t.Helper()
	body, wasCut := strings.CutSuffix(out, ellipsis)
	segs := strings.Split(body, redacted)
	for _, f := range forms {
		if f == "" {
			continue
		}
		for _, seg := range segs {
			if strings.Contains(seg, f) {
				t.Fatalf("form %q survives in %q", f, out)
			}
		}
	}
	last := segs[len(segs)-1]
	if !wasCut || last == "" {
		return
	}
	// The last segment stood in text verbatim (after the UTF-8 repair),
	// though where is not known when it occurs more than once: it is a
	// leak when, at every place it occurs, the text after it completes a
	// form that the segment's end begins.
	text = strings.ToValidUTF8(text, "\uFFFD")
	leak, found := "", false
	for from := 0; ; {
		i := strings.Index(text[from:], last)
		if i < 0 {
			break
		}
		end := from + i + len(last)
		here := ""
		for _, f := range forms {
			for k := 1; k < len(f) && k <= len(last) && here == ""; k++ {
				if strings.HasSuffix(last, f[:k]) && strings.HasPrefix(text[end-k:], f) {
					here = f
				}
			}
		}
		if here == "" {
			return
		}
		leak, found = here, true
		from += i + 1
	}
	if found {
		t.Fatalf("the cut text %q ends with the start of form %q, which the text holds whole there", out, leak)
	}
}

// FuzzScrubber embeds a random secret, in one of the encodings a target
// may echo it in, between random bytes, scrubs the text and cuts it at a
// random length, and checks that no form of the secret survives whole and
// that the cut leaves no beginning of one. Run it with
// go test -fuzz=FuzzScrubber ./internal/engine/probe; the seed corpus is in
// testdata/fuzz/FuzzScrubber.
func FuzzScrubber(f *testing.F) {
	f.Add("s3cr3t-Value/+=", "you sent ", " back", uint8(0), uint8(0), uint16(12))
	f.Add("pässwörd<&>\"\\\n", `{"echo":"`, `"}`, uint8(1), uint8(0), uint16(20))
	f.Add("tok_ABCDEFGHIJ", "Authorization: ", "\r\n", uint8(13), uint8(0), uint16(30))
	f.Add("0123456789abcdef", "eyJhbGciOiJub25lIn0.", ".sig", uint8(11), uint8(7), uint16(40))
	f.Add("a+b/c=d e&f", "?q=", "&x=1", uint8(5), uint8(0), uint16(9))
	f.Fuzz(func(t *testing.T, secret, before, after string, enc, shift uint8, cut uint16) {
		// Secrets that are part of the marker or that hold the ellipsis
		// cannot be told from the scrubber's own output.
		if len(secret) < 4 || len(secret) > 256 || strings.IndexByte(secret, 0xE2) >= 0 {
			t.Skip()
		}
		forms := oracleForms(secret)
		for _, f := range forms {
			if strings.Contains(redacted, f) {
				t.Skip()
			}
		}
		// Without the ellipsis's first byte in the surrounding text, an
		// ellipsis at the end of the output means a cut.
		before = strings.ReplaceAll(before, "\xe2", "x")
		after = strings.ReplaceAll(after, "\xe2", "x")
		embedded, middle := fuzzEncodings[int(enc)%len(fuzzEncodings)](secret, int(shift%3), int(shift/3%3))
		text := before + embedded + after
		n := 16 + int(cut)%(len(text)+32)

		var s scrubber
		s.add(secret)
		out := s.cut(text, n)
		if len(out) > n {
			t.Fatalf("cut(%d) returned %d bytes", n, len(out))
		}
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8: %q", out)
		}
		checkNoLeak(t, text, out, append(forms, middle))
	})
}
