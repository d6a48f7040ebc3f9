package api

import (
	"net/url"
	"strings"
	"testing"
)

func TestHostPatternMatching(t *testing.T) {
	cases := []struct {
		pattern, url string
		want         bool
	}{
		{"api.example.com", "https://api.example.com/v1", true},
		{"api.example.com", "https://API.Example.COM/v1", true},
		{"API.example.com", "https://api.example.com/v1", true},
		{"api.example.com", "https://api.example.com./v1", true},
		{"api.example.com", "https://api.example.com:8443/", true}, // no port: any port
		{"api.example.com", "https://evil.example.com/", false},
		{"api.example.com", "https://api.example.com.evil.net/", false},
		{"api.example.com", "https://xapi.example.com/", false},
		{"api.example.com:8443", "https://api.example.com:8443/", true},
		{"api.example.com:8443", "https://api.example.com/", false},
		{"api.example.com:443", "https://api.example.com/", true}, // default port of https
		{"api.example.com:80", "http://api.example.com/", true},
		{"api.example.com:80", "https://api.example.com/", false},
		{"*.example.com", "https://a.example.com/", true},
		{"*.example.com", "https://a.b.example.com/", true},
		{"*.example.com", "https://example.com/", false},
		{"*.example.com", "https://badexample.com/", false},
		{"*.example.com:9000", "http://a.example.com:9000/", true},
		{"*.example.com:9000", "http://a.example.com:9001/", false},
		{"127.0.0.1", "http://127.0.0.1:8080/healthz", true},
		{"127.0.0.1:8080", "http://127.0.0.1:8081/", false},
		{"127.0.0.1", "http://localhost/", false},
		{"localhost", "http://127.0.0.1/", false},
		{"[::1]", "http://[::1]:8080/", true},
		{"[::1]:8080", "http://[::1]:8080/", true},
		{"[::1]:8080", "http://[0:0::1]:8080/", true},
		{"[::1]:8080", "http://[::1]:9090/", false},
		{"[::1]", "http://127.0.0.1/", false},
		{"10.0.0.1", "tcp://10.0.0.1:5432", true},
	}
	for _, c := range cases {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		if errs := ValidateHostPattern("p", c.pattern); errs != nil {
			t.Fatalf("pattern %q refused: %v", c.pattern, errs)
		}
		if got := HostsAllow([]string{c.pattern}, u); got != c.want {
			t.Errorf("%q allows %q = %v, want %v", c.pattern, c.url, got, c.want)
		}
	}
	u, _ := url.Parse("https://api.example.com/")
	if HostsAllow(nil, u) || HostsAllow([]string{}, u) {
		t.Error("an empty allowed_hosts allows a host; it must allow none")
	}
	if got := HostPort(u); got != "api.example.com:443" {
		t.Errorf("HostPort = %q", got)
	}
	u, _ = url.Parse("http://[::1]:8080/")
	if got := HostPort(u); got != "[::1]:8080" {
		t.Errorf("HostPort = %q", got)
	}
}

func TestValidateAllowedHosts(t *testing.T) {
	good := []string{"api.example.com", "*.partner.example", "api.example.com:8443", "127.0.0.1", "[::1]", "[::1]:8080",
		"_svc.example.com", "localhost", "Mixed.Case.example"}
	if errs := ValidateAllowedHosts("allowed_hosts", good); errs != nil {
		t.Errorf("valid patterns refused: %v", errs)
	}
	bad := []string{"", "*", "*.com", "a.*.example.com", "*example.com", "https://api.example.com", "api.example.com/",
		"api.example.com:", "api.example.com:0", "api.example.com:65536", "api.example.com:08", "::1", "[::1", "[127.0.0.1]",
		"[::1]x", "api..example.com", "api.example.com.", "exa mple.com", "*.127.0.0.1", "user@host"}
	for _, b := range bad {
		errs := ValidateAllowedHosts("allowed_hosts", []string{"ok.example", b})
		if len(errs) != 1 || errs[0].Field != "allowed_hosts.1" {
			t.Errorf("%q: errors %v, want one on allowed_hosts.1", b, errs)
		}
	}
	for _, empty := range [][]string{nil, {}} {
		errs := ValidateAllowedHosts("allowed_hosts", empty)
		if len(errs) != 1 || errs[0].Field != "allowed_hosts" {
			t.Errorf("%v: errors %v, want one on allowed_hosts", empty, errs)
		}
	}
	errs := ValidateAllowedHosts("allowed_hosts", []string{"a.example", "a.example"})
	if len(errs) != 1 || errs[0].Field != "allowed_hosts.1" {
		t.Errorf("repeated pattern: %v", errs)
	}
}

// TestWildcardUnderPublicSuffix: a wildcard directly above a public suffix
// (ICANN's or a private one) covers names anyone can register, so it would
// send the secret to any host there; it is refused with a message on the
// entry. Wildcards under a registrable domain stay valid.
func TestWildcardUnderPublicSuffix(t *testing.T) {
	for _, b := range []string{"*.co.uk", "*.herokuapp.com", "*.azurewebsites.net", "*.execute-api.us-east-1.amazonaws.com",
		"*.github.io", "*.s3.amazonaws.com", "*.HerokuApp.com:443", "*.compute-1.amazonaws.com"} {
		errs := ValidateAllowedHosts("allowed_hosts", []string{"ok.example", b})
		if len(errs) != 1 || errs[0].Field != "allowed_hosts.1" || !strings.Contains(errs[0].Message, "anyone can register") {
			t.Errorf("%q: errors %v, want one on allowed_hosts.1 saying anyone can register a name there", b, errs)
		}
	}
	for _, g := range []string{"*.example.co.uk", "*.myapp.herokuapp.com", "*.abc123.execute-api.us-east-1.amazonaws.com",
		"*.corp.internal", "*.svc.cluster.local", "*.partner.example", "herokuapp.com", "myapp.herokuapp.com"} {
		if errs := ValidateAllowedHosts("allowed_hosts", []string{g}); errs != nil {
			t.Errorf("%q refused: %v", g, errs)
		}
	}
	errs := ValidateHostPattern("allowed_hosts.0", "*.herokuapp.com")
	want := "must not be a wildcard directly under the public suffix herokuapp.com, where anyone can register a name: list the hosts themselves, as in app.herokuapp.com"
	if len(errs) != 1 || errs[0].Message != want {
		t.Errorf("message: %v, want %q", errs, want)
	}
}

func TestCredentialTokenURLMustBeAllowed(t *testing.T) {
	c := Credential{Name: "c", Type: CredOAuth2Client, TokenURL: ptr("https://idp.example.net/token"), ClientID: ptr("id"),
		Secret: ptr("s"), AllowedHosts: []string{"api.example.com"}}
	got := fieldMessages(c.Validate(true))
	if len(got) != 1 || got["token_url"] == "" {
		t.Fatalf("errors %v, want one on token_url", got)
	}
	c.AllowedHosts = append(c.AllowedHosts, "idp.example.net")
	if errs := c.Validate(true); errs != nil {
		t.Fatalf("errors %v", errs)
	}
}
