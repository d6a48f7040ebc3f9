package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aio-platform/terraform-provider-aio/bench/internal/benchsys"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// Goals from issue 4, raised by issue 13 ("the probe engine at five times
// the first goal"): peak RSS under 400 MB at 50,000 monitors, CPU per probe
// at most 1.3× the raw loop's at the same rate, at most 10 result commits
// a second.
const (
	goalLagP99      = time.Second
	goalPeakRSS     = 400e6 // bytes (decimal MB)
	goalDelivery    = 0.999 // stored ÷ due; the window's edges move a few runs in or out
	goalCPURatio    = 1.3
	goalCommitsPerS = 10.0
)

func report(out io.Writer, o options, tg *benchsys.Targets, e *engineResult, b *baselineResult) {
	measure := o.measure.Seconds()
	dueRate := float64(o.monitors) / o.interval.Seconds()
	bMeasure := time.Duration(b.MeasureNS).Seconds()

	engRate := float64(e.stored) / measure
	baseRate := float64(b.Done) / bMeasure
	engCores := e.cpu.Seconds() / measure
	baseCores := time.Duration(b.CPUNS).Seconds() / bMeasure
	engCPUPer := perReq(e.cpu, e.stored)
	baseCPUPer := perReq(time.Duration(b.CPUNS), b.Done)
	engDown := e.storedByOut[api.OutcomeDown]

	fmt.Fprintf(out, "\nbench-probe: %d http monitors every %s = %.0f probes/s due; %d targets on 127.0.0.1 (separate process, pid %d);\n",
		o.monitors, o.interval, dueRate, len(tg.Ports), tg.Pid)
	fmt.Fprintf(out, "%d workers; GOMAXPROCS %d shared by engine, targets and baseline; keep-alive off in engine, baseline and targets;\n",
		o.workers, gomaxprocs())
	fmt.Fprintf(out, "engine: warm-up %s, measured %s; baseline (raw net/http client, separate process, run after the engine): warm-up %s, measured %s\n\n",
		o.warmup, o.measure, min(o.bwarmup, o.warmup), o.measure)

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t") }
	row("", "engine", "baseline", "engine/baseline")
	row("requests (probes) per second", f1(engRate), f1(baseRate), ratio(engRate, baseRate))
	row("  due in window", fmt.Sprint(e.due), fmt.Sprint(b.Due), "")
	row("  completed in window (stored for engine)", fmt.Sprint(e.stored), fmt.Sprint(b.Done), "")
	row("  failed (down / errors)", fmt.Sprint(engDown), fmt.Sprint(b.Errors), "")
	row("scheduling lag p50", dur(e.lag.P50), dur(b.Lag.P50), ratio(e.lag.P50.Seconds(), b.Lag.P50.Seconds()))
	row("scheduling lag p99", dur(e.lag.P99), dur(b.Lag.P99), ratio(e.lag.P99.Seconds(), b.Lag.P99.Seconds()))
	row("scheduling lag max", dur(e.lag.Max), dur(b.Lag.Max), ratio(e.lag.Max.Seconds(), b.Lag.Max.Seconds()))
	row("missed runs (engine: overlap/queue full; baseline: queue full)", fmt.Sprint(e.missed), fmt.Sprint(b.Missed), "")
	row("request latency p50", dur(e.latency.P50), dur(b.Latency.P50), ratio(e.latency.P50.Seconds(), b.Latency.P50.Seconds()))
	row("request latency p99", dur(e.latency.P99), dur(b.Latency.P99), ratio(e.latency.P99.Seconds(), b.Latency.P99.Seconds()))
	row("CPU of the process (cores)", f2(engCores), f2(baseCores), ratio(engCores, baseCores))
	row("CPU per request", dur(engCPUPer), dur(baseCPUPer), ratio(engCPUPer.Seconds(), baseCPUPer.Seconds()))
	row("targets' CPU meanwhile (cores)", f2(e.targetsCPU.Seconds()/measure), f2(time.Duration(b.TargetsNS).Seconds()/bMeasure), "")
	row("peak RSS (VmHWM)", mb(e.peakRSSKB), mb(b.PeakRSSKB), ratio(float64(e.peakRSSKB), float64(b.PeakRSSKB)))
	if b.CeilingNS > 0 {
		row(fmt.Sprintf("unpaced ceiling, %d workers, %s", o.workers, time.Duration(b.CeilingNS).Round(100*time.Millisecond)),
			"", fmt.Sprintf("%s req/s", f1(b.CeilingRate)), "")
		row("  baseline CPU / targets' CPU (cores)", "",
			fmt.Sprintf("%s / %s", f2(time.Duration(b.CeilingCPUNS).Seconds()/time.Duration(b.CeilingNS).Seconds()),
				f2(time.Duration(b.CeilingTgtNS).Seconds()/time.Duration(b.CeilingNS).Seconds())), "")
		row("  errors", "", fmt.Sprint(b.CeilingErrors), "")
	}
	_ = tw.Flush()

	fmt.Fprintf(out, "\nengine details: results in window by outcome %s; observer saw %d dispatched, %d completed (%s);\n",
		outcomes(e.storedByOut), e.dispatch, e.completed, outcomes(e.outcomes))
	fmt.Fprintf(out, "  missed runs stored in window %d, missed over the whole run %d; writer stored %d items, dropped %d;\n",
		e.storedMissed, e.missedTotal, e.written, e.dropped)
	fmt.Fprintf(out, "  RSS at end of window %s, Go heap in use %s, %d GCs in window; database %s; setup %s; stop %s; targets' peak RSS %s\n",
		mb(e.rssEndKB), mb(int64(e.heapInuse>>10)), e.numGC, mb(e.dbBytes>>10), e.setupTook.Round(time.Millisecond),
		e.stopTook.Round(time.Millisecond), mb(e.targetsRSSKB))
	var rl []string
	for _, r := range e.reloads {
		rl = append(rl, fmt.Sprintf("+%.1fs %s", r.at.Sub(e.start).Seconds(), dur(r.took)))
	}
	if len(rl) == 0 {
		rl = []string{"none"}
	}
	fmt.Fprintf(out, "  result batch writes in window: %d, p50 %s, p99 %s, max %s;\n", e.writeN, dur(e.writes.P50), dur(e.writes.P99), dur(e.writes.Max))
	fmt.Fprintf(out, "  other write transactions in window (API, alert states): %d, waited for the writer p50 %s, p99 %s, max %s; held it p50 %s, p99 %s, max %s;\n",
		e.apiWait.N, dur(e.apiWait.P50), dur(e.apiWait.P99), dur(e.apiWait.Max), dur(e.apiHold.P50), dur(e.apiHold.P99), dur(e.apiHold.Max))
	fmt.Fprintf(out, "  config reloads in window (the scheduler's and the alert evaluator's full reads of %d monitors + endpoints): %s; at start: %s\n",
		o.monitors, strings.Join(rl, ", "), dur(e.reloadIdle))
	fmt.Fprintf(out, "  lag spikes (runs dispatched ≥ %s late, grouped): %s\n", dur(spikeLag), e.describe)
	if bu := e.burst; bu != nil {
		fmt.Fprintf(out, "  burst: %d monitors created through the API in %s (%d clients, %d failed), POST p50 %s, p99 %s, max %s\n",
			bu.created, bu.took.Round(time.Millisecond), burstClients, bu.failed, dur(bu.post.P50), dur(bu.post.P99), dur(bu.post.Max))
		if bu.firstErr != "" {
			fmt.Fprintf(out, "  burst's first error: %s\n", bu.firstErr)
		}
	}
	if b.FirstError != "" {
		fmt.Fprintf(out, "  baseline's first error: %s\n", b.FirstError)
	}

	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	check := func(goal, figure string, ok bool) {
		verdict := "PASS"
		if !ok {
			verdict = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", goal, figure, verdict)
	}
	fmt.Fprintf(tw, "goal\tfigure\tresult\n")
	delivered := float64(e.stored) / float64(max(e.due, 1))
	check(fmt.Sprintf("all %.0f probes/s delivered (stored ÷ due ≥ %.1f%%, none dropped)", dueRate, goalDelivery*100),
		fmt.Sprintf("%s/s, %d/%d = %.2f%%, %d dropped", f1(engRate), e.stored, e.due, delivered*100, e.dropped),
		delivered >= goalDelivery && e.dropped == 0)
	check("scheduling lag p99 < 1s", dur(e.lag.P99), e.lag.N > 0 && e.lag.P99 < goalLagP99)
	check("no missed runs", fmt.Sprintf("%d in window, %d in whole run", e.missed, e.missedTotal), e.missed == 0 && e.missedTotal == 0)
	check("peak RSS < 400 MB (engine process: engine + store; targets separate)", mb(e.peakRSSKB), e.peakRSSKB > 0 && float64(e.peakRSSKB)*1024 < goalPeakRSS)
	cpuRatio := engCPUPer.Seconds() / max(baseCPUPer.Seconds(), 1e-12)
	check(fmt.Sprintf("CPU per probe ≤ %.1f× the raw loop's at the same rate", goalCPURatio),
		fmt.Sprintf("%s vs %s = %.2f×", dur(engCPUPer), dur(baseCPUPer), cpuRatio), e.stored > 0 && b.Done > 0 && cpuRatio <= goalCPURatio)
	if bu := e.burst; bu != nil {
		check(fmt.Sprintf("burst: %d monitors created, none failed, 0 results dropped", o.burst),
			fmt.Sprintf("%d created, %d failed, %d dropped", bu.created, bu.failed, e.dropped),
			bu.created == int64(o.burst) && bu.failed == 0 && e.dropped == 0)
		check("burst: POST /v1/monitors p99 < 100ms", fmt.Sprintf("p50 %s, p99 %s", dur(bu.post.P50), dur(bu.post.P99)),
			bu.post.N > 0 && bu.post.P99 < goalPostP99)
	}
	commits := float64(e.writeN) / measure
	check(fmt.Sprintf("result writes ≤ %.0f commits/s", goalCommitsPerS), fmt.Sprintf("%.1f/s", commits), commits <= goalCommitsPerS)
	_ = tw.Flush()
}

func perReq(d time.Duration, n int64) time.Duration {
	if n == 0 {
		return 0
	}
	return d / time.Duration(n)
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)*1024/1e6) }

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	}
}

func outcomes(m map[string]int64) string {
	var parts []string
	for _, k := range []string{api.OutcomeUp, api.OutcomeDegraded, api.OutcomeDown} {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
