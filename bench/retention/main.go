// Command retention is the result-store benchmark behind `make
// bench-retention` (issue 11, "Storage at full load"): at the probe
// engine's design load (N monitors every interval, 10,000 × 10 s = 1,000
// results a second) does the result store reach a steady state, and what
// does keeping it there cost?
//
// Waiting for days of results is not an option, so the benchmark simulates
// them:
//
//  1. Size. It stores -fill of synthetic results (every monitor once per
//     interval, with realistic values) through the real store's
//     WriteResults in batches of the writer's size, with times from a
//     simulated clock, then reads the bytes each table and index takes
//     from SQLite's dbstat table. Dividing by the row counts gives bytes
//     per stored row of each tier (raw results, minute and hour rollups),
//     and multiplying by the rows each tier holds at its default age gives
//     the steady-state size. The fill starts on the hour and is a whole
//     number of hours by default, so every rollup row is a full bucket.
//  2. Enforcement. It then writes in real time at the design rate for
//     -live, twice: once without retention, once with results.Retention
//     pruning every -prune-every at ages set so that as many rows age out
//     as are written (raw at the design rate, minute and hour rollups at
//     theirs). The difference of the process's CPU between the two phases
//     is enforcement's share of a core; the writer's batch latency and the
//     latency of small API write transactions in both phases show whether
//     enforcement starves them.
//  3. Probe lag. The real probe engine (scheduler and results writer)
//     then probes every monitor at the design rate against local targets
//     served by this binary in a second process (-targets), into the same
//     database, for -probe-live without and -probe-live with retention
//     pruning the remaining synthetic backlog, and prints the scheduling
//     lag (p50, p99, max) of both phases and whether the p99 with
//     retention is within noise of the p99 without (probelag.go).
//
// It exits 0 whether or not the goals are met, non-zero when it cannot run.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	_ "modernc.org/sqlite"

	"github.com/aio-platform/terraform-provider-aio/bench/internal/benchsys"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/results"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

type options struct {
	monitors   int
	sample     int
	interval   time.Duration
	fill       time.Duration
	live       time.Duration
	pruneEvery time.Duration
	batch      int
	keep       bool

	probeLive, probeWarmup time.Duration
	ports                  int
	targets                bool
	targetsMax             time.Duration

	rawAge, minuteAge, hourAge time.Duration
}

// Goals of issue 11.
const (
	goalSteadyBytes = 10e9 // the steady state fits in 10 GB (decimal, the stricter reading)
	goalCPUShare    = 0.10 // enforcement under 10 % of one core
)

func main() {
	var o options
	flag.IntVar(&o.monitors, "monitors", 10000, "monitors probed once per interval")
	flag.IntVar(&o.sample, "sample-monitors", 1000, "monitors of the size sample (bytes per row do not depend on their number)")
	flag.DurationVar(&o.interval, "interval", 10*time.Second, "probe interval of every monitor")
	flag.DurationVar(&o.fill, "fill", time.Hour, "simulated time of results stored to measure bytes per row")
	flag.DurationVar(&o.live, "live", 30*time.Second, "real time of each enforcement phase (without, then with pruning)")
	flag.DurationVar(&o.pruneEvery, "prune-every", 5*time.Second, "how often retention runs in the enforcement phase")
	flag.IntVar(&o.batch, "batch", results.DefaultPruneBatch, "rows per delete transaction")
	flag.BoolVar(&o.keep, "keep", false, "keep the database file")
	flag.DurationVar(&o.probeLive, "probe-live", 20*time.Second, "real time of each probe-lag phase (the engine probing local targets, without, then with pruning; 0: skip)")
	flag.DurationVar(&o.probeWarmup, "probe-warmup", 10*time.Second, "engine warm-up before the probe-lag phases")
	flag.IntVar(&o.ports, "ports", 16, "number of target ports on 127.0.0.1 for the probe-lag phases")
	flag.BoolVar(&o.targets, "targets", false, "internal: serve the targets and print their ports")
	flag.DurationVar(&o.targetsMax, "targets-max", time.Hour, "internal: the targets process exits after this long at most")
	flag.DurationVar(&o.rawAge, "raw-age", results.DefaultRawAge, "age of raw results for the steady-state arithmetic")
	flag.DurationVar(&o.minuteAge, "minute-age", results.DefaultMinuteAge, "age of minute rollups for the steady-state arithmetic")
	flag.DurationVar(&o.hourAge, "hour-age", results.DefaultHourAge, "age of hour rollups for the steady-state arithmetic")
	flag.Parse()
	if o.targets {
		if err := benchsys.ServeTargets(benchsys.TargetsConfig{Ports: o.ports, MaxLife: o.targetsMax}); err != nil {
			fmt.Fprintln(os.Stderr, "bench-retention targets:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-retention:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "bench-retention-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	path := filepath.Join(dir, "aio.db")
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer raw.Close()

	rate := float64(o.monitors) / o.interval.Seconds()
	fmt.Printf("bench-retention: %d monitors every %v = %.0f results/s; fill %v simulated, live phases %v each, prune every %v, batch %d\n",
		o.monitors, o.interval, rate, o.fill, o.live, o.pruneEvery, o.batch)
	// The local targets of the probe-lag phases come first: the monitors
	// point at them (the URL does not change what a result stores).
	var tg *benchsys.Targets
	if o.probeLive > 0 {
		if _, err := benchsys.RaiseNoFile(); err != nil {
			fmt.Fprintln(os.Stderr, "raising RLIMIT_NOFILE:", err)
		}
		// The probe-lag phases probe local targets in a second process, as
		// bench-probe does: in the engine's process they would take CPU
		// from the scheduler and blur its lag.
		if tg, err = benchsys.StartTargets(ctx, []string{"-targets", "-ports", strconv.Itoa(o.ports), "-targets-max", (2 * time.Hour).String()}, nil); err != nil {
			return err
		}
		defer tg.Stop()
	}
	ids, err := insertMonitors(ctx, st, o, tg)
	if err != nil {
		return err
	}
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	gs := &gen{ids: ids[:min(o.sample, len(ids))], interval: o.interval, t0: t0}

	// ---- 1. size ----
	start, cpu0 := time.Now(), cpuSelf()
	n, err := gs.fillTo(ctx, st, t0.Add(o.fill))
	if err != nil {
		return err
	}
	// The results writer writes a minute's rollups once it closed; the
	// sample's last minutes are written here, so that every tier holds
	// the whole simulated span.
	if err := st.WriteRollups(ctx, t0.Add(o.fill)); err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Printf("size sample: %d monitors, %v simulated: %d results stored in %.1f s (%.0f results/s, %.2f cores)\n",
		len(gs.ids), o.fill, n, el.Seconds(), float64(n)/el.Seconds(), (cpuSelf()-cpu0).Seconds()/el.Seconds())
	sz, err := measure(ctx, raw, path)
	if err != nil {
		return err
	}
	sz.print()

	// ---- steady state at the default ages ----
	steady := func(raw, minute, hour time.Duration) float64 {
		rawRows := rate * raw.Seconds()
		minRows := float64(o.monitors) * minute.Minutes()
		hourRows := float64(o.monitors) * hour.Hours()
		rawB, minB, hourB := rawRows*sz.perRow("raw"), minRows*sz.perRow("minute"), hourRows*sz.perRow("hour")
		total := rawB + minB + hourB
		fmt.Printf("\nsteady state at raw %s, minute %s, hour %s, %d monitors every %v:\n", showAge(raw), showAge(minute), showAge(hour), o.monitors, o.interval)
		fmt.Printf("  raw results    %-9s %11.0f rows x %6.1f B = %s\n", showAge(raw), rawRows, sz.perRow("raw"), gb(rawB))
		fmt.Printf("  minute rollups %-9s %11.0f rows x %6.1f B = %s\n", showAge(minute), minRows, sz.perRow("minute"), gb(minB))
		fmt.Printf("  hour rollups   %-9s %11.0f rows x %6.1f B = %s\n", showAge(hour), hourRows, sz.perRow("hour"), gb(hourB))
		fmt.Printf("  total                                            = %s\n", gb(total))
		return total
	}
	defaults := o.rawAge == results.DefaultRawAge && o.minuteAge == results.DefaultMinuteAge && o.hourAge == results.DefaultHourAge
	total := steady(results.DefaultRawAge, results.DefaultMinuteAge, results.DefaultHourAge)
	given := total
	if !defaults {
		given = steady(o.rawAge, o.minuteAge, o.hourAge)
	}

	// ---- 2. enforcement ----
	// The sample goes first, in batches as retention deletes: a backlog
	// deleted as fast as the store can.
	start, cpu0 = time.Now(), cpuSelf()
	var bulk int64
	for _, tier := range []string{store.TierRaw, store.TierMinute, store.TierHour} {
		for {
			d, err := st.DeleteResultsBefore(ctx, tier, t0.Add(o.fill), o.batch)
			if err != nil {
				return err
			}
			bulk += d
			if d < int64(o.batch) {
				break
			}
		}
	}
	el = time.Since(start)
	bulkCPU := cpuSelf() - cpu0
	// CPU per deleted row does not depend on how many cores the process
	// got on a shared machine, unlike rows per second: times the rows that
	// age out per second at the design rate (raw results, minute rollups
	// and hour rollups), it is enforcement's share of a core.
	perRow := bulkCPU / time.Duration(max(bulk, 1))
	steadyRows := rate + float64(o.monitors)/60 + float64(o.monitors)/3600
	steadyShare := perRow.Seconds() * steadyRows
	fmt.Printf("\nbacklog: the sample's %d rows (all tiers) deleted in batches of %d in %.1f s: %.0f rows/s, %.2f cores, %v CPU per row\n",
		bulk, o.batch, el.Seconds(), float64(bulk)/el.Seconds(), bulkCPU.Seconds()/el.Seconds(), perRow.Round(100*time.Nanosecond))
	fmt.Printf("  at the design rate %.0f rows/s age out (raw, minute, hour): %.1f %% of a core\n", steadyRows, steadyShare*100)
	// A pass that deleted anything then erases the residue: every page of
	// the file read, those with stale bytes written. Its CPU per byte of
	// file, times the steady-state size, once per default pass interval.
	var pages, pageSize int64
	if err := raw.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return err
	}
	if err := raw.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		return err
	}
	start, cpu0 = time.Now(), cpuSelf()
	if err := st.EraseResidue(ctx); err != nil {
		return fmt.Errorf("erase residue: %w", err)
	}
	el, eraseCPU := time.Since(start), cpuSelf()-cpu0
	fileBytes := float64(pages * pageSize)
	eraseShare := eraseCPU.Seconds() / fileBytes * total / retention.DefaultInterval.Seconds()
	fmt.Printf("residue erasure after the backlog: %d pages (%s) read in %.1f s, %.2f s CPU (%.0f MB/s of CPU); at the steady state's %s once every %v: %.1f %% of a core\n",
		pages, gb(fileBytes), el.Seconds(), eraseCPU.Seconds(), fileBytes/1e6/eraseCPU.Seconds(), gb(total), retention.DefaultInterval, eraseShare*100)

	// Then results of every monitor at the design rate, enough to age out
	// during the phase with retention.
	g := &gen{ids: ids, interval: o.interval, t0: t0.Add(o.fill)}
	if _, err := g.fillTo(ctx, st, g.t0.Add(2*o.live+time.Minute)); err != nil {
		return err
	}
	fmt.Printf("enforcement: %v writing %.0f results/s in real time without retention, then %v with it\n", o.live, rate, o.live)
	a, err := g.livePhase(ctx, st, o, nil)
	if err != nil {
		return err
	}
	// Ages such that rows age out as fast as they are written: the
	// horizon starts where the results of every monitor start and moves
	// with the simulated clock. Minute rollups age out with the raw rows
	// (a bucket is long complete by then); hour rollups keep their default
	// age, as a scaled one would delete the hour still being written. At
	// 10,000 monitors they age out at 2.8 rows a second, in a burst each
	// hour that this phase does not see.
	age := g.now.Sub(g.t0)
	ret := results.NewRetention(st, results.RetentionConfig{RawAge: age, MinuteAge: age, Batch: o.batch})
	b, err := g.livePhase(ctx, st, o, ret)
	if err != nil {
		return err
	}
	a.print("without retention")
	b.print("with retention")
	delRate := float64(b.deleted.Raw) / b.wall.Seconds()
	share := (b.cpu - a.cpu).Seconds() / b.wall.Seconds()
	if b.pruneWall > 0 {
		fmt.Printf("  enforcement: deleted raw %d, minute %d, hour %d in %d runs; %.0f raw rows/s over the phase, %.0f rows/s while running (%.2f s busy)\n",
			b.deleted.Raw, b.deleted.Minute, b.deleted.Hour, b.runs, delRate,
			float64(b.deleted.Total())/b.pruneWall.Seconds(), b.pruneWall.Seconds())
	}
	var la, lb lagPhase
	if tg != nil {
		fmt.Printf("\nprobe lag: the engine (scheduler + results writer) probing %d monitors on 127.0.0.1 every %v (%.0f runs/s) into the same database; %v warm-up, %v without retention, then %v with it pruning every %v\n",
			o.monitors, o.interval, rate, o.probeWarmup, o.probeLive, o.probeLive, o.pruneEvery)
		if la, lb, err = probeLag(ctx, st, raw, g, o, tg); err != nil {
			return fmt.Errorf("probe lag: %w", err)
		}
		la.print("without retention")
		lb.print("with retention")
	}
	agedOut := rate * b.wall.Seconds()
	fmt.Printf("\n%-58s %-22s %-14s %s\n", "goal", "measured", "target", "verdict")
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	row := func(goal, got, want string, ok bool) {
		fmt.Printf("%-58s %-22s %-14s %s\n", goal, got, want, verdict(ok))
	}
	row("bytes on disk per raw result (table + indexes)", fmt.Sprintf("%.1f B", sz.perRow("raw")), "-", true)
	row(fmt.Sprintf("steady state at the default ages (%s, %s, %s)", showAge(results.DefaultRawAge), showAge(results.DefaultMinuteAge), showAge(results.DefaultHourAge)),
		fmt.Sprintf("%.2f GB", total/1e9), "<= 10 GB", total <= goalSteadyBytes)
	if !defaults {
		row("steady state at the ages given", fmt.Sprintf("%.2f GB", given/1e9), "<= 10 GB", given <= goalSteadyBytes)
	}
	// As many rows age out in the phase as are written in it; the last
	// run sees those up to at most one prune interval before the end.
	paced := float64(b.deleted.Raw) >= agedOut-rate*o.pruneEvery.Seconds()*1.5
	row("enforcement keeps pace (raw rows deleted / aged out)", fmt.Sprintf("%d / %.0f", b.deleted.Raw, agedOut),
		"all but 1 run", paced)
	row("enforcement CPU (CPU per deleted row x rows aging out/s)", fmt.Sprintf("%.1f %% of a core", steadyShare*100), "< 10 %",
		steadyShare < goalCPUShare)
	row(fmt.Sprintf("enforcement CPU with the residue erasure every %v", retention.DefaultInterval), fmt.Sprintf("%.1f %% of a core", (steadyShare+eraseShare)*100), "< 10 %",
		steadyShare+eraseShare < goalCPUShare)
	row("enforcement CPU (extra CPU of the phase with retention)", fmt.Sprintf("%.1f %% of a core", share*100), "< 10 %", share < goalCPUShare)
	row("writer batch p99, with vs without retention", fmt.Sprintf("%v vs %v", b.batchP(0.99), a.batchP(0.99)), "within noise",
		b.batchP(0.99) <= 2*a.batchP(0.99)+20*time.Millisecond)
	row("API write p99, with vs without retention", fmt.Sprintf("%v vs %v", b.apiP(0.99), a.apiP(0.99)), "within noise",
		b.apiP(0.99) <= 2*a.apiP(0.99)+20*time.Millisecond)
	if tg != nil {
		row("probe lag p99 with vs without retention (scheduler)", fmt.Sprintf("%v vs %v", lb.lag.P99.Round(10*time.Microsecond), la.lag.P99.Round(10*time.Microsecond)),
			fmt.Sprintf("<=%.1fx or +%v", lagNoiseRatio, lagNoiseSlack), lagWithinNoise(lb.lag.P99, la.lag.P99))
	}
	fmt.Printf("load average during the run: %s\n", loadavg())
	return nil
}

// ---- synthetic data ----

type gen struct {
	ids      []string
	interval time.Duration
	t0, now  time.Time
	rng      *mrand.Rand
	// sim is the simulated now of a live phase (Unix nanoseconds), read
	// by the pruning goroutine.
	sim atomic.Int64
}

func insertMonitors(ctx context.Context, st store.Store, o options, tg *benchsys.Targets) ([]string, error) {
	n := o.monitors
	ids := make([]string, n)
	now := time.Now().UTC()
	enabled, interval := true, o.interval.String()
	for base := 0; base < n; base += 500 {
		err := st.Write(ctx, func(tx store.Tx) error {
			for i := base; i < min(base+500, n); i++ {
				// IDs as long as real ones (prefix and 26 random characters).
				ep := api.Endpoint{Meta: api.Meta{ID: api.PrefixEndpoint + rand.Text(), Revision: 1, CreatedAt: now, UpdatedAt: now},
					Name: fmt.Sprintf("bench-endpoint-%06d", i), URL: targetURL(tg, i),
					DataClassification: api.ClassInternal}
				if err := tx.InsertEndpoint(ctx, ep); err != nil {
					return err
				}
				ids[i] = api.PrefixMonitor + rand.Text()
				m := api.Monitor{Meta: api.Meta{ID: ids[i], Revision: 1, CreatedAt: now, UpdatedAt: now},
					Name: fmt.Sprintf("bench-monitor-%06d", i), EndpointID: ep.ID, Type: api.MonitorHTTP,
					Enabled: &enabled, Interval: &interval}
				if err := tx.InsertMonitor(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// targetURL is monitor i's URL: a local target of the probe-lag phases,
// round-robin over the ports, or a name the engine never probes.
func targetURL(tg *benchsys.Targets, i int) string {
	if tg == nil {
		return fmt.Sprintf("https://service-%d.example.com/health", i)
	}
	return fmt.Sprintf("http://127.0.0.1:%d/health/%d", tg.Ports[i%len(tg.Ports)], i)
}

// result is what an HTTPS probe of a healthy service stores: timings with
// microsecond detail, a status, a certificate; one in 200 fails with an
// error message.
func (g *gen) result(id string, at time.Time) api.ProbeResult {
	r := g.rng
	dns, conn, tls := 0.2+r.Float64()*3, 0.5+r.Float64()*20, 2+r.Float64()*30
	fb := tls + conn + dns + 5 + r.ExpFloat64()*40
	lat := fb + r.Float64()*5
	cert := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	res := api.ProbeResult{MonitorID: id, Time: at, Outcome: api.OutcomeUp, StatusCode: new(200), LatencyMS: lat,
		DNSMS: &dns, ConnectMS: &conn, TLSMS: &tls, FirstByteMS: &fb, TLSCertExpiresAt: &cert,
		BytesReceived: int64(200 + r.IntN(2000)), Attempts: 1}
	if r.IntN(200) == 0 {
		msg := "dial tcp 10.0.3.17:443: connect: connection refused"
		res = api.ProbeResult{MonitorID: id, Time: at, Outcome: api.OutcomeDown, LatencyMS: conn, DNSMS: &dns,
			Attempts: 2, Error: &msg}
	}
	return res
}

// fillTo stores every monitor's results from g.now (g.t0 at first) up to
// end, monitor i at phase i/monitors of the interval, in batches of the
// writer's size.
func (g *gen) fillTo(ctx context.Context, st store.ResultStore, end time.Time) (int, error) {
	if g.rng == nil {
		g.rng = mrand.New(mrand.NewPCG(1, 2))
		g.now = g.t0
	}
	batch := make([]api.ProbeResult, 0, results.DefaultMaxBatch)
	n := 0
	step := g.interval / time.Duration(len(g.ids))
	for ; g.now.Before(end); g.now = g.now.Add(g.interval) {
		for i, id := range g.ids {
			batch = append(batch, g.result(id, g.now.Add(time.Duration(i)*step)))
			if len(batch) == cap(batch) {
				if err := st.WriteResults(ctx, batch, nil); err != nil {
					return n, err
				}
				n += len(batch)
				batch = batch[:0]
			}
		}
	}
	if len(batch) > 0 {
		if err := st.WriteResults(ctx, batch, nil); err != nil {
			return n, err
		}
		n += len(batch)
	}
	return n, nil
}

// ---- sizes ----

type sizes struct {
	bytes map[string]int64 // per tier: table and its indexes
	rows  map[string]int64
	parts []string
	file  int64
}

var tierTables = map[string][]string{
	"raw":    {"probe_results", "missed_runs"},
	"minute": {"rollups_minute"},
	"hour":   {"rollups_hour"},
}

func (s sizes) perRow(tier string) float64 {
	if s.rows[tier] == 0 {
		return 0
	}
	return float64(s.bytes[tier]) / float64(s.rows[tier])
}

func measure(ctx context.Context, db *sql.DB, path string) (sizes, error) {
	s := sizes{bytes: map[string]int64{}, rows: map[string]int64{}}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return s, err
	}
	rows, err := db.QueryContext(ctx, `SELECT d.name, COALESCE(m.tbl_name, d.name), SUM(d.pgsize), SUM(d.payload), SUM(d.unused)
		FROM dbstat d LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY d.name ORDER BY SUM(d.pgsize) DESC`)
	if err != nil {
		return s, fmt.Errorf("dbstat (is the dbstat table compiled in?): %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name, table           string
			size, payload, unused int64
		)
		if err := rows.Scan(&name, &table, &size, &payload, &unused); err != nil {
			return s, err
		}
		for tier, tables := range tierTables {
			if slices.Contains(tables, table) {
				s.bytes[tier] += size
				s.parts = append(s.parts, fmt.Sprintf("  %-28s %-7s %10.1f MiB (payload %5.1f %%, unused %4.1f %%)",
					name, tier, float64(size)/(1<<20), 100*float64(payload)/float64(size), 100*float64(unused)/float64(size)))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	for tier, tables := range tierTables {
		for _, t := range tables {
			var n int64
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
				return s, err
			}
			s.rows[tier] += n
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return s, err
	}
	s.file = fi.Size()
	return s, nil
}

func (s sizes) print() {
	fmt.Printf("database file %.1f MiB; tables and indexes of the results:\n", float64(s.file)/(1<<20))
	for _, p := range s.parts {
		fmt.Println(p)
	}
	for _, tier := range []string{"raw", "minute", "hour"} {
		fmt.Printf("  %-7s %10d rows, %8.1f bytes per row (table + indexes)\n", tier, s.rows[tier], s.perRow(tier))
	}
}

// showAge prints a tier's age in whole days or hours when it is one.
func showAge(d time.Duration) string {
	switch {
	case d >= 72*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// gb prints a size in decimal gigabytes (the goal's unit) and in GiB.
func gb(b float64) string { return fmt.Sprintf("%.2f GB (%.2f GiB)", b/1e9, b/(1<<30)) }

// ---- live phases ----

type phase struct {
	wall, cpu, pruneWall time.Duration
	written              int
	batches, api         []time.Duration
	deleted              results.Pruned
	runs                 int
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))].Round(10 * time.Microsecond)
}

func (p phase) batchP(q float64) time.Duration { return pct(p.batches, q) }
func (p phase) apiP(q float64) time.Duration   { return pct(p.api, q) }

func (p phase) print(name string) {
	fmt.Printf("  %-18s %d results in %.1f s; CPU %.2f cores; writer batch p50 %v p99 %v max %v; API write p50 %v p99 %v max %v\n",
		name, p.written, p.wall.Seconds(), p.cpu.Seconds()/p.wall.Seconds(), p.batchP(0.5), p.batchP(0.99), p.batchP(1),
		p.apiP(0.5), p.apiP(0.99), p.apiP(1))
}

// livePhase writes at the design rate in real time for o.live: every
// tick, the results due since the last tick (the simulated clock moves
// with the real one). A small API write (a monitor's update) runs every
// 50 ms beside it, and ret, when set, prunes every o.pruneEvery at the
// simulated now.
func (g *gen) livePhase(ctx context.Context, st store.Store, o options, ret *results.Retention) (phase, error) {
	var p phase
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	apiDone := make(chan []time.Duration, 1)
	go func() {
		var lat []time.Duration
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				apiDone <- lat
				return
			case <-t.C:
			}
			s := time.Now()
			err := st.Write(ctx, func(tx store.Tx) error {
				m, err := tx.GetMonitor(ctx, g.ids[i%len(g.ids)])
				if err != nil {
					return err
				}
				m.Tags = map[string]string{"touched": fmt.Sprint(i)}
				m.Revision++
				return tx.UpdateMonitor(ctx, m)
			})
			if err == nil {
				lat = append(lat, time.Since(s))
			}
		}
	}()
	pruneDone := make(chan struct{})
	var pruneErr error
	go func() {
		defer close(pruneDone)
		if ret == nil {
			return
		}
		t := time.NewTicker(o.pruneEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			s := time.Now()
			d, err := ret.Prune(ctx, time.Unix(0, g.sim.Load()).UTC())
			if err != nil {
				if ctx.Err() == nil {
					pruneErr = err
				}
				return
			}
			p.pruneWall += time.Since(s)
			p.deleted.Raw += d.Raw
			p.deleted.Minute += d.Minute
			p.deleted.Hour += d.Hour
			p.deleted.Orphans += d.Orphans
			p.runs++
		}
	}()

	start, cpu0 := time.Now(), cpuSelf()
	simStart := g.now
	g.sim.Store(simStart.UnixNano())
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	step := g.interval / time.Duration(len(g.ids))
	next := 0 // the next monitor due in the current interval
	batch := make([]api.ProbeResult, 0, results.DefaultMaxBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		s := time.Now()
		if err := st.WriteResults(ctx, batch, nil); err != nil {
			return err
		}
		p.batches = append(p.batches, time.Since(s))
		p.written += len(batch)
		batch = batch[:0]
		return nil
	}
	for time.Since(start) < o.live {
		<-tick.C
		simNow := simStart.Add(time.Since(start))
		g.sim.Store(simNow.UnixNano())
		for {
			at := g.now.Add(time.Duration(next) * step)
			if !at.Before(simNow) {
				break
			}
			batch = append(batch, g.result(g.ids[next], at))
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return p, err
				}
			}
			if next++; next == len(g.ids) {
				next, g.now = 0, g.now.Add(g.interval)
			}
		}
		// The writer stores what is pending at least every second.
		if len(batch) > 0 && time.Since(start)%time.Second < 100*time.Millisecond {
			if err := flush(); err != nil {
				return p, err
			}
		}
	}
	if err := flush(); err != nil {
		return p, err
	}
	// Finish the interval in progress so that the next phase starts on
	// an interval boundary.
	for ; next > 0 && next < len(g.ids); next++ {
		batch = append(batch, g.result(g.ids[next], g.now.Add(time.Duration(next)*step)))
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return p, err
			}
		}
	}
	if next > 0 {
		g.now = g.now.Add(g.interval)
	}
	if err := flush(); err != nil {
		return p, err
	}
	p.wall, p.cpu = time.Since(start), cpuSelf()-cpu0
	cancel()
	p.api = <-apiDone
	<-pruneDone
	return p, pruneErr
}

// ---- process ----

func cpuSelf() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadavg() string {
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
