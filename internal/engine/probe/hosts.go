package probe

import (
	"fmt"
	"net"
	"net/url"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// refusedHost returns where the run's credential would go that its
// allowed_hosts do not allow, as host:port, or "" when it may be sent to
// u. Besides u's own host, a Host header and a TLS server name count: they
// choose the virtual host at the far end, so a shared front end (a CDN, a
// cloud load balancer) could hand the request to another tenant. The API
// refuses such monitors too; this check is what holds when the data was
// changed some other way, and it runs on the actual URL of every request.
func (r *httpRun) refusedHost(u *url.URL) string {
	c := r.t.Credential
	if c == nil {
		return ""
	}
	if !api.HostsAllow(c.AllowedHosts, u) {
		return api.HostPort(u)
	}
	_, port, _ := net.SplitHostPort(api.HostPort(u))
	if h, ok := r.headers["host"]; ok {
		host, hport := h, port
		if sh, sp, err := net.SplitHostPort(h); err == nil {
			host, hport = sh, sp
		}
		if !api.HostsAllowHostPort(c.AllowedHosts, host, hport) {
			return net.JoinHostPort(host, hport)
		}
	}
	if sn := r.serverName; sn != "" && !api.HostsAllowHostPort(c.AllowedHosts, sn, port) {
		return net.JoinHostPort(sn, port)
	}
	return ""
}

// notAllowedMessage is the error of a probe that did not send its secret.
func notAllowedMessage(credID, hostPort, what string) string {
	return fmt.Sprintf("credential %s is not allowed for host %s (allowed_hosts)%s; the secret was not sent", credID, hostPort, what)
}
