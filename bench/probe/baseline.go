package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aio-platform/terraform-provider-aio/bench/internal/benchsys"
)

// baselineResult is what the -baseline role prints as JSON.
type baselineResult struct {
	Rate       float64          `json:"rate"`
	Workers    int              `json:"workers"`
	MeasureNS  int64            `json:"measure_ns"`
	Due        int64            `json:"due"`        // requests due in the window
	Dispatched int64            `json:"dispatched"` // requests started in the window
	Done       int64            `json:"done"`       // of those, finished (any outcome)
	OK         int64            `json:"ok"`         // finished with 200
	Errors     int64            `json:"errors"`
	FirstError string           `json:"first_error,omitempty"`
	Missed     int64            `json:"missed"` // due but the queue was full
	Lag        benchsys.Summary `json:"lag"`
	Latency    benchsys.Summary `json:"latency"`
	CPUNS      int64            `json:"cpu_ns"`         // own CPU in the window
	TargetsNS  int64            `json:"targets_cpu_ns"` // targets' CPU in the window
	PeakRSSKB  int64            `json:"peak_rss_kb"`    // of the paced loop

	CeilingNS     int64   `json:"ceiling_ns"`
	CeilingRate   float64 `json:"ceiling_rate"`
	CeilingErrors int64   `json:"ceiling_errors"`
	CeilingCPUNS  int64   `json:"ceiling_cpu_ns"`
	CeilingTgtNS  int64   `json:"ceiling_targets_cpu_ns"`
}

// newBaselineClient is the raw client: keep-alives off, no proxy, the
// engine's default timeout (the smaller of 10s and the interval).
func newBaselineClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:             nil,
			DialContext:       (&net.Dialer{KeepAlive: -1}).DialContext,
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// get makes one request and reads the body, as a probe does.
func get(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url) //nolint:gosec // local targets only
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, err
}

// runBaseline is the -baseline role: o.workers workers take requests from a
// queue that a pacer fills at o.rate per second (due times i/rate apart,
// round-robin over the ports), first for the warm-up, then for the
// measured window; then, optionally, the workers loop unpaced for o.ceiling.
func runBaseline(o options) (*baselineResult, error) {
	if _, err := benchsys.RaiseNoFile(); err != nil {
		fmt.Fprintln(os.Stderr, "baseline: raising RLIMIT_NOFILE:", err)
	}
	var urls []string
	for _, p := range strings.Split(o.portList, ",") {
		if _, err := strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("bad port %q", p)
		}
		urls = append(urls, "http://127.0.0.1:"+p+"/health")
	}
	if o.rate <= 0 || o.workers < 1 || len(urls) == 0 {
		return nil, errors.New("-rate, -workers and -target-ports are required")
	}
	client := newBaselineClient()
	res := &baselineResult{Rate: o.rate, Workers: o.workers, MeasureNS: int64(o.measure)}

	type job struct {
		due time.Time
		url string
	}
	jobs := make(chan job, 65536) // the scheduler's queue size
	begin := time.Now().Add(10 * time.Millisecond)
	t0 := begin.Add(o.bwarmup)
	t1 := t0.Add(o.measure)
	in := func(t time.Time) bool { return !t.Before(t0) && t.Before(t1) }

	var (
		mu        sync.Mutex
		lags, lat []time.Duration
		dispatch  atomic.Int64
		done, ok  atomic.Int64
		errs      atomic.Int64
		firstErr  atomic.Value
		wg        sync.WaitGroup
	)
	for range o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				start := time.Now()
				counted := in(start)
				if counted {
					dispatch.Add(1)
					mu.Lock()
					lags = append(lags, start.Sub(j.due))
					mu.Unlock()
				}
				code, err := get(client, j.url)
				took := time.Since(start)
				if !counted {
					continue
				}
				done.Add(1)
				switch {
				case err != nil:
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				case code != http.StatusOK:
					errs.Add(1)
					firstErr.CompareAndSwap(nil, "status "+strconv.Itoa(code))
				default:
					ok.Add(1)
				}
				mu.Lock()
				lat = append(lat, took)
				mu.Unlock()
			}
		}()
	}

	// The CPU of the window, sampled at its edges.
	var cpu0, tcpu0 time.Duration
	sampled := make(chan struct{})
	go func() {
		time.Sleep(time.Until(t0))
		cpu0, tcpu0 = benchsys.CPUSelf(), benchsys.CPUOf(o.targetPID)
		close(sampled)
	}()

	// The pacer.
	step := float64(time.Second) / o.rate
	var missed int64
	for i := int64(0); ; i++ {
		due := begin.Add(time.Duration(float64(i) * step))
		if !due.Before(t1) {
			break
		}
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		select {
		case jobs <- job{due: due, url: urls[i%int64(len(urls))]}:
		default:
			if in(due) {
				missed++
			}
		}
		if in(due) {
			res.Due++
		}
	}
	<-sampled
	res.CPUNS, res.TargetsNS = int64(benchsys.CPUSelf()-cpu0), int64(benchsys.CPUOf(o.targetPID)-tcpu0)
	close(jobs)
	wg.Wait()
	res.Missed = missed
	res.Dispatched, res.Done, res.OK, res.Errors = dispatch.Load(), done.Load(), ok.Load(), errs.Load()
	if s, isStr := firstErr.Load().(string); isStr {
		res.FirstError = s
	}
	res.Lag, res.Latency = benchsys.Summarize(lags), benchsys.Summarize(lat)
	// The paced loop's peak, before the unpaced run raises it.
	res.PeakRSSKB = benchsys.StatusKB("self", "VmHWM")

	if o.ceiling > 0 {
		var n, cerrs atomic.Int64
		ctx, cancel := context.WithTimeout(context.Background(), o.ceiling)
		c0, tc0 := benchsys.CPUSelf(), benchsys.CPUOf(o.targetPID)
		start := time.Now()
		var cwg sync.WaitGroup
		for w := range o.workers {
			cwg.Add(1)
			go func() {
				defer cwg.Done()
				for i := w; ctx.Err() == nil; i += o.workers {
					code, err := get(client, urls[i%len(urls)])
					if ctx.Err() != nil {
						return
					}
					if err != nil || code != http.StatusOK {
						cerrs.Add(1)
						continue
					}
					n.Add(1)
				}
			}()
		}
		cwg.Wait()
		cancel()
		took := time.Since(start)
		res.CeilingNS = int64(took)
		res.CeilingRate = float64(n.Load()) / took.Seconds()
		res.CeilingErrors = cerrs.Load()
		res.CeilingCPUNS, res.CeilingTgtNS = int64(benchsys.CPUSelf()-c0), int64(benchsys.CPUOf(o.targetPID)-tc0)
	}
	return res, nil
}

// startBaseline runs this binary in the -baseline role and decodes its
// figures.
func startBaseline(ctx context.Context, o options, tg *benchsys.Targets) (*baselineResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	bw := min(o.bwarmup, o.warmup)
	rate := float64(o.monitors) / o.interval.Seconds()
	limit := bw + o.measure + o.ceiling + 2*time.Minute
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(cctx, self, "-baseline", //nolint:gosec // this binary itself
		"-target-ports", joinInts(tg.Ports), "-targets-pid", strconv.Itoa(tg.Pid),
		"-rate", strconv.FormatFloat(rate, 'f', -1, 64), "-workers", strconv.Itoa(o.workers),
		"-baseline-warmup", bw.String(), "-measure", o.measure.String(), "-ceiling", o.ceiling.String())
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	fmt.Fprintf(os.Stderr, "baseline: %.0f req/s paced for %s after %s warm-up, then %s unpaced\n", rate, o.measure, bw, o.ceiling)
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var res baselineResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("decode %q: %w", out, err)
	}
	res.Lag.FromJSON()
	res.Latency.FromJSON()
	return &res, nil
}
