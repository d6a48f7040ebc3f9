package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// testAccProtoV6ProviderFactories serve the provider in-process to the real
// terraform binary that terraform-plugin-testing runs.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"aio": NewProtocol6Server(New("test")()),
}

// testAccVersionChecks require the Terraform version the provider targets.
// They fail rather than skip on an older Terraform: a skipped acceptance
// suite would let `make test` pass without testing the provider.
var testAccVersionChecks = []tfversion.TerraformVersionCheck{tfversion.RequireAbove(tfversion.Version1_11_0)}

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

func TestAccProvider_configuration(t *testing.T) {
	srv := newTestServer(t)
	t.Setenv(EnvAddress, "")
	t.Setenv(EnvToken, "")
	readAll := `
data "aio_endpoints" "all" {}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:      `provider "aio" {}` + readAll,
				ExpectError: regexp.MustCompile(`(?s)Missing aiod address.*AIO_ADDR`),
			},
			{
				Config:      fmt.Sprintf("provider \"aio\" {\n  address = %q\n}\n", srv.URL) + readAll,
				ExpectError: regexp.MustCompile(`(?s)Missing aiod token.*AIO_TOKEN`),
			},
			{
				Config:      fmt.Sprintf("provider \"aio\" {\n  address = %q\n  token = \"wrong\"\n}\n", srv.URL) + readAll,
				ExpectError: regexp.MustCompile(`(?s)aiod refused the token`),
			},
			{
				Config:      fmt.Sprintf("provider \"aio\" {\n  address = %q\n  token = \"x\"\n  retry_max = 99\n}\n", srv.URL) + readAll,
				ExpectError: regexp.MustCompile(`(?s)retry_max value must be between 0 and 20`),
			},
			{
				Config:      fmt.Sprintf("provider \"aio\" {\n  address = %q\n  token = \"x\"\n  request_timeout = \"soon\"\n}\n", srv.URL) + readAll,
				ExpectError: regexp.MustCompile(`(?s)Invalid duration.*must be a positive Go duration`),
			},
			{
				// The environment variables stand in for the block.
				PreConfig: func() {
					t.Setenv(EnvAddress, srv.URL)
					t.Setenv(EnvToken, srv.Tokens["viewer"])
				},
				Config: `provider "aio" {
  retry_max       = 0
  request_timeout = "5s"
}` + readAll,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_endpoints.all", tfjsonpath.New("endpoints"), knownvalue.ListSizeExact(0)),
				},
			},
		},
	})
}

// An aiod served over HTTPS with its own certificate is reached with
// ca_cert_file, and refused without it.
func TestAccProvider_tls(t *testing.T) {
	srv := acctest.NewServer(t, acctest.Options{TLS: true})
	block := func(extra string) string {
		return fmt.Sprintf("provider \"aio\" {\n  address = %q\n  token = %q\n  retry_max = 0\n%s\n}\ndata \"aio_endpoints\" \"all\" {}\n", srv.URL, srv.Tokens["viewer"], extra)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config:      block(""),
				ExpectError: regexp.MustCompile(`certificate`),
			},
			{
				Config:      block(`  ca_cert_file = "/nonexistent/ca.pem"`),
				ExpectError: regexp.MustCompile(`Invalid CA certificate file`),
			},
			{
				Config: block(fmt.Sprintf("  ca_cert_file = %q", srv.CACertFile)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.aio_endpoints.all", tfjsonpath.New("endpoints"), knownvalue.ListSizeExact(0)),
				},
			},
		},
	})
}

func monitorListAll() client.MonitorListOptions { return client.MonitorListOptions{} }

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }
