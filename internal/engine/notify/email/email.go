// Package email sends alert events as plain-text mail through the SMTP
// server configured on aiod (--smtp-addr, --smtp-from, --smtp-username and a
// password from the environment or a file). A channel names only its
// recipients; the server and its credentials are aiod-wide because they
// belong to whoever runs aiod, not to whoever edits channels.
//
// The connection is upgraded with STARTTLS whenever the server offers it.
// The password is sent only over TLS: a server that does not offer STARTTLS
// gets no AUTH, and the delivery fails instead.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
)

// Type is the channel type this package sends.
const Type = "email"

// maxRecipients bounds a channel's to list: an alert goes to a team's
// addresses or a list, not to a mailing of hundreds.
const maxRecipients = 50

// Config is aiod's SMTP configuration.
type Config struct {
	// Addr is the server's host:port.
	Addr string
	// From is the sender address, optionally with a name
	// ("AIO <aio@example.com>").
	From string
	// Username and Password authenticate with AUTH PLAIN when Username
	// is set.
	Username string
	Password string
	// HeloName is the name aiod gives in EHLO; "localhost" when empty.
	HeloName string
	// TLSConfig is used for STARTTLS; nil means the system roots. Its
	// ServerName defaults to Addr's host.
	TLSConfig *tls.Config
	// DialContext dials the server; nil means a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Clock stamps the Date header; nil means the real clock.
	Clock clock.Clock
}

// Settings are an email channel's settings.
type Settings struct {
	// To lists the recipients.
	To []string `json:"to"`
}

// Sender sends email deliveries.
type Sender struct {
	cfg Config
}

var _ notify.Sender = (*Sender)(nil)

// New returns a Sender that sends through the server cfg describes. A zero
// Config is allowed (aiod without --smtp-addr): every email delivery then
// fails with an error saying so.
func New(cfg Config) *Sender {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.HeloName == "" {
		cfg.HeloName = "localhost"
	}
	return &Sender{cfg: cfg}
}

// Validate checks an email channel's settings.
func (s *Sender) Validate(raw json.RawMessage) error {
	_, err := parseSettings(raw)
	return err
}

func parseSettings(raw json.RawMessage) ([]*mail.Address, error) {
	var st Settings
	if err := notify.DecodeSettings(raw, &st); err != nil {
		return nil, err
	}
	if len(st.To) == 0 {
		return nil, errors.New("to: at least one address is required")
	}
	if len(st.To) > maxRecipients {
		return nil, fmt.Errorf("to: at most %d addresses", maxRecipients)
	}
	out := make([]*mail.Address, 0, len(st.To))
	for i, a := range st.To {
		addr, err := mail.ParseAddress(a)
		if err != nil {
			return nil, fmt.Errorf("to[%d]: %q is not an email address", i, a)
		}
		out = append(out, addr)
	}
	return out, nil
}

// Send mails the event to the channel's recipients. SMTP answers decide the
// outcome: a 4xx reply is a temporary failure (Retry), a 5xx a permanent
// one (Failed); network errors and timeouts are retried.
func (s *Sender) Send(ctx context.Context, d notify.Delivery, ch notify.Channel) notify.Result {
	start := time.Now()
	res := s.send(ctx, d, ch)
	res.Duration = time.Since(start)
	secrets := [][]byte{ch.Secret}
	if s.cfg.Password != "" {
		secrets = append(secrets, []byte(s.cfg.Password))
	}
	res.Error = notify.Scrub(res.Error, secrets...)
	res.Reply = notify.Scrub(res.Reply, secrets...)
	return res
}

func (s *Sender) send(ctx context.Context, d notify.Delivery, ch notify.Channel) notify.Result {
	to, err := parseSettings(ch.Settings)
	if err != nil {
		return failed("invalid settings: " + err.Error())
	}
	if s.cfg.Addr == "" || s.cfg.From == "" {
		return failed("email is not configured on aiod (--smtp-addr and --smtp-from)")
	}
	from, err := mail.ParseAddress(s.cfg.From)
	if err != nil {
		return failed("--smtp-from is not an email address")
	}
	host, _, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return failed("--smtp-addr is not host:port")
	}
	msg := Message(d, from, to, s.cfg.Clock.Now())

	dial := s.cfg.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return transportFailure(ctx, "connecting to "+s.cfg.Addr, err)
	}
	defer conn.Close()
	// net/smtp knows no contexts: the deadline bounds every read and
	// write, and cancellation closes the connection under it.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return smtpFailure(ctx, "greeting", err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HeloName); err != nil {
		return smtpFailure(ctx, "EHLO", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		tc := &tls.Config{}
		if s.cfg.TLSConfig != nil {
			tc = s.cfg.TLSConfig.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName = host
		}
		if err := c.StartTLS(tc); err != nil {
			return smtpFailure(ctx, "STARTTLS", err)
		}
	}
	if s.cfg.Username != "" {
		if _, tlsOn := c.TLSConnectionState(); !tlsOn {
			return failed("the SMTP server does not offer STARTTLS; aiod does not send its password in the clear")
		}
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, host)); err != nil {
			return smtpFailure(ctx, "AUTH", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return smtpFailure(ctx, "MAIL FROM", err)
	}
	for _, a := range to {
		if err := c.Rcpt(a.Address); err != nil {
			return smtpFailure(ctx, "RCPT TO "+a.Address, err)
		}
	}
	reply, err := data(c, msg)
	if err != nil {
		return smtpFailure(ctx, "DATA", err)
	}
	// The message is accepted: a failing QUIT changes nothing.
	_ = c.Quit()
	return notify.Result{Outcome: notify.Delivered, Reply: reply}
}

// data sends the message and returns the server's final reply, which
// smtp.Client.Data does not expose and which is the receipt worth
// recording ("250 2.0.0 Ok: queued as 4F2A1").
func data(c *smtp.Client, msg []byte) (string, error) {
	id, err := c.Text.Cmd("DATA")
	if err != nil {
		return "", err
	}
	c.Text.StartResponse(id)
	_, _, err = c.Text.ReadResponse(354)
	c.Text.EndResponse(id)
	if err != nil {
		return "", err
	}
	w := c.Text.DotWriter()
	if _, err := w.Write(msg); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	code, text, err := c.Text.ReadResponse(250)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d %s", code, text), nil
}

func failed(msg string) notify.Result { return notify.Result{Outcome: notify.Failed, Error: msg} }

// smtpFailure classifies an error of an SMTP exchange: a reply of the
// server by its code, anything else as a network failure.
func smtpFailure(ctx context.Context, step string, err error) notify.Result {
	var te *textproto.Error
	if errors.As(err, &te) {
		reply := fmt.Sprintf("%d %s", te.Code, strings.ReplaceAll(te.Msg, "\n", " "))
		outcome := notify.Failed
		if te.Code >= 400 && te.Code < 500 {
			outcome = notify.Retry
		}
		return notify.Result{Outcome: outcome, Reply: reply, Error: "SMTP " + step + ": server answered " + reply}
	}
	return transportFailure(ctx, "SMTP "+step, err)
}

func transportFailure(ctx context.Context, step string, err error) notify.Result {
	var ne net.Error
	if ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return notify.Result{Outcome: notify.Retry, Error: step + ": timed out waiting for the SMTP server"}
	}
	return notify.Result{Outcome: notify.Retry, Error: step + ": " + err.Error()}
}

// Message renders the mail: headers, then a quoted-printable plain-text
// body. Every header value built from user input goes through mime's
// Q-encoding, which encodes line breaks, so a threshold name cannot add a
// header (a Bcc, say).
func Message(d notify.Delivery, from *mail.Address, to []*mail.Address, now time.Time) []byte {
	e := d.Event
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = a.String()
	}
	header("To", strings.Join(tos, ", "))
	subject := fmt.Sprintf("[%s %s] %s: %s is %s", strings.ToUpper(string(e.State)), e.Severity, e.Threshold.Name, e.Metric, notify.FormatValue(e.Value))
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+safeID(d.ID)+"@"+domain(from.Address)+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	header("X-AIO-Event-Id", safeID(e.EventID))
	header("X-AIO-Delivery-Id", safeID(d.ID))
	b.WriteString("\r\n")

	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(Body(e), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}

// Body is the plain-text body of the mail for e.
func Body(e notify.Event) string {
	var b strings.Builder
	b.WriteString(notify.Describe(e) + "\n\n")
	line := func(k, v string) { fmt.Fprintf(&b, "%-11s %s\n", k+":", v) }
	ref := func(r *notify.Ref) string {
		if r == nil {
			return "-"
		}
		return r.Name + " (" + r.ID + ")"
	}
	line("State", string(e.State))
	line("Severity", string(e.Severity))
	line("Threshold", ref(&e.Threshold))
	line("Monitor", ref(e.Monitor))
	line("Endpoint", ref(e.Endpoint))
	line("Figure", e.Metric+" = "+notify.FormatValue(e.Value)+" over "+e.Window)
	line("Started", e.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	if e.ResolvedAt != nil {
		line("Resolved", e.ResolvedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if e.RunbookURL != nil {
		line("Runbook", *e.RunbookURL)
	}
	line("Event", e.EventID)
	b.WriteString("\n-- \nSent by aiod. The event's JSON form is what webhook channels receive.\n")
	return b.String()
}

// safeID keeps the characters IDs are made of, so that an ID can never
// break a header.
func safeID(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return -1
	}, s)
}

func domain(addr string) string {
	if _, d, ok := strings.Cut(addr, "@"); ok && d != "" {
		return safeID(d)
	}
	return "aiod"
}
