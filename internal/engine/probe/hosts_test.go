package probe

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// recorder is a local target that keeps every request it receives.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, r.Clone(r.Context()))
		rec.mu.Unlock()
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) requests() []*http.Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]*http.Request(nil), rec.seen...)
}

// hostPortOf is the host:port of a test server's URL.
func hostPortOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func TestSecretNotSentToAHostOutsideAllowedHosts(t *testing.T) {
	// The credential's hosts do not match the URL the probe is about to
	// use, as after a change made directly in the database: the probe must
	// not open the secret, and the target must not even be asked.
	target := newRecorder(t, nil)
	f := newFixture(t, Config{})
	for _, typ := range []string{api.CredAPIKey, api.CredBearer, api.CredBasic} {
		t.Run(typ, func(t *testing.T) {
			var opens atomic.Int32
			tg := httpTarget(target.srv.URL + "/x")
			tg.Credential = newCred(typ, secret, &opens, func(c *api.Credential) {
				c.Username = nil
				if typ == api.CredBasic {
					c.Username = ptr("u")
				}
				c.AllowedHosts = []string{"api.example.com", "127.0.0.1:1"}
			})
			res := f.probe(t, tg)
			msg := mustDown(t, res)
			want := "credential cred_test is not allowed for host " + hostPortOf(t, target.srv.URL) + " (allowed_hosts)"
			if !strings.Contains(msg, want) || res.Attempts != 1 {
				t.Errorf("error %q after %d attempts, want it to contain %q after 1", msg, res.Attempts, want)
			}
			if opens.Load() != 0 {
				t.Errorf("the secret was opened %d times for a host it may not go to", opens.Load())
			}
		})
	}
	if n := len(target.requests()); n != 0 {
		t.Errorf("the target received %d requests; a probe that may not send its secret sends nothing", n)
	}
	// An empty list (a credential migrated without users) sends nowhere.
	tg := httpTarget(target.srv.URL)
	tg.Credential = newCred(api.CredBearer, secret, nil, func(c *api.Credential) { c.AllowedHosts = []string{} })
	mustDown(t, f.probe(t, tg))
	if n := len(target.requests()); n != 0 {
		t.Errorf("the target received %d requests with an empty allowed_hosts", n)
	}
}

func TestHostHeaderMustBeAllowed(t *testing.T) {
	// A Host header picks the virtual host at the far end: a shared front
	// end would hand the request, credential and all, to that name.
	target := newRecorder(t, nil)
	f := newFixture(t, Config{})
	tg := httpTarget(target.srv.URL, func(m *api.Monitor) { req(m).Headers = map[string]string{"host": "evil.example"} })
	tg.Credential = newCred(api.CredAPIKey, secret, nil, nil)
	msg := mustDown(t, f.probe(t, tg))
	if !strings.Contains(msg, "not allowed for host evil.example:") {
		t.Errorf("error %q", msg)
	}
	if n := len(target.requests()); n != 0 {
		t.Errorf("the target received %d requests", n)
	}
}

func TestRedirectToAHostOutsideAllowedHosts(t *testing.T) {
	// origin (allowed by host and port) redirects to foreign, another port
	// of the same address that the pattern's port excludes. foreign must
	// get the request without the secret; origin keeps getting it on a
	// redirect to itself.
	foreign := newRecorder(t, nil)
	origin := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cross":
			http.Redirect(w, r, foreign.srv.URL+"/landing?"+r.URL.RawQuery, http.StatusFound)
		case "/same":
			http.Redirect(w, r, "/landing", http.StatusTemporaryRedirect)
		}
	})
	f := newFixture(t, Config{})
	only := func(c *api.Credential) { c.AllowedHosts = []string{hostPortOf(t, origin.srv.URL)} }
	for _, c := range []struct {
		typ string
		mod func(*api.Credential)
	}{
		{api.CredBearer, only},
		{api.CredAPIKey, func(c *api.Credential) { only(c); c.Header = ptr("x-token") }},
		{api.CredAPIKey, func(c *api.Credential) { only(c); c.QueryParam = ptr("key") }},
	} {
		tg := httpTarget(origin.srv.URL + "/cross")
		tg.Credential = newCred(c.typ, secret, nil, c.mod)
		mustUp(t, f.probe(t, tg))
	}
	got := foreign.requests()
	if len(got) != 3 {
		t.Fatalf("foreign received %d requests, want 3", len(got))
	}
	for _, r := range got {
		if d := dump(r); strings.Contains(d, secret) || strings.Contains(d, url.QueryEscape(secret)) {
			t.Errorf("a host outside allowed_hosts received the secret:\n%s", d)
		}
	}

	tg := httpTarget(origin.srv.URL + "/same")
	tg.Credential = newCred(api.CredBearer, secret, nil, only)
	mustUp(t, f.probe(t, tg))
	reqs := origin.requests()
	last := reqs[len(reqs)-1]
	if last.URL.Path != "/landing" || last.Header.Get("Authorization") != "Bearer "+secret {
		t.Errorf("a redirect to the allowed host itself lost the credential: %s", dump(last))
	}
}

func TestOAuth2TokenURLOutsideAllowedHosts(t *testing.T) {
	// The target is allowed, the token endpoint is not: the client secret
	// must never reach the token endpoint.
	ts := newTokenServer(t)
	f := newFixture(t, Config{})
	var opens atomic.Int32
	tg := httpTarget(ts.target.URL)
	tg.Credential = ts.cred(secret, 1, &opens)
	tg.Credential.AllowedHosts = []string{hostPortOf(t, ts.target.URL)}
	res := f.probe(t, tg)
	msg := mustDown(t, res)
	want := "credential cred_test is not allowed for host " + hostPortOf(t, ts.token.URL) + " (allowed_hosts) for its OAuth2 token_url"
	if !strings.Contains(msg, want) {
		t.Errorf("error %q, want it to contain %q", msg, want)
	}
	if ts.calls.Load() != 0 || opens.Load() != 0 {
		t.Errorf("token endpoint called %d times, secret opened %d times; want 0 and 0", ts.calls.Load(), opens.Load())
	}
	// With the token host allowed as well, the same credential works.
	tg.Credential.AllowedHosts = append(tg.Credential.AllowedHosts, hostPortOf(t, ts.token.URL))
	mustUp(t, f.probe(t, tg))
}
