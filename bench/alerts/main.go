// Command alerts is the alert evaluation benchmark behind
// `make bench-alerts` (issue 10, "Performance"): N HTTP monitors at one
// interval run by the real engine (engine.New + Run, real clock, real
// SQLite store in a temporary directory, days of rollups seeded) against
// local targets, with one alert threshold per monitor (mixed metrics, a
// fifth of them burn rates) evaluated on the default 10 s tick, and signed
// webhook channels to a local receiver.
//
// It measures, one after the other in one run:
//
//  1. the probe engine alone (no thresholds yet): its CPU, probes stored
//     per second and scheduling lag;
//  2. the same with every threshold evaluated: the tick durations, the
//     engine's CPU again (the difference is the evaluation's share of a
//     core, see evaluatorShare) and the probe figures beside those of 1;
//  3. a tenth of the targets failing at once: for each of the alerts that
//     fire, the delay from the moment its pending_for elapsed to the
//     receipt of its webhook.
//
// One binary, two roles: the parent runs the engine and prints the report;
// `-targets` (started by the parent) serves the targets and the webhook
// receiver, so that the engine process's CPU is the engine's own.
//
// The process exits 0 whether or not the goals are met, and non-zero when
// the benchmark cannot be set up.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/engine/alerting"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/scheduler"
)

type options struct {
	monitors      int
	interval      time.Duration
	alertInterval time.Duration
	ports         int
	channels      int
	warmup        time.Duration
	measure       time.Duration
	fireTimeout   time.Duration
	history       bool
	workers       int
	cpuprof       string
	memprof       string
	keep          bool
	verbose       bool
	targets       bool
	maxLife       time.Duration
}

func main() {
	var o options
	flag.IntVar(&o.monitors, "monitors", 10000, "number of HTTP monitors, each with one alert threshold")
	flag.DurationVar(&o.interval, "interval", 10*time.Second, "monitor interval")
	flag.DurationVar(&o.alertInterval, "alert-interval", alerting.DefaultInterval, "evaluation tick (the goal is stated for the default, 10s)")
	flag.IntVar(&o.ports, "ports", 16, "number of target ports on 127.0.0.1")
	flag.IntVar(&o.channels, "channels", 10, "number of webhook channels the thresholds are spread over")
	flag.DurationVar(&o.warmup, "warmup", 10*time.Second, "engine warm-up before the first measured phase")
	flag.DurationVar(&o.measure, "measure", 30*time.Second, "length of each of the two measured phases (probes alone, probes + alerting)")
	flag.DurationVar(&o.fireTimeout, "fire-timeout", 150*time.Second, "how long to wait for every failing target's alert to arrive")
	flag.BoolVar(&o.history, "history", true, "seed days of rollups, so that the windows hold what they hold in production")
	flag.IntVar(&o.workers, "workers", scheduler.DefaultWorkers, "probe concurrency (the scheduler's default, which aiod uses)")
	flag.StringVar(&o.cpuprof, "cpuprofile", "", "write a CPU profile of the probes + alerting phase to this file")
	flag.StringVar(&o.memprof, "memprofile", "", "write an allocation profile (alloc_space) taken over the probes + alerting phase to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory with the SQLite database")
	flag.BoolVar(&o.verbose, "v", false, "log the engine at info level (default: warnings)")
	flag.BoolVar(&o.targets, "targets", false, "internal: serve the targets and the webhook receiver")
	flag.DurationVar(&o.maxLife, "targets-max", time.Hour, "internal: the targets process exits after this long at most")
	flag.Parse()

	if o.targets {
		if err := runTargets(o); err != nil {
			fmt.Fprintln(os.Stderr, "targets:", err)
			os.Exit(1)
		}
		return
	}
	if err := validate(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-alerts:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	res, err := run(ctx, o, hex.EncodeToString(key))
	if err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "bench-alerts:", err)
		os.Exit(1)
	}
	report(os.Stdout, o, res)
}

func validate(o options) error {
	var errs []string
	if o.monitors < 40 {
		errs = append(errs, "-monitors must be at least 40 (a tenth fail, a quarter of them of each failure kind)")
	}
	if o.interval < time.Second || time.Minute%o.interval != 0 {
		errs = append(errs, "-interval must be at least 1s and divide a minute")
	}
	if o.alertInterval < time.Second {
		errs = append(errs, "-alert-interval must be at least 1s")
	}
	if o.ports < 1 || o.channels < 1 || o.workers < 1 {
		errs = append(errs, "-ports, -channels and -workers must be at least 1")
	}
	if o.measure < o.alertInterval {
		errs = append(errs, "-measure must be at least -alert-interval")
	}
	if o.warmup < 0 || o.fireTimeout < 10*time.Second {
		errs = append(errs, "-warmup must not be negative and -fire-timeout must be at least 10s")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}
