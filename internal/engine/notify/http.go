package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/redact"
)

// UserAgent is the User-Agent of every HTTP delivery.
const UserAgent = "aiod-notify/1"

// replyBytes is how much of a receiver's answer is read for Result.Reply;
// the rest is drained (up to drainBytes, so that the connection can be
// reused) and dropped.
const (
	replyBytes = 4 << 10
	drainBytes = 64 << 10
)

// maxReply bounds Result.Reply for HTTP answers: enough for "invalid_token"
// or a PagerDuty error list, not a copy of an HTML error page.
const maxReply = 200

// Post is one HTTP POST an HTTP sender makes.
type Post struct {
	// URL is where to send.
	URL string
	// Show is how error text names the target: the URL without any
	// part that may be secret (the whole path of a Slack webhook URL,
	// the query string of any URL). It is never the URL itself unless
	// the caller knows the URL holds nothing secret.
	Show string
	// Body is the request body, sent as application/json.
	Body []byte
	// Header holds extra request headers.
	Header http.Header
	// Secrets are scrubbed from Result.Error and Result.Reply.
	Secrets [][]byte
}

// PostJSON makes one POST with client and classifies the answer:
//
//   - 2xx: Delivered.
//   - 408, 429 and 5xx: Retry, with the receiver's Retry-After (seconds or
//     an HTTP date, capped at DefaultMaxRetryAfter) in Result.RetryAfter.
//   - 3xx: Failed. Redirects are not followed, because following one would
//     send the signed body, and for Slack the secret URL's answer, to a host
//     the channel does not name, and Go's client turns a redirected POST
//     into a GET.
//   - any other 4xx: Failed; the receiver refused the event itself.
//   - no answer: Retry for timeouts, refused and reset connections, DNS and
//     TLS errors (all may pass); Failed for an egress policy denial, which
//     no retry gets past.
//
// The client is used as given (its transport, its dialer and so the egress
// policy) except that redirects are not followed; nil means a client with
// Go's default transport.
func PostJSON(ctx context.Context, client *http.Client, p Post) Result {
	start := time.Now()
	res := postJSON(ctx, client, p)
	res.Duration = time.Since(start)
	res.Error = Scrub(res.Error, p.Secrets...)
	res.Reply = Scrub(res.Reply, p.Secrets...)
	return res
}

func postJSON(ctx context.Context, client *http.Client, p Post) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		// The parse error quotes the URL, which may be the secret.
		return Result{Outcome: Failed, Error: fmt.Sprintf("POST %s: invalid URL", p.Show)}
	}
	for k, vs := range p.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)

	c := http.Client{}
	if client != nil {
		c = *client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	resp, err := c.Do(req)
	if err != nil {
		outcome, msg := classifyTransport(ctx, err)
		return Result{Outcome: outcome, Error: fmt.Sprintf("POST %s: %s", p.Show, msg)}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, replyBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainBytes))

	res := Result{Status: resp.StatusCode, Reply: excerpt(head, len(head) == replyBytes, p.Secrets)}
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		res.Outcome = Delivered
		return res
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		res.Outcome = Retry
		res.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), responseTime(resp))
	case code >= 300 && code < 400:
		// The Location header is not quoted: it may carry a token.
		res.Outcome = Failed
		res.Error = fmt.Sprintf("POST %s: receiver answered %s; redirects are not followed", p.Show, resp.Status)
		return res
	default:
		res.Outcome = Failed
	}
	res.Error = fmt.Sprintf("POST %s: receiver answered %s", p.Show, resp.Status)
	if res.Reply != "" {
		res.Error += ": " + res.Reply
	}
	return res
}

// classifyTransport classifies an error of an HTTP exchange that got no
// answer and describes it without the URL (url.Error quotes the whole URL,
// query and secret path included).
func classifyTransport(ctx context.Context, err error) (Outcome, string) {
	if egress.IsDenied(err) {
		var de *egress.DeniedError
		errors.As(err, &de)
		return Failed, de.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return Retry, "timed out waiting for the receiver"
	case errors.Is(ctx.Err(), context.Canceled):
		return Retry, "canceled"
	case errors.As(err, &ne) && ne.Timeout():
		return Retry, "timed out waiting for the receiver"
	}
	return Retry, err.Error()
}

// ParseRetryAfter parses a Retry-After header: delay seconds or an HTTP
// date, relative to now. It returns 0 for a missing, malformed or past
// value, and caps the wait at DefaultMaxRetryAfter.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(DefaultMaxRetryAfter/time.Second) {
			return DefaultMaxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), DefaultMaxRetryAfter)
}

// responseTime is the receiver's idea of now (its Date header), against
// which an HTTP-date Retry-After is meant; the local clock when it sent
// none.
func responseTime(resp *http.Response) time.Time {
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		return t
	}
	return time.Now()
}

// excerpt makes a receiver's answer one short line of printable text,
// without the secrets. The order matters: the whole answer is scrubbed
// before anything cuts or rewrites it, so that a secret the receiver
// echoes where the 200-byte cut falls is seen whole and replaced rather
// than kept as its prefix; it is scrubbed again after control characters
// and runs of whitespace are collapsed, which could make a form of a
// secret out of text that was not one; and what the cut (or the read
// limit, when truncated) leaves of a secret at the end is removed.
func excerpt(b []byte, truncated bool, secrets [][]byte) string {
	sc := redact.New(secrets...)
	s := sc.Redact(strings.ToValidUTF8(string(b), "?"))
	if truncated {
		s = sc.TrimTail(s)
	}
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return sc.Cut(strings.Join(strings.Fields(s), " "), maxReply)
}

// ShowURL names a URL in error text without its query string, fragment or
// user info, which may carry tokens.
func ShowURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
