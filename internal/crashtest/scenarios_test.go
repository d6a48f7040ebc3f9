package crashtest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/webhook"
	"github.com/aio-platform/terraform-provider-aio/internal/testutil/aiodproc"
)

// loaded starts aiod (with extra serve flags) and a writer of 2 workers
// that runs until the returned stop function is called.
func loaded(t *testing.T, args ...string) (*aiodproc.Proc, *aiodproc.Writer, func()) {
	p := aiodproc.Start(t, aiodproc.Options{Args: args})
	w := aiodproc.NewWriter(p, "load")
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.Run(ctx, 2) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return p, w, stop
}

// killAndRestart kills aiod, checks the file, waits a seeded while and
// starts it again.
func killAndRestart(t *testing.T, p *aiodproc.Proc, rng *rand.Rand) {
	t.Helper()
	p.Kill()
	p.CheckDB(t)
	time.Sleep(between(rng, 0, time.Second))
	p.Start()
}

// probeMonitors is AIO_CRASH_MONITORS (make stress raises it), else 100.
func probeMonitors(t *testing.T) int {
	n := 100
	if s := os.Getenv("AIO_CRASH_MONITORS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("AIO_CRASH_MONITORS=%q: want a number above 0", s)
		}
	}
	return n
}

// TestCrashDuringProbeLoad kills aiod one to three times while it probes
// local targets with every monitor at the shortest interval (5 s) and a
// writer creates endpoints: the file stays intact, no acknowledged write
// is lost, replays answer the stored response, every monitor survives and
// probing resumes after the last restart.
func TestCrashDuringProbeLoad(t *testing.T) {
	eachSeed(t, 1, func(t *testing.T, rng *rand.Rand) {
		var hits atomic.Int64
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits.Add(1)
			_, _ = io.WriteString(w, "ok")
		}))
		t.Cleanup(target.Close)
		p, w, stopWriter := loaded(t, "--probe-allow-cidrs", "127.0.0.0/8")
		n := probeMonitors(t)
		mons := make([]string, 0, n)
		for i := range n {
			ep := create(t, p, "/v1/endpoints", map[string]any{"name": fmt.Sprintf("probe-%d", i), "url": fmt.Sprintf("%s/t/%d", target.URL, i)})
			mons = append(mons, create(t, p, "/v1/monitors", map[string]any{"name": fmt.Sprintf("probe-%d", i), "endpoint_id": ep,
				"type": "http", "enabled": true, "interval": "5s", "retry_strategy": map[string]any{"type": api.RetryNone}}))
		}
		kills := 1 + rng.IntN(3)
		for range kills {
			time.Sleep(between(rng, 500*time.Millisecond, 6*time.Second))
			killAndRestart(t, p, rng)
		}
		restarted := time.Now()
		time.Sleep(between(rng, 0, 2*time.Second))
		stopWriter()
		v := w.Verify(t)
		if got := len(p.ListAll(t, "/v1/monitors")); got != n {
			t.Errorf("%d monitors after the crashes, want %d", got, n)
		}
		// Probing resumes: a monitor's status shows a check after the last
		// restart (every monitor runs every 5 s; results are flushed each
		// second).
		waitFor(t, 30*time.Second, "a result after the restart", func() bool {
			st, _, b, err := p.Do(t.Context(), http.MethodGet, "/v1/monitors/"+mons[rng.IntN(n)]+"/status", "", nil)
			if err != nil || st != http.StatusOK {
				return false
			}
			var s api.MonitorStatus
			return json.Unmarshal(b, &s) == nil && s.LastCheckedAt != nil && s.LastCheckedAt.After(restarted)
		})
		p.Stop()
		p.CheckDB(t)
		if hits.Load() == 0 {
			t.Error("the targets were never probed")
		}
		t.Logf("%d probes reached the targets", hits.Load())
		figures(t, "probe-load", p.Kills, v)
	})
}

// signedReceiver answers 200 and counts the requests whose AIO-Signature
// verifies with secret.
type signedReceiver struct {
	secret          []byte
	verified, total atomic.Int64
}

func (rv *signedReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rv.total.Add(1)
	if webhook.Verify(rv.secret, r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute) == nil {
		rv.verified.Add(1)
	}
	w.WriteHeader(http.StatusOK)
}

// interrupt runs cmd and, after a seeded delay (less than within), kills aiod and (on a coin
// toss) the command too. It returns whether the command completed
// (exit 0), and its output.
func interrupt(t *testing.T, p *aiodproc.Proc, rng *rand.Rand, cmd *exec.Cmd, within time.Duration) (bool, string) {
	t.Helper()
	out := &syncWriter{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	killCmd := rng.IntN(2) == 0
	time.Sleep(between(rng, 0, within))
	p.Kill()
	if killCmd {
		_ = cmd.Process.Signal(syscall.SIGKILL)
	}
	err := <-done
	p.CheckDB(t)
	return err == nil, out.String()
}

// TestCrashDuringKeyRotation runs `aiod keys rotate --key-file` against
// the database of a running aiod with stored credential and channel
// secrets while a writer creates endpoints, and kills aiod (and, on a coin
// toss, the rotation) at a seeded point, a few times. After each crash aiod
// starts again (its start-up check finds every secret's key in the key
// file); at the end a rotation completes (it opens every secret to re-wrap
// it), a channel test message is signed with the very secret stored before
// the crashes, and no acknowledged write is lost.
func TestCrashDuringKeyRotation(t *testing.T) {
	eachSeed(t, 1, func(t *testing.T, rng *rand.Rand) {
		const secret = "whsec-rotate-0123456789"
		rv := &signedReceiver{secret: []byte(secret)}
		hook := httptest.NewServer(rv)
		t.Cleanup(hook.Close)
		p, w, stopWriter := loaded(t, "--probe-allow-cidrs", "127.0.0.0/8")
		// Enough secrets that a rotation takes a while to re-wrap them.
		const creds = 200
		for i := range creds {
			create(t, p, "/v1/credentials", map[string]any{"name": fmt.Sprintf("rot-%d", i), "type": "bearer",
				"allowed_hosts": []string{"*.example.com"}, "secret": fmt.Sprintf("secret-%d", i)})
		}
		ch := create(t, p, "/v1/notification-channels", map[string]any{"name": "rot-hook", "type": api.ChannelWebhook,
			"url": hook.URL + "/hook", "secret": secret})
		rounds := 1 + rng.IntN(3)
		completed := 0
		for range rounds {
			ok, out := interrupt(t, p, rng, p.Command("keys", "rotate", "--key-file", p.KeyFile, "--database", p.DB), 150*time.Millisecond)
			if ok {
				completed++
			}
			t.Logf("rotation: completed=%v %s", ok, out)
			time.Sleep(between(rng, 0, 500*time.Millisecond))
			p.Start()
		}
		out, err := p.Command("keys", "rotate", "--key-file", p.KeyFile, "--database", p.DB).CombinedOutput()
		if err != nil {
			t.Fatalf("the rotation after the crashes failed: %v\n%s", err, out)
		}
		t.Logf("%d of %d interrupted rotations completed; the last one: %s", completed, rounds, out)
		stopWriter()
		v := w.Verify(t)
		// A restart finds every secret's key; the channel's secret still
		// signs.
		killAndRestart(t, p, rng)
		st, _, b, err := p.Do(t.Context(), http.MethodPost, "/v1/notification-channels/"+ch+"/test", "", nil)
		if err != nil || st != http.StatusOK || rv.verified.Load() != 1 || rv.total.Load() != 1 {
			t.Errorf("channel test after the rotations: %d %v %s; receiver verified %d of %d", st, err, b, rv.verified.Load(), rv.total.Load())
		}
		if got := len(p.ListAll(t, "/v1/credentials")); got != creds {
			t.Errorf("%d credentials, want %d", got, creds)
		}
		p.Stop()
		p.CheckDB(t)
		figures(t, "key-rotation", p.Kills, v)
	})
}

// TestCrashDuringBackup runs `aiod backup` of a running aiod's database
// while a writer creates endpoints and kills aiod (and, on a coin toss,
// the backup) at a seeded point, a few times. A backup that completed
// passes integrity_check and holds every create acknowledged before it
// started; after the crashes a backup completes and holds every
// acknowledged create, and aiod lost nothing.
func TestCrashDuringBackup(t *testing.T) {
	eachSeed(t, 1, func(t *testing.T, rng *rand.Rand) {
		p, w, stopWriter := loaded(t)
		// Enough rows that a backup takes a moment.
		time.Sleep(between(rng, time.Second, 3*time.Second))
		rounds := 1 + rng.IntN(3)
		for i := range rounds {
			before := w.Acked()
			out := filepath.Join(t.TempDir(), fmt.Sprintf("backup-%d.db", i))
			ok, msg := interrupt(t, p, rng, p.Command("backup", "--out", out, "--database", p.DB), 60*time.Millisecond)
			t.Logf("backup %d: completed=%v %s", i, ok, msg)
			if ok {
				checkBackup(t, out, before)
			}
			time.Sleep(between(rng, 0, 500*time.Millisecond))
			p.Start()
		}
		stopWriter()
		v := w.Verify(t)
		p.Stop()
		out := filepath.Join(t.TempDir(), "final.db")
		if b, err := p.Command("backup", "--out", out, "--database", p.DB).CombinedOutput(); err != nil {
			t.Fatalf("backup after the crashes: %v\n%s", err, b)
		}
		checkBackup(t, out, w.Acked())
		p.CheckDB(t)
		figures(t, "backup", p.Kills, v)
	})
}

// checkBackup checks a backup file's integrity and that it holds every
// endpoint of acked.
func checkBackup(t *testing.T, path string, acked []aiodproc.Ack) {
	t.Helper()
	if err := aiodproc.CheckDB(path); err != nil {
		t.Fatalf("backup %s: %v", path, err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	missing := 0
	for _, a := range acked {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM endpoints WHERE id = ?", a.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("backup %s lacks %d of %d acknowledged endpoints", path, missing, len(acked))
	}
}

// syncWriter collects a subprocess's output.
type syncWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	return len(p), nil
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.buf)
}
