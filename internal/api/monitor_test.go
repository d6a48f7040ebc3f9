package api

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// validMonitor is a minimal valid http monitor.
func validMonitor(mods ...func(*Monitor)) Monitor {
	m := Monitor{Name: "m", EndpointID: "ep_x", Type: MonitorHTTP}
	for _, mod := range mods {
		mod(&m)
	}
	return m
}

// fieldMessages maps each failing field to its messages.
func fieldMessages(errs []FieldError) map[string]string {
	out := map[string]string{}
	for _, e := range errs {
		out[e.Field] += e.Message
	}
	return out
}

func TestMonitorValidateJSONPath(t *testing.T) {
	cases := []struct {
		path string
		ok   bool
	}{
		{"$", true},
		{"$.status", true},
		{"$.users[?@.active==true].name", true},
		{"$..count", true},
		{"$['a b']", true},
		{"$[0]", true},
		{"$[?", false},
		{"$[", false},
		{"$.", false},
		{"$.a b", false},
		{"status", false},
	}
	for _, c := range cases {
		m := validMonitor(func(m *Monitor) {
			m.Assertions = []Assertion{
				{Source: SourceStatusCode, Comparison: CmpEquals, Target: ptr("200")},
				{Source: SourceJSONBody, Property: ptr(c.path), Comparison: CmpNotEmpty},
			}
		})
		got := fieldMessages(m.Validate())
		msg, bad := got["assertions.1.property"]
		switch {
		case c.ok && len(got) > 0:
			t.Errorf("%q: refused: %v", c.path, got)
		case !c.ok && !bad:
			t.Errorf("%q: accepted (errors %v)", c.path, got)
		case !c.ok && !strings.Contains(msg, "JSONPath"):
			t.Errorf("%q: message %q does not say JSONPath", c.path, msg)
		case !c.ok && len(got) != 1:
			t.Errorf("%q: errors on other fields too: %v", c.path, got)
		}
	}
}

func TestMonitorValidateTimeouts(t *testing.T) {
	cases := []struct {
		name                        string
		interval, timeout, degraded *string
		want                        []string // failing fields
	}{
		{"defaults", nil, nil, nil, nil},
		{"timeout 100ms", nil, ptr("100ms"), nil, nil},
		{"timeout below 100ms", nil, ptr("99ms"), nil, []string{"timeout"}},
		{"timeout 1ns", nil, ptr("1ns"), nil, []string{"timeout"}},
		{"timeout above interval", ptr("10s"), ptr("20s"), nil, []string{"timeout"}},
		{"degraded within timeout", nil, ptr("5s"), ptr("5s"), nil},
		{"degraded above timeout", nil, ptr("5s"), ptr("6s"), []string{"degraded_response_time"}},
		// Unset timeout: the effective one, the smaller of 10s and the
		// interval, bounds it.
		{"degraded within default timeout", nil, nil, ptr("10s"), nil},
		{"degraded above default timeout", nil, nil, ptr("11s"), []string{"degraded_response_time"}},
		{"degraded within short interval", ptr("5s"), nil, ptr("5s"), nil},
		{"degraded above short interval", ptr("5s"), nil, ptr("6s"), []string{"degraded_response_time"}},
		// A bad timeout is reported once, on timeout.
		{"degraded with bad timeout", nil, ptr("x"), ptr("1s"), []string{"timeout"}},
		{"bad degraded", nil, nil, ptr("0s"), []string{"degraded_response_time"}},
	}
	for _, c := range cases {
		m := validMonitor(func(m *Monitor) { m.Interval, m.Timeout, m.DegradedResponseTime = c.interval, c.timeout, c.degraded })
		got := slices.Sorted(maps.Keys(fieldMessages(m.Validate())))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: failing fields %v, want %v (%v)", c.name, got, c.want, m.Validate())
		}
	}
	m := validMonitor(func(m *Monitor) { m.Timeout = ptr("50ms") })
	if msg := fieldMessages(m.Validate())["timeout"]; !strings.Contains(msg, "at least 100ms") {
		t.Errorf("timeout message %q", msg)
	}
	m = validMonitor(func(m *Monitor) { m.Timeout, m.DegradedResponseTime = ptr("1s"), ptr("2s") })
	if msg := fieldMessages(m.Validate())["degraded_response_time"]; !strings.Contains(msg, "less than or equal to the timeout") {
		t.Errorf("degraded_response_time message %q", msg)
	}
}

func TestMonitorNormalize(t *testing.T) {
	m := validMonitor(func(m *Monitor) {
		m.Request = &MonitorRequest{TLS: &MonitorTLS{ServerName: ptr("svc.internal")}}
	})
	m.Normalize()
	r := m.Request
	if r.Method == nil || *r.Method != DefaultMethod {
		t.Errorf("method = %v", r.Method)
	}
	if r.FollowRedirects == nil || *r.FollowRedirects != DefaultFollowRedirects {
		t.Errorf("follow_redirects = %v", r.FollowRedirects)
	}
	// The provider plans insecure_skip_verify = false whenever tls is set:
	// a monitor made through the API must read back the same.
	if r.TLS.InsecureSkipVerify == nil || *r.TLS.InsecureSkipVerify {
		t.Errorf("tls.insecure_skip_verify = %v, want false", r.TLS.InsecureSkipVerify)
	}
	// A value given is kept.
	m = validMonitor(func(m *Monitor) {
		m.Request = &MonitorRequest{TLS: &MonitorTLS{InsecureSkipVerify: ptr(true)}, FollowRedirects: ptr(false)}
	})
	m.Normalize()
	if !*m.Request.TLS.InsecureSkipVerify || *m.Request.FollowRedirects {
		t.Errorf("given values changed: %+v %+v", m.Request, m.Request.TLS)
	}
	// No tls, no tls block made up.
	m = validMonitor(func(m *Monitor) { m.Request = &MonitorRequest{} })
	m.Normalize()
	if m.Request.TLS != nil {
		t.Errorf("tls made up: %+v", m.Request.TLS)
	}
}
