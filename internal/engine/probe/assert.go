package probe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/theory/jsonpath"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// maxShown bounds a value quoted in an assertion failure: enough to see what
// came back, not a copy of the response.
const maxShown = 128

// evalInput is what assertions are checked against: the final response of
// an attempt (or, for TCP, only the latency).
type evalInput struct {
	status int
	// hasResponse is false when the attempt brings back no response to
	// inspect, only its latency (a TCP connect); see evaluate.
	hasResponse bool
	latency     time.Duration
	header      http.Header
	body        []byte
	// hideContent keeps response content (headers, body, JSON values) out
	// of failure text: set for endpoints whose data classification allows
	// no body excerpt, because the failure text is stored and shown in the
	// API just as an excerpt would be.
	hideContent bool
	// cut scrubs a value taken from the response of every secret the
	// probe used and then cuts it to n bytes (scrubber.cut): a value is
	// scrubbed before it is cut, so that no cut leaves part of a secret
	// that the final scrubbing of the error text would not recognise.
	// Nil only cuts (for tests that evaluate without a probe).
	cut func(s string, n int) string

	// The body parsed as JSON, once, on first use.
	jsonDone bool
	jsonVal  any
	jsonErr  error
}

// evaluate checks the assertions in order and reports the first that fails,
// as `assertion 2 (json_body $.status equals "ok") failed: got "degraded"`
// (numbered from 1, in the order of the monitor's list). When
// in.hideContent is set, a value taken from the response (header, body,
// JSON) is not quoted: the text says `got a value of 8 bytes` instead.
//
// What applies follows from what the attempt brought back, not from the
// probe type: an attempt without a response (a TCP connect) can only be
// judged on its latency, so only response_time assertions are checked, and
// without assertions it passes on having connected; an attempt with a
// response passes by default on any 2xx status. The implicit default is
// resolved here, never stored.
func evaluate(as []api.Assertion, in *evalInput) (string, bool) {
	if len(as) == 0 {
		if in.hasResponse && in.status/100 != 2 {
			return fmt.Sprintf("default assertion (status_code 2xx) failed: got %d", in.status), false
		}
		return "", true
	}
	for i, a := range as {
		if !in.hasResponse && a.Source != api.SourceResponseTime {
			continue
		}
		ok, got := check(a, in)
		if !ok {
			return fmt.Sprintf("assertion %d (%s) failed: %s", i+1, describe(a), got), false
		}
	}
	return "", true
}

// describe renders an assertion as written: source, property, comparison,
// target (quoted unless numeric).
func describe(a api.Assertion) string {
	parts := []string{a.Source}
	if a.Property != nil {
		parts = append(parts, *a.Property)
	}
	parts = append(parts, a.Comparison)
	if a.Target != nil {
		if a.Source == api.SourceStatusCode || a.Source == api.SourceResponseTime {
			parts = append(parts, *a.Target)
		} else {
			parts = append(parts, strconv.Quote(truncate(*a.Target, maxShown)))
		}
	}
	return strings.Join(parts, " ")
}

// value is what an assertion's source yields.
type value struct {
	present bool    // false: no such header, nothing selected
	text    string  // the value as text, for string comparisons
	num     float64 // the value as a number, when isNum
	isNum   bool    // compared numerically by equals and not_equals too
	empty   bool    // for is_empty and not_empty
	shown   string  // how a failure shows it, unless raw is set
	content bool    // the value is response content (header, body, JSON)
	// raw is response content that a failure shows scrubbed, cut to
	// maxShown and, when quoted, Go-quoted. It is rendered only when the
	// assertion fails (see display): scrubbing costs more than a passing
	// probe should pay.
	raw    string
	hasRaw bool
	quoted bool
}

// display is how a failure shows v.
func (v value) display(in *evalInput) string {
	if !v.hasRaw {
		return v.shown
	}
	s := in.shown(v.raw)
	if v.quoted {
		return strconv.Quote(s)
	}
	return s
}

// check evaluates one assertion; on failure it says what was found.
func check(a api.Assertion, in *evalInput) (bool, string) {
	v, problem := extract(a, in)
	if problem != "" {
		return false, problem
	}
	target := deref(a.Target)
	// response_time targets are durations; they compare in milliseconds,
	// the unit of the value.
	parseTarget := parseNumber
	if a.Source == api.SourceResponseTime {
		parseTarget = func(s string) (float64, bool) {
			d, err := api.ParseDuration(s)
			return ms(d), err == nil
		}
	}
	got := func() string {
		if v.content && in.hideContent {
			// Say how much came back, never what.
			return fmt.Sprintf("got a value of %d bytes", len(v.text))
		}
		return "got " + v.display(in)
	}
	verdict := func(ok bool) (bool, string) {
		if ok {
			return true, ""
		}
		return false, got()
	}
	switch a.Comparison {
	case api.CmpEquals, api.CmpNotEquals:
		eq := v.present && v.text == target
		if v.isNum {
			if t, ok := parseTarget(target); ok {
				eq = v.num == t
			}
		}
		return verdict(eq == (a.Comparison == api.CmpEquals))
	case api.CmpLessThan, api.CmpGreaterThan:
		// Numeric only: comparing text by byte order would pass and fail
		// by accident.
		n, ok := v.num, v.isNum
		if !ok && v.present {
			n, ok = parseNumber(v.text)
		}
		t, tok := parseTarget(target)
		if !tok {
			return false, fmt.Sprintf("target %q is not a number", truncate(target, maxShown))
		}
		if !ok {
			return false, got() + " (not a number)"
		}
		if a.Comparison == api.CmpLessThan {
			return verdict(n < t)
		}
		return verdict(n > t)
	case api.CmpContains:
		return verdict(v.present && strings.Contains(v.text, target))
	case api.CmpNotContains:
		return verdict(!v.present || !strings.Contains(v.text, target))
	case api.CmpMatches:
		re, err := regexp.Compile(target)
		if err != nil {
			return false, "target is not a valid regular expression (RE2)"
		}
		return verdict(v.present && re.MatchString(v.text))
	case api.CmpIsEmpty:
		return verdict(v.empty)
	case api.CmpNotEmpty:
		return verdict(!v.empty)
	}
	return false, fmt.Sprintf("unknown comparison %q", a.Comparison)
}

// extract reads the assertion's source; problem is set when it cannot be
// read at all (invalid JSON, invalid JSONPath).
func extract(a api.Assertion, in *evalInput) (v value, problem string) {
	switch a.Source {
	case api.SourceStatusCode:
		s := strconv.Itoa(in.status)
		return value{present: in.hasResponse, text: s, num: float64(in.status), isNum: true, shown: s}, ""
	case api.SourceResponseTime:
		m := ms(in.latency)
		return value{present: true, text: in.latency.String(), num: m, isNum: true, shown: fmt.Sprintf("%.1fms", m)}, ""
	case api.SourceHeader:
		vals := in.header.Values(deref(a.Property))
		if len(vals) == 0 {
			return value{empty: true, shown: "no such header"}, ""
		}
		// Repeated fields combine as RFC 9110 §5.3 says.
		s := strings.Join(vals, ", ")
		return value{present: true, text: s, empty: s == "", raw: s, hasRaw: true, quoted: true, content: true}, ""
	case api.SourceTextBody:
		s := string(in.body)
		return value{present: true, text: s, empty: s == "", raw: s, hasRaw: true, quoted: true, content: true}, ""
	case api.SourceJSONBody:
		return extractJSON(deref(a.Property), in)
	}
	return value{}, fmt.Sprintf("unknown source %q", a.Source)
}

// extractJSON selects with the JSONPath (RFC 9535) and takes the first
// selected value: a string as is, a number numerically, true, false and
// null as their JSON text, arrays and objects as compact JSON. Nothing
// selected, "", [] and {} are empty; null is not (it is a value).
func extractJSON(path string, in *evalInput) (value, string) {
	if !in.jsonDone {
		in.jsonDone = true
		dec := json.NewDecoder(bytes.NewReader(in.body))
		dec.UseNumber() // exact numbers: 1e400 or big IDs do not round
		in.jsonErr = dec.Decode(&in.jsonVal)
	}
	if in.jsonErr != nil {
		return value{}, "got a body that is not JSON"
	}
	p, err := jsonpath.Parse(path)
	if err != nil {
		return value{}, "property is not a valid JSONPath"
	}
	nodes := p.Select(in.jsonVal)
	if len(nodes) == 0 {
		return value{empty: true, shown: "nothing selected"}, ""
	}
	switch x := nodes[0].(type) {
	case string:
		return value{present: true, text: x, empty: x == "", raw: x, hasRaw: true, quoted: true, content: true}, ""
	case json.Number:
		f, err := x.Float64()
		return value{present: true, text: x.String(), num: f, isNum: err == nil, raw: x.String(), hasRaw: true, content: true}, ""
	case []any, map[string]any:
		b, _ := json.Marshal(x)
		s := string(b)
		return value{present: true, text: s, empty: s == "[]" || s == "{}", raw: s, hasRaw: true, content: true}, ""
	default: // true, false, null
		b, _ := json.Marshal(x)
		return value{present: true, text: string(b), shown: string(b), content: true}, ""
	}
}

// shown is how a failure message quotes a value from the response: scrubbed,
// then cut to maxShown bytes.
func (in *evalInput) shown(s string) string {
	if in.cut == nil {
		return truncate(s, maxShown)
	}
	return in.cut(s, maxShown)
}

// parseNumber reads a decimal number, surrounding spaces allowed (header
// values often carry them).
func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil
}
