package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// durationType is the custom type of every duration attribute: a Go
// duration string such as "30s" or "1m30s", compared by length so that
// "60s" and "1m" are the same value.
//
// It follows timetypes.GoDurationType but validates with one plain message:
// timetypes' message prints a literal "\n\nGiven Value:" and says nothing
// about the positive durations aiod requires, so a bad value used to yield
// two errors, one of them without a location.
type durationType struct {
	basetypes.StringType
}

var (
	_ basetypes.StringTypable                    = durationType{}
	_ basetypes.StringValuableWithSemanticEquals = durationValue{}
	_ xattr.ValidateableAttribute                = durationValue{}
)

func (t durationType) String() string { return "provider.durationType" }

func (t durationType) ValueType(context.Context) attr.Value { return durationValue{} }

func (t durationType) Equal(o attr.Type) bool {
	_, ok := o.(durationType)
	return ok
}

func (t durationType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return durationValue{StringValue: in}, nil
}

func (t durationType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return durationValue{StringValue: s}, nil
}

// durationValue is a value of durationType.
type durationValue struct {
	basetypes.StringValue
}

func (v durationValue) Type(context.Context) attr.Type { return durationType{} }

func (v durationValue) Equal(o attr.Value) bool {
	other, ok := o.(durationValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

// StringSemanticEquals reports two durations of the same length as equal,
// so that the framework keeps the configured spelling.
func (v durationValue) StringSemanticEquals(_ context.Context, o basetypes.StringValuable) (bool, diag.Diagnostics) {
	other, ok := o.(durationValue)
	if !ok {
		return false, nil
	}
	a, errA := time.ParseDuration(v.ValueString())
	b, errB := time.ParseDuration(other.ValueString())
	return errA == nil && errB == nil && a == b, nil
}

// durationMessage is the one message for a value that is not a duration
// aiod accepts; aiod's own check says the same in fewer words.
const durationMessage = "must be a positive Go duration: a number with a unit, such as 500ms, 30s, 5m or 1h30m (units ns, us, ms, s, m and h; no d for days)"

// ValidateAttribute refuses anything but a positive Go duration, once and
// on the attribute's path. Unknown and null values are checked later, when
// they are known.
func (v durationValue) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if v.IsNull() || v.IsUnknown() {
		return
	}
	if d, err := time.ParseDuration(v.ValueString()); err != nil || d <= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("The value %q %s.", v.ValueString(), durationMessage))
	}
}

// ValueDuration returns the duration; zero for null, unknown or invalid.
func (v durationValue) ValueDuration() time.Duration {
	if v.IsNull() || v.IsUnknown() {
		return 0
	}
	d, _ := time.ParseDuration(v.ValueString())
	return d
}

// durationOf keeps a nil duration null.
func durationOf(s *string) durationValue {
	return durationValue{StringValue: basetypes.NewStringPointerValue(s)}
}

// holdDurationType is the custom type of the durations that may be zero
// (an alert threshold's pending_for and recovery_for, where "0s" means at
// once): durationType's semantics, with aiod's range from 0s to 7 days.
type holdDurationType struct {
	durationType
}

var (
	_ basetypes.StringTypable                    = holdDurationType{}
	_ basetypes.StringValuableWithSemanticEquals = holdDurationValue{}
	_ xattr.ValidateableAttribute                = holdDurationValue{}
)

func (t holdDurationType) String() string { return "provider.holdDurationType" }

func (t holdDurationType) ValueType(context.Context) attr.Value { return holdDurationValue{} }

func (t holdDurationType) Equal(o attr.Type) bool {
	_, ok := o.(holdDurationType)
	return ok
}

func (t holdDurationType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return holdDurationValue{durationValue{StringValue: in}}, nil
}

func (t holdDurationType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.durationType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	return holdDurationValue{v.(durationValue)}, nil
}

// holdDurationValue is a value of holdDurationType.
type holdDurationValue struct {
	durationValue
}

func (v holdDurationValue) Type(context.Context) attr.Type { return holdDurationType{} }

func (v holdDurationValue) Equal(o attr.Value) bool {
	other, ok := o.(holdDurationValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

// StringSemanticEquals reports two durations of the same length as equal,
// "0s" and "0m" included.
func (v holdDurationValue) StringSemanticEquals(ctx context.Context, o basetypes.StringValuable) (bool, diag.Diagnostics) {
	other, ok := o.(holdDurationValue)
	if !ok {
		return false, nil
	}
	return v.durationValue.StringSemanticEquals(ctx, other.durationValue)
}

// ValidateAttribute refuses anything but a Go duration from 0s to aiod's
// maximum, with aiod's own message.
func (v holdDurationValue) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if v.IsNull() || v.IsUnknown() {
		return
	}
	if _, err := api.ParseHoldDuration(v.ValueString(), api.MaxHoldDuration); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration", fmt.Sprintf("The value %q %s.", v.ValueString(), err.Error()))
	}
}

// holdDurationOf keeps a nil duration null.
func holdDurationOf(s *string) holdDurationValue {
	return holdDurationValue{durationOf(s)}
}

// durationPlanModifiers are the plan modifiers of every duration attribute
// of a resource.
func durationPlanModifiers() []planmodifier.String {
	return []planmodifier.String{keepEquivalentDuration{}}
}

// keepEquivalentDuration plans the prior state's spelling of a duration
// when the planned one means the same, such as "1m" (configured, or a
// default) over a state holding "60s" (an object imported after it was
// written elsewhere). The framework's semantic equality keeps a spelling
// only when a read or an apply answers; at plan time the two spellings
// would show as an update that changes nothing, and the plan after an
// import would not be empty.
type keepEquivalentDuration struct{}

var _ planmodifier.String = keepEquivalentDuration{}

func (keepEquivalentDuration) Description(context.Context) string {
	return "keeps the state's spelling of a duration of the same length"
}

func (m keepEquivalentDuration) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (keepEquivalentDuration) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if known(req.PlanValue) && known(req.StateValue) &&
		sameDuration(ctx, durationValue{StringValue: req.PlanValue}, durationValue{StringValue: req.StateValue}) {
		resp.PlanValue = req.StateValue
	}
}

// sameDuration tells whether two durations are both null or the same
// length, however written.
func sameDuration(ctx context.Context, a, b durationValue) bool {
	if a.IsNull() || b.IsNull() || a.IsUnknown() || b.IsUnknown() {
		return a.Equal(b)
	}
	eq, _ := a.StringSemanticEquals(ctx, b)
	return eq
}
