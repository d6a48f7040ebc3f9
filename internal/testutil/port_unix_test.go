//go:build unix

package testutil

import (
	"net"
	"strconv"
	"testing"
)

// Every reserved address is below the ephemeral range, free, and not
// handed out twice while its test runs.
func TestReservedAddr(t *testing.T) {
	low := ephemeralLow()
	seen := map[string]bool{}
	for range 50 {
		addr := ReservedAddr(t)
		if seen[addr] {
			t.Fatalf("%s handed out twice", addr)
		}
		seen[addr] = true
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.Atoi(port)
		if host != "127.0.0.1" || p < firstReserved || p >= low {
			t.Fatalf("%s: want 127.0.0.1 and a port in [%d, %d)", addr, firstReserved, low)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s is not free: %v", addr, err)
		}
		_ = l.Close()
	}
}
