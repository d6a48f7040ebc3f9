package provider

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// warningRecorder serves the real provider and records the warnings its
// ReadResource answers give the real terraform binary, one entry per
// answer, so that a test can count what a plan shows.
type warningRecorder struct {
	tfprotov6.ProviderServer
	mu    sync.Mutex
	reads [][]string
}

func (w *warningRecorder) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	resp, err := w.ProviderServer.ReadResource(ctx, req)
	if resp != nil {
		var warnings []string
		for _, d := range resp.Diagnostics {
			if d.Severity == tfprotov6.DiagnosticSeverityWarning {
				warnings = append(warnings, d.Detail)
			}
		}
		w.mu.Lock()
		w.reads = append(w.reads, warnings)
		w.mu.Unlock()
	}
	return resp, err
}

// take returns the warnings of the reads since the last take.
func (w *warningRecorder) take() [][]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.reads
	w.reads = nil
	return out
}

func (w *warningRecorder) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"aio": func() (tfprotov6.ProviderServer, error) {
			s, err := providerserver.NewProtocol6WithError(New("test")())()
			if err != nil {
				return nil, err
			}
			w.ProviderServer = s
			return w, nil
		},
	}
}

// wantWarnings fails unless every read since the last take answered
// exactly the warning that matches want (or none at all when want is nil),
// and at least one read happened.
func wantWarnings(t *testing.T, rec *warningRecorder, want *regexp.Regexp) {
	t.Helper()
	reads := rec.take()
	if len(reads) == 0 {
		t.Fatal("no ReadResource call was recorded")
	}
	for i, ws := range reads {
		switch {
		case want == nil && len(ws) != 0:
			t.Errorf("read %d: warnings %q, want none", i, ws)
		case want != nil && (len(ws) != 1 || !want.MatchString(ws[0])):
			t.Errorf("read %d: warnings %q, want exactly one matching %s", i, ws, want)
		}
	}
}

// tokenClient is a client of srv with one role's token.
func tokenClient(t *testing.T, srv *acctest.Server, role string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Address: srv.URL, Token: srv.Tokens[role]})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// An out-of-band change by another token makes one warning naming the
// token, its role, the time, the revisions and the changed paths; a change
// by the provider's own token makes none; after apply the plan has none.
func TestAccAttribution_driftByAnotherToken(t *testing.T) {
	srv := newTestServer(t)
	rec := &warningRecorder{}
	admin, own := tokenClient(t, srv, api.RoleAdmin), tokenClient(t, srv, api.RoleEditor)
	cfg := endpointConfig(srv, `
  name        = "attributed"
  url         = "https://attributed.example.com/"
  description = "managed"
  tags        = { team = "a", env = "prod" }
`)
	var id string
	change := func(c *client.Client, description, team string) {
		t.Helper()
		e, err := c.GetEndpoint(testContext(), id)
		if err != nil {
			t.Fatal(err)
		}
		e.Description, e.Tags = &description, map[string]string{"team": team, "env": "prod"}
		if _, err := c.UpdateEndpoint(testContext(), id, e.Revision, e); err != nil {
			t.Fatal(err)
		}
	}
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   testAccVersionChecks,
		ProtoV6ProviderFactories: rec.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check:  func(s *terraform.State) error { id = endpointID(s); return nil },
			},
			{
				// The admin token changes two fields, one nested.
				PreConfig: func() {
					wantWarnings(t, rec, nil)
					change(admin, "changed by the on-call", "b")
				},
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				PreConfig: func() {
					wantWarnings(t, rec, regexp.MustCompile("^"+regexp.QuoteMeta(`aio_endpoint "attributed": changed outside Terraform by token `+
						"`test-admin`"+` (admin) at `)+`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`+regexp.QuoteMeta(`, revision 1 → 2: description, tags.team`)+"$"))
				},
				// Apply restores it; the plan framework's refreshes after
				// the apply read the new revision.
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(endpointAddr, plancheck.ResourceActionUpdate),
				}},
			},
			{
				// The next plan after the apply has no warning.
				PreConfig: func() { rec.take() },
				Config:    cfg,
				PlanOnly:  true,
			},
			{
				// A change made with the provider's own token is drift
				// (the plan is not empty) but not attributed.
				PreConfig: func() {
					wantWarnings(t, rec, nil)
					change(own, "changed with the provider's token", "c")
				},
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// Two changes by the admin after the state's revision 3 (and
				// the own token's at 4): one warning naming the admin, with
				// every path changed since revision 3.
				PreConfig: func() {
					wantWarnings(t, rec, nil)
					change(admin, "again", "c")
					e, err := admin.GetEndpoint(testContext(), id)
					if err != nil {
						t.Fatal(err)
					}
					owner := "team-x"
					e.Owner = &owner
					if _, err := admin.UpdateEndpoint(testContext(), id, e.Revision, e); err != nil {
						t.Fatal(err)
					}
				},
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				PreConfig: func() {
					wantWarnings(t, rec, regexp.MustCompile(`by token `+"`test-admin`"+` \(admin\) at [^,]+, revision 3 → 6: description, owner, tags.team$`))
				},
				Config: cfg,
			},
		},
	})
	// Controls: the warning text is the one the plan would show for this
	// object, whatever its kind; the message builder names several tokens.
	if got := attributionMessage("aio_monitor", attribution{name: "m", paths: []string{"assertions[1].target"},
		others: []api.Revision{{Actor: "b", ActorRole: "admin"}, {Actor: "a", ActorRole: "editor"}}}, 4, 6); !strings.Contains(got, "by token `b` (admin) at 0001-01-01T00:00:00Z and token `a` (editor)") ||
		!strings.HasSuffix(got, "revision 4 → 6: assertions[1].target") {
		t.Errorf("attributionMessage = %s", got)
	}
}
