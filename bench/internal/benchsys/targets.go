package benchsys

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The benchmarks probe local HTTP targets served by the benchmark binary
// itself in a second process (its -targets role): in the measured process
// they would take CPU from the engine and blur what is measured.

// TargetBody is what a healthy target answers: small, like a health check.
var TargetBody = []byte(`{"status":"ok"}` + "\n")

// OK answers 200 with TargetBody.
func OK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(TargetBody)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(TargetBody)
}

// TargetsConfig is what the -targets role serves.
type TargetsConfig struct {
	// Ports is how many target ports to listen on, on 127.0.0.1.
	Ports int
	// Handler serves every target port; nil answers OK to everything.
	// Keep-alive is off: every probe on a new connection, on the server
	// side too, as the engine probes.
	Handler http.Handler
	// Control, when set, is served on one more port, with keep-alive:
	// what the parent asks of the targets, or a receiver of what the
	// engine sends.
	Control http.Handler
	// MaxLife bounds the process's life should its parent never close
	// its stdin.
	MaxLife time.Duration
}

// ServeTargets is the -targets role: it listens on c.Ports ports of
// 127.0.0.1 (and one for c.Control), prints "PORTS p1,p2,..." (and
// " CONTROL p") on stdout, and serves until its stdin closes (the parent
// is gone) or c.MaxLife has passed.
func ServeTargets(c TargetsConfig) error {
	if _, err := RaiseNoFile(); err != nil {
		fmt.Fprintln(os.Stderr, "targets: raising RLIMIT_NOFILE:", err)
	}
	h := c.Handler
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { OK(w) })
	}
	errc := make(chan error, c.Ports+1)
	serve := func(h http.Handler, keepAlive bool) (string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
		srv.SetKeepAlivesEnabled(keepAlive)
		go func() { errc <- srv.Serve(ln) }()
		return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
	}
	ports := make([]string, 0, c.Ports)
	for range c.Ports {
		p, err := serve(h, false)
		if err != nil {
			return err
		}
		ports = append(ports, p)
	}
	line := "PORTS " + strings.Join(ports, ",")
	if c.Control != nil {
		p, err := serve(c.Control, true)
		if err != nil {
			return err
		}
		line += " CONTROL " + p
	}
	fmt.Println(line)
	gone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(gone)
	}()
	select {
	case <-gone:
		return nil
	case <-time.After(c.MaxLife):
		return errors.New("maximum lifetime reached")
	case err := <-errc:
		return err
	}
}

// Targets is a running -targets child.
type Targets struct {
	// Pid is the child's process ID, for its CPU time and memory.
	Pid int
	// Ports are the target ports.
	Ports []int
	// Control is the control port, 0 without one.
	Control int

	cmd   *exec.Cmd
	stdin io.Closer
}

// StartTargets starts this binary with args (its -targets role and that
// role's flags) and env added to its environment, and reads the ports it
// reports.
func StartTargets(ctx context.Context, args, env []string) (*Targets, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, args...) //nolint:gosec // this binary itself
	cmd.Env = append(os.Environ(), env...)
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
	t := &Targets{cmd: cmd, stdin: stdin, Pid: cmd.Process.Pid}
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
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "PORTS" || (len(f) != 2 && (len(f) != 4 || f[2] != "CONTROL")) {
		t.Stop()
		return nil, fmt.Errorf("the targets process did not report its ports (got %q)", line)
	}
	for _, p := range strings.Split(f[1], ",") {
		n, err := strconv.Atoi(p)
		if err != nil {
			t.Stop()
			return nil, fmt.Errorf("bad port %q", p)
		}
		t.Ports = append(t.Ports, n)
	}
	if len(f) == 4 {
		if t.Control, err = strconv.Atoi(f[3]); err != nil {
			t.Stop()
			return nil, fmt.Errorf("bad control port %q", f[3])
		}
	}
	return t, nil
}

// Stop ends the child: closing its stdin asks it to exit; it is killed if
// it has not within five seconds.
func (t *Targets) Stop() {
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

// PeakRSSKB is the child's VmHWM while it runs.
func (t *Targets) PeakRSSKB() int64 { return StatusKB(strconv.Itoa(t.Pid), "VmHWM") }
