package provider

import (
	"context"
	"errors"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// objectResource is the resource of a kind: create, read, update in
// place, delete and import by ID, by the API's conventions. A kind without
// rules of its own (the endpoint) uses it as it is; one with rules (the
// credential's secret, the monitor's validation) embeds it and adds or
// replaces methods, building on the helpers below.
type objectResource[T any, M objectModel[T]] struct {
	kind   *kind[T, M]
	client *client.Client
}

var (
	_ resource.ResourceWithConfigure    = (*objectResource[any, objectModel[any]])(nil)
	_ resource.ResourceWithImportState  = (*objectResource[any, objectModel[any]])(nil)
	_ resource.ResourceWithUpgradeState = (*objectResource[any, objectModel[any]])(nil)
	_ resource.ResourceWithModifyPlan   = (*objectResource[any, objectModel[any]])(nil)
)

// ModifyPlan plans no change when the plan differs from the prior state
// only in spelling (the attribute plan modifiers have put the state's
// spelling back, as keepEquivalentDuration does) and in the read-only
// attributes, such as revision and updated_at, that the framework marked
// unknown because the proposed plan differed before those modifiers ran.
// Without it, a duration aiod holds as "1m" under a configuration saying
// "60s" (after an import) would plan an update that changes nothing.
func (r *objectResource[T, M]) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	keepStateWhenUnchanged(ctx, req.State, &resp.Plan)
}

// modifyPlanKeepsUnchangedPlans tells the refresh's fast path that
// ModifyPlan leaves a plan equal to the prior state as it is.
func (r *objectResource[T, M]) modifyPlanKeepsUnchangedPlans() bool { return true }

// keepStateWhenUnchanged sets plan to the prior state when every attribute
// equals the state's, except read-only ones that are unknown.
func keepStateWhenUnchanged(ctx context.Context, state tfsdk.State, plan *tfsdk.Plan) {
	if plan.Raw.IsNull() || state.Raw.IsNull() || plan.Raw.Equal(state.Raw) {
		return
	}
	var planned, prior map[string]tftypes.Value
	if plan.Raw.As(&planned) != nil || state.Raw.As(&prior) != nil {
		return
	}
	for name, pv := range planned {
		if pv.Equal(prior[name]) {
			continue
		}
		a, ok := plan.Schema.GetAttributes()[name]
		if ok && !pv.IsKnown() && a.IsComputed() && !a.IsOptional() && !a.IsRequired() {
			continue
		}
		return
	}
	tflog.Debug(ctx, "the plan differs from the state in spelling only: no change")
	plan.Raw = state.Raw.Copy()
}

func (r *objectResource[T, M]) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = r.kind.typeName(req.ProviderTypeName)
}

func (r *objectResource[T, M]) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = r.kind.schema()
}

func (r *objectResource[T, M]) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

// UpgradeState has no upgraders while every schema is at version 0. When
// a change to a resource's schema would break the states written before
// it (an attribute changes type or meaning), bump the schema's Version and
// give its resource an UpgradeState with one StateUpgrader per earlier
// version, each with that version's PriorSchema kept in its own function,
// as terraform-provider-random's resource_password.go does.
// TestStateShapes (upgrade_test.go) fails until both are done.
func (r *objectResource[T, M]) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	return map[int64]resource.StateUpgrader{}
}

func (r *objectResource[T, M]) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	plan, in, ok := r.planned(ctx, req.Plan, &resp.Diagnostics)
	if !ok {
		return
	}
	r.createObject(ctx, in, plan, &resp.State, &resp.Diagnostics)
}

func (r *objectResource[T, M]) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state M
	resp.Diagnostics.Append(r.kind.getModel(ctx, req.State.Raw, req.State.Get, &state)...)
	id, prior, diags := objectIdentity(ctx, req.State)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = tflog.SetField(ctx, r.kind.idField(), id)
	out, err := r.kind.get(r.client, ctx, id)
	if errors.Is(err, client.ErrNotFound) {
		// Removed from state, the object shows in the plan as one to
		// create again.
		tflog.Debug(ctx, r.kind.noun()+" is gone; removing it from state")
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addClientError(&resp.Diagnostics, resp.State.Schema, r.kind.could("read"), err)
		return
	}
	// A revision that moved since the state was written is a change made
	// outside this run: say who made it (attribution.go).
	attribute(ctx, r.client, r.kind.typeName("aio"), r.kind.prefix, id, prior, metaOf(&out).Revision, &resp.Diagnostics)
	r.setState(ctx, out, state, &resp.State, &resp.Diagnostics)
}

func (r *objectResource[T, M]) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	plan, in, ok := r.planned(ctx, req.Plan, &resp.Diagnostics)
	if !ok {
		return
	}
	r.updateObject(ctx, req.State, in, plan, &resp.State, &resp.Diagnostics)
}

func (r *objectResource[T, M]) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	id, revision, diags := objectIdentity(ctx, req.State)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = tflog.SetField(ctx, r.kind.idField(), id)
	// An object that is already gone is what Delete wants.
	if err := r.kind.delete(r.client, ctx, id, revision); err != nil && !errors.Is(err, client.ErrNotFound) {
		addClientError(&resp.Diagnostics, req.State.Schema, r.kind.could("delete"), err)
		return
	}
	tflog.Debug(ctx, "deleted "+r.kind.noun())
}

func (r *objectResource[T, M]) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByID(ctx, r.kind.typeName("aio"), r.kind.prefix, req, resp)
}

// planned reads the plan and converts it to the API's form.
func (r *objectResource[T, M]) planned(ctx context.Context, plan tfsdk.Plan, diags *diag.Diagnostics) (M, T, bool) {
	var m M
	var in T
	diags.Append(r.kind.getModel(ctx, plan.Raw, plan.Get, &m)...)
	if diags.HasError() {
		return m, in, false
	}
	in, d := m.toAPI(ctx)
	diags.Append(d...)
	return m, in, !diags.HasError()
}

// createObject creates in and sets the state from aiod's answer, with
// plan as the prior model. It returns the created object and whether the
// state was set.
func (r *objectResource[T, M]) createObject(ctx context.Context, in T, plan M, state *tfsdk.State, diags *diag.Diagnostics) (T, bool) {
	out, err := r.kind.create(r.client, ctx, in)
	if err != nil {
		addClientError(diags, state.Schema, r.kind.could("create"), err)
		return out, false
	}
	meta := metaOf(&out)
	ctx = tflog.SetField(ctx, r.kind.idField(), meta.ID)
	tflog.Debug(ctx, "created "+r.kind.noun(), map[string]any{"revision": meta.Revision})
	return out, r.setState(ctx, out, plan, state, diags)
}

// updateObject replaces the object that prior (the state) holds with in,
// sending prior's revision as If-Match so that a change made since the
// refresh is not overwritten, and sets the state from aiod's answer, with
// plan as the prior model. It returns the updated object and whether the
// state was set.
func (r *objectResource[T, M]) updateObject(ctx context.Context, prior tfsdk.State, in T, plan M, state *tfsdk.State, diags *diag.Diagnostics) (T, bool) {
	var out T
	id, revision, d := objectIdentity(ctx, prior)
	diags.Append(d...)
	if diags.HasError() {
		return out, false
	}
	ctx = tflog.SetField(ctx, r.kind.idField(), id)
	out, err := r.kind.update(r.client, ctx, id, revision, in)
	if err != nil {
		addClientError(diags, state.Schema, r.kind.could("update"), err)
		return out, false
	}
	tflog.Debug(ctx, "updated "+r.kind.noun(), map[string]any{"revision": metaOf(&out).Revision})
	return out, r.setState(ctx, out, plan, state, diags)
}

// setState converts out to the model, with prior as the model it
// replaces, and sets it as the state. It returns whether it did.
func (r *objectResource[T, M]) setState(ctx context.Context, out T, prior M, state *tfsdk.State, diags *diag.Diagnostics) bool {
	m, d := r.kind.fromAPI(ctx, out, prior)
	diags.Append(d...)
	if diags.HasError() {
		return false
	}
	diags.Append(r.kind.setStateModel(ctx, state, m)...)
	return !diags.HasError()
}

// objectIdentity reads the id and revision that every object's state
// holds.
func objectIdentity(ctx context.Context, state tfsdk.State) (string, int64, diag.Diagnostics) {
	var id types.String
	var revision types.Int64
	diags := state.GetAttribute(ctx, path.Root("id"), &id)
	diags.Append(state.GetAttribute(ctx, path.Root("revision"), &revision)...)
	return id.ValueString(), revision.ValueInt64(), diags
}
