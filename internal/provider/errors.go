package provider

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// addClientError is the one place where client errors become diagnostics.
// Each layer adds its context once: aiod says what is wrong (the problem's
// detail and field errors), the client names the call only when there was
// no answer (a TransportError), and this function adds the one sentence
// that says what to do. Field errors from the API land on the attribute
// they name (the API's field names are the attribute names).
func addClientError(diags *diag.Diagnostics, summary string, err error) {
	var apiErr *client.APIError
	var transportErr *client.TransportError
	switch {
	case errors.As(err, &apiErr) && len(apiErr.FieldErrors) > 0:
		// The field messages say it all; the problem's detail ("the
		// request has invalid fields", "the endpoint name is taken") would
		// only repeat them.
		for _, fe := range apiErr.FieldErrors {
			msg := fmt.Sprintf("%s (%s)", fe.Message, apiErr.StatusLine())
			if fe.Field != "" {
				msg = fe.Field + ": " + msg
			}
			if p, ok := fieldPath(fe.Field); ok {
				diags.AddAttributeError(p, summary, msg)
			} else {
				diags.AddError(summary, msg)
			}
		}
	case errors.Is(err, client.ErrPreconditionFailed):
		diags.AddError(summary, "Run plan again: it was made from an older revision.\n\n"+err.Error())
	case errors.Is(err, client.ErrUnauthorized):
		diags.AddError(summary, "aiod refused the token: check the provider's token or AIO_TOKEN.\n\n"+err.Error())
	case errors.Is(err, client.ErrForbidden):
		diags.AddError(summary, "The token's role may not do this: configuration changes need an editor or admin token.\n\n"+err.Error())
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests:
		diags.AddError(summary, "aiod is rate limiting this token and the retries ran out: run again later, "+
			"raise the provider's retry_max, or lower terraform's -parallelism.\n\n"+err.Error())
	case errors.As(err, &transportErr) && transportErr.Refused():
		diags.AddError(summary, "aiod is not reachable: check that it is running and the provider's address (or AIO_ADDR).\n\n"+err.Error())
	case errors.As(err, &transportErr) && transportErr.TimedOut():
		diags.AddError(summary, "aiod did not answer in time: check that it is healthy, or raise the provider's request_timeout.\n\n"+err.Error())
	default:
		diags.AddError(summary, err.Error())
	}
}

// mapAttributes are the attributes whose next field segment is a map key;
// listAttributes those whose next segment is a list index. The API's field
// names are the attribute names, so only these need the schema's help.
var (
	mapAttributes  = map[string]bool{"tags": true, "headers": true, "query": true}
	listAttributes = map[string]bool{"assertions": true}
	// setAttributes cannot be indexed: an error lands on the set itself.
	setAttributes = map[string]bool{"scopes": true, "status_codes": true, "allowed_hosts": true}
)

// fieldPath maps an API field path ("name", "tags.env",
// "assertions.2.target", "request.headers.x-a") to the attribute path.
func fieldPath(field string) (path.Path, bool) {
	if field == "" {
		return path.Empty(), false
	}
	segs := strings.Split(field, ".")
	if segs[0] == "" || strings.ContainsAny(segs[0], "-[ ") || segs[0] != strings.ToLower(segs[0]) {
		return path.Empty(), false
	}
	p := path.Root(segs[0])
	prev := segs[0]
	for i := 1; i < len(segs); i++ {
		seg := segs[i]
		switch {
		case mapAttributes[prev]:
			// The rest, dots included, is the key.
			return p.AtMapKey(strings.Join(segs[i:], ".")), true
		case setAttributes[prev]:
			return p, true
		case listAttributes[prev]:
			n, err := strconv.Atoi(seg)
			if err != nil {
				return p, true
			}
			p = p.AtListIndex(n)
		default:
			p = p.AtName(seg)
		}
		prev = seg
	}
	return p, true
}
