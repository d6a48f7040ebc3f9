package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// testAccProtoV6ProviderFactories serve the provider in-process to the real
// terraform binary that terraform-plugin-testing runs.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"aio": providerserver.NewProtocol6WithError(New("test")()),
}

// testAccVersionChecks require the Terraform version the provider targets.
var testAccVersionChecks = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)}

// newTestServer starts an in-process aiod for one test.
func newTestServer(t *testing.T) *acctest.Server {
	t.Helper()
	return acctest.NewServer(t)
}

// apiClient returns a client of srv with the admin token, for changes made
// outside Terraform.
func apiClient(t *testing.T, srv *acctest.Server) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Address: srv.URL, Token: srv.AdminToken})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testContext() context.Context { return context.Background() }

// compareEqual checks that two state values are the same.
var compareEqual = compare.ValuesSame()
