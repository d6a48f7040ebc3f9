package provider

import (
	"context"
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Every kind's model is one the codec handles (or the speed-up of issue
// 13 silently does not apply), and for values of every attribute known,
// null and unknown the codec reads and writes exactly what tfsdk's Get and
// Set do.
func TestModelCodecMatchesTheFramework(t *testing.T) {
	t.Run("endpoint", func(t *testing.T) { checkCodec(t, endpointKind) })
	t.Run("credential", func(t *testing.T) { checkCodec(t, credentialKind) })
	t.Run("monitor", func(t *testing.T) { checkCodec(t, monitorKind) })
	t.Run("alert_threshold", func(t *testing.T) { checkCodec(t, thresholdKind) })
	t.Run("notification_channel", func(t *testing.T) { checkCodec(t, channelKind) })
	t.Run("retention_policy", func(t *testing.T) { checkCodec(t, retentionKind) })
}

func checkCodec[T any, M objectModel[T]](t *testing.T, k *kind[T, M]) {
	ctx := t.Context()
	c := k.codec(ctx)
	if c == nil {
		t.Fatal("the kind's model has no codec: Get and Set fall back to the framework's reflection")
	}
	sch := k.schema()
	objType := sch.Type().TerraformType(ctx)
	for _, mode := range []sampleMode{sampleKnown, sampleNull, sampleUnknown, sampleMixed} {
		t.Run(mode.String(), func(t *testing.T) {
			raw := sampleObject(ctx, k.modelTypes(), mode, "")
			state := tfsdk.State{Schema: sch, Raw: raw}
			var want, got M
			if diags := state.Get(ctx, &want); diags.HasError() {
				t.Fatalf("the framework's Get: %v", diags)
			}
			if diags := k.getModel(ctx, raw, failingGet(t), &got); diags.HasError() {
				t.Fatalf("getModel: %v", diags)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decode differs from the framework's Get:\n got %+v\nwant %+v", got, want)
			}
			out := tfsdk.State{Schema: sch}
			if diags := k.setStateModel(ctx, &out, got); diags.HasError() {
				t.Fatal(diags)
			}
			enc := out.Raw
			if !enc.Equal(raw) {
				t.Errorf("encode(decode(raw)) differs from raw:\n got %s\nwant %s", enc, raw)
			}
			var set tfsdk.State
			set.Schema = sch
			if diags := set.Set(ctx, want); diags.HasError() {
				t.Fatal(diags)
			}
			if !enc.Equal(set.Raw) {
				t.Errorf("encode differs from the framework's Set:\n got %s\nwant %s", enc, set.Raw)
			}
		})
	}
	// A value that its custom type refuses (a time that is not one, a
	// duration out of range) is refused by both, with the same diagnostics.
	for name, at := range k.modelTypes() {
		if _, custom := validString(at); !custom {
			continue
		}
		raw := sampleObject(ctx, k.modelTypes(), sampleKnown, name)
		state := tfsdk.State{Schema: sch, Raw: raw}
		var want, got M
		wantDiags := state.Get(ctx, &want)
		_, gotDiags := c.decode(ctx, raw, &got)
		if !wantDiags.HasError() || !gotDiags.Equal(wantDiags) {
			t.Errorf("%s not valid: decode says %v, the framework %v", name, gotDiags, wantDiags)
		}
		if var0 := *new(M); !reflect.DeepEqual(got, var0) {
			t.Errorf("%s not valid: decode changed the model: %+v", name, got)
		}
		// The same value in a model is refused by a write too.
		var valid M
		if diags := k.getModel(ctx, sampleObject(ctx, k.modelTypes(), sampleKnown, ""), failingGet(t), &valid); diags.HasError() {
			t.Fatal(diags)
		}
		bad, _ := at.ValueFromTerraform(ctx, tftypes.NewValue(at.TerraformType(ctx), "not-valid"))
		setField(t, &valid, name, bad)
		wantSet := (&tfsdk.State{Schema: sch}).Set(ctx, valid)
		gotSet := k.setStateModel(ctx, &tfsdk.State{Schema: sch}, valid)
		if !wantSet.HasError() || !gotSet.Equal(wantSet) {
			t.Errorf("%s not valid, written: the codec says %v, the framework %v", name, gotSet, wantSet)
		}
	}
	// A null or unknown whole object is left to the framework, which says
	// what is wrong with it.
	for _, raw := range []tftypes.Value{tftypes.NewValue(objType, nil), tftypes.NewValue(objType, tftypes.UnknownValue)} {
		var m M
		if done, _ := c.decode(ctx, raw, &m); done {
			t.Errorf("decode of %s was not left to the framework", raw)
		}
		state := tfsdk.State{Schema: sch, Raw: raw}
		var want, got M
		wantDiags := state.Get(ctx, &want)
		if gotDiags := k.getModel(ctx, raw, state.Get, &got); !gotDiags.Equal(wantDiags) {
			t.Errorf("getModel of %s: %v, the framework %v", raw, gotDiags, wantDiags)
		}
	}
	// A model field holding a value of another type — the zero value of a
	// collection or an object, which a fromAPI may forget to set, or a
	// null of other element types — is refused at the attribute's path, as
	// the framework refuses it, and does not crash the provider.
	for _, f := range c.fields {
		var wrong []attr.Value
		switch f.typ.(type) {
		case types.ListType:
			wrong = []attr.Value{types.List{}, types.ListNull(types.BoolType)}
		case types.SetType:
			wrong = []attr.Value{types.Set{}, types.SetNull(types.BoolType)}
		case types.MapType:
			wrong = []attr.Value{types.Map{}, types.MapNull(types.BoolType)}
		case types.ObjectType:
			wrong = []attr.Value{types.Object{}, types.ObjectNull(map[string]attr.Type{"other": types.BoolType})}
		default:
			continue
		}
		for _, w := range wrong {
			var m M
			if diags := k.getModel(ctx, sampleObject(ctx, k.modelTypes(), sampleKnown, ""), failingGet(t), &m); diags.HasError() {
				t.Fatal(diags)
			}
			setField(t, &m, f.name, w)
			wantSet := (&tfsdk.State{Schema: sch}).Set(ctx, m)
			gotSet := k.setStateModel(ctx, &tfsdk.State{Schema: sch}, m)
			if !gotSet.HasError() || !wantSet.HasError() {
				t.Errorf("%s = %#v: the codec says %v, the framework %v; want errors from both", f.name, w, gotSet, wantSet)
				continue
			}
			if p := errorPath(gotSet); !p.Equal(path.Root(f.name)) || !p.Equal(errorPath(wantSet)) {
				t.Errorf("%s = %#v: the codec's error is at %s, the framework's at %s", f.name, w, p, errorPath(wantSet))
			}
		}
	}
}

// failingGet is a Get that fails the test: the codec must not fall back.
func failingGet(t *testing.T) func(context.Context, any) diag.Diagnostics {
	return func(context.Context, any) diag.Diagnostics {
		t.Helper()
		t.Error("the codec fell back to the framework's Get")
		return nil
	}
}

// setField sets the model field tagged name to v.
func setField(t *testing.T, m any, name string, v attr.Value) {
	t.Helper()
	mv := reflect.ValueOf(m).Elem()
	for i := range mv.NumField() {
		if mv.Type().Field(i).Tag.Get("tfsdk") == name {
			mv.Field(i).Set(reflect.ValueOf(v))
			return
		}
	}
	t.Fatalf("no field tagged %q", name)
}

// errorPath is the path of the first error of diags that has one.
func errorPath(diags diag.Diagnostics) path.Path {
	for _, d := range diags.Errors() {
		if wp, ok := d.(diag.DiagnosticWithPath); ok {
			return wp.Path()
		}
	}
	return path.Empty()
}

// A model the codec cannot handle is refused when the codec is built, so
// that its kind keeps the framework's conversion.
func TestModelCodecRefusesOtherShapes(t *testing.T) {
	ctx := t.Context()
	attrTypes := endpointKind.modelTypes()
	for name, model := range map[string]reflect.Type{
		"a Go string field": reflect.TypeFor[struct {
			ID string `tfsdk:"id"`
		}](),
		"an attribute missing": reflect.TypeFor[struct {
			ID types.String `tfsdk:"id"`
		}](),
		"not a struct": reflect.TypeFor[string](),
	} {
		if _, ok := newModelCodec(ctx, model, attrTypes); ok {
			t.Errorf("%s: a codec was built", name)
		}
	}
	one := func(t attr.Type) map[string]attr.Type { return map[string]attr.Type{"a": t} }
	for name, tc := range map[string]struct {
		model reflect.Type
		types map[string]attr.Type
	}{
		"a string for a duration": {reflect.TypeFor[struct {
			A types.String `tfsdk:"a"`
		}](), one(durationType{})},
		"a pointer field": {reflect.TypeFor[struct {
			A *types.String `tfsdk:"a"`
		}](), one(types.StringType)},
		"a tag twice": {reflect.TypeFor[struct {
			A types.String `tfsdk:"a"`
			B types.String `tfsdk:"a"`
		}](), one(types.StringType)},
		"a field left out with -": {reflect.TypeFor[struct {
			A types.String `tfsdk:"a"`
			B types.String `tfsdk:"-"`
		}](), one(types.StringType)},
		"a dynamic attribute": {reflect.TypeFor[struct {
			A types.Dynamic `tfsdk:"a"`
		}](), one(types.DynamicType)},
	} {
		if _, ok := newModelCodec(ctx, tc.model, tc.types); ok {
			t.Errorf("%s: a codec was built", name)
		}
	}
	if _, ok := newModelCodec(ctx, reflect.TypeFor[endpointModel](), attrTypes); !ok {
		t.Error("endpointModel: no codec")
	}
}

type sampleMode int

const (
	sampleKnown sampleMode = iota
	sampleNull
	sampleUnknown
	sampleMixed
)

func (m sampleMode) String() string {
	return [...]string{"known", "null", "unknown", "mixed"}[m]
}

// sampleObject is an object value of the attribute types attrs, as
// sampleValue makes them, with strings that a custom string type accepts
// (but for the attribute named bad, whose string is not valid).
func sampleObject(ctx context.Context, attrs map[string]attr.Type, mode sampleMode, bad string) tftypes.Value {
	vals := map[string]tftypes.Value{}
	types := map[string]tftypes.Type{}
	for i, name := range slices.Sorted(maps.Keys(attrs)) {
		at := attrs[name]
		tt := at.TerraformType(ctx)
		types[name] = tt
		vals[name] = sampleValue(tt, mode, i+1)
		if s, custom := validString(at); custom && vals[name].IsKnown() && !vals[name].IsNull() {
			if name == bad {
				s = "not-valid"
			}
			vals[name] = tftypes.NewValue(tt, s)
		}
	}
	return tftypes.NewValue(tftypes.Object{AttributeTypes: types}, vals)
}

// validString is a value that the custom string type at accepts, and
// whether at is one.
func validString(at attr.Type) (string, bool) {
	switch at.(type) {
	case timetypes.RFC3339Type:
		return "2026-11-30T03:00:00Z", true
	case durationType, holdDurationType:
		return "5m", true
	}
	return "", false
}

// sampleValue is a value of type t: every attribute known, null or
// unknown by mode (mixed takes turns by depth and position), nested values
// known with one element each.
func sampleValue(t tftypes.Type, mode sampleMode, n int) tftypes.Value {
	switch {
	case mode == sampleNull && n > 0:
		return tftypes.NewValue(t, nil)
	case mode == sampleUnknown && n > 0:
		return tftypes.NewValue(t, tftypes.UnknownValue)
	case mode == sampleMixed && n > 0 && n%3 == 1:
		return tftypes.NewValue(t, nil)
	case mode == sampleMixed && n > 0 && n%3 == 2:
		return tftypes.NewValue(t, tftypes.UnknownValue)
	}
	switch {
	case t.Is(tftypes.String):
		return tftypes.NewValue(t, fmt.Sprintf("v%d", n))
	case t.Is(tftypes.Number):
		return tftypes.NewValue(t, big.NewFloat(float64(n)))
	case t.Is(tftypes.Bool):
		return tftypes.NewValue(t, n%2 == 0)
	case t.Is(tftypes.Object{}):
		o := t.(tftypes.Object)
		vals := map[string]tftypes.Value{}
		i := 0
		for name, at := range o.AttributeTypes {
			i++
			sub := sampleKnown
			if mode == sampleMixed {
				sub = sampleMixed
			}
			if n == 0 {
				sub = mode
			}
			vals[name] = sampleValue(at, sub, n*10+i)
		}
		return tftypes.NewValue(t, vals)
	case t.Is(tftypes.List{}):
		return tftypes.NewValue(t, []tftypes.Value{sampleValue(t.(tftypes.List).ElementType, sampleKnown, n+1)})
	case t.Is(tftypes.Set{}):
		return tftypes.NewValue(t, []tftypes.Value{sampleValue(t.(tftypes.Set).ElementType, sampleKnown, n+1)})
	case t.Is(tftypes.Map{}):
		return tftypes.NewValue(t, map[string]tftypes.Value{"k": sampleValue(t.(tftypes.Map).ElementType, sampleKnown, n+1)})
	}
	panic(fmt.Sprintf("sampleValue: type %s", t))
}

// BenchmarkModelConversion reads a state into the endpoint model and
// writes it back, with the framework's Get and Set and with the codec: the
// pair a refresh does for every resource (issue 13).
func BenchmarkModelConversion(b *testing.B) {
	ctx := context.Background()
	sch := endpointKind.schema()
	raw := sampleObject(ctx, endpointKind.modelTypes(), sampleKnown, "")
	b.Run("framework", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m endpointModel
			if diags := (tfsdk.State{Schema: sch, Raw: raw}).Get(ctx, &m); diags.HasError() {
				b.Fatal(diags)
			}
			out := tfsdk.State{Schema: sch}
			if diags := out.Set(ctx, m); diags.HasError() {
				b.Fatal(diags)
			}
		}
	})
	b.Run("codec", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m endpointModel
			state := tfsdk.State{Schema: sch, Raw: raw}
			if diags := endpointKind.getModel(ctx, state.Raw, state.Get, &m); diags.HasError() {
				b.Fatal(diags)
			}
			out := tfsdk.State{Schema: sch}
			if diags := endpointKind.setStateModel(ctx, &out, m); diags.HasError() {
				b.Fatal(diags)
			}
		}
	})
}

// oddType makes a types.String of a null value and an oddValue of any
// other: a custom type the codec's build-time check cannot tell from a
// plain string.
type oddType struct{ basetypes.StringType }

type oddValue struct{ basetypes.StringValue }

func (oddType) ValueFromTerraform(_ context.Context, v tftypes.Value) (attr.Value, error) {
	if v.IsNull() {
		return types.StringNull(), nil
	}
	return oddValue{types.StringValue("odd")}, nil
}

// A type that makes another Go type for a known value than for a null one
// is an error at the attribute's path when read, as with the framework,
// not a panic, and the model is left as it was.
func TestModelCodecRefusesAnOddCustomType(t *testing.T) {
	ctx := t.Context()
	type model struct {
		A types.String `tfsdk:"a"`
	}
	c, ok := newModelCodec(ctx, reflect.TypeFor[model](), map[string]attr.Type{"a": oddType{}})
	if !ok {
		t.Fatal("no codec for a model that looks fine when built")
	}
	raw := tftypes.NewValue(c.tfType, map[string]tftypes.Value{"a": tftypes.NewValue(tftypes.String, "x")})
	m := model{A: types.StringValue("before")}
	done, diags := c.decode(ctx, raw, &m)
	if !done || !diags.HasError() || !errorPath(diags).Equal(path.Root("a")) {
		t.Errorf("decode: done %v, %v; want an error at a", done, diags)
	}
	if m.A.ValueString() != "before" {
		t.Errorf("the model changed: %+v", m)
	}
}
