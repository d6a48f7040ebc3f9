package provider

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// fastPathKinds is which RPCs the fast path answers for each resource
// type: the upgrade for every kind, the plan for the kinds without a
// ModifyPlan of their own (or one that keeps unchanged plans), write-only
// attributes or defaults inside lists, sets or maps.
var fastPathKinds = map[string]struct{ upgrade, plan bool }{
	"aio_endpoint":             {upgrade: true, plan: true},
	"aio_retention_policy":     {upgrade: true, plan: true},
	"aio_alert_threshold":      {upgrade: true, plan: true},
	"aio_monitor":              {upgrade: true, plan: true},
	"aio_credential":           {upgrade: true, plan: false},
	"aio_notification_channel": {upgrade: true, plan: false},
}

func TestFastPathServesTheExpectedKinds(t *testing.T) {
	_, _, fast, schemas := newTestFastServers(t)
	for typeName := range schemas.ResourceSchemas {
		want, ok := fastPathKinds[typeName]
		if !ok {
			t.Errorf("%s: not in fastPathKinds; say which RPCs the fast path should answer for it", typeName)
			continue
		}
		k := fast.kinds[typeName]
		got := struct{ upgrade, plan bool }{}
		if k != nil {
			got.upgrade, got.plan = k.upgrade, k.plan
		}
		if got != want {
			t.Errorf("%s: fast path answers upgrade=%v plan=%v, want upgrade=%v plan=%v", typeName, got.upgrade, got.plan, want.upgrade, want.plan)
		}
	}
	if d := fast.kinds["aio_endpoint"].defaulted; len(d) != 1 || d[0].path.String() != "data_classification" {
		t.Errorf("aio_endpoint defaults = %v, want data_classification alone", d)
	}
}

// TestFastPathAnswersAsTheFrameworkDoes sends the framework's server and
// the fast path the same requests, built as Terraform builds them (cty
// values, encoded with cty's msgpack and JSON), and requires the same
// answers, as Terraform decodes them: for every kind, prior states with
// random values, configurations that leave them unchanged (with defaulted
// attributes null or set, holding their default or having drifted from it)
// or change them, and stored JSON with a key too many or too few.
func TestFastPathAnswersAsTheFrameworkDoes(t *testing.T) {
	ctx := context.Background()
	p, fw, fast, schemas := newTestFastServers(t)
	frameworkSchemas := resourceSchemas(t, p)
	names := make([]string, 0, len(schemas.ResourceSchemas))
	for n := range schemas.ResourceSchemas {
		names = append(names, n)
	}
	slices.Sort(names)
	for i, typeName := range names {
		t.Run(typeName, func(t *testing.T) {
			sch := schemas.ResourceSchemas[typeName]
			fsch := frameworkSchemas[typeName]
			objType := sch.ValueType().(tftypes.Object)
			ty := ctyTypeOf(objType)
			g := &valueGen{rng: rand.New(rand.NewPCG(8, uint64(i))), defaults: map[string]cty.Value{}}
			if k := fast.kinds[typeName]; k != nil {
				for _, d := range k.defaulted {
					def, ok := attributeDefault(ctx, d)
					if !ok {
						t.Fatalf("%s: no default", d.path)
					}
					g.defaults[d.path.String()] = ctyValueOf(t, def)
				}
			}
			planHits, upgradeHits := fast.plans.Load(), fast.upgrades.Load()
			const cases = 300
			for c := range cases {
				prior, config := g.priorAndConfig(ctx, fsch, c%10 < 7)
				proposed := proposedNew(fsch, prior, config)
				req := &tfprotov6.PlanResourceChangeRequest{
					TypeName:         typeName,
					PriorState:       msgpackValue(t, prior, ty),
					ProposedNewState: msgpackValue(t, proposed, ty),
					Config:           msgpackValue(t, config, ty),
				}
				if c%5 == 4 {
					// Private state as the framework writes it (a
					// provider key whose value is JSON, base64-encoded).
					req.PriorPrivate = []byte(`{"secret_revision":"MQ=="}`)
				}
				want, err := fw.PlanResourceChange(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				got, err := fast.PlanResourceChange(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				samePlan(t, c, ty, got, want)

				stored := storedJSON(t, g, prior, ty, c)
				ureq := &tfprotov6.UpgradeResourceStateRequest{
					TypeName: typeName, Version: sch.Version, RawState: &tfprotov6.RawState{JSON: stored},
				}
				uwant, err := fw.UpgradeResourceState(ctx, ureq)
				if err != nil {
					t.Fatal(err)
				}
				ugot, err := fast.UpgradeResourceState(ctx, ureq)
				if err != nil {
					t.Fatal(err)
				}
				sameUpgrade(t, c, ty, stored, ugot, uwant)
			}
			planHits, upgradeHits = fast.plans.Load()-planHits, fast.upgrades.Load()-upgradeHits
			t.Logf("%s: the fast path answered %d of %d plans and %d of %d upgrades", typeName, planHits, cases, upgradeHits, cases)
			want := fastPathKinds[typeName]
			// Both ways must be taken where the fast path serves a kind:
			// a test whose every case goes to the framework proves nothing.
			if want.plan && (planHits < cases/10 || planHits > cases*9/10) {
				t.Errorf("fast plans = %d of %d: the cases do not cover both the fast path and the framework's", planHits, cases)
			}
			if !want.plan && planHits != 0 {
				t.Errorf("fast plans = %d for a kind the fast path must leave to the framework", planHits)
			}
			if want.upgrade && (upgradeHits < cases/10 || upgradeHits > cases*9/10) {
				t.Errorf("fast upgrades = %d of %d: the cases do not cover both ways", upgradeHits, cases)
			}
			if !want.upgrade && upgradeHits != 0 {
				t.Errorf("fast upgrades = %d for a kind the fast path must leave to the framework", upgradeHits)
			}
		})
	}
}

// resourceSchemas returns the framework schema of each of p's resources.
func resourceSchemas(t *testing.T, p provider.Provider) map[string]schema.Schema {
	t.Helper()
	out := map[string]schema.Schema{}
	eachResourceSchema(context.Background(), p, func(typeName string, _ fwresource.Resource, s schema.Schema, diags diag.Diagnostics) {
		if diags.HasError() {
			t.Fatalf("%s: %v", typeName, diags)
		}
		out[typeName] = s
	})
	return out
}

// newTestFastServers returns the provider's framework server, the fast
// path around it, and their resource schemas.
func newTestFastServers(tb testing.TB) (provider.Provider, tfprotov6.ProviderServer, *fastServer, *tfprotov6.GetProviderSchemaResponse) {
	tb.Helper()
	ctx := context.Background()
	p := New("test")()
	fw, err := providerserver.NewProtocol6WithError(p)()
	if err != nil {
		tb.Fatal(err)
	}
	schemas, err := fw.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		tb.Fatal(err)
	}
	return p, fw, newFastServer(ctx, p, fw), schemas
}

func samePlan(t *testing.T, c int, ty cty.Type, got, want *tfprotov6.PlanResourceChangeResponse) {
	t.Helper()
	// The framework stops at one of several bad values, which one varying
	// from call to call (it walks maps): where it refuses, the fast path
	// must refuse too, and answers need not be compared further.
	if hasError(want.Diagnostics) || hasError(got.Diagnostics) {
		if !hasError(want.Diagnostics) || !hasError(got.Diagnostics) {
			t.Fatalf("case %d: diagnostics %v, the framework's %v", c, diagSummaries(got.Diagnostics), diagSummaries(want.Diagnostics))
		}
		return
	}
	if fmt.Sprint(diagSummaries(got.Diagnostics)) != fmt.Sprint(diagSummaries(want.Diagnostics)) {
		t.Fatalf("case %d: diagnostics %v, the framework's %v", c, diagSummaries(got.Diagnostics), diagSummaries(want.Diagnostics))
	}
	if fmt.Sprint(got.RequiresReplace) != fmt.Sprint(want.RequiresReplace) {
		t.Fatalf("case %d: requires replace %v, the framework's %v", c, got.RequiresReplace, want.RequiresReplace)
	}
	if got.PlannedIdentity != nil || want.PlannedIdentity != nil {
		t.Fatalf("case %d: identity %v, the framework's %v", c, got.PlannedIdentity, want.PlannedIdentity)
	}
	if !bytes.Equal(got.PlannedPrivate, want.PlannedPrivate) || got.Deferred != nil || want.Deferred != nil {
		t.Fatalf("case %d: private %q deferred %v, the framework's %q %v", c, got.PlannedPrivate, got.Deferred, want.PlannedPrivate, want.Deferred)
	}
	g, w := decodeDynamic(t, got.PlannedState, ty), decodeDynamic(t, want.PlannedState, ty)
	if !g.RawEquals(w) {
		t.Fatalf("case %d: planned\n%#v\nthe framework's\n%#v", c, g, w)
	}
}

func sameUpgrade(t *testing.T, c int, ty cty.Type, stored []byte, got, want *tfprotov6.UpgradeResourceStateResponse) {
	t.Helper()
	if hasError(want.Diagnostics) || hasError(got.Diagnostics) {
		if !hasError(want.Diagnostics) || !hasError(got.Diagnostics) {
			t.Fatalf("case %d: upgrade of %s: diagnostics %v, the framework's %v", c, stored, diagSummaries(got.Diagnostics), diagSummaries(want.Diagnostics))
		}
		return
	}
	if fmt.Sprint(diagSummaries(got.Diagnostics)) != fmt.Sprint(diagSummaries(want.Diagnostics)) {
		t.Fatalf("case %d: upgrade of %s: diagnostics %v, the framework's %v", c, stored, diagSummaries(got.Diagnostics), diagSummaries(want.Diagnostics))
	}
	g, w := decodeDynamic(t, got.UpgradedState, ty), decodeDynamic(t, want.UpgradedState, ty)
	if !g.RawEquals(w) {
		t.Fatalf("case %d: upgrade of %s:\n%#v\nthe framework's\n%#v", c, stored, g, w)
	}
}

func hasError(ds []*tfprotov6.Diagnostic) bool {
	return slices.ContainsFunc(ds, func(d *tfprotov6.Diagnostic) bool { return d.Severity == tfprotov6.DiagnosticSeverityError })
}

// diagSummaries lists the diagnostics in order (the framework walks maps:
// its order varies).
func diagSummaries(ds []*tfprotov6.Diagnostic) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%v %s %v", d.Severity, d.Summary, d.Attribute))
	}
	slices.Sort(out)
	return out
}

// decodeDynamic decodes an answer as Terraform does (plugin6's
// decodeDynamicValue): msgpack if there is any, else JSON.
func decodeDynamic(t *testing.T, v *tfprotov6.DynamicValue, ty cty.Type) cty.Value {
	t.Helper()
	if v == nil {
		return cty.NullVal(ty)
	}
	var out cty.Value
	var err error
	switch {
	case len(v.MsgPack) > 0:
		out, err = ctymsgpack.Unmarshal(v.MsgPack, ty)
	case len(v.JSON) > 0:
		out, err = ctyjson.Unmarshal(v.JSON, ty)
	default:
		return cty.NullVal(ty)
	}
	if err != nil {
		t.Fatalf("Terraform could not decode the answer: %v", err)
	}
	return out
}

func msgpackValue(t *testing.T, v cty.Value, ty cty.Type) *tfprotov6.DynamicValue {
	t.Helper()
	b, err := ctymsgpack.Marshal(v, ty)
	if err != nil {
		t.Fatal(err)
	}
	return &tfprotov6.DynamicValue{MsgPack: b}
}

// storedJSON is the state's attributes as Terraform stores them, and for
// some cases with a key the schema does not have (at the top or in a
// nested object) or without one of its keys.
func storedJSON(t *testing.T, g *valueGen, prior cty.Value, ty cty.Type, c int) []byte {
	t.Helper()
	b, err := ctyjson.Marshal(prior, ty)
	if err != nil {
		t.Fatal(err)
	}
	switch c % 6 {
	case 1:
		return append([]byte(`{"removed_attribute":"x",`), b[1:]...)
	case 2:
		// A key too many inside the first nested object there is, if any.
		if i := bytes.Index(b[1:], []byte(`{"`)); i >= 0 {
			at := i + 1 + 1
			return slices.Concat(b[:at], []byte(`"removed_nested":1,`), b[at:])
		}
	case 4:
		// A bool written as a number, which the framework reads and
		// Terraform does not.
		if i := bytes.Index(b, []byte(`":true`)); i >= 0 {
			return slices.Concat(b[:i+2], []byte("1"), b[i+6:])
		}
	case 3:
		// Without the first key.
		if i := bytes.IndexByte(b, ','); i > 0 && g.rng.IntN(2) == 0 {
			return append([]byte("{"), b[i+1:]...)
		}
	}
	return b
}

// proposedNew is Terraform's proposed new state (objchange.ProposedNew for
// attributes): the configuration, but the prior value of a computed
// attribute that the configuration leaves null, in single nested objects
// too; lists, sets and maps of objects take the configuration (none of
// their attributes is computed in AIO's schemas).
func proposedNew(sch schema.Schema, prior, config cty.Value) cty.Value {
	return proposedAttrs(sch.Attributes, prior, config)
}

func proposedAttrs(attrs map[string]schema.Attribute, prior, config cty.Value) cty.Value {
	if config.IsNull() {
		return config
	}
	out := map[string]cty.Value{}
	for name, a := range attrs {
		cv := config.GetAttr(name)
		pv := cty.NullVal(cv.Type())
		if !prior.IsNull() {
			pv = prior.GetAttr(name)
		}
		switch nested, isSingle := a.(schema.SingleNestedAttribute); {
		case a.IsComputed() && cv.IsNull():
			out[name] = pv
		case isSingle:
			out[name] = proposedAttrs(nested.Attributes, pv, cv)
		default:
			out[name] = cv
		}
	}
	return cty.ObjectVal(out)
}

// nestedConfig is the configuration of a single nested object that leaves
// its prior value unchanged: computed-only attributes null, optional and
// computed ones null half the time (to be proposed from the prior value,
// which holds the default or has drifted from it), the rest as before.
func (g *valueGen) nestedConfig(attrs map[string]schema.Attribute, prior cty.Value) cty.Value {
	if prior.IsNull() {
		return prior
	}
	out := map[string]cty.Value{}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a, pv := attrs[name], prior.GetAttr(name)
		nested, isSingle := a.(schema.SingleNestedAttribute)
		switch {
		case a.IsComputed() && !a.IsOptional():
			out[name] = cty.NullVal(pv.Type())
		case a.IsComputed() && g.rng.IntN(2) == 0:
			out[name] = cty.NullVal(pv.Type())
		case isSingle:
			out[name] = g.nestedConfig(nested.Attributes, pv)
		default:
			out[name] = pv
		}
	}
	return cty.ObjectVal(out)
}

// valueGen makes random values of a schema's types.
type valueGen struct {
	rng      *rand.Rand
	defaults map[string]cty.Value
}

// priorAndConfig returns a prior state and a configuration: unchanged
// (every configured value is the prior one) or, when !unchanged, with some
// attributes changed. An optional and computed attribute with a default is
// left null in the configuration half the time, its prior value the
// default half of those.
func (g *valueGen) priorAndConfig(ctx context.Context, sch schema.Schema, unchanged bool) (cty.Value, cty.Value) {
	prior, config := map[string]cty.Value{}, map[string]cty.Value{}
	// In the order of the names, so that a seed makes the same values.
	for _, name := range slices.Sorted(maps.Keys(sch.Attributes)) {
		a := sch.Attributes[name]
		at := a.GetType()
		ty := ctyTypeOf(at.TerraformType(ctx))
		pv := g.value(ctx, at, name)
		if a.IsOptional() && !a.IsComputed() && g.rng.IntN(3) == 0 {
			pv = cty.NullVal(ty)
		}
		cv := pv
		switch {
		case a.IsComputed() && !a.IsOptional():
			cv = cty.NullVal(ty)
		case a.IsOptional() && a.IsComputed():
			if g.rng.IntN(2) == 0 {
				cv = cty.NullVal(ty)
				if def, ok := g.defaults[name]; ok && g.rng.IntN(2) == 0 {
					pv = def
				}
			}
		}
		if !unchanged && (a.IsOptional() || a.IsRequired()) && g.rng.IntN(3) == 0 {
			cv = g.value(ctx, at, name)
		}
		if a.IsWriteOnly() {
			pv = cty.NullVal(ty)
		}
		if nested, ok := a.(schema.SingleNestedAttribute); ok && cv.RawEquals(pv) {
			cv = g.nestedConfig(nested.Attributes, pv)
		}
		prior[name], config[name] = pv, cv
	}
	return cty.ObjectVal(prior), cty.ObjectVal(config)
}

// value returns a random known value of t at path at (its default half the
// time if it has one); for a custom type that checks
// its values (the framework does when it reads a state), one in 25 fails
// the check, as a hand-edited state could.
func (g *valueGen) value(ctx context.Context, t attr.Type, at string) cty.Value {
	if def, ok := g.defaults[at]; ok && g.rng.IntN(2) == 0 {
		return def
	}
	pick := func(pool ...string) cty.Value { return cty.StringVal(pool[g.rng.IntN(len(pool))]) }
	switch t := t.(type) {
	case timetypes.RFC3339Type:
		if g.rng.IntN(25) == 0 {
			return cty.StringVal("not a time")
		}
		return pick("2026-11-30T05:43:41Z", "2026-11-30T05:43:41.116151Z")
	case holdDurationType:
		if g.rng.IntN(25) == 0 {
			return cty.StringVal("soon")
		}
		return pick("0s", "5m", "1h")
	case durationType:
		if g.rng.IntN(25) == 0 {
			return cty.StringVal("0s")
		}
		return pick("5m", "1h", "24h")
	case attr.TypeWithAttributeTypes:
		m := map[string]cty.Value{}
		for _, name := range slices.Sorted(maps.Keys(t.AttributeTypes())) {
			attrType := t.AttributeTypes()[name]
			if g.rng.IntN(4) == 0 {
				m[name] = cty.NullVal(ctyTypeOf(attrType.TerraformType(ctx)))
				continue
			}
			m[name] = g.value(ctx, attrType, at+"."+name)
		}
		return cty.ObjectVal(m)
	case attr.TypeWithElementType:
		elemType := ctyTypeOf(t.ElementType().TerraformType(ctx))
		elems := g.values(ctx, t.ElementType(), at+"[]")
		switch t.TerraformType(ctx).(type) {
		case tftypes.List:
			if len(elems) == 0 {
				return cty.ListValEmpty(elemType)
			}
			return cty.ListVal(elems)
		case tftypes.Set:
			if len(elems) == 0 {
				return cty.SetValEmpty(elemType)
			}
			return cty.SetVal(elems)
		default:
			if len(elems) == 0 {
				return cty.MapValEmpty(elemType)
			}
			m := map[string]cty.Value{}
			for i, e := range elems {
				m[fmt.Sprintf("k%d", i)] = e
			}
			return cty.MapVal(m)
		}
	}
	tt := t.TerraformType(ctx)
	switch {
	case tt.Is(tftypes.String):
		pool := []string{"a", "internal", "pii", "https://x.example/"}
		for _, name := range slices.Sorted(maps.Keys(g.defaults)) {
			if d := g.defaults[name]; d.Type() == cty.String {
				pool = append(pool, d.AsString())
			}
		}
		return pick(pool...)
	case tt.Is(tftypes.Bool):
		return cty.BoolVal(g.rng.IntN(2) == 0)
	case tt.Is(tftypes.Number):
		if _, ok := t.(basetypes.Int64Typable); ok {
			if g.rng.IntN(25) == 0 {
				// Not an integer: a hand-edited state.
				return cty.MustParseNumberVal("1.5")
			}
			return cty.NumberIntVal(int64(g.rng.IntN(100)))
		}
		pool := []cty.Value{cty.NumberIntVal(1), cty.NumberIntVal(30), cty.NumberFloatVal(99.9), cty.MustParseNumberVal("99.9"), cty.NumberFloatVal(0.5)}
		return pool[g.rng.IntN(len(pool))]
	}
	panic(fmt.Sprintf("no generator for %s", t))
}

func (g *valueGen) values(ctx context.Context, t attr.Type, at string) []cty.Value {
	out := make([]cty.Value, g.rng.IntN(3))
	for i := range out {
		out[i] = g.value(ctx, t, at)
	}
	return out
}

// ctyTypeOf is t in cty's type system.
func ctyTypeOf(t tftypes.Type) cty.Type {
	switch {
	case t.Is(tftypes.String):
		return cty.String
	case t.Is(tftypes.Bool):
		return cty.Bool
	case t.Is(tftypes.Number):
		return cty.Number
	case t.Is(tftypes.DynamicPseudoType):
		return cty.DynamicPseudoType
	}
	switch t := t.(type) {
	case tftypes.List:
		return cty.List(ctyTypeOf(t.ElementType))
	case tftypes.Set:
		return cty.Set(ctyTypeOf(t.ElementType))
	case tftypes.Map:
		return cty.Map(ctyTypeOf(t.ElementType))
	case tftypes.Object:
		attrs := map[string]cty.Type{}
		for name, at := range t.AttributeTypes {
			attrs[name] = ctyTypeOf(at)
		}
		if len(t.OptionalAttributes) > 0 {
			return cty.ObjectWithOptionalAttrs(attrs, slices.Sorted(func(yield func(string) bool) {
				for name := range t.OptionalAttributes {
					if !yield(name) {
						return
					}
				}
			}))
		}
		return cty.Object(attrs)
	}
	panic(fmt.Sprintf("no cty type for %s", t))
}

// ctyValueOf converts a primitive tftypes value (a default) to cty.
func ctyValueOf(t *testing.T, v tftypes.Value) cty.Value {
	t.Helper()
	b, err := tfprotov6.NewDynamicValue(v.Type(), v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ctymsgpack.Unmarshal(b.MsgPack, ctyTypeOf(v.Type()))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fakeResource is a resource with a given schema, for the fast path's
// refusals; it is never applied.
type fakeResource struct{ schema schema.Schema }

func (r fakeResource) Metadata(_ context.Context, req fwresource.MetadataRequest, resp *fwresource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_thing"
}
func (r fakeResource) Schema(_ context.Context, _ fwresource.SchemaRequest, resp *fwresource.SchemaResponse) {
	resp.Schema = r.schema
}
func (fakeResource) Create(context.Context, fwresource.CreateRequest, *fwresource.CreateResponse) {}
func (fakeResource) Read(context.Context, fwresource.ReadRequest, *fwresource.ReadResponse)       {}
func (fakeResource) Update(context.Context, fwresource.UpdateRequest, *fwresource.UpdateResponse) {}
func (fakeResource) Delete(context.Context, fwresource.DeleteRequest, *fwresource.DeleteResponse) {}

// nowUnknown is a plan modifier that plans every value unknown: one the
// fast path knows nothing of.
type nowUnknown struct{}

func (nowUnknown) Description(context.Context) string         { return "plans the value unknown" }
func (nowUnknown) MarkdownDescription(context.Context) string { return "plans the value unknown" }
func (nowUnknown) PlanModifyString(_ context.Context, _ planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	resp.PlanValue = types.StringUnknown()
}

// fakeIdentityResource has an identity, which the framework plans too.
type fakeIdentityResource struct{ fakeResource }

func (fakeIdentityResource) IdentitySchema(context.Context, fwresource.IdentitySchemaRequest, *fwresource.IdentitySchemaResponse) {
}

// fakeModifyPlanResource has a ModifyPlan of its own.
type fakeModifyPlanResource struct{ fakeResource }

func (fakeModifyPlanResource) ModifyPlan(context.Context, fwresource.ModifyPlanRequest, *fwresource.ModifyPlanResponse) {
}

// TestFastPathRefusesWhatItCannotAnswer shows each thing that keeps a kind
// off the fast path doing so, beside a schema that has none of them.
func TestFastPathRefusesWhatItCannotAnswer(t *testing.T) {
	ctx := context.Background()
	base := func(extra map[string]schema.Attribute) schema.Schema {
		attrs := map[string]schema.Attribute{
			"id":    schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name":  schema.StringAttribute{Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"class": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("internal")},
			"nested": schema.SingleNestedAttribute{Optional: true, Attributes: map[string]schema.Attribute{
				"limit": schema.Float64Attribute{Optional: true},
			}},
		}
		maps.Copy(attrs, extra)
		return schema.Schema{Attributes: attrs}
	}
	cases := []struct {
		name          string
		r             fwresource.Resource
		upgrade, plan bool
	}{
		{"plain", fakeResource{base(nil)}, true, true},
		{"own ModifyPlan", fakeModifyPlanResource{fakeResource{base(nil)}}, true, false},
		{"an identity", fakeIdentityResource{fakeResource{base(nil)}}, true, false},
		{"another plan modifier", fakeResource{base(map[string]schema.Attribute{
			"region": schema.StringAttribute{Optional: true, PlanModifiers: []planmodifier.String{nowUnknown{}}},
		})}, true, false},
		{"a default in a single nested object", fakeResource{base(map[string]schema.Attribute{
			"request": schema.SingleNestedAttribute{Optional: true, Attributes: map[string]schema.Attribute{
				"method": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("GET")},
			}},
		})}, true, true},
		{"a default in a list of objects", fakeResource{base(map[string]schema.Attribute{
			"rules": schema.ListNestedAttribute{Optional: true, NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"method": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("GET")},
			}}},
		})}, true, false},
		{"write-only", fakeResource{base(map[string]schema.Attribute{
			"secret": schema.StringAttribute{Optional: true, WriteOnly: true},
		})}, true, false},
		{"a block", fakeResource{schema.Schema{Attributes: base(nil).Attributes, Blocks: map[string]schema.Block{
			"rule": schema.ListNestedBlock{NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{"x": schema.StringAttribute{Optional: true}}}},
		}}}, true, false},
		{"a map default", fakeResource{base(map[string]schema.Attribute{
			"labels": schema.MapAttribute{Optional: true, Computed: true, ElementType: types.StringType, Default: mapdefault.StaticValue(types.MapValueMust(types.StringType, map[string]attr.Value{}))},
		})}, true, false},
		{"a dynamic value", fakeResource{base(map[string]schema.Attribute{
			"anything": schema.DynamicAttribute{Optional: true},
		})}, false, false},
	}
	for _, c := range cases {
		var sch fwresource.SchemaResponse
		c.r.Schema(ctx, fwresource.SchemaRequest{}, &sch)
		k, ok := fastKindOf(ctx, c.r, sch.Schema)
		var upgrade, plan bool
		if ok {
			upgrade, plan = k.upgrade, k.plan
		}
		if upgrade != c.upgrade || plan != c.plan {
			t.Errorf("%s: upgrade=%v plan=%v, want upgrade=%v plan=%v", c.name, upgrade, plan, c.upgrade, c.plan)
		}
	}
}

// countingFactories serve the provider as testAccProtoV6ProviderFactories
// do, and keep every fast path server they start, so that a test can count
// what a real Terraform's calls took the fast path.
func countingFactories() (map[string]func() (tfprotov6.ProviderServer, error), func() (upgrades, plans int64)) {
	var mu sync.Mutex
	var servers []*fastServer
	factories := map[string]func() (tfprotov6.ProviderServer, error){
		"aio": func() (tfprotov6.ProviderServer, error) {
			s, err := NewProtocol6Server(New("test")())()
			if fs, ok := s.(*fastServer); ok {
				mu.Lock()
				servers = append(servers, fs)
				mu.Unlock()
			}
			return s, err
		},
	}
	return factories, func() (upgrades, plans int64) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range servers {
			upgrades += s.upgrades.Load()
			plans += s.plans.Load()
		}
		return upgrades, plans
	}
}

// TestAccFastPath_refreshAndDriftOfADefault runs a real Terraform's
// refresh through the fast path, and changes out of band two attributes
// that the configuration leaves to their defaults (an endpoint's
// data_classification, a retention policy's enabled): the fast path must
// not hide that drift, the plan shows it, and the apply restores it.
func TestAccFastPath_refreshAndDriftOfADefault(t *testing.T) {
	srv := newTestServer(t)
	c := apiClient(t, srv)
	factories, counts := countingFactories()
	cfg := srv.ProviderConfig(api.RoleEditor) + `
resource "aio_endpoint" "test" {
  name = "ledger"
  url  = "https://ledger.example.com"
}

resource "aio_retention_policy" "test" {
` + retentionBody + `
}
`
	var endpointID, policyID string
	var upgrades, plans int64
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		TerraformVersionChecks:   testAccVersionChecks,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(s *terraform.State) error {
					endpointID = s.RootModule().Resources[endpointAddr].Primary.ID
					policyID = s.RootModule().Resources[retentionAddr].Primary.ID
					return nil
				},
			},
			{
				PreConfig:          func() { upgrades, plans = counts() },
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: false,
			},
			{
				PreConfig: func() {
					// The refresh of the unchanged pair took the fast path
					// for both calls of both resources.
					u, p := counts()
					if u-upgrades < 2 || p-plans < 2 {
						t.Errorf("the plan of two unchanged resources took the fast path for %d upgrades and %d plans, want at least 2 of each", u-upgrades, p-plans)
					}
					e, err := c.GetEndpoint(testContext(), endpointID)
					if err != nil {
						t.Fatal(err)
					}
					e.DataClassification = api.ClassPII
					if _, err := c.UpdateEndpoint(testContext(), endpointID, e.Revision, e); err != nil {
						t.Fatal(err)
					}
					rp, err := c.GetRetentionPolicy(testContext(), policyID)
					if err != nil {
						t.Fatal(err)
					}
					off := false
					rp.Enabled = &off
					if _, err := c.UpdateRetentionPolicy(testContext(), policyID, rp.Revision, rp); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(endpointAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(endpointAddr, tfjsonpath.New("data_classification"), knownvalue.StringExact(api.ClassInternal)),
					plancheck.ExpectResourceAction(retentionAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(retentionAddr, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
				}},
				Check: func(*terraform.State) error {
					e, err := c.GetEndpoint(testContext(), endpointID)
					if err != nil {
						return err
					}
					rp, err := c.GetRetentionPolicy(testContext(), policyID)
					if err != nil {
						return err
					}
					if e.DataClassification != api.ClassInternal || !rp.IsEnabled() {
						return fmt.Errorf("apply did not restore the defaults: data_classification %q, enabled %v", e.DataClassification, rp.IsEnabled())
					}
					return nil
				},
			},
		},
	})
}

// BenchmarkRefreshCalls times the two calls of a refresh plan that the fast
// path answers, for one unchanged aio_endpoint as Terraform sends them,
// through the framework's server and through the fast path.
func BenchmarkRefreshCalls(b *testing.B) {
	ctx := context.Background()
	_, fw, fast, schemas := newTestFastServers(b)
	upgrade, plan := unchangedEndpointRequests(b, schemas)
	for _, srv := range []struct {
		name string
		s    tfprotov6.ProviderServer
	}{{"framework", fw}, {"fast", fast}} {
		b.Run(srv.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if resp, err := srv.s.UpgradeResourceState(ctx, upgrade); err != nil || len(resp.Diagnostics) > 0 {
					b.Fatal(err, resp.Diagnostics)
				}
				if resp, err := srv.s.PlanResourceChange(ctx, plan); err != nil || len(resp.Diagnostics) > 0 {
					b.Fatal(err, resp.Diagnostics)
				}
			}
		})
	}
	if fast.plans.Load() == 0 || fast.upgrades.Load() == 0 {
		b.Fatalf("the fast path answered %d plans and %d upgrades: the benchmark does not measure it", fast.plans.Load(), fast.upgrades.Load())
	}
}

// unchangedEndpointRequests are the upgrade and the plan Terraform sends for
// one unchanged aio_endpoint of make bench-terraform, its
// data_classification left to the default.
func unchangedEndpointRequests(tb testing.TB, schemas *tfprotov6.GetProviderSchemaResponse) (*tfprotov6.UpgradeResourceStateRequest, *tfprotov6.PlanResourceChangeRequest) {
	tb.Helper()
	ty := ctyTypeOf(schemas.ResourceSchemas["aio_endpoint"].ValueType())
	state := cty.ObjectVal(map[string]cty.Value{
		"id": cty.StringVal("ep_01m8nfnyswka0rg5nw6k35wtxd"), "name": cty.StringVal("bench-1000-0-0"),
		"url": cty.StringVal("https://svc-0.example.com/"), "api_version": cty.NullVal(cty.String),
		"description": cty.NullVal(cty.String), "owner": cty.NullVal(cty.String),
		"data_classification": cty.StringVal("internal"), "tags": cty.NullVal(cty.Map(cty.String)),
		"credential_id": cty.NullVal(cty.String), "revision": cty.NumberIntVal(1),
		"created_at": cty.StringVal("2026-11-30T05:43:41.116151Z"), "updated_at": cty.StringVal("2026-11-30T05:43:41.116151Z"),
	})
	config := cty.ObjectVal(map[string]cty.Value{
		"id": cty.NullVal(cty.String), "name": cty.StringVal("bench-1000-0-0"),
		"url": cty.StringVal("https://svc-0.example.com/"), "api_version": cty.NullVal(cty.String),
		"description": cty.NullVal(cty.String), "owner": cty.NullVal(cty.String),
		"data_classification": cty.NullVal(cty.String), "tags": cty.NullVal(cty.Map(cty.String)),
		"credential_id": cty.NullVal(cty.String), "revision": cty.NullVal(cty.Number),
		"created_at": cty.NullVal(cty.String), "updated_at": cty.NullVal(cty.String),
	})
	stateMsgpack, err := ctymsgpack.Marshal(state, ty)
	if err != nil {
		tb.Fatal(err)
	}
	configMsgpack, err := ctymsgpack.Marshal(config, ty)
	if err != nil {
		tb.Fatal(err)
	}
	stored, err := ctyjson.Marshal(state, ty)
	if err != nil {
		tb.Fatal(err)
	}
	upgrade := &tfprotov6.UpgradeResourceStateRequest{TypeName: "aio_endpoint", RawState: &tfprotov6.RawState{JSON: stored}}
	plan := &tfprotov6.PlanResourceChangeRequest{
		TypeName:         "aio_endpoint",
		PriorState:       &tfprotov6.DynamicValue{MsgPack: stateMsgpack},
		ProposedNewState: &tfprotov6.DynamicValue{MsgPack: stateMsgpack},
		Config:           &tfprotov6.DynamicValue{MsgPack: configMsgpack},
	}
	return upgrade, plan
}

// TestFastPathLeavesDeferrablePlansToTheFramework: where Terraform allows
// deferrals, the framework may answer with one, so the fast path does not
// answer.
func TestFastPathLeavesDeferrablePlansToTheFramework(t *testing.T) {
	ctx := context.Background()
	_, _, fast, schemas := newTestFastServers(t)
	_, plan := unchangedEndpointRequests(t, schemas)
	if _, ok := fast.unchangedPlan(ctx, plan); !ok {
		t.Fatal("the fast path does not answer an unchanged endpoint")
	}
	plan.ClientCapabilities = &tfprotov6.PlanResourceChangeClientCapabilities{DeferralAllowed: true}
	if _, ok := fast.unchangedPlan(ctx, plan); ok {
		t.Error("the fast path answers a plan that Terraform allows to be deferred")
	}
}

// TestMonitorModifyPlanKeepsAnUnchangedPlan holds monitorResource to what
// it tells the fast path (unchangedPlanKeeper): its ModifyPlan, configured
// with a real aiod, leaves a plan that is the prior state alone, with no
// diagnostic, even for an http monitor of a tcp:// endpoint; the same
// ModifyPlan warns about that monitor once its type changes, so the check
// is reached.
func TestMonitorModifyPlanKeepsAnUnchangedPlan(t *testing.T) {
	ctx := context.Background()
	srv := newTestServer(t)
	c := apiClient(t, srv)
	ep, err := c.CreateEndpoint(ctx, api.Endpoint{Name: "db", URL: "tcp://db.internal:5432"})
	if err != nil {
		t.Fatal(err)
	}
	r := NewMonitorResource().(*monitorResource)
	var cresp fwresource.ConfigureResponse
	r.Configure(ctx, fwresource.ConfigureRequest{ProviderData: c}, &cresp)
	if cresp.Diagnostics.HasError() {
		t.Fatal(cresp.Diagnostics)
	}
	sch := monitorResourceSchema()
	monitor := func(typ string) tftypes.Value {
		objType := sch.Type().TerraformType(ctx).(tftypes.Object)
		fields := map[string]tftypes.Value{}
		for name, at := range objType.AttributeTypes {
			fields[name] = tftypes.NewValue(at, nil)
		}
		fields["name"] = tftypes.NewValue(tftypes.String, "db-over-http")
		fields["endpoint_id"] = tftypes.NewValue(tftypes.String, ep.ID)
		fields["type"] = tftypes.NewValue(tftypes.String, typ)
		return tftypes.NewValue(objType, fields)
	}
	modify := func(prior, planned tftypes.Value) fwresource.ModifyPlanResponse {
		req := fwresource.ModifyPlanRequest{
			Config: tfsdk.Config{Schema: sch, Raw: planned},
			Plan:   tfsdk.Plan{Schema: sch, Raw: planned},
			State:  tfsdk.State{Schema: sch, Raw: prior},
		}
		resp := fwresource.ModifyPlanResponse{Plan: req.Plan}
		r.ModifyPlan(ctx, req, &resp)
		return resp
	}
	unchanged := modify(monitor("http"), monitor("http"))
	if len(unchanged.Diagnostics) > 0 || !unchanged.Plan.Raw.Equal(monitor("http")) || unchanged.RequiresReplace != nil {
		t.Errorf("ModifyPlan of an unchanged monitor: diagnostics %v, plan changed %v, requires replace %v",
			unchanged.Diagnostics, !unchanged.Plan.Raw.Equal(monitor("http")), unchanged.RequiresReplace)
	}
	// And for generated monitors of every shape, half of them on the tcp://
	// endpoint, as a refresh would plan them unchanged.
	g := &valueGen{rng: rand.New(rand.NewPCG(8, 56)), defaults: map[string]cty.Value{}}
	ty := ctyTypeOf(sch.Type().TerraformType(ctx))
	for c := range 200 {
		prior, _ := g.priorAndConfig(ctx, sch, true)
		if c%2 == 0 {
			fields := prior.AsValueMap()
			fields["endpoint_id"] = cty.StringVal(ep.ID)
			fields["type"] = cty.StringVal("http")
			prior = cty.ObjectVal(fields)
		}
		raw, err := msgpackValue(t, prior, ty).Unmarshal(sch.Type().TerraformType(ctx))
		if err != nil {
			t.Fatal(err)
		}
		resp := modify(raw, raw)
		if len(resp.Diagnostics) > 0 || !resp.Plan.Raw.Equal(raw) || resp.RequiresReplace != nil {
			t.Fatalf("case %d: ModifyPlan of an unchanged monitor: diagnostics %v, requires replace %v", c, resp.Diagnostics, resp.RequiresReplace)
		}
	}
	changed := modify(monitor("tcp"), monitor("http"))
	if len(changed.Diagnostics) != 1 || changed.Diagnostics[0].Summary() != "Monitor type does not fit the endpoint" {
		t.Errorf("ModifyPlan of a monitor whose type changes to one its endpoint does not fit: diagnostics %v, want the warning", changed.Diagnostics)
	}
}

// fakeProvider serves one fakeResource, named fake_thing.
type fakeProvider struct{ r fwresource.Resource }

func (fakeProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "fake"
}
func (fakeProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}
func (fakeProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}
func (p fakeProvider) Resources(context.Context) []func() fwresource.Resource {
	return []func() fwresource.Resource{func() fwresource.Resource { return p.r }}
}
func (fakeProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

// TestFastPathDefaultUnderANullConfiguredObject: an optional and computed
// object that the configuration leaves null keeps its prior value in the
// proposed state, and the framework still sets the defaults inside it (the
// configuration's value there is null). The fast path must refuse when the
// prior value there is not the default, and may answer when it is. No AIO
// kind has such an object yet, hence a provider of its own.
func TestFastPathDefaultUnderANullConfiguredObject(t *testing.T) {
	ctx := context.Background()
	r := fakeResource{schema.Schema{Attributes: map[string]schema.Attribute{
		"id": schema.StringAttribute{Computed: true},
		"request": schema.SingleNestedAttribute{Optional: true, Computed: true, Attributes: map[string]schema.Attribute{
			"method": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("GET")},
		}},
	}}}
	p := fakeProvider{r: r}
	fw, err := providerserver.NewProtocol6WithError(p)()
	if err != nil {
		t.Fatal(err)
	}
	fast := newFastServer(ctx, p, fw)
	if k := fast.kinds["fake_thing"]; k == nil || !k.plan {
		t.Fatal("the fast path does not answer for fake_thing")
	}
	ty := cty.Object(map[string]cty.Type{"id": cty.String, "request": cty.Object(map[string]cty.Type{"method": cty.String})})
	config := cty.ObjectVal(map[string]cty.Value{"id": cty.NullVal(cty.String), "request": cty.NullVal(ty.AttributeType("request"))})
	for _, method := range []string{"POST", "GET"} {
		prior := cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal("x"), "request": cty.ObjectVal(map[string]cty.Value{"method": cty.StringVal(method)})})
		req := &tfprotov6.PlanResourceChangeRequest{
			TypeName:         "fake_thing",
			PriorState:       msgpackValue(t, prior, ty),
			ProposedNewState: msgpackValue(t, prior, ty),
			Config:           msgpackValue(t, config, ty),
		}
		want, err := fw.PlanResourceChange(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		before := fast.plans.Load()
		got, err := fast.PlanResourceChange(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		samePlan(t, 0, ty, got, want)
		answered := fast.plans.Load() > before
		// The framework plans a change where the default is not held.
		if unchanged := decodeDynamic(t, want.PlannedState, ty).RawEquals(prior); unchanged != (method == "GET") {
			t.Errorf("prior method %s: the framework planned no change = %v", method, unchanged)
		}
		if answered != (method == "GET") {
			t.Errorf("prior method %s: the fast path answered = %v", method, answered)
		}
	}
}
