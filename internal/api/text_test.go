package api

import (
	"strings"
	"testing"
)

// TestEmptyOptionalStringsRefused sets every optional string of every kind
// to "" and expects exactly one error, on that field, with EmptyMessage:
// one rule for null versus "" across the API.
func TestEmptyOptionalStringsRefused(t *testing.T) {
	empty := ptr("")
	cases := map[string]func() []FieldError{
		"description": func() []FieldError {
			return (&Endpoint{Name: "e", URL: "https://x.example.com/", Description: empty}).Validate()
		},
		"owner": func() []FieldError {
			return (&Endpoint{Name: "e", URL: "https://x.example.com/", Owner: empty}).Validate()
		},
		"api_version": func() []FieldError {
			return (&Endpoint{Name: "e", URL: "https://x.example.com/", APIVersion: empty}).Validate()
		},
		"credential_id": func() []FieldError {
			return (&Endpoint{Name: "e", URL: "https://x.example.com/", CredentialID: empty}).Validate()
		},
	}
	cred := func(mod func(*Credential)) func() []FieldError {
		return func() []FieldError {
			c := Credential{Name: "c", Type: CredAPIKey, Secret: ptr("s"), AllowedHosts: []string{"api.example.com", "auth.example.com"}}
			mod(&c)
			return c.Validate(true)
		}
	}
	cases["credential description"] = cred(func(c *Credential) { c.Description = empty })
	cases["header"] = cred(func(c *Credential) { c.Header = empty })
	cases["query_param"] = cred(func(c *Credential) { c.QueryParam = empty })
	cases["rotation_period"] = cred(func(c *Credential) { c.RotationPeriod = empty })
	cases["username"] = cred(func(c *Credential) { c.Type = CredBasic; c.Username = empty })
	cases["client_id"] = cred(func(c *Credential) {
		c.Type, c.TokenURL, c.ClientID = CredOAuth2Client, ptr("https://auth.example.com/token"), empty
	})
	cases["token_url"] = cred(func(c *Credential) { c.Type, c.TokenURL, c.ClientID = CredOAuth2Client, empty, ptr("id") })
	mon := func(mod func(*Monitor)) func() []FieldError {
		return func() []FieldError { m := validMonitor(mod); return m.Validate() }
	}
	cases["interval"] = mon(func(m *Monitor) { m.Interval = empty })
	cases["timeout"] = mon(func(m *Monitor) { m.Timeout = empty })
	cases["degraded_response_time"] = mon(func(m *Monitor) { m.DegradedResponseTime = empty })
	cases["request.method"] = mon(func(m *Monitor) { m.Request = &MonitorRequest{Method: empty} })
	cases["request.path"] = mon(func(m *Monitor) { m.Request = &MonitorRequest{Path: empty} })
	cases["request.body"] = mon(func(m *Monitor) { m.Request = &MonitorRequest{Body: empty} })
	cases["request.credential_id"] = mon(func(m *Monitor) { m.Request = &MonitorRequest{CredentialID: empty} })
	cases["request.tls.ca_cert"] = mon(func(m *Monitor) { m.Request = &MonitorRequest{TLS: &MonitorTLS{CACert: empty}} })
	cases["request.tls.server_name"] = mon(func(m *Monitor) { m.Request = &MonitorRequest{TLS: &MonitorTLS{ServerName: empty}} })
	cases["assertions.0.property"] = mon(func(m *Monitor) {
		m.Assertions = []Assertion{{Source: SourceHeader, Property: empty, Comparison: CmpNotEmpty}}
	})
	cases["assertions.0.target"] = mon(func(m *Monitor) {
		m.Assertions = []Assertion{{Source: SourceTextBody, Comparison: CmpContains, Target: empty}}
	})
	cases["retry_strategy.base_backoff"] = mon(func(m *Monitor) { m.Retry = &RetryStrategy{Type: RetryFixed, BaseBackoff: empty} })
	cases["retry_strategy.max_backoff"] = mon(func(m *Monitor) { m.Retry = &RetryStrategy{Type: RetryFixed, MaxBackoff: empty} })

	for name, validate := range cases {
		field := strings.TrimPrefix(name, "credential ")
		errs := validate()
		if len(errs) != 1 || errs[0].Field != field || errs[0].Message != EmptyMessage {
			t.Errorf("%s = \"\": got %+v, want one error on %s: %q", name, errs, field, EmptyMessage)
		}
	}
}

// TestControlCharacters checks which characters names and descriptions
// refuse: every C0 and C1 control and the bidirectional overrides, except
// that descriptions keep tab, line feed and CRLF.
func TestControlCharacters(t *testing.T) {
	refusedEverywhere := []string{"\x00", "\x1b[31m", "\x07", "\x7f", "\u0085", "\u009b", "\r",
		"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}
	for _, c := range refusedEverywhere {
		e := Endpoint{Name: "pay" + c + "ments", URL: "https://x.example.com/", Description: ptr("a" + c + "b")}
		got := fieldMessages(e.Validate())
		if got["name"] != ControlMessage {
			t.Errorf("name with %q: got %q, want %q", c, got["name"], ControlMessage)
		}
		if got["description"] != MultilineControlMessage {
			t.Errorf("description with %q: got %q, want %q", c, got["description"], MultilineControlMessage)
		}
		cr := Credential{Name: "c" + c, Type: CredAPIKey, Secret: ptr("s"), Description: ptr(c)}
		if got := fieldMessages(cr.Validate(true)); got["name"] != ControlMessage || got["description"] != MultilineControlMessage {
			t.Errorf("credential with %q: got %v", c, got)
		}
		m := validMonitor(func(m *Monitor) { m.Name = c + "m" })
		if got := fieldMessages(m.Validate()); got["name"] != ControlMessage {
			t.Errorf("monitor name with %q: got %v", c, got)
		}
		o := Endpoint{Name: "e", URL: "https://x.example.com/", Owner: ptr("team" + c)}
		if got := fieldMessages(o.Validate()); got["owner"] != ControlMessage {
			t.Errorf("owner with %q: got %v", c, got)
		}
	}
	for _, ok := range []string{"line one\nline two", "tab\tseparated", "windows\r\nline", "ünïcødé – “quotes” ✓", "right-to-left: שלום"} {
		e := Endpoint{Name: "e", URL: "https://x.example.com/", Description: ptr(ok)}
		if errs := e.Validate(); len(errs) > 0 {
			t.Errorf("description %q refused: %v", ok, errs)
		}
	}
	// A request body and an assertion target are data, not text shown to
	// people: they may hold any character.
	m := validMonitor(func(m *Monitor) {
		m.Request = &MonitorRequest{Body: ptr("\x00\x1b binary")}
		m.Assertions = []Assertion{{Source: SourceTextBody, Comparison: CmpContains, Target: ptr("\x1b")}}
	})
	if errs := m.Validate(); len(errs) > 0 {
		t.Errorf("body or target with control characters refused: %v", errs)
	}
}
