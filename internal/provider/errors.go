package provider

import (
	"errors"
	"fmt"
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

// fieldPath maps an API field path ("name", "tags.env") to the attribute
// path. The root attribute is what the API and the schema share by name;
// deeper segments may be map keys or nested attributes, which only the
// schema knows, so the error is placed on the root attribute and the
// message keeps the full field path.
func fieldPath(field string) (path.Path, bool) {
	if field == "" {
		return path.Empty(), false
	}
	root, _, _ := strings.Cut(field, ".")
	if root == "" || strings.ContainsAny(root, "-[ ") || root != strings.ToLower(root) {
		return path.Empty(), false
	}
	return path.Root(root), true
}
