package provider

import (
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

func TestImportIDProblem(t *testing.T) {
	cases := []struct{ typeName, prefix, id, want string }{
		{"aio_endpoint", api.PrefixEndpoint, "ep_01jabc", ""},
		{"aio_endpoint", api.PrefixEndpoint, "mon_01jabc", `"mon_01jabc" is a monitor ID; aio_endpoint imports an endpoint ID (ep_…).`},
		{"aio_monitor", api.PrefixMonitor, "tok_01jabc", `"tok_01jabc" is a token ID; aio_monitor imports a monitor ID (mon_…).`},
		{"aio_credential", api.PrefixCredential, "payments", `"payments" is not an ID of aiod; aio_credential imports a credential ID (cred_…).`},
		{"aio_credential", api.PrefixCredential, "cred_", `"cred_" is only the prefix of an ID; aio_credential imports a credential ID (cred_…).`},
		{"aio_endpoint", api.PrefixEndpoint, "", `"" is not an ID of aiod; aio_endpoint imports an endpoint ID (ep_…).`},
	}
	for _, c := range cases {
		if got := importIDProblem(c.typeName, c.prefix, c.id); got != c.want {
			t.Errorf("importIDProblem(%q, %q):\n got %q\nwant %q", c.typeName, c.id, got, c.want)
		}
	}
}
