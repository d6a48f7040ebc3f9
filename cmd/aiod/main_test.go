package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/testutil"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/daemon"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/email"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestTokenCommandsAreAudited(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aio.db")
	out, err := runCLI(t, "token", "create", "--name", "ops", "--role", "admin", "--ttl", "24h", "--database", db)
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	secret := strings.TrimSpace(out)
	if !regexp.MustCompile(`^aio_[A-Za-z0-9_-]{43}$`).MatchString(secret) {
		t.Fatalf("token create printed %q, want one token", out)
	}
	if out, err := runCLI(t, "token", "create", "--name", "ops", "--role", "viewer", "--database", db); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate name: want an error, got %v %s", err, out)
	}
	if _, err := runCLI(t, "token", "create", "--name", "x", "--role", "root", "--database", db); err == nil || !strings.Contains(err.Error(), "role") {
		t.Fatalf("bad role: want an error naming role, got %v", err)
	}
	out, err = runCLI(t, "token", "list", "--database", db)
	if err != nil || !strings.Contains(out, "ops") || !strings.Contains(out, "active") || strings.Contains(out, secret) {
		t.Fatalf("token list: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "token", "revoke", "--name", "ops", "--database", db); err != nil {
		t.Fatalf("token revoke: %v %s", err, out)
	}
	out, _ = runCLI(t, "token", "list", "--database", db)
	if !strings.Contains(out, "revoked") {
		t.Fatalf("after revoke, list shows %s", out)
	}
	// Both CLI changes are in the audit trail with actor cli.
	st, err := daemon.OpenStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, _, err := st.ListAuditEvents(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Action != api.ActionCreate || evs[1].Action != api.ActionRevoke || evs[0].Actor != "cli" || evs[1].Actor != "cli" {
		t.Fatalf("want create and revoke by cli, got %+v", evs)
	}
	// With its only admin token revoked, serve refuses to start.
	err = run(context.Background(), []string{"serve", "--database", db, "--listen", "127.0.0.1:0"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "aiod token create") {
		t.Fatalf("serve without an admin token: want a refusal that says what to do, got %v", err)
	}
}

func TestServeAndGracefulShutdown(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aio.db")
	out, err := runCLI(t, "token", "create", "--name", "admin", "--role", "admin", "--database", db)
	if err != nil {
		t.Fatal(err, out)
	}
	secret := strings.TrimSpace(out)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	logs := &testutil.SyncBuffer{}
	go func() {
		done <- daemon.Serve(ctx, daemon.Options{Listen: "127.0.0.1:0", Database: db, Logger: mustLogger(t, logs), Ready: func(a string) { addrc <- a },
			SMTP: email.Config{Addr: "127.0.0.1:2525", From: "aio@example.com", Username: "aio", Password: "smtp-password-never-logged"}})
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("serve ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/endpoints", strings.NewReader(`{"name":"a","url":"https://a.example"}`))
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e api.Endpoint
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || e.Name != "a" {
		t.Fatalf("create: %d %+v", resp.StatusCode, e)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if !strings.Contains(logs.String(), "aiod shutting down") || strings.Contains(logs.String(), secret) {
		t.Fatalf("logs: want a shutdown line and no token secret:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "SMTP server for email channels") || strings.Contains(logs.String(), "smtp-password-never-logged") {
		t.Fatalf("logs: want the SMTP server stated without its password:\n%s", logs.String())
	}
}

func TestDevPrintsHowToConnect(t *testing.T) {
	// A data directory that does not exist yet is made.
	dir := filepath.Join(t.TempDir(), "new", "data")
	ctx, cancel := context.WithCancel(context.Background())
	var out testutil.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--listen", "127.0.0.1:0", "--data", dir, "--root-token", "my-root", "--log-level", "warn"}, &out, &bytes.Buffer{})
	}()
	deadline := time.Now().Add(10 * time.Second)
	var addr string
	for time.Now().Before(deadline) {
		if m := regexp.MustCompile(`AIO_ADDR=http://(\S+)`).FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if addr == "" || !strings.Contains(out.String(), "AIO_TOKEN=my-root") {
		cancel()
		t.Fatalf("dev banner: %s", out.String())
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/endpoints", nil)
	req.Header.Set("Authorization", "Bearer my-root")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("root token: got %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Restarting on the same data with another root token is refused
	// rather than silently adding a second root.
	err = run(context.Background(), []string{"dev", "--listen", "127.0.0.1:0", "--data", dir, "--root-token", "other"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "another secret") {
		t.Fatalf("want a refusal for another root token, got %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"token"}, {"token", "nope"}, {"token", "revoke", "--database", filepath.Join(t.TempDir(), "x.db")}} {
		if _, err := runCLI(t, args...); err == nil {
			t.Errorf("aiod %v: want an error", args)
		}
	}
	out, err := runCLI(t, "version")
	if err != nil || !strings.HasPrefix(out, "aiod dev") {
		t.Fatalf("version: %v %q", err, out)
	}
}

func TestKeysAndBackupCommands(t *testing.T) {
	out, err := runCLI(t, "keys", "generate")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secret.ParseKey(strings.TrimSpace(out)); err != nil {
		t.Fatalf("keys generate printed %q: %v", out, err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "aio.db")
	keyFile := filepath.Join(dir, "aio.key")
	if err := daemon.EnsureKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "token", "create", "--name", "admin", "--role", "admin", "--database", db); err != nil {
		t.Fatal(err, out)
	}
	out, err = runCLI(t, "keys", "rotate", "--database", db, "--key-file", keyFile)
	if err != nil || !strings.Contains(out, "re-wrapped 0 secrets") {
		t.Fatalf("keys rotate: %v %s", err, out)
	}
	kr, err := secret.LoadKeyFile(keyFile)
	if err != nil || len(kr.Keys()) != 2 {
		t.Fatalf("key file after rotate: %v", err)
	}
	// With the keys in the environment, rotate prints the new value.
	// With the keys in the environment (NEW,OLD), rotate re-wraps under
	// NEW and says when OLD can go.
	t.Setenv(daemon.EnvEncryptionKey, kr.Keys()[0].String()+","+kr.Keys()[1].String())
	out, err = runCLI(t, "keys", "rotate", "--database", db)
	if err != nil || !strings.Contains(out, "the first key of "+daemon.EnvEncryptionKey) || !strings.Contains(out, daemon.EnvEncryptionKey+"="+kr.Keys()[0].String()) {
		t.Fatalf("keys rotate from the environment: %v %s", err, out)
	}
	backup := filepath.Join(dir, "copy.db")
	out, err = runCLI(t, "backup", "--database", db, "--out", backup)
	if err != nil || !strings.Contains(out, "encryption key") {
		t.Fatalf("backup: %v %s", err, out)
	}
	if out, err := runCLI(t, "token", "list", "--database", backup); err != nil || !strings.Contains(out, "admin") {
		t.Fatalf("the backup does not hold the token: %v %s", err, out)
	}
	if _, err := runCLI(t, "backup", "--database", db); err == nil {
		t.Fatal("backup without --out must fail")
	}
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	db := filepath.Join(dir, "aio.db")
	out, err := runCLI(t, "token", "create", "--name", "admin", "--role", "admin", "--database", db)
	if err != nil {
		t.Fatal(err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- daemon.Serve(ctx, daemon.Options{Listen: "127.0.0.1:0", Database: db, TLSCert: certFile, TLSKey: keyFile,
			Ready: func(a string) { addrc <- a }})
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz over TLS: %d", resp.StatusCode)
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil && resp.StatusCode == http.StatusOK {
		t.Fatal("plain HTTP must not be served when TLS is on")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key.
func selfSignedCert(t *testing.T, dir string) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "aiod test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestDevRefusesTheWellKnownTokenOffLoopback checks that aiod dev does not
// serve its documented root token on an address others can reach, and
// warns when it listens there with a token of the user's.
func TestDevRefusesTheWellKnownTokenOffLoopback(t *testing.T) {
	// None of these is ever bound: the refusal comes first.
	for _, listen := range []string{"0.0.0.0:0", "[::]:0", ":0", "192.0.2.10:0", "aio.example.com:0"} {
		for _, extra := range [][]string{nil, {"--root-token", daemon.DefaultRootToken}} {
			args := append([]string{"dev", "--listen", listen, "--data", t.TempDir()}, extra...)
			out, err := runCLI(t, args...)
			if err == nil || !strings.Contains(err.Error(), "--root-token") || !strings.Contains(err.Error(), listen) {
				t.Errorf("aiod %q: want a refusal naming the address and --root-token, got %v\n%s", args, err, out)
			}
		}
	}
	// With a token of the user's, dev goes on but warns. A data path that
	// is a file stops it right after the check, before it listens.
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"dev", "--listen", "0.0.0.0:0", "--root-token", "a-secret-of-mine", "--data", notADir}, &bytes.Buffer{}, &stderr)
	if err == nil || strings.Contains(err.Error(), "--root-token") {
		t.Fatalf("with its own token: want the data directory's error, got %v", err)
	}
	if !strings.Contains(stderr.String(), "level=WARN") || !strings.Contains(stderr.String(), "0.0.0.0:0") {
		t.Errorf("no warning about listening off loopback:\n%s", stderr.String())
	}
	// On loopback there is no warning (the dev test above runs there).
	stderr.Reset()
	_ = run(context.Background(), []string{"dev", "--listen", "127.0.0.1:0", "--data", notADir}, &bytes.Buffer{}, &stderr)
	if strings.Contains(stderr.String(), "WARN") {
		t.Errorf("a warning on loopback:\n%s", stderr.String())
	}
}

// TestServeEgressAndCapFlags: the egress and cap flags reach the daemon's
// options, from the flags or from the environment (the flag winning), and
// bad values are refused before aiod starts.
func TestServeEgressAndCapFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aio.db")
	o, err := serveOptions([]string{"--database", db}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.HistoryAge != retention.DefaultRevisionAge {
		t.Errorf("default history retention %s", o.HistoryAge)
	}
	if o.MaxMonitors != daemon.DefaultMaxMonitors || o.MaxProbeRate != daemon.DefaultMaxProbeRate ||
		o.Egress == nil || len(o.Egress.AllowCIDRs)+len(o.Egress.DenyCIDRs)+len(o.Egress.DenyHosts) != 0 {
		t.Fatalf("defaults: %+v %+v", o, o.Egress)
	}
	// The defaults admit what the probe benchmark runs: 10,000 monitors
	// every 10 s.
	if o.MaxMonitors < 10000 || o.MaxProbeRate < 1000 {
		t.Errorf("default caps %d monitors, %g probes/s are below the benchmark's load", o.MaxMonitors, o.MaxProbeRate)
	}

	t.Setenv("AIOD_PROBE_ALLOW_CIDRS", "169.254.20.0/24")
	t.Setenv("AIOD_PROBE_DENY_CIDRS", "10.0.0.0/8")
	t.Setenv("AIOD_PROBE_DENY_HOSTS", "*.corp.example")
	t.Setenv("AIOD_MAX_MONITORS", "50")
	t.Setenv("AIOD_MAX_PROBE_RATE", "2.5")
	o, err = serveOptions([]string{"--database", db, "--probe-deny-cidrs", "127.0.0.2, ::1/128", "--max-monitors", "0"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o, err := serveOptions([]string{"--database", db, "--history-retention", "720h"}, &bytes.Buffer{}); err != nil || o.HistoryAge != 720*time.Hour {
		t.Errorf("--history-retention 720h: %v, %v", o.HistoryAge, err)
	}
	got := fmt.Sprint(o.Egress.AllowCIDRs, o.Egress.DenyCIDRs, o.Egress.DenyHosts, o.MaxMonitors, o.MaxProbeRate)
	if want := "[169.254.20.0/24] [127.0.0.2/32 ::1/128] [*.corp.example] 0 2.5"; got != want {
		t.Errorf("options = %s, want %s", got, want)
	}

	for _, c := range []struct {
		args []string
		env  [2]string
		want string
	}{
		{[]string{"--probe-deny-cidrs", "10.0.0.1/8"}, [2]string{}, "--probe-deny-cidrs"},
		{[]string{"--probe-allow-cidrs", "nope"}, [2]string{}, "--probe-allow-cidrs"},
		{[]string{"--probe-deny-hosts", "http://x"}, [2]string{}, "--probe-deny-hosts"},
		{[]string{"--max-monitors", "-1"}, [2]string{}, "--max-monitors"},
		{[]string{"--history-retention", "1h"}, [2]string{}, "--history-retention"},
		{nil, [2]string{"AIOD_HISTORY_RETENTION", "forever"}, "AIOD_HISTORY_RETENTION"},
		{nil, [2]string{"AIOD_MAX_PROBE_RATE", "fast"}, "AIOD_MAX_PROBE_RATE"},
		{nil, [2]string{"AIOD_MAX_MONITORS", "1e3"}, "AIOD_MAX_MONITORS"},
	} {
		if c.env[0] != "" {
			t.Setenv(c.env[0], c.env[1])
		}
		_, err := serveOptions(append([]string{"--database", db}, c.args...), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: got %v, want an error naming %s", c.args, c.env, err, c.want)
		}
		if c.env[0] != "" {
			t.Setenv(c.env[0], "")
		}
	}
}

// TestDevProbesLoopback: the quickstart's targets live on this machine, so
// aiod dev allows loopback explicitly.
func TestDevProbesLoopback(t *testing.T) {
	p := devEgress()
	for _, a := range []string{"127.0.0.1", "::1"} {
		if err := p.CheckAddr(netip.MustParseAddr(a)); err != nil {
			t.Errorf("dev policy denies %s: %v", a, err)
		}
	}
	if err := p.CheckAddr(netip.MustParseAddr("169.254.169.254")); err == nil {
		t.Error("dev policy allows the metadata service")
	}
}

// servedAiod is an aiod serve run by a test, with an admin token.
type servedAiod struct {
	t    *testing.T
	addr string
	tok  string
	logs *testutil.SyncBuffer
}

// startServe runs aiod serve on a loopback port with args added, and stops
// it (checking it stops cleanly) when the test ends.
func startServe(t *testing.T, args ...string) *servedAiod {
	t.Helper()
	db := filepath.Join(t.TempDir(), "aio.db")
	out, err := runCLI(t, "token", "create", "--name", "admin", "--role", "admin", "--database", db)
	if err != nil {
		t.Fatal(err, out)
	}
	a := &servedAiod{t: t, tok: strings.TrimSpace(out), logs: &testutil.SyncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0", "--database", db, "--log-format", "json"}, args...),
			&bytes.Buffer{}, a.logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for a.addr == "" && time.Now().Before(deadline) {
		if m := regexp.MustCompile(`"address":"([^"]+)"`).FindStringSubmatch(a.logs.String()); m != nil {
			a.addr = m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if a.addr == "" {
		t.Fatalf("serve did not start:\n%s", a.logs.String())
	}
	return a
}

// call sends an API request as the admin and returns the status and body.
func (a *servedAiod) call(method, path string, body any) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+a.addr+path, rd)
	req.Header.Set("Authorization", "Bearer "+a.tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

// monitor creates an endpoint of url and an http monitor of it, and
// returns the monitor's create status, body and ID.
func (a *servedAiod) monitor(name, url string) (int, []byte, string) {
	a.t.Helper()
	status, body := a.call(http.MethodPost, "/v1/endpoints", map[string]any{"name": name, "url": url})
	var ep api.Endpoint
	if status != http.StatusCreated || json.Unmarshal(body, &ep) != nil {
		a.t.Fatalf("endpoint: %d %s", status, body)
	}
	status, body = a.call(http.MethodPost, "/v1/monitors", map[string]any{"name": name, "endpoint_id": ep.ID, "type": "http", "interval": "5s"})
	var m api.Monitor
	_ = json.Unmarshal(body, &m)
	return status, body, m.ID
}

// firstResult waits for the monitor's first probe result.
func (a *servedAiod) firstResult(id string) api.ProbeResult {
	a.t.Helper()
	var res struct{ Items []api.ProbeResult }
	deadline := time.Now().Add(20 * time.Second)
	for len(res.Items) == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		_, body := a.call(http.MethodGet, "/v1/monitors/"+id+"/results", nil)
		_ = json.Unmarshal(body, &res)
	}
	if len(res.Items) == 0 {
		a.t.Fatal("no result within 20 s")
	}
	return res.Items[0]
}

// countingServer is an HTTP server on addr (a loopback address) that
// counts the requests it gets.
func countingServer(t *testing.T, addr string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestServeDeniesLoopbackAndCaps runs aiod serve as deployed, without
// egress flags, and a cap of one monitor: a monitor of a service on this
// machine's loopback (where local admin APIs listen) is recorded down with
// the default denial and the service sees nothing, and a second monitor is
// refused.
func TestServeDeniesLoopbackAndCaps(t *testing.T) {
	target, hits := countingServer(t, "127.0.0.1:0")
	a := startServe(t, "--max-monitors", "1")
	status, body, id := a.monitor("m1", target.URL)
	if status != http.StatusCreated {
		t.Fatalf("monitor: %d %s", status, body)
	}
	if status, body, _ := a.monitor("m2", target.URL); status != http.StatusBadRequest || !strings.Contains(string(body), "--max-monitors 1") {
		t.Errorf("a second monitor past --max-monitors 1: %d %s", status, body)
	}
	if r := a.firstResult(id); r.Outcome != api.OutcomeDown || r.Error == nil || !strings.Contains(*r.Error, "egress denied: 127.0.0.1 is in 127.0.0.0/8 (default deny list)") {
		t.Errorf("result %+v", r)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback target got %d requests", n)
	}
	if !strings.Contains(a.logs.String(), `127.0.0.0/8 ::1/128]"`) {
		t.Errorf("the startup log does not state the default deny list with loopback:\n%s", a.logs.String())
	}
}

// TestServeEgressFlags runs aiod serve with loopback allowed, the documented
// way to monitor services on aiod's own host, and one loopback address
// denied: the flags reach the engine, so the allowed target is probed and
// the denied one sees nothing.
func TestServeEgressFlags(t *testing.T) {
	allowed, allowedHits := countingServer(t, "127.0.0.1:0")
	denied, deniedHits := countingServer(t, "127.0.0.2:0")
	a := startServe(t, "--probe-allow-cidrs", "127.0.0.0/8,::1/128", "--probe-deny-cidrs", "127.0.0.2/32")
	_, body, up := a.monitor("allowed", allowed.URL)
	if up == "" {
		t.Fatalf("monitor: %s", body)
	}
	_, body, down := a.monitor("denied", denied.URL)
	if down == "" {
		t.Fatalf("monitor: %s", body)
	}
	if r := a.firstResult(up); r.Outcome != api.OutcomeUp || allowedHits.Load() == 0 {
		t.Errorf("allowed target: result %+v (error %v), %d requests", r, r.Error, allowedHits.Load())
	}
	if r := a.firstResult(down); r.Outcome != api.OutcomeDown || r.Error == nil || !strings.Contains(*r.Error, "egress denied: 127.0.0.2 is in 127.0.0.2/32 (probe deny list)") {
		t.Errorf("denied target: result %+v", r)
	}
	if n := deniedHits.Load(); n != 0 {
		t.Errorf("the denied target got %d requests", n)
	}
	if !strings.Contains(a.logs.String(), `"allow_cidrs":"[127.0.0.0/8 ::1/128]"`) || !strings.Contains(a.logs.String(), `"deny_cidrs":"[127.0.0.2/32]"`) {
		t.Errorf("the startup log does not state the policy:\n%s", a.logs.String())
	}
}

// TestServeTLSNeedsBothFiles: a certificate without its key, or a key
// without its certificate, is refused before aiod listens, naming both
// flags; so aiod never falls back to plain HTTP when HTTPS was half asked
// for.
func TestServeTLSNeedsBothFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSignedCert(t, dir)
	db := filepath.Join(dir, "aio.db")
	if out, err := runCLI(t, "token", "create", "--name", "admin", "--role", "admin", "--database", db); err != nil {
		t.Fatal(err, out)
	}
	for name, o := range map[string]daemon.Options{
		"cert only": {TLSCert: certFile},
		"key only":  {TLSKey: keyFile},
	} {
		t.Run(name, func(t *testing.T) {
			o.Listen, o.Database = "127.0.0.1:0", db
			o.Ready = func(a string) { t.Errorf("aiod listened on %s with only one TLS file", a) }
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := daemon.Serve(ctx, o)
			if err == nil || !strings.Contains(err.Error(), "--tls-cert") || !strings.Contains(err.Error(), "--tls-key") {
				t.Fatalf("Serve with %s = %v, want the both-or-neither error", name, err)
			}
		})
	}

}

// TestDevWritesACPUProfile: aiod dev --cpuprofile writes a CPU profile of
// its run when it stops (what make bench-terraform -aiod-cpuprofile reads).
func TestDevWritesACPUProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "aiod.pprof")
	ctx, cancel := context.WithCancel(context.Background())
	var out testutil.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--log-level", "warn",
			"--cpuprofile", prof}, &out, &bytes.Buffer{})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "AIO_ADDR=") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	// A pprof profile is gzip-compressed protocol buffers.
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("%s is not a gzip-compressed profile: %d bytes", prof, len(b))
	}
}
