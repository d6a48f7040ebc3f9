package probe

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// scrubSecret has a character of every class the encodings treat apart:
// "/" and "+" (URL and base64), "<&>" (HTML-safe JSON), a quote, a
// backslash, a newline and non-ASCII text.
const scrubSecret = "s3cr3t/Val+ue<&>\"\\\n-é€"

// TestScrubberForms scrubs each form of a secret from text, standing alone
// and inside a larger encoded string.
func TestScrubberForms(t *testing.T) {
	w := scrubSecret
	b := []byte(w)
	b64 := func(enc *base64.Encoding, prefix string) string {
		return enc.EncodeToString([]byte(prefix + w + "tail"))
	}
	forms := map[string]string{
		"raw":               w,
		"json":              oracleJSON(w, true),
		"json without html": oracleJSON(w, false),
		"json ascii":        `s3cr3t/Val+ue<&>\"\\\n-\u00e9\u20ac`,
		"json slash":        `s3cr3t\/Val+ue\u003c\u0026\u003e\"\\\n-é€`,
		"go quoted":         unquoted(strconv.Quote(w)),
		"go quoted ascii":   unquoted(strconv.QuoteToASCII(w)),
		"query":             url.QueryEscape(w),
		"path":              url.PathEscape(w),
		"percent strict":    "s3cr3t%2FVal%2Bue%3C%26%3E%22%5C%0A-%C3%A9%E2%82%AC",
		"query lower hex":   "s3cr3t%2fVal%2bue%3c%26%3e%22%5c%0a-%c3%a9%e2%82%ac",
		"hex":               hex.EncodeToString(b),
		"HEX":               strings.ToUpper(hex.EncodeToString(b)),
		"base64":            base64.StdEncoding.EncodeToString(b),
		"base64 url":        base64.URLEncoding.EncodeToString(b),
		"base64 raw":        base64.RawStdEncoding.EncodeToString(b),
		"base64 raw url":    base64.RawURLEncoding.EncodeToString(b),
		"base64 offset 0":   b64(base64.StdEncoding, ""),
		"base64 offset 1":   b64(base64.StdEncoding, "u"),
		"base64 offset 2":   b64(base64.URLEncoding, "us"),
		"basic header":      "Basic " + base64.StdEncoding.EncodeToString([]byte("probe-user:"+w)),
	}
	var s scrubber
	s.add(w)
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			text := "before " + form + " after"
			out := s.clean(text)
			if !strings.Contains(out, redacted) {
				t.Fatalf("nothing redacted in %q", out)
			}
			// What survives must not hold any form of the secret, nor
			// (for the embedded base64) its characters that come from
			// the secret alone.
			var middle string
			switch name {
			case "base64 offset 0":
				_, middle = embeddedBase64Prefix(base64.StdEncoding, "", w, "tail")
			case "base64 offset 1":
				_, middle = embeddedBase64Prefix(base64.StdEncoding, "u", w, "tail")
			case "base64 offset 2":
				_, middle = embeddedBase64Prefix(base64.URLEncoding, "us", w, "tail")
			case "basic header":
				_, middle = embeddedBase64Prefix(base64.StdEncoding, "probe-user:", w, "")
			}
			checkNoLeak(t, text, out, append(oracleForms(w), middle))
			if name != "basic header" && !strings.HasPrefix(name, "base64 offset") && out != "before "+redacted+" after" {
				t.Errorf("clean = %q, want the form replaced whole", out)
			}
		})
	}
}

// TestScrubberCutEdge cuts text with the secret at every offset around the
// cut: the secret is redacted before the cut, so no beginning of it is
// left at the edge.
func TestScrubberCutEdge(t *testing.T) {
	var s scrubber
	s.add(scrubSecret)
	const n = 64
	for i := range n + 8 {
		text := strings.Repeat("x", i) + scrubSecret + strings.Repeat("y", 100)
		out := s.cut(text, n)
		if len(out) > n {
			t.Fatalf("offset %d: %d bytes, want at most %d", i, len(out), n)
		}
		kept := strings.TrimSuffix(out, ellipsis)
		for k := 1; k <= len(scrubSecret); k++ {
			if strings.HasSuffix(kept, scrubSecret[:k]) {
				t.Fatalf("offset %d: %q ends with %q, the start of the secret", i, out, scrubSecret[:k])
			}
		}
		if strings.Contains(kept, "[red") && !strings.Contains(kept, redacted) {
			t.Errorf("offset %d: a cut marker is left: %q", i, out)
		}
	}
}

// TestScrubberWindowEdge: text is scrubbed up to scrubSlack past the cut.
// When the secrets in it shrink to markers, the output can reach that edge,
// and a secret crossing it (seen only in part) must not survive in part.
func TestScrubberWindowEdge(t *testing.T) {
	const w = "s3cr3t-Value!"
	var s scrubber
	s.add(w)
	// The window ends 5 bytes into a copy of the secret; the copies before
	// it touch and become one marker.
	copies := (BodyExcerptBytes+scrubSlack)/len(w) + 1
	text := strings.Repeat(w, copies)
	if (BodyExcerptBytes+scrubSlack)%len(w) == 0 {
		t.Fatal("pick a secret length that does not divide the window")
	}
	out := s.cut(text, BodyExcerptBytes)
	if out != redacted+ellipsis {
		t.Errorf("cut = %q, want %q", out, redacted+ellipsis)
	}
}

// TestScrubberShortText: text under the limit is scrubbed but not cut.
func TestScrubberShortText(t *testing.T) {
	var s scrubber
	s.add("ab")
	s.add("a b/c")
	if got, want := s.clean("x ab a b/c a+b%2Fc a%20b%2Fc abab"), "x [redacted] [redacted] [redacted] [redacted] [redacted]"; got != want {
		t.Errorf("clean = %q, want %q", got, want)
	}
	if got := s.clean("bad \xff utf-8"); got != "bad \uFFFD utf-8" {
		t.Errorf("clean = %q", got)
	}
}

// echoTarget answers 400 with the credential it received, in every form
// the scrubber must catch, in the body and in a JSON field that an
// assertion quotes. pad puts the echo across the excerpt's and the
// assertion value's cut.
func echoTarget(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pad, _ := strconv.Atoi(r.URL.Query().Get("pad"))
		var got []string
		for _, name := range []string{"X-Api-Key", "Authorization"} {
			v := r.Header.Get(name)
			if v == "" {
				continue
			}
			v = strings.TrimPrefix(strings.TrimPrefix(v, "Bearer "), "Basic ")
			got = append(got, v)
			if dec, err := base64.StdEncoding.DecodeString(v); err == nil {
				got = append(got, string(dec)) // user:pass
			}
		}
		var echo strings.Builder
		for _, v := range got {
			js, _ := json.Marshal(v)
			fmt.Fprintf(&echo, "%s %s %s %s %s %s %s ", v, js, strconv.Quote(v), url.QueryEscape(v), hex.EncodeToString([]byte(v)),
				base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte("x"+v)))
		}
		w.Header().Set("X-Echo", strings.Repeat("h", pad%200)+echo.String())
		w.WriteHeader(http.StatusBadRequest)
		// The JSON body: the echo in a field an assertion selects, after
		// padding that moves it across the 128-byte cut of quoted values,
		// the whole body across the 512-byte excerpt.
		body, _ := json.Marshal(map[string]string{"a_pad": strings.Repeat("p", pad), "echo": strings.Repeat("e", pad%200) + echo.String()})
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestEchoedCredentialLeavesNoTrace probes a real local target that echoes
// the credential back in many encodings and at many offsets: neither the
// stored error text (assertion failures quoting the header and the JSON
// value) nor the body excerpt may carry any form of the secret.
func TestEchoedCredentialLeavesNoTrace(t *testing.T) {
	srv := echoTarget(t)
	f := newFixture(t, Config{})
	const user = "probe-user"
	creds := map[string]func(*api.Credential){
		api.CredAPIKey: nil,
		api.CredBearer: nil,
		api.CredBasic:  func(c *api.Credential) { c.Username = ptr(user) },
	}
	secretNoNewline := strings.ReplaceAll(scrubSecret, "\n", "") // a header value cannot hold a newline
	forms := append(oracleForms(secretNoNewline), oracleForms(user+":"+secretNoNewline)...)
	for typ, mod := range creds {
		for _, pad := range []int{0, 60, 100, 110, 120, 125, 300, 400, 440, 470, 490, 500} {
			for _, as := range []api.Assertion{
				{Source: api.SourceJSONBody, Property: ptr("$.echo"), Comparison: api.CmpEquals, Target: ptr("nope")},
				{Source: api.SourceHeader, Property: ptr("x-echo"), Comparison: api.CmpEquals, Target: ptr("nope")},
				{Source: api.SourceTextBody, Comparison: api.CmpContains, Target: ptr("nope")},
			} {
				tg := httpTarget(srv.URL+"/?pad="+strconv.Itoa(pad), func(m *api.Monitor) { m.Assertions = []api.Assertion{as} })
				tg.Credential = newCred(typ, secretNoNewline, nil, mod)
				res := f.probe(t, tg)
				msg := mustDown(t, res)
				if !strings.Contains(msg, "failed: got ") {
					t.Fatalf("%s pad %d: the assertion quotes nothing: %q", typ, pad, msg)
				}
				for what, text := range map[string]string{"error": msg, "excerpt": deref0(res.BodyExcerpt)} {
					for _, form := range forms {
						for _, seg := range strings.Split(text, redacted) {
							if strings.Contains(seg, form) {
								t.Fatalf("%s pad %d %s: form %q survives in %q", typ, pad, what, form, text)
							}
						}
					}
					// A beginning of a form long enough to mean
					// something must not be left at a cut.
					for _, cutText := range cutParts(text) {
						for _, form := range forms {
							for k := 4; k <= len(form) && k <= len(cutText); k++ {
								if strings.HasSuffix(cutText, form[:k]) {
									t.Fatalf("%s pad %d %s: %q ends with %q, the start of %q", typ, pad, what, text, form[:k], form)
								}
							}
						}
					}
				}
			}
		}
	}
}

// cutParts returns the parts of text that end at a cut: before each
// ellipsis (an assertion's quoted value is cut inside the error text).
func cutParts(text string) []string {
	var out []string
	for i := 0; ; {
		j := strings.Index(text[i:], ellipsis)
		if j < 0 {
			return out
		}
		out = append(out, text[:i+j])
		i += j + len(ellipsis)
	}
}
