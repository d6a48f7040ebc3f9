package client

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// dropAfterCommit is a proxy in front of a real aiod. The first request
// with the given method is forwarded and answered by aiod — so the change
// is committed — and then the client's connection is closed before any
// answer reaches it, as when a network path fails at the worst moment.
type dropAfterCommit struct {
	backend string
	method  string
	dropped atomic.Int32
	seen    atomic.Int32
}

func (d *dropAfterCommit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, d.backend+r.URL.RequestURI(), strings.NewReader(string(body)))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(resp.Body)
	if r.Method == d.method {
		d.seen.Add(1)
		if d.dropped.CompareAndSwap(0, 1) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}

func newDropClient(t *testing.T, method string) (*Client, *Client, *dropAfterCommit) {
	t.Helper()
	srv := acctest.NewServer(t)
	proxy := &dropAfterCommit{backend: srv.URL, method: method}
	ps := httptest.NewServer(proxy)
	t.Cleanup(ps.Close)
	cfg := Config{Token: srv.Tokens[api.RoleEditor], MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	cfg.Address = ps.URL
	viaProxy, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Address = srv.URL
	direct, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return viaProxy, direct, proxy
}

func TestCreateRetriedAfterCommitMakesNoDuplicate(t *testing.T) {
	c, direct, proxy := newDropClient(t, http.MethodPost)
	ctx := context.Background()
	got, err := c.CreateEndpoint(ctx, api.Endpoint{Name: "orders", URL: "https://orders.example"})
	if err != nil {
		t.Fatalf("create through a dropped connection: %v", err)
	}
	if proxy.dropped.Load() != 1 || proxy.seen.Load() != 2 {
		t.Fatalf("want one dropped answer and one retry, got dropped=%d seen=%d", proxy.dropped.Load(), proxy.seen.Load())
	}
	all, err := direct.ListAllEndpoints(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != got.ID {
		t.Fatalf("want exactly the one endpoint %s, got %+v", got.ID, all)
	}
	if got.Revision != 1 {
		t.Fatalf("want revision 1, got %d", got.Revision)
	}
}

func TestUpdateRetriedAfterCommitSucceeds(t *testing.T) {
	c, direct, proxy := newDropClient(t, http.MethodPut)
	ctx := context.Background()
	e, err := direct.CreateEndpoint(ctx, api.Endpoint{Name: "orders", URL: "https://orders.example"})
	if err != nil {
		t.Fatal(err)
	}
	desc := "now documented"
	e.Description = &desc
	// The first PUT commits revision 2 but its answer is lost; the retry
	// carries the same key and the same If-Match "1", so it must get the
	// stored 200 rather than a 412 for its own change.
	got, err := c.UpdateEndpoint(ctx, e.ID, 1, e)
	if err != nil {
		t.Fatalf("update through a dropped connection: %v", err)
	}
	if proxy.seen.Load() != 2 {
		t.Fatalf("want the PUT sent twice, got %d", proxy.seen.Load())
	}
	if got.Revision != 2 || got.Description == nil || *got.Description != desc {
		t.Fatalf("want revision 2 with the new description, got %+v", got)
	}
	now, err := direct.GetEndpoint(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if now.Revision != 2 {
		t.Fatalf("the update was applied more than once: revision %d", now.Revision)
	}
}

// An attempt that times out on the client while the server still holds
// its idempotency key: the retry gets 409 with Retry-After, waits, and
// ends with the one object the key made.
func TestRetryWaitsOutAKeyInFlight(t *testing.T) {
	srv := acctest.NewServer(t)
	ctx := context.Background()
	held, release := make(chan struct{}), make(chan struct{})
	writeDone := make(chan error, 1)
	go func() {
		// Holding the writer keeps the first attempt's request (and its
		// key) in flight on the server.
		writeDone <- srv.Store.Write(ctx, func(store.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	time.AfterFunc(1500*time.Millisecond, func() { close(release) })
	c, err := New(Config{Address: srv.URL, Token: srv.Tokens[api.RoleEditor], RequestTimeout: 300 * time.Millisecond,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 2 * time.Second, RetryMax: 6})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.CreateEndpoint(ctx, api.Endpoint{Name: "slow", URL: "https://slow.example"})
	if err != nil {
		t.Fatalf("create while the key was in flight: %v", err)
	}
	if err := <-writeDone; err != nil {
		t.Fatal(err)
	}
	all, err := c.ListAllEndpoints(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != got.ID {
		t.Fatalf("want exactly the one endpoint %s, got %+v", got.ID, all)
	}
}

func TestDeleteRetriedAfterCommitSucceeds(t *testing.T) {
	c, direct, _ := newDropClient(t, http.MethodDelete)
	ctx := context.Background()
	e, err := direct.CreateEndpoint(ctx, api.Endpoint{Name: "orders", URL: "https://orders.example"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteEndpoint(ctx, e.ID, 1); err != nil {
		t.Fatalf("delete through a dropped connection: %v", err)
	}
	if _, err := direct.GetEndpoint(ctx, e.ID); err == nil {
		t.Fatal("endpoint still exists")
	}
}
