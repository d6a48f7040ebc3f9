package api

import (
	"testing"
	"time"
)

// FuzzParseDuration: ParseDuration never panics, accepts only what
// time.ParseDuration reads as positive, and its value survives a round
// trip through its own text, so that "60s" and "1m" compare equal however
// the value was first spelled.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30s", "1m", "60s", "1h30m", "500ms", "1.5h", "0s", "-1s", "", "1", "1d", "9223372036854775807ns",
		"9223372036854775808ns", "2562047h47m16.854775807s", "+5m", ".5s", "1µs", "1us", "1e3s", " 1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		want, stdErr := time.ParseDuration(s)
		if err != nil {
			if d != 0 {
				t.Errorf("ParseDuration(%q) failed but returned %s", s, d)
			}
			if stdErr == nil && want > 0 {
				t.Errorf("ParseDuration(%q) refused what time.ParseDuration reads as %s", s, want)
			}
			// One fixed message: the input is never echoed into it.
			if err.Error() != "must be a positive duration, as in 30s or 5m" {
				t.Errorf("ParseDuration(%q) error = %q", s, err)
			}
			return
		}
		if d <= 0 || stdErr != nil || d != want {
			t.Fatalf("ParseDuration(%q) = %s, want a positive duration equal to time.ParseDuration's %s (%v)", s, d, want, stdErr)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %s, whose text does not read back: %s, %v", s, d, back, err)
		}
	})
}

// FuzzMonitorValidate: validating and normalizing a monitor built from
// fuzzed values never panics, every error names a field of the monitor,
// and a monitor that passes still passes once normalized (Normalize fills
// in defaults; it must not make a valid monitor invalid).
func FuzzMonitorValidate(f *testing.F) {
	f.Add("http", "30s", "5s", "/health", "GET", "json_body", "$.status", "equals", "ok", "x-a", "1", "1s")
	f.Add("tcp", "1m", "", "", "", "response_time", "", "less_than", "500ms", "", "", "")
	f.Add("http", "0s", "2h", "health", "BREW", "header", "Content-Type", "matches", "(", "Host", "x\ny", "-1s")
	f.Add("http", "10s", "10s", "/", "POST", "json_body", "$[?@.a", "is_empty", "", "x-b", "", "100ms")
	f.Fuzz(func(t *testing.T, typ, interval, timeout, path, method, source, property, comparison, target, hname, hvalue, degraded string) {
		opt := func(s string) *string {
			if s == "" {
				return nil
			}
			return &s
		}
		m := Monitor{Name: "m", EndpointID: "ep_x", Type: typ, Interval: opt(interval), Timeout: opt(timeout), DegradedResponseTime: opt(degraded),
			Assertions: []Assertion{{Source: source, Property: opt(property), Comparison: comparison, Target: opt(target)}}}
		if typ == MonitorHTTP {
			m.Request = &MonitorRequest{Path: opt(path), Method: opt(method)}
			if hname != "" {
				m.Request.Headers = map[string]string{hname: hvalue}
			}
		}
		errs := m.Validate()
		for _, e := range errs {
			if e.Message == "" {
				t.Errorf("error on %q has no message", e.Field)
			}
		}
		if len(errs) > 0 {
			return
		}
		m.Normalize()
		if errs := m.Validate(); len(errs) > 0 {
			t.Errorf("a valid monitor is invalid once normalized: %+v (%+v)", errs, m)
		}
	})
}
