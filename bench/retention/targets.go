package main

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

	"github.com/aio-platform/terraform-provider-aio/bench/internal/benchsys"
)

// The probe-lag phases probe local targets served by this binary in a
// second process (the -targets role), as bench-probe does: in the engine's
// process they would take CPU from the scheduler and blur its lag.

var targetBody = []byte(`{"status":"ok"}` + "\n")

// runTargets is the -targets role: it listens on n ports of 127.0.0.1,
// prints "PORTS p1,p2,..." and serves until its stdin closes (the parent is
// gone) or life has passed.
func runTargets(n int, life time.Duration) error {
	if _, err := benchsys.RaiseNoFile(); err != nil {
		fmt.Fprintln(os.Stderr, "targets: raising RLIMIT_NOFILE:", err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(targetBody)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(targetBody)
	})
	ports := make([]string, 0, n)
	errc := make(chan error, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
		srv.SetKeepAlivesEnabled(false)
		go func() { errc <- srv.Serve(ln) }()
		ports = append(ports, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	fmt.Printf("PORTS %s\n", strings.Join(ports, ","))
	gone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(gone)
	}()
	select {
	case <-gone:
		return nil
	case <-time.After(life):
		return errors.New("maximum lifetime reached")
	case err := <-errc:
		return err
	}
}

// targets is the running -targets child.
type targets struct {
	cmd   *exec.Cmd
	stdin io.Closer
	pid   int
	ports []int
}

func startTargets(ctx context.Context, n int, life time.Duration) (*targets, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-targets", "-ports", strconv.Itoa(n), "-targets-max", life.String()) //nolint:gosec // this binary itself
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
	t := &targets{cmd: cmd, stdin: stdin, pid: cmd.Process.Pid}
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
	rest, ok := strings.CutPrefix(line, "PORTS ")
	if !ok {
		t.stop()
		return nil, fmt.Errorf("the targets process did not report its ports (got %q)", line)
	}
	for _, p := range strings.Split(rest, ",") {
		n, err := strconv.Atoi(p)
		if err != nil {
			t.stop()
			return nil, fmt.Errorf("bad port %q", p)
		}
		t.ports = append(t.ports, n)
	}
	return t, nil
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
