package email_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/email"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/notifytest"
)

const password = "smtp-P4ssw0rd-very-secret"

var sentAt = time.Date(2026, 11, 29, 10, 0, 30, 0, time.UTC)

func channel(to ...string) notify.Channel {
	st, _ := json.Marshal(email.Settings{To: to})
	return notify.Channel{ID: "chan_mail", Type: email.Type, Settings: st}
}

func delivery(e notify.Event) notify.Delivery {
	return notify.Delivery{ID: "dlv_01JDZQ8X9N0000000000000001", Event: e}
}

func config(srv *smtpd) email.Config {
	return email.Config{Addr: srv.addr(), From: "AIO <aio@example.com>", Clock: clock.NewFake(sentAt)}
}

func send(t *testing.T, ctx context.Context, cfg email.Config, ch notify.Channel) notify.Result {
	t.Helper()
	res := email.New(cfg).Send(ctx, delivery(notifytest.Event()), ch)
	notifytest.NoSecret(t, []byte(password), res.Error, res.Reply)
	return res
}

// TestSendSTARTTLSAndAuth: the server offers STARTTLS, so the mail and the
// password go over TLS; the message is the golden one.
func TestSendSTARTTLSAndAuth(t *testing.T) {
	serverTLS, pool := testCert(t)
	srv := newSMTPD(t, func(s *smtpd) { s.tls, s.user, s.pass = serverTLS, "aiod", password })
	cfg := config(srv)
	cfg.Username, cfg.Password = "aiod", password
	cfg.TLSConfig = &tls.Config{RootCAs: pool}

	res := send(t, context.Background(), cfg, channel("oncall@example.com", "Payments Team <payments@example.com>"))
	if res.Outcome != notify.Delivered || res.Reply != "250 2.0.0 Ok: queued as 4F2A1" || res.Error != "" {
		t.Fatalf("result %+v", res)
	}
	mails := srv.received()
	if len(mails) != 1 {
		t.Fatalf("the server got %d mails", len(mails))
	}
	m := mails[0]
	if !m.TLS || m.Auth != "aiod" || m.From != "aio@example.com" || strings.Join(m.To, ",") != "oncall@example.com,payments@example.com" {
		t.Errorf("mail %+v", m)
	}
	notifytest.Golden(t, "email_firing.eml", []byte(m.Data))
}

// TestSendPlain: a server without STARTTLS and without AUTH gets the mail
// in the clear, which is all it can take.
func TestSendPlain(t *testing.T) {
	srv := newSMTPD(t, nil)
	res := send(t, context.Background(), config(srv), channel("oncall@example.com"))
	if res.Outcome != notify.Delivered || len(srv.received()) != 1 || srv.received()[0].TLS {
		t.Fatalf("result %+v, mails %+v", res, srv.received())
	}
}

// TestNoPasswordInTheClear: with a username configured and no STARTTLS on
// offer, the sender refuses rather than send the password unencrypted.
func TestNoPasswordInTheClear(t *testing.T) {
	srv := newSMTPD(t, func(s *smtpd) { s.user, s.pass = "aiod", password })
	cfg := config(srv)
	cfg.Username, cfg.Password = "aiod", password
	res := send(t, context.Background(), cfg, channel("oncall@example.com"))
	if res.Outcome != notify.Failed || !strings.Contains(res.Error, "does not offer STARTTLS") {
		t.Errorf("result %+v", res)
	}
	if len(srv.auths) != 0 || len(srv.received()) != 0 {
		t.Errorf("auths %v, mails %d", srv.auths, len(srv.received()))
	}
}

// TestWrongPassword: the server's refusal, which echoes the credentials,
// is final and carries no password.
func TestWrongPassword(t *testing.T) {
	serverTLS, pool := testCert(t)
	srv := newSMTPD(t, func(s *smtpd) { s.tls, s.user, s.pass = serverTLS, "aiod", "another" })
	cfg := config(srv)
	cfg.Username, cfg.Password = "aiod", password
	cfg.TLSConfig = &tls.Config{RootCAs: pool}
	res := send(t, context.Background(), cfg, channel("oncall@example.com"))
	if res.Outcome != notify.Failed || !strings.HasPrefix(res.Reply, "535 5.7.8") || !strings.Contains(res.Error, "SMTP AUTH") {
		t.Errorf("result %+v", res)
	}
}

// TestUntrustedCertificate: STARTTLS with a certificate aiod does not
// trust fails before anything is sent.
func TestUntrustedCertificate(t *testing.T) {
	serverTLS, _ := testCert(t)
	srv := newSMTPD(t, func(s *smtpd) { s.tls = serverTLS })
	res := send(t, context.Background(), config(srv), channel("oncall@example.com"))
	if res.Outcome == notify.Delivered || !strings.Contains(res.Error, "STARTTLS") || len(srv.received()) != 0 {
		t.Errorf("result %+v", res)
	}
}

// TestReplies: 4xx replies are retried, 5xx ones are not.
func TestReplies(t *testing.T) {
	cases := []struct {
		verb, reply string
		want        notify.Outcome
	}{
		{"RCPT", "550 5.1.1 no such user", notify.Failed},
		{"RCPT", "450 4.2.1 mailbox busy", notify.Retry},
		{"MAIL", "421 4.7.0 try again later", notify.Retry},
		{"DATA", "554 5.7.1 rejected", notify.Failed},
		{"DATA-END", "451 4.3.0 queue full", notify.Retry},
		{"DATA-END", "552 5.3.4 too big", notify.Failed},
	}
	for _, c := range cases {
		srv := newSMTPD(t, func(s *smtpd) { s.replies[c.verb] = c.reply })
		res := send(t, context.Background(), config(srv), channel("oncall@example.com"))
		if res.Outcome != c.want || res.Reply != c.reply {
			t.Errorf("%s %q: result %+v", c.verb, c.reply, res)
		}
		if len(srv.received()) != 0 {
			t.Errorf("%s %q: the server kept the mail", c.verb, c.reply)
		}
	}
}

func TestNetworkFailures(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		res := send(t, context.Background(), email.Config{Addr: addr, From: "aio@example.com"}, channel("a@example.com"))
		if res.Outcome != notify.Retry || !strings.Contains(res.Error, "connection refused") {
			t.Errorf("result %+v", res)
		}
	})
	t.Run("hanging", func(t *testing.T) {
		srv := newSMTPD(t, func(s *smtpd) { s.noGreet = true })
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		res := send(t, ctx, config(srv), channel("a@example.com"))
		if res.Outcome != notify.Retry || !strings.Contains(res.Error, "timed out") || time.Since(start) > 2*time.Second {
			t.Errorf("result %+v after %v", res, time.Since(start))
		}
	})
	t.Run("not configured", func(t *testing.T) {
		res := send(t, context.Background(), email.Config{}, channel("a@example.com"))
		if res.Outcome != notify.Failed || !strings.Contains(res.Error, "--smtp-addr") {
			t.Errorf("result %+v", res)
		}
	})
}

// TestHeaderInjection: a threshold name with a line break cannot add a
// header to the mail.
func TestHeaderInjection(t *testing.T) {
	srv := newSMTPD(t, nil)
	e := notifytest.Event()
	e.Threshold.Name = "x\r\nBcc: attacker@example.net"
	e.EventID = "evt_1\r\nBcc: attacker@example.net"
	res := email.New(config(srv)).Send(context.Background(), delivery(e), channel("oncall@example.com"))
	if res.Outcome != notify.Delivered {
		t.Fatalf("result %+v", res)
	}
	data := srv.received()[0].Data
	head, _, _ := strings.Cut(data, "\r\n\r\n")
	for _, l := range strings.Split(head, "\r\n") {
		if strings.HasPrefix(strings.ToLower(l), "bcc:") {
			t.Errorf("injected header %q in\n%s", l, head)
		}
	}
}

func TestValidate(t *testing.T) {
	s := email.New(email.Config{})
	for in, want := range map[string]string{
		`{"to":["a@example.com","B <b@example.com>"]}`: "",
		`{}`:                              "to: at least one address is required",
		`{"to":[]}`:                       "to: at least one address is required",
		`{"to":["a@example.com","nope"]}`: `to[1]: "nope" is not an email address`,
		`{"to":["a@example.com"],"cc":["b@example.com"]}`: `settings: json: unknown field "cc"`,
	} {
		err := s.Validate(json.RawMessage(in))
		if (want == "") != (err == nil) || (err != nil && err.Error() != want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

// TestHeloName: EHLO gives the configured name, "localhost" when none is.
func TestHeloName(t *testing.T) {
	for name, want := range map[string]string{"aio.example.com": "aio.example.com", "": "localhost"} {
		srv := newSMTPD(t, nil)
		cfg := config(srv)
		cfg.HeloName = name
		if res := send(t, context.Background(), cfg, channel("oncall@example.com")); res.Outcome != notify.Delivered {
			t.Fatalf("result %+v", res)
		}
		srv.mu.Lock()
		got := slices.Clone(srv.helos)
		srv.mu.Unlock()
		if len(got) == 0 || got[0] != want {
			t.Errorf("HeloName %q: the server was greeted with %q, want %q", name, got, want)
		}
	}
}

// TestIDHeadersKeepOnlyIDCharacters: the event and delivery IDs in the
// headers keep letters (A and z included), digits, '_', '-' and '.', and
// drop everything else.
func TestIDHeadersKeepOnlyIDCharacters(t *testing.T) {
	srv := newSMTPD(t, nil)
	e := notifytest.Event()
	e.EventID = "evt_Az-09.x <y>;\x01"
	res := email.New(config(srv)).Send(context.Background(), delivery(e), channel("oncall@example.com"))
	if res.Outcome != notify.Delivered {
		t.Fatalf("result %+v", res)
	}
	data := strings.ReplaceAll(srv.received()[0].Data, "\r\n", "\n")
	head, _, _ := strings.Cut(data, "\n\n")
	if !slices.Contains(strings.Split(head, "\n"), "X-AIO-Event-Id: evt_Az-09.xy") {
		t.Errorf("no X-AIO-Event-Id: evt_Az-09.xy in\n%q", head)
	}
}

// TestReplyCodeBounds: 400 is the first temporary SMTP reply code and 500
// the first permanent one.
func TestReplyCodeBounds(t *testing.T) {
	for reply, want := range map[string]notify.Outcome{
		"400 4.0.0 try again":    notify.Retry,
		"499 4.0.0 try again":    notify.Retry,
		"500 5.5.2 syntax error": notify.Failed,
		"599 5.0.0 permanent":    notify.Failed,
	} {
		srv := newSMTPD(t, func(s *smtpd) { s.replies["RCPT"] = reply })
		if res := send(t, context.Background(), config(srv), channel("oncall@example.com")); res.Outcome != want {
			t.Errorf("RCPT answered %q: outcome %s, want %s", reply, res.Outcome, want)
		}
	}
}

// TestValidateRecipientCount: up to 50 recipients.
func TestValidateRecipientCount(t *testing.T) {
	s := email.New(email.Config{})
	addrs := func(n int) json.RawMessage {
		to := make([]string, n)
		for i := range to {
			to[i] = fmt.Sprintf("a%d@example.com", i)
		}
		b, _ := json.Marshal(email.Settings{To: to})
		return b
	}
	if err := s.Validate(addrs(50)); err != nil {
		t.Errorf("50 recipients: %v", err)
	}
	if err := s.Validate(addrs(51)); err == nil || err.Error() != "to: at most 50 addresses" {
		t.Errorf("51 recipients: %v", err)
	}
}
