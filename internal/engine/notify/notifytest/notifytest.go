// Package notifytest holds what the tests of the notify senders share: a
// sample event, a recording HTTP receiver on 127.0.0.1, golden-file
// comparison and a check that no output carries a secret.
package notifytest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
)

// Started is the sample alert's start.
var Started = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

// Event returns a sample firing event with every field set.
func Event() notify.Event {
	v := 97.25
	runbook := "https://runbooks.example.com/checkout"
	return notify.Event{
		EventID:    "evt_01JDZQ8X9N0000000000000001",
		State:      notify.StateFiring,
		Severity:   notify.SeverityCritical,
		Threshold:  notify.Ref{ID: "thr_checkout_avail", Name: "checkout availability"},
		Monitor:    &notify.Ref{ID: "mon_checkout", Name: "checkout health"},
		Endpoint:   &notify.Ref{ID: "ep_payments", Name: "payments-api"},
		Metric:     "availability_percent",
		Value:      &v,
		Window:     "5m",
		StartedAt:  Started,
		RunbookURL: &runbook,
	}
}

// Resolved returns the sample event's resolution: an endpoint-wide
// threshold (no monitor) without a runbook, resolved ten minutes after it
// started.
func Resolved() notify.Event {
	e := Event()
	e.EventID = "evt_01JDZQ8X9N0000000000000002"
	e.State = notify.StateResolved
	e.Monitor = nil
	e.RunbookURL = nil
	v := 99.95
	e.Value = &v
	r := Started.Add(10 * time.Minute)
	e.ResolvedAt = &r
	return e
}

// Request is a request a Receiver got.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Receiver is an HTTP server on 127.0.0.1 that records every request and
// answers with Handler (200 when nil).
type Receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []Request
	// Handler answers after the request is recorded.
	Handler http.HandlerFunc
}

// NewReceiver starts a Receiver that t closes.
func NewReceiver(t testing.TB, h http.HandlerFunc) *Receiver {
	t.Helper()
	r := &Receiver{Handler: h}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.requests = append(r.requests, Request{Method: req.Method, Path: req.URL.RequestURI(), Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		if r.Handler != nil {
			r.Handler(w, req)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// Requests returns the requests received so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Only returns the one request received, failing t unless there was
// exactly one.
func (r *Receiver) Only(t testing.TB) Request {
	t.Helper()
	reqs := r.Requests()
	if len(reqs) != 1 {
		t.Fatalf("the receiver got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// GoldenJSON compares got (JSON) with testdata/<name> after indenting both
// the same way. UPDATE_GOLDEN=1 rewrites the file instead.
func GoldenJSON(t testing.TB, name string, got []byte) {
	t.Helper()
	var ind bytes.Buffer
	if err := json.Indent(&ind, got, "", "  "); err != nil {
		t.Fatalf("the body is not JSON: %v\n%s", err, got)
	}
	ind.WriteByte('\n')
	Golden(t, name, ind.Bytes())
}

// Golden compares got with testdata/<name>. UPDATE_GOLDEN=1 rewrites the
// file instead.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.MkdirAll("testdata", 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what was sent (UPDATE_GOLDEN=1 rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// NoSecret fails t when any text contains secret in any of the forms
// notify.SecretForms lists (as is, JSON-escaped, URL-encoded, hex,
// base64).
func NoSecret(t testing.TB, secret []byte, texts ...string) {
	t.Helper()
	for _, f := range notify.SecretForms(secret) {
		if len(f) < 4 {
			continue // too short to mean anything
		}
		for _, text := range texts {
			if strings.Contains(text, f) {
				t.Errorf("output carries the secret (as %q): %s", f, text)
			}
		}
	}
}
