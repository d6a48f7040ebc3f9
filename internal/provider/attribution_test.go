package provider

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// warningRecorder serves the real provider and records the warnings its
// ReadResource answers give the real terraform binary, one entry per
// answer, so that a test can count what a plan shows.
type warningRecorder struct {
	tfprotov6.ProviderServer
	mu    sync.Mutex
	reads []recordedRead
}

// recordedRead is one ReadResource answer: the resource type read and the
// warnings answered.
type recordedRead struct {
	typeName string
	warnings []string
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
		w.reads = append(w.reads, recordedRead{typeName: req.TypeName, warnings: warnings})
		w.mu.Unlock()
	}
	return resp, err
}

// take returns the reads since the last take.
func (w *warningRecorder) take() []recordedRead {
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

// wantWarnings fails unless every read of a resource of type typeName
// since the last take answered exactly the warning that matches want (or
// none at all when want is nil), at least one such read happened, and the
// reads of every other type answered none.
func wantWarnings(t *testing.T, rec *warningRecorder, typeName string, want *regexp.Regexp) {
	t.Helper()
	n := 0
	for i, r := range rec.take() {
		ws := r.warnings
		if r.typeName != typeName {
			if len(ws) != 0 {
				t.Errorf("read %d of %s: warnings %q, want none", i, r.typeName, ws)
			}
			continue
		}
		n++
		switch {
		case want == nil && len(ws) != 0:
			t.Errorf("read %d: warnings %q, want none", i, ws)
		case want != nil && (len(ws) != 1 || !want.MatchString(ws[0])):
			t.Errorf("read %d: warnings %q, want exactly one matching %s", i, ws, want)
		}
	}
	if n == 0 {
		t.Fatalf("no ReadResource call of %s was recorded", typeName)
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
					wantWarnings(t, rec, "aio_endpoint", nil)
					change(admin, "changed by the on-call", "b")
				},
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				PreConfig: func() {
					wantWarnings(t, rec, "aio_endpoint", regexp.MustCompile("^"+regexp.QuoteMeta(`aio_endpoint "attributed": changed outside Terraform by token `+
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
					wantWarnings(t, rec, "aio_endpoint", nil)
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
					wantWarnings(t, rec, "aio_endpoint", nil)
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
					wantWarnings(t, rec, "aio_endpoint", regexp.MustCompile(`by token `+"`test-admin`"+` \(admin\) at [^,]+, revision 3 → 6: description, owner, tags.team$`))
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
	if got := attributionMessage("aio_endpoint", attribution{name: "e", others: []api.Revision{{Actor: "b", ActorRole: "admin"}}}, 2, 9); !strings.HasSuffix(got,
		"revision 2 → 9: revision 2 is no longer kept, so the changed paths are unknown") {
		t.Errorf("attributionMessage without the state's revision = %s", got)
	}
}

// The attribution is the generic Read's, so every kind has it: a monitor
// changed by another token in nested fields (an assertion's target, a
// request header) names them with their paths, and a rollback through the
// API's restore (by that token) is attributed the same way.
func TestAccAttribution_nestedPathsAndRestore(t *testing.T) {
	srv := newTestServer(t)
	rec := &warningRecorder{}
	admin := tokenClient(t, srv, api.RoleAdmin)
	cfg := monitorConfig(srv, fullMonitor)
	var id string
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   testAccVersionChecks,
		ProtoV6ProviderFactories: rec.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check:  func(s *terraform.State) error { id = s.RootModule().Resources[monitorAddr].Primary.ID; return nil },
			},
			{
				PreConfig: func() {
					wantWarnings(t, rec, "aio_monitor", nil)
					m, err := admin.GetMonitor(testContext(), id)
					if err != nil {
						t.Fatal(err)
					}
					target := "fine"
					m.Assertions[1].Target = &target
					m.Request.Headers = map[string]string{"x-probe": "oncall"}
					if _, err := admin.UpdateMonitor(testContext(), id, m.Revision, m); err != nil {
						t.Fatal(err)
					}
				},
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// The admin rolls back through the API: the object is as
				// Terraform wants it again, but written by another token
				// since the state's revision. The plan is empty; the
				// warning names the token and that no field differs now.
				PreConfig: func() {
					wantWarnings(t, rec, "aio_monitor", regexp.MustCompile(regexp.QuoteMeta(`aio_monitor "svc-a-health": changed outside Terraform by token `+
						"`test-admin`"+` (admin) at `)+`[^,]+`+regexp.QuoteMeta(`, revision 1 → 2: assertions[1].target, request.headers.x-probe`)+"$"))
					var out api.Monitor
					if err := admin.RestoreRevision(testContext(), api.MonitorKind.Path, id, 1, 2, &out); err != nil {
						t.Fatal(err)
					}
					if out.Revision != 3 {
						t.Fatalf("restored monitor at revision %d", out.Revision)
					}
				},
				Config:   cfg,
				PlanOnly: true,
			},
			{
				PreConfig: func() {
					wantWarnings(t, rec, "aio_monitor", regexp.MustCompile(`by token `+"`test-admin`"+` \(admin\) at [^,]+, revision 1 → 3: no field differs any more$`))
				},
				Config: cfg,
			},
		},
	})
}

// When the state's revision was pruned, the writers are still named and
// the warning says that the paths are unknown; a refresh never fails for
// want of history.
func TestAttribution_stateRevisionPruned(t *testing.T) {
	srv := newTestServer(t)
	own, admin := tokenClient(t, srv, api.RoleEditor), tokenClient(t, srv, api.RoleAdmin)
	ctx := testContext()
	e, err := own.CreateEndpoint(ctx, api.Endpoint{Name: "pruned", URL: "https://pruned.example.com/", DataClassification: api.ClassInternal})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"one", "two"} {
		e.Description = &d
		if e, err = admin.UpdateEndpoint(ctx, e.ID, e.Revision, e); err != nil {
			t.Fatal(err)
		}
	}
	// As the retention enforcer prunes the change history (data kind
	// revisions): every revision but the newest is past the cut.
	if _, err := srv.Store.RetentionDelete(ctx, store.RetentionSelector{DataKind: api.DataRevisions, Before: time.Now().Add(time.Hour)}, 100); err != nil {
		t.Fatal(err)
	}
	a, ok := readAttribution(ctx, own, api.PrefixEndpoint, e.ID, 1, 3)
	if !ok || a.name != "pruned" || len(a.others) != 1 || a.others[0].Actor != "test-admin" || a.paths != nil {
		t.Fatalf("readAttribution = %+v, %v", a, ok)
	}
	var diags diag.Diagnostics
	attribute(ctx, own, "aio_endpoint", api.PrefixEndpoint, e.ID, 1, 3, &diags)
	if diags.WarningsCount() != 1 || diags.HasError() || !strings.Contains(diags.Warnings()[0].Detail(), "revision 1 is no longer kept") {
		t.Errorf("diagnostics %v", diags)
	}
	// Nothing moved, or moved by the own token only: no warning.
	diags = nil
	attribute(ctx, own, "aio_endpoint", api.PrefixEndpoint, e.ID, 3, 3, &diags)
	attribute(ctx, admin, "aio_endpoint", api.PrefixEndpoint, e.ID, 2, 3, &diags)
	if len(diags) != 0 {
		t.Errorf("diagnostics %v, want none", diags)
	}
}
