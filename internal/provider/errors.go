package provider

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// addClientError is the one place where client errors become diagnostics.
// Field errors from the API land on the attribute they name (the API's
// field names are the attribute names); a stale revision says what to do.
func addClientError(diags *diag.Diagnostics, summary string, err error) {
	var apiErr *client.APIError
	switch {
	case errors.Is(err, client.ErrPreconditionFailed):
		diags.AddError(summary, "The object changed since it was read; run plan again.\n\n"+err.Error())
	case errors.As(err, &apiErr) && len(apiErr.FieldErrors) > 0:
		for _, fe := range apiErr.FieldErrors {
			msg := fmt.Sprintf("%s: %s", fe.Field, fe.Message)
			if apiErr.Detail != "" {
				msg += "\n\n" + apiErr.Detail
			}
			if p, ok := fieldPath(fe.Field); ok {
				diags.AddAttributeError(p, summary, msg)
			} else {
				diags.AddError(summary, msg)
			}
		}
	case errors.Is(err, client.ErrUnauthorized):
		diags.AddError(summary, "aiod refused the token: check the provider's token or AIO_TOKEN.\n\n"+err.Error())
	case errors.Is(err, client.ErrForbidden):
		diags.AddError(summary, "The token's role may not do this: configuration changes need an editor or admin token.\n\n"+err.Error())
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
