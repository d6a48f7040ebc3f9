package email_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpd is a small SMTP server on 127.0.0.1 for the tests: enough of RFC
// 5321 for net/smtp (EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, RSET,
// NOOP, QUIT), recording what it receives. Writing it here keeps a test
// dependency out of go.mod and lets a test make it misbehave exactly.
type smtpd struct {
	ln net.Listener

	// Configuration, set before the first connection.
	tls       *tls.Config       // offer STARTTLS when set
	user      string            // accept AUTH PLAIN with user and pass
	pass      string            //
	replies   map[string]string // verb → a reply that replaces the normal one
	noGreet   bool              // accept, then say nothing (a hanging server)
	authReply string            // replaces the answer to a correct AUTH

	mu    sync.Mutex
	mails []mailRecord
	auths []string // user names that authenticated
	helos []string // the names clients gave in EHLO or HELO
}

// mailRecord is one message the server accepted.
type mailRecord struct {
	From string
	To   []string
	Data string
	TLS  bool // the message came over TLS
	Auth string
}

func newSMTPD(t *testing.T, configure func(*smtpd)) *smtpd {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpd{ln: ln, replies: map[string]string{}}
	if configure != nil {
		configure(s)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if s.noGreet {
					<-done
					return
				}
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		close(done)
		ln.Close()
		wg.Wait()
	})
	return s
}

func (s *smtpd) addr() string { return s.ln.Addr().String() }

func (s *smtpd) received() []mailRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mailRecord(nil), s.mails...)
}

func (s *smtpd) serve(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(conn)
	reply := func(verb, normal string) bool {
		r := normal
		if alt, ok := s.replies[verb]; ok {
			r = alt
		}
		_ = tp.PrintfLine("%s", r)
		return strings.HasPrefix(r, "2") || strings.HasPrefix(r, "3")
	}
	_ = tp.PrintfLine("220 aio-test ESMTP")
	var cur mailRecord
	isTLS, authed := false, ""
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			s.mu.Lock()
			s.helos = append(s.helos, arg)
			s.mu.Unlock()
			lines := []string{"aio-test", "8BITMIME"}
			if s.tls != nil && !isTLS {
				lines = append(lines, "STARTTLS")
			}
			if s.user != "" {
				lines = append(lines, "AUTH PLAIN")
			}
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				_ = tp.PrintfLine("250%s%s", sep, l)
			}
		case "STARTTLS":
			if s.tls == nil || isTLS {
				_ = tp.PrintfLine("502 5.5.1 not offered")
				continue
			}
			_ = tp.PrintfLine("220 2.0.0 go ahead")
			tc := tls.Server(conn, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, isTLS = tc, true
			tp = textproto.NewConn(tc)
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			raw, _ := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if strings.ToUpper(mech) != "PLAIN" || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
				_ = tp.PrintfLine("535 5.7.8 authentication failed for %s", string(raw))
				continue
			}
			if s.authReply != "" {
				_ = tp.PrintfLine("%s", s.authReply)
				continue
			}
			authed = parts[1]
			s.mu.Lock()
			s.auths = append(s.auths, authed)
			s.mu.Unlock()
			_ = tp.PrintfLine("235 2.7.0 authenticated")
		case "MAIL":
			cur = mailRecord{From: addrOf(arg), TLS: isTLS, Auth: authed}
			reply("MAIL", "250 2.1.0 Ok")
		case "RCPT":
			if reply("RCPT", "250 2.1.5 Ok") {
				cur.To = append(cur.To, addrOf(arg))
			}
		case "DATA":
			if !reply("DATA", "354 End data with <CR><LF>.<CR><LF>") {
				continue
			}
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			cur.Data = string(b)
			if reply("DATA-END", "250 2.0.0 Ok: queued as 4F2A1") {
				s.mu.Lock()
				s.mails = append(s.mails, cur)
				s.mu.Unlock()
			}
		case "RSET", "NOOP":
			_ = tp.PrintfLine("250 2.0.0 Ok")
		case "QUIT":
			_ = tp.PrintfLine("221 2.0.0 Bye")
			return
		default:
			_ = tp.PrintfLine("502 5.5.2 unknown command")
		}
	}
}

// addrOf extracts the address from "FROM:<a@b> BODY=8BITMIME".
func addrOf(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	a, _, _ := strings.Cut(rest, ">")
	return a
}

// testCert makes a self-signed certificate for 127.0.0.1 and returns the
// server's TLS configuration and a pool that trusts it.
func testCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "aio-test smtp"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}
