package probe

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

func TestUp(t *testing.T) {
	const body = `{"status":"ok"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	f := newFixture(t, Config{})
	res := f.probe(t, httpTarget(srv.URL))
	mustUp(t, res)
	if res.Attempts != 1 {
		t.Errorf("attempts = %d, want 1", res.Attempts)
	}
	if deref0(res.StatusCode) != 200 {
		t.Errorf("status = %v, want 200", deref0(res.StatusCode))
	}
	if res.BytesReceived != int64(len(body)) {
		t.Errorf("bytes_received = %d, want %d", res.BytesReceived, len(body))
	}
	if res.LatencyMS <= 0 {
		t.Errorf("latency = %v, want > 0", res.LatencyMS)
	}
	// 127.0.0.1 needs no DNS and http no TLS; connect and first byte
	// always happen.
	if res.DNSMS != nil || res.TLSMS != nil || res.TLSCertExpiresAt != nil {
		t.Errorf("dns %v, tls %v, cert %v: want nil for http://127.0.0.1", res.DNSMS, res.TLSMS, res.TLSCertExpiresAt)
	}
	if res.ConnectMS == nil || res.FirstByteMS == nil {
		t.Fatalf("connect %v, first byte %v: want both", res.ConnectMS, res.FirstByteMS)
	}
	if *res.FirstByteMS > res.LatencyMS || *res.ConnectMS > res.LatencyMS {
		t.Errorf("phases connect %v, first byte %v exceed latency %v", *res.ConnectMS, *res.FirstByteMS, res.LatencyMS)
	}
	if res.BodyExcerpt != nil {
		t.Errorf("body excerpt kept on success: %q", *res.BodyExcerpt)
	}
}

func TestSlowTargetIsDegraded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(120 * time.Millisecond)
	}))
	defer srv.Close()
	f := newFixture(t, Config{})
	res := f.probe(t, httpTarget(srv.URL, func(m *api.Monitor) { m.DegradedResponseTime = ptr("50ms") }))
	if res.Outcome != api.OutcomeDegraded {
		t.Fatalf("outcome = %s, want degraded (latency %v)", res.Outcome, res.LatencyMS)
	}
	if res.LatencyMS < 120 || res.Error != nil || res.Attempts != 1 {
		t.Errorf("latency %v (want ≥ 120), error %v, attempts %d", res.LatencyMS, res.Error, res.Attempts)
	}
	// The same target under a generous threshold is up.
	res = f.probe(t, httpTarget(srv.URL, func(m *api.Monitor) { m.DegradedResponseTime = ptr("5s") }))
	mustUp(t, res)
}

func TestServerErrorIsDown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database unavailable", http.StatusInternalServerError)
	}))
	defer srv.Close()
	f := newFixture(t, Config{})
	res := f.probe(t, httpTarget(srv.URL))
	msg := mustDown(t, res)
	if deref0(res.StatusCode) != 500 || res.Attempts != 1 {
		t.Errorf("status %v attempts %d, want 500 and 1", deref0(res.StatusCode), res.Attempts)
	}
	if want := "default assertion (status_code 2xx) failed: got 500"; msg != want {
		t.Errorf("error = %q, want %q", msg, want)
	}
	if len(f.sleep.recorded()) != 0 {
		t.Errorf("slept %v without a retry strategy", f.sleep.recorded())
	}
}

// flaky answers 503 to the first n calls, then 200.
func flaky(n int32, calls *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	}
}

func TestFlakyPassesAfterRetryIsDegraded(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(flaky(2, &calls))
	defer srv.Close()
	f := newFixture(t, Config{})
	base := 100 * time.Millisecond
	res := f.probe(t, httpTarget(srv.URL, func(m *api.Monitor) {
		m.Retry = &api.RetryStrategy{Type: api.RetryExponential, MaxRetries: ptr[int64](3), BaseBackoff: ptr("100ms"), Jitter: ptr(false)}
	}))
	if res.Outcome != api.OutcomeDegraded || res.Attempts != 3 || res.Error != nil {
		t.Fatalf("outcome %s attempts %d error %v: want degraded, 3, none", res.Outcome, res.Attempts, deref0(res.Error))
	}
	if deref0(res.StatusCode) != 200 || calls.Load() != 3 {
		t.Errorf("status %v after %d calls, want 200 after 3", deref0(res.StatusCode), calls.Load())
	}
	if got, want := f.sleep.recorded(), []time.Duration{base, 2 * base}; !slices.Equal(got, want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
}

func TestRetries(t *testing.T) {
	down := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }
	boom := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }
	cases := []struct {
		name         string
		handler      http.HandlerFunc
		url          string // instead of the server (a closed port)
		retry        *api.RetryStrategy
		wantAttempts int
		wantSleeps   []time.Duration
	}{
		{"nil strategy: one attempt", down, "", nil, 1, nil},
		{"type none: one attempt", down, "", &api.RetryStrategy{Type: api.RetryNone, MaxRetries: ptr[int64](5)}, 1, nil},
		{"max_retries 0", down, "", &api.RetryStrategy{Type: api.RetryFixed, MaxRetries: ptr[int64](0)}, 1, nil},
		{"default max_retries and base (fixed)", down, "", &api.RetryStrategy{Type: api.RetryFixed}, 3, []time.Duration{time.Second, time.Second}},
		{"linear", down, "", &api.RetryStrategy{Type: api.RetryLinear, MaxRetries: ptr[int64](3), BaseBackoff: ptr("10ms")}, 4,
			[]time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}},
		{"exponential capped", down, "", &api.RetryStrategy{Type: api.RetryExponential, MaxRetries: ptr[int64](4), BaseBackoff: ptr("10ms"), MaxBackoff: ptr("25ms")}, 5,
			[]time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 25 * time.Millisecond, 25 * time.Millisecond}},
		{"status code in retry_on", down, "", &api.RetryStrategy{Type: api.RetryFixed, MaxRetries: ptr[int64](1), BaseBackoff: ptr("1ms"), RetryOn: &api.RetryOn{StatusCodes: []int64{503}}}, 2,
			[]time.Duration{time.Millisecond}},
		{"status code not in retry_on", boom, "", &api.RetryStrategy{Type: api.RetryFixed, MaxRetries: ptr[int64](1), RetryOn: &api.RetryOn{StatusCodes: []int64{503}}}, 1, nil},
		{"network error retried by default when retry_on set", nil, "closed", &api.RetryStrategy{Type: api.RetryFixed, MaxRetries: ptr[int64](1), BaseBackoff: ptr("1ms"), RetryOn: &api.RetryOn{}}, 2,
			[]time.Duration{time.Millisecond}},
		{"network error not retried when off", nil, "closed", &api.RetryStrategy{Type: api.RetryFixed, MaxRetries: ptr[int64](3), RetryOn: &api.RetryOn{NetworkError: ptr(false)}}, 1, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := "http://" + closedAddr(t)
			if tc.url == "" {
				srv := httptest.NewServer(tc.handler)
				defer srv.Close()
				url = srv.URL
			}
			f := newFixture(t, Config{})
			res := f.probe(t, httpTarget(url, func(m *api.Monitor) { m.Retry = tc.retry }))
			mustDown(t, res)
			if res.Attempts != tc.wantAttempts {
				t.Errorf("attempts = %d, want %d (error %q)", res.Attempts, tc.wantAttempts, deref0(res.Error))
			}
			if got := f.sleep.recorded(); !slices.Equal(got, tc.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", got, tc.wantSleeps)
			}
		})
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(flaky(100, &calls))
	defer srv.Close()
	f := newFixture(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.sleep.onSleep = cancel // the scheduler shuts down during the first backoff
	tg := httpTarget(srv.URL, func(m *api.Monitor) {
		m.Retry = &api.RetryStrategy{Type: api.RetryFixed, MaxRetries: ptr[int64](5)}
	})
	res := f.p.Probe(ctx, tg)
	mustDown(t, res)
	if res.Attempts != 1 || calls.Load() != 1 {
		t.Errorf("attempts %d calls %d after cancel, want 1 and 1", res.Attempts, calls.Load())
	}
}

func TestBackoff(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		typ    string
		base   time.Duration
		max    time.Duration
		jitter bool
		rnd    float64
		want   []time.Duration // waits before retries 1, 2, ...
	}{
		{api.RetryFixed, 100 * ms, time.Second, false, 0, []time.Duration{100 * ms, 100 * ms, 100 * ms}},
		{api.RetryLinear, 100 * ms, time.Second, false, 0, []time.Duration{100 * ms, 200 * ms, 300 * ms}},
		{api.RetryLinear, 400 * ms, time.Second, false, 0, []time.Duration{400 * ms, 800 * ms, time.Second}},
		{api.RetryExponential, 100 * ms, time.Second, false, 0, []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second}},
		{api.RetryExponential, 100 * ms, time.Second, true, 0.5, []time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 500 * ms}},
		{api.RetryFixed, 100 * ms, time.Second, true, 0, []time.Duration{0, 0}},
	}
	for _, tc := range cases {
		p := retryPolicy{RetrySchedule: api.RetrySchedule{Type: tc.typ, Base: tc.base, Max: tc.max}, jitter: tc.jitter}
		for i, want := range tc.want {
			if got := p.backoff(i+1, func() float64 { return tc.rnd }); got != want {
				t.Errorf("%s base %v max %v jitter %v: retry %d waits %v, want %v", tc.typ, tc.base, tc.max, tc.jitter, i+1, got, want)
			}
		}
	}
	// Huge exponents saturate at the cap instead of overflowing.
	p := retryPolicy{RetrySchedule: api.RetrySchedule{Type: api.RetryExponential, Base: time.Hour, Max: 30 * time.Second}}
	if got := p.backoff(64, nil); got != 30*time.Second {
		t.Errorf("retry 64 waits %v, want the cap", got)
	}
	// Defaults: base 1s, max 30s, 2 retries.
	d := newRetryPolicy(&api.RetryStrategy{Type: api.RetryExponential})
	if d.Base != time.Second || d.Max != 30*time.Second || d.Retries != 2 || d.explicit {
		t.Errorf("defaults = %+v", d)
	}
}

func TestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	f := newFixture(t, Config{})
	start := time.Now()
	res := f.probe(t, httpTarget(srv.URL, func(m *api.Monitor) { m.Timeout = ptr("200ms") }))
	elapsed := time.Since(start)
	msg := mustDown(t, res)
	if !strings.Contains(msg, "timeout") {
		t.Errorf("error %q does not mention the timeout", msg)
	}
	if elapsed > 2*time.Second || res.LatencyMS < 200 {
		t.Errorf("took %v with latency %v ms; want about 200ms", elapsed, res.LatencyMS)
	}
	if res.StatusCode != nil {
		t.Errorf("status %v on a timeout", *res.StatusCode)
	}
}

func TestDefaultAssertionIs2xx(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/nocontent", http.StatusFound) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := newFixture(t, Config{})

	mustUp(t, f.probe(t, httpTarget(srv.URL+"/nocontent")))

	res := f.probe(t, httpTarget(srv.URL+"/moved", func(m *api.Monitor) { req(m).FollowRedirects = ptr(false) }))
	if msg := mustDown(t, res); deref0(res.StatusCode) != 302 || !strings.Contains(msg, "got 302") {
		t.Errorf("status %v error %q, want 302", deref0(res.StatusCode), msg)
	}

	// Following redirects is the default.
	res = f.probe(t, httpTarget(srv.URL+"/moved"))
	mustUp(t, res)
	if deref0(res.StatusCode) != 204 {
		t.Errorf("status = %v, want 204 after the redirect", deref0(res.StatusCode))
	}
}

func TestRedirectLimit(t *testing.T) {
	// /hop/N redirects to /hop/N-1; /hop/0 answers.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		_, _ = fmt.Sscanf(r.URL.Path, "/hop/%d", &n)
		if n == 0 {
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	}))
	defer srv.Close()
	f := newFixture(t, Config{})
	mustUp(t, f.probe(t, httpTarget(fmt.Sprintf("%s/hop/%d", srv.URL, MaxRedirects))))
	msg := mustDown(t, f.probe(t, httpTarget(fmt.Sprintf("%s/hop/%d", srv.URL, MaxRedirects+1))))
	if !strings.Contains(msg, "stopped after 10 redirects") {
		t.Errorf("error = %q", msg)
	}
}

func TestRequestIsBuiltFromMonitor(t *testing.T) {
	type seen struct {
		method, path, query, ua, custom, host, body string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.URL.RawQuery, r.UserAgent(), r.Header.Get("X-Trace"), r.Host, string(b)}
	}))
	defer srv.Close()
	f := newFixture(t, Config{})

	mustUp(t, f.probe(t, httpTarget(srv.URL+"/api", func(m *api.Monitor) {
		r := req(m)
		r.Method = ptr("POST")
		r.Path = ptr("/v1/health")
		r.Query = map[string]string{"deep": "true", "b": "x y"}
		r.Headers = map[string]string{"x-trace": "abc", "host": "api.example.test"}
		r.Body = ptr(`{"ping":1}`)
	})))
	want := seen{"POST", "/api/v1/health", "b=x+y&deep=true", userAgent, "abc", "api.example.test", `{"ping":1}`}
	if s := <-got; s != want {
		t.Errorf("request = %+v\nwant      %+v", s, want)
	}

	// Without a path the endpoint URL is used as is, its query kept.
	mustUp(t, f.probe(t, httpTarget(srv.URL+"/api/status?v=2")))
	if s := <-got; s.method != "GET" || s.path != "/api/status" || s.query != "v=2" || s.body != "" {
		t.Errorf("request = %+v", s)
	}
}

func TestBodyExcerpt(t *testing.T) {
	big := strings.Repeat("é", 600) // 1200 bytes, 2-byte runes: the cut must not split one
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			fmt.Fprint(w, big)
			return
		}
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, big)
	}))
	defer srv.Close()
	f := newFixture(t, Config{})
	for _, class := range []string{api.ClassInternal, api.ClassPublic, api.ClassPII, api.ClassConfidential} {
		tg := httpTarget(srv.URL + "/fail")
		tg.Endpoint.DataClassification = class
		res := f.probe(t, tg)
		mustDown(t, res)
		keep := class == api.ClassInternal || class == api.ClassPublic
		switch {
		case keep && res.BodyExcerpt == nil:
			t.Errorf("%s: no excerpt on failure", class)
		case keep && (len(*res.BodyExcerpt) > BodyExcerptBytes || !strings.HasPrefix(*res.BodyExcerpt, "éé") || strings.ContainsRune(*res.BodyExcerpt, '\uFFFD')):
			t.Errorf("%s: excerpt of %d bytes: %q", class, len(*res.BodyExcerpt), *res.BodyExcerpt)
		case !keep && res.BodyExcerpt != nil:
			t.Errorf("%s: excerpt kept: %q", class, *res.BodyExcerpt)
		}
	}
	res := f.probe(t, httpTarget(srv.URL+"/ok"))
	mustUp(t, res)
	if res.BodyExcerpt != nil {
		t.Errorf("excerpt kept on success")
	}
}

func TestBytesReceivedAndMaxBody(t *testing.T) {
	body := strings.Repeat("x", 10000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, body)
	}))
	defer srv.Close()

	res := newFixture(t, Config{}).probe(t, httpTarget(srv.URL))
	mustUp(t, res)
	if res.BytesReceived != int64(len(body)) {
		t.Errorf("bytes_received = %d, want %d", res.BytesReceived, len(body))
	}

	f := newFixture(t, Config{MaxBodyBytes: 1000})
	res = f.probe(t, httpTarget(srv.URL, func(m *api.Monitor) {
		// The body assertion sees only what was read.
		m.Assertions = []api.Assertion{{Source: api.SourceTextBody, Comparison: api.CmpEquals, Target: ptr(body[:1000])}}
	}))
	mustUp(t, res)
	if res.BytesReceived != 1000 {
		t.Errorf("bytes_received = %d, want 1000 (MaxBodyBytes)", res.BytesReceived)
	}
}

func TestErrorTextHasNoQuery(t *testing.T) {
	f := newFixture(t, Config{})
	res := f.probe(t, httpTarget("http://"+closedAddr(t)+"/health?token=sekrit", func(m *api.Monitor) {
		req(m).Query = map[string]string{"also": "hush-hush"}
	}))
	msg := mustDown(t, res)
	if strings.Contains(msg, "sekrit") || strings.Contains(msg, "hush-hush") || strings.Contains(msg, "token=") {
		t.Errorf("error text carries the query: %q", msg)
	}
	if !strings.Contains(msg, "refused") || !strings.Contains(msg, "/health") {
		t.Errorf("error text lost the useful part: %q", msg)
	}
}

func TestInvalidCACertIsNotRetried(t *testing.T) {
	f := newFixture(t, Config{})
	res := f.probe(t, httpTarget("https://127.0.0.1:1", func(m *api.Monitor) {
		req(m).TLS = &api.MonitorTLS{CACert: ptr("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")}
		m.Retry = &api.RetryStrategy{Type: api.RetryFixed, MaxRetries: ptr[int64](3)}
	}))
	if msg := mustDown(t, res); !strings.Contains(msg, "ca_cert") || res.Attempts != 1 {
		t.Errorf("error %q after %d attempts", msg, res.Attempts)
	}
}

func TestTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	tcpTarget := func(addr string, mods ...func(*api.Monitor)) Target {
		m := api.Monitor{Meta: api.Meta{ID: "mon_tcp"}, Type: api.MonitorTCP, Timeout: ptr("2s")}
		for _, mod := range mods {
			mod(&m)
		}
		m.Normalize()
		return Target{Monitor: m, Endpoint: api.Endpoint{URL: "tcp://" + addr}}
	}
	f := newFixture(t, Config{})

	res := f.probe(t, tcpTarget(ln.Addr().String()))
	mustUp(t, res)
	if res.ConnectMS == nil || res.DNSMS != nil || res.TLSMS != nil || res.StatusCode != nil || res.LatencyMS <= 0 {
		t.Errorf("tcp result %+v", res)
	}
	deadline := time.Now().Add(2 * time.Second)
	for accepted.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if accepted.Load() == 0 {
		t.Error("the listener saw no connection")
	}

	// Only response_time assertions apply to tcp.
	res = f.probe(t, tcpTarget(ln.Addr().String(), func(m *api.Monitor) {
		m.Assertions = []api.Assertion{
			{Source: api.SourceStatusCode, Comparison: api.CmpEquals, Target: ptr("200")},
			{Source: api.SourceResponseTime, Comparison: api.CmpGreaterThan, Target: ptr("1h")},
		}
	}))
	if msg := mustDown(t, res); !strings.HasPrefix(msg, "assertion 2 (response_time greater_than 1h) failed") {
		t.Errorf("error = %q", msg)
	}

	res = f.probe(t, tcpTarget(ln.Addr().String(), func(m *api.Monitor) { m.DegradedResponseTime = ptr("1ns") }))
	if res.Outcome != api.OutcomeDegraded {
		t.Errorf("outcome %s, want degraded over 1ns", res.Outcome)
	}

	msg := mustDown(t, f.probe(t, tcpTarget(closedAddr(t))))
	if !strings.Contains(msg, "refused") {
		t.Errorf("error = %q", msg)
	}
}

func TestDNSPhase(t *testing.T) {
	if _, err := net.DefaultResolver.LookupHost(context.Background(), "localhost"); err != nil {
		t.Skipf("localhost does not resolve: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	res := newFixture(t, Config{}).probe(t, httpTarget("http://localhost:"+port))
	mustUp(t, res)
	if res.DNSMS == nil || res.ConnectMS == nil || res.FirstByteMS == nil {
		t.Errorf("dns %v connect %v first byte %v: want all for a host name", res.DNSMS, res.ConnectMS, res.FirstByteMS)
	}
}

// TestLargerThanTheConnectionBuffers shows that the probe transports' small
// per-connection buffers (probeWriteBuffer, probeReadBuffer) limit nothing:
// a request and a response header several times their size go through
// whole, and the header's value is what the assertion sees.
func TestLargerThanTheConnectionBuffers(t *testing.T) {
	bigValue := strings.Repeat("v", 4*probeReadBuffer)
	bigBody := strings.Repeat("b", 8*probeWriteBuffer)
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Header.Get("X-Big") + "|" + string(b)
		w.Header().Set("X-Echo", bigValue)
		fmt.Fprint(w, bigBody)
	}))
	defer srv.Close()
	f := newFixture(t, Config{})
	res := f.probe(t, httpTarget(srv.URL, func(m *api.Monitor) {
		r := req(m)
		r.Method = ptr("POST")
		r.Headers = map[string]string{"x-big": bigValue}
		r.Body = ptr(bigBody)
		m.Assertions = []api.Assertion{{Source: api.SourceHeader, Property: ptr("x-echo"), Comparison: api.CmpEquals, Target: ptr(bigValue)}}
	}))
	mustUp(t, res)
	if s := <-got; s != bigValue+"|"+bigBody {
		t.Errorf("target saw %d bytes of header and body, want %d", len(s), len(bigValue)+1+len(bigBody))
	}
	if res.BytesReceived != int64(len(bigBody)) {
		t.Errorf("bytes_received = %d, want %d", res.BytesReceived, len(bigBody))
	}
}

// TestLatencyIsInMilliseconds: latency_ms and the phases are milliseconds.
// A target that thinks for 150 ms before answering reports a latency and a
// first byte of at least 150 and well under the 5 s timeout; a TCP connect
// to 127.0.0.1 is well under it too.
func TestLatencyIsInMilliseconds(t *testing.T) {
	const think = 150 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(think) }))
	defer srv.Close()
	f := newFixture(t, Config{})
	res := f.probe(t, httpTarget(srv.URL, func(m *api.Monitor) { m.Timeout = ptr("5s") }))
	mustUp(t, res)
	if res.LatencyMS < 150 || res.LatencyMS >= 5000 {
		t.Errorf("latency_ms = %v for a 150 ms answer, want 150 <= latency < 5000", res.LatencyMS)
	}
	if fb := deref0(res.FirstByteMS); fb < 150 || fb > res.LatencyMS {
		t.Errorf("first_byte_ms = %v, want 150 <= first byte <= latency %v", fb, res.LatencyMS)
	}
	if c := deref0(res.ConnectMS); c <= 0 || c > res.LatencyMS {
		t.Errorf("connect_ms = %v, want 0 < connect <= latency %v", c, res.LatencyMS)
	}

	tcp := httpTarget("tcp://"+strings.TrimPrefix(srv.URL, "http://"), func(m *api.Monitor) { m.Type = api.MonitorTCP; m.Timeout = ptr("5s") })
	res = f.probe(t, tcp)
	mustUp(t, res)
	if res.LatencyMS <= 0 || res.LatencyMS >= 5000 {
		t.Errorf("tcp latency_ms = %v, want 0 < latency < 5000", res.LatencyMS)
	}
}

// TestJitterUsesConfigRand: the backoff jitter draws from Config.Rand when
// given (tests and simulations need a known schedule), and from
// math/rand otherwise.
func TestJitterUsesConfigRand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer srv.Close()
	tg := httpTarget(srv.URL, func(m *api.Monitor) {
		m.Retry = &api.RetryStrategy{Type: api.RetryExponential, MaxRetries: ptr[int64](2), BaseBackoff: ptr("100ms"), Jitter: ptr(true)}
	})
	f := newFixture(t, Config{Rand: func() float64 { return 0.25 }})
	mustDown(t, f.probe(t, tg))
	if got, want := f.sleep.recorded(), []time.Duration{25 * time.Millisecond, 50 * time.Millisecond}; !slices.Equal(got, want) {
		t.Errorf("waits %v with Rand 0.25, want %v", got, want)
	}
	f = newFixture(t, Config{})
	mustDown(t, f.probe(t, tg))
	got := f.sleep.recorded()
	if len(got) != 2 || got[0] < 0 || got[0] >= 100*time.Millisecond || got[1] < 0 || got[1] >= 200*time.Millisecond {
		t.Errorf("waits %v without Rand, want two within [0, 100ms) and [0, 200ms)", got)
	}
}

// TestEndpointQueryIsSentAsIs: the endpoint URL's query reaches the target
// byte for byte when the monitor adds no query of its own (a signed URL
// breaks if it is re-encoded or reordered), also when the monitor sets a
// path.
func TestEndpointQueryIsSentAsIs(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got.Store(r.URL.RawQuery) }))
	defer srv.Close()
	const raw = "b=2&a=1&flag&sig=x%2Fy"
	mustUp(t, newFixture(t, Config{}).probe(t, httpTarget(srv.URL+"/api?"+raw, func(m *api.Monitor) { req(m).Path = ptr("health") })))
	if got.Load() != raw {
		t.Errorf("target got query %q, want %q", got.Load(), raw)
	}
}

// TestMonitorQueryIsScrubbed: the query a monitor adds (it may carry a
// token) is scrubbed from the excerpt and error text like the endpoint's,
// here from a target that echoes it.
func TestMonitorQueryIsScrubbed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.URL.RawQuery)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "bad query %s", r.URL.RawQuery)
	}))
	defer srv.Close()
	res := newFixture(t, Config{}).probe(t, httpTarget(srv.URL, func(m *api.Monitor) {
		req(m).Query = map[string]string{"sig": "q-s3cret-4711"}
		m.Assertions = []api.Assertion{{Source: api.SourceHeader, Property: ptr("X-Echo"), Comparison: api.CmpEquals, Target: ptr("x")}}
	}))
	msg := mustDown(t, res)
	ex := deref0(res.BodyExcerpt)
	if strings.Contains(msg, "q-s3cret") || strings.Contains(ex, "q-s3cret") || !strings.Contains(ex, redacted) {
		t.Errorf("error %q, excerpt %q: want the monitor's query scrubbed", msg, ex)
	}
}

// TestWholeBodyKeepsItsTail: a complete response that happens to end with
// the beginning of the secret keeps it: only a body cut at the read limit
// loses such a tail (where it may be a secret cut in two).
func TestWholeBodyKeepsItsTail(t *testing.T) {
	const body = "denied for s3cr"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	tg := httpTarget(srv.URL)
	tg.Credential = newCred(api.CredBearer, secret, nil, nil)
	res := newFixture(t, Config{}).probe(t, tg)
	mustDown(t, res)
	if ex := deref0(res.BodyExcerpt); ex != body {
		t.Errorf("excerpt %q, want %q", ex, body)
	}
}
