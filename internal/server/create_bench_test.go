package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/daemon"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// BenchmarkCreateMonitorAmong measures a monitor create through the API in
// an aiod that already holds n monitors (stored directly, in one
// transaction), one create at a time, with aiod's default caps (which
// count the monitors stored on every create) and without caps.
func BenchmarkCreateMonitorAmong(b *testing.B) {
	for _, tc := range []struct {
		n    int
		caps bool
	}{{0, true}, {10000, true}, {10000, false}} {
		b.Run(fmt.Sprintf("monitors=%d/caps=%v", tc.n, tc.caps), func(b *testing.B) {
			n := tc.n
			var o acctest.Options
			if tc.caps {
				o.MaxMonitors, o.MaxProbeRate = daemon.DefaultMaxMonitors, daemon.DefaultMaxProbeRate
			}
			srv := acctest.NewServer(b, o)
			ep := createEndpoint(b, srv, srv.AdminToken, minimal("bench-ep"))
			now := time.Now().UTC()
			if err := srv.Store.Write(b.Context(), func(tx store.Tx) error {
				for i := range n {
					m := api.Monitor{Meta: api.Meta{ID: fmt.Sprintf("mon_seed%05d", i), Revision: 1, CreatedAt: now, UpdatedAt: now},
						Name: fmt.Sprintf("seed-%05d", i), EndpointID: ep.ID, Type: api.MonitorHTTP, Enabled: new(false)}
					if err := tx.InsertMonitor(b.Context(), m); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				r := call(b, srv, http.MethodPost, "/v1/monitors", srv.AdminToken, monitorBody(fmt.Sprintf("m-%06d", i), ep.ID))
				wantStatus(b, r, http.StatusCreated)
				i++
			}
		})
	}
}
