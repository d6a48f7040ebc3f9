package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

const secret = "s3cr3t-Value/+="

// newCred returns a credential whose Open hands out secret and counts calls.
func newCred(typ, secret string, opens *atomic.Int32, mod func(*api.Credential)) *Credential {
	c := &Credential{
		// Every local target listens on 127.0.0.1, on any port.
		Credential: api.Credential{Meta: api.Meta{ID: "cred_test"}, Name: "test", Type: typ, SecretRevision: 1, AllowedHosts: []string{"127.0.0.1"}},
		Open: func(context.Context) ([]byte, error) {
			if opens != nil {
				opens.Add(1)
			}
			return []byte(secret), nil
		},
	}
	if mod != nil {
		mod(&c.Credential)
	}
	return c
}

func TestCredentialTypes(t *testing.T) {
	// The target answers 200 only when the credential arrived where its
	// type says, else 401.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ok bool
		switch r.URL.Path {
		case "/apikey-default":
			ok = r.Header.Get("X-Api-Key") == secret
		case "/apikey-header":
			ok = r.Header.Get("X-Token") == secret && r.Header.Get("X-Api-Key") == ""
		case "/apikey-query":
			ok = r.URL.Query().Get("key") == secret && r.URL.Query().Get("keep") == "1" && r.Header.Get("X-Api-Key") == ""
		case "/bearer":
			ok = r.Header.Get("Authorization") == "Bearer "+secret
		case "/basic":
			u, p, has := r.BasicAuth()
			ok = has && u == "probe" && p == secret
		}
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	cases := []struct {
		path string
		typ  string
		mod  func(*api.Credential)
	}{
		{"/apikey-default", api.CredAPIKey, nil},
		{"/apikey-header", api.CredAPIKey, func(c *api.Credential) { c.Header = ptr("x-token") }},
		{"/apikey-query", api.CredAPIKey, func(c *api.Credential) { c.QueryParam = ptr("key") }},
		{"/bearer", api.CredBearer, nil},
		{"/basic", api.CredBasic, func(c *api.Credential) { c.Username = ptr("probe") }},
	}
	f := newFixture(t, Config{})
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			var opens atomic.Int32
			tg := httpTarget(srv.URL+c.path, func(m *api.Monitor) { req(m).Query = map[string]string{"keep": "1"} })
			tg.Credential = newCred(c.typ, secret, &opens, c.mod)
			mustUp(t, f.probe(t, tg))
			if opens.Load() != 1 {
				t.Errorf("secret opened %d times, want 1", opens.Load())
			}
			// The target does check: a wrong secret is refused.
			tg.Credential = newCred(c.typ, "wrong", nil, c.mod)
			res := f.probe(t, tg)
			mustDown(t, res)
			if deref0(res.StatusCode) != 401 {
				t.Errorf("status %v with a wrong secret, want 401", deref0(res.StatusCode))
			}
			// And without a credential too.
			tg.Credential = nil
			mustDown(t, f.probe(t, tg))
		})
	}
}

func TestSecretOpenFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	tg := httpTarget(srv.URL, func(m *api.Monitor) {
		m.Retry = &api.RetryStrategy{Type: api.RetryFixed, MaxRetries: ptr[int64](2)}
	})
	tg.Credential = newCred(api.CredBearer, "", nil, nil)
	tg.Credential.Open = func(context.Context) ([]byte, error) { return nil, fmt.Errorf("key k1 not loaded") }
	res := newFixture(t, Config{}).probe(t, tg)
	if msg := mustDown(t, res); !strings.Contains(msg, "cannot open the secret: key k1 not loaded") || res.Attempts != 1 {
		t.Errorf("error %q after %d attempts", msg, res.Attempts)
	}
}

// tokenServer is a local OAuth2 token endpoint (client credentials grant,
// client_secret_post) and a target that accepts only the tokens it issued.
type tokenServer struct {
	t        *testing.T
	token    *httptest.Server
	target   *httptest.Server
	calls    atomic.Int32
	mu       sync.Mutex
	secret   string          // the client secret the endpoint accepts
	valid    map[string]bool // tokens the target accepts
	expireIn any             // expires_in as sent
	tokType  any             // token_type as sent; nil leaves it out
	failNext atomic.Int32    // answer this many token requests with 503 first
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{t: t, secret: secret, valid: map[string]bool{}, expireIn: 3600, tokType: "Bearer"}
	ts.token = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if err := r.ParseForm(); err != nil || r.Method != http.MethodPost ||
			r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != "cid" ||
			r.PostForm.Get("scope") != "read write" || r.URL.Query().Get("tenant") != "t1" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_request"}`)
			return
		}
		if ts.failNext.Add(-1) >= 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":"temporarily_unavailable"}`)
			return
		}
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if r.PostForm.Get("client_secret") != ts.secret {
			w.WriteHeader(http.StatusUnauthorized)
			// A careless server echoing the secret must not leak it.
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":"bad secret %s"}`, r.PostForm.Get("client_secret"))
			return
		}
		tok := fmt.Sprintf("tok-%d", n)
		ts.valid[tok] = true
		answer := map[string]any{"access_token": tok, "expires_in": ts.expireIn}
		if ts.tokType != nil {
			answer["token_type"] = ts.tokType
		}
		_ = json.NewEncoder(w).Encode(answer)
	}))
	ts.target = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !ts.valid[tok] {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(ts.token.Close)
	t.Cleanup(ts.target.Close)
	return ts
}

func (ts *tokenServer) cred(secret string, revision int64, opens *atomic.Int32) *Credential {
	return newCred(api.CredOAuth2Client, secret, opens, func(c *api.Credential) {
		c.TokenURL = ptr(ts.token.URL + "/oauth/token?tenant=t1")
		c.ClientID = ptr("cid")
		c.Scopes = []string{"read", "write"}
		c.SecretRevision = revision
	})
}

func (ts *tokenServer) revokeAll() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	clear(ts.valid)
}

func TestOAuth2ClientCredentials(t *testing.T) {
	ts := newTokenServer(t)
	f := newFixture(t, Config{})
	var opens atomic.Int32
	tg := httpTarget(ts.target.URL)
	tg.Credential = ts.cred(secret, 1, &opens)

	mustUp(t, f.probe(t, tg))
	mustUp(t, f.probe(t, tg))
	if ts.calls.Load() != 1 {
		t.Fatalf("token endpoint called %d times for two probes, want 1 (cached)", ts.calls.Load())
	}
	if opens.Load() != 1 {
		t.Errorf("secret opened %d times, want 1: a cached token needs no secret", opens.Load())
	}

	// A rotated secret (new revision) fetches a new token at once, though
	// the old one has not expired.
	ts.mu.Lock()
	ts.secret = "rotated"
	ts.mu.Unlock()
	tg.Credential = ts.cred("rotated", 2, &opens)
	mustUp(t, f.probe(t, tg))
	if ts.calls.Load() != 2 {
		t.Fatalf("token calls after rotation = %d, want 2", ts.calls.Load())
	}
	mustUp(t, f.probe(t, tg))
	if ts.calls.Load() != 2 {
		t.Fatalf("token calls = %d, want 2 (cached again)", ts.calls.Load())
	}

	// Close to expiry (within the safety margin) the token is replaced.
	f.clock.Advance(3600*time.Second - 10*time.Second)
	mustUp(t, f.probe(t, tg))
	if ts.calls.Load() != 3 {
		t.Fatalf("token calls after expiry = %d, want 3", ts.calls.Load())
	}

	// The target refuses the cached token (revoked): the 401 drops it from
	// the cache, and the retry fetches a fresh one.
	ts.revokeAll()
	tg.Monitor.Retry = &api.RetryStrategy{Type: api.RetryFixed, MaxRetries: ptr[int64](1), BaseBackoff: ptr("1ms")}
	res := f.probe(t, tg)
	if res.Outcome != api.OutcomeDegraded || res.Attempts != 2 || ts.calls.Load() != 4 {
		t.Fatalf("after revocation: outcome %s attempts %d token calls %d, want degraded, 2, 4 (error %q)",
			res.Outcome, res.Attempts, ts.calls.Load(), deref0(res.Error))
	}
}

func TestConcurrentProbesShareOneToken(t *testing.T) {
	ts := newTokenServer(t)
	f := newFixture(t, Config{})
	var wg sync.WaitGroup
	var down atomic.Int32
	for range 20 {
		wg.Go(func() {
			tg := httpTarget(ts.target.URL)
			tg.Credential = ts.cred(secret, 1, nil)
			if res := f.p.Probe(context.Background(), tg); res.Outcome != api.OutcomeUp {
				down.Add(1)
			}
		})
	}
	wg.Wait()
	if down.Load() != 0 || ts.calls.Load() != 1 {
		t.Errorf("%d probes down, %d token calls; want 0 and 1", down.Load(), ts.calls.Load())
	}
}

func TestForgetCredential(t *testing.T) {
	ts := newTokenServer(t)
	f := newFixture(t, Config{})
	defer f.p.CloseIdleConnections()
	tg := httpTarget(ts.target.URL)
	tg.Credential = ts.cred(secret, 1, nil)
	mustUp(t, f.probe(t, tg))
	f.p.ForgetCredential("cred_other")
	mustUp(t, f.probe(t, tg))
	if ts.calls.Load() != 1 {
		t.Fatalf("token calls = %d, want 1", ts.calls.Load())
	}
	f.p.ForgetCredential(tg.Credential.ID)
	mustUp(t, f.probe(t, tg))
	if ts.calls.Load() != 2 {
		t.Fatalf("token calls after forgetting = %d, want 2", ts.calls.Load())
	}
}

func TestOAuth2TokenEndpointRefuses(t *testing.T) {
	ts := newTokenServer(t)
	f := newFixture(t, Config{})
	tg := httpTarget(ts.target.URL)
	tg.Credential = ts.cred("wrong-"+secret, 1, nil)
	res := f.probe(t, tg)
	msg := mustDown(t, res)
	if !strings.Contains(msg, "oauth2 token") || !strings.Contains(msg, "401 (invalid_client)") {
		t.Errorf("error = %q", msg)
	}
	if strings.Contains(msg, secret) || strings.Contains(msg, "tenant") || res.StatusCode != nil {
		t.Errorf("error carries the secret or the token URL query, or a status: %q %v", msg, res.StatusCode)
	}
	// Nothing was cached: the next probe asks again.
	f.probe(t, tg)
	if ts.calls.Load() != 2 {
		t.Errorf("token calls = %d, want 2", ts.calls.Load())
	}
}

func TestOAuth2ExpiresIn(t *testing.T) {
	cases := map[string]time.Duration{
		`3600`:   time.Hour,
		`"120"`:  2 * time.Minute,
		``:       tokenDefaultLifetime,
		`null`:   tokenDefaultLifetime,
		`"soon"`: tokenDefaultLifetime,
		`-5`:     tokenDefaultLifetime,
		`0`:      tokenDefaultLifetime,
		// Long lifetimes are kept up to a year.
		`8640000`: 100 * 24 * time.Hour,
		`1e9`:     365 * 24 * time.Hour,
	}
	for in, want := range cases {
		if got := expiresIn(json.RawMessage(in)); got != want {
			t.Errorf("expiresIn(%s) = %v, want %v", in, got, want)
		}
	}
}

// redirectRig is two targets: origin redirects /cross to foreign and /same
// to itself, copying its query into Location (as many servers do).
type redirectRig struct {
	origin, foreign *httptest.Server
	mu              sync.Mutex
	seen            map[string]*http.Request // by server name
}

func newRedirectRig(t *testing.T) *redirectRig {
	rig := &redirectRig{seen: map[string]*http.Request{}}
	record := func(name string, r *http.Request) {
		rig.mu.Lock()
		defer rig.mu.Unlock()
		rig.seen[name] = r.Clone(context.Background())
	}
	rig.foreign = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { record("foreign", r) }))
	rig.origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cross":
			http.Redirect(w, r, rig.foreign.URL+"/landing?"+r.URL.RawQuery, http.StatusFound)
		case "/same":
			http.Redirect(w, r, "/landing?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
		default:
			record("origin", r)
		}
	}))
	t.Cleanup(rig.origin.Close)
	t.Cleanup(rig.foreign.Close)
	return rig
}

// dump renders everything a server received.
func dump(r *http.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.String())
	for k, vs := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(vs, ","))
	}
	return b.String()
}

func TestRedirectKeepsCredentialOnTheHost(t *testing.T) {
	rig := newRedirectRig(t)
	f := newFixture(t, Config{})
	cases := []struct {
		name  string
		typ   string
		mod   func(*api.Credential)
		found func(r *http.Request) bool // the credential arrived
	}{
		{"bearer", api.CredBearer, nil, func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+secret }},
		{"basic", api.CredBasic, func(c *api.Credential) { c.Username = ptr("u") }, func(r *http.Request) bool { _, p, _ := r.BasicAuth(); return p == secret }},
		{"api_key header", api.CredAPIKey, func(c *api.Credential) { c.Header = ptr("x-token") }, func(r *http.Request) bool { return r.Header.Get("X-Token") == secret }},
		{"api_key default header", api.CredAPIKey, nil, func(r *http.Request) bool { return r.Header.Get("X-Api-Key") == secret }},
		{"api_key query", api.CredAPIKey, func(c *api.Credential) { c.QueryParam = ptr("key") }, func(r *http.Request) bool { return r.URL.Query().Get("key") == secret }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Another port on the same address is another host: host:port
			// differs, so the credential must not follow.
			tg := httpTarget(rig.origin.URL+"/cross", func(m *api.Monitor) { req(m).Query = map[string]string{"page": "1"} })
			tg.Credential = newCred(c.typ, secret, nil, c.mod)
			mustUp(t, f.probe(t, tg))
			rig.mu.Lock()
			got := rig.seen["foreign"]
			rig.mu.Unlock()
			if got == nil {
				t.Fatal("the redirect did not reach the other host")
			}
			if d := dump(got); strings.Contains(d, secret) || strings.Contains(d, url.QueryEscape(secret)) ||
				got.Header.Get("Authorization") != "" || strings.Contains(got.Header.Get("Referer"), "key=") {
				t.Errorf("the other host received the credential:\n%s", d)
			}
			if got.URL.Query().Get("page") != "1" {
				t.Errorf("the other host lost the non-credential query: %s", got.URL)
			}

			tg = httpTarget(rig.origin.URL + "/same")
			tg.Credential = newCred(c.typ, secret, nil, c.mod)
			mustUp(t, f.probe(t, tg))
			rig.mu.Lock()
			got = rig.seen["origin"]
			rig.mu.Unlock()
			if got == nil || got.URL.Path != "/landing" || !c.found(got) {
				t.Errorf("a same-host redirect lost the credential:\n%v", got)
			}
		})
	}
}

func TestErrorTextAndExcerptNeverCarryTheSecret(t *testing.T) {
	// A target that echoes the credential back, in a header and in the body.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := r.Header.Get("X-Api-Key")
		w.Header().Set("X-Echo", k)
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusBadRequest)
		}
		fmt.Fprintf(w, "you sent %s", k)
	}))
	defer srv.Close()
	f := newFixture(t, Config{})

	tg := httpTarget(srv.URL, func(m *api.Monitor) {
		m.Assertions = []api.Assertion{{Source: api.SourceHeader, Property: ptr("x-echo"), Comparison: api.CmpEquals, Target: ptr("nope")}}
	})
	tg.Credential = newCred(api.CredAPIKey, secret, nil, nil)
	msg := mustDown(t, f.probe(t, tg))
	if strings.Contains(msg, secret) || !strings.Contains(msg, redacted) {
		t.Errorf("error = %q", msg)
	}

	tg = httpTarget(srv.URL + "/fail")
	tg.Credential = newCred(api.CredAPIKey, secret, nil, nil)
	res := f.probe(t, tg)
	mustDown(t, res)
	if res.BodyExcerpt == nil || strings.Contains(*res.BodyExcerpt, secret) || !strings.Contains(*res.BodyExcerpt, "you sent "+redacted) {
		t.Errorf("excerpt = %v", deref0(res.BodyExcerpt))
	}

	// An api_key in the query of a URL that fails to connect.
	tg = httpTarget("http://" + closedAddr(t) + "/x")
	tg.Credential = newCred(api.CredAPIKey, secret, nil, func(c *api.Credential) { c.QueryParam = ptr("key") })
	msg = mustDown(t, f.probe(t, tg))
	if strings.Contains(msg, secret) || strings.Contains(msg, url.QueryEscape(secret)) || strings.Contains(msg, "key=") {
		t.Errorf("error = %q", msg)
	}
}

func TestScrubber(t *testing.T) {
	var s scrubber
	s.add("ab")
	s.add("a b/c")
	got := s.clean("x ab a b/c a+b%2Fc a%20b%2Fc")
	if want := "x [redacted] [redacted] [redacted] [redacted]"; got != want {
		t.Errorf("clean = %q, want %q", got, want)
	}
	long := s.clean(strings.Repeat("z", 5000))
	if len(long) > maxErrorText {
		t.Errorf("clean kept %d bytes", len(long))
	}
	if got := redactURL("https://user:pw@h:8443/p/a?token=x#frag"); got != "https://h:8443/p/a?"+redacted {
		t.Errorf("redactURL = %q", got)
	}
}

// TestOAuth2TokenTypeMustBeBearer: only bearer tokens can be sent as
// "Authorization: Bearer"; a token of another type (mac, DPoP) is refused
// with the type named, whatever its case, and an omitted type is taken as
// bearer, as many servers omit it.
func TestOAuth2TokenTypeMustBeBearer(t *testing.T) {
	ts := newTokenServer(t)
	f := newFixture(t, Config{})
	tg := httpTarget(ts.target.URL)
	tg.Credential = ts.cred(secret, 1, nil)
	setType := func(typ any) {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		ts.tokType = typ
	}
	for _, typ := range []string{"mac", "DPoP"} {
		setType(typ)
		f.p.ForgetCredential(tg.Credential.ID)
		msg := mustDown(t, f.probe(t, tg))
		want := fmt.Sprintf("returned token_type %q; only bearer is supported", typ)
		if !strings.HasPrefix(msg, "oauth2 token: ") || !strings.Contains(msg, want) {
			t.Errorf("token_type %s: error %q, want it to contain %q", typ, msg, want)
		}
	}
	for _, typ := range []any{"bearer", "BEARER", nil} {
		setType(typ)
		f.p.ForgetCredential(tg.Credential.ID)
		mustUp(t, f.probe(t, tg))
	}
}

// TestOAuth2TokensOfOtherCredentialsStay: fetching a token for one
// credential drops the older revisions of that credential only, never the
// cached tokens of another.
func TestOAuth2TokensOfOtherCredentialsStay(t *testing.T) {
	ts := newTokenServer(t)
	f := newFixture(t, Config{})
	a, b := httpTarget(ts.target.URL), httpTarget(ts.target.URL)
	a.Credential = ts.cred(secret, 1, nil)
	b.Credential = ts.cred(secret, 1, nil)
	b.Credential.ID = "cred_other"
	mustUp(t, f.probe(t, a))
	mustUp(t, f.probe(t, b))
	mustUp(t, f.probe(t, a))
	mustUp(t, f.probe(t, b))
	if ts.calls.Load() != 2 {
		t.Errorf("token endpoint called %d times for two credentials, want 2 (one each, then cached)", ts.calls.Load())
	}
}

// TestOAuth2TokenFailureIsRetried: a token endpoint that fails once (503)
// is an ordinary failure, retried like a target's, not a fatal one.
func TestOAuth2TokenFailureIsRetried(t *testing.T) {
	ts := newTokenServer(t)
	f := newFixture(t, Config{})
	tg := httpTarget(ts.target.URL, func(m *api.Monitor) {
		m.Retry = &api.RetryStrategy{Type: api.RetryFixed, MaxRetries: ptr[int64](2), BaseBackoff: ptr("1ms")}
	})
	tg.Credential = ts.cred(secret, 1, nil)
	ts.failNext.Store(1)
	res := f.probe(t, tg)
	if res.Outcome != api.OutcomeDegraded || res.Attempts != 2 || ts.calls.Load() != 2 {
		t.Errorf("outcome %s after %d attempts and %d token calls, want degraded, 2, 2 (error %q)",
			res.Outcome, res.Attempts, ts.calls.Load(), deref0(res.Error))
	}
}

// TestOAuth2ShortLivedTokenMargin: a token is renewed a tenth of its
// lifetime before expiry when that is less than tokenMargin (30 s): a
// 100 s token is used for 90 s, not 70 s.
func TestOAuth2ShortLivedTokenMargin(t *testing.T) {
	ts := newTokenServer(t)
	ts.expireIn = 100
	f := newFixture(t, Config{})
	tg := httpTarget(ts.target.URL)
	tg.Credential = ts.cred(secret, 1, nil)
	mustUp(t, f.probe(t, tg))
	f.clock.Advance(80 * time.Second)
	mustUp(t, f.probe(t, tg))
	if ts.calls.Load() != 1 {
		t.Fatalf("token calls at 80 s of a 100 s token = %d, want 1 (still cached)", ts.calls.Load())
	}
	f.clock.Advance(10 * time.Second)
	mustUp(t, f.probe(t, tg))
	if ts.calls.Load() != 2 {
		t.Errorf("token calls at 90 s of a 100 s token = %d, want 2 (renewed)", ts.calls.Load())
	}
}

// TestOAuth2NoScopeSendsNone: a credential without scopes sends no scope
// parameter at all (an empty one is invalid_scope to some servers).
func TestOAuth2NoScopeSendsNone(t *testing.T) {
	var withScope atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			_ = r.ParseForm()
			if _, ok := r.PostForm["scope"]; ok {
				withScope.Add(1)
			}
			fmt.Fprint(w, `{"access_token":"t1","token_type":"bearer"}`)
			return
		}
		if r.Header.Get("Authorization") != "Bearer t1" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	tg := httpTarget(srv.URL + "/target")
	tg.Credential = newCred(api.CredOAuth2Client, secret, nil, func(c *api.Credential) {
		c.TokenURL = ptr(srv.URL + "/token")
		c.ClientID = ptr("cid")
	})
	mustUp(t, newFixture(t, Config{}).probe(t, tg))
	if withScope.Load() != 0 {
		t.Errorf("%d token requests carried a scope parameter, want none", withScope.Load())
	}
}

// TestOAuth2ErrorCodeLength: the token endpoint's error code is quoted up
// to 64 bytes (the standard codes are far shorter); a longer one is the
// server's free text and is left out.
func TestOAuth2ErrorCodeLength(t *testing.T) {
	var code atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code.Load().(string)})
	}))
	defer srv.Close()
	f := newFixture(t, Config{})
	tg := httpTarget(srv.URL + "/target")
	tg.Credential = newCred(api.CredOAuth2Client, secret, nil, func(c *api.Credential) {
		c.TokenURL = ptr(srv.URL + "/token")
		c.ClientID = ptr("cid")
	})
	at64, at65 := strings.Repeat("e", 64), strings.Repeat("f", 65)
	code.Store(at64)
	if msg := mustDown(t, f.probe(t, tg)); !strings.HasSuffix(msg, "returned 400 ("+at64+")") {
		t.Errorf("a 64-byte code: error %q, want the code quoted", msg)
	}
	code.Store(at65)
	if msg := mustDown(t, f.probe(t, tg)); !strings.HasSuffix(msg, "returned 400") || strings.Contains(msg, "fff") {
		t.Errorf("a 65-byte code: error %q, want no code", msg)
	}
}
