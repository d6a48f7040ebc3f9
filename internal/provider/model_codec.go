package provider

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// modelCodec converts between a kind's model and the Terraform value of
// its plan or state, as tfsdk's Get and Set do, without their cost. A
// profile of the provider during a refresh of 1,000 endpoints (issue 13)
// showed the framework's reflection spending about a tenth of the
// provider's CPU on a Get and a Set per resource: it reads every field's
// struct tag again on each call (compiling a regular expression per field)
// and walks the schema by path for every attribute. The codec reads the
// model's fields once per kind and then converts attribute by attribute
// with the schema's own attribute types, so values are exactly those the
// framework would make (a types.String from the string type, a
// timetypes.RFC3339 from its custom type, and so on).
//
// It only handles models whose every field is an attr.Value of its
// attribute's value type and whose tags name every attribute once; for any
// other model it reports !ok when built and the kind uses tfsdk's Get and
// Set, so a new kind with another shape still works, only slower.
type modelCodec struct {
	tfType tftypes.Object
	fields []codecField
}

// codecField is one model field: its attribute's name and type, and its
// index in the struct.
type codecField struct {
	name  string
	typ   attr.Type
	index int
}

// newModelCodec builds the codec of model, a struct type, for the
// attribute types attrTypes, or returns false when the model has a shape
// the codec does not handle.
func newModelCodec(ctx context.Context, model reflect.Type, attrTypes map[string]attr.Type) (*modelCodec, bool) {
	if model.Kind() != reflect.Struct {
		return nil, false
	}
	tfType, ok := types.ObjectType{AttrTypes: attrTypes}.TerraformType(ctx).(tftypes.Object)
	if !ok {
		return nil, false
	}
	c := &modelCodec{tfType: tfType}
	for _, t := range tfType.AttributeTypes {
		// A dynamic attribute's value carries its own type, which the
		// framework keeps apart from the object's; leave that to it.
		if t.Is(tftypes.DynamicPseudoType) {
			return nil, false
		}
	}
	valueType := reflect.TypeFor[attr.Value]()
	seen := map[string]bool{}
	for i := range model.NumField() {
		f := model.Field(i)
		name := f.Tag.Get("tfsdk")
		typ, known := attrTypes[name]
		if !f.IsExported() || !known || seen[name] || !f.Type.Implements(valueType) {
			return nil, false
		}
		// The field must hold what the attribute's type makes, or an
		// assignment would panic; a null value tells which type that is.
		null, err := typ.ValueFromTerraform(ctx, tftypes.NewValue(typ.TerraformType(ctx), nil))
		if err != nil || reflect.TypeOf(null) != f.Type {
			return nil, false
		}
		seen[name] = true
		c.fields = append(c.fields, codecField{name: name, typ: typ, index: i})
	}
	if len(seen) != len(attrTypes) {
		return nil, false
	}
	return c, true
}

// decode sets *target (a pointer to the model) from raw, a known object of
// the codec's type. It returns false, with nothing set, when raw is null,
// unknown or of another type: the caller then uses tfsdk's Get, which
// reports such cases as the framework does.
func (c *modelCodec) decode(ctx context.Context, raw tftypes.Value, target any) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	if !raw.IsKnown() || raw.IsNull() || !raw.Type().Equal(c.tfType) {
		return false, diags
	}
	var values map[string]tftypes.Value
	if err := raw.As(&values); err != nil {
		return false, diags
	}
	// Filled apart and copied at the end: on an error the target is left
	// as it was, as the framework's Get leaves it.
	dst := reflect.ValueOf(target).Elem()
	out := reflect.New(dst.Type()).Elem()
	for _, f := range c.fields {
		tv := values[f.name]
		v, err := f.typ.ValueFromTerraform(ctx, tv)
		if err != nil {
			diags.Append(conversionError(f.name, err))
			return true, diags
		}
		if diags.Append(validateValue(ctx, path.Root(f.name), f.typ, v, tv)...); diags.HasError() {
			return true, diags
		}
		// The field's type was checked against a null value when the
		// codec was built; a type could still make another Go type of a
		// known value, and Set would then panic.
		if v == nil || reflect.TypeOf(v) != out.Field(f.index).Type() {
			diags.Append(conversionError(f.name, fmt.Errorf("the attribute's type made a %T, not the model's %s", v, out.Field(f.index).Type())))
			return true, diags
		}
		out.Field(f.index).Set(reflect.ValueOf(v))
	}
	dst.Set(out)
	return true, diags
}

// conversionError is the diagnostic of an attribute the codec cannot
// convert: always an error in the provider, at the attribute's path.
func conversionError(name string, err error) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root(name), "Value Conversion Error",
		fmt.Sprintf("An unexpected error was encountered converting the %q attribute. This is always an error in the provider. Please report it to the provider developers.\n\nError: %s", name, err))
}

// encode converts m, the model, to the Terraform value of the codec's
// type.
func (c *modelCodec) encode(ctx context.Context, m any) (tftypes.Value, diag.Diagnostics) {
	var diags diag.Diagnostics
	in := reflect.ValueOf(m)
	values := make(map[string]tftypes.Value, len(c.fields))
	for _, f := range c.fields {
		av, _ := in.Field(f.index).Interface().(attr.Value)
		// A value of another type, such as the zero value of a list (no
		// element type, whose conversion would panic) or an object of
		// other attributes, is refused at its path, as the framework's Set
		// refuses it.
		if av == nil || !f.typ.TerraformType(ctx).Equal(av.Type(ctx).TerraformType(ctx)) {
			diags.Append(conversionError(f.name, fmt.Errorf("the model holds a value of another type than the attribute's %s", f.typ)))
			return tftypes.Value{}, diags
		}
		v, err := av.ToTerraformValue(ctx)
		if err != nil {
			diags.Append(conversionError(f.name, err))
			return tftypes.Value{}, diags
		}
		if diags.Append(validateValue(ctx, path.Root(f.name), f.typ, av, v)...); diags.HasError() {
			return tftypes.Value{}, diags
		}
		values[f.name] = v
	}
	if err := tftypes.ValidateValue(c.tfType, values); err != nil {
		diags.AddError("Value Conversion Error",
			fmt.Sprintf("An unexpected error was encountered converting the model. This is always an error in the provider. Please report it to the provider developers.\n\nError: %s", err))
		return tftypes.Value{}, diags
	}
	return tftypes.NewValue(c.tfType, values), diags
}

// validateValue checks v, a value of typ at p (tv in Terraform's form), as
// the framework does whenever it reads one (Get and Set, and the states
// of a plan): a custom type's value validates itself (a timetypes.RFC3339
// that is not a time, a duration out of range), with p in its diagnostics.
// The model codec and the refresh's fast path (valuesValid) both use it.
func validateValue(ctx context.Context, p path.Path, typ attr.Type, v attr.Value, tv tftypes.Value) diag.Diagnostics {
	if va, ok := v.(xattr.ValidateableAttribute); ok {
		var resp xattr.ValidateAttributeResponse
		va.ValidateAttribute(ctx, xattr.ValidateAttributeRequest{Path: p}, &resp)
		return resp.Diagnostics
	}
	//nolint:staticcheck // SA1019: deprecated, but the framework still runs it, so the codec does too.
	if tw, ok := typ.(xattr.TypeWithValidate); ok {
		return tw.Validate(ctx, tv, p)
	}
	return nil
}

// kindCodec holds a kind's codec, built on first use.
type kindCodec struct {
	once  sync.Once
	codec *modelCodec
}

// codec returns the kind's model codec, or nil when its model has a shape
// the codec does not handle.
func (k *kind[T, M]) codec(ctx context.Context) *modelCodec {
	k.models.once.Do(func() {
		if c, ok := newModelCodec(ctx, reflect.TypeFor[M](), k.modelTypes()); ok {
			k.models.codec = c
		}
	})
	return k.models.codec
}

// getModel reads a plan's or a state's raw value into *m, as its Get
// would.
func (k *kind[T, M]) getModel(ctx context.Context, raw tftypes.Value, get func(context.Context, any) diag.Diagnostics, m *M) diag.Diagnostics {
	if c := k.codec(ctx); c != nil {
		if done, diags := c.decode(ctx, raw, m); done {
			return diags
		}
	}
	return get(ctx, m)
}

// setStateModel sets the state to m, as the state's Set would.
func (k *kind[T, M]) setStateModel(ctx context.Context, state *tfsdk.State, m M) diag.Diagnostics {
	if c := k.codec(ctx); c != nil {
		v, diags := c.encode(ctx, m)
		if diags.HasError() {
			return diags
		}
		return state.Set(ctx, v)
	}
	return state.Set(ctx, m)
}
