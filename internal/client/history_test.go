package client

import (
	"context"
	"errors"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// The history calls against a real aiod: revisions and diffs, a restore
// with a stale and a current revision, a deleted endpoint listed and
// brought back, and Self read once.
func TestHistoryCalls(t *testing.T) {
	srv := acctest.NewServer(t)
	c, err := New(Config{Address: srv.URL, Token: srv.Tokens[api.RoleEditor]})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := c.CreateEndpoint(ctx, api.Endpoint{Name: "hist", URL: "https://hist.example.com/", DataClassification: api.ClassInternal})
	if err != nil {
		t.Fatal(err)
	}
	desc := "second"
	e.Description = &desc
	if e, err = c.UpdateEndpoint(ctx, e.ID, e.Revision, e); err != nil {
		t.Fatal(err)
	}
	page, err := c.ListRevisions(ctx, api.EndpointKind.Path, e.ID, 1, "")
	if err != nil || len(page.Items) != 1 || page.Items[0].Revision != 2 || page.NextCursor == "" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	if page, err = c.ListRevisions(ctx, api.EndpointKind.Path, e.ID, 1, page.NextCursor); err != nil || len(page.Items) != 1 || page.Items[0].Revision != 1 {
		t.Fatalf("second page: %+v, %v", page, err)
	}
	if v, err := c.GetRevision(ctx, api.EndpointKind.Path, e.ID, 1); err != nil || v.Action != api.ActionCreate || v.Actor != "test-editor" {
		t.Errorf("GetRevision = %+v, %v", v, err)
	}
	if _, err := c.GetRevision(ctx, api.EndpointKind.Path, e.ID, 9); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetRevision of a revision that does not exist: %v", err)
	}
	d, err := c.Diff(ctx, api.EndpointKind.Path, e.ID, 1, 2)
	if err != nil || len(d.Changes) != 1 || d.Changes[0].Path != "description" || string(d.Changes[0].New) != `"second"` {
		t.Errorf("Diff = %+v, %v", d, err)
	}
	var out api.Endpoint
	if err := c.RestoreRevision(ctx, api.EndpointKind.Path, e.ID, 1, 1, &out); !errors.Is(err, ErrPreconditionFailed) {
		t.Errorf("restore with a stale revision: %v", err)
	}
	if err := c.RestoreRevision(ctx, api.EndpointKind.Path, e.ID, 1, 2, &out); err != nil || out.Revision != 3 || out.Description != nil {
		t.Errorf("restore = %+v, %v", out, err)
	}
	if err := c.DeleteEndpoint(ctx, e.ID, 3); err != nil {
		t.Fatal(err)
	}
	gone, err := c.ListDeleted(ctx, api.EndpointKind.Path)
	if err != nil || len(gone) != 1 || gone[0].ObjectID != e.ID || gone[0].Revision != 3 {
		t.Fatalf("ListDeleted = %+v, %v", gone, err)
	}
	if err := c.RestoreDeleted(ctx, api.EndpointKind.Path, e.ID, &out); err != nil || out.ID != e.ID || out.Revision != 4 {
		t.Errorf("RestoreDeleted = %+v, %v", out, err)
	}
	self, err := c.Self(ctx)
	if err != nil || self.Name != "test-editor" || self.Role != api.RoleEditor {
		t.Errorf("Self = %+v, %v", self, err)
	}
}
