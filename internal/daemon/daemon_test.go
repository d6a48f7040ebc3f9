package daemon_test

import (
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/daemon"
)

func TestIsLoopbackListen(t *testing.T) {
	for listen, want := range map[string]bool{
		"127.0.0.1:7420":       true,
		"127.0.0.2:0":          true,
		"[::1]:7420":           true,
		"localhost:7420":       true,
		"LocalHost:7420":       true,
		"[::ffff:127.0.0.1]:1": true,
		"0.0.0.0:7420":         false,
		":7420":                false,
		"[::]:7420":            false,
		"10.1.2.3:7420":        false,
		"[fe80::1]:7420":       false,
		"aio.example.com:80":   false,
		// A name that merely starts like localhost resolves anywhere.
		"localhost.example.com:80": false,
		"127.0.0.1":                false, // no port: not an address net.Listen takes
	} {
		if got := daemon.IsLoopbackListen(listen); got != want {
			t.Errorf("IsLoopbackListen(%q) = %v, want %v", listen, got, want)
		}
	}
}
