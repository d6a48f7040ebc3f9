package webhook_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/notifytest"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/webhook"
)

var secret = []byte("whsec_2f6b1c0e-very-secret")

// now is the fake time deliveries are signed at.
var now = time.Date(2026, 11, 29, 10, 0, 30, 0, time.UTC)

func channel(url string, headers map[string]string) notify.Channel {
	st, _ := json.Marshal(webhook.Settings{URL: url, Headers: headers})
	return notify.Channel{ID: "chan_hook", Name: "ops hook", Type: webhook.Type, Settings: st, Secret: secret}
}

func delivery() notify.Delivery {
	return notify.Delivery{ID: "dlv_01JDZQ8X9N0000000000000001", Event: notifytest.Event()}
}

func send(t *testing.T, ctx context.Context, client *http.Client, ch notify.Channel) notify.Result {
	t.Helper()
	res := webhook.New(client, clock.NewFake(now)).Send(ctx, delivery(), ch)
	notifytest.NoSecret(t, secret, res.Error, res.Reply)
	return res
}

// TestSendSigned: the receiver gets the documented body, verifies the
// signature with Verify, and finds the delivery and event IDs and the
// channel's own headers.
func TestSendSigned(t *testing.T) {
	var verr error
	rcv := notifytest.NewReceiver(t, nil)
	rcv.Handler = func(w http.ResponseWriter, r *http.Request) {
		req := rcv.Requests()[0]
		verr = webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), req.Body, now.Add(2*time.Second), webhook.DefaultTolerance)
		w.WriteHeader(http.StatusNoContent)
	}
	res := send(t, context.Background(), rcv.Client(), channel(rcv.URL+"/hooks/aio?team=ops", map[string]string{"X-Team": "payments"}))
	if res.Outcome != notify.Delivered || res.Status != 204 || res.Error != "" {
		t.Fatalf("result %+v", res)
	}
	if verr != nil {
		t.Errorf("the receiver could not verify the signature: %v", verr)
	}
	req := rcv.Only(t)
	if req.Method != http.MethodPost || req.Path != "/hooks/aio?team=ops" {
		t.Errorf("%s %s", req.Method, req.Path)
	}
	want := map[string]string{
		"Content-Type":    "application/json",
		"Aio-Event-Id":    "evt_01JDZQ8X9N0000000000000001",
		"Aio-Delivery-Id": "dlv_01JDZQ8X9N0000000000000001",
		"Idempotency-Key": "dlv_01JDZQ8X9N0000000000000001",
		"X-Team":          "payments",
		"User-Agent":      notify.UserAgent,
		"Aio-Signature":   webhook.Sign(secret, req.Body, now),
	}
	for k, v := range want {
		if got := req.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if !strings.HasPrefix(req.Header.Get("Aio-Signature"), "t=1795946430,v1=") {
		t.Errorf("signature %q is not t=<unix seconds>,v1=<hex>", req.Header.Get("Aio-Signature"))
	}
	notifytest.GoldenJSON(t, "webhook_firing.json", req.Body)
}

// TestSignKnownAnswer pins the HMAC so that a change of the scheme cannot
// pass unnoticed. knownHMAC was computed independently, with Python's
// hmac.new(b"whsec_2f6b1c0e-very-secret", b"1795946430.{}", hashlib.sha256).
const knownHMAC = "4b96f9660357b9d452c323dde94c4ad2a82d73786340040918a04c97803193bc"

func TestSignKnownAnswer(t *testing.T) {
	got := webhook.Sign(secret, []byte("{}"), now)
	want := "t=1795946430,v1=" + knownHMAC
	if got != want {
		t.Errorf("Sign = %s\nwant   %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"event_id":"evt_1"}`)
	hdr := webhook.Sign(secret, body, now)
	tol := webhook.DefaultTolerance
	cases := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		at     time.Time
		want   error
	}{
		{"valid", secret, hdr, body, now, nil},
		{"valid at the edge of the tolerance", secret, hdr, body, now.Add(tol), nil},
		{"replayed after the tolerance", secret, hdr, body, now.Add(tol + time.Second), webhook.ErrTooOld},
		{"signed too far in the future", secret, hdr, body, now.Add(-tol - time.Second), webhook.ErrTooOld},
		{"valid at the future edge of the tolerance", secret, hdr, body, now.Add(-tol), nil},
		{"tampered body", secret, hdr, []byte(`{"event_id":"evt_2"}`), now, webhook.ErrMismatch},
		{"wrong secret", []byte("other"), hdr, body, now, webhook.ErrMismatch},
		{"timestamp changed", secret, strings.Replace(hdr, "t=1795946430", "t=1795946431", 1), body, now, webhook.ErrMismatch},
		{"rotation: second v1 matches", secret, webhook.Sign([]byte("old"), body, now) + ",v1=" + strings.SplitN(hdr, "v1=", 2)[1], body, now, nil},
		{"empty", secret, "", body, now, webhook.ErrMalformed},
		{"no v1", secret, "t=1795946430", body, now, webhook.ErrMalformed},
		{"no t", secret, "v1=" + strings.SplitN(hdr, "v1=", 2)[1], body, now, webhook.ErrMalformed},
		{"v0 only", secret, strings.Replace(hdr, "v1=", "v0=", 1), body, now, webhook.ErrMalformed},
	}
	for _, c := range cases {
		if err := webhook.Verify(c.secret, c.header, c.body, c.at, tol); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	s := webhook.New(nil, nil)
	cases := map[string]string{
		`{"url":"https://hooks.example.com/aio"}`:                     "",
		`{"url":"http://127.0.0.1:9000/x","headers":{"X-Team":"a"}}`:  "",
		`{"url":"https://example.com/","headers":{"X-Trace~Id":"a"}}`: "",
		`{}`:                                     "url: required",
		`{"url":"ftp://example.com/x"}`:          "url: must be an absolute http or https URL",
		`{"url":"/relative"}`:                    "url: must be an absolute http or https URL",
		`{"url":"https://user:pw@example.com/"}`: "url: must not carry user info",
		`{"url":"https://example.com/","headers":{"Authorization":"Bearer x"}}`: `headers: "Authorization" may not be set`,
		`{"url":"https://example.com/","headers":{"authorization":"Bearer x"}}`: `headers: "authorization" may not be set`,
		`{"url":"https://example.com/","headers":{"AIO-Signature":"forged"}}`:   `headers: "AIO-Signature" may not be set`,
		`{"url":"https://example.com/","headers":{"Host":"evil"}}`:              `headers: "Host" may not be set`,
		`{"url":"https://example.com/","headers":{"Bad Name":"x"}}`:             `headers: "Bad Name" is not a valid header name`,
		`{"url":"https://example.com/","headers":{"X-A":"a\r\nX-Injected: 1"}}`: `headers: the value of "X-A" contains a line break`,
		`{"url":"https://example.com/","signing":"yes"}`:                        `settings: json: unknown field "signing"`,
	}
	for in, want := range cases {
		err := s.Validate(json.RawMessage(in))
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", in, err)
		case want != "" && (err == nil || !strings.HasPrefix(err.Error(), want)):
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
}

// TestAPIAndSenderAgreeOnHeaders: a header the API accepts on a channel is
// one the sender sends, and one the sender refuses the API refuses when the
// channel is written (before, the API took cookie, user-agent, connection,
// upgrade and aio-team, and every delivery of such a channel failed).
func TestAPIAndSenderAgreeOnHeaders(t *testing.T) {
	s := webhook.New(nil, nil)
	names := append([]string{"x-team", "x-trace-id", "accept", "accept-language", "if-match", "x-api-key", "aio-team",
		"aio-x", "aio-", "cookie", "user-agent", "connection", "upgrade", "te", "proxy-authorization", "x-aio-team"},
		api.ReservedChannelHeaders...)
	for _, name := range names {
		apiProblem := api.ChannelHeaderProblem(name, "v")
		b, _ := json.Marshal(map[string]any{"url": "https://example.com/", "headers": map[string]string{name: "v"}})
		err := s.Validate(b)
		if (apiProblem == "") != (err == nil) {
			t.Errorf("header %q: the API says %q, the sender %v", name, apiProblem, err)
		}
	}
	for _, name := range []string{"cookie", "user-agent", "connection", "upgrade", "aio-team"} {
		if api.ChannelHeaderProblem(name, "v") == "" {
			t.Errorf("the API accepts the header %q", name)
		}
	}
}

// TestSendRefusesAuthorization: Send validates too, so a channel stored
// before a rule existed cannot send a forbidden header.
func TestSendRefusesAuthorization(t *testing.T) {
	rcv := notifytest.NewReceiver(t, nil)
	res := send(t, context.Background(), rcv.Client(), channel(rcv.URL, map[string]string{"Authorization": "Bearer x"}))
	if res.Outcome != notify.Failed || len(rcv.Requests()) != 0 {
		t.Errorf("result %+v, %d requests", res, len(rcv.Requests()))
	}
}

// TestClassification drives real failures: a refused connection, a 500, a
// receiver that hangs past the attempt's timeout, a 429 with Retry-After,
// and a 400 that echoes the secret back.
func TestClassification(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		res := send(t, context.Background(), nil, channel("http://"+addr+"/hook?token=q", nil))
		if res.Outcome != notify.Retry || res.Status != 0 || !strings.Contains(res.Error, "connection refused") {
			t.Errorf("result %+v", res)
		}
		if strings.Contains(res.Error, "token") {
			t.Errorf("error text carries the query: %s", res.Error)
		}
	})
	t.Run("500", func(t *testing.T) {
		rcv := notifytest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "database is down", http.StatusInternalServerError)
		})
		res := send(t, context.Background(), rcv.Client(), channel(rcv.URL, nil))
		if res.Outcome != notify.Retry || res.Status != 500 || res.Reply != "database is down" || res.RetryAfter != 0 {
			t.Errorf("result %+v", res)
		}
	})
	t.Run("hanging", func(t *testing.T) {
		release := make(chan struct{})
		rcv := notifytest.NewReceiver(t, func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		res := send(t, ctx, rcv.Client(), channel(rcv.URL, nil))
		if res.Outcome != notify.Retry || !strings.Contains(res.Error, "timed out") {
			t.Errorf("result %+v", res)
		}
		if el := time.Since(start); el > 2*time.Second || res.Duration < 200*time.Millisecond {
			t.Errorf("the attempt took %v (recorded %v), want about the 200ms timeout", el, res.Duration)
		}
	})
	t.Run("429 with Retry-After", func(t *testing.T) {
		rcv := notifytest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		})
		res := send(t, context.Background(), rcv.Client(), channel(rcv.URL, nil))
		if res.Outcome != notify.Retry || res.Status != 429 || res.RetryAfter != 7*time.Second {
			t.Errorf("result %+v", res)
		}
	})
	t.Run("503 with a huge Retry-After is capped", func(t *testing.T) {
		rcv := notifytest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		res := send(t, context.Background(), rcv.Client(), channel(rcv.URL, nil))
		if res.Outcome != notify.Retry || res.RetryAfter != notify.DefaultMaxRetryAfter {
			t.Errorf("result %+v", res)
		}
	})
	t.Run("400 echoing the secret", func(t *testing.T) {
		rcv := notifytest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			// A careless receiver quoting what it thinks is wrong,
			// in every encoding a library might use.
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte("bad key " + strings.Join(notify.SecretForms(secret), " ")))
		})
		res := send(t, context.Background(), rcv.Client(), channel(rcv.URL, nil))
		if res.Outcome != notify.Failed || res.Status != 400 || !strings.Contains(res.Error, "400 Bad Request: bad key [redacted]") {
			t.Errorf("result %+v", res)
		}
	})
}

// TestEgressDenied: a sender built with a client whose dialer denies
// 127.0.0.2/32 sends nothing to a receiver listening there, and the
// denial is final.
func TestEgressDenied(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	deny, err := egress.ParseCIDRs("127.0.0.2/32")
	if err != nil {
		t.Fatal(err)
	}
	d := &egress.Dialer{Policy: &egress.Policy{DenyCIDRs: deny}}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}

	res := send(t, context.Background(), client, channel(srv.URL, nil))
	if res.Outcome != notify.Failed || !strings.Contains(res.Error, "egress denied: 127.0.0.2 is in 127.0.0.2/32") {
		t.Errorf("result %+v", res)
	}
	time.Sleep(50 * time.Millisecond) // accepting runs on the server's goroutine
	if n := conns.Load(); n != 0 {
		t.Errorf("the denied receiver accepted %d connections", n)
	}
	// The same receiver is reachable without the policy: the test can fail.
	res = send(t, context.Background(), srv.Client(), channel(srv.URL, nil))
	if res.Outcome != notify.Delivered {
		t.Errorf("without the policy: %+v", res)
	}
}

// ExampleVerify shows a receiver checking a delivery.
func ExampleVerify() {
	secret := []byte("whsec_example")
	body := []byte(`{"event_id":"evt_1","state":"firing"}`)
	sent := time.Unix(1795946430, 0)
	header := webhook.Sign(secret, body, sent) // what aiod sends as AIO-Signature

	// In a receiver: the raw body, the header, the time now.
	fmt.Println(webhook.Verify(secret, header, body, sent.Add(3*time.Second), webhook.DefaultTolerance))
	fmt.Println(webhook.Verify(secret, header, body, sent.Add(time.Hour), webhook.DefaultTolerance))
	fmt.Println(webhook.Verify(secret, header, []byte(`{"event_id":"evt_1","state":"resolved"}`), sent, webhook.DefaultTolerance))
	// Output:
	// <nil>
	// webhook: signature timestamp outside the tolerance
	// webhook: signature does not match
}

// TestStaleKeepAliveConnection: a receiver that closes a kept-alive
// connection just as the next delivery is sent on it (an idle timeout
// shorter than the sender's) does not cost the delivery a retry backoff.
// The request carries the delivery ID as Idempotency-Key, so the HTTP
// transport sends it again at once on a new connection; without the
// header the first attempt fails (checked below, so that the receiver
// really closes the connection under the request).
func TestStaleKeepAliveConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var conns atomic.Int32
	var got atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := conns.Add(1)
			go func(c net.Conn, n int32) {
				defer c.Close()
				br := bufio.NewReader(c)
				for i := 0; ; i++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if n == 1 && i == 1 {
						// The first connection's second request: closed
						// without an answer, as an idle timeout does.
						return
					}
					got.Add(1)
					_, _ = io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
				}
			}(c, n)
		}
	}()
	url := "http://" + ln.Addr().String() + "/hook"
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	for i := range 2 {
		if res := send(t, context.Background(), client, channel(url, nil)); res.Outcome != notify.Delivered {
			t.Fatalf("delivery %d: %+v", i+1, res)
		}
	}
	if conns.Load() != 2 || got.Load() != 2 {
		t.Fatalf("%d connections, %d answered requests; want the second delivery sent again on a second connection", conns.Load(), got.Load())
	}

	// The control: the same race without the header fails the attempt.
	conns.Store(0)
	plain := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(plain.CloseIdleConnections)
	post := func() notify.Result {
		return notify.PostJSON(context.Background(), plain, notify.Post{URL: url, Show: url, Body: []byte(`{}`)})
	}
	if res := post(); res.Outcome != notify.Delivered {
		t.Fatalf("first plain post: %+v", res)
	}
	if res := post(); res.Outcome != notify.Retry {
		t.Fatalf("a plain post on the closed connection: %+v, want a failed attempt to retry", res)
	}
}
