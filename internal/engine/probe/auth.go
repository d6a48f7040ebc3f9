package probe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
)

// Token cache tuning.
const (
	// tokenMargin is how long before its expiry a cached access token is
	// replaced, so that a token does not expire between being read from
	// the cache and reaching the target. Short-lived tokens use a tenth of
	// their lifetime instead.
	tokenMargin = 30 * time.Second
	// tokenDefaultLifetime applies when the token endpoint omits
	// expires_in (RFC 6749 makes it only RECOMMENDED): fetching a token on
	// every probe would hammer the identity provider, caching forever would
	// outlive the token.
	tokenDefaultLifetime = 5 * time.Minute
	// maxTokenResponse bounds how much of a token response is read.
	maxTokenResponse = 64 << 10
)

// credentialHeaders are the credential's header and query parameter, which
// must not follow a redirect to another host.
type credentialHeaders struct {
	header     string // canonical header name, or ""
	queryParam string // api_key query parameter, or ""
}

// credentialPlacement says where a credential goes, without its secret.
func credentialPlacement(c *Credential) credentialHeaders {
	if c == nil {
		return credentialHeaders{}
	}
	switch c.Type {
	case api.CredAPIKey:
		if c.QueryParam != nil && *c.QueryParam != "" {
			return credentialHeaders{queryParam: *c.QueryParam}
		}
		h := api.DefaultAPIKeyHeader
		if c.Header != nil && *c.Header != "" {
			h = *c.Header
		}
		return credentialHeaders{header: http.CanonicalHeaderKey(h)}
	default:
		return credentialHeaders{header: "Authorization"}
	}
}

// openSecret decrypts the credential's secret once per run and registers it
// for scrubbing.
func (r *run) openSecret(ctx context.Context) ([]byte, error) {
	if r.secretOpened {
		return r.secret, nil
	}
	c := r.t.Credential
	if c.Open == nil {
		return nil, errors.New("no secret available")
	}
	s, err := c.Open(ctx)
	if err != nil {
		return nil, err
	}
	r.secret, r.secretOpened = s, true
	r.scrub.add(string(s))
	return s, nil
}

// applyCredential puts the credential on req as its type says. The secret is
// opened here, in the attempt, so that it exists only while a probe runs.
func (r *httpRun) applyCredential(ctx context.Context, req *http.Request) (failKind, string) {
	c := r.t.Credential
	if c == nil {
		return failNone, ""
	}
	fail := func(err error) (failKind, string) {
		return failFatal, fmt.Sprintf("credential %s: cannot open the secret: %s", c.ID, sanitizeError(err))
	}
	// The hosts are checked before the secret is even opened: a request
	// to a host the credential does not allow is not made with it at all.
	if hp := r.refusedHost(req.URL); hp != "" {
		return failFatal, notAllowedMessage(c.ID, hp, "")
	}
	// Plain http without the credential's opt-in: an address literal
	// is judged now, a name when the probe connects (dialGuarded).
	if hp := needsPlaintextCheck(c, req.URL); hp != "" && r.p.refusedPlaintextLiteral(req.URL) {
		return failFatal, plaintextMessage(c.ID, hp, "")
	}
	if c.Type == api.CredOAuth2Client {
		u, err := url.Parse(deref(c.TokenURL))
		if err != nil || u.Host == "" {
			return failFatal, fmt.Sprintf("credential %s: invalid token_url", c.ID)
		}
		if !api.HostsAllow(c.AllowedHosts, u) {
			return failFatal, notAllowedMessage(c.ID, api.HostPort(u), " for its OAuth2 token_url")
		}
		if hp := needsPlaintextCheck(c, u); hp != "" && r.p.refusedPlaintextLiteral(u) {
			return failFatal, plaintextMessage(c.ID, hp, tokenURLWhat)
		}
	}
	switch c.Type {
	case api.CredAPIKey, api.CredBearer, api.CredBasic:
		secret, err := r.openSecret(ctx)
		if err != nil {
			return fail(err)
		}
		switch {
		case c.Type == api.CredBearer:
			req.Header.Set("Authorization", "Bearer "+string(secret))
		case c.Type == api.CredBasic:
			user := ""
			if c.Username != nil {
				user = *c.Username
			}
			req.SetBasicAuth(user, string(secret))
			// user:pass is what the header encodes: its base64 forms
			// are what a target echoing the header sends back. The
			// secret alone is registered already, embedded base64
			// included, for a target that re-encodes it otherwise.
			r.scrub.add(user + ":" + string(secret))
		case r.placement.queryParam != "":
			q := req.URL.Query()
			q.Set(r.placement.queryParam, string(secret))
			req.URL.RawQuery = q.Encode()
		default:
			req.Header.Set(r.placement.header, string(secret))
		}
		return failNone, ""
	case api.CredOAuth2Client:
		tok, kind, msg := r.p.token(ctx, r.run)
		if kind != failNone {
			return kind, msg
		}
		r.token = tok
		r.scrub.add(tok)
		req.Header.Set("Authorization", "Bearer "+tok)
		return failNone, ""
	}
	return failFatal, fmt.Sprintf("credential %s: unsupported type %q", c.ID, c.Type)
}

// tokenURLWhat names the token URL in refusals.
const tokenURLWhat = " for its OAuth2 token_url" //nolint:gosec // G101: words of a message, not a credential.

// tokenKey identifies a cached access token. The secret revision is part of
// it so that a rotated client secret fetches a new token at once instead of
// using one obtained with the old secret; the fingerprint of the token URL,
// client ID and scopes is part of it so that a token is never used for
// scopes it was not granted.
type tokenKey struct {
	id       string
	revision int64
	fp       string
}

func newTokenKey(c *Credential) tokenKey {
	h := sha256.New()
	for _, s := range []string{deref(c.TokenURL), deref(c.ClientID), strings.Join(c.Scopes, " ")} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return tokenKey{id: c.ID, revision: c.SecretRevision, fp: hex.EncodeToString(h.Sum(nil)[:8])}
}

// tokenEntry is one cached token. Its mutex is held while a token is
// fetched, so that monitors sharing a credential fetch it once, not once
// each.
type tokenEntry struct {
	mu         sync.Mutex
	token      string
	validUntil time.Time
}

// tokenEntry returns the cache entry for k, dropping the entries of other
// revisions of the same credential: once a secret is rotated, tokens fetched
// with the old one are never wanted again.
func (p *Prober) tokenEntry(k tokenKey) *tokenEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.tokens[k]; ok {
		return e
	}
	for old := range p.tokens {
		if old.id == k.id {
			delete(p.tokens, old)
		}
	}
	e := &tokenEntry{}
	p.tokens[k] = e
	return e
}

// token returns a valid access token for the run's credential, from the
// cache or from the token endpoint.
func (p *Prober) token(ctx context.Context, r *run) (string, failKind, string) {
	c := r.t.Credential
	k := newTokenKey(c)
	e := p.tokenEntry(k)
	e.mu.Lock()
	defer e.mu.Unlock()
	now := p.clock.Now()
	if e.token != "" && now.Before(e.validUntil) {
		return e.token, failNone, ""
	}
	secret, err := r.openSecret(ctx)
	if err != nil {
		return "", failFatal, fmt.Sprintf("credential %s: cannot open the secret: %s", c.ID, sanitizeError(err))
	}
	// The token request gets its own timeout so that a slow identity
	// provider does not eat the target's time budget; it is not part of
	// the measured latency either.
	tctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	tctx, guard := withPlaintextGuard(tctx)
	client := p.tokenClient
	if u, err := url.Parse(deref(c.TokenURL)); err == nil {
		guard.hostPort = needsPlaintextCheck(c, u)
		if strings.EqualFold(u.Scheme, "http") {
			client = p.plainTokenClient
		}
	}
	tok, lifetime, kind, err := p.fetchToken(tctx, client, c, string(secret), r.scrub.cut)
	if err != nil {
		if ctx.Err() != nil {
			kind = failFatal
		}
		return "", kind, "oauth2 token: " + err.Error()
	}
	margin := min(tokenMargin, lifetime/10)
	e.token, e.validUntil = tok, now.Add(lifetime-margin)
	return tok, failNone, ""
}

// invalidateToken drops a cached token the target refused (401), so that the
// next attempt fetches a fresh one instead of failing until expiry.
func (p *Prober) invalidateToken(c *Credential, tok string) {
	e := p.tokenEntry(newTokenKey(c))
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.token == tok {
		e.token, e.validUntil = "", time.Time{}
	}
}

// tokenResponse is the token endpoint's answer (RFC 6749 §5.1 and §5.2).
type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	Error       string          `json:"error"`
}

// fetchToken runs the client credentials grant (RFC 6749 §4.4). The client
// authenticates with client_secret_post (§2.3.1): client_id and
// client_secret in the form body. It is what the major identity providers
// document for this grant, and unlike HTTP Basic it needs no form-encoding of
// the ID and secret that servers decode inconsistently. Error text carries
// neither the secret nor the token URL's query.
//
// cut scrubs and cuts what the error text quotes of the response
// (scrubber.cut), so that a server echoing the secret where a token type
// belongs does not leak part of it.
func (p *Prober) fetchToken(ctx context.Context, client *http.Client, c *Credential, secret string, cut func(string, int) string) (string, time.Duration, failKind, error) {
	tokenURL := deref(c.TokenURL)
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {deref(c.ClientID)},
		"client_secret": {secret},
	}
	if len(c.Scopes) > 0 {
		form.Set("scope", strings.Join(c.Scopes, " "))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, failFatal, fmt.Errorf("invalid token_url %q", redactURL(tokenURL))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		if msg := plaintextRefused(c.ID, err, tokenURLWhat); msg != "" {
			return "", 0, failFatal, errors.New(msg)
		}
		kind := failNetwork
		switch {
		case egress.IsDenied(err):
			kind = failFatal
		case isTimeout(ctx, err):
			kind = failTimeout
		}
		return "", 0, kind, errors.New(sanitizeError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	if err != nil {
		return "", 0, failNetwork, fmt.Errorf("reading the token response: %s", sanitizeError(err))
	}
	var tr tokenResponse
	jsonErr := json.Unmarshal(body, &tr)
	if resp.StatusCode/100 != 2 {
		// Only the standard error code is reported: error_description
		// and the rest of the body are the server's text, which may
		// echo what was sent.
		code := ""
		if jsonErr == nil && tr.Error != "" && len(tr.Error) <= 64 {
			code = " (" + tr.Error + ")"
		}
		return "", 0, failOther, fmt.Errorf("token endpoint %q returned %d%s", redactURL(tokenURL), resp.StatusCode, code)
	}
	if jsonErr != nil {
		return "", 0, failOther, fmt.Errorf("token endpoint %q returned invalid JSON", redactURL(tokenURL))
	}
	if tr.AccessToken == "" {
		return "", 0, failOther, fmt.Errorf("token endpoint %q returned no access_token", redactURL(tokenURL))
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, failOther, fmt.Errorf("token endpoint %q returned token_type %q; only bearer is supported", redactURL(tokenURL), cut(tr.TokenType, 32))
	}
	return tr.AccessToken, expiresIn(tr.ExpiresIn), failNone, nil
}

// expiresIn reads expires_in, which some servers send as a string.
func expiresIn(raw json.RawMessage) time.Duration {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return tokenDefaultLifetime
	}
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil || secs <= 0 {
		return tokenDefaultLifetime
	}
	return time.Duration(min(secs, 365*24*3600) * float64(time.Second))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ForgetCredential drops the cached access tokens of a credential, for the
// caller to use when the credential is deleted: a token of a deleted
// credential should not stay in memory until the process exits. Rotation
// needs no call, since the secret revision is part of the cache key.
func (p *Prober) ForgetCredential(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range p.tokens {
		if k.id == id {
			delete(p.tokens, k)
		}
	}
}
