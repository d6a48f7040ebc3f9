package api

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// MaxAllowedHosts bounds how many host patterns a credential may carry.
const MaxAllowedHosts = 100

// HostPatternRule explains the allowed_hosts matching rule to a person. The
// API documentation and the provider's schema description both use it, so
// that the rule is stated once.
const HostPatternRule = "A pattern is a host name (`api.example.com`), an IPv4 address (`127.0.0.1`) or an IPv6 address in brackets (`[::1]`), " +
	"optionally followed by `:port` (`api.example.com:8443`, `[::1]:8080`). Host names compare without regard to case; " +
	"addresses compare as addresses. `*.example.com` matches every name below `example.com` at any depth (`a.example.com`, `a.b.example.com`) " +
	"but not `example.com` itself; `*` is allowed only as the whole first label of a name with at least two more labels, " +
	"and not directly above a public suffix (`*.com`, `*.co.uk`, `*.herokuapp.com`, `*.github.io`), where anyone can register a name. " +
	"A pattern without a port matches every port of the host; with a port, only that port (a URL without a port uses 80 for `http` and 443 for `https`). " +
	PlaintextRule

// PlaintextRule explains the scheme of an allowed_hosts entry: when a
// secret may travel over plain http. It is part of HostPatternRule.
const PlaintextRule = "A pattern without a scheme (or with `https://`, which means the same) lets the secret go to the host over https only: " +
	"a probe never sends it over plain `http`, nor after a redirect to plain `http`, and fails instead with an error naming the host and port, " +
	"unless the connection's address is a loopback address (`127.0.0.0/8`, `::1`), where cleartext never leaves the machine. " +
	"To allow plain `http` to another host, list it with an `http://` prefix (`http://legacy.internal:8080`), " +
	"an explicit opt-in that plans show; such an entry allows the host over https as well."

// hostPattern is a parsed allowed_hosts entry.
type hostPattern struct {
	// name is the lower-case host name, without the "*." of a wildcard;
	// empty for an address.
	name     string
	wildcard bool
	ip       net.IP
	// port is "" for any port.
	port string
	// plaintext is set by an "http://" prefix: the secret may go to the
	// host over plain http too.
	plaintext bool
}

// parseHostPattern reads one allowed_hosts entry, or says what is wrong.
func parseHostPattern(s string) (hostPattern, error) {
	var p hostPattern
	if s == "" {
		return p, fmt.Errorf("must not be empty")
	}
	if len(s) > MaxShortText {
		return p, fmt.Errorf("must be at most %d characters", MaxShortText)
	}
	// A scheme is the only part of a URL an entry may have: "http://"
	// opts in to plain http, "https://" is the default spelled out.
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "http://"):
		p.plaintext = true
		s = s[len("http://"):]
	case strings.HasPrefix(lower, "https://"):
		s = s[len("https://"):]
	}
	if s == "" {
		return p, fmt.Errorf("must name a host after the scheme, as in http://legacy.internal:8080")
	}
	if i := strings.Index(s, "://"); i >= 0 {
		return p, fmt.Errorf("may only have the scheme http:// or https://, not %q", s[:i+3])
	}
	if strings.ContainsAny(s, "/@?# \t") {
		return p, fmt.Errorf("must be a host with an optional port and an optional http:// or https:// in front, not a URL: leave out the user, path and query")
	}
	host := s
	switch {
	case strings.HasPrefix(s, "["):
		// A bracketed IPv6 address, with or without a port.
		end := strings.Index(s, "]")
		if end < 0 {
			return p, fmt.Errorf("has an opening '[' without ']'")
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return p, fmt.Errorf("may only have ':port' after ']'")
			}
			p.port = rest[1:]
			if p.port == "" {
				return p, fmt.Errorf("has ':' without a port")
			}
		}
		p.ip = net.ParseIP(host)
		if p.ip == nil || p.ip.To4() != nil || strings.Contains(host, "%") {
			return p, fmt.Errorf("must hold an IPv6 address between '[' and ']', as in [::1]")
		}
	case strings.Count(s, ":") > 1:
		return p, fmt.Errorf("an IPv6 address must be in brackets, as in [::1] or [::1]:8080")
	default:
		if i := strings.LastIndex(s, ":"); i >= 0 {
			host, p.port = s[:i], s[i+1:]
			if p.port == "" {
				return p, fmt.Errorf("has ':' without a port")
			}
		}
		if ip := net.ParseIP(host); ip != nil {
			p.ip = ip
			break
		}
		if rest, ok := strings.CutPrefix(host, "*."); ok {
			p.wildcard = true
			host = rest
			if net.ParseIP(host) != nil {
				return p, fmt.Errorf("a wildcard covers host names, not addresses")
			}
			if strings.Count(host, ".") < 1 {
				return p, fmt.Errorf("a wildcard must cover a name of at least two labels, as in *.example.com")
			}
		}
		if err := checkHostName(host); err != nil {
			return p, err
		}
		p.name = strings.ToLower(host)
	}
	if p.port != "" {
		n, err := strconv.Atoi(p.port)
		if err != nil || n < 1 || n > 65535 || p.port != strconv.Itoa(n) {
			return p, fmt.Errorf("port must be a number from 1 to 65535")
		}
	}
	return p, nil
}

// checkHostName checks a DNS name: dot-separated labels of letters,
// digits, '-' and '_' (service names), none empty or longer than 63.
func checkHostName(h string) error {
	if h == "" || len(h) > 253 {
		return fmt.Errorf("must name a host, as in api.example.com")
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("must be a host name of non-empty dot-separated labels of at most 63 characters (no trailing dot)")
		}
		for _, r := range label {
			ok := r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
			if !ok {
				if r == '*' {
					return fmt.Errorf("'*' is allowed only as the whole first label, as in *.example.com")
				}
				return fmt.Errorf("must be a host name (letters, digits, '-', '_' and '.'), an IPv4 address or an IPv6 address in brackets")
			}
		}
	}
	return nil
}

// ValidateHostPattern checks one allowed_hosts entry: its syntax, and that a
// wildcard does not sit directly above a public suffix.
func ValidateHostPattern(field, s string) []FieldError {
	p, err := parseHostPattern(s)
	if err == nil && p.wildcard {
		err = checkWildcardOwner(p.name)
	}
	if err != nil {
		return []FieldError{{Field: field, Message: err.Error()}}
	}
	return nil
}

// wildcardProbeLabel stands for "any label" when asking the public suffix
// list whether a rule covers the names directly below a domain. It is no
// real name, so no exception rule ("!city.kawasaki.jp") can match it.
const wildcardProbeLabel = "aio-any-label"

// checkWildcardOwner refuses a wildcard "*.name" when the names it covers
// are open to registration by anyone: when name is itself a public suffix
// (ICANN's, as com or co.uk, or a private one, as herokuapp.com or
// github.io), or when a wildcard rule of the list makes every name directly
// below it one (*.compute-1.amazonaws.com). Such a pattern would let the
// secret go to a host anybody can create, so it means "any host" and is no
// binding at all. The list is the one compiled into golang.org/x/net, so
// this check is made when a pattern is written, not when it is matched: a
// newer list must not silently disable a credential that was stored under
// an older one.
func checkWildcardOwner(name string) error {
	if ps, _ := publicsuffix.PublicSuffix(name); ps == name {
		return fmt.Errorf("must not be a wildcard directly under the public suffix %s, where anyone can register a name: list the hosts themselves, as in app.%s", name, name)
	}
	below := wildcardProbeLabel + "." + name
	if ps, _ := publicsuffix.PublicSuffix(below); ps == below {
		return fmt.Errorf("must not be a wildcard over %s, every name directly under which is a public suffix where anyone can register a name: list the hosts themselves", name)
	}
	return nil
}

// ValidateAllowedHosts checks a credential's allowed_hosts: a non-empty set
// of valid patterns. Entries are reported as allowed_hosts.<index>, the way
// other list members are.
func ValidateAllowedHosts(field string, hosts []string) []FieldError {
	if len(hosts) == 0 {
		return []FieldError{{Field: field, Message: "is required: list the hosts the secret may be sent to, as in [\"api.example.com\"]"}}
	}
	var errs []FieldError
	if len(hosts) > MaxAllowedHosts {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf("must hold at most %d patterns", MaxAllowedHosts)})
	}
	seen := map[string]bool{}
	for i, h := range hosts {
		f := fmt.Sprintf("%s.%d", field, i)
		errs = append(errs, ValidateHostPattern(f, h)...)
		// "https://" is the default spelled out: with and without it,
		// an entry is the same one.
		key := h
		if strings.HasPrefix(strings.ToLower(key), "https://") {
			key = key[len("https://"):]
		}
		if seen[key] {
			errs = append(errs, FieldError{Field: f, Message: "is repeated; allowed_hosts is a set (an entry with https:// is the same as one without)"})
		}
		seen[key] = true
	}
	return errs
}

// matches tells whether the pattern covers host (a lower-case name without
// a trailing dot, or an address) and port.
func (p hostPattern) matches(host string, ip net.IP, port string) bool {
	if p.port != "" && p.port != port {
		return false
	}
	switch {
	case p.ip != nil:
		return ip != nil && p.ip.Equal(ip)
	case ip != nil:
		return false
	case p.wildcard:
		return strings.HasSuffix(host, "."+p.name)
	}
	return host == p.name
}

// HostPort is the host and port a URL reaches, as allowed_hosts sees them:
// the lower-case host name without a trailing dot (or the address) and the
// port, the scheme's default when the URL names none. It is what error
// messages show, as in "api.example.com:443" or "[::1]:8080".
func HostPort(u *url.URL) string {
	host, port := hostAndPort(u)
	return net.JoinHostPort(host, port)
}

func hostAndPort(u *url.URL) (string, string) {
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return host, port
}

// HostsAllow tells whether one of the patterns allows a request to u.
// Invalid patterns (which the API never stores) allow nothing; an empty
// list allows nothing, so that a credential without hosts is sent nowhere.
func HostsAllow(patterns []string, u *url.URL) bool {
	host, port := hostAndPort(u)
	return HostsAllowHostPort(patterns, host, port)
}

// HostsAllowHostPort is HostsAllow for a host name (or address) and a port
// given apart, as for a Host header or a TLS server name.
func HostsAllowHostPort(patterns []string, host, port string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return false
	}
	ip := net.ParseIP(host)
	for _, s := range patterns {
		p, err := parseHostPattern(s)
		if err == nil && p.matches(host, ip, port) {
			return true
		}
	}
	return false
}

// AllowsURL tells whether the credential may be sent to raw (an absolute
// URL); it returns the host:port compared, for error messages. A URL that
// does not parse is not allowed.
func (c *Credential) AllowsURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw, false
	}
	return HostPort(u), HostsAllow(c.AllowedHosts, u)
}

// HostsAllowPlaintext tells whether an "http://" entry of patterns covers
// host and port: whether the secret may go there over plain http to an
// address that is not loopback (see PlaintextRule).
func HostsAllowPlaintext(patterns []string, host, port string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return false
	}
	ip := net.ParseIP(host)
	for _, s := range patterns {
		p, err := parseHostPattern(s)
		if err == nil && p.plaintext && p.matches(host, ip, port) {
			return true
		}
	}
	return false
}

// IsLoopbackHost tells whether host (a name or an address, brackets
// allowed) is a loopback address literal. Names, "localhost" included,
// are not: what they resolve to is known only when a probe connects,
// and the probe judges the address it connected to.
func IsLoopbackHost(host string) bool {
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// PlaintextRefusedMessage is the error of a secret that would have gone
// over plain http to hostPort (see PlaintextRule); what says on whose
// behalf, as in " for its OAuth2 token_url", or is empty.
func PlaintextRefusedMessage(credID, hostPort, what string) string {
	return fmt.Sprintf("credential %s may not be sent over plain http to %s%s; add http://%s to allowed_hosts to allow it", credID, hostPort, what, hostPort)
}

// covers tells whether every host and port p matches, q matches too. It
// judges a new allowed_hosts entry against the old ones: an entry that an
// old one already covers (`a.example.com` under `*.example.com`, or
// `api.example.com:8443` under `api.example.com`) sends the secret nowhere
// new.
func (q hostPattern) covers(p hostPattern) bool {
	// Plain http is a destination of its own: "http://a.example.com"
	// widens "a.example.com".
	if p.plaintext && !q.plaintext {
		return false
	}
	if q.port != "" && q.port != p.port {
		return false
	}
	switch {
	case q.ip != nil:
		return p.ip != nil && q.ip.Equal(p.ip)
	case p.ip != nil:
		return false
	case q.wildcard:
		return strings.HasSuffix(p.name, "."+q.name) || (p.wildcard && p.name == q.name)
	}
	return !p.wildcard && p.name == q.name
}

// WidenedHosts returns the entries of next that no entry of old covers:
// the hosts (or ports) a secret bound to next could reach and one bound to
// old could not. Nothing is returned for an unchanged or narrowed set. An
// entry that does not parse counts as a widening, so that the answer errs
// on the side of asking for the secret.
func WidenedHosts(old, next []string) []string {
	var olds []hostPattern
	for _, s := range old {
		if q, err := parseHostPattern(s); err == nil {
			olds = append(olds, q)
		}
	}
	var out []string
	for _, s := range next {
		p, err := parseHostPattern(s)
		if err != nil || !slices.ContainsFunc(olds, func(q hostPattern) bool { return q.covers(p) }) {
			out = append(out, s)
		}
	}
	return out
}
