package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// importByID imports an object by its ID, after checking that the ID has
// the kind prefix of the resource type (prefix, such as api.PrefixEndpoint).
// Without the check an ID of another kind reaches aiod, which answers 404,
// and Terraform says only "Cannot import non-existent remote object"; with
// it, the user reads what the ID is and what the resource wants.
func importByID(ctx context.Context, typeName, prefix string, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if msg := importIDProblem(typeName, prefix, req.ID); msg != "" {
		resp.Diagnostics.AddError("Wrong kind of ID", msg)
		return
	}
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// importIDProblem says why id cannot be imported into typeName, or "".
func importIDProblem(typeName, prefix, id string) string {
	if strings.HasPrefix(id, prefix) && len(id) > len(prefix) {
		return ""
	}
	want := fmt.Sprintf("%s imports %s ID (%s…)", typeName, api.PrefixKinds[prefix], prefix)
	if id == prefix {
		return fmt.Sprintf("%q is only the prefix of an ID; %s.", id, want)
	}
	if kind := api.KindOfID(id); kind != "" {
		return fmt.Sprintf("%q is %s ID; %s.", id, kind, want)
	}
	return fmt.Sprintf("%q is not an ID of aiod; %s.", id, want)
}
