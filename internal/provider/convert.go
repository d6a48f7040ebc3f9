package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Small converters shared by every object's modelFromAPI and toAPI.

// stringPtr returns nil for a null (or unknown) string: null stays null on
// the wire.
func stringPtr(v types.String) *string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	s := v.ValueString()
	return &s
}

// tagsToAPI keeps a null map nil and an empty map empty.
func tagsToAPI(ctx context.Context, v types.Map) (map[string]string, diag.Diagnostics) {
	if v.IsNull() || v.IsUnknown() {
		return nil, nil
	}
	out := map[string]string{}
	diags := v.ElementsAs(ctx, &out, false)
	return out, diags
}

// tagsFromAPI keeps a nil map null and an empty map empty.
func tagsFromAPI(tags map[string]string) types.Map {
	if tags == nil {
		return types.MapNull(types.StringType)
	}
	return types.MapValueMust(types.StringType, stringMapValues(tags))
}

func stringMapValues(m map[string]string) map[string]attr.Value {
	out := make(map[string]attr.Value, len(m))
	for k, v := range m {
		out[k] = types.StringValue(v)
	}
	return out
}

// timeValue renders a server timestamp the same way on every read, so that
// import and refresh compare equal.
func timeValue(t time.Time) timetypes.RFC3339 {
	if t.IsZero() {
		return timetypes.NewRFC3339Null()
	}
	// RFC3339Nano keeps the microseconds aiod stores; NewRFC3339TimeValue
	// would cut them, and a time read back as a filter (an audit event's
	// time as since) would then match the whole second.
	return timetypes.NewRFC3339ValueMust(t.UTC().Format(time.RFC3339Nano))
}

// stringSetFromAPI keeps a nil slice null and an empty one empty.
func stringSetFromAPI(v []string) types.Set {
	if v == nil {
		return types.SetNull(types.StringType)
	}
	elems := make([]attr.Value, len(v))
	for i, s := range v {
		elems[i] = types.StringValue(s)
	}
	return types.SetValueMust(types.StringType, elems)
}
