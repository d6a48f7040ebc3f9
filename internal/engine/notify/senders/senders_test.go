package senders_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/email"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/notifytest"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/senders"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/webhook"
)

func TestRegistryTypes(t *testing.T) {
	r := senders.Registry(senders.Options{})
	if got := r.Types(); !slices.Equal(got, []string{"email", "pagerduty", "slack", "webhook"}) {
		t.Errorf("Types = %v", got)
	}
	if err := r.Validate("webhook", json.RawMessage(`{"url":"https://example.com/h","headers":{"Authorization":"x"}}`)); err == nil {
		t.Error("the registry accepts an authorization header")
	}
}

// TestEgressPolicy: every HTTP channel type, sent through the registry with
// a policy that denies 127.0.0.2/32, reaches nothing listening there.
func TestEgressPolicy(t *testing.T) {
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
	// Loopback is on the default deny list: reopen it and deny the
	// receiver's address, so that the denial comes from the given policy.
	r := senders.Registry(senders.Options{HTTPClient: senders.NewHTTPClient(&egress.Policy{AllowCIDRs: egress.LoopbackCIDRs, DenyCIDRs: deny})})
	channels := []notify.Channel{
		{Type: "webhook", Settings: json.RawMessage(`{"url":"` + srv.URL + `/hook"}`), Secret: []byte("whsec")},
		{Type: "slack", Secret: []byte(srv.URL + "/services/T/B/x")},
		{Type: "pagerduty", Settings: json.RawMessage(`{"events_url":"` + srv.URL + `/v2/enqueue"}`), Secret: []byte("key")},
	}
	for _, ch := range channels {
		res := r.Send(context.Background(), notify.Delivery{ID: "dlv_1", Event: notifytest.Event()}, ch)
		if res.Outcome != notify.Failed || !strings.Contains(res.Error, "egress denied") {
			t.Errorf("%s: %+v", ch.Type, res)
		}
	}
	time.Sleep(50 * time.Millisecond) // accepting runs on the server's goroutine
	if n := conns.Load(); n != 0 {
		t.Errorf("the denied receiver accepted %d connections", n)
	}
	// The default policy (Options' zero value) denies loopback too, with
	// no connection.
	res := senders.Registry(senders.Options{}).Send(context.Background(), notify.Delivery{ID: "dlv_1", Event: notifytest.Event()}, channels[0])
	if res.Outcome != notify.Failed || !strings.Contains(res.Error, "egress denied: 127.0.0.2 is in 127.0.0.0/8 (default deny list)") {
		t.Errorf("default policy: %+v", res)
	}
	time.Sleep(50 * time.Millisecond)
	if n := conns.Load(); n != 0 {
		t.Errorf("the receiver accepted %d connections under the default policy", n)
	}
	// With loopback allowed the same receiver is reached, so the test can
	// fail.
	res = senders.Registry(senders.Options{HTTPClient: senders.NewHTTPClient(egress.AllowLoopback())}).
		Send(context.Background(), notify.Delivery{ID: "dlv_1", Event: notifytest.Event()}, channels[0])
	if res.Outcome != notify.Delivered {
		t.Errorf("loopback allowed: %+v", res)
	}
}

// TestRegistryUsesTheGivenClock: the webhook sender signs with the
// registry's clock (aiod's injected one), not the machine's.
func TestRegistryUsesTheGivenClock(t *testing.T) {
	then := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	rcv := notifytest.NewReceiver(t, nil)
	r := senders.Registry(senders.Options{HTTPClient: rcv.Client(), Clock: clock.NewFake(then)})
	ch := notify.Channel{Type: "webhook", Settings: json.RawMessage(`{"url":"` + rcv.URL + `/hook"}`), Secret: []byte("whsec")}
	if res := r.Send(context.Background(), notify.Delivery{ID: "dlv_1", Event: notifytest.Event()}, ch); res.Outcome != notify.Delivered {
		t.Fatalf("result %+v", res)
	}
	req := rcv.Only(t)
	if err := webhook.Verify([]byte("whsec"), req.Header.Get(webhook.HeaderSignature), req.Body, then, webhook.DefaultTolerance); err != nil {
		t.Errorf("the signature is not of the registry's clock's time: %v", err)
	}
}

// smtpSink is a minimal SMTP server on 127.0.0.1 that accepts one message
// and hands its data over.
func smtpSink(t *testing.T) (addr string, data <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		tp := textproto.NewConn(c)
		_ = tp.PrintfLine("220 sink")
		for {
			line, err := tp.ReadLine()
			if err != nil {
				return
			}
			switch verb, _, _ := strings.Cut(strings.ToUpper(line), " "); verb {
			case "DATA":
				_ = tp.PrintfLine("354 go on")
				b, _ := tp.ReadDotBytes()
				out <- string(b)
				_ = tp.PrintfLine("250 queued")
			case "QUIT":
				_ = tp.PrintfLine("221 bye")
				return
			default:
				_ = tp.PrintfLine("250 ok")
			}
		}
	}()
	return ln.Addr().String(), out
}

// TestEmailUsesTheRegistryClock: with no clock of its own, the email
// sender dates its messages by the registry's clock.
func TestEmailUsesTheRegistryClock(t *testing.T) {
	then := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	addr, data := smtpSink(t)
	r := senders.Registry(senders.Options{Clock: clock.NewFake(then), SMTP: email.Config{Addr: addr, From: "aio@example.com"}})
	ch := notify.Channel{Type: "email", Settings: json.RawMessage(`{"to":["oncall@example.com"]}`)}
	if res := r.Send(context.Background(), notify.Delivery{ID: "dlv_1", Event: notifytest.Event()}, ch); res.Outcome != notify.Delivered {
		t.Fatalf("result %+v", res)
	}
	if d := <-data; !strings.Contains(d, "Date: Thu, 02 Jan 2020 03:04:05") {
		t.Errorf("the message is not dated by the registry's clock:\n%s", d)
	}
}
