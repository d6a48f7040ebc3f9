// Package webhook sends alert events as signed JSON POSTs to a URL the
// channel names: the body is the notify.Event schema, and the
// AIO-Signature header lets the receiver check that aiod sent it and that
// it is fresh.
//
// The signature scheme is the one Stripe and GitHub use, so that receivers
// can reuse what they know:
//
//	AIO-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// Signing the timestamp with the body lets a receiver refuse a replayed
// request once it is older than its tolerance (Verify does). AIO-Event-Id
// and AIO-Delivery-Id let it drop duplicates: every attempt of a delivery
// carries the same delivery ID.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
)

// Type is the channel type this package sends.
const Type = "webhook"

// The headers of every delivery.
const (
	HeaderSignature  = "AIO-Signature"
	HeaderEventID    = "AIO-Event-Id"
	HeaderDeliveryID = "AIO-Delivery-Id"
	// HeaderIdempotencyKey carries the delivery ID as well, the header
	// HTTP clients and proxies know as "safe to send again".
	HeaderIdempotencyKey = "Idempotency-Key"
)

// DefaultTolerance is the signature age Verify callers should accept: long
// enough for clock skew and a slow network, short enough that a captured
// request cannot be replayed later.
const DefaultTolerance = 5 * time.Minute

// Settings are a webhook channel's settings.
type Settings struct {
	// URL is where deliveries are POSTed (http or https).
	URL string `json:"url"`
	// Headers are extra request headers. Authorization is refused: a
	// credential does not belong in settings that the API shows and the
	// state stores in the clear; the signature authenticates aiod.
	Headers map[string]string `json:"headers,omitempty"`
}

// Sender sends webhook deliveries.
type Sender struct {
	client *http.Client
	clock  clock.Clock
}

var _ notify.Sender = (*Sender)(nil)

// New returns a Sender that posts with client (nil: Go's default transport;
// aiod passes a client whose dialer enforces the egress policy) and signs
// with the time of clk (nil: the real clock).
func New(client *http.Client, clk clock.Clock) *Sender {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Sender{client: client, clock: clk}
}

// Validate checks a webhook channel's settings.
func (s *Sender) Validate(raw json.RawMessage) error {
	_, err := parseSettings(raw)
	return err
}

func parseSettings(raw json.RawMessage) (Settings, error) {
	var st Settings
	if err := notify.DecodeSettings(raw, &st); err != nil {
		return st, err
	}
	if st.URL == "" {
		return st, errors.New("url: required")
	}
	u, err := url.Parse(st.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return st, errors.New("url: must be an absolute http or https URL")
	}
	if u.User != nil {
		return st, errors.New("url: must not carry user info; the signature authenticates aiod to the receiver")
	}
	for name, v := range st.Headers {
		lower := strings.ToLower(name)
		switch {
		case !validHeaderName(name):
			return st, fmt.Errorf("headers: %q is not a valid header name", name)
		case strings.HasPrefix(lower, "aio-"):
			return st, fmt.Errorf("headers: %q may not be set; AIO- headers are aiod's own", name)
		case api.IsReservedChannelHeader(lower):
			return st, fmt.Errorf("headers: %q may not be set; aiod sets it, or it changes how the delivery is sent", name)
		case strings.ContainsAny(v, "\r\n\x00"):
			return st, fmt.Errorf("headers: the value of %q contains a line break", name)
		}
	}
	return st, nil
}

// validHeaderName tells whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// Send POSTs the event to the channel's URL, signed with the channel's
// secret.
func (s *Sender) Send(ctx context.Context, d notify.Delivery, ch notify.Channel) notify.Result {
	st, err := parseSettings(ch.Settings)
	if err != nil {
		return notify.Result{Outcome: notify.Failed, Error: "invalid settings: " + err.Error()}
	}
	if len(ch.Secret) == 0 {
		return notify.Result{Outcome: notify.Failed, Error: "the channel has no signing secret"}
	}
	body, err := json.Marshal(d.Event)
	if err != nil {
		return notify.Result{Outcome: notify.Failed, Error: "encoding the event: " + err.Error()}
	}
	h := http.Header{}
	for k, v := range st.Headers {
		h.Set(k, v)
	}
	h.Set(HeaderSignature, Sign(ch.Secret, body, s.clock.Now()))
	h.Set(HeaderEventID, d.Event.EventID)
	h.Set(HeaderDeliveryID, d.ID)
	// The delivery ID as Idempotency-Key too: with it Go's transport may
	// send the request again on a new connection when a reused keep-alive
	// connection turns out closed by the receiver (an idle timeout shorter
	// than ours, Node's default is 5 s) after the request went out. Without
	// it that race costs a whole retry backoff; the receiver drops a
	// duplicate by the same ID.
	h.Set(HeaderIdempotencyKey, d.ID)
	return notify.PostJSON(ctx, s.client, notify.Post{
		URL:     st.URL,
		Show:    notify.ShowURL(st.URL),
		Body:    body,
		Header:  h,
		Secrets: [][]byte{ch.Secret},
	})
}

// Sign returns the AIO-Signature header value for body sent at now.
func Sign(secret, body []byte, now time.Time) string {
	t := strconv.FormatInt(now.Unix(), 10)
	return "t=" + t + ",v1=" + hex.EncodeToString(mac(secret, t, body))
}

func mac(secret []byte, t string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(t))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Errors of Verify.
var (
	// ErrMalformed: the header is missing or has no t= or no v1=.
	ErrMalformed = errors.New("webhook: malformed AIO-Signature header")
	// ErrTooOld: the signed timestamp is outside the tolerance (a replay,
	// or a clock far off).
	ErrTooOld = errors.New("webhook: signature timestamp outside the tolerance")
	// ErrMismatch: no v1 signature matches the body (a tampered body, or
	// the wrong secret).
	ErrMismatch = errors.New("webhook: signature does not match")
)

// Verify checks an AIO-Signature header as a receiver should: the header
// names a timestamp within tolerance of now (either way, so that a
// request signed in the future by a skewed clock is not good for longer)
// and at least one v1 signature that matches HMAC-SHA256(secret,
// "<t>.<body>"), compared in constant time. Several v1 entries are
// accepted so that aiod can sign with an old and a new secret while a
// receiver rotates. The body must be the raw bytes received, before any
// JSON decoding.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrMalformed
	}
	if age := now.Sub(time.Unix(t, 0)); age > tolerance || age < -tolerance {
		return ErrTooOld
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return ErrMismatch
}
