package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// monitorServer serves the provider over the plugin protocol, in process,
// and returns the object type of aio_monitor.
func monitorServer(t *testing.T) (tfprotov6.ProviderServer, tftypes.Object) {
	t.Helper()
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, schemas.ResourceSchemas["aio_monitor"].ValueType().(tftypes.Object)
}

// validateMonitor sends a monitor configuration through the provider's
// real ValidateResourceConfig, as terraform validate does, and returns the
// diagnostics.
func validateMonitor(t *testing.T, attrs map[string]tftypes.Value) []*tfprotov6.Diagnostic {
	t.Helper()
	ctx := context.Background()
	srv, objType := monitorServer(t)
	vals := map[string]tftypes.Value{}
	for name, typ := range objType.AttributeTypes {
		if v, ok := attrs[name]; ok {
			vals[name] = v
		} else {
			vals[name] = tftypes.NewValue(typ, nil)
		}
	}
	cfg, err := tfprotov6.NewDynamicValue(objType, tftypes.NewValue(objType, vals))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "aio_monitor", Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Diagnostics
}

func TestMonitorRetriesOutlastingTheIntervalWarn(t *testing.T) {
	_, objType := monitorServer(t)
	retryType := objType.AttributeTypes["retry_strategy"].(tftypes.Object)
	retry := func(maxRetries int64) tftypes.Value {
		vals := map[string]tftypes.Value{}
		for name, typ := range retryType.AttributeTypes {
			vals[name] = tftypes.NewValue(typ, nil)
		}
		vals["type"] = tftypes.NewValue(tftypes.String, "fixed")
		vals["max_retries"] = tftypes.NewValue(tftypes.Number, maxRetries)
		return tftypes.NewValue(retryType, vals)
	}
	base := func(maxRetries int64) map[string]tftypes.Value {
		return map[string]tftypes.Value{
			"name":           tftypes.NewValue(tftypes.String, "m"),
			"endpoint_id":    tftypes.NewValue(tftypes.String, "ep_x"),
			"type":           tftypes.NewValue(tftypes.String, "http"),
			"interval":       tftypes.NewValue(tftypes.String, "10s"),
			"timeout":        tftypes.NewValue(tftypes.String, "4s"),
			"retry_strategy": retry(maxRetries),
		}
	}
	warned := func(diags []*tfprotov6.Diagnostic) bool {
		for _, d := range diags {
			if d.Severity == tfprotov6.DiagnosticSeverityError {
				t.Fatalf("unexpected error: %s: %s", d.Summary, d.Detail)
			}
			if d.Severity == tfprotov6.DiagnosticSeverityWarning && strings.Contains(d.Summary, "outlast the interval") {
				return true
			}
		}
		return false
	}
	// 3 attempts of 4s plus 2 waits of 1s = 14s > 10s.
	if !warned(validateMonitor(t, base(2))) {
		t.Error("no warning for retries that take up to 14s in a 10s interval")
	}
	// 2 attempts of 4s plus 1s = 9s: fits.
	if warned(validateMonitor(t, base(1))) {
		t.Error("a warning for retries that fit the interval")
	}
}
