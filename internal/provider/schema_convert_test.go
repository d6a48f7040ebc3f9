package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// TestDataSourceDescriptionsAreForDataSources walks every attribute of
// every data source, nested ones included, and fails on a sentence that
// only makes sense for a resource: a data source has no defaults and is
// never updated or replaced.
func TestDataSourceDescriptionsAreForDataSources(t *testing.T) {
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := srv.GetProviderSchema(t.Context(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(schemas.DataSourceSchemas) == 0 {
		t.Fatal("no data sources")
	}
	forbidden := []string{"Defaults to", "Changing", "in-place", "forces"}
	checked := 0
	var walk func(where string, attrs []*tfprotov6.SchemaAttribute)
	walk = func(where string, attrs []*tfprotov6.SchemaAttribute) {
		for _, a := range attrs {
			at := where + "." + a.Name
			checked++
			for _, f := range forbidden {
				if strings.Contains(a.Description, f) {
					t.Errorf("%s: description contains %q: %s", at, f, a.Description)
				}
			}
			if a.NestedType != nil {
				walk(at, a.NestedType.Attributes)
			}
		}
	}
	for name, s := range schemas.DataSourceSchemas {
		walk(name, s.Block.Attributes)
	}
	if checked < 50 {
		t.Errorf("only %d attributes checked", checked)
	}
}

func TestDataSourceDescription(t *testing.T) {
	cases := map[string]string{
		"The sensitivity: one of `public`, `internal`. Decides excerpts. Defaults to `internal`.":                                     "The sensitivity: one of `public`, `internal`. Decides excerpts.",
		"The version, such as `v2` or `2024-06-01`. Changing it is an in-place update that `terraform plan` shows. Unset by default.": "The version, such as `v2` or `2024-06-01`. Null when not set.",
		"The ID of the credential. Unset by default (no credential). A credential still referenced cannot be deleted.":                "The ID of the credential. Null when not set (no credential). A credential still referenced cannot be deleted.",
		"A path such as `/a. b`. Unset by default.":                                                                                   "A path such as `/a. b`. Null when not set.",
	}
	for in, want := range cases {
		if got := dataSourceDescription(in); got != want {
			t.Errorf("dataSourceDescription(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}
