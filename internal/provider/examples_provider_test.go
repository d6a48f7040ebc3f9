package provider

import (
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// TestAccExampleProvider plans examples/provider/provider.tf as it is, with
// only AIO_ADDR and AIO_TOKEN set, as the page it illustrates says: it must
// need no input variable.
func TestAccExampleProvider(t *testing.T) {
	srv := newTestServer(t)
	t.Setenv("AIO_ADDR", srv.URL)
	t.Setenv("AIO_TOKEN", srv.Tokens[api.RoleViewer])
	cfg, err := os.ReadFile("../../examples/provider/provider.tf")
	if err != nil {
		t.Fatal(err)
	}
	// The test framework writes its own terraform block; the example's
	// required_providers would conflict with it.
	body := regexp.MustCompile(`(?s)^terraform \{.*?\n\}\n`).ReplaceAllString(string(cfg), "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{{
			Config: body,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectEmptyPlan(),
			}},
		}},
	})
}

// TestExampleMonitorStatusHasNoFigureOutputs: the aio_monitor_status page
// says not to put the figures in outputs, which change with every probe
// and make `plan -detailed-exitcode` report drift; its example must not do
// it either.
func TestExampleMonitorStatusHasNoFigureOutputs(t *testing.T) {
	b, err := os.ReadFile("../../examples/data-sources/aio_monitor_status/data-source.tf")
	if err != nil {
		t.Fatal(err)
	}
	outputs := regexp.MustCompile(`(?m)^output\s+"[^"]*"\s*\{(?s:.*?)^\}`).FindAllString(string(b), -1)
	for _, o := range outputs {
		if regexp.MustCompile(`data\.aio_monitor_status\.`).MatchString(o) {
			t.Errorf("the example puts monitor figures in an output:\n%s", o)
		}
	}
}
