//go:build unix

package testutil

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Ports below the kernel's ephemeral range that ReservedAddr picks from
// (firstReserved up to the range's start).
const firstReserved = 20000

// ReservedAddr returns a loopback address (127.0.0.1:port) for a server
// that a test stops and starts again on the same address: aiod killed and
// restarted, a webhook receiver taken down and brought back.
//
// An address from Listen("127.0.0.1:0") lies in the kernel's ephemeral
// range. While nothing listens on it, any outgoing connection or
// Listen(":0") of any process on the machine (the other test packages run
// beside this one) may be given that port, and the restart then fails with
// "address already in use". The port returned here lies below that range,
// where the kernel never hands out a port on its own; it is free when
// returned; and it is held for the test's life by an exclusive lock on a
// file, which the other test processes honour and which the kernel releases
// when the process dies.
func ReservedAddr(t testing.TB) string {
	t.Helper()
	low := ephemeralLow()
	if low <= firstReserved {
		t.Fatalf("the ephemeral port range starts at %d: no room below it for reserved test ports", low)
	}
	dir := filepath.Join(os.TempDir(), "aio-test-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		port := firstReserved + rand.IntN(low-firstReserved)
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Fatal(err)
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			_ = f.Close() // another test holds this port
			continue
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			_ = f.Close() // something outside the tests uses it
			continue
		}
		_ = l.Close()
		t.Cleanup(func() { _ = f.Close() })
		return addr
	}
	t.Fatal("no free reserved test port after 200 tries")
	return ""
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux
// reads it from /proc; elsewhere the IANA range's start, 49152).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 49152
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 49152
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil {
		return 49152
	}
	return n
}
