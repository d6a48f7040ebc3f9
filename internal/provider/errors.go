package provider

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// addClientError is the one place where client errors become diagnostics.
// Each layer adds its context once: aiod says what is wrong (the problem's
// detail and field errors), the client names the call only when there was
// no answer (a TransportError), and this function adds the one sentence
// that says what to do. Field errors from the API land on the attribute of
// s that they name (the API's field names are the attribute names); with s
// nil, or a field s does not have, they land on no attribute.
func addClientError(diags *diag.Diagnostics, s schemaTyper, summary string, err error) {
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
			if p, ok := fieldPath(s, fe.Field); ok {
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

// schemaTyper is any schema: a resource's or a data source's, or the one
// a plan or state carries. Its type decides where an API field error lands.
type schemaTyper interface {
	Type() attr.Type
}

// fieldPath maps an API field path ("name", "tags.env",
// "assertions.2.target", "request.headers.x-a") to the attribute path in
// s, whose attribute names are the API's field names. The schema's types
// say how to read each segment after the first: the rest of the field,
// dots included, is a map's key; a number is a list's index; a set's
// elements cannot be addressed, so the error lands on the set; any other
// segment names a nested attribute. Where the schema ends or has no
// attribute of that name, the error lands on the last attribute found; a
// field whose first segment is no attribute of s (or s nil) has no path.
func fieldPath(s schemaTyper, field string) (path.Path, bool) {
	if s == nil || field == "" {
		return path.Empty(), false
	}
	segs := strings.Split(field, ".")
	t, ok := attributeType(s.Type(), segs[0])
	if !ok {
		return path.Empty(), false
	}
	p := path.Root(segs[0])
	for i := 1; i < len(segs); i++ {
		switch t.(type) {
		case basetypes.MapTypable:
			return p.AtMapKey(strings.Join(segs[i:], ".")), true
		case basetypes.ListTypable:
			n, err := strconv.Atoi(segs[i])
			if err != nil {
				return p, true
			}
			p = p.AtListIndex(n)
			t = t.(attr.TypeWithElementType).ElementType()
		case basetypes.ObjectTypable:
			next, found := attributeType(t, segs[i])
			if !found {
				return p, true
			}
			p, t = p.AtName(segs[i]), next
		default:
			// A set, whose elements have no path, or a primitive.
			return p, true
		}
	}
	return p, true
}

// attributeType returns the type of the attribute name of an object type.
func attributeType(t attr.Type, name string) (attr.Type, bool) {
	obj, ok := t.(attr.TypeWithAttributeTypes)
	if !ok {
		return nil, false
	}
	at, ok := obj.AttributeTypes()[name]
	return at, ok
}
