package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/daemon"
)

func mustLogger(t *testing.T, w io.Writer) *slog.Logger {
	t.Helper()
	l, err := daemon.NewLogger(w, "debug", "json")
	if err != nil {
		t.Fatal(err)
	}
	return l
}
