package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"sync/atomic"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// A refresh plan makes three calls per resource into the provider:
// UpgradeResourceState, ReadResource and PlanResourceChange. A profile of
// the provider during a plan of 1,000 unchanged aio_endpoint resources
// (make bench-terraform -provider-cpuprofile, eighth session) put 30 % of
// its CPU in PlanResourceChange and 12 % in UpgradeResourceState, nearly
// all of it the framework walking the schema attribute by attribute
// (defaults, write-only attributes, plan modifiers, a map of every
// attribute built at every step of every path) to arrive, for an unchanged
// resource, at the prior state it was given. For resources whose schema
// makes that answer certain, fastServer gives it without the walk and
// leaves every other call, and every other case, to the framework:
//
//   - UpgradeResourceState at the schema's own version: the framework only
//     decodes the stored JSON and encodes it again. fastServer hands
//     Terraform the JSON itself (the protocol lets a DynamicValue carry
//     JSON, and Terraform decodes either) when every key in it is an
//     attribute of the schema; a key the schema no longer has goes to the
//     framework, which drops it.
//   - PlanResourceChange when the proposed new state is the prior state,
//     byte for byte: nothing is unknown, so no plan modifier of the kinds
//     allowed below does anything, and what is left is the framework's
//     defaults and its checks of the values it reads. fastServer checks
//     both itself (an attribute with a default whose configuration is null
//     must already hold the default, or the plan is a change: drift of a
//     defaulted attribute; an RFC 3339 time, a duration or an integer must
//     pass, or the framework's refusal is the answer) and answers with the
//     prior state.
//
// TestFastPathAnswersAsTheFrameworkDoes holds both answers to the
// framework's on the same requests, for every kind, so a framework upgrade
// that changes what the framework would say fails there.
type fastServer struct {
	tfprotov6.ProviderServer

	kinds map[string]*fastKind

	// upgrades and plans count the calls answered here, so that tests can
	// show that a real Terraform's refresh takes this path.
	upgrades, plans atomic.Int64
}

var _ tfprotov6.ProviderServer = (*fastServer)(nil)

// fastKind is what the fast path needs to know of one resource type.
type fastKind struct {
	version int64
	typ     tftypes.Object
	// upgrade and plan say whether UpgradeResourceState and
	// PlanResourceChange may be answered here (fastKindOf, fastPlanOf).
	upgrade, plan bool
	// defaulted holds the attributes that have a default (at the top level
	// or in single nested objects), whose value is asked of the attribute
	// at every plan, as the framework does.
	defaulted []defaultedAttribute
	// valueType is the schema's type, and validated says whether the
	// framework may refuse any of its values when it reads a state
	// (checkedOnRead).
	valueType attr.Type
	validated bool
}

// NewProtocol6Server returns the provider's protocol server for
// providerserver-style factories: the framework's, wrapped in fastServer.
func NewProtocol6Server(p provider.Provider) func() (tfprotov6.ProviderServer, error) {
	framework := providerserver.NewProtocol6WithError(p)
	return func() (tfprotov6.ProviderServer, error) {
		s, err := framework()
		if err != nil {
			return nil, err
		}
		return newFastServer(context.Background(), p, s), nil
	}
}

// newFastServer wraps s, the framework's server of p.
func newFastServer(ctx context.Context, p provider.Provider, s tfprotov6.ProviderServer) *fastServer {
	kinds := map[string]*fastKind{}
	eachResourceSchema(ctx, p, func(typeName string, r resource.Resource, sch schema.Schema, diags diag.Diagnostics) {
		if diags.HasError() {
			return
		}
		if k, ok := fastKindOf(ctx, r, sch); ok {
			kinds[typeName] = k
		}
	})
	return &fastServer{ProviderServer: s, kinds: kinds}
}

// eachResourceSchema calls f with each of p's resources, its type name and
// its schema.
func eachResourceSchema(ctx context.Context, p provider.Provider, f func(typeName string, r resource.Resource, s schema.Schema, diags diag.Diagnostics)) {
	var meta provider.MetadataResponse
	p.Metadata(ctx, provider.MetadataRequest{}, &meta)
	for _, newResource := range p.Resources(ctx) {
		r := newResource()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: meta.TypeName}, &md)
		var sch resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sch)
		f(md.TypeName, r, sch.Schema, sch.Diagnostics)
	}
}

// allowedPlanModifiers are the plan modifiers that do nothing when the plan
// is the prior state: UseStateForUnknown acts only on an unknown planned
// value, and RequiresReplace (RequiresReplaceIf, the same type) returns
// before its condition when the planned value equals the prior one. They
// are told apart by their Go types, taken from the framework's own
// constructors.
var allowedPlanModifiers = map[reflect.Type]bool{
	reflect.TypeOf(stringplanmodifier.UseStateForUnknown()): true,
	reflect.TypeOf(stringplanmodifier.RequiresReplace()):    true,
	reflect.TypeOf(boolplanmodifier.UseStateForUnknown()):   true,
	reflect.TypeOf(boolplanmodifier.RequiresReplace()):      true,
	reflect.TypeOf(int64planmodifier.UseStateForUnknown()):  true,
	reflect.TypeOf(int64planmodifier.RequiresReplace()):     true,
	// It changes a planned duration only when it differs from the prior
	// one in spelling, which a plan equal to the prior state does not.
	reflect.TypeOf(keepEquivalentDuration{}): true,
}

func modifiersAllowed[M any](ms []M) bool {
	for _, m := range ms {
		if !allowedPlanModifiers[reflect.TypeOf(m)] {
			return false
		}
	}
	return true
}

// fastKindOf returns what the fast path knows of r. The stored JSON may
// stand for the upgraded state unless the schema has a dynamic value
// anywhere, whose JSON says its own type.
func fastKindOf(ctx context.Context, r resource.Resource, s schema.Schema) (*fastKind, bool) {
	typ, ok := s.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		return nil, false
	}
	k := &fastKind{version: s.Version, typ: typ, upgrade: !hasDynamic(typ), valueType: s.Type()}
	k.validated = checkedOnRead(ctx, s.Type())
	k.defaulted, k.plan = fastPlanOf(ctx, r, s)
	return k, k.upgrade || k.plan
}

// defaultedAttribute is an attribute with a default and its path, through
// single nested objects only.
type defaultedAttribute struct {
	path path.Path
	attr schema.Attribute
}

// unchangedPlanKeeper is implemented by resources whose ModifyPlan does
// nothing when the plan is the prior state (and says so in a test), so
// that the fast path may answer for them. A kind that embeds the generic
// resource (which keeps) but whose ModifyPlan does not keep answers false.
type unchangedPlanKeeper interface {
	resource.ResourceWithModifyPlan
	modifyPlanKeepsUnchangedPlans() bool
}

// fastPlanOf decides whether an unchanged plan of r may be answered here,
// and returns its attributes with defaults. It may not when r has its own
// ModifyPlan (which may say something about any plan) without being an
// unchangedPlanKeeper, or an identity (which the framework plans too),
// blocks, a write-only attribute, a plan modifier outside
// allowedPlanModifiers, or a default inside a list, set or map, or on a
// type whose defaults it does not read.
func fastPlanOf(ctx context.Context, r resource.Resource, s schema.Schema) ([]defaultedAttribute, bool) {
	if _, ok := r.(resource.ResourceWithModifyPlan); ok {
		if k, ok := r.(unchangedPlanKeeper); !ok || !k.modifyPlanKeepsUnchangedPlans() {
			return nil, false
		}
	}
	if _, ok := r.(resource.ResourceWithIdentity); ok || len(s.Blocks) > 0 {
		return nil, false
	}
	var defaulted []defaultedAttribute
	for _, name := range slices.Sorted(maps.Keys(s.Attributes)) {
		d, ok := attributeFits(ctx, path.Root(name), s.Attributes[name], true)
		if !ok {
			return nil, false
		}
		defaulted = append(defaulted, d...)
	}
	for _, d := range defaulted {
		if _, ok := attributeDefault(ctx, d); !ok {
			return nil, false
		}
	}
	return defaulted, true
}

// attributeFits reports whether the fast path can stand in for the
// framework's plan of a at p, and returns the attributes with defaults in
// it. Defaults are only allowed where defaultsAllowed (at the top level
// and in single nested objects), on String, Bool and Int64 attributes.
func attributeFits(ctx context.Context, p path.Path, a schema.Attribute, defaultsAllowed bool) ([]defaultedAttribute, bool) {
	if a.IsWriteOnly() {
		return nil, false
	}
	leaf := func(hasDefault, modifiersOK bool) ([]defaultedAttribute, bool) {
		if !modifiersOK || (hasDefault && !defaultsAllowed) {
			return nil, false
		}
		if hasDefault {
			return []defaultedAttribute{{path: p, attr: a}}, true
		}
		return nil, true
	}
	switch a := a.(type) {
	case schema.StringAttribute:
		return leaf(a.Default != nil, modifiersAllowed(a.PlanModifiers))
	case schema.BoolAttribute:
		return leaf(a.Default != nil, modifiersAllowed(a.PlanModifiers))
	case schema.Int64Attribute:
		return leaf(a.Default != nil, modifiersAllowed(a.PlanModifiers))
	case schema.Float64Attribute:
		return nil, a.Default == nil && len(a.PlanModifiers) == 0
	case schema.MapAttribute:
		return nil, a.Default == nil && len(a.PlanModifiers) == 0
	case schema.ListAttribute:
		return nil, a.Default == nil && len(a.PlanModifiers) == 0
	case schema.SetAttribute:
		return nil, a.Default == nil && len(a.PlanModifiers) == 0
	case schema.SingleNestedAttribute:
		if a.Default != nil || len(a.PlanModifiers) > 0 {
			return nil, false
		}
		return nestedFits(ctx, p, a.Attributes, defaultsAllowed)
	case schema.ListNestedAttribute:
		if a.Default != nil || len(a.PlanModifiers) > 0 || len(a.NestedObject.PlanModifiers) > 0 {
			return nil, false
		}
		return nestedFits(ctx, p, a.NestedObject.Attributes, false)
	case schema.SetNestedAttribute:
		if a.Default != nil || len(a.PlanModifiers) > 0 || len(a.NestedObject.PlanModifiers) > 0 {
			return nil, false
		}
		return nestedFits(ctx, p, a.NestedObject.Attributes, false)
	case schema.MapNestedAttribute:
		if a.Default != nil || len(a.PlanModifiers) > 0 || len(a.NestedObject.PlanModifiers) > 0 {
			return nil, false
		}
		return nestedFits(ctx, p, a.NestedObject.Attributes, false)
	}
	return nil, false
}

// attributeDefault asks an attribute for its default, as the framework
// does at every plan, in Terraform's type system.
func attributeDefault(ctx context.Context, d defaultedAttribute) (tftypes.Value, bool) {
	switch a := d.attr.(type) {
	case schema.StringAttribute:
		var resp defaults.StringResponse
		a.Default.DefaultString(ctx, defaults.StringRequest{Path: d.path}, &resp)
		return defaultValue(ctx, resp.PlanValue, resp.Diagnostics.HasError())
	case schema.BoolAttribute:
		var resp defaults.BoolResponse
		a.Default.DefaultBool(ctx, defaults.BoolRequest{Path: d.path}, &resp)
		return defaultValue(ctx, resp.PlanValue, resp.Diagnostics.HasError())
	case schema.Int64Attribute:
		var resp defaults.Int64Response
		a.Default.DefaultInt64(ctx, defaults.Int64Request{Path: d.path}, &resp)
		return defaultValue(ctx, resp.PlanValue, resp.Diagnostics.HasError())
	}
	return tftypes.Value{}, false
}

// nestedFits applies attributeFits to the attributes of a nested object.
func nestedFits(ctx context.Context, p path.Path, attrs map[string]schema.Attribute, defaultsAllowed bool) ([]defaultedAttribute, bool) {
	var defaulted []defaultedAttribute
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		d, ok := attributeFits(ctx, p.AtName(name), attrs[name], defaultsAllowed)
		if !ok {
			return nil, false
		}
		defaulted = append(defaulted, d...)
	}
	return defaulted, true
}

// defaultValue converts a default to Terraform's type system.
func defaultValue(ctx context.Context, v interface {
	ToTerraformValue(context.Context) (tftypes.Value, error)
}, failed bool) (tftypes.Value, bool) {
	if failed {
		return tftypes.Value{}, false
	}
	tv, err := v.ToTerraformValue(ctx)
	return tv, err == nil && tv.IsKnown() && !tv.IsNull()
}

// hasDynamic reports whether t is or holds a dynamic value (or a tuple,
// which only a dynamic value can be).
func hasDynamic(t tftypes.Type) bool {
	return holds(t, func(t tftypes.Type) bool {
		_, tuple := t.(tftypes.Tuple)
		return tuple || t.Is(tftypes.DynamicPseudoType)
	})
}

// hasObjectOrBool reports whether t is or holds an object or a bool.
func hasObjectOrBool(t tftypes.Type) bool {
	return holds(t, func(t tftypes.Type) bool {
		_, object := t.(tftypes.Object)
		return object || t.Is(tftypes.Bool)
	})
}

// holds reports whether t, or any type t is made of, matches.
func holds(t tftypes.Type, match func(tftypes.Type) bool) bool {
	if match(t) {
		return true
	}
	switch t := t.(type) {
	case tftypes.Object:
		for _, at := range t.AttributeTypes {
			if holds(at, match) {
				return true
			}
		}
	case tftypes.List:
		return holds(t.ElementType, match)
	case tftypes.Set:
		return holds(t.ElementType, match)
	case tftypes.Map:
		return holds(t.ElementType, match)
	}
	return false
}

// checkedOnRead reports whether t is or holds a type whose values the
// framework may refuse when it reads a state: one that checks its values
// (validateValue: RFC 3339 times, durations), or an integer type (a number
// with a fraction, or out of range).
func checkedOnRead(ctx context.Context, t attr.Type) bool {
	switch t := t.(type) {
	case attr.TypeWithAttributeTypes:
		for _, at := range t.AttributeTypes() {
			if checkedOnRead(ctx, at) {
				return true
			}
		}
		return false
	case attr.TypeWithElementType:
		return checkedOnRead(ctx, t.ElementType())
	}
	if _, ok := t.ValueType(ctx).(xattr.ValidateableAttribute); ok {
		return true
	}
	//nolint:staticcheck // SA1019: deprecated, but the framework still runs it (validateValue).
	if _, ok := t.(xattr.TypeWithValidate); ok {
		return true
	}
	_, i64 := t.(basetypes.Int64Typable)
	_, i32 := t.(basetypes.Int32Typable)
	return i64 || i32
}

// valuesValid reports whether every value in v, of type t, that the
// framework checks when it reads a state (checkedOnRead) passes.
func valuesValid(ctx context.Context, t attr.Type, v tftypes.Value) bool {
	if v.IsNull() || !v.IsKnown() {
		return true
	}
	switch tt := t.(type) {
	case attr.TypeWithAttributeTypes:
		var fields map[string]tftypes.Value
		if v.As(&fields) != nil {
			return false
		}
		for name, at := range tt.AttributeTypes() {
			if f, ok := fields[name]; ok && !valuesValid(ctx, at, f) {
				return false
			}
		}
		return true
	case attr.TypeWithElementType:
		var elems []tftypes.Value
		if v.Type().Is(tftypes.Map{}) {
			var m map[string]tftypes.Value
			if v.As(&m) != nil {
				return false
			}
			elems = slices.Collect(maps.Values(m))
		} else if v.As(&elems) != nil {
			return false
		}
		for _, e := range elems {
			if !valuesValid(ctx, tt.ElementType(), e) {
				return false
			}
		}
		return true
	}
	if !checkedOnRead(ctx, t) {
		return true
	}
	av, err := t.ValueFromTerraform(ctx, v)
	if err != nil {
		return false
	}
	return !validateValue(ctx, path.Empty(), t, av, v).HasError()
}

// jsonFits reports whether every object in raw, read as a value of type t,
// has only keys that t's objects have, and every bool is one. It reads no
// deeper than objects and bools go: Terraform and the framework read every
// other JSON value alike.
func jsonFits(raw json.RawMessage, t tftypes.Type) bool {
	if !hasObjectOrBool(t) || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return true
	}
	if t.Is(tftypes.Bool) {
		// The framework reads 1 and 0 as a bool; Terraform refuses them.
		v := bytes.TrimSpace(raw)
		return bytes.Equal(v, []byte("true")) || bytes.Equal(v, []byte("false"))
	}
	switch t := t.(type) {
	case tftypes.Object:
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil {
			return false
		}
		for name, v := range fields {
			at, ok := t.AttributeTypes[name]
			if !ok || !jsonFits(v, at) {
				return false
			}
		}
		return true
	case tftypes.List:
		return jsonElementsFit(raw, t.ElementType)
	case tftypes.Set:
		return jsonElementsFit(raw, t.ElementType)
	case tftypes.Map:
		var elems map[string]json.RawMessage
		if json.Unmarshal(raw, &elems) != nil {
			return false
		}
		for _, v := range elems {
			if !jsonFits(v, t.ElementType) {
				return false
			}
		}
		return true
	}
	return false
}

func jsonElementsFit(raw json.RawMessage, elem tftypes.Type) bool {
	var elems []json.RawMessage
	if json.Unmarshal(raw, &elems) != nil {
		return false
	}
	for _, v := range elems {
		if !jsonFits(v, elem) {
			return false
		}
	}
	return true
}

// UpgradeResourceState answers at the schema's own version with the stored
// JSON when every key in it is one of the schema's attributes.
func (s *fastServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	if resp, ok := s.sameVersionUpgrade(req); ok {
		s.upgrades.Add(1)
		return resp, nil
	}
	return s.ProviderServer.UpgradeResourceState(ctx, req)
}

func (s *fastServer) sameVersionUpgrade(req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, bool) {
	if req == nil || req.RawState == nil || len(req.RawState.JSON) == 0 || len(req.RawState.Flatmap) > 0 {
		return nil, false
	}
	k := s.kinds[req.TypeName]
	if k == nil || !k.upgrade || req.Version != k.version {
		return nil, false
	}
	raw := bytes.TrimSpace(req.RawState.JSON)
	if len(raw) == 0 || raw[0] != '{' || !jsonFits(raw, k.typ) {
		return nil, false
	}
	return &tfprotov6.UpgradeResourceStateResponse{
		UpgradedState: &tfprotov6.DynamicValue{JSON: req.RawState.JSON},
	}, true
}

// PlanResourceChange answers an unchanged resource with its prior state.
func (s *fastServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	if resp, ok := s.unchangedPlan(ctx, req); ok {
		s.plans.Add(1)
		return resp, nil
	}
	return s.ProviderServer.PlanResourceChange(ctx, req)
}

// msgpackNil is how msgpack writes a null value: a null prior state is a
// create, a null proposed state a destroy.
const msgpackNil = 0xc0

func (s *fastServer) unchangedPlan(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, bool) {
	if req == nil || req.PriorState == nil || req.ProposedNewState == nil || req.Config == nil {
		return nil, false
	}
	// A deferral (of the provider's configuration, or of a resource) is
	// only possible where Terraform allows it: those plans go to the
	// framework, which answers them.
	if req.ClientCapabilities != nil && req.ClientCapabilities.DeferralAllowed {
		return nil, false
	}
	k := s.kinds[req.TypeName]
	if k == nil || !k.plan || len(req.PriorPrivate) > 0 {
		return nil, false
	}
	prior, proposed := req.PriorState.MsgPack, req.ProposedNewState.MsgPack
	if len(prior) == 0 || prior[0] == msgpackNil || !bytes.Equal(prior, proposed) {
		return nil, false
	}
	if len(k.defaulted) > 0 || k.validated {
		pv, err := req.PriorState.Unmarshal(k.typ)
		if err != nil {
			return nil, false
		}
		if k.validated && !valuesValid(ctx, k.valueType, pv) {
			return nil, false
		}
		if len(k.defaulted) > 0 && !k.holdsItsDefaults(ctx, req.Config, pv) {
			return nil, false
		}
	}
	return &tfprotov6.PlanResourceChangeResponse{
		PlannedState: &tfprotov6.DynamicValue{MsgPack: prior},
	}, true
}

// holdsItsDefaults reports whether every attribute with a default that the
// configuration leaves null already holds its default in the prior state,
// so that the framework would plan no change to it. The framework sets
// defaults while it walks the planned value (here the prior state): an
// attribute inside a null object is not reached, and one whose
// configured object is null has a null configuration.
func (k *fastKind) holdsItsDefaults(ctx context.Context, config *tfprotov6.DynamicValue, prior tftypes.Value) bool {
	cv, err := config.Unmarshal(k.typ)
	if err != nil || cv.IsNull() {
		return false
	}
	for _, d := range k.defaulted {
		p, c, reached, ok := valuesAt(prior, cv, d.path)
		if !ok {
			return false
		}
		if !reached || !c.IsNull() {
			continue
		}
		def, ok := attributeDefault(ctx, d)
		if !ok || !p.Equal(def) {
			return false
		}
	}
	return true
}

// valuesAt follows p, a path of attribute names, in the prior state and in
// the configuration. reached is false when an object on the way is null in
// the prior state; the configuration's value is null below a null object.
func valuesAt(prior, config tftypes.Value, p path.Path) (pv, cv tftypes.Value, reached, ok bool) {
	pv, cv = prior, config
	for _, step := range p.Steps() {
		name, isName := step.(path.PathStepAttributeName)
		if !isName {
			return pv, cv, false, false
		}
		if pv.IsNull() {
			return pv, cv, false, true
		}
		var fields map[string]tftypes.Value
		if pv.As(&fields) != nil {
			return pv, cv, false, false
		}
		pv = fields[string(name)]
		if !cv.IsNull() {
			var cfields map[string]tftypes.Value
			if cv.As(&cfields) != nil {
				return pv, cv, false, false
			}
			cv = cfields[string(name)]
		} else {
			cv = tftypes.NewValue(pv.Type(), nil)
		}
	}
	return pv, cv, true, true
}
