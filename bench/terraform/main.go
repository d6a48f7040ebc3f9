// Command terraform is the Terraform benchmark behind `make
// bench-terraform` (issue 13): terraform plan and apply of N aio_endpoint
// resources beside the same N of terraform_data (built into Terraform: the
// floor) and of noop_thing (bench/noop-provider, a plugin-framework
// provider that does nothing: the floor of any plugin), all against one
// fresh `aiod dev`, each figure the median of -reps runs. It also measures
// the list API at -list-objects objects of every kind: the p50, p99 and
// max of a page of 100, with and without a filter.
//
// The binaries (aiod, terraform-provider-aio, terraform-provider-noop) come
// from -bin; terraform is the one on PATH. Terraform finds both providers
// through dev_overrides in a CLI configuration file this program writes
// (TF_CLI_CONFIG_FILE), so no registry is asked, and CHECKPOINT_DISABLE=1
// keeps it from phoning home.
//
// From N = -seed-from on it seeds the state and times the plan only
// (seed.go).
//
// The process exits 0 whether or not the goals are met, and non-zero when
// the benchmark cannot be set up or a run fails.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	sizes []int
	// reps is the runs of each (N, kind); sizeReps overrides it for the N
	// given as N:runs in -sizes (an N = 10,000 run takes long).
	reps        int
	sizeReps    map[int]int
	listObjects int
	bin         string
	keep        bool
	profileDir  string
	aiodProfile string
	only        string
	// seedFrom is the smallest N whose state is seeded instead of applied
	// (seed.go); 0: never.
	seedFrom int
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-terraform:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench-terraform:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("bench-terraform", flag.ContinueOnError)
	sizes := fs.String("sizes", "100,1000,10000", "comma-separated numbers of resources N; N:runs sets the runs of that N (e.g. 10000:1)")
	var o options
	fs.IntVar(&o.reps, "reps", 3, "runs of each (N, kind); the figures are their medians")
	fs.IntVar(&o.listObjects, "list-objects", 10000, "objects of each kind in aiod for the list benchmark (0: skip it; the monitors count against aiod dev's --max-monitors, 20,000)")
	fs.StringVar(&o.bin, "bin", "bin", "directory of aiod, terraform-provider-aio and terraform-provider-noop")
	fs.BoolVar(&o.keep, "keep", false, "keep the working directories and aiod's data and log")
	fs.StringVar(&o.profileDir, "provider-cpuprofile", "",
		"directory for CPU profiles of the aio provider's processes (sets AIO_PROVIDER_CPUPROFILE_DIR for terraform)")
	fs.IntVar(&o.seedFrom, "seed-from", 10000, "from this N on, seed the state (one template apply, the objects through the API) "+
		"and time only the plan, not the apply; 0: always apply")
	fs.StringVar(&o.aiodProfile, "aiod-cpuprofile", "", "file for a CPU profile of aiod dev's whole run (aiod dev --cpuprofile)")
	fs.StringVar(&o.only, "only", "", "run only this kind: terraform_data, noop_thing, aio_endpoint, or noop_wide "+
		"(a no-op resource with aio_endpoint's 12 attributes, only run when asked)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.sizeReps = map[int]int{}
	for _, s := range strings.Split(*sizes, ",") {
		size, runs, hasRuns := strings.Cut(strings.TrimSpace(s), ":")
		n, err := strconv.Atoi(size)
		if err != nil || n < 1 {
			return o, fmt.Errorf("-sizes: %q is not a positive whole number", s)
		}
		if hasRuns {
			r, err := strconv.Atoi(runs)
			if err != nil || r < 1 {
				return o, fmt.Errorf("-sizes: %q: the runs after ':' must be a positive whole number", s)
			}
			o.sizeReps[n] = r
		}
		o.sizes = append(o.sizes, n)
	}
	if o.reps < 1 {
		return o, errors.New("-reps must be at least 1")
	}
	if o.only != "" && !slices.Contains(kinds, o.only) && o.only != "noop_wide" {
		return o, fmt.Errorf("-only: want one of %s or noop_wide", strings.Join(kinds, ", "))
	}
	return o, nil
}

// repsOf is the runs of each kind at N.
func (o options) repsOf(n int) int {
	if r, ok := o.sizeReps[n]; ok {
		return r
	}
	return o.reps
}

// kinds are the resource types compared, floor first.
var kinds = []string{"terraform_data", "noop_thing", "aio_endpoint"}

// measurement is one plan or apply of one (N, kind).
type measurement struct {
	apply, plan time.Duration
	// applyCPU and planCPU are the CPU time (user and system) of the
	// terraform command and of the provider processes it started and
	// waited for: on a shared machine, a steadier figure than wall time.
	applyCPU, planCPU time.Duration
	// seeded tells that the state was seeded (seed.go): apply is zero.
	seeded bool
	// planRequests is the API requests aiod answered during the plan (for
	// aio_endpoint), and throttled the 429s among all the run's.
	planRequests, throttled float64
}

func run(ctx context.Context, o options, out io.Writer) error {
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	for _, b := range []string{"aiod", "terraform-provider-aio", "terraform-provider-noop"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return fmt.Errorf("%s: %w (build it first: make bench-terraform does)", b, err)
		}
	}
	tfVersion, err := exec.CommandContext(ctx, "terraform", "version").Output()
	if err != nil {
		return fmt.Errorf("terraform version: %w", err)
	}
	work, err := os.MkdirTemp("", "bench-terraform-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(work)
	}
	cliConfig := filepath.Join(work, "terraform.rc")
	// Both providers are found in bin by dev_overrides; terraform_data is
	// built in. Nothing is installed, so no terraform init is needed.
	rc := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "aio-platform/aio" = %q
    "bench/noop"       = %q
  }
  direct {}
}
`, bin, bin)
	if err := os.WriteFile(cliConfig, []byte(rc), 0o600); err != nil {
		return err
	}

	aiodProfile := ""
	if o.aiodProfile != "" {
		if aiodProfile, err = filepath.Abs(o.aiodProfile); err != nil {
			return err
		}
	}
	d, err := startAiod(ctx, filepath.Join(bin, "aiod"), work, aiodProfile)
	if err != nil {
		return err
	}
	defer d.stop()
	fmt.Fprintf(out, "bench-terraform: %s; aiod dev at %s (data and log in %s); %s\n",
		strings.SplitN(strings.TrimSpace(string(tfVersion)), "\n", 2)[0], d.addr, d.dir, loadavg())

	// The endpoints' listing is measured first, before the Terraform runs
	// add theirs; the other kinds' after the Terraform runs, so that their
	// 50,000 objects (10,000 alert thresholds among them, evaluated every
	// tick) weigh on no Terraform figure.
	var (
		lists       []*listResult
		listTok     string
		endpointIDs []string
	)
	if o.listObjects > 0 {
		fmt.Fprintf(out, "list benchmark: creating %d endpoints through the API ...\n", o.listObjects)
		if listTok, err = editorToken(ctx, d, devRootToken, "bench-list"); err != nil {
			return fmt.Errorf("list benchmark: %w", err)
		}
		r, ids, err := benchList(ctx, d, listTok, listKinds[0], o.listObjects, nil)
		if err != nil {
			return fmt.Errorf("list benchmark: %w", err)
		}
		fmt.Fprintf(out, "list benchmark: %d endpoints created in %.1fs\n", o.listObjects, r.created.Seconds())
		lists, endpointIDs = append(lists, r), ids
	}

	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"AIO_ADDR="+d.addr, "AIO_TOKEN="+devRootToken)
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "TF_LOG") })
	if o.profileDir != "" {
		dir, err := filepath.Abs(o.profileDir)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		env = append(env, "AIO_PROVIDER_CPUPROFILE_DIR="+dir)
	}
	seed := ""
	if o.seedFrom > 0 && slices.ContainsFunc(o.sizes, func(n int) bool { return n >= o.seedFrom }) {
		if seed, err = editorToken(ctx, d, devRootToken, "bench-seed"); err != nil {
			return err
		}
	}
	results := map[int]map[string][]measurement{}
	for si, n := range o.sizes {
		results[n] = map[string][]measurement{}
		for rep := range o.repsOf(n) {
			// The kinds take turns within a repetition, so that a change
			// in the machine's load falls on all of them alike.
			for _, kind := range append(kinds, "noop_wide") {
				if (o.only != "" && kind != o.only) || (o.only == "" && kind == "noop_wide") {
					continue
				}
				var seedWith string
				if o.seedFrom > 0 && n >= o.seedFrom {
					seedWith = seed
				}
				m, err := runOne(ctx, d, env, filepath.Join(work, fmt.Sprintf("%s-%d-%d", kind, n, rep)), kind, n, rep, seedWith)
				if err != nil {
					return fmt.Errorf("%s × %d, run %d: %w", kind, n, rep+1, err)
				}
				if m.seeded {
					fmt.Fprintf(out, "  %-14s N=%-6d run %d: state seeded (%.2fs)                plan %6.2fs (CPU %6.2fs)", kind, n, rep+1,
						m.apply.Seconds(), m.plan.Seconds(), m.planCPU.Seconds())
					m.apply = 0
				} else {
					fmt.Fprintf(out, "  %-14s N=%-6d run %d: apply %6.2fs (CPU %6.2fs)  plan %6.2fs (CPU %6.2fs)", kind, n, rep+1,
						m.apply.Seconds(), m.applyCPU.Seconds(), m.plan.Seconds(), m.planCPU.Seconds())
				}
				if kind == "aio_endpoint" {
					fmt.Fprintf(out, "  %.2f requests/resource in the plan, %.0f throttled (429)", m.planRequests/float64(n), m.throttled)
				}
				fmt.Fprintln(out)
				results[n][kind] = append(results[n][kind], m)
			}
		}
		if si < len(o.sizes)-1 {
			// The figures so far, in case a larger N is cut short.
			so := o
			so.sizes = o.sizes[:si+1]
			fmt.Fprintf(out, "\n--- figures so far (N = %s), %s:\n", joinInts(so.sizes), loadavg())
			report(out, so, results, lists)
			fmt.Fprintln(out, "---")
		}
	}
	if o.listObjects > 0 {
		fmt.Fprintf(out, "\nlist benchmark: creating %d objects of each other kind through the API (%s) ...\n", o.listObjects, loadavg())
		more, err := benchListKinds(ctx, d, listTok, o.listObjects, endpointIDs)
		for _, r := range more {
			fmt.Fprintf(out, "list benchmark: %d %s created in %.1fs\n", r.objects, r.kind, r.created.Seconds())
		}
		lists = append(lists, more...)
		if err != nil {
			// The kinds measured so far, and the Terraform figures, still
			// print.
			report(out, o, results, lists)
			return fmt.Errorf("list benchmark: %w", err)
		}
	}
	report(out, o, results, lists)
	fmt.Fprintf(out, "\n%s after the run\n", loadavg())
	return nil
}

// devRootToken is aiod dev's root token, which the benchmark starts it with.
const devRootToken = "dev-root-token" //nolint:gosec // G101: the documented token of the throwaway dev mode.

// joinInts is ns comma-separated.
func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// runOne applies N resources of kind from empty in a fresh directory, then
// plans (a refresh of all N) and checks that the plan is empty. With
// seed set (a token for the API), it seeds the state instead of applying
// (seed.go); apply is then the seeding's time, not a figure to compare.
func runOne(ctx context.Context, d *aiod, env []string, dir, kind string, n, rep int, seed string) (measurement, error) {
	var m measurement
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return m, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config(kind, n, rep)), 0o644); err != nil {
		return m, err
	}
	before, err := d.metrics(ctx)
	if err != nil {
		return m, err
	}
	start := time.Now()
	if seed != "" {
		m.seeded = true
		if err := seedState(ctx, d, env, dir, kind, n, rep, seed); err != nil {
			return m, fmt.Errorf("seeding the state: %w", err)
		}
	} else if m.applyCPU, err = terraform(ctx, dir, env, "apply", "-auto-approve", "-input=false", "-no-color"); err != nil {
		return m, err
	}
	m.apply = time.Since(start)
	mid, err := d.metrics(ctx)
	if err != nil {
		return m, err
	}
	start = time.Now()
	// -detailed-exitcode: 0 is an empty plan, 2 a plan with changes. After
	// an apply the plan must be empty, or the figures measure a bug.
	if m.planCPU, err = terraform(ctx, dir, env, "plan", "-detailed-exitcode", "-input=false", "-no-color"); err != nil {
		return m, fmt.Errorf("the plan after the apply is not empty (or failed): %w", err)
	}
	m.plan = time.Since(start)
	after, err := d.metrics(ctx)
	if err != nil {
		return m, err
	}
	m.planRequests = after.requests - mid.requests
	m.throttled = after.throttled - before.throttled
	return m, nil
}

// config is the Terraform configuration of N resources of kind, as one
// resource block with count (the common way to make many alike). rep is in
// the endpoints' names, because they are unique in aiod and every run's
// endpoints stay there.
func config(kind string, n, rep int) string {
	switch kind {
	case "terraform_data":
		return fmt.Sprintf(`resource "terraform_data" "r" {
  count = %d
  input = "value-${count.index}"
}
`, n)
	case "noop_wide":
		return fmt.Sprintf(`terraform {
  required_providers {
    noop = { source = "bench/noop" }
  }
}

resource "noop_wide" "r" {
  count = %d
  name  = "bench-%d-%d-${count.index}"
  url   = "https://svc-${count.index}.example.com/"
}
`, n, n, rep)
	case "noop_thing":
		return fmt.Sprintf(`terraform {
  required_providers {
    noop = { source = "bench/noop" }
  }
}

resource "noop_thing" "r" {
  count = %d
  value = "value-${count.index}"
}
`, n)
	}
	return fmt.Sprintf(`terraform {
  required_providers {
    aio = { source = "aio-platform/aio" }
  }
}

resource "aio_endpoint" "r" {
  count = %d
  name  = "bench-%d-%d-${count.index}"
  url   = "https://svc-${count.index}.example.com/"
}
`, n, n, rep)
}

// terraform runs one terraform command and returns the CPU time it and
// its waited-for children (the provider processes) used: Linux's wait4
// counts a process's reaped children in its own usage.
func terraform(ctx context.Context, dir string, env []string, args ...string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, "terraform", args...)
	cmd.Dir, cmd.Env = dir, env
	var outBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
	if err := cmd.Run(); err != nil {
		tail := outBuf.String()
		if len(tail) > 3000 {
			tail = "..." + tail[len(tail)-3000:]
		}
		return 0, fmt.Errorf("terraform %s: %w\n%s", args[0], err, tail)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// aiod is the running aiod dev.
type aiod struct {
	cmd  *exec.Cmd
	addr string
	dir  string
	http *http.Client
}

func startAiod(ctx context.Context, path, work, cpuProfile string) (*aiod, error) {
	dir := filepath.Join(work, "aiod")
	logf, err := os.Create(filepath.Join(work, "aiod.log"))
	if err != nil {
		return nil, err
	}
	args := []string{"dev", "--listen", "127.0.0.1:0", "--data", dir, "--root-token", devRootToken}
	if cpuProfile != "" {
		args = append(args, "--cpuprofile", cpuProfile)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &aiod{cmd: cmd, dir: dir, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, v, ok := strings.Cut(sc.Text(), "export AIO_ADDR="); ok {
				found <- strings.TrimSpace(v)
			}
		}
	}()
	select {
	case d.addr = <-found:
		return d, nil
	case <-time.After(30 * time.Second):
		d.stop()
		return nil, errors.New("aiod dev did not print its address within 30 s; see aiod.log")
	}
}

func (d *aiod) stop() {
	if d.cmd.Process != nil {
		_ = d.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = d.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = d.cmd.Process.Kill()
		}
	}
}

// counts are the sums of aio_api_requests_total at one scrape.
type counts struct {
	requests, throttled float64
}

// metrics scrapes aiod's /metrics and adds up the API requests answered,
// and the 429s among them.
func (d *aiod) metrics(ctx context.Context) (counts, error) {
	var c counts
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.addr+"/metrics", nil)
	if err != nil {
		return c, err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "aio_api_requests_total{") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return c, fmt.Errorf("/metrics: %q: %w", line, err)
		}
		c.requests += v
		if strings.Contains(line, `code="429"`) {
			c.throttled += v
		}
	}
	return c, sc.Err()
}

// api makes one API call with token and decodes a 2xx answer into out.
func (d *aiod) api(ctx context.Context, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.addr+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// parallel runs f(i) for i in [0, n) on workers goroutines and returns the
// first error.
func parallel(n, workers int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// loadavg is the machine's load average, which the figures depend on: the
// benchmark machine is shared.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "load average unknown"
	}
	return fmt.Sprintf("load average %s %s %s", f[0], f[1], f[2])
}
