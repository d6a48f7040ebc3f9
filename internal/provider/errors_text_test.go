package provider

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
	"github.com/aio-platform/terraform-provider-aio/internal/testutil"
)

// render is a diagnostic as Terraform prints it, minus the box: summary,
// attribute path when there is one, and detail.
func render(d diag.Diagnostic) string {
	s := d.Summary()
	if wp, ok := d.(diag.DiagnosticWithPath); ok {
		s += " [" + wp.Path().String() + "]"
	}
	return s + "\n" + d.Detail()
}

// TestClientErrorDiagnostics_fullText produces the common failures with a
// real client against a real aiod (or an httptest server where aiod cannot
// be made to fail that way) and asserts the full text of the diagnostic
// each becomes: every layer says its part once, and nothing repeats.
func TestClientErrorDiagnostics_fullText(t *testing.T) {
	srv := acctest.NewServer(t)
	ctx := t.Context()
	newClient := func(addr, token string, cfg client.Config) *client.Client {
		t.Helper()
		cfg.Address, cfg.Token = addr, token
		cfg.MinBackoff, cfg.MaxBackoff = time.Millisecond, 5*time.Millisecond
		c, err := client.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	admin := newClient(srv.URL, srv.AdminToken, client.Config{})
	taken, err := admin.CreateEndpoint(ctx, api.Endpoint{Name: "taken", URL: "https://x.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UpdateEndpoint(ctx, taken.ID, 1, api.Endpoint{Name: "taken", URL: "https://y.example.com/"}); err != nil {
		t.Fatal(err)
	}

	// busy always answers 429, as aiod does for a token over its rate.
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "0")
		w.Header().Set("Content-Type", api.ContentTypeProblem)
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"title":"Too Many Requests","status":429,"detail":"token \"ci\" is over its rate limit"}`)
	}))
	t.Cleanup(busy.Close)
	// slow answers after every attempt's timeout.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	// closed is an address where nothing listens, and which no other
	// socket is handed while Terraform runs.
	closed := "http://" + testutil.ReservedAddr(t)

	cases := []struct {
		name    string
		summary string
		call    func() error
		want    string
	}{
		{"401", "Could not list endpoints", func() error {
			_, err := newClient(srv.URL, "not-a-token", client.Config{}).ListAllEndpoints(ctx, client.ListOptions{})
			return err
		}, "Could not list endpoints\naiod refused the token: check the provider's token or AIO_TOKEN.\n\nHTTP 401 Unauthorized: a valid bearer token is required"},
		{"403", "Could not create the endpoint", func() error {
			_, err := newClient(srv.URL, srv.Tokens[api.RoleViewer], client.Config{}).CreateEndpoint(ctx, api.Endpoint{Name: "x", URL: "https://x.example.com/"})
			return err
		}, "Could not create the endpoint\nThe token's role may not do this: configuration changes need an editor or admin token.\n\n" +
			"HTTP 403 Forbidden: role viewer may not POST /v1/endpoints (needs editor)"},
		{"404", "Could not read the endpoint", func() error {
			_, err := admin.GetEndpoint(ctx, "ep_01jabcdefghjkmnpqrstvwxyz0")
			return err
		}, `Could not read the endpoint` + "\n" + `HTTP 404 Not Found: no endpoint with id "ep_01jabcdefghjkmnpqrstvwxyz0"`},
		{"409", "Could not create the endpoint", func() error {
			_, err := admin.CreateEndpoint(ctx, api.Endpoint{Name: "taken", URL: "https://x.example.com/"})
			return err
		}, "Could not create the endpoint [name]\nname: is already taken (HTTP 409 Conflict)"},
		{"412", "Could not update the endpoint", func() error {
			_, err := admin.UpdateEndpoint(ctx, taken.ID, 1, api.Endpoint{Name: "taken", URL: "https://z.example.com/"})
			return err
		}, "Could not update the endpoint\nRun plan again: it was made from an older revision.\n\n" +
			"HTTP 412 Precondition Failed: the endpoint changed since it was read (you sent revision 1, it is now at 2)"},
		{"429 exhausted", "Could not list endpoints", func() error {
			_, err := newClient(busy.URL, "t", client.Config{RetryMax: 1}).ListAllEndpoints(ctx, client.ListOptions{})
			return err
		}, "Could not list endpoints\naiod is rate limiting this token and the retries ran out: run again later, " +
			"raise the provider's retry_max, or lower terraform's -parallelism.\n\n" +
			`HTTP 429 Too Many Requests: token "ci" is over its rate limit (after 2 attempts)`},
		{"connection refused", "Could not list endpoints", func() error {
			_, err := newClient(closed, "t", client.Config{RetryMax: 1}).ListAllEndpoints(ctx, client.ListOptions{})
			return err
		}, "Could not list endpoints\naiod is not reachable: check that it is running and the provider's address (or AIO_ADDR).\n\n" +
			"GET /v1/endpoints on " + closed + ": connection refused (2 attempts)"},
		{"timeout", "Could not read the endpoint", func() error {
			_, err := newClient(slow.URL, "t", client.Config{RetryMax: 1, RequestTimeout: 50 * time.Millisecond}).GetEndpoint(ctx, "ep_1")
			return err
		}, "Could not read the endpoint\naiod did not answer in time: check that it is healthy, or raise the provider's request_timeout.\n\n" +
			"GET /v1/endpoints/ep_1 on " + slow.URL + ": no answer within the request timeout of 50ms (2 attempts)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if err == nil {
				t.Fatal("the call succeeded")
			}
			var diags diag.Diagnostics
			addClientError(&diags, endpointResourceSchema(), c.summary, err)
			if len(diags) != 1 {
				t.Fatalf("%d diagnostics, want 1: %v", len(diags), diags)
			}
			if got := render(diags[0]); got != c.want {
				t.Errorf("diagnostic:\n%s\n\nwant:\n%s", got, c.want)
			}
		})
	}
}

// TestAccClientErrors_asTerraformShowsThem runs terraform against an
// address where nothing listens and against aiod with a viewer token for a
// write, and checks the diagnostics as the user reads them: the advice
// once, the call once.
func TestAccClientErrors_asTerraformShowsThem(t *testing.T) {
	srv := newTestServer(t)
	closed := "http://" + testutil.ReservedAddr(t)
	// diagnostic matches Terraform's rendering of one error: the summary,
	// the location lines (whose numbers depend on the test framework), and
	// then exactly the detail, up to the end of the output. Terraform wraps
	// long lines, so any space may be a line break.
	diagnostic := func(summary, with, detail string) *regexp.Regexp {
		flex := func(s string) string { return strings.ReplaceAll(regexp.QuoteMeta(s), " ", `\s+`) }
		return regexp.MustCompile(`(?s)Error: ` + flex(summary) + `\s+with ` + flex(with) + `,\n[^\n]*\n[^\n]*\n\s*` + flex(detail) + `\s*$`)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
provider "aio" {
  address   = %q
  token     = "t"
  retry_max = 1
}
data "aio_endpoints" "all" {}
`, closed),
				ExpectError: diagnostic("Could not list endpoints", "data.aio_endpoints.all",
					"aiod is not reachable: check that it is running and the provider's address (or AIO_ADDR). "+
						"GET /v1/endpoints on "+closed+": connection refused (2 attempts)"),
			},
			{
				Config: srv.ProviderConfig(api.RoleViewer) + `
resource "aio_endpoint" "e" {
  name = "viewer-cannot"
  url  = "https://x.example.com/"
}`,
				ExpectError: diagnostic("Could not create the endpoint", "aio_endpoint.e",
					"The token's role may not do this: configuration changes need an editor or admin token. "+
						"HTTP 403 Forbidden: role viewer may not POST /v1/endpoints (needs editor)"),
			},
		},
	})
}

// TestFieldErrorWithoutField: a problem about the whole request (no field)
// reads as its message, without a dangling ": ".
func TestFieldErrorWithoutField(t *testing.T) {
	var diags diag.Diagnostics
	addClientError(&diags, nil, "Could not create the endpoint", &client.APIError{Status: http.StatusBadRequest, Title: "Bad Request",
		Detail: "the request has invalid fields", FieldErrors: []api.FieldError{{Message: "the body is not valid JSON"}}})
	if len(diags) != 1 || render(diags[0]) != "Could not create the endpoint\nthe body is not valid JSON (HTTP 400 Bad Request)" {
		t.Errorf("diagnostics = %v", diags)
	}
}
