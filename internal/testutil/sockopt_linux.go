package testutil

import (
	"net"
	"syscall"
	"testing"
)

// SockoptInt reads an integer socket option of a TCP connection, failing
// the test if it cannot: what tests of dialers check their connections'
// keep-alive settings with.
func SockoptInt(t testing.TB, c net.Conn, level, opt int) int {
	t.Helper()
	tc, ok := c.(*net.TCPConn)
	if !ok {
		t.Fatalf("%T is not a TCP connection", c)
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var optErr error
	if err := raw.Control(func(fd uintptr) { v, optErr = syscall.GetsockoptInt(int(fd), level, opt) }); err != nil || optErr != nil {
		t.Fatal(err, optErr)
	}
	return v
}
