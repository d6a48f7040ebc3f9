package client

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-cleanhttp"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// TestConnectionsReusedAtTerraformParallelism: Terraform runs 10
// operations at once; the client keeps a connection per operation alive
// between them instead of opening (and closing) one per request, as
// cleanhttp's pooled transport, which keeps GOMAXPROCS+1 idle, did. The
// same load through cleanhttp's transport is the control: it must open
// more, or the test proves nothing on this machine.
func TestConnectionsReusedAtTerraformParallelism(t *testing.T) {
	const workers, rounds = 10, 20
	run := func(t *testing.T, hc *http.Client) int64 {
		var opened atomic.Int64
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			// Long enough that the 10 requests of a round overlap.
			time.Sleep(5 * time.Millisecond)
			writeJSON(w, http.StatusOK, api.Endpoint{Name: "e", URL: "https://e.example.com/"})
		}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				opened.Add(1)
			}
		}
		srv.Start()
		t.Cleanup(srv.Close)
		c, err := New(Config{Address: srv.URL, Token: testToken, HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		for range rounds {
			var wg sync.WaitGroup
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := c.GetEndpoint(t.Context(), "ep_1"); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
		}
		return opened.Load()
	}
	ours := run(t, nil)
	if ours > workers+2 {
		t.Errorf("%d requests, %d at a time, opened %d connections; want at most %d", workers*rounds, workers, ours, workers+2)
	}
	if cleanhttp.DefaultPooledTransport().MaxIdleConnsPerHost < workers {
		control := run(t, cleanhttp.DefaultPooledClient())
		t.Logf("connections opened for %d requests, %d at a time: %d with NewTransport, %d with cleanhttp's pooled transport", workers*rounds, workers, ours, control)
		if control <= ours {
			t.Errorf("control: cleanhttp's pooled transport opened %d connections, no more than ours (%d)", control, ours)
		}
	}
	if tr := NewTransport(); tr.MaxIdleConnsPerHost != MaxIdleConnsPerHost || tr.Proxy == nil {
		t.Errorf("NewTransport: %d idle per host, proxy %v", tr.MaxIdleConnsPerHost, tr.Proxy != nil)
	}
}
