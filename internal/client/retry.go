package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// shouldRetry is the retry policy. go-retryablehttp's default policy retries
// 500 and any method; this one retries only failures that are likely to be
// transient, and only requests that are safe to send twice.
func shouldRetry(ctx context.Context, req *http.Request, resp *http.Response, err error) bool {
	if ctx.Err() != nil {
		// The caller gave up (cancelled or hit its own deadline); another
		// attempt would be wasted.
		return false
	}
	if !replayable(req) {
		return false
	}
	if err != nil {
		return retryableError(err)
	}
	if resp == nil {
		return false
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusConflict:
		// aiod answers 409 with Retry-After while the first request with
		// the same idempotency key is still running (an earlier attempt
		// that timed out on this side). Waiting and sending the same key
		// again gets that request's stored answer. A 409 without
		// Retry-After (a name taken, a reference) is final.
		return resp.Header.Get("Retry-After") != ""
	}
	// 500 in particular is not retried: it means the server failed while
	// handling the request, and sending it again is unlikely to help.
	return false
}

// replayable reports whether sending req a second time is safe. Reads are;
// a write is only when it carries an idempotency key, because the server
// then answers a replay with the stored response instead of applying the
// change twice.
func replayable(req *http.Request) bool {
	if req == nil {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return req.Header.Get(api.HeaderIdempotency) != ""
	}
	return false
}

// permanentErrorTexts are fragments of errors from net/http that no retry
// can fix. They are matched as text because net/http does not export types
// for them.
var permanentErrorTexts = []string{
	"unsupported protocol scheme",
	"invalid URL",
	"no Host in request URL",
	"stopped after", // too many redirects
	"net/http: invalid header",
	"server gave HTTP response to HTTPS client",
	"x509: ",
	"tls: failed to verify certificate",
}

// retryableError reports whether a transport error (no response at all) is
// worth another attempt. Connection refused, reset, EOF and a per-attempt
// timeout are; a certificate the client does not trust and a malformed URL
// are not, because they fail the same way every time.
func retryableError(err error) bool {
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return false
	}
	var unknownAuthority x509.UnknownAuthorityError
	if errors.As(err, &unknownAuthority) {
		return false
	}
	var hostnameErr x509.HostnameError
	if errors.As(err, &hostnameErr) {
		return false
	}
	var invalidCert x509.CertificateInvalidError
	if errors.As(err, &invalidCert) {
		return false
	}
	var recordHeader tls.RecordHeaderError
	if errors.As(err, &recordHeader) {
		return false
	}
	msg := err.Error()
	for _, s := range permanentErrorTexts {
		if strings.Contains(msg, s) {
			return false
		}
	}
	return true
}

// backoff is the wait before retry number attempt+1. It is exponential from
// minWait, doubling per attempt and capped at maxWait, with equal jitter (between
// half and all of that value) so that many clients throttled at once do not
// come back in step. A 429 or 503 with Retry-After waits what the server
// asked, but never more than maxWait: a server asking for a day must not stall
// a Terraform run for a day.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusConflict) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return clampDuration(d, 0, maxWait)
		}
	}
	d := exponential(minWait, maxWait, attempt)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1) //nolint:gosec // G404: jitter needs no cryptographic randomness.
}

// exponential returns minWait·2^attempt, capped at maxWait, without
// overflowing.
func exponential(minWait, maxWait time.Duration, attempt int) time.Duration {
	if minWait <= 0 {
		return 0
	}
	d := minWait
	for i := 0; i < attempt && d < maxWait; i++ {
		if d > math.MaxInt64/2 {
			return maxWait
		}
		d *= 2
	}
	return clampDuration(d, 0, maxWait)
}

// retryAfter parses a Retry-After value, either delta-seconds or an
// HTTP-date (RFC 9110, section 10.2.3), relative to now. A date in the past
// means "now".
func retryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	secs, err := strconv.ParseUint(value, 10, 64)
	if err == nil && secs <= uint64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(secs) * time.Second, true
	}
	if err == nil || errors.Is(err, strconv.ErrRange) {
		// Too many seconds to represent: "forever", which the caller caps.
		return time.Duration(math.MaxInt64), true
	}
	t, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// clampDuration limits d to [lo, hi].
func clampDuration(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}
