package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
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

// objectValue builds a value of typ with the given attributes and every
// other attribute null.
func objectValue(typ tftypes.Object, set map[string]tftypes.Value) tftypes.Value {
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		if v, ok := set[name]; ok {
			vals[name] = v
		} else {
			vals[name] = tftypes.NewValue(at, nil)
		}
	}
	return tftypes.NewValue(typ, vals)
}

// Each mistake yields one error diagnostic whose attribute path is the
// exact path of the mistake, nested attributes included. (Terraform shows
// such errors on the resource's first line; the path is what tools and
// later Terraform versions read.)
func TestMonitorValidationPaths(t *testing.T) {
	_, objType := monitorServer(t)
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	reqType := objType.AttributeTypes["request"].(tftypes.Object)
	retryType := objType.AttributeTypes["retry_strategy"].(tftypes.Object)
	asListType := objType.AttributeTypes["assertions"].(tftypes.List)
	asType := asListType.ElementType.(tftypes.Object)
	assertions := func(as ...map[string]tftypes.Value) tftypes.Value {
		vals := make([]tftypes.Value, len(as))
		for i, a := range as {
			vals[i] = objectValue(asType, a)
		}
		return tftypes.NewValue(asListType, vals)
	}
	statusOK := map[string]tftypes.Value{"source": str("status_code"), "comparison": str("equals"), "target": str("200")}
	cases := []struct {
		name  string
		attrs map[string]tftypes.Value
		want  *tftypes.AttributePath
	}{
		{"request.method", map[string]tftypes.Value{"request": objectValue(reqType, map[string]tftypes.Value{"method": str("get")})},
			tftypes.NewAttributePath().WithAttributeName("request").WithAttributeName("method")},
		{"assertions[1].comparison", map[string]tftypes.Value{"assertions": assertions(statusOK,
			map[string]tftypes.Value{"source": str("status_code"), "comparison": str("bigger"), "target": str("300")})},
			tftypes.NewAttributePath().WithAttributeName("assertions").WithElementKeyInt(1).WithAttributeName("comparison")},
		{"assertions[1].property", map[string]tftypes.Value{"assertions": assertions(statusOK,
			map[string]tftypes.Value{"source": str("json_body"), "comparison": str("equals"), "target": str("ok")})},
			tftypes.NewAttributePath().WithAttributeName("assertions").WithElementKeyInt(1).WithAttributeName("property")},
		{"retry_strategy.type", map[string]tftypes.Value{"retry_strategy": objectValue(retryType, map[string]tftypes.Value{"type": str("sometimes")})},
			tftypes.NewAttributePath().WithAttributeName("retry_strategy").WithAttributeName("type")},
		{"retry_strategy.base_backoff", map[string]tftypes.Value{"retry_strategy": objectValue(retryType, map[string]tftypes.Value{"type": str("fixed"), "base_backoff": str("30d")})},
			tftypes.NewAttributePath().WithAttributeName("retry_strategy").WithAttributeName("base_backoff")},
		{"interval", map[string]tftypes.Value{"interval": str("30d")}, tftypes.NewAttributePath().WithAttributeName("interval")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			attrs := map[string]tftypes.Value{"name": str("m"), "endpoint_id": str("ep_x"), "type": str("http")}
			for k, v := range c.attrs {
				attrs[k] = v
			}
			var errs []*tfprotov6.Diagnostic
			for _, d := range validateMonitor(t, attrs) {
				if d.Severity == tfprotov6.DiagnosticSeverityError {
					errs = append(errs, d)
				}
			}
			if len(errs) != 1 {
				for _, d := range errs {
					t.Logf("%s: %s: %s", d.Attribute, d.Summary, d.Detail)
				}
				t.Fatalf("got %d errors, want 1", len(errs))
			}
			if !errs[0].Attribute.Equal(c.want) {
				t.Errorf("error on %s, want %s (%s)", errs[0].Attribute, c.want, errs[0].Detail)
			}
		})
	}
}

// planMonitor plans the creation of a monitor through the provider's real
// PlanResourceChange, with the provider configured against srv, as
// terraform plan does, and returns the diagnostics.
func planMonitor(t *testing.T, srv *acctest.Server, attrs map[string]tftypes.Value) []*tfprotov6.Diagnostic {
	t.Helper()
	ctx := context.Background()
	ps, objType := monitorServer(t)
	schemas, err := ps.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	provType := schemas.Provider.ValueType().(tftypes.Object)
	provCfg, err := tfprotov6.NewDynamicValue(provType, objectValue(provType, map[string]tftypes.Value{
		"address": tftypes.NewValue(tftypes.String, srv.URL),
		"token":   tftypes.NewValue(tftypes.String, srv.Tokens[api.RoleViewer]),
	}))
	if err != nil {
		t.Fatal(err)
	}
	cresp, err := ps.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &provCfg})
	if err != nil || len(cresp.Diagnostics) > 0 {
		t.Fatalf("configure: %v %v", err, cresp.Diagnostics)
	}
	cfg, err := tfprotov6.NewDynamicValue(objType, objectValue(objType, attrs))
	if err != nil {
		t.Fatal(err)
	}
	prior, err := tfprotov6.NewDynamicValue(objType, tftypes.NewValue(objType, nil))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ps.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: "aio_monitor", PriorState: &prior, ProposedNewState: &cfg, Config: &cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Diagnostics
}

// A monitor whose type does not fit its endpoint's scheme is warned about
// at plan time, on type, when the endpoint is known; an endpoint that
// cannot be read leaves the plan alone. (aiod refuses such a monitor at
// apply time.)
func TestMonitorTypeVersusEndpointSchemeWarns(t *testing.T) {
	srv := acctest.NewServer(t)
	c := apiClient(t, srv)
	ctx := context.Background()
	tcpEP, err := c.CreateEndpoint(ctx, api.Endpoint{Name: "db", URL: "tcp://127.0.0.1:5432", DataClassification: api.ClassInternal})
	if err != nil {
		t.Fatal(err)
	}
	httpEP, err := c.CreateEndpoint(ctx, api.Endpoint{Name: "web", URL: "https://127.0.0.1:9/api", DataClassification: api.ClassInternal})
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	cases := []struct {
		typ, endpointID string
		warn            bool
	}{
		{"http", tcpEP.ID, true},
		{"tcp", httpEP.ID, true},
		{"http", httpEP.ID, false},
		{"tcp", tcpEP.ID, false},
		{"http", "ep_doesnotexist", false},
	}
	for _, tc := range cases {
		diags := planMonitor(t, srv, map[string]tftypes.Value{"name": str("m"), "endpoint_id": str(tc.endpointID), "type": str(tc.typ)})
		var warned bool
		for _, d := range diags {
			if d.Severity == tfprotov6.DiagnosticSeverityError {
				t.Errorf("%s on %s: unexpected error %s: %s", tc.typ, tc.endpointID, d.Summary, d.Detail)
			}
			if d.Severity == tfprotov6.DiagnosticSeverityWarning && d.Summary == "Monitor type does not fit the endpoint" {
				warned = true
				if !d.Attribute.Equal(tftypes.NewAttributePath().WithAttributeName("type")) {
					t.Errorf("warning on %s, want type", d.Attribute)
				}
			}
		}
		if warned != tc.warn {
			t.Errorf("%s monitor on %s: warned %v, want %v", tc.typ, tc.endpointID, warned, tc.warn)
		}
	}
}
