// Package aiodproc runs aiod as a real subprocess for crash tests: it
// builds the binary once per test binary, starts `aiod serve` on a
// temporary database with a key file and an admin token made by
// `aiod token create`, kills it with SIGKILL, restarts it on the same
// address, and checks the database file between runs.
//
// Unlike internal/acctest, which serves the API in the test's own process,
// nothing here shares memory with aiod: what survives a kill is only what
// aiod wrote to the SQLite file, which is the point of a crash test.
package aiodproc

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	// The SQLite driver aiod itself uses, to check the file between runs.
	_ "modernc.org/sqlite"

	"github.com/aio-platform/terraform-provider-aio/internal/daemon"
	"github.com/aio-platform/terraform-provider-aio/internal/testutil"
)

// builds caches the binaries built by this test binary, by package path.
var builds struct {
	mu   sync.Mutex
	dir  string
	bins map[string]string
	errs map[string]error
}

// moduleRoot is the directory of go.mod, found with `go env GOMOD` from
// the test's working directory (its package directory).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a Go module")
	}
	return filepath.Dir(mod), nil
}

// build runs `go build` of pkg (relative to the module root, as ./cmd/aiod)
// into a temporary directory once per test binary and returns the binary's
// path. A failed build fails every test that asks for it, with the
// compiler's output.
func build(t testing.TB, pkg, name string) string {
	t.Helper()
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if bin, ok := builds.bins[pkg]; ok {
		return bin
	}
	if err, ok := builds.errs[pkg]; ok {
		t.Fatal(err)
	}
	if builds.bins == nil {
		builds.bins, builds.errs = map[string]string{}, map[string]error{}
	}
	bin, err := func() (string, error) {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		if builds.dir == "" {
			if builds.dir, err = os.MkdirTemp("", "aiodproc-bin-"); err != nil {
				return "", err
			}
		}
		bin := filepath.Join(builds.dir, name)
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
		}
		return bin, nil
	}()
	if err != nil {
		builds.errs[pkg] = err
		t.Fatal(err)
	}
	builds.bins[pkg] = bin
	return bin
}

// Binary returns the path of aiod built from this module.
func Binary(t testing.TB) string { return build(t, "./cmd/aiod", "aiod") }

// ProviderBinary returns the path of terraform-provider-aio built from this
// module, for a Terraform CLI configuration's dev_overrides.
func ProviderBinary(t testing.TB) string { return build(t, ".", "terraform-provider-aio") }

// RemoveBuilds deletes the binaries; a TestMain calls it after m.Run.
func RemoveBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		_ = os.RemoveAll(builds.dir)
	}
	builds.dir, builds.bins, builds.errs = "", nil, nil
}

// Options adjust a Proc; the zero value is fine.
type Options struct {
	// Args are extra flags of aiod serve, as --alert-interval 1s.
	Args []string
}

// Proc is one aiod, run and re-run as a subprocess on the same database,
// key file and address.
type Proc struct {
	// Bin is the aiod binary; Dir holds the database (DB) and the key file
	// (KeyFile).
	Bin, Dir, DB, KeyFile string
	// Listen is the address aiod binds on every run; URL is its base URL.
	Listen, URL string
	// Token is the admin token that `aiod token create` printed.
	Token string
	// Kills counts the SIGKILLs sent.
	Kills int

	t    testing.TB
	args []string
	logs testutil.SyncBuffer

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// New prepares a database with an admin token and a key file, without
// starting aiod; Start starts it.
func New(t testing.TB, o Options) *Proc {
	t.Helper()
	p := &Proc{Bin: Binary(t), Dir: t.TempDir(), t: t, args: o.Args}
	p.DB = filepath.Join(p.Dir, "aio.db")
	p.KeyFile = filepath.Join(p.Dir, "aio.key")
	if err := daemon.EnsureKeyFile(p.KeyFile); err != nil {
		t.Fatal(err)
	}
	out, err := p.Command("token", "create", "--name", "crash-admin", "--role", "admin", "--database", p.DB).Output()
	if err != nil {
		t.Fatalf("aiod token create: %v %s", err, exitStderr(err))
	}
	p.Token = strings.TrimSpace(string(out))
	// aiod is killed and restarted on this address: a port of the
	// ephemeral range could be taken by another socket between two runs.
	p.Listen = testutil.ReservedAddr(t)
	p.URL = "http://" + p.Listen
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("aiod's log:\n%s", p.Logs())
		}
	})
	return p
}

// Start is New followed by Start.
func Start(t testing.TB, o Options) *Proc {
	t.Helper()
	p := New(t, o)
	p.Start()
	return p
}

func exitStderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// Command is an aiod command (token, keys, backup) on this Proc's binary;
// the caller adds --database and the like.
func (p *Proc) Command(args ...string) *exec.Cmd {
	cmd := exec.Command(p.Bin, args...)
	cmd.Env = append(os.Environ(), "AIOD_ENCRYPTION_KEY=", "AIOD_KEY_FILE=")
	return cmd
}

// Logs returns what every run of aiod wrote to stderr so far.
func (p *Proc) Logs() string { return p.logs.String() }

// Start runs aiod serve and waits until it answers an authenticated
// request; it fails the test if aiod exits first or is not ready within
// 30 s.
func (p *Proc) Start() {
	p.t.Helper()
	// The per-token rate limit is lifted: the load and the checks of a
	// crash test send thousands of requests a second with one token, and
	// 429s (which the fault suite covers) would only slow them down.
	args := append([]string{"serve", "--listen", p.Listen, "--database", p.DB, "--key-file", p.KeyFile,
		"--log-level", "warn", "--rate-limit", "1000000", "--rate-burst", "1000000"}, p.args...)
	cmd := p.Command(args...)
	fmt.Fprintf(&p.logs, "--- start %s\n", time.Now().Format(time.RFC3339Nano))
	cmd.Stdout, cmd.Stderr = &p.logs, &p.logs
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start aiod: %v", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-done:
			p.t.Fatalf("aiod exited while starting:\n%s", p.Logs())
		default:
		}
		if st, _, _, err := p.Do(context.Background(), http.MethodGet, "/v1/endpoints?limit=1", "", nil); err == nil && st == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("aiod not ready after 30s:\n%s", p.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Running tells whether aiod runs.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL to a running aiod and waits until it is gone. It does
// nothing when aiod does not run.
func (p *Proc) Kill() {
	p.signal(syscall.SIGKILL)
}

// Stop asks aiod to shut down gracefully (SIGTERM) and waits.
func (p *Proc) Stop() {
	p.signal(syscall.SIGTERM)
}

func (p *Proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd, p.done = nil, nil
	if cmd != nil && sig == syscall.SIGKILL {
		p.Kills++
	}
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	<-done
	fmt.Fprintf(&p.logs, "--- %v %s\n", sig, time.Now().Format(time.RFC3339Nano))
}

// Restart is Kill (SIGKILL) followed by Start.
func (p *Proc) Restart() {
	p.t.Helper()
	p.Kill()
	p.Start()
}

// CheckDB opens the database file (aiod should not run: a crashed writer's
// WAL is recovered by this open, as aiod's next start would) and fails the
// test unless PRAGMA integrity_check answers ok and PRAGMA
// foreign_key_check finds nothing.
func (p *Proc) CheckDB(t testing.TB) {
	t.Helper()
	if err := CheckDB(p.DB); err != nil {
		t.Fatal(err)
	}
}

// CheckDB runs PRAGMA integrity_check and PRAGMA foreign_key_check on the
// SQLite file at path.
func CheckDB(path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	var res []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		res = append(res, s)
	}
	rows.Close()
	if len(res) != 1 || res[0] != "ok" {
		return fmt.Errorf("PRAGMA integrity_check of %s: %q", path, res)
	}
	fk, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("foreign_key_check: %w", err)
	}
	defer fk.Close()
	var bad []string
	for fk.Next() {
		var table, parent string
		var rowid, fkid sql.NullInt64
		if err := fk.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return err
		}
		bad = append(bad, fmt.Sprintf("%s row %d -> %s", table, rowid.Int64, parent))
	}
	if len(bad) > 0 {
		return fmt.Errorf("PRAGMA foreign_key_check of %s: %d violations: %v", path, len(bad), bad)
	}
	return fk.Err()
}

// httpClient has a short timeout: aiod answers locally, and a request to a
// killed aiod must fail fast.
var httpClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// Do sends one request with the admin token and, when key is not empty,
// an Idempotency-Key; body is encoded as JSON unless it is nil. It returns
// the status, the headers and the body of the answer.
func (p *Proc) Do(ctx context.Context, method, path, key string, body any) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.URL+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, b, nil
}

// ListAll follows next_cursor through a collection, as /v1/endpoints or
// /v1/deliveries?event_id=ID, and
// returns every item as raw JSON objects.
func (p *Proc) ListAll(t testing.TB, collection string) []map[string]any {
	t.Helper()
	var out []map[string]any
	after := ""
	for {
		sep := "?"
		if strings.Contains(collection, "?") {
			sep = "&"
		}
		path := collection + sep + "limit=200"
		if after != "" {
			path += "&after=" + after
		}
		st, _, b, err := p.Do(context.Background(), http.MethodGet, path, "", nil)
		if err != nil || st != http.StatusOK {
			t.Fatalf("GET %s: %d %v %s", path, st, err, b)
		}
		var page struct {
			Items      []map[string]any `json:"items"`
			NextCursor string           `json:"next_cursor"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		after = page.NextCursor
	}
}
