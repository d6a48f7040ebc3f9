package probe

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// oracleSecret is the API key the oracle tests guess at.
const oracleSecret = "Zq7-SecretKey-0123456789abcdef"

// headerEchoTarget answers 200 with the request's headers, as debugging
// services such as httpbin do: as text lines at /text, as a JSON object at
// /json, in a response header at /header, and at /long as text padded so
// that the body read limit falls inside the key.
func headerEchoTarget(t *testing.T, pad int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			hs := map[string]string{}
			for k := range r.Header {
				hs[k] = r.Header.Get(k)
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"headers": hs})
		case "/header":
			w.Header().Set("X-Echo-Key", r.Header.Get("X-Api-Key"))
		case "/long":
			fmt.Fprintf(w, "%sX-Api-Key: %s\n", strings.Repeat("p", pad), r.Header.Get("X-Api-Key"))
		default:
			names := make([]string, 0, len(r.Header))
			for k := range r.Header {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				fmt.Fprintf(w, "%s: %s\n", k, r.Header.Get(k))
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestAssertionsAreNoOracleForEchoedSecret probes a real target on
// 127.0.0.1 that echoes the request's headers, with monitors that differ
// only in a guessed prefix of the API key: the right guess and a wrong one
// must get the same outcome (down), or a viewer reading results could
// recover the secret a character at a time.
func TestAssertionsAreNoOracleForEchoedSecret(t *testing.T) {
	const pad = 100
	srv := headerEchoTarget(t, pad)
	f := newFixture(t, Config{})
	// The read limit falls four bytes into the key at /long.
	short := newFixture(t, Config{MaxBodyBytes: int64(pad + len("X-Api-Key: ") + 4)})
	right, wrong := oracleSecret[:5], oracleSecret[:4]+"T"
	cases := []struct {
		name, path string
		as         func(guess string) api.Assertion
	}{
		{"text contains", "/text", func(g string) api.Assertion {
			return api.Assertion{Source: api.SourceTextBody, Comparison: api.CmpContains, Target: ptr("X-Api-Key: " + g)}
		}},
		{"text matches", "/text", func(g string) api.Assertion {
			return api.Assertion{Source: api.SourceTextBody, Comparison: api.CmpMatches, Target: ptr("(?m)^X-Api-Key: " + g)}
		}},
		{"json contains", "/json", func(g string) api.Assertion {
			return api.Assertion{Source: api.SourceJSONBody, Property: ptr("$.headers['X-Api-Key']"), Comparison: api.CmpMatches, Target: ptr("^" + g)}
		}},
		{"header contains", "/header", func(g string) api.Assertion {
			return api.Assertion{Source: api.SourceHeader, Property: ptr("x-echo-key"), Comparison: api.CmpContains, Target: ptr(g)}
		}},
		{"cut at the read limit", "/long", func(g string) api.Assertion {
			return api.Assertion{Source: api.SourceTextBody, Comparison: api.CmpContains, Target: ptr("X-Api-Key: " + g[:4])}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, guess := range []string{right, wrong} {
				tg := httpTarget(srv.URL+c.path, func(m *api.Monitor) { m.Assertions = []api.Assertion{c.as(guess)} })
				tg.Credential = newCred(api.CredAPIKey, oracleSecret, nil, nil)
				fx := f
				if c.path == "/long" {
					fx = short
				}
				res := fx.probe(t, tg)
				msg := mustDown(t, res)
				// The message quotes the assertion, guess included; what
				// it got from the target follows "failed:".
				_, got, _ := strings.Cut(msg, "failed:")
				if strings.Contains(got, oracleSecret[:4]) || strings.Contains(deref0(res.BodyExcerpt), oracleSecret[:4]) {
					t.Fatalf("guess %q: the secret's start is shown: %q, excerpt %q", guess, msg, deref0(res.BodyExcerpt))
				}
			}
		})
	}
}

// TestEchoedSecretInJSONStaysValidJSON: the secret inside a JSON string
// becomes the marker inside that string, so json_body assertions still
// parse the body and see the rest of it.
func TestEchoedSecretInJSONStaysValidJSON(t *testing.T) {
	srv := headerEchoTarget(t, 0)
	f := newFixture(t, Config{})
	tg := httpTarget(srv.URL+"/json", func(m *api.Monitor) {
		m.Assertions = []api.Assertion{
			{Source: api.SourceJSONBody, Property: ptr("$.headers['X-Api-Key']"), Comparison: api.CmpEquals, Target: ptr(redacted)},
			{Source: api.SourceJSONBody, Property: ptr("$.headers['User-Agent']"), Comparison: api.CmpEquals, Target: ptr(userAgent)},
		}
	})
	tg.Credential = newCred(api.CredAPIKey, oracleSecret+`"\/<`, nil, nil)
	mustUp(t, f.probe(t, tg))
}

// TestResponseNotRedactedWithoutCredential: a probe that sends no
// credential looks at the body as it came (and pays nothing for
// redaction), even when the endpoint URL's query is registered for
// scrubbing of what leaves the probe.
func TestResponseNotRedactedWithoutCredential(t *testing.T) {
	srv := headerEchoTarget(t, 0)
	f := newFixture(t, Config{})
	tg := httpTarget(srv.URL+"/text?q=1", func(m *api.Monitor) {
		req(m).Headers = map[string]string{"x-api-key": "visible"}
		m.Assertions = []api.Assertion{{Source: api.SourceTextBody, Comparison: api.CmpContains, Target: ptr("X-Api-Key: visible")}}
	})
	mustUp(t, f.probe(t, tg))
}

// TestBodyShapingHeadersNotSent: a monitor stored with accept-encoding
// (before the API refused it) must not turn off Go's transparent
// decompression: the excerpt would be raw gzip, in which the scrubber
// cannot see the secret a target echoes.
func TestBodyShapingHeadersNotSent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" || r.Header.Get("Te") != "" {
			http.Error(w, "body-shaping header sent", http.StatusTeapot)
			return
		}
		body := []byte("X-Api-Key: " + r.Header.Get("X-Api-Key") + "\n")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			_, _ = zw.Write(body)
			_ = zw.Close()
			body = b.Bytes()
			w.Header().Set("Content-Encoding", "gzip")
		}
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	f := newFixture(t, Config{})
	tg := httpTarget(srv.URL, func(m *api.Monitor) {
		req(m).Headers = map[string]string{"accept-encoding": "gzip", "range": "bytes=0-5", "te": "trailers"}
	})
	tg.Credential = newCred(api.CredAPIKey, oracleSecret, nil, nil)
	res := f.probe(t, tg)
	mustDown(t, res)
	if got := deref0(res.BodyExcerpt); got != "X-Api-Key: "+redacted+"\n" {
		t.Fatalf("excerpt %q, want the decompressed body with the key redacted", got)
	}
}
