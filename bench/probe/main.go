// Command probe is the probe engine benchmark behind `make bench-probe`
// (issue 4, "Benchmark"): N HTTP monitors at one interval, run by the real
// engine (engine.New + Run, real clock, real SQLite store in a temporary
// directory) against local HTTP targets on 127.0.0.1, compared with a raw Go
// HTTP client loop paced to the same rate against the same targets.
//
// One binary, three roles, so that each is measured on its own:
//
//   - the parent runs the engine and prints the report;
//   - `-targets` (started by the parent) serves the HTTP targets, so that the
//     engine's peak RSS and CPU are not the targets';
//   - `-baseline` (started by the parent after the engine has stopped) runs
//     the raw client loop and prints its figures as JSON.
//
// All three share the machine's cores, as aiod and its targets would not in
// production: the figures are a lower bound on the engine's headroom.
//
// The process exits 0 whether or not the goals are met, and non-zero when
// the benchmark cannot be set up.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aio-platform/terraform-provider-aio/bench/internal/benchsys"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/scheduler"
)

type options struct {
	monitors  int
	interval  time.Duration
	ports     int
	warmup    time.Duration
	measure   time.Duration
	workers   int
	ceiling   time.Duration
	cpuprof   string
	memprof   string
	keep      bool
	verbose   bool
	bwarmup   time.Duration
	targets   bool
	baseline  bool
	portList  string
	rate      float64
	targetPID int
	maxLife   time.Duration
	resol     time.Duration
	burst     int
}

func main() {
	var o options
	flag.IntVar(&o.monitors, "monitors", 10000, "number of HTTP monitors (one endpoint each)")
	flag.DurationVar(&o.interval, "interval", 10*time.Second, "monitor interval")
	flag.IntVar(&o.ports, "ports", 16, "number of target ports on 127.0.0.1")
	flag.DurationVar(&o.warmup, "warmup", 15*time.Second, "engine warm-up before the measured window")
	flag.DurationVar(&o.measure, "measure", 60*time.Second, "measured window (engine and baseline each)")
	flag.IntVar(&o.workers, "workers", scheduler.DefaultWorkers, "concurrency bound: engine.Config.Workers and the baseline's workers (default: the scheduler's default, which aiod uses)")
	flag.DurationVar(&o.ceiling, "ceiling", 5*time.Second, "how long the baseline runs unpaced to show the ceiling (0: skip)")
	flag.StringVar(&o.cpuprof, "cpuprofile", "", "write a CPU profile of the engine's measured window to this file")
	flag.StringVar(&o.memprof, "memprofile", "", "write a heap profile at the end of the engine's measured window to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory with the SQLite database")
	flag.DurationVar(&o.resol, "resolution", 0, "diagnostic: the scheduler's tick resolution (0: its default, as aiod runs it)")
	flag.IntVar(&o.burst, "burst", 0, "create this many more monitors through the API (10 clients) at the start of the measured window (issue 13: -monitors 20000 -burst 10000)")
	flag.BoolVar(&o.verbose, "v", false, "log the engine at info level (default: warnings)")
	// Internal roles, started by the parent.
	flag.BoolVar(&o.targets, "targets", false, "internal: serve the targets and print their ports")
	flag.BoolVar(&o.baseline, "baseline", false, "internal: run the raw client loop and print JSON")
	flag.DurationVar(&o.bwarmup, "baseline-warmup", 5*time.Second, "baseline warm-up (at most -warmup)")
	flag.StringVar(&o.portList, "target-ports", "", "internal: comma-separated target ports for -baseline")
	flag.Float64Var(&o.rate, "rate", 0, "internal: requests per second for -baseline")
	flag.IntVar(&o.targetPID, "targets-pid", 0, "internal: PID of the targets process, for its CPU time")
	flag.DurationVar(&o.maxLife, "targets-max", time.Hour, "internal: the targets process exits after this long at most")
	flag.Parse()

	switch {
	case o.targets:
		if err := benchsys.ServeTargets(benchsys.TargetsConfig{Ports: o.ports, MaxLife: o.maxLife}); err != nil {
			fmt.Fprintln(os.Stderr, "targets:", err)
			os.Exit(1)
		}
		return
	case o.baseline:
		res, err := runBaseline(o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(1)
		}
		if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
			os.Exit(1)
		}
		return
	}
	if err := validate(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-probe:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "bench-probe:", err)
		os.Exit(1)
	}
}

func validate(o options) error {
	var errs []string
	if o.monitors < 1 {
		errs = append(errs, "-monitors must be at least 1")
	}
	if o.interval < time.Second {
		errs = append(errs, "-interval must be at least 1s")
	}
	if o.ports < 1 {
		errs = append(errs, "-ports must be at least 1")
	}
	if o.measure < time.Second {
		errs = append(errs, "-measure must be at least 1s")
	}
	if o.warmup < 0 || o.ceiling < 0 {
		errs = append(errs, "-warmup and -ceiling must not be negative")
	}
	if o.workers < 1 {
		errs = append(errs, "-workers must be at least 1")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// run is the parent: targets, engine, baseline, report.
func run(ctx context.Context, o options, out io.Writer) (err error) {
	if lim, err := benchsys.RaiseNoFile(); err != nil {
		fmt.Fprintf(os.Stderr, "warning: raising RLIMIT_NOFILE: %v (limit %d)\n", err, lim)
	}
	logLevel := slog.LevelWarn
	if o.verbose {
		logLevel = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))

	life := o.warmup + 2*o.measure + o.ceiling + 30*time.Minute
	tg, err := benchsys.StartTargets(ctx, []string{"-targets", "-ports", strconv.Itoa(o.ports), "-targets-max", life.String()}, nil)
	if err != nil {
		return fmt.Errorf("start targets: %w", err)
	}
	defer tg.Stop()
	fmt.Fprintf(os.Stderr, "targets: pid %d, ports %s\n", tg.Pid, joinInts(tg.Ports))

	eng, err := runEngine(ctx, o, tg, logger)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	base, err := startBaseline(ctx, o, tg)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	report(out, o, tg, eng, base)
	return nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}

// gomaxprocs is reported so that a reader knows how many cores the three
// processes shared.
func gomaxprocs() int { return runtime.GOMAXPROCS(0) }
