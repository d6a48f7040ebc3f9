package api

import (
	"slices"
	"strings"
	"testing"
)

func TestWidenedHosts(t *testing.T) {
	cases := []struct {
		old, next []string
		want      []string
	}{
		{[]string{"a.example.com"}, []string{"a.example.com"}, nil},
		{[]string{"a.example.com", "b.example.com"}, []string{"b.example.com"}, nil}, // narrowing
		{[]string{"a.example.com"}, []string{"A.Example.com"}, nil},                  // same host, other case
		{[]string{"a.example.com"}, []string{"a.example.com", "evil.example"}, []string{"evil.example"}},
		{[]string{"*.example.com"}, []string{"a.example.com", "*.b.example.com"}, nil}, // covered by the wildcard
		{[]string{"*.example.com"}, []string{"*.example.com:8443"}, nil},
		{[]string{"*.b.example.com"}, []string{"*.example.com"}, []string{"*.example.com"}},
		{[]string{"a.example.com"}, []string{"*.example.com"}, []string{"*.example.com"}},
		{[]string{"example.com"}, []string{"*.example.com"}, []string{"*.example.com"}},
		{[]string{"a.example.com:443"}, []string{"a.example.com"}, []string{"a.example.com"}}, // a port dropped
		{[]string{"a.example.com:443"}, []string{"a.example.com:8443"}, []string{"a.example.com:8443"}},
		{[]string{"a.example.com"}, []string{"a.example.com:8443"}, nil},
		{[]string{"127.0.0.1"}, []string{"127.0.0.2"}, []string{"127.0.0.2"}},
		{[]string{"[::1]"}, []string{"[::1]:8080"}, nil},
		{[]string{"*.example.com"}, []string{"127.0.0.1"}, []string{"127.0.0.1"}},
		{nil, []string{"a.example.com"}, []string{"a.example.com"}}, // a credential sent nowhere
		{[]string{"a.example.com"}, []string{"not a host"}, []string{"not a host"}},
	}
	for _, c := range cases {
		if got := WidenedHosts(c.old, c.next); !slices.Equal(got, c.want) {
			t.Errorf("WidenedHosts(%q, %q) = %q, want %q", c.old, c.next, got, c.want)
		}
	}
}

func TestResendsSecret(t *testing.T) {
	p := func(s string) *string { return &s }
	key := Credential{Type: CredAPIKey, AllowedHosts: []string{"api.example.com"}}
	oauth := Credential{Type: CredOAuth2Client, AllowedHosts: []string{"idp.example.com", "api.example.com"},
		TokenURL: p("https://idp.example.com/token"), ClientID: p("c1"), Scopes: []string{"read"}}
	basic := Credential{Type: CredBasic, AllowedHosts: []string{"api.example.com"}, Username: p("svc")}
	with := func(c Credential, f func(*Credential)) Credential { f(&c); return c }
	cases := []struct {
		name      string
		old, next Credential
		want      []string
	}{
		{"unchanged", key, key, nil},
		{"metadata only", key, with(key, func(c *Credential) {
			c.Name, c.Description, c.RotationPeriod = "other", p("d"), p("720h")
		}), nil},
		{"narrowed", oauth, with(oauth, func(c *Credential) { c.AllowedHosts = []string{"idp.example.com"} }), nil},
		{"widened", key, with(key, func(c *Credential) { c.AllowedHosts = append(c.AllowedHosts, "evil.example") }), []string{"allowed_hosts"}},
		{"default header named", key, with(key, func(c *Credential) { c.Header = p(DefaultAPIKeyHeader) }), nil},
		{"header renamed", key, with(key, func(c *Credential) { c.Header = p("x-other") }), []string{"header"}},
		{"header to query", with(key, func(c *Credential) { c.Header = p("x-k") }),
			with(key, func(c *Credential) { c.QueryParam = p("k") }), []string{"header", "query_param"}},
		{"oauth2 to bearer", oauth, Credential{Type: CredBearer, AllowedHosts: []string{"api.example.com"}}, []string{"type"}},
		{"token url", oauth, with(oauth, func(c *Credential) { c.TokenURL = p("https://idp.example.com/other") }), []string{"token_url"}},
		{"client id", oauth, with(oauth, func(c *Credential) { c.ClientID = p("c2") }), []string{"client_id"}},
		{"scopes", oauth, with(oauth, func(c *Credential) { c.Scopes = []string{"read", "write"} }), nil},
		{"username", basic, with(basic, func(c *Credential) { c.Username = p("root") }), []string{"username"}},
		{"widened and retyped", key, Credential{Type: CredBearer, AllowedHosts: []string{"*.example.com"}}, []string{"allowed_hosts", "type"}},
	}
	for _, c := range cases {
		if got := c.old.ResendsSecret(c.next); !slices.Equal(got, c.want) {
			t.Errorf("%s: ResendsSecret = %q, want %q", c.name, got, c.want)
		}
	}
	msg := ResendsSecretMessage([]string{"allowed_hosts", "type", "token_url"})
	if !strings.Contains(msg, "widens allowed_hosts and changes type, token_url") {
		t.Errorf("message %q does not name the changes", msg)
	}
}
