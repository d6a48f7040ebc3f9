package probe

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

const assertBody = `{"status":"ok","count":3,"ratio":0.5,"ok":true,"nothing":null,"items":[],"obj":{},"name":"",` +
	`"list":[1,2],"str":"5","users":[{"name":"ann","active":false},{"name":"bob","active":true}],"deep":{"count":7}}`

// assertTarget serves a known response: JSON on /, plain text on /text, and
// a degraded status document on /degraded.
func assertTarget(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Count", "42")
		h.Set("X-Name", "Probe Target")
		h.Set("X-Empty", "")
		h.Add("X-Multi", "a")
		h.Add("X-Multi", "b")
		switch r.URL.Path {
		case "/text":
			h.Set("Content-Type", "text/plain")
			fmt.Fprint(w, "all good")
		case "/degraded":
			h.Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"status":"degraded"}`)
		default:
			h.Set("Content-Type", "application/json")
			fmt.Fprint(w, assertBody)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAssertions(t *testing.T) {
	srv := assertTarget(t)
	f := newFixture(t, Config{})
	type tc struct {
		source, property, cmp string
		target                *string // nil for is_empty / not_empty
		pass                  bool
	}
	s := ptr[string]
	cases := []tc{
		{api.SourceStatusCode, "", api.CmpEquals, s("200"), true},
		{api.SourceStatusCode, "", api.CmpEquals, s("201"), false},
		{api.SourceStatusCode, "", api.CmpNotEquals, s("500"), true},
		{api.SourceStatusCode, "", api.CmpNotEquals, s("200"), false},
		{api.SourceStatusCode, "", api.CmpLessThan, s("300"), true},
		{api.SourceStatusCode, "", api.CmpLessThan, s("200"), false},
		{api.SourceStatusCode, "", api.CmpGreaterThan, s("199"), true},
		{api.SourceStatusCode, "", api.CmpGreaterThan, s("200"), false},

		{api.SourceResponseTime, "", api.CmpLessThan, s("10s"), true},
		{api.SourceResponseTime, "", api.CmpLessThan, s("1ns"), false},
		{api.SourceResponseTime, "", api.CmpGreaterThan, s("1ns"), true},
		{api.SourceResponseTime, "", api.CmpGreaterThan, s("10s"), false},
		{api.SourceResponseTime, "", api.CmpNotEquals, s("1h"), true},
		{api.SourceResponseTime, "", api.CmpEquals, s("1h"), false},

		{api.SourceHeader, "x-count", api.CmpEquals, s("42"), true},
		{api.SourceHeader, "x-count", api.CmpEquals, s("042"), false}, // header equals is textual
		{api.SourceHeader, "x-count", api.CmpNotEquals, s("41"), true},
		{api.SourceHeader, "x-count", api.CmpNotEquals, s("42"), false},
		{api.SourceHeader, "x-count", api.CmpLessThan, s("100"), true}, // numeric: "42" < "100" is false as text
		{api.SourceHeader, "x-count", api.CmpGreaterThan, s("100"), false},
		{api.SourceHeader, "x-count", api.CmpGreaterThan, s("9"), true}, // numeric: "42" > "9" is false as text
		{api.SourceHeader, "x-name", api.CmpLessThan, s("9"), false},    // not a number
		{api.SourceHeader, "content-type", api.CmpContains, s("json"), true},
		{api.SourceHeader, "content-type", api.CmpContains, s("xml"), false},
		{api.SourceHeader, "content-type", api.CmpNotContains, s("xml"), true},
		{api.SourceHeader, "content-type", api.CmpNotContains, s("json"), false},
		{api.SourceHeader, "x-name", api.CmpMatches, s("^Probe [A-Z]"), true},
		{api.SourceHeader, "x-name", api.CmpMatches, s("^probe"), false},
		{api.SourceHeader, "x-multi", api.CmpEquals, s("a, b"), true},
		{api.SourceHeader, "x-empty", api.CmpIsEmpty, nil, true},
		{api.SourceHeader, "x-missing", api.CmpIsEmpty, nil, true},
		{api.SourceHeader, "x-count", api.CmpIsEmpty, nil, false},
		{api.SourceHeader, "x-count", api.CmpNotEmpty, nil, true},
		{api.SourceHeader, "x-missing", api.CmpNotEmpty, nil, false},
		{api.SourceHeader, "x-missing", api.CmpEquals, s(""), false},
		{api.SourceHeader, "x-missing", api.CmpNotContains, s("x"), true},

		{api.SourceTextBody, "", api.CmpContains, s(`"status":"ok"`), true},
		{api.SourceTextBody, "", api.CmpContains, s("nope"), false},
		{api.SourceTextBody, "", api.CmpNotContains, s("nope"), true},
		{api.SourceTextBody, "", api.CmpNotContains, s("bob"), false},
		{api.SourceTextBody, "", api.CmpMatches, s(`"count":\s*3`), true},
		{api.SourceTextBody, "", api.CmpMatches, s(`^\[`), false},
		{api.SourceTextBody, "", api.CmpEquals, s(assertBody), true},
		{api.SourceTextBody, "", api.CmpEquals, s("x"), false},
		{api.SourceTextBody, "", api.CmpNotEquals, s("x"), true},
		{api.SourceTextBody, "", api.CmpNotEmpty, nil, true},
		{api.SourceTextBody, "", api.CmpIsEmpty, nil, false},

		{api.SourceJSONBody, "$.status", api.CmpEquals, s("ok"), true},
		{api.SourceJSONBody, "$.status", api.CmpEquals, s("degraded"), false},
		{api.SourceJSONBody, "$.status", api.CmpNotEquals, s("degraded"), true},
		{api.SourceJSONBody, "$.status", api.CmpMatches, s("^o"), true},
		{api.SourceJSONBody, "$.count", api.CmpEquals, s("3"), true},
		{api.SourceJSONBody, "$.count", api.CmpEquals, s("3.0"), true}, // numbers compare numerically
		{api.SourceJSONBody, "$.count", api.CmpEquals, s("4"), false},
		{api.SourceJSONBody, "$.count", api.CmpLessThan, s("10"), true},
		{api.SourceJSONBody, "$.count", api.CmpGreaterThan, s("10"), false},
		{api.SourceJSONBody, "$.ratio", api.CmpGreaterThan, s("0.25"), true},
		{api.SourceJSONBody, "$.ratio", api.CmpLessThan, s("0.25"), false},
		{api.SourceJSONBody, "$.str", api.CmpLessThan, s("10"), true}, // a numeric string orders numerically
		{api.SourceJSONBody, "$.str", api.CmpEquals, s("5.0"), false}, // but equals compares strings as is
		{api.SourceJSONBody, "$.ok", api.CmpEquals, s("true"), true},
		{api.SourceJSONBody, "$.ok", api.CmpEquals, s("false"), false},
		{api.SourceJSONBody, "$.nothing", api.CmpEquals, s("null"), true},
		{api.SourceJSONBody, "$.nothing", api.CmpIsEmpty, nil, false}, // null is a value
		{api.SourceJSONBody, "$.missing", api.CmpIsEmpty, nil, true},
		{api.SourceJSONBody, "$.missing", api.CmpNotEmpty, nil, false},
		{api.SourceJSONBody, "$.missing", api.CmpEquals, s(""), false},
		{api.SourceJSONBody, "$.missing", api.CmpNotEquals, s("x"), true},
		{api.SourceJSONBody, "$.items", api.CmpIsEmpty, nil, true},
		{api.SourceJSONBody, "$.obj", api.CmpIsEmpty, nil, true},
		{api.SourceJSONBody, "$.name", api.CmpIsEmpty, nil, true},
		{api.SourceJSONBody, "$.list", api.CmpIsEmpty, nil, false},
		{api.SourceJSONBody, "$.list", api.CmpNotEmpty, nil, true},
		{api.SourceJSONBody, "$.list", api.CmpContains, s("2"), true},
		{api.SourceJSONBody, "$.list[1]", api.CmpEquals, s("2"), true},
		{api.SourceJSONBody, "$.users[?@.active==true].name", api.CmpEquals, s("bob"), true},
		{api.SourceJSONBody, "$.users[?@.active==true].name", api.CmpEquals, s("ann"), false},
		{api.SourceJSONBody, "$.deep..count", api.CmpGreaterThan, s("5"), true},
		{api.SourceJSONBody, "$[", api.CmpNotEmpty, nil, false}, // invalid JSONPath fails, never passes
	}
	for _, c := range cases {
		a := api.Assertion{Source: c.source, Comparison: c.cmp, Target: c.target}
		if c.property != "" {
			a.Property = ptr(c.property)
		}
		name := describe(a)
		t.Run(name, func(t *testing.T) {
			res := f.probe(t, httpTarget(srv.URL, func(m *api.Monitor) { m.Assertions = []api.Assertion{a} }))
			if c.pass {
				mustUp(t, res)
				return
			}
			msg := mustDown(t, res)
			if !strings.HasPrefix(msg, "assertion 1 ("+name+") failed: ") {
				t.Errorf("error = %q", msg)
			}
		})
	}
}

func TestAssertionErrorText(t *testing.T) {
	srv := assertTarget(t)
	f := newFixture(t, Config{})
	cases := []struct {
		path string
		as   []api.Assertion
		want string
	}{
		{"/degraded", []api.Assertion{
			{Source: api.SourceStatusCode, Comparison: api.CmpEquals, Target: ptr("200")},
			{Source: api.SourceJSONBody, Property: ptr("$.status"), Comparison: api.CmpEquals, Target: ptr("ok")},
		}, `assertion 2 (json_body $.status equals "ok") failed: got "degraded"`},
		{"/", []api.Assertion{{Source: api.SourceStatusCode, Comparison: api.CmpGreaterThan, Target: ptr("299")}},
			`assertion 1 (status_code greater_than 299) failed: got 200`},
		{"/", []api.Assertion{{Source: api.SourceHeader, Property: ptr("x-missing"), Comparison: api.CmpNotEmpty}},
			`assertion 1 (header x-missing not_empty) failed: got no such header`},
		{"/", []api.Assertion{{Source: api.SourceJSONBody, Property: ptr("$.nope"), Comparison: api.CmpEquals, Target: ptr("1")}},
			`assertion 1 (json_body $.nope equals "1") failed: got nothing selected`},
		{"/", []api.Assertion{{Source: api.SourceHeader, Property: ptr("x-name"), Comparison: api.CmpGreaterThan, Target: ptr("1")}},
			`assertion 1 (header x-name greater_than "1") failed: got "Probe Target" (not a number)`},
		{"/text", []api.Assertion{{Source: api.SourceJSONBody, Property: ptr("$.status"), Comparison: api.CmpNotEmpty}},
			`assertion 1 (json_body $.status not_empty) failed: got a body that is not JSON`},
		{"/", []api.Assertion{{Source: api.SourceTextBody, Comparison: api.CmpMatches, Target: ptr("(")}},
			`assertion 1 (text_body matches "(") failed: target is not a valid regular expression (RE2)`},
	}
	for _, c := range cases {
		res := f.probe(t, httpTarget(srv.URL+c.path, func(m *api.Monitor) { m.Assertions = c.as }))
		if msg := mustDown(t, res); msg != c.want {
			t.Errorf("error = %q\nwant    %q", msg, c.want)
		}
	}
	// response_time failures show the measured latency.
	res := f.probe(t, httpTarget(srv.URL, func(m *api.Monitor) {
		m.Assertions = []api.Assertion{{Source: api.SourceResponseTime, Comparison: api.CmpLessThan, Target: ptr("1ns")}}
	}))
	if msg := mustDown(t, res); !strings.HasPrefix(msg, "assertion 1 (response_time less_than 1ns) failed: got ") || !strings.HasSuffix(msg, "ms") {
		t.Errorf("error = %q", msg)
	}
}

// TestAssertionErrorHidesSensitiveContent checks that an assertion failure
// on an endpoint whose data classification keeps no body excerpt (pii,
// confidential) does not quote the response either: the error text is
// stored and shown in the API like an excerpt would be.
func TestAssertionErrorHidesSensitiveContent(t *testing.T) {
	const email = "ann.smith@example.com"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-User", email)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"user":{"email":%q,"id":1234567}}`, email)
	}))
	t.Cleanup(srv.Close)
	f := newFixture(t, Config{})
	cases := []struct {
		name string
		a    api.Assertion
		// hidden is the error text when the content must not be shown.
		hidden string
	}{
		{"text_body", api.Assertion{Source: api.SourceTextBody, Comparison: api.CmpEquals, Target: ptr("x")},
			`assertion 1 (text_body equals "x") failed: got a value of 55 bytes`},
		{"json_body string", api.Assertion{Source: api.SourceJSONBody, Property: ptr("$.user.email"), Comparison: api.CmpEquals, Target: ptr("x")},
			`assertion 1 (json_body $.user.email equals "x") failed: got a value of 21 bytes`},
		{"json_body object", api.Assertion{Source: api.SourceJSONBody, Property: ptr("$.user"), Comparison: api.CmpIsEmpty},
			`assertion 1 (json_body $.user is_empty) failed: got a value of 46 bytes`},
		{"json_body number", api.Assertion{Source: api.SourceJSONBody, Property: ptr("$.user.id"), Comparison: api.CmpLessThan, Target: ptr("10")},
			`assertion 1 (json_body $.user.id less_than "10") failed: got a value of 7 bytes`},
		{"header", api.Assertion{Source: api.SourceHeader, Property: ptr("x-user"), Comparison: api.CmpNotContains, Target: ptr("@")},
			`assertion 1 (header x-user not_contains "@") failed: got a value of 21 bytes`},
		{"header not a number", api.Assertion{Source: api.SourceHeader, Property: ptr("x-user"), Comparison: api.CmpGreaterThan, Target: ptr("1")},
			`assertion 1 (header x-user greater_than "1") failed: got a value of 21 bytes (not a number)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, class := range []string{api.ClassPII, api.ClassConfidential, "restricted"} {
				tg := httpTarget(srv.URL, func(m *api.Monitor) { m.Assertions = []api.Assertion{c.a} })
				tg.Endpoint.DataClassification = class
				msg := mustDown(t, f.probe(t, tg))
				if strings.Contains(msg, email) || strings.Contains(msg, "1234567") {
					t.Errorf("%s: error text holds response content: %q", class, msg)
				}
				if msg != c.hidden {
					t.Errorf("%s: error = %q\nwant %q", class, msg, c.hidden)
				}
			}
			// Where excerpts are allowed, the value is shown.
			for _, class := range []string{api.ClassInternal, api.ClassPublic} {
				tg := httpTarget(srv.URL, func(m *api.Monitor) { m.Assertions = []api.Assertion{c.a} })
				tg.Endpoint.DataClassification = class
				msg := mustDown(t, f.probe(t, tg))
				if !strings.Contains(msg, "ann.smith@example.com") && !strings.Contains(msg, "1234567") {
					t.Errorf("%s: error does not show the value: %q", class, msg)
				}
			}
		})
	}
}
