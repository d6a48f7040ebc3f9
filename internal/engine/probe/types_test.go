package probe

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
)

// echoType is a fake probe type for the registry tests: its "response" is
// the endpoint URL's path with status 200, and its first attempt of every
// run fails as a network error, so that a run shows the shared retry path.
func echoType(r *run, u *url.URL) (attemptFunc, string) {
	if u.Path == "" {
		return nil, "an echo monitor needs a path to echo"
	}
	n := 0
	return func(context.Context) attempt {
		n++
		if n == 1 {
			return attempt{kind: failNetwork, err: "echo: no answer yet"}
		}
		status := 200
		a := attempt{status: &status, latency: time.Millisecond, bytes: int64(len(u.Path))}
		ev := &evalInput{status: status, hasResponse: true, latency: a.latency, body: []byte(u.Path)}
		if msg, ok := evaluate(r.t.Monitor.Assertions, ev); !ok {
			a.kind, a.err = failResponse, msg
			return a
		}
		a.passed = true
		return a
	}, ""
}

// echoMonitor is an echo monitor of url with one retry after a fixed 1s.
func echoMonitor(typ, url string, as ...api.Assertion) Target {
	m := api.Monitor{Meta: api.Meta{ID: "mon_echo"}, Name: "echo", EndpointID: "ep_echo", Type: typ, Timeout: ptr("2s"),
		Assertions: as, Retry: &api.RetryStrategy{Type: api.RetryFixed, MaxRetries: ptr[int64](1)}}
	return Target{Monitor: m, Endpoint: api.Endpoint{Meta: api.Meta{ID: "ep_echo"}, URL: url}}
}

// TestNewProbeTypeIsOneEntry shows that a protocol is one entry in the
// registry a Prober is built with: the fake echo type gets the shared
// retries, assertions and result building without any other change, and a
// Prober knows only the types it was given.
func TestNewProbeTypeIsOneEntry(t *testing.T) {
	sleeps := &sleepRecorder{}
	p := newProber(Config{Clock: clock.NewFake(t0), Sleep: sleeps.sleep}, map[string]prepareFunc{"echo": echoType})
	ctx := context.Background()

	res := p.Probe(ctx, echoMonitor("echo", "echo://example.test/hello",
		api.Assertion{Source: api.SourceTextBody, Comparison: api.CmpContains, Target: ptr("hello")}))
	if res.Outcome != api.OutcomeDegraded || res.Attempts != 2 || deref0(res.StatusCode) != 200 || res.BytesReceived != 6 {
		t.Errorf("echo passing on its retry: outcome %s, attempts %d, status %v, bytes %d, error %q; want degraded, 2, 200, 6",
			res.Outcome, res.Attempts, deref0(res.StatusCode), res.BytesReceived, deref0(res.Error))
	}
	if got := sleeps.recorded(); !slices.Equal(got, []time.Duration{time.Second}) {
		t.Errorf("waits %v, want [1s]", got)
	}

	res = p.Probe(ctx, echoMonitor("echo", "echo://example.test/bye",
		api.Assertion{Source: api.SourceTextBody, Comparison: api.CmpContains, Target: ptr("hello")}))
	if msg := mustDown(t, res); msg != `assertion 1 (text_body contains "hello") failed: got "/bye"` {
		t.Errorf("failed assertion: %q", msg)
	}

	res = p.Probe(ctx, echoMonitor("echo", "echo://example.test"))
	if msg := mustDown(t, res); msg != "an echo monitor needs a path to echo" || res.Attempts != 1 {
		t.Errorf("preparation problem: %q after %d attempts, want no retry", msg, res.Attempts)
	}

	// The built-in types are not in this Prober's registry.
	res = p.Probe(ctx, echoMonitor(api.MonitorHTTP, "http://example.test/"))
	if msg := mustDown(t, res); msg != `unknown monitor type "http"` {
		t.Errorf("http on an echo-only Prober: %q", msg)
	}
}

// TestUnknownProbeType checks that a monitor of a type no protocol is
// registered for (the API refuses it; this is what holds when the data was
// changed some other way) is down at once, with no traffic and no retry.
func TestUnknownProbeType(t *testing.T) {
	f := newFixture(t, Config{})
	res := f.probe(t, echoMonitor("icmp", "http://127.0.0.1:1/"))
	msg := mustDown(t, res)
	if msg != `unknown monitor type "icmp"` || res.Attempts != 1 || len(f.sleep.recorded()) != 0 {
		t.Errorf("error %q after %d attempts and waits %v; want one attempt and no wait", msg, res.Attempts, f.sleep.recorded())
	}
}

// TestBuiltinTypesCoverAPI checks that the built-in probe types and the
// API's monitor types (by endpoint scheme) are the same set, so that a type
// added on one side only fails here rather than at run time.
func TestBuiltinTypesCoverAPI(t *testing.T) {
	types := builtinTypes()
	for scheme, typ := range api.MonitorTypeForScheme {
		if _, ok := types[typ]; !ok {
			t.Errorf("monitor type %q (for %s:// endpoints) has no probe type", typ, scheme)
		}
	}
	known := slices.Collect(maps.Values(api.MonitorTypeForScheme))
	for typ := range types {
		if !slices.Contains(known, typ) {
			t.Errorf("probe type %q fits no endpoint scheme in api.MonitorTypeForScheme", typ)
		}
	}
}
