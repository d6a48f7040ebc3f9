package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aio-platform/terraform-provider-aio/bench/internal/benchsys"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/webhook"
)

// targetBody is what a healthy target answers: small, like a health check.
var targetBody = []byte(`{"status":"ok"}` + "\n")

// receipt is one webhook the receiver accepted.
type receipt struct {
	DeliveryID  string    `json:"delivery_id"`
	EventID     string    `json:"event_id"`
	ThresholdID string    `json:"threshold_id"`
	State       string    `json:"state"`
	Severity    string    `json:"severity"`
	Channel     string    `json:"channel"`
	ReceivedAt  time.Time `json:"received_at"`
}

// receiverState is the -targets role's webhook receiver: it checks every
// request's AIO-Signature with the channels' signing key, as a receiver
// must, and keeps when each arrived.
type receiverState struct {
	key []byte

	mu       sync.Mutex
	got      []receipt
	rejected int
}

func (rs *receiverState) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if err := webhook.Verify(rs.key, r.Header.Get(webhook.HeaderSignature), body, at, 5*time.Minute); err != nil {
		rs.mu.Lock()
		rs.rejected++
		rs.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var ev struct {
		EventID   string `json:"event_id"`
		State     string `json:"state"`
		Severity  string `json:"severity"`
		Threshold struct {
			ID string `json:"id"`
		} `json:"threshold"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "json", http.StatusBadRequest)
		return
	}
	rs.mu.Lock()
	rs.got = append(rs.got, receipt{DeliveryID: r.Header.Get("AIO-Delivery-Id"), EventID: ev.EventID, ThresholdID: ev.Threshold.ID,
		State: ev.State, Severity: ev.Severity, Channel: strings.TrimPrefix(r.URL.Path, "/hook/"), ReceivedAt: at})
	rs.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// runTargets is the -targets role: o.ports target ports on 127.0.0.1
// (path /health/<i> is monitor i's target), one port for the webhook
// receiver and the control calls (POST /fail makes targets answer 500,
// GET /received lists the webhooks received). It prints
// "PORTS p1,p2,... RECEIVER p" on stdout and serves until its stdin closes
// (the parent is gone) or o.maxLife has passed.
func runTargets(o options) error {
	if _, err := benchsys.RaiseNoFile(); err != nil {
		fmt.Fprintln(os.Stderr, "targets: raising RLIMIT_NOFILE:", err)
	}
	key, err := signingKey()
	if err != nil {
		return err
	}
	failing := make([]atomic.Bool, o.monitors)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/health/"))
		if err == nil && i >= 0 && i < len(failing) && failing[i].Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(targetBody)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(targetBody)
	})
	errc := make(chan error, o.ports+1)
	serve := func(h http.Handler, keepAlive bool) (int, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
		srv.SetKeepAlivesEnabled(keepAlive)
		go func() { errc <- srv.Serve(ln) }()
		return ln.Addr().(*net.TCPAddr).Port, nil
	}
	ports := make([]string, 0, o.ports)
	for range o.ports {
		// Every probe on a new connection, on the server side too, as in
		// bench-probe.
		p, err := serve(handler, false)
		if err != nil {
			return err
		}
		ports = append(ports, strconv.Itoa(p))
	}
	rs := &receiverState{key: key}
	mux := http.NewServeMux()
	mux.Handle("POST /hook/", rs)
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) {
		n := 0
		for _, s := range strings.Split(r.URL.Query().Get("ids"), ",") {
			if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(failing) {
				failing[i].Store(true)
				n++
			}
		}
		fmt.Fprintln(w, n)
	})
	mux.HandleFunc("GET /received", func(w http.ResponseWriter, _ *http.Request) {
		rs.mu.Lock()
		out := struct {
			Got      []receipt `json:"got"`
			Rejected int       `json:"rejected"`
		}{append([]receipt(nil), rs.got...), rs.rejected}
		rs.mu.Unlock()
		_ = json.NewEncoder(w).Encode(out)
	})
	rp, err := serve(mux, true)
	if err != nil {
		return err
	}
	fmt.Printf("PORTS %s RECEIVER %d\n", strings.Join(ports, ","), rp)
	gone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(gone)
	}()
	select {
	case <-gone:
		return nil
	case <-time.After(o.maxLife):
		return errors.New("maximum lifetime reached")
	case err := <-errc:
		return err
	}
}

// signingKey is the webhook channels' signing key, which the parent makes
// and hands to the -targets child in its environment.
func signingKey() ([]byte, error) {
	k := os.Getenv(keyEnv)
	if len(k) < 32 {
		return nil, errors.New(keyEnv + " is not set")
	}
	return []byte(k), nil
}

const keyEnv = "AIO_BENCH_SIGNING_KEY"

// targets is the running -targets child.
type targets struct {
	cmd      *exec.Cmd
	stdin    io.Closer
	pid      int
	ports    []int
	receiver int
	client   *http.Client
}

// startTargets starts this binary in the -targets role and reads its ports.
func startTargets(ctx context.Context, o options, key string) (*targets, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-targets", "-ports", strconv.Itoa(o.ports), "-monitors", strconv.Itoa(o.monitors),
		"-targets-max", "1h") //nolint:gosec // this binary itself
	cmd.Env = append(os.Environ(), keyEnv+"="+key)
	cmd.Stderr = os.Stderr
	// The child dies with the parent even if the parent is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &targets{cmd: cmd, stdin: stdin, pid: cmd.Process.Pid, client: &http.Client{Timeout: 30 * time.Second}}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(30 * time.Second):
	}
	var portList string
	if _, err := fmt.Sscanf(line, "PORTS %s RECEIVER %d", &portList, &t.receiver); err != nil {
		t.stop()
		return nil, fmt.Errorf("the targets process did not report its ports (got %q)", line)
	}
	for _, p := range strings.Split(portList, ",") {
		n, err := strconv.Atoi(p)
		if err != nil {
			t.stop()
			return nil, fmt.Errorf("bad port %q", p)
		}
		t.ports = append(t.ports, n)
	}
	return t, nil
}

func (t *targets) base() string { return fmt.Sprintf("http://127.0.0.1:%d", t.receiver) }

// fail makes the targets of the monitors ids answer 500 from now on.
func (t *targets) fail(ctx context.Context, ids []int) error {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base()+"/fail?ids="+strings.Join(s, ","), nil)
	if err != nil {
		return err
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if n, _ := strconv.Atoi(strings.TrimSpace(string(b))); resp.StatusCode != http.StatusOK || n != len(ids) {
		return fmt.Errorf("fail: %s %q", resp.Status, b)
	}
	return nil
}

// received lists the webhooks the receiver accepted and how many it
// rejected (a bad signature).
func (t *targets) received(ctx context.Context) ([]receipt, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base()+"/received", nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	var out struct {
		Got      []receipt `json:"got"`
		Rejected int       `json:"rejected"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, 0, err
	}
	return out.Got, out.Rejected, nil
}

// stop ends the child: closing its stdin asks it to exit; it is killed if
// it has not within five seconds.
func (t *targets) stop() {
	_ = t.stdin.Close()
	done := make(chan struct{})
	go func() {
		_ = t.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = t.cmd.Process.Kill()
		<-done
	}
}
