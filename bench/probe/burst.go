package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aio-platform/terraform-provider-aio/bench/internal/benchsys"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/daemon"
	"github.com/aio-platform/terraform-provider-aio/internal/engine"
	"github.com/aio-platform/terraform-provider-aio/internal/server"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// burstClients is how many clients create monitors at once: Terraform's
// default parallelism.
const burstClients = 10

// goalPostP99 is issue 13's bound on API writes while the engine runs at
// full load.
const goalPostP99 = 100 * time.Millisecond

// burstResult is what the burst of creates measured.
type burstResult struct {
	created, failed int64
	took            time.Duration
	post            benchsys.Summary
	firstErr        string
}

// apiServer serves aiod's API over the engine's store on 127.0.0.1, wired
// as internal/daemon wires it (changes notify the engine), with an editor
// token. The rate limit is lifted: the burst measures the store and the
// engine, not the limiter. The caps stay on, as aiod runs by default,
// raised to fit the benchmark's monitors as an operator of that many would
// raise them: every monitor create checks them inside its write
// transaction, and before migration 00019 that check counted every monitor.
type apiServer struct {
	url, token string
	close      func()
}

func startAPI(ctx context.Context, st store.Store, e *engine.Engine, monitors int, rate float64) (*apiServer, error) {
	srv, err := server.New(ctx, server.Config{Store: st, Clock: clock.Real{}, OnChange: e.Notify,
		RateLimit: 1e6, RateBurst: 1e6,
		MaxMonitors: max(daemon.DefaultMaxMonitors, 2*monitors), MaxProbeRate: max(daemon.DefaultMaxProbeRate, 2*rate)})
	if err != nil {
		return nil, err
	}
	var secret string
	err = st.Write(ctx, func(tx store.Tx) error {
		var err error
		_, secret, err = auth.Create(ctx, tx, clock.Real{}, auth.CreateInput{Name: "bench-burst", Role: api.RoleEditor}, auth.CLIActor)
		return err
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return &apiServer{url: "http://" + ln.Addr().String(), token: secret, close: func() { _ = hs.Close() }}, nil
}

// runBurst creates n monitors through the API, burstClients at a time,
// each on one of the benchmark's endpoints, timing every POST.
func runBurst(ctx context.Context, a *apiServer, n, endpoints int, interval time.Duration) burstResult {
	var (
		res     burstResult
		next    atomic.Int64
		mu      sync.Mutex
		lat     = make([]time.Duration, 0, n)
		wg      sync.WaitGroup
		errOnce sync.Once
	)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: burstClients}}
	start := time.Now()
	for range burstClients {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				body, _ := json.Marshal(map[string]any{
					"name":        fmt.Sprintf("burst-monitor-%06d", i),
					"endpoint_id": fmt.Sprintf("%sbench%06d", api.PrefixEndpoint, int(i)%endpoints),
					"type":        api.MonitorHTTP,
					"interval":    interval.String(),
				})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.url+"/v1/monitors", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+a.token)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				d := time.Since(t0)
				status := 0
				if err == nil {
					status = resp.StatusCode
					msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
					resp.Body.Close()
					if status != http.StatusCreated {
						err = fmt.Errorf("POST /v1/monitors: %d %s", status, msg)
					}
				}
				if err != nil {
					atomic.AddInt64(&res.failed, 1)
					errOnce.Do(func() { res.firstErr = err.Error() })
					continue
				}
				atomic.AddInt64(&res.created, 1)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.took = time.Since(start)
	res.post = benchsys.Summarize(lat)
	return res
}
