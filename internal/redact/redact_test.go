package redact_test

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aio-platform/terraform-provider-aio/internal/redact"
)

// TestScrubEveryForm: a secret echoed in any of its forms is replaced by
// the marker, whatever surrounds it.
func TestScrubEveryForm(t *testing.T) {
	secret := []byte(`s3cr3t/k+y?=&"x<é>`)
	forms := redact.FormsOf(string(secret))
	for _, want := range []string{string(secret), hex.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret),
		base64.RawURLEncoding.EncodeToString(secret), `s3cr3t/k+y?=\u0026\"x\u003cé\u003e`, `s3cr3t/k+y?=&\"x<\u00e9>`} {
		found := false
		for _, f := range forms {
			found = found || f == want
		}
		if !found {
			t.Errorf("FormsOf misses %q", want)
		}
	}
	for _, f := range forms {
		got := redact.Scrub("before "+f+" after", 1024, secret)
		if strings.Contains(got, f) || !strings.Contains(got, redact.Marker) || !strings.HasPrefix(got, "before ") {
			t.Errorf("form %q: %q", f, got)
		}
	}
}

// TestScrubCut: a secret that a cut falls into is seen whole (redacted
// before the cut), and no beginning of it is left at the end.
func TestScrubCut(t *testing.T) {
	secret := "Zq7-routing-key-0123456789"
	for pad := 0; pad < 60; pad++ {
		text := strings.Repeat("x", pad) + secret + " tail"
		out := redact.Scrub(text, 40, []byte(secret))
		if len(out) > 40 || !utf8.ValidString(out) {
			t.Fatalf("pad %d: %q (%d bytes)", pad, out, len(out))
		}
		body := strings.TrimSuffix(out, redact.Ellipsis)
		for k := 3; k <= len(secret); k++ {
			if strings.Contains(body, secret[:k]) {
				t.Fatalf("pad %d: %q holds %q, the secret's beginning", pad, out, secret[:k])
			}
		}
	}
	// Short text is returned as is, but for the secret.
	if got := redact.Scrub("no secret here", 40, []byte(secret)); got != "no secret here" {
		t.Errorf("Scrub = %q", got)
	}
	// No secrets: only the cut.
	if got := redact.Scrub(strings.Repeat("é", 100), 21); len(got) > 21 || !strings.HasSuffix(got, redact.Ellipsis) || !utf8.ValidString(got) {
		t.Errorf("Scrub without secrets = %q", got)
	}
}

// TestScrubberAddsOnce: the zero Scrubber works, empty secrets are
// ignored, and a secret added twice has its forms once.
func TestScrubberAddsOnce(t *testing.T) {
	var s redact.Scrubber
	s.Add("")
	if got := s.Redact("text"); got != "text" {
		t.Errorf("Redact without secrets = %q", got)
	}
	s.Add("abcd1234")
	n := len(s.Forms())
	s.Add("abcd1234")
	if len(s.Forms()) != n || n == 0 {
		t.Errorf("forms %d then %d", n, len(s.Forms()))
	}
	if got := s.Redact("x abcd1234abcd1234 y"); got != "x "+redact.Marker+" y" {
		t.Errorf("touching occurrences: %q", got)
	}
}

// FuzzScrub puts a secret at a random place of random text, scrubs the
// text of it and cuts it at a random length: Scrub must not panic, must
// keep to the length and to valid UTF-8, and no form of the secret (the
// raw secret first) may stand in the output outside the markers. Run it
// with go test -fuzz=FuzzScrub ./internal/redact; the seed corpus is in
// testdata/fuzz/FuzzScrub.
func FuzzScrub(f *testing.F) {
	f.Add("error: bad key , try again", "s3cr3t-Value/+=", uint16(13), uint16(20))
	f.Add(`{"echo":""}`, "pässwörd<&>\"\\\n", uint16(9), uint16(64))
	f.Fuzz(func(t *testing.T, text, secret string, pos, cut uint16) {
		// A secret that is part of the marker, or that holds the
		// ellipsis's first byte, cannot be told from Scrub's own output.
		if len(secret) < 4 || len(secret) > 256 || strings.IndexByte(secret, 0xE2) >= 0 {
			t.Skip()
		}
		forms := redact.FormsOf(secret)
		for _, f := range forms {
			if strings.Contains(redact.Marker, f) {
				t.Skip()
			}
		}
		text = strings.ReplaceAll(text, "\xe2", "x")
		p := int(pos) % (len(text) + 1)
		in := text[:p] + secret + text[p:] + " " + hex.EncodeToString([]byte(secret))
		n := 16 + int(cut)%(len(in)+32)
		out := redact.Scrub(in, n, []byte(secret))
		if len(out) > n {
			t.Fatalf("Scrub(%d) returned %d bytes", n, len(out))
		}
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8: %q", out)
		}
		for _, seg := range strings.Split(strings.TrimSuffix(out, redact.Ellipsis), redact.Marker) {
			if strings.Contains(seg, secret) {
				t.Fatalf("the secret %q survives in %q", secret, out)
			}
			for _, f := range forms {
				if strings.Contains(seg, f) {
					t.Fatalf("form %q of the secret survives in %q", f, out)
				}
			}
		}
	})
}
