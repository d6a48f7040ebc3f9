package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// A credential's allowed_hosts bind its secret to the hosts it is meant
// for. The probe checks them on every request it makes (the real guard);
// the API checks them too, on every path by which an editor could point a
// credential at a host it does not allow, so that the mistake is a 400 on
// the field at apply time instead of a monitor that is down:
//
//   - an endpoint's credential_id and url, against the endpoint's URL;
//   - a monitor's request.credential_id, against its endpoint's URL (a
//     monitor can change only the path, not the host);
//   - a monitor's request.headers.host and request.tls.server_name, which
//     choose the virtual host at the far end, against the credential the
//     monitor uses (its own or its endpoint's);
//   - plain http: an endpoint URL with the http scheme needs an
//     "http://" entry for its host and port (api.PlaintextRule), unless
//     the host is a loopback address or "localhost". The probe judges the
//     address it actually connects to; this check only catches the
//     mistake early, since the API cannot know what a name resolves to;
//   - a change of allowed_hosts, against everything that uses the
//     credential. That refusal is a 400 on allowed_hosts naming the users,
//     like any invalid value, rather than the 409 of a delete that others
//     still reference: the request, not the state, is what must change.

// destination is a host and port a probe sends a credential to, and the
// field of the endpoint or monitor that chose it.
type destination struct {
	field      string
	host, port string
	// plain is set for the URL's own host and port when the scheme is
	// http: the connection the secret would cross in cleartext.
	plain bool
	// cleartext is set by refused on a destination whose host is
	// allowed but not over plain http, for the message.
	cleartext bool
}

func (d destination) String() string { return net.JoinHostPort(d.host, d.port) }

// label is d as a refusal names it: with "http://" in front when what is
// missing is the opt-in to plain http.
func (d destination) label() string {
	if d.cleartext {
		return "http://" + d.String()
	}
	return d.String()
}

// destinations lists where a probe of monitor m (nil for the endpoint
// alone) on endpoint ep sends its credential.
func destinations(ep api.Endpoint, m *api.Monitor) []destination {
	u, err := url.Parse(ep.URL)
	if err != nil || u.Hostname() == "" {
		return nil
	}
	hp := api.HostPort(u)
	host, port, _ := net.SplitHostPort(hp)
	out := []destination{{field: "url", host: host, port: port, plain: strings.EqualFold(u.Scheme, "http")}}
	if m == nil || m.Request == nil {
		return out
	}
	if h, ok := m.Request.Headers["host"]; ok {
		hh, hport := h, port
		if sh, sp, err := net.SplitHostPort(h); err == nil {
			hh, hport = sh, sp
		}
		out = append(out, destination{field: "request.headers.host", host: strings.ToLower(hh), port: hport})
	}
	if t := m.Request.TLS; t != nil && t.ServerName != nil && *t.ServerName != "" {
		out = append(out, destination{field: "request.tls.server_name", host: strings.ToLower(*t.ServerName), port: port})
	}
	return out
}

// refused returns the destinations the credential does not allow.
func refused(c api.Credential, ds []destination) []destination {
	var out []destination
	for _, d := range ds {
		switch {
		case !api.HostsAllowHostPort(c.AllowedHosts, d.host, d.port):
			out = append(out, d)
		case refusedPlaintext(c, d):
			d.cleartext = true
			out = append(out, d)
		}
	}
	return out
}

// refusedPlaintext tells whether d is plain http that the credential does
// not opt in to. Loopback addresses and "localhost", where the cleartext
// stays on the machine, need no opt-in, as at the probe.
func refusedPlaintext(c api.Credential, d destination) bool {
	return d.plain && !api.IsLoopbackHost(d.host) && d.host != "localhost" &&
		!api.HostsAllowPlaintext(c.AllowedHosts, d.host, d.port)
}

// notAllowed is the message of a refused destination.
func notAllowed(credID string, d destination, what string) string {
	if d.cleartext {
		return api.PlaintextRefusedMessage(credID, d.String(), what)
	}
	return fmt.Sprintf("credential %s is not allowed for host %s (allowed_hosts)%s; add the host to the credential's allowed_hosts or use another credential",
		credID, d, what)
}

// getCredentialOrNil reads a credential; a missing one (reported by
// checkCredentialRef) is nil.
func getCredentialOrNil(ctx context.Context, r store.Reader, id *string) (*api.Credential, error) {
	if id == nil {
		return nil, nil
	}
	c, err := r.GetCredential(ctx, *id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c.Credential, nil
}

// checkEndpointHosts refuses an endpoint (cur is nil on create) whose
// credential does not allow its URL, or whose new URL or credential
// breaks one of its monitors. The error is on url when the URL changed and
// the credential did not, on credential_id otherwise.
func checkEndpointHosts(ctx context.Context, r store.Reader, cur *api.Endpoint, next api.Endpoint) error {
	urlChanged := cur == nil || cur.URL != next.URL
	credChanged := cur == nil || !eqPtr(cur.CredentialID, next.CredentialID)
	if !urlChanged && !credChanged {
		return nil
	}
	field := "credential_id"
	if cur != nil && urlChanged && !credChanged {
		field = "url"
	}
	var errs []api.FieldError
	cred, err := getCredentialOrNil(ctx, r, next.CredentialID)
	if err != nil {
		return err
	}
	if cred != nil {
		for _, d := range refused(*cred, destinations(next, nil)) {
			errs = append(errs, api.FieldError{Field: field, Message: notAllowed(cred.ID, d, "")})
		}
	}
	if cur != nil {
		monIDs, err := r.EndpointReferrers(ctx, next.ID)
		if err != nil {
			return err
		}
		for _, id := range monIDs {
			m, err := r.GetMonitor(ctx, id)
			if err != nil {
				return err
			}
			mc := cred
			if m.Request != nil && m.Request.CredentialID != nil {
				if mc, err = getCredentialOrNil(ctx, r, m.Request.CredentialID); err != nil {
					return err
				}
			}
			if mc == nil {
				continue
			}
			for _, d := range refused(*mc, destinations(next, &m)) {
				if d.field == "url" && mc == cred {
					continue // the endpoint's own check reports it
				}
				errs = append(errs, api.FieldError{Field: field, Message: notAllowed(mc.ID, d, " as monitor "+m.ID+" would send it")})
			}
		}
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	return nil
}

// checkMonitorHosts refuses a monitor (cur is nil on create) whose
// credential, its own or its endpoint's, does not allow where the monitor
// sends it. Unchanged monitors are not checked again: the probe still
// refuses to send the secret if the data changed underneath.
func checkMonitorHosts(ctx context.Context, r store.Reader, cur *api.Monitor, next api.Monitor) error {
	if cur != nil && cur.EndpointID == next.EndpointID && sameJSON(cur.Request, next.Request) {
		return nil
	}
	ep, err := r.GetEndpoint(ctx, next.EndpointID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // reported by checkMonitorRefs
	} else if err != nil {
		return err
	}
	credID := ep.CredentialID
	own := next.Request != nil && next.Request.CredentialID != nil
	if own {
		credID = next.Request.CredentialID
	}
	cred, err := getCredentialOrNil(ctx, r, credID)
	if err != nil || cred == nil {
		return err
	}
	var errs []api.FieldError
	for _, d := range refused(*cred, destinations(ep, &next)) {
		field := d.field
		if field == "url" {
			field = "endpoint_id"
			if own && (cur == nil || cur.EndpointID == next.EndpointID || cur.Request == nil ||
				!eqPtr(cur.Request.CredentialID, next.Request.CredentialID)) {
				field = "request.credential_id"
			}
		}
		errs = append(errs, api.FieldError{Field: field, Message: notAllowed(cred.ID, d, "")})
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	return nil
}

// checkCredentialNarrowing refuses allowed_hosts that no longer allow what
// uses the credential: its endpoints (and their monitors without a
// credential of their own) and the monitors that name it.
func checkCredentialNarrowing(ctx context.Context, r store.Reader, next api.Credential) error {
	ids, err := r.CredentialReferrers(ctx, next.ID)
	if err != nil {
		return err
	}
	var broken []string
	for _, id := range ids {
		var ds []destination
		switch {
		case strings.HasPrefix(id, api.PrefixEndpoint):
			ep, err := r.GetEndpoint(ctx, id)
			if err != nil {
				return err
			}
			ds = destinations(ep, nil)
			monIDs, err := r.EndpointReferrers(ctx, id)
			if err != nil {
				return err
			}
			for _, mid := range monIDs {
				m, err := r.GetMonitor(ctx, mid)
				if err != nil {
					return err
				}
				if m.Request != nil && m.Request.CredentialID == nil {
					for _, d := range refused(next, destinations(ep, &m)) {
						if d.field == "url" {
							continue // reported for the endpoint
						}
						broken = append(broken, fmt.Sprintf("%s (%s)", mid, d.label()))
					}
				}
			}
		case strings.HasPrefix(id, api.PrefixMonitor):
			m, err := r.GetMonitor(ctx, id)
			if err != nil {
				return err
			}
			ep, err := r.GetEndpoint(ctx, m.EndpointID)
			if err != nil {
				return err
			}
			ds = destinations(ep, &m)
		}
		for _, d := range refused(next, ds) {
			broken = append(broken, fmt.Sprintf("%s (%s)", id, d.label()))
		}
	}
	if len(broken) > 0 {
		return invalid([]api.FieldError{{Field: "allowed_hosts", Message: "these allowed_hosts no longer allow what uses this credential: " +
			strings.Join(broken, ", ") + "; point them elsewhere first or keep their hosts"}})
	}
	return nil
}
