package probe

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// fuzzSecret is what the fuzzed response carries (in its body and in a
// header) as an echo of the probe's credential: no failure text may show it.
const fuzzSecret = "probe-Secret-91c2e5"

// FuzzAssertion evaluates one fuzzed assertion (source, JSONPath property,
// comparison, target) against a fuzzed response that echoes a secret the
// probe used, and checks what the probe would store: no panic, the secret
// never in the failure text, no response content quoted for an endpoint
// whose classification allows no excerpt, a bounded text, and no "cannot
// evaluate" failure for an assertion the API accepted (what a monitor may
// say at plan time, the probe must be able to check).
func FuzzAssertion(f *testing.F) {
	f.Add(uint8(4), "$.status", uint8(0), "ok", []byte(`{"status":"`+fuzzSecret+`"}`), "text/plain", 200, false)
	f.Add(uint8(4), "$..items[?@.price > 10].name", uint8(6), "^a", []byte(`{"items":[{"name":"a","price":11}]}`), "", 200, false)
	f.Add(uint8(4), "$[0]", uint8(2), "3", []byte(`[1e400, 2]`), "", 200, false)
	f.Add(uint8(2), "x-token", uint8(4), "Secret", []byte(``), fuzzSecret, 200, true)
	f.Add(uint8(3), "", uint8(0), "nope", []byte("you sent "+fuzzSecret), "", 500, false)
	f.Add(uint8(0), "", uint8(3), "199", []byte(``), "", 204, false)
	f.Add(uint8(1), "", uint8(2), "500ms", []byte(``), "", 200, false)
	f.Add(uint8(4), "$.a", uint8(7), "", []byte(`{"a":[]}`), "", 200, false)
	f.Add(uint8(4), "$", uint8(1), "null", []byte(`null`), "", 200, true)
	f.Fuzz(func(t *testing.T, src uint8, property string, cmp uint8, target string, body []byte, header string, status int, hide bool) {
		a := api.Assertion{Source: api.AssertionSources[int(src)%len(api.AssertionSources)], Comparison: api.Comparisons[int(cmp)%len(api.Comparisons)]}
		if property != "" {
			a.Property = &property
		}
		if a.Comparison != api.CmpIsEmpty && a.Comparison != api.CmpNotEmpty {
			a.Target = &target
		}
		// The echo of the secret: always in a header, and in the body.
		body = append(body, []byte(" "+fuzzSecret)...)
		var s scrubber
		s.add(fuzzSecret)
		in := &evalInput{status: status, hasResponse: true, latency: 123 * time.Millisecond, body: body,
			header: http.Header{"X-Token": {header + fuzzSecret}}, hideContent: hide, cut: s.cut}
		msg, ok := evaluate([]api.Assertion{a}, in)
		if ok {
			if msg != "" {
				t.Fatalf("a passing assertion has failure text %q", msg)
			}
			return
		}
		// The failure text quotes the assertion as written, which may hold
		// anything the user typed; leave that out of the checks.
		shown := strings.Replace(msg, describe(a), "", 1)
		if strings.Contains(shown, fuzzSecret) {
			t.Fatalf("the failure text shows the secret: %q", msg)
		}
		if hide && strings.Contains(shown, `got "`) {
			t.Fatalf("the failure text quotes content of a no-excerpt endpoint: %q", msg)
		}
		if len(shown) > 4*maxShown+200 {
			t.Fatalf("the failure text is %d bytes: %q", len(shown), msg)
		}
		m := api.Monitor{Name: "m", EndpointID: "ep_x", Type: api.MonitorHTTP, Assertions: []api.Assertion{a}}
		if len(m.Validate()) > 0 {
			return
		}
		for _, cannot := range []string{"property is not a valid JSONPath", "unknown source", "unknown comparison",
			"target is not a valid regular expression", "is not a number\""} {
			if strings.Contains(shown, cannot) && (cannot != "is not a number\"" || a.Source == api.SourceStatusCode || a.Source == api.SourceResponseTime) {
				t.Fatalf("an assertion the API accepts cannot be evaluated: %q", msg)
			}
		}
	})
}
