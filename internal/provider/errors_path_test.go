package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
)

// TestFieldPath: an API field path lands on the attribute the resource's
// schema says it names, whatever the kind: a map key keeps its dots, a
// list takes an index, a set's elements are not addressable, and a field
// the schema lacks lands on what the schema has, or nowhere.
func TestFieldPath(t *testing.T) {
	monitor, credential, endpoint := monitorResourceSchema(), credentialResourceSchema(), endpointResourceSchema()
	cases := []struct {
		name   string
		schema schemaTyper
		field  string
		want   path.Path
		ok     bool
	}{
		{"root", endpoint, "name", path.Root("name"), true},
		{"map key with dots", endpoint, "tags.team.name", path.Root("tags").AtMapKey("team.name"), true},
		{"nested map key", monitor, "request.headers.x-a", path.Root("request").AtName("headers").AtMapKey("x-a"), true},
		{"list index", monitor, "assertions.2.target", path.Root("assertions").AtListIndex(2).AtName("target"), true},
		{"list without index", monitor, "assertions.x", path.Root("assertions"), true},
		{"nested object", monitor, "request.tls.ca_cert", path.Root("request").AtName("tls").AtName("ca_cert"), true},
		{"set element", monitor, "retry_strategy.retry_on.status_codes.0", path.Root("retry_strategy").AtName("retry_on").AtName("status_codes"), true},
		{"set of strings", credential, "allowed_hosts.1", path.Root("allowed_hosts"), true},
		{"below a string", credential, "token_url.host", path.Root("token_url"), true},
		{"unknown nested", monitor, "request.nope", path.Root("request"), true},
		{"unknown root", endpoint, "nope", path.Empty(), false},
		{"another kind's attribute", endpoint, "assertions.0.target", path.Empty(), false},
		{"empty", endpoint, "", path.Empty(), false},
		{"no schema", nil, "name", path.Empty(), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := fieldPath(c.schema, c.field)
			if ok != c.ok || !got.Equal(c.want) {
				t.Errorf("fieldPath(%q) = %s, %v; want %s, %v", c.field, got, ok, c.want, c.ok)
			}
		})
	}
}
