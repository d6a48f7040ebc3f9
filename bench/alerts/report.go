package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aio-platform/terraform-provider-aio/bench/internal/benchsys"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/alerting"
)

// Goals from issue 10.
const (
	goalTickP99  = time.Second
	goalCPUShare = 0.15 // of one core
	goalDelivery = 5 * time.Second
)

// evaluatorShare is the evaluation's share of one core: the engine
// process's CPU rate with every threshold evaluated (phase 2) minus its
// rate with the same probes and none (phase 1), both over whole phases of
// several ticks. Per-goroutine CPU time is not something Go exposes, and
// the tick's own wall time would miss what it costs elsewhere (the garbage
// collector's background work for its allocations, the store's
// connections); the difference of two whole-process rates counts all of
// it. It also counts the probe engine's drift between the phases (a few
// thousandths of a core; the probe figures of both phases are printed to
// judge it), and the delivery worker's idle polls, which are alerting's
// too.
func evaluatorShare(r *result) float64 {
	return r.alerting.coresUsed() - r.probesOnly.coresUsed()
}

func report(out io.Writer, o options, r *result) {
	fmt.Fprintf(out, "\nbench-alerts: %d http monitors every %s (%.0f probes/s) with one alert threshold each (a fifth burn rates), evaluated every %s;\n",
		o.monitors, o.interval, float64(o.monitors)/o.interval.Seconds(), o.alertInterval)
	fmt.Fprintf(out, "%d signed webhook channels to a local receiver; targets and receiver in a separate process; GOMAXPROCS %d shared by both;\n",
		o.channels, runtime.GOMAXPROCS(0))
	hist := "none (-history=false)"
	if o.history {
		hist = fmt.Sprintf("%d rollups (every monitor's last 15 min of minutes; the burn-rate monitors' last 6 h of minutes and 73 h of hours)", r.seededRows)
	}
	fmt.Fprintf(out, "history seeded: %s; phases of %s each after a %s warm-up; load average at the end %s\n\n", hist, o.measure, o.warmup, loadAverage())

	p1, p2 := &r.probesOnly, &r.alerting
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t") }
	row("probe engine", "1. probes alone", "2. probes + alerting")
	row("probes completed per second", f1(float64(p1.completed)/p1.seconds()), f1(float64(p2.completed)/p2.seconds()))
	row("scheduling lag p50", dur(p1.lag.P50), dur(p2.lag.P50))
	row("scheduling lag p99", dur(p1.lag.P99), dur(p2.lag.P99))
	row("scheduling lag max", dur(p1.lag.Max), dur(p2.lag.Max))
	row("missed runs / down results", fmt.Sprintf("%d / %d", p1.missed, p1.down), fmt.Sprintf("%d / %d", p2.missed, p2.down))
	row("engine process CPU (cores)", f3(p1.coresUsed()), f3(p2.coresUsed()))
	row("targets' CPU meanwhile (cores)", f3(p1.targetsCPU.Seconds()/p1.seconds()), f3(p2.targetsCPU.Seconds()/p2.seconds()))
	_ = tw.Flush()

	var took []time.Duration
	thresholds := 0
	for _, t := range r.ticks {
		took = append(took, t.took)
		thresholds = max(thresholds, t.thresholds)
	}
	ts := benchsys.Summarize(took)
	fmt.Fprintf(out, "\nevaluation: %d ticks over %d thresholds (phase 2 and the failure phase; every %s one adopts the configuration reloaded between ticks): p50 %s, p99 %s, max %s; %d failed\n",
		ts.N, thresholds, alerting.DefaultReloadEvery, dur(ts.P50), dur(ts.P99), dur(ts.Max), r.tickErrors)
	// Every tick in order, so that a slow one can be placed (a reload's, a
	// minute's first tick, the failure phase's transitions).
	var each []string
	for _, t := range r.ticks {
		each = append(each, fmt.Sprintf("%s %s", t.at.UTC().Format("15:04:05"), dur(t.took)))
	}
	fmt.Fprintf(out, "  ticks (end, duration): %s\n", strings.Join(each, ", "))
	fmt.Fprintf(out, "  first tick after the %d thresholds were stored (%s): %s; evaluation's CPU: %s − %s = %s cores\n",
		o.monitors, r.thresholdsTook.Round(time.Millisecond), dur(r.loadTick.took), f3(p2.coresUsed()), f3(p1.coresUsed()), f3(evaluatorShare(r)))

	var delay, quant, pipe []time.Duration
	delivered, within := 0, 0
	for _, a := range r.arrivals {
		if a.received.IsZero() || a.due.IsZero() {
			continue
		}
		delivered++
		d := a.received.Sub(a.due)
		delay = append(delay, d)
		if d <= goalDelivery {
			within++
		}
		quant = append(quant, a.fired.Sub(a.due))
		pipe = append(pipe, a.received.Sub(a.fired))
	}
	ds, qs, ps := benchsys.Summarize(delay), benchsys.Summarize(quant), benchsys.Summarize(pipe)
	fmt.Fprintf(out, "\nfailure: %d targets failed at once; %d of their alerts' webhooks received within %s (%d alert events missing);\n",
		r.failing, delivered, r.waited.Round(time.Second), r.missingEvents)
	fmt.Fprintf(out, "  pending_for elapsed → webhook received: p50 %s, p99 %s, max %s\n", dur(ds.P50), dur(ds.P99), dur(ds.Max))
	fmt.Fprintf(out, "    of which pending_for elapsed → the tick that fired: p50 %s, max %s (ticks are %s apart)\n", dur(qs.P50), dur(qs.Max), o.alertInterval)
	fmt.Fprintf(out, "    and that tick → webhook received (store, outbox, send): p50 %s, p99 %s, max %s\n", dur(ps.P50), dur(ps.P99), dur(ps.Max))
	fmt.Fprintf(out, "  receiver: %d webhooks, %d duplicate deliveries, %d rejected signatures, %d for thresholds that were not failing; firing at the end: %v\n",
		r.received, r.duplicates, r.rejected, r.unexpected, r.firing)
	fmt.Fprintf(out, "  peak RSS %s; database %s\n", mb(r.peakRSSKB), mb(r.dbBytes>>10))

	// The CPU difference means something only while the engine gets
	// all the CPU it asks for: a starved process uses what it is given
	// in both phases, and the difference shrinks to nothing.
	due := float64(o.monitors) / o.interval.Seconds()
	starved := float64(p1.completed)/p1.seconds() < 0.98*due || float64(p2.completed)/p2.seconds() < 0.98*due
	if starved {
		fmt.Fprintf(out, "\nWARNING: the probe engine did not keep up with its %.0f probes/s in phase 1 or 2: the machine is too loaded for these figures (load average now %s)\n",
			due, loadAverage())
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
	note := ""
	if o.alertInterval != alerting.DefaultInterval {
		note = fmt.Sprintf(" (NOT the default tick: measured at %s)", o.alertInterval)
	}
	check(fmt.Sprintf("tick p99 < 1s over %d thresholds%s", o.monitors, note), fmt.Sprintf("%s (n=%d)", dur(ts.P99), ts.N),
		ts.N > 0 && ts.P99 < goalTickP99 && r.tickErrors == 0 && thresholds == o.monitors)
	cpuFigure := fmt.Sprintf("%.1f%%", evaluatorShare(r)*100)
	if starved {
		cpuFigure += " (not valid: the engine was starved of CPU)"
	}
	check("evaluation < 15% of one core", cpuFigure, evaluatorShare(r) < goalCPUShare && ts.N > 0 && !starved)
	check(fmt.Sprintf("%d/%d alerts delivered", r.failing, r.failing), fmt.Sprintf("%d/%d", delivered, r.failing),
		delivered == r.failing && r.failing > 0 && r.rejected == 0 && r.unexpected == 0)
	check("every webhook within 5s of pending_for elapsing", fmt.Sprintf("%d/%d, max %s", within, r.failing, dur(ds.Max)),
		within == r.failing && r.failing > 0)
	_ = tw.Flush()
}

// loadAverage is the machine's 1-, 5- and 15-minute load average.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func f3(v float64) string { return fmt.Sprintf("%.3f", v) }

func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)*1024/1e6) }

func dur(d time.Duration) string {
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%s%.2fs", neg, d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%s%.1fms", neg, float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%s%.0fµs", neg, float64(d)/float64(time.Microsecond))
	}
}
