package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// smallFileSystem mounts a tmpfs of the given size for the test and
// returns its directory, or "" when the test may not mount one (not root,
// or no CAP_SYS_ADMIN in a container).
func smallFileSystem(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	// AIO_TEST_NO_MOUNT runs the injected variant where mounting works.
	if os.Geteuid() != 0 || os.Getenv("AIO_TEST_NO_MOUNT") != "" {
		return ""
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Logf("cannot mount a tmpfs (%v: %s)", err, strings.TrimSpace(string(out)))
		return ""
	}
	// Registered after the server's cleanups would be too late: a
	// cleanup registered now runs last, after the database is closed.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// freeBytes is the space left on the file system of dir.
func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// TestDiskFullAnswers503: on a database whose file system fills up, writes
// answer 503 with a clear message and Retry-After (not a 500), reads go
// on, nothing acknowledged is lost, and once space is freed the same aiod,
// without a restart, stores writes again and the database is intact. On a
// real (tmpfs) file system when the test may mount one; otherwise the full
// disk is an injected store error, which proves the answer but not SQLite.
func TestDiskFullAnswers503(t *testing.T) {
	dir := smallFileSystem(t, "8m")
	var (
		srv *acctest.Server
		fs  *faultyStore
	)
	if dir != "" {
		srv = acctest.NewServer(t, acctest.Options{DBDir: dir, RateLimit: 1e6, RateBurst: 1 << 20})
	} else {
		t.Log("no tmpfs: the full disk is injected")
		srv, fs = newFaultyServer(t, acctest.Options{RateLimit: 1e6, RateBurst: 1 << 20})
	}
	editor := srv.Tokens[api.RoleEditor]
	desc := strings.Repeat("d", api.MaxDescription)
	body := func(i int) map[string]any {
		b := minimal(fmt.Sprintf("fill-%04d", i))
		b["description"] = desc
		return b
	}
	var acked []string
	for i := range 5 {
		acked = append(acked, createEndpoint(t, srv, editor, body(i)).ID)
	}

	filler := ""
	if dir != "" {
		// Leave the database a little room, then fill it with writes.
		filler = filepath.Join(dir, "filler")
		if err := os.WriteFile(filler, make([]byte, max(freeBytes(t, dir)-256<<10, 0)), 0o600); err != nil {
			t.Fatal(err)
		}
	} else {
		e := fmt.Errorf("%w: injected by the test", store.ErrStorageFull)
		fs.writeErr.Store(&e)
	}
	var full response
	for i := 5; i < 5000; i++ {
		r := call(t, srv, http.MethodPost, "/v1/endpoints", editor, body(i), api.HeaderIdempotency, fmt.Sprintf("fill-%d", i))
		if r.Status == http.StatusCreated {
			var e api.Endpoint
			decode(t, r, &e)
			acked = append(acked, e.ID)
			continue
		}
		full = r
		break
	}
	p := wantProblem(t, full, http.StatusServiceUnavailable)
	if !strings.Contains(p.Detail, "disk is full") || !strings.Contains(p.Detail, "nothing was stored") {
		t.Errorf("503 detail %q does not say the disk is full and nothing was stored", p.Detail)
	}
	wantHeader(t, full, "Retry-After", "30")
	// Another write either still fits in what the refused one freed or
	// is refused the same way, never with a 500; reads go on.
	if r := call(t, srv, http.MethodPut, "/v1/endpoints/"+acked[0], editor, body(9999)); r.Status != http.StatusOK {
		wantProblem(t, r, http.StatusServiceUnavailable)
	}
	l, _ := listEndpoints(t, srv, "limit=1000")
	if len(l.Items) != len(acked) {
		t.Errorf("while the disk is full, %d endpoints are listed, want the %d acknowledged", len(l.Items), len(acked))
	}

	// Space returns: the same aiod stores again.
	if dir != "" {
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
	} else {
		fs.writeErr.Store(nil)
	}
	r := call(t, srv, http.MethodPost, "/v1/endpoints", editor, minimal("after-space-returned"))
	wantStatus(t, r, http.StatusCreated)
	l, _ = listEndpoints(t, srv, "limit=1000")
	got := map[string]bool{}
	for _, e := range l.Items {
		got[e.ID] = true
	}
	for _, id := range acked {
		if !got[id] {
			t.Errorf("acknowledged endpoint %s is gone", id)
		}
	}
	if len(l.Items) != len(acked)+1 {
		t.Errorf("%d endpoints after recovery, want %d acknowledged + 1", len(l.Items), len(acked))
	}
	db, err := sql.Open("sqlite", srv.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(context.Background(), "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check after the full disk: %q, %v", check, err)
	}
	t.Logf("%d writes acknowledged before the disk filled; the next answered %d", len(acked), full.Status)
}
