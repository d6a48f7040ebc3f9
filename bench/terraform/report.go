package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Goals from issue 13.
const (
	goalPlanRatio   = 1.3 // aio_endpoint plan ÷ noop_thing plan, at 1,000 and 10,000
	goalApplyRatio  = 1.2 // aio_endpoint apply ÷ terraform_data apply, at 1,000
	goalRequestsPer = 1.0 // API requests per resource per refresh
	goalListP99     = 50 * time.Millisecond
	goalListAtLeast = 10000 // the list goal is set at 10,000 objects
)

func median(ms []measurement, f func(measurement) float64) float64 {
	v := make([]float64, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func report(out io.Writer, o options, res map[int]map[string][]measurement, lists []*listResult) {
	runs := []string{}
	for _, n := range o.sizes {
		runs = append(runs, fmt.Sprintf("%d at N=%d", o.repsOf(n), n))
	}
	fmt.Fprintf(out, "\nmedians of the runs (%s); plan = terraform plan right after the apply (a refresh of every resource, must be empty);\n",
		strings.Join(runs, ", "))
	fmt.Fprintln(out, "apply = terraform apply from an empty state; Terraform's default parallelism (10); one aiod dev for the whole run;")
	fmt.Fprintln(out, "CPU = user+system time of terraform and its provider processes (not aiod's): steadier than wall time on a busy machine;")
	fmt.Fprintln(out, "the goals are on wall time, as the issue sets them")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\top\tterraform_data\tnoop_thing\taio_endpoint\taio ÷ noop\taio ÷ terraform_data\trequests/resource\t")
	type goal struct {
		name string
		ok   bool
	}
	var goals []goal
	for _, n := range o.sizes {
		r := res[n]
		apply := func(m measurement) float64 { return m.apply.Seconds() }
		plan := func(m measurement) float64 { return m.plan.Seconds() }
		cell := func(kind string, f func(measurement) float64) (string, float64) {
			if len(r[kind]) == 0 {
				return "-", 0
			}
			if v := median(r[kind], f); v == 0 && r[kind][0].seeded {
				// A seeded state has no apply to show.
				return "seeded", 0
			}
			v := median(r[kind], f)
			return fmt.Sprintf("%.2fs", v), v
		}
		for _, op := range []struct {
			name string
			f    func(measurement) float64
		}{{"plan", plan}, {"apply", apply},
			{"plan CPU", func(m measurement) float64 { return m.planCPU.Seconds() }},
			{"apply CPU", func(m measurement) float64 { return m.applyCPU.Seconds() }}} {
			td, tdv := cell("terraform_data", op.f)
			nt, ntv := cell("noop_thing", op.f)
			ae, aev := cell("aio_endpoint", op.f)
			ratio := func(a, b float64) string {
				if a == 0 || b == 0 {
					return "-"
				}
				return fmt.Sprintf("%.2f×", a/b)
			}
			reqs := ""
			if op.name == "plan" && len(r["aio_endpoint"]) > 0 {
				rq := median(r["aio_endpoint"], func(m measurement) float64 { return m.planRequests }) / float64(n)
				reqs = fmt.Sprintf("%.3f", rq)
				goals = append(goals, goal{fmt.Sprintf("API requests per resource per refresh at N=%d: %.3f ≤ %.0f", n, rq, goalRequestsPer), rq <= goalRequestsPer})
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", n, op.name, td, nt, ae, ratio(aev, ntv), ratio(aev, tdv), reqs)
			if aev > 0 && ntv > 0 && op.name == "plan" && (n == 1000 || n == 10000) {
				goals = append(goals, goal{fmt.Sprintf("plan of %d: aio_endpoint %.2fs ÷ noop_thing %.2fs = %.2f× ≤ %.1f×", n, aev, ntv, aev/ntv, goalPlanRatio),
					aev/ntv <= goalPlanRatio})
			}
			if aev > 0 && tdv > 0 && op.name == "apply" && n == 1000 {
				goals = append(goals, goal{fmt.Sprintf("apply of %d: aio_endpoint %.2fs ÷ terraform_data %.2fs = %.2f× ≤ %.1f×", n, aev, tdv, aev/tdv, goalApplyRatio),
					aev/tdv <= goalApplyRatio})
			}
		}
		if len(r["aio_endpoint"]) > 0 {
			if th := median(r["aio_endpoint"], func(m measurement) float64 { return m.throttled }); th > 0 {
				fmt.Fprintf(tw, "%d\t\t\t\t%.0f requests throttled (429) per run\t\t\t\t\n", n, th)
			}
		}
	}
	_ = tw.Flush()

	if len(lists) > 0 {
		fmt.Fprintf(out, "\nlist API, pages of 100 (endpoints measured before the Terraform runs add theirs, the other kinds after the runs):\n")
		lw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(lw, "kind\tobjects\tfilter\tp50\tp99\tmax\trequests\tpages a walk\t")
		for _, l := range lists {
			for _, w := range []struct {
				filter string
				ds     []time.Duration
				pages  int
			}{{"none", l.all, l.allPages}, {l.filter, l.tagged, l.taggedPages}} {
				fmt.Fprintf(lw, "%s\t%d\t%s\t%.2f ms\t%.2f ms\t%.2f ms\t%d\t%d\t\n", l.kind, l.objects, w.filter,
					ms(quantile(w.ds, 0.5)), ms(quantile(w.ds, 0.99)), ms(quantile(w.ds, 1)), len(w.ds), w.pages)
			}
		}
		_ = lw.Flush()
		for _, l := range lists {
			suffix := ""
			if l.objects < goalListAtLeast {
				suffix = fmt.Sprintf(" (at %d objects, not the goal's 10,000)", l.objects)
			}
			all, filtered := quantile(l.all, 0.99), quantile(l.tagged, 0.99)
			goals = append(goals,
				goal{fmt.Sprintf("list p99 of %s without filter %.2f ms < %d ms%s", l.kind, ms(all), goalListP99.Milliseconds(), suffix), all < goalListP99},
				goal{fmt.Sprintf("list p99 of %s with %s %.2f ms < %d ms%s", l.kind, l.filter, ms(filtered), goalListP99.Milliseconds(), suffix), filtered < goalListP99})
		}
	}

	fmt.Fprintln(out, "\ngoals:")
	for _, g := range goals {
		fmt.Fprintf(out, "  %s  %s\n", verdict(g.ok), g.name)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
