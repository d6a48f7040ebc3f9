package probe

import (
	"context"
	"net"
	"syscall"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/testutil"
)

// TestProbeConnectionsHaveNoKeepAlive: a probe's connection lives for one
// request, so the dialer turns TCP keep-alive off (Go's default would
// enable it with a 15 s period).
func TestProbeConnectionsHaveNoKeepAlive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f := newFixture(t, Config{})
	c, err := f.p.dialGuarded(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	on := testutil.SockoptInt(t, c, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
	if on != 0 {
		t.Errorf("SO_KEEPALIVE = %d on a probe connection, want 0", on)
	}
}
