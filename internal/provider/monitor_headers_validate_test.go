package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestMonitorHeaderValuesRefuseControlCharacters: a header value with CR,
// LF or another control character is a plan-time error on its path, not a
// probe that fails later; a tab is fine.
func TestMonitorHeaderValuesRefuseControlCharacters(t *testing.T) {
	_, objType := monitorServer(t)
	reqType := objType.AttributeTypes["request"].(tftypes.Object)
	withHeader := func(value string) map[string]tftypes.Value {
		vals := map[string]tftypes.Value{}
		for name, typ := range reqType.AttributeTypes {
			vals[name] = tftypes.NewValue(typ, nil)
		}
		vals["headers"] = tftypes.NewValue(tftypes.Map{ElementType: tftypes.String},
			map[string]tftypes.Value{"x-foo": tftypes.NewValue(tftypes.String, value)})
		return map[string]tftypes.Value{
			"name":        tftypes.NewValue(tftypes.String, "m"),
			"endpoint_id": tftypes.NewValue(tftypes.String, "ep_x"),
			"type":        tftypes.NewValue(tftypes.String, "http"),
			"request":     tftypes.NewValue(reqType, vals),
		}
	}
	errorsOf := func(diags []*tfprotov6.Diagnostic) []string {
		var out []string
		for _, d := range diags {
			if d.Severity == tfprotov6.DiagnosticSeverityError {
				out = append(out, d.Attribute.String()+": "+d.Detail)
			}
		}
		return out
	}
	for _, bad := range []string{"a\r\nx-injected: 1", "a\nb", "nul\x00", "esc\x1b[0m", "del\x7f"} {
		errs := errorsOf(validateMonitor(t, withHeader(bad)))
		if len(errs) != 1 || !strings.Contains(errs[0], `ElementKeyString("x-foo")`) || !strings.Contains(errs[0], "control characters") {
			t.Errorf("header value %q: errors %q, want one on request.headers[\"x-foo\"]", bad, errs)
		}
	}
	if errs := errorsOf(validateMonitor(t, withHeader("a\tb ü"))); len(errs) != 0 {
		t.Errorf("a tab and non-ASCII text are valid: %q", errs)
	}
}

// TestMonitorBodyShapingHeadersRefused: accept-encoding, range, if-range
// and te are plan-time errors on their map key, reported once (the API's
// own error on the same field is skipped as schema-checked).
func TestMonitorBodyShapingHeadersRefused(t *testing.T) {
	_, objType := monitorServer(t)
	reqType := objType.AttributeTypes["request"].(tftypes.Object)
	for _, name := range []string{"accept-encoding", "range", "if-range", "te", "authorization"} {
		vals := map[string]tftypes.Value{}
		for n, typ := range reqType.AttributeTypes {
			vals[n] = tftypes.NewValue(typ, nil)
		}
		vals["headers"] = tftypes.NewValue(tftypes.Map{ElementType: tftypes.String},
			map[string]tftypes.Value{name: tftypes.NewValue(tftypes.String, "gzip"), "accept": tftypes.NewValue(tftypes.String, "*/*")})
		var errs []string
		for _, d := range validateMonitor(t, map[string]tftypes.Value{
			"name":        tftypes.NewValue(tftypes.String, "m"),
			"endpoint_id": tftypes.NewValue(tftypes.String, "ep_x"),
			"type":        tftypes.NewValue(tftypes.String, "http"),
			"request":     tftypes.NewValue(reqType, vals),
		}) {
			if d.Severity == tfprotov6.DiagnosticSeverityError {
				errs = append(errs, d.Attribute.String()+": "+d.Detail)
			}
		}
		if len(errs) != 1 || !strings.Contains(errs[0], `ElementKeyString("`+name+`")`) {
			t.Errorf("header %q: errors %q, want one on request.headers[%q]", name, errs, name)
		}
	}
}
