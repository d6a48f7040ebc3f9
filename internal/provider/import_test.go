package provider

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// TestAccImport_wrongKindOfID imports a monitor ID into aio_endpoint (and
// the like for every resource) and expects to be told what the ID is and
// what the resource imports, instead of "Cannot import non-existent remote
// object".
func TestAccImport_wrongKindOfID(t *testing.T) {
	srv := newTestServer(t)
	cases := []struct {
		typeName, body, id, want string
	}{
		{"aio_endpoint", `name = "e"` + "\n" + `url = "https://x.example.com/"`, "mon_01jabcdefghjkmnpqrstvwxyz0",
			`"mon_01jabcdefghjkmnpqrstvwxyz0" is a monitor ID; aio_endpoint imports an endpoint ID \(ep_…\)\.`},
		{"aio_credential", `name = "c"` + "\n" + `type = "bearer"` + "\n" + `secret = "s"`, "ep_01jabcdefghjkmnpqrstvwxyz0",
			`"ep_01jabcdefghjkmnpqrstvwxyz0" is an endpoint ID; aio_credential imports a credential ID \(cred_…\)\.`},
		{"aio_monitor", `name = "m"` + "\n" + `endpoint_id = "ep_x"` + "\n" + `type = "http"`, "payments",
			`"payments" is not an ID of aiod; aio_monitor imports a monitor ID \(mon_…\)\.`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config:        srv.ProviderConfig(api.RoleEditor) + "resource \"" + c.typeName + "\" \"test\" {\n" + c.body + "\n}\n",
			ResourceName:  c.typeName + ".test",
			ImportState:   true,
			ImportStateId: c.id,
			// Terraform wraps long lines; any space may be a line break.
			ExpectError: regexp.MustCompile(`(?s)Wrong kind of ID.*` + strings.ReplaceAll(c.want, " ", `\s+`)),
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps:                    steps,
	})
}
