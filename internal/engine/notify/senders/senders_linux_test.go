package senders_test

import (
	"context"
	"net"
	"net/http"
	"syscall"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/testutil"

	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/senders"
)

// TestKeepAlivePeriod: delivery connections, which the transport keeps
// for the next delivery, start probing an idle peer after 30 s (Go's
// default is 15 s).
func TestKeepAlivePeriod(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tr := senders.NewHTTPClient(egress.AllowLoopback()).Transport.(*http.Transport)
	c, err := tr.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	on := testutil.SockoptInt(t, c, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
	idle := testutil.SockoptInt(t, c, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
	if on != 1 || idle != 30 {
		t.Errorf("SO_KEEPALIVE %d, TCP_KEEPIDLE %d s; want 1 and 30", on, idle)
	}
}
