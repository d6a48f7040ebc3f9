package api

import (
	"net/url"
	"slices"
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
		"_svc.example.com", "localhost", "Mixed.Case.example", "http://legacy.internal:8080", "https://api2.example.com",
		"HTTP://legacy2.internal", "http://[::1]:8080", "http://*.legacy.example", "http://10.0.0.5"}
	if errs := ValidateAllowedHosts("allowed_hosts", good); errs != nil {
		t.Errorf("valid patterns refused: %v", errs)
	}
	bad := []string{"", "*", "*.com", "a.*.example.com", "*example.com", "https://api.example.com/", "api.example.com/",
		"http://", "https://", "ftp://api.example.com", "http://https://api.example.com", "http://api.example.com/x", "http://user@api.example.com",
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
	errs = ValidateAllowedHosts("allowed_hosts", []string{"a.example", "https://a.example"})
	if len(errs) != 1 || errs[0].Field != "allowed_hosts.1" {
		t.Errorf("a pattern repeated with https://: %v", errs)
	}
	if errs := ValidateAllowedHosts("allowed_hosts", []string{"a.example", "http://a.example"}); errs != nil {
		t.Errorf("an http:// entry beside the same host is no repetition: %v", errs)
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

// TestPlaintextEntries: an entry without a scheme, or with https://, allows
// the host but not plain http; an http:// entry allows both, for its host
// and port only.
func TestPlaintextEntries(t *testing.T) {
	hosts := []string{"api.example.com", "https://secure.example.com", "http://legacy.internal:8080", "http://*.old.example"}
	for _, c := range []struct {
		raw          string
		allow, plain bool
	}{
		{"https://api.example.com/", true, false},
		{"http://api.example.com/", true, false},
		{"https://secure.example.com/", true, false},
		{"http://secure.example.com/", true, false},
		{"http://legacy.internal:8080/", true, true},
		{"https://legacy.internal:8080/", true, true},
		{"http://legacy.internal/", false, false},
		{"http://legacy.internal:8081/", false, false},
		{"http://a.b.old.example/", true, true},
		{"http://old.example/", false, false},
	} {
		u, _ := url.Parse(c.raw)
		host, port := hostAndPort(u)
		if got := HostsAllow(hosts, u); got != c.allow {
			t.Errorf("HostsAllow(%s) = %v, want %v", c.raw, got, c.allow)
		}
		if got := HostsAllowPlaintext(hosts, host, port); got != c.plain {
			t.Errorf("HostsAllowPlaintext(%s) = %v, want %v", c.raw, got, c.plain)
		}
	}
	if !IsLoopbackHost("127.0.0.2") || !IsLoopbackHost("[::1]") || IsLoopbackHost("localhost") || IsLoopbackHost("10.0.0.1") {
		t.Error("IsLoopbackHost judges wrongly")
	}
}

// TestPlaintextEntryWidens: an http:// entry lets the secret travel in
// cleartext where it could not before, so it widens allowed_hosts (and an
// update adding it must carry the secret), exactly as a new host does.
// Spelling out https:// changes nothing.
func TestPlaintextEntryWidens(t *testing.T) {
	for _, c := range []struct {
		old, next []string
		want      []string
	}{
		{[]string{"api.example.com"}, []string{"http://api.example.com"}, []string{"http://api.example.com"}},
		{[]string{"api.example.com"}, []string{"api.example.com", "http://api.example.com:8080"}, []string{"http://api.example.com:8080"}},
		{[]string{"*.example.com"}, []string{"http://a.example.com"}, []string{"http://a.example.com"}},
		{[]string{"api.example.com"}, []string{"https://api.example.com"}, nil},
		{[]string{"http://api.example.com"}, []string{"api.example.com"}, nil},
		{[]string{"http://*.example.com"}, []string{"http://a.example.com:81"}, nil},
		{[]string{"http://api.example.com:8080"}, []string{"http://api.example.com"}, []string{"http://api.example.com"}},
	} {
		if got := WidenedHosts(c.old, c.next); !slices.Equal(got, c.want) {
			t.Errorf("WidenedHosts(%q, %q) = %q, want %q", c.old, c.next, got, c.want)
		}
	}
	old := Credential{Type: CredBearer, AllowedHosts: []string{"api.example.com"}}
	next := old
	next.AllowedHosts = []string{"api.example.com", "http://api.example.com"}
	if got := old.ResendsSecret(next); !slices.Equal(got, []string{"allowed_hosts"}) {
		t.Errorf("ResendsSecret = %q, want [allowed_hosts]", got)
	}
}

// TestCredentialTokenURLPlaintext: the client secret goes in the token
// request's body, so a plain http token_url needs an http:// entry for its
// host and port, except on a loopback address.
func TestCredentialTokenURLPlaintext(t *testing.T) {
	c := Credential{Name: "c", Type: CredOAuth2Client, TokenURL: ptr("http://idp.example.net:8080/token"), ClientID: ptr("id"),
		Secret: ptr("s"), AllowedHosts: []string{"idp.example.net"}}
	got := fieldMessages(c.Validate(true))
	want := "is plain http, and the client secret is sent there in cleartext: use https, or add http://idp.example.net:8080 to allowed_hosts to allow it"
	if len(got) != 1 || got["token_url"] != want {
		t.Fatalf("errors %v, want token_url: %q", got, want)
	}
	c.AllowedHosts = []string{"http://idp.example.net:8080"}
	if errs := c.Validate(true); errs != nil {
		t.Fatalf("with the http:// entry: errors %v", errs)
	}
	c.AllowedHosts = []string{"http://idp.example.net:9090"}
	if got := fieldMessages(c.Validate(true)); len(got) != 1 || got["token_url"] == "" {
		t.Fatalf("an http:// entry for another port: errors %v, want one on token_url", got)
	}
	c.TokenURL, c.AllowedHosts = ptr("http://127.0.0.1:8080/token"), []string{"127.0.0.1"}
	if errs := c.Validate(true); errs != nil {
		t.Fatalf("loopback token_url: errors %v", errs)
	}
}
