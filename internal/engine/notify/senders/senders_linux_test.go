package senders_test

import (
	"context"
	"net"
	"net/http"
	"syscall"
	"testing"

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
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var on, idle int
	var e1, e2 error
	if err := raw.Control(func(fd uintptr) {
		on, e1 = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
		idle, e2 = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
	}); err != nil || e1 != nil || e2 != nil {
		t.Fatal(err, e1, e2)
	}
	if on != 1 || idle != 30 {
		t.Errorf("SO_KEEPALIVE %d, TCP_KEEPIDLE %d s; want 1 and 30", on, idle)
	}
}
