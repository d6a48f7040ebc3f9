package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// Drift with attribution. When Read finds an object at a later revision
// than the state holds, the revisions in between were written outside
// this Terraform run. Those written by another token than the provider's
// own (GET /v1/whoami) make one warning per object, naming who changed it,
// when, and every path that changed since the state's revision, so that a
// plan tells not only what drifted but who caused it. The generic Read
// does this once for every kind; a kind needs nothing of its own.

// maxAttributionPages bounds the revision pages read for one object: a
// state thousands of revisions behind still gets its warning, naming the
// changes of the pages read.
const maxAttributionPages = 10

// attribution is who wrote the revisions after the state's, and what
// changed, for one object.
type attribution struct {
	// name is the object's name, from its newest snapshot.
	name string
	// others are the writers other than this provider's token, newest
	// first, one entry per token with its newest write.
	others []api.Revision
	// paths are the changed paths from the state's revision to the
	// current one; nil when the history no longer reaches that far (the
	// state's revision was pruned).
	paths []string
}

// attribute adds the drift warning of an object that Read found at
// revision current while the state holds revision prior. Reading the
// history must never fail a refresh: when it cannot be read the warning
// is left out and the reason logged.
func attribute(ctx context.Context, c *client.Client, typeName, prefix, id string, prior, current int64, diags *diag.Diagnostics) {
	if prior <= 0 || current <= prior {
		return
	}
	a, ok := readAttribution(ctx, c, prefix, id, prior, current)
	if !ok || len(a.others) == 0 {
		return
	}
	diags.AddAttributeWarning(path.Root("revision"), fmt.Sprintf("%s %q changed outside Terraform", typeName, a.name),
		attributionMessage(typeName, a, prior, current))
}

// readAttribution reads the revisions after prior and the diff since it.
func readAttribution(ctx context.Context, c *client.Client, prefix, id string, prior, current int64) (attribution, bool) {
	var a attribution
	k, ok := api.KindByPrefix(prefix)
	if !ok {
		return a, false
	}
	self, err := c.Self(ctx)
	if err != nil {
		tflog.Warn(ctx, "could not tell which token this provider runs with; drift is not attributed", map[string]any{"error": err.Error()})
		return a, false
	}
	seen := map[string]bool{}
	after := ""
	for page := 0; page < maxAttributionPages; page++ {
		revs, err := c.ListRevisions(ctx, k.Path, id, 100, after)
		if err != nil {
			tflog.Warn(ctx, "could not read the revision history; drift is not attributed", map[string]any{"error": err.Error()})
			return a, false
		}
		done := revs.NextCursor == ""
		for _, v := range revs.Items {
			if a.name == "" {
				a.name = snapshotName(v.Object)
			}
			if v.Revision <= prior {
				done = true
				break
			}
			if v.Actor != self.Name && !seen[v.Actor] {
				seen[v.Actor] = true
				a.others = append(a.others, v)
			}
		}
		if done {
			break
		}
		after = revs.NextCursor
	}
	if len(a.others) == 0 {
		return a, true
	}
	d, err := c.Diff(ctx, k.Path, id, prior, current)
	if err != nil {
		// The state's revision was pruned: the writers are still known.
		tflog.Debug(ctx, "no diff from the state's revision", map[string]any{"error": err.Error()})
		return a, true
	}
	a.paths = []string{}
	for _, ch := range d.Changes {
		a.paths = append(a.paths, ch.Path)
	}
	return a, true
}

// attributionMessage is the warning's detail, as in
// `aio_endpoint "payments": changed outside Terraform by token `ops-oncall`
// (editor) at 2026-12-01T10:32:05Z, revision 4 → 5: description, tags.team`.
func attributionMessage(typeName string, a attribution, prior, current int64) string {
	who := make([]string, len(a.others))
	for i, v := range a.others {
		who[i] = fmt.Sprintf("token `%s` (%s) at %s", v.Actor, v.ActorRole, v.Time.UTC().Format(time.RFC3339))
	}
	what := fmt.Sprintf("revision %d is no longer kept, so the changed paths are unknown", prior)
	if a.paths != nil {
		what = strings.Join(a.paths, ", ")
		if len(a.paths) == 0 {
			what = "no field differs any more"
		}
	}
	return fmt.Sprintf("%s %q: changed outside Terraform by %s, revision %d → %d: %s", typeName, a.name, strings.Join(who, " and "), prior, current, what)
}

// snapshotName reads the name of a snapshot ("" when it has none).
func snapshotName(obj json.RawMessage) string {
	var v struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(obj, &v)
	return v.Name
}
