package store

// Result scenarios of the store contract: probe results, their rollups,
// the figures over a window and retention. TestContractResults
// (backends_test.go) runs them on every backend.
//
// The fixture is hand-made so that every count can be worked out on paper:
// monitor resA is probed every 10 s for 3 hours from resBase, 250 ms past
// each 10 s mark; probe i is the (i mod 6)-th of its minute (its slot) in
// hour i/360:
//
//	slot 0, 1  up,       attempts 1, 1000 bytes
//	slot 2     up        (down, attempts 1, 0 bytes, in hour 1)
//	slot 3     degraded, attempts 1, 2000 bytes
//	slot 4     degraded, attempts 2, 2000 bytes (passed after a retry)
//	slot 5     down,     attempts 3,    0 bytes
//
// so a minute of hours 0 and 2 holds 3 up, 2 degraded, 1 down, 2 retried
// and 7000 bytes; a minute of hour 1 holds 2 up, 2 degraded, 2 down,
// 2 retried and 6000 bytes. Missed runs of resA: 0:10:30, 1:05:00, 2:30:05
// and 2:59:59. Monitor resB (10 down probes and one missed run in the
// first ten minutes) must never show up in resA's figures.

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/stats"
)

// runResultsContract runs every result scenario. open must return a store
// on a new, empty database each time it is called (BatchingInvariance calls
// it twice), closed with t.Cleanup.
func runResultsContract(t *testing.T, open func(t *testing.T) Store) {
	for _, sc := range []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) Store)
	}{
		{"Figures", testResultsFigures},
		{"State", testResultsState},
		{"ListPaging", testResultsListPaging},
		{"ListRoundTrip", testResultsListRoundTrip},
		{"BatchingInvariance", testResultsBatchingInvariance},
		{"DeleteBefore", testResultsDeleteBefore},
		{"DeleteMonitorBefore", testResultsDeleteMonitorBefore},
		{"HorizonFallback", testResultsHorizonFallback},
		{"DeleteMonitorData", testResultsDeleteMonitorData},
		{"DeleteOrphans", testResultsDeleteOrphans},
		{"BadCursor", testResultsBadCursor},
		{"LatestOutcomes", testResultsLatestOutcomes},
		{"WindowRollups", testResultsWindowRollups},
		{"WindowCountsLateWrites", testResultsWindowCountsLateWrites},
		{"ReadWindows", testResultsReadWindows},
		{"WindowCountsSliding", testResultsWindowCountsSliding},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, open) })
	}
}

// ---- fixture ----

const (
	resA = "mon_a"
	resB = "mon_b"
)

var resBase = time.Date(2025, time.March, 14, 12, 0, 0, 0, time.UTC)

// resAt returns resBase plus h hours, m minutes, s seconds and ms milliseconds.
func resAt(h, m, s, ms int) time.Time {
	return resBase.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(ms)*time.Millisecond)
}

const resProbes = 1080

func resProbe(i int) api.ProbeResult {
	slot, hour := i%6, i/360
	r := api.ProbeResult{
		MonitorID: resA,
		Time:      resBase.Add(time.Duration(i)*10*time.Second + 250*time.Millisecond),
		Attempts:  1,
		// Multiples of 0.25 add up exactly in floating point.
		LatencyMS: 20 + float64((i*37)%101) + 0.25,
		DNSMS:     new(1.5),
		ConnectMS: new(2.25),
	}
	switch {
	case slot <= 1 || slot == 2 && hour != 1:
		r.Outcome, r.BytesReceived = api.OutcomeUp, 1000
	case slot == 2: // hour 1
		r.Outcome = api.OutcomeDown
	case slot == 3:
		r.Outcome, r.BytesReceived = api.OutcomeDegraded, 2000
	case slot == 4:
		r.Outcome, r.BytesReceived, r.Attempts = api.OutcomeDegraded, 2000, 2
	case slot == 5:
		r.Outcome, r.Attempts = api.OutcomeDown, 3
	}
	if r.Outcome == api.OutcomeDown {
		r.LatencyMS = 5000 + float64(i%3)*0.5
		r.StatusCode = new(503)
		r.Error = new(fmt.Sprintf("status 503 on probe %d", i))
		r.BodyExcerpt = new("unavailable")
	} else {
		r.StatusCode = new(200)
		r.TLSMS = new(3.0)
		r.FirstByteMS = new(10.75)
		r.TLSCertExpiresAt = new(resBase.Add(30*24*time.Hour + time.Duration(hour)*time.Hour))
	}
	return r
}

var resMissedA = []time.Time{resAt(0, 10, 30, 0), resAt(1, 5, 0, 0), resAt(2, 30, 5, 0), resAt(2, 59, 59, 0)}

type resFixtureData struct {
	results []api.ProbeResult
	missed  []MissedRun
}

func resFixture() resFixtureData {
	var f resFixtureData
	for i := range resProbes {
		f.results = append(f.results, resProbe(i))
	}
	for i := range 10 {
		f.results = append(f.results, api.ProbeResult{
			MonitorID: resB, Time: resAt(0, i, 5, 0), Outcome: api.OutcomeDown, LatencyMS: 99999, BytesReceived: 5, Attempts: 4,
		})
	}
	for _, tm := range resMissedA {
		f.missed = append(f.missed, MissedRun{MonitorID: resA, Time: tm})
	}
	f.missed = append(f.missed, MissedRun{MonitorID: resB, Time: resAt(0, 0, 30, 0)})
	return f
}

func resWrite(t *testing.T, s Store, results []api.ProbeResult, missed []MissedRun) {
	t.Helper()
	if err := s.WriteResults(t.Context(), results, missed); err != nil {
		t.Fatalf("WriteResults: %v", err)
	}
}

func resWriteFixture(t *testing.T, s Store) resFixtureData {
	t.Helper()
	f := resFixture()
	resWrite(t, s, f.results, f.missed)
	return f
}

// resCounts are the hand-computed counts of a window.
type resCounts struct {
	probes, up, degraded, down, retried, missed, bytes int64
}

func resStatus(t *testing.T, s Store, monitorID string, from, to time.Time) (stats.Rollup, MonitorState) {
	t.Helper()
	r, st, err := s.MonitorStatus(t.Context(), monitorID, from, to)
	if err != nil {
		t.Fatalf("MonitorStatus(%s, %v, %v): %v", monitorID, from, to, err)
	}
	return r, st
}

func resCheckCounts(t *testing.T, what string, got stats.Rollup, want resCounts) {
	t.Helper()
	g := resCounts{got.Probes, got.Up, got.Degraded, got.Down, got.Retried, got.Missed, got.Bytes}
	if g != want {
		t.Errorf("%s: counts should've been %+v, got %+v", what, want, g)
	}
	if got.Latency.Count() != uint64(got.Probes) {
		t.Errorf("%s: the histogram should've counted %d latencies, got %d", what, got.Probes, got.Latency.Count())
	}
}

// resExactLatencies returns the sorted latencies of the fixture's probes of
// resA with from <= time < to.
func resExactLatencies(from, to time.Time) []float64 {
	var out []float64
	for i := range resProbes {
		if r := resProbe(i); !r.Time.Before(from) && r.Time.Before(to) {
			out = append(out, r.LatencyMS)
		}
	}
	slices.Sort(out)
	return out
}

// resNearestRank is the value of rank ceil(pct·n/100), in integers.
func resNearestRank(sorted []float64, pct int) float64 {
	return sorted[max((pct*len(sorted)+99)/100, 1)-1]
}

func resClose(t *testing.T, what string, got *float64, want, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s should've been %v, got nil", what, want)
		return
	}
	if math.Abs(*got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s should've been %v (± %g relative), got %v", what, want, tol, *got)
	}
}

// ---- scenarios ----

func testResultsFigures(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	resWriteFixture(t, s)

	for _, w := range []struct {
		name     string
		from, to time.Time
		want     resCounts
	}{
		// Aligned minute 2:30: probes 900..905, slots 0-5 of hour 2; the
		// missed run at 2:30:05.
		{"1m aligned", resAt(2, 30, 0, 0), resAt(2, 31, 0, 0), resCounts{6, 3, 2, 1, 2, 1, 7000}},
		// 1:10:30 to 1:11:30 (raw only): probes 423..428 = slots 3,4,5,0,1,2
		// of hour 1: up 0,1; degraded 3,4; down 5,2; retried 4,5.
		{"1m unaligned", resAt(1, 10, 30, 0), resAt(1, 11, 30, 0), resCounts{6, 2, 2, 2, 2, 0, 6000}},
		// 0:10:15 to 0:15:20.250 (the end is probe 92's time, excluded):
		// probes 62..91, five whole cycles of hour 0; missed 0:10:30.
		{"5m unaligned", resAt(0, 10, 15, 0), resAt(0, 15, 20, 250), resCounts{30, 15, 10, 5, 10, 1, 35000}},
		// 1:59:40.250 (probe 718's time, included) to 2:04:40.250 (probe
		// 748, excluded): 718 (slot 4) and 719 (slot 5) of hour 1, then 720..747
		// of hour 2 (four cycles and slots 0-3): up 12+3, degraded 1+8+1,
		// down 1+4, retried 2+8.
		{"5m across hours", resAt(1, 59, 40, 250), resAt(2, 4, 40, 250), resCounts{30, 15, 10, 5, 10, 0, 35000}},
		// 30 minutes of hour 0 (90 up, 60 degraded, 30 down) and 30 of hour 1
		// (60, 60, 60); 2 retried a minute; missed 1:05.
		{"1h aligned", resAt(0, 30, 0, 0), resAt(1, 30, 0, 0), resCounts{360, 150, 120, 90, 120, 1, 390000}},
		// One probe fewer at the start (180: up), one more at the end (540: up).
		{"1h unaligned", resAt(0, 30, 7, 0), resAt(1, 30, 7, 0), resCounts{360, 150, 120, 90, 120, 1, 390000}},
		// Hours 0, 1, 2: up 180+120+180, degraded 120·3, down 60+120+60.
		{"3h", resAt(0, 0, 0, 0), resAt(3, 0, 0, 0), resCounts{1080, 480, 360, 240, 360, 4, 1200000}},
		{"72h", resAt(3-72, 0, 0, 0), resAt(3, 0, 0, 0), resCounts{1080, 480, 360, 240, 360, 4, 1200000}},
		// Up to 2:30:15: hours 0 and 1, minutes 0..29 of hour 2 (90 up, 60
		// degraded, 30 down, 60 retried) and probes 900, 901 (up); missed
		// 0:10:30, 1:05, 2:30:05.
		{"72h unaligned", resAt(2-72, 30, 15, 0), resAt(2, 30, 15, 0), resCounts{902, 392, 300, 210, 300, 3, 992000}},
		{"empty", resAt(5, 0, 0, 0), resAt(6, 0, 0, 0), resCounts{}},
		{"before the data", resAt(-2, 0, 0, 0), resAt(0, 0, 0, 0), resCounts{}},
	} {
		t.Run(w.name, func(t *testing.T) {
			got, _ := resStatus(t, s, resA, w.from, w.to)
			resCheckCounts(t, w.name, got, w.want)
			window := w.to.Sub(w.from)
			st := stats.Status(&got, window)
			if st.Probes != w.want.probes || st.Missed != w.want.missed {
				t.Errorf("status probes %d missed %d", st.Probes, st.Missed)
			}
			if w.want.probes == 0 {
				for name, f := range map[string]*float64{
					"availability": st.AvailabilityPercent, "error rate": st.ErrorRatePercent, "retry rate": st.RetryRatePercent,
					"latency avg": st.LatencyAvgMS, "p95": st.LatencyP95MS, "p99": st.LatencyP99MS,
					"probes per minute": st.ProbesPerMinute, "bytes per minute": st.BytesPerMinute,
				} {
					if f != nil {
						t.Errorf("%s should've been nil without probes, got %v", name, *f)
					}
				}
				return
			}
			n := float64(w.want.probes)
			minutes := window.Minutes()
			resClose(t, "availability", st.AvailabilityPercent, float64(w.want.up+w.want.degraded)*100/n, 1e-12)
			resClose(t, "error rate", st.ErrorRatePercent, float64(w.want.down)*100/n, 1e-12)
			resClose(t, "retry rate", st.RetryRatePercent, float64(w.want.retried)*100/n, 1e-12)
			resClose(t, "probes per minute", st.ProbesPerMinute, n/minutes, 1e-12)
			resClose(t, "bytes per minute", st.BytesPerMinute, float64(w.want.bytes)/minutes, 1e-12)
			lat := resExactLatencies(w.from, w.to)
			if len(lat) != int(w.want.probes) {
				t.Fatalf("the fixture holds %d probes in the window, the hand count says %d", len(lat), w.want.probes)
			}
			var sum float64
			for _, v := range lat {
				sum += v
			}
			resClose(t, "latency avg", st.LatencyAvgMS, sum/n, 1e-12)
			resClose(t, "p95", st.LatencyP95MS, resNearestRank(lat, 95), 0.01)
			resClose(t, "p99", st.LatencyP99MS, resNearestRank(lat, 99), 0.01)
		})
	}

	// Spot checks of the figures, worked out on paper.
	r, _ := resStatus(t, s, resA, resAt(0, 30, 0, 0), resAt(1, 30, 0, 0))
	st := stats.Status(&r, time.Hour)
	resClose(t, "1h availability", st.AvailabilityPercent, 75, 1e-12)
	resClose(t, "1h error rate", st.ErrorRatePercent, 25, 1e-12)
	resClose(t, "1h retry rate", st.RetryRatePercent, 100.0/3, 1e-12)
	resClose(t, "1h probes per minute", st.ProbesPerMinute, 6, 1e-12)
	resClose(t, "1h bytes per minute", st.BytesPerMinute, 6500, 1e-12)
	r, _ = resStatus(t, s, resA, resAt(3-72, 0, 0, 0), resAt(3, 0, 0, 0))
	st = stats.Status(&r, 72*time.Hour)
	resClose(t, "72h availability", st.AvailabilityPercent, 700.0/9, 1e-12) // 840/1080
	resClose(t, "72h probes per minute", st.ProbesPerMinute, 0.25, 1e-12)   // 1080/4320

	// resB's figures are its own, and an unknown monitor has none.
	r, _ = resStatus(t, s, resB, resAt(0, 0, 0, 0), resAt(3, 0, 0, 0))
	resCheckCounts(t, "resB", r, resCounts{10, 0, 0, 10, 10, 1, 50})
	r, st2 := resStatus(t, s, "mon_unknown", resAt(0, 0, 0, 0), resAt(3, 0, 0, 0))
	resCheckCounts(t, "unknown monitor", r, resCounts{})
	if st2 != (MonitorState{}) {
		t.Errorf("an unknown monitor should've had no state, got %+v", st2)
	}
}

func testResultsState(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	resWriteFixture(t, s)
	_, st := resStatus(t, s, resA, resAt(0, 0, 0, 0), resAt(0, 1, 0, 0))
	// The last probe is 1079 (2:59:50.250, slot 5: down, no certificate);
	// the certificate is the one probe 1078 saw in hour 2.
	wantState := MonitorState{
		LastCheckedAt:    new(resAt(2, 59, 50, 250)),
		LastOutcome:      new(api.OutcomeDown),
		TLSCertExpiresAt: new(resBase.Add(30*24*time.Hour + 2*time.Hour)),
	}
	if !reflect.DeepEqual(st, wantState) {
		t.Errorf("state should've been %s, got %s", resDumpState(wantState), resDumpState(st))
	}

	// An older batch written later does not move the state back.
	old := resProbe(0)
	old.Time = resAt(2, 0, 0, 0)
	resWrite(t, s, []api.ProbeResult{old}, nil)
	if _, st = resStatus(t, s, resA, resAt(0, 0, 0, 0), resAt(0, 1, 0, 0)); !reflect.DeepEqual(st, wantState) {
		t.Errorf("an older result should've left the state alone, got %s", resDumpState(st))
	}
	// A newer result takes over, with its certificate.
	newer := resProbe(0)
	newer.Time = resAt(3, 0, 0, 0)
	newer.TLSCertExpiresAt = new(resAt(999, 0, 0, 0))
	resWrite(t, s, []api.ProbeResult{newer}, nil)
	_, st = resStatus(t, s, resA, resAt(0, 0, 0, 0), resAt(0, 1, 0, 0))
	wantState = MonitorState{LastCheckedAt: new(resAt(3, 0, 0, 0)), LastOutcome: new(api.OutcomeUp), TLSCertExpiresAt: new(resAt(999, 0, 0, 0))}
	if !reflect.DeepEqual(st, wantState) {
		t.Errorf("state should've been %s, got %s", resDumpState(wantState), resDumpState(st))
	}
	// Missed runs are not probes: they leave the state alone.
	resWrite(t, s, nil, []MissedRun{{MonitorID: resA, Time: resAt(4, 0, 0, 0)}})
	if _, st = resStatus(t, s, resA, resAt(0, 0, 0, 0), resAt(0, 1, 0, 0)); !reflect.DeepEqual(st, wantState) {
		t.Errorf("a missed run should've left the state alone, got %s", resDumpState(st))
	}
	// An empty batch is fine.
	resWrite(t, s, nil, nil)
}

func resDumpState(st MonitorState) string {
	f := func(t *time.Time) string {
		if t == nil {
			return "nil"
		}
		return t.Format(time.RFC3339Nano)
	}
	o := "nil"
	if st.LastOutcome != nil {
		o = *st.LastOutcome
	}
	return fmt.Sprintf("{checked %s, outcome %s, cert %s}", f(st.LastCheckedAt), o, f(st.TLSCertExpiresAt))
}

func resList(t *testing.T, s Store, monitorID string, q ResultQuery) ([]api.ProbeResult, string) {
	t.Helper()
	rs, next, err := s.ListResults(t.Context(), monitorID, q)
	if err != nil {
		t.Fatalf("ListResults(%s, %+v): %v", monitorID, q, err)
	}
	return rs, next
}

func testResultsListPaging(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	// Written newest batch first: the listing is by time all the same.
	f := resFixture()
	resWrite(t, s, f.results[540:resProbes], nil)
	resWrite(t, s, f.results[:540], nil)
	resWrite(t, s, f.results[resProbes:], nil)

	var (
		all   []api.ProbeResult
		after string
		pages int
	)
	for {
		page, next := resList(t, s, resA, ResultQuery{Limit: 100, After: after})
		pages++
		all = append(all, page...)
		if next == "" {
			if len(page) != 80 {
				t.Errorf("the last page should've held 80 results, got %d", len(page))
			}
			break
		}
		if len(page) != 100 {
			t.Fatalf("page %d should've held 100 results, got %d", pages, len(page))
		}
		after = next
		if pages > 20 {
			t.Fatal("paging does not end")
		}
	}
	if pages != 11 || len(all) != resProbes {
		t.Fatalf("1080 results should've come in 11 pages, got %d in %d", len(all), pages)
	}
	for i, r := range all {
		if !reflect.DeepEqual(r, resProbe(i)) {
			t.Fatalf("result %d should've been probe %d:\n got %+v\nwant %+v", i, i, r, resProbe(i))
		}
	}

	// Since and Until: the minute starting at 1:00 holds probes 360..365.
	page, next := resList(t, s, resA, ResultQuery{Since: resAt(1, 0, 0, 0), Until: resAt(1, 1, 0, 0)})
	if len(page) != 6 || next != "" || !page[0].Time.Equal(resProbe(360).Time) || !page[5].Time.Equal(resProbe(365).Time) {
		t.Errorf("Since/Until should've selected probes 360..365, got %d results (next %q)", len(page), next)
	}
	// Since is inclusive, Until exclusive, also in paging.
	page, next = resList(t, s, resA, ResultQuery{Since: resProbe(10).Time, Until: resProbe(13).Time, Limit: 2})
	page2, next2 := resList(t, s, resA, ResultQuery{Since: resProbe(10).Time, Until: resProbe(13).Time, Limit: 2, After: next})
	if len(page) != 2 || next == "" || len(page2) != 1 || next2 != "" || !page2[0].Time.Equal(resProbe(12).Time) {
		t.Errorf("paging within Since/Until should've given probes 10, 11 then 12: %d, %q, %d, %q", len(page), next, len(page2), next2)
	}

	// Default and maximum page sizes.
	if page, _ = resList(t, s, resA, ResultQuery{}); len(page) != DefaultLimit {
		t.Errorf("the default page should've held %d, got %d", DefaultLimit, len(page))
	}
	if page, _ = resList(t, s, resA, ResultQuery{Limit: 5000}); len(page) != MaxLimit {
		t.Errorf("the page should've been capped at %d, got %d", MaxLimit, len(page))
	}
	// Other monitors and unknown ones.
	if page, _ = resList(t, s, resB, ResultQuery{}); len(page) != 10 {
		t.Errorf("resB should've had 10 results, got %d", len(page))
	}
	if page, next = resList(t, s, "mon_unknown", ResultQuery{}); page == nil || len(page) != 0 || next != "" {
		t.Errorf("an unknown monitor should've had an empty, non-nil page, got %v, %q", page, next)
	}
	if _, _, err := s.ListResults(t.Context(), resA, ResultQuery{After: "not-a-cursor"}); err == nil {
		t.Error("a bad cursor should've been refused")
	}

	// Results of the same time page in the order they were stored.
	same := resAt(7, 0, 0, 0)
	for i := range 3 {
		resWrite(t, s, []api.ProbeResult{{MonitorID: "mon_c", Time: same, Outcome: api.OutcomeUp, LatencyMS: float64(i), Attempts: 1}}, nil)
	}
	after = ""
	for i := range 3 {
		page, next = resList(t, s, "mon_c", ResultQuery{Limit: 1, After: after})
		if len(page) != 1 || page[0].LatencyMS != float64(i) {
			t.Fatalf("tie %d: got %+v", i, page)
		}
		if (next == "") != (i == 2) {
			t.Errorf("tie %d: next cursor %q", i, next)
		}
		after = next
	}
}

func testResultsListRoundTrip(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	loc := time.FixedZone("CEST", 2*3600)
	full := api.ProbeResult{
		MonitorID:        "mon_full",
		Time:             time.Date(2025, 7, 4, 14, 30, 45, 987654321, loc),
		Outcome:          api.OutcomeDegraded,
		StatusCode:       new(299),
		LatencyMS:        123.456,
		DNSMS:            new(1.25),
		ConnectMS:        new(0.0),
		TLSMS:            new(7.5),
		FirstByteMS:      new(99.125),
		TLSCertExpiresAt: new(time.Date(2026, 1, 2, 3, 4, 5, 6789, loc)),
		BytesReceived:    1 << 40,
		Attempts:         11,
		Error:            new("assertion failed: status_code equals 200"),
		BodyExcerpt:      new("{\"ok\": false, \"ünïcode\": \"✓\"}"),
	}
	minimal := api.ProbeResult{MonitorID: "mon_full", Time: full.Time.Add(time.Second), Outcome: api.OutcomeDown, Attempts: 1}
	resWrite(t, s, []api.ProbeResult{full, minimal}, nil)
	got, _ := resList(t, s, "mon_full", ResultQuery{})
	wantFull := full
	wantFull.Time = full.Time.UTC().Truncate(time.Microsecond)
	wantFull.TLSCertExpiresAt = new(full.TLSCertExpiresAt.UTC().Truncate(time.Microsecond))
	wantMin := minimal
	wantMin.Time = minimal.Time.UTC().Truncate(time.Microsecond)
	if len(got) != 2 || !reflect.DeepEqual(got[0], wantFull) || !reflect.DeepEqual(got[1], wantMin) {
		t.Errorf("round trip:\n got %+v\nwant %+v, %+v", got, wantFull, wantMin)
	}
}

// testResultsBatchingInvariance writes the fixture once in one batch and
// once in shuffled batches of 1 to 50, and checks that every minute and
// every hour rollup comes out the same, and equal to the fixture's own.
func testResultsBatchingInvariance(t *testing.T, open func(t *testing.T) Store) {
	one, many := open(t), open(t)
	resWriteFixture(t, one)
	f := resFixture()
	rng := rand.New(rand.NewPCG(7, 8))
	rng.Shuffle(len(f.results), func(i, j int) { f.results[i], f.results[j] = f.results[j], f.results[i] })
	missed := f.missed
	for len(f.results) > 0 {
		n := min(1+rng.IntN(50), len(f.results))
		var m []MissedRun
		if len(missed) > 0 && rng.IntN(10) == 0 {
			m, missed = missed[:1], missed[1:]
		}
		resWrite(t, many, f.results[:n], m)
		f.results = f.results[n:]
	}
	resWrite(t, many, nil, missed)
	// The fixture's own rollup of a span, for comparison.
	expect := func(from, to time.Time) stats.Rollup {
		var r stats.Rollup
		for i := range resProbes {
			if p := resProbe(i); !p.Time.Before(from) && p.Time.Before(to) {
				r.Add(p)
			}
		}
		for _, m := range resMissedA {
			if !m.Before(from) && m.Before(to) {
				r.Missed++
			}
		}
		return r
	}
	same := func(what string, a, b stats.Rollup) {
		t.Helper()
		if a.Probes != b.Probes || a.Up != b.Up || a.Degraded != b.Degraded || a.Down != b.Down || a.Retried != b.Retried ||
			a.Missed != b.Missed || a.Bytes != b.Bytes || a.LatencySumMS != b.LatencySumMS || !a.Latency.Equal(&b.Latency) {
			t.Errorf("%s: rollups differ:\n%+v\n%+v", what, a, b)
		}
	}
	_, st1 := resStatus(t, one, resA, resBase, resBase)
	_, st2 := resStatus(t, many, resA, resBase, resBase)
	if !reflect.DeepEqual(st1, st2) {
		t.Errorf("states differ: %s, %s", resDumpState(st1), resDumpState(st2))
	}

	// Aligned one-minute windows are read from the minute rollups.
	for m := range 180 {
		from, to := resAt(0, m, 0, 0), resAt(0, m+1, 0, 0)
		a, _ := resStatus(t, one, resA, from, to)
		b, _ := resStatus(t, many, resA, from, to)
		same(fmt.Sprintf("minute %d, one vs many", m), a, b)
		same(fmt.Sprintf("minute %d, one vs fixture", m), a, expect(from, to))
	}
	// With raw results and minute rollups gone, an aligned hour is read
	// from the hour rollups.
	for _, s := range []Store{one, many} {
		for _, tier := range []string{TierRaw, TierMinute} {
			for {
				n, err := s.DeleteResultsBefore(t.Context(), tier, resAt(4, 0, 0, 0), 0)
				if err != nil {
					t.Fatal(err)
				}
				if n < DefaultDeleteBatch {
					break
				}
			}
		}
	}
	for h := range 3 {
		from, to := resAt(h, 0, 0, 0), resAt(h+1, 0, 0, 0)
		a, _ := resStatus(t, one, resA, from, to)
		b, _ := resStatus(t, many, resA, from, to)
		same(fmt.Sprintf("hour %d, one vs many", h), a, b)
		same(fmt.Sprintf("hour %d, one vs fixture", h), a, expect(from, to))
	}
}

func resDeleteAll(t *testing.T, s Store, tier string, before time.Time, limit int) (total int64, calls int) {
	t.Helper()
	for {
		n, err := s.DeleteResultsBefore(t.Context(), tier, before, limit)
		if err != nil {
			t.Fatalf("DeleteResultsBefore(%s): %v", tier, err)
		}
		calls++
		if n > int64(limit) {
			t.Errorf("DeleteResultsBefore(%s, limit %d) deleted %d", tier, limit, n)
		}
		total += n
		if n < int64(limit) {
			return total, calls
		}
		if calls > 100 {
			t.Fatal("deleting does not end")
		}
	}
}

func testResultsDeleteBefore(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	resWriteFixture(t, s)
	if _, err := s.DeleteResultsBefore(t.Context(), "weekly", resBase, 10); err == nil {
		t.Error("an unknown tier should've been refused")
	}

	// Raw before 1:00: resA's probes 0..359, resB's 10 probes, the missed
	// runs 0:10:30 (resA) and 0:00:30 (resB): 372 rows, in 100s.
	n, calls := resDeleteAll(t, s, TierRaw, resAt(1, 0, 0, 0), 100)
	if n != 372 || calls != 4 {
		t.Errorf("raw: should've deleted 372 rows in 4 calls, got %d in %d", n, calls)
	}
	page, _ := resList(t, s, resA, ResultQuery{Limit: 1000})
	if len(page) != 720 || !page[0].Time.Equal(resProbe(360).Time) {
		t.Errorf("raw: probes 360..1079 should've been left, got %d from %v", len(page), page[0].Time)
	}
	if page, _ = resList(t, s, resB, ResultQuery{}); len(page) != 0 {
		t.Errorf("raw: resB's results should've been deleted, %d left", len(page))
	}

	// Minute rollups before 1:00: resA's 60 and resB's 10.
	if n, calls = resDeleteAll(t, s, TierMinute, resAt(1, 0, 0, 0), 1000); n != 70 || calls != 1 {
		t.Errorf("minute: should've deleted 70 rows in 1 call, got %d in %d", n, calls)
	}
	if n, _ = resDeleteAll(t, s, TierMinute, resAt(1, 0, 0, 0), 1000); n != 0 {
		t.Errorf("minute: a second run should've deleted nothing, got %d", n)
	}
	// Hour rollups before 1:00: one of each monitor; before 2:00: one more.
	if n, _ = resDeleteAll(t, s, TierHour, resAt(1, 0, 0, 0), 1); n != 2 {
		t.Errorf("hour: should've deleted 2 rows, got %d", n)
	}
	if n, _ = resDeleteAll(t, s, TierHour, resAt(2, 0, 0, 0), 1000); n != 1 {
		t.Errorf("hour: should've deleted 1 row, got %d", n)
	}

	// What is left: hours 1 and 2 in minute rollups and (mostly) raw.
	r, _ := resStatus(t, s, resA, resAt(0, 0, 0, 0), resAt(3, 0, 0, 0))
	resCheckCounts(t, "after retention, 3h", r, resCounts{720, 300, 240, 180, 240, 3, 780000})
	r, _ = resStatus(t, s, resB, resAt(0, 0, 0, 0), resAt(3, 0, 0, 0))
	resCheckCounts(t, "after retention, resB", r, resCounts{})
}

// testResultsDeleteMonitorBefore: the scoped delete takes only the given
// monitors' rows older than before, in batches, and leaves the others.
func testResultsDeleteMonitorBefore(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	resWriteFixture(t, s)
	if _, err := s.DeleteMonitorResultsBefore(t.Context(), "weekly", []string{resA}, resBase, 10); err == nil {
		t.Error("an unknown tier should've been refused")
	}
	deleteAll := func(tier string, ids []string, before time.Time, limit int) (int64, int) {
		t.Helper()
		var total int64
		for calls := 1; ; calls++ {
			n, err := s.DeleteMonitorResultsBefore(t.Context(), tier, ids, before, limit)
			if err != nil {
				t.Fatalf("DeleteMonitorResultsBefore(%s): %v", tier, err)
			}
			if n > int64(limit) {
				t.Fatalf("DeleteMonitorResultsBefore(%s, limit %d) deleted %d", tier, limit, n)
			}
			total += n
			if n < int64(limit) {
				return total, calls
			}
		}
	}
	// resB only, raw before 1:00: its 10 probes and its missed run.
	if n, calls := deleteAll(TierRaw, []string{resB}, resAt(1, 0, 0, 0), 4); n != 11 || calls != 3 {
		t.Errorf("raw of resB: should've deleted 11 rows in 3 calls, got %d in %d", n, calls)
	}
	if page, _ := resList(t, s, resB, ResultQuery{}); len(page) != 0 {
		t.Errorf("resB's raw results should've been deleted, %d left", len(page))
	}
	if page, _ := resList(t, s, resA, ResultQuery{Limit: 1000}); len(page) != 1000 {
		t.Errorf("resA's raw results should've been kept, got %d", len(page))
	}
	// resA, raw before 0:30: probes 0..179 and the missed run 0:10:30.
	if n, _ := deleteAll(TierRaw, []string{resA, "mon_unknown"}, resAt(0, 30, 0, 0), 1000); n != 181 {
		t.Errorf("raw of resA before 0:30: should've deleted 181 rows, got %d", n)
	}
	page, _ := resList(t, s, resA, ResultQuery{Limit: 1})
	if len(page) != 1 || !page[0].Time.Equal(resProbe(180).Time) {
		t.Errorf("resA's first result should now be probe 180, got %+v", page)
	}
	// Minute rollups of resA before 1:00 (60), hour rollups of both before
	// 2:00 (resA's hours 0 and 1, resB's hour 0).
	if n, _ := deleteAll(TierMinute, []string{resA}, resAt(1, 0, 0, 0), 1000); n != 60 {
		t.Errorf("minute rollups of resA: should've deleted 60, got %d", n)
	}
	if n, _ := deleteAll(TierHour, []string{resA, resB}, resAt(2, 0, 0, 0), 1000); n != 3 {
		t.Errorf("hour rollups: should've deleted 3, got %d", n)
	}
	// resB's minute rollups stay: a window of its first ten minutes still
	// counts its 10 probes (and its missed run, from the rollup).
	r, _ := resStatus(t, s, resB, resAt(0, 0, 0, 0), resAt(0, 10, 0, 0))
	if r.Probes != 10 {
		t.Errorf("resB's minute rollups should've been kept: %d probes", r.Probes)
	}
}

// testResultsHorizonFallback: once a tier is deleted, windows reaching
// before its horizon are read from the next coarser tier, counting the
// coarse buckets that start within the window.
func testResultsHorizonFallback(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	resWriteFixture(t, s)
	fiveFrom, fiveTo := resAt(0, 10, 15, 0), resAt(0, 15, 20, 250)
	hourFrom, hourTo := resAt(0, 30, 0, 0), resAt(1, 30, 0, 0)

	resDeleteAll(t, s, TierRaw, resAt(3, 0, 0, 0), 1000)
	// Minutes starting in [0:10:15, 0:15:20.25): 0:11..0:15, probes 66..95,
	// five cycles; the missed run at 0:10:30 is in minute 0:10, outside.
	r, _ := resStatus(t, s, resA, fiveFrom, fiveTo)
	resCheckCounts(t, "5m from minutes", r, resCounts{30, 15, 10, 5, 10, 0, 35000})
	r, _ = resStatus(t, s, resA, hourFrom, hourTo)
	resCheckCounts(t, "1h from minutes", r, resCounts{360, 150, 120, 90, 120, 1, 390000})
	r, _ = resStatus(t, s, resA, resAt(1, 10, 30, 0), resAt(1, 11, 30, 0))
	// The minute starting at 1:11 (slots 0-5 of hour 1).
	resCheckCounts(t, "1m unaligned from minutes", r, resCounts{6, 2, 2, 2, 2, 0, 6000})

	resDeleteAll(t, s, TierMinute, resAt(3, 0, 0, 0), 1000)
	// No hour starts in [0:10:15, 0:15:20.25).
	r, _ = resStatus(t, s, resA, fiveFrom, fiveTo)
	resCheckCounts(t, "5m from hours", r, resCounts{})
	// The hour starting at 1:00.
	r, _ = resStatus(t, s, resA, hourFrom, hourTo)
	resCheckCounts(t, "1h from hours", r, resCounts{360, 120, 120, 120, 120, 1, 360000})
	r, _ = resStatus(t, s, resA, resAt(0, 0, 0, 0), resAt(3, 0, 0, 0))
	resCheckCounts(t, "3h from hours", r, resCounts{1080, 480, 360, 240, 360, 4, 1200000})

	// New results after the horizon are read from raw again.
	late := resProbe(0)
	late.Time = resAt(3, 0, 10, 0)
	resWrite(t, s, []api.ProbeResult{late}, []MissedRun{{MonitorID: resA, Time: resAt(3, 0, 20, 0)}})
	r, _ = resStatus(t, s, resA, resAt(3, 0, 5, 0), resAt(3, 0, 25, 0))
	resCheckCounts(t, "raw after the horizon", r, resCounts{1, 1, 0, 0, 0, 1, 1000})
}

func testResultsDeleteMonitorData(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	resWriteFixture(t, s)
	if err := s.DeleteMonitorData(t.Context(), resA); err != nil {
		t.Fatal(err)
	}
	for _, w := range [][2]time.Time{{resAt(0, 0, 0, 0), resAt(3, 0, 0, 0)}, {resAt(3-72, 0, 0, 0), resAt(3, 0, 0, 0)}, {resAt(0, 10, 15, 0), resAt(0, 15, 20, 0)}} {
		r, st := resStatus(t, s, resA, w[0], w[1])
		resCheckCounts(t, "deleted monitor", r, resCounts{})
		if st != (MonitorState{}) {
			t.Errorf("a deleted monitor should've had no state, got %s", resDumpState(st))
		}
	}
	if page, _ := resList(t, s, resA, ResultQuery{}); len(page) != 0 {
		t.Errorf("a deleted monitor should've had no results, got %d", len(page))
	}
	r, st := resStatus(t, s, resB, resAt(0, 0, 0, 0), resAt(3, 0, 0, 0))
	resCheckCounts(t, "the other monitor", r, resCounts{10, 0, 0, 10, 10, 1, 50})
	if st.LastCheckedAt == nil || !st.LastCheckedAt.Equal(resAt(0, 9, 5, 0)) {
		t.Errorf("the other monitor's state should've stayed, got %s", resDumpState(st))
	}
	if err := s.DeleteMonitorData(t.Context(), "mon_unknown"); err != nil {
		t.Errorf("deleting the data of a monitor without any should've been fine: %v", err)
	}
}

// testResultsDeleteOrphans: rows of a monitor ID without a monitor (resB
// here: the fixture writes results without monitors) are deleted in
// batches, from every tier and the state; a monitor that exists (resA)
// keeps everything.
func testResultsDeleteOrphans(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	resWriteFixture(t, s)
	enabled, interval := true, "10s"
	m := api.Monitor{Meta: api.Meta{ID: resA, Revision: 1, CreatedAt: resBase, UpdatedAt: resBase}, Name: "res-a", EndpointID: "ep_x", Type: api.MonitorHTTP, Enabled: &enabled, Interval: &interval}
	if err := s.Write(t.Context(), func(tx Tx) error { return tx.InsertMonitor(t.Context(), m) }); err != nil {
		t.Fatal(err)
	}
	windows := [][2]time.Time{{resAt(0, 0, 0, 0), resAt(3, 0, 0, 0)}, {resAt(3-72, 0, 0, 0), resAt(3, 0, 0, 0)}, {resAt(0, 10, 15, 0), resAt(0, 15, 20, 0)}}
	var before []stats.Rollup
	for _, w := range windows {
		r, _ := resStatus(t, s, resA, w[0], w[1])
		before = append(before, r)
	}
	pageA, _ := resList(t, s, resA, ResultQuery{Limit: MaxLimit})

	// resB: 10 results, 1 missed run, 10 minute rollups, 1 hour rollup
	// and 1 state.
	const limit = 7
	var total int64
	var calls []int64
	for {
		n, err := s.DeleteOrphanResults(t.Context(), limit)
		if err != nil {
			t.Fatalf("DeleteOrphanResults: %v", err)
		}
		calls = append(calls, n)
		total += n
		if n < limit || len(calls) > 20 {
			break
		}
	}
	if total != 23 || !slices.Equal(calls, []int64{7, 7, 7, 2}) {
		t.Errorf("orphans should've been deleted as 23 rows in batches of at most 7, got %d in %v", total, calls)
	}
	for _, w := range windows {
		r, st := resStatus(t, s, resB, w[0], w[1])
		resCheckCounts(t, "orphan", r, resCounts{})
		if st != (MonitorState{}) {
			t.Errorf("an orphan should've had no state left, got %s", resDumpState(st))
		}
	}
	if page, _ := resList(t, s, resB, ResultQuery{}); len(page) != 0 {
		t.Errorf("an orphan should've had no results left, got %d", len(page))
	}
	for i, w := range windows {
		r, st := resStatus(t, s, resA, w[0], w[1])
		if !reflect.DeepEqual(r, before[i]) || st.LastCheckedAt == nil {
			t.Errorf("the existing monitor's figures changed over %v: %+v, want %+v (state %s)", w, r, before[i], resDumpState(st))
		}
	}
	if page, _ := resList(t, s, resA, ResultQuery{Limit: MaxLimit}); len(page) != len(pageA) {
		t.Errorf("the existing monitor's results changed: %d, want %d", len(page), len(pageA))
	}
	if n, err := s.DeleteOrphanResults(t.Context(), 0); err != nil || n != 0 {
		t.Errorf("nothing should've been left to delete: %d, %v", n, err)
	}
}

// testResultsBadCursor: a cursor ListResults did not return fails with
// ErrBadCursor, so that the API can answer 400 rather than 500.
func testResultsBadCursor(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	resWriteFixture(t, s)
	for _, c := range []string{"foo", "1", "x.1", "1.y", ".", "1.2.3"} {
		if _, _, err := s.ListResults(t.Context(), resA, ResultQuery{After: c}); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: error %v, want ErrBadCursor", c, err)
		}
	}
	if _, _, err := s.ListResults(t.Context(), resA, ResultQuery{After: "1.2"}); err != nil {
		t.Errorf("a well-formed cursor should've been accepted: %v", err)
	}
}

// ---- the window plan (SQL implementation detail, no store needed) ----

func TestResultWindowPlan(t *testing.T) {
	var zero time.Time
	never := time.Unix(1<<40, 0)
	seg := func(tier string, from, to time.Time) resultSegment { return resultSegment{tier, from, to} }
	for _, tc := range []struct {
		name              string
		from, to          time.Time
		rawHorizon, minHz time.Time
		want              []resultSegment
	}{
		{"within a minute", resAt(0, 0, 10, 0), resAt(0, 0, 50, 0), zero, zero,
			[]resultSegment{seg(TierRaw, resAt(0, 0, 10, 0), resAt(0, 0, 50, 0))}},
		{"across one minute boundary", resAt(0, 0, 10, 0), resAt(0, 1, 50, 0), zero, zero,
			[]resultSegment{seg(TierRaw, resAt(0, 0, 10, 0), resAt(0, 1, 50, 0))}},
		{"aligned", resAt(0, 1, 0, 0), resAt(0, 3, 0, 0), zero, zero,
			[]resultSegment{seg(TierMinute, resAt(0, 1, 0, 0), resAt(0, 3, 0, 0))}},
		{"both edges", resAt(0, 0, 10, 0), resAt(0, 5, 20, 0), zero, zero, []resultSegment{
			seg(TierRaw, resAt(0, 0, 10, 0), resAt(0, 1, 0, 0)),
			seg(TierMinute, resAt(0, 1, 0, 0), resAt(0, 5, 0, 0)),
			seg(TierRaw, resAt(0, 5, 0, 0), resAt(0, 5, 20, 0)),
		}},
		{"whole hours", resAt(0, 0, 0, 0), resAt(48, 0, 0, 0), zero, zero,
			[]resultSegment{seg(TierHour, resAt(0, 0, 0, 0), resAt(48, 0, 0, 0))}},
		{"six hours, ragged", resAt(0, 20, 10, 0), resAt(6, 20, 10, 0), zero, zero, []resultSegment{
			seg(TierRaw, resAt(0, 20, 10, 0), resAt(0, 21, 0, 0)),
			seg(TierMinute, resAt(0, 21, 0, 0), resAt(1, 0, 0, 0)),
			seg(TierHour, resAt(1, 0, 0, 0), resAt(6, 0, 0, 0)),
			seg(TierMinute, resAt(6, 0, 0, 0), resAt(6, 20, 0, 0)),
			seg(TierRaw, resAt(6, 20, 0, 0), resAt(6, 20, 10, 0)),
		}},
		{"long", resAt(0, 30, 10, 0), resAt(72, 10, 20, 0), zero, zero, []resultSegment{
			seg(TierRaw, resAt(0, 30, 10, 0), resAt(0, 31, 0, 0)),
			seg(TierMinute, resAt(0, 31, 0, 0), resAt(1, 0, 0, 0)),
			seg(TierHour, resAt(1, 0, 0, 0), resAt(72, 0, 0, 0)),
			seg(TierMinute, resAt(72, 0, 0, 0), resAt(72, 10, 0, 0)),
			seg(TierRaw, resAt(72, 10, 0, 0), resAt(72, 10, 20, 0)),
		}},
		{"raw horizon inside the start edge", resAt(0, 0, 10, 0), resAt(0, 5, 20, 0), resAt(0, 0, 30, 0), zero, []resultSegment{
			// Raw exists from 0:01 on; the minute 0:00 starts before the window.
			seg(TierMinute, resAt(0, 1, 0, 0), resAt(0, 5, 0, 0)),
			seg(TierRaw, resAt(0, 5, 0, 0), resAt(0, 5, 20, 0)),
		}},
		{"raw horizon past the window", resAt(0, 0, 10, 0), resAt(0, 5, 20, 0), resAt(9, 0, 0, 0), zero,
			[]resultSegment{seg(TierMinute, resAt(0, 1, 0, 0), resAt(0, 6, 0, 0))}},
		{"minute horizon inside", resAt(0, 0, 10, 0), resAt(2, 5, 20, 0), resAt(9, 0, 0, 0), resAt(1, 20, 0, 0), []resultSegment{
			seg(TierHour, resAt(1, 0, 0, 0), resAt(2, 0, 0, 0)),
			seg(TierMinute, resAt(2, 0, 0, 0), resAt(2, 6, 0, 0)),
		}},
		{"empty", resAt(1, 0, 0, 0), resAt(1, 0, 0, 0), zero, zero, nil},
		{"reversed", resAt(2, 0, 0, 0), resAt(1, 0, 0, 0), zero, zero, nil},
	} {
		got := planWindow(tc.from, tc.to, tc.rawHorizon, tc.minHz, zero, never)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
	// Hours before the hour horizon are read as minutes.
	got := planWindow(resAt(0, 20, 10, 0), resAt(6, 20, 10, 0), zero, zero, resAt(2, 30, 0, 0), never)
	want := []resultSegment{
		seg(TierRaw, resAt(0, 20, 10, 0), resAt(0, 21, 0, 0)),
		seg(TierMinute, resAt(0, 21, 0, 0), resAt(3, 0, 0, 0)),
		seg(TierHour, resAt(3, 0, 0, 0), resAt(6, 0, 0, 0)),
		seg(TierMinute, resAt(6, 0, 0, 0), resAt(6, 20, 0, 0)),
		seg(TierRaw, resAt(6, 20, 0, 0), resAt(6, 20, 10, 0)),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hour horizon inside:\n got %v\nwant %v", got, want)
	}
	// What the rollups do not hold yet (from rolled on) is read raw, and
	// the hour rolled is inside is read as minutes.
	got = planWindow(resAt(0, 20, 10, 0), resAt(6, 20, 10, 0), zero, zero, zero, resAt(5, 30, 0, 0))
	want = []resultSegment{
		seg(TierRaw, resAt(0, 20, 10, 0), resAt(0, 21, 0, 0)),
		seg(TierMinute, resAt(0, 21, 0, 0), resAt(1, 0, 0, 0)),
		seg(TierHour, resAt(1, 0, 0, 0), resAt(5, 0, 0, 0)),
		seg(TierMinute, resAt(5, 0, 0, 0), resAt(5, 30, 0, 0)),
		seg(TierRaw, resAt(5, 30, 0, 0), resAt(6, 20, 10, 0)),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rolled inside:\n got %v\nwant %v", got, want)
	}
	// Nothing rolled in the window: all of it raw.
	got = planWindow(resAt(0, 20, 10, 0), resAt(6, 20, 10, 0), zero, zero, zero, resAt(0, 0, 0, 0))
	want = []resultSegment{seg(TierRaw, resAt(0, 20, 10, 0), resAt(6, 20, 10, 0))}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rolled before the window:\n got %v\nwant %v", got, want)
	}
}

// BenchmarkWriteResults stores batches of 500 results of 500 monitors, as
// the batching writer does at 1,000 probes a second, and then reads a 1h
// and a 72h window.
func BenchmarkWriteResults(b *testing.B) {
	s, err := OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "aio.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]api.ProbeResult, 500)
	tm := resBase
	b.Run("write", func(b *testing.B) {
		for b.Loop() {
			for i := range batch {
				batch[i] = resProbe(i)
				batch[i].MonitorID = fmt.Sprintf("mon_%03d", i)
				batch[i].Time = tm
			}
			tm = tm.Add(500 * time.Millisecond)
			if err := s.WriteResults(b.Context(), batch, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, w := range []time.Duration{time.Hour, 72 * time.Hour} {
		b.Run("status "+w.String(), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := s.MonitorStatus(b.Context(), "mon_007", tm.Add(-w+7*time.Second), tm.Add(7*time.Second)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// testResultsLatestOutcomes: the latest outcomes of one monitor, newest
// first, bounded by n; another monitor's never show.
func testResultsLatestOutcomes(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	resWriteFixture(t, s)
	got, err := s.LatestOutcomes(t.Context(), resA, 7)
	if err != nil {
		t.Fatal(err)
	}
	// Probes 1079 back to 1073: slots 5, 4, 3, 2, 1, 0, 5 of hour 2.
	want := []string{api.OutcomeDown, api.OutcomeDegraded, api.OutcomeDegraded, api.OutcomeUp, api.OutcomeUp, api.OutcomeUp, api.OutcomeDown}
	if len(got) != len(want) {
		t.Fatalf("got %d outcomes, want %d", len(got), len(want))
	}
	for i, o := range got {
		if o.Outcome != want[i] {
			t.Errorf("outcome %d: %s, want %s", i, o.Outcome, want[i])
		}
		if i > 0 && !o.Time.Before(got[i-1].Time) {
			t.Errorf("outcome %d at %s is not older than the one before (%s)", i, o.Time, got[i-1].Time)
		}
	}
	if !got[0].Time.Equal(resAt(2, 59, 50, 250)) {
		t.Errorf("newest at %s", got[0].Time)
	}
	// LatestOutcomesOf: the same for each of several monitors.
	many, err := s.LatestOutcomesOf(t.Context(), []string{resA, "mon_none", resB, resA}, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(many) != 3 || !slices.Equal(many[resA], got) || len(many["mon_none"]) != 0 {
		t.Errorf("LatestOutcomesOf: %d monitors, %v for %s (want %v), %v for mon_none", len(many), many[resA], resA, got, many["mon_none"])
	}
	oneB, err := s.LatestOutcomes(t.Context(), resB, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(oneB) == 0 || !slices.Equal(many[resB], oneB) {
		t.Errorf("LatestOutcomesOf: %v for %s, want %v", many[resB], resB, oneB)
	}
	none, err := s.LatestOutcomes(t.Context(), "mon_none", 5)
	if err != nil || len(none) != 0 {
		t.Errorf("unknown monitor: %v %v", none, err)
	}
}

// testResultsWindowRollups: the rollups of several monitors read together
// are each what MonitorStatus reads for one, over short and long windows
// with ragged edges, before and after retention moved the horizons.
func testResultsWindowRollups(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	resWriteFixture(t, s)
	windows := [][2]time.Time{
		{resAt(0, 0, 0, 0), resAt(0, 5, 0, 0)},
		{resAt(0, 3, 7, 125), resAt(1, 2, 33, 900)},
		{resAt(0, 0, 0, 0), resAt(3, 0, 0, 0)},
		{resAt(0, 59, 59, 0), resAt(2, 0, 0, 1)},
		{resAt(-48, 0, 0, 0), resAt(2, 30, 0, 0)},
	}
	check := func(when string) {
		t.Helper()
		for _, w := range windows {
			got, err := s.WindowRollups(t.Context(), []string{resA, resB, "mon_none", resA}, w[0], w[1])
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 {
				t.Fatalf("%s: %d rollups for 3 monitors", when, len(got))
			}
			for _, id := range []string{resA, resB, "mon_none"} {
				want, _ := resStatus(t, s, id, w[0], w[1])
				g := got[id]
				if g.Probes != want.Probes || g.Up != want.Up || g.Degraded != want.Degraded || g.Down != want.Down ||
					g.Retried != want.Retried || g.Missed != want.Missed || g.Bytes != want.Bytes ||
					math.Abs(g.LatencySumMS-want.LatencySumMS) > 1e-6 || !g.Latency.Equal(&want.Latency) {
					t.Errorf("%s: %s over [%s, %s): got %+v, want %+v", when, id, w[0], w[1], *g, want)
				}
			}
			// WindowCounts: the same counts, summed by the store, and
			// no latencies.
			counts, err := s.WindowCounts(t.Context(), []string{resA, resB, "mon_none", resA}, w[0], w[1])
			if err != nil {
				t.Fatal(err)
			}
			if len(counts) != 3 {
				t.Fatalf("%s: %d counts for 3 monitors", when, len(counts))
			}
			for _, id := range []string{resA, resB, "mon_none"} {
				want := *got[id]
				want.LatencySumMS, want.Latency = 0, stats.Histogram{}
				if c := counts[id]; c.Probes != want.Probes || c.Up != want.Up || c.Degraded != want.Degraded || c.Down != want.Down ||
					c.Retried != want.Retried || c.Missed != want.Missed || c.Bytes != want.Bytes || c.LatencySumMS != 0 || c.Latency.Count() != 0 {
					t.Errorf("%s: counts of %s over [%s, %s): got %+v, want %+v", when, id, w[0], w[1], *c, want)
				}
			}
		}
	}
	check("all tiers")
	if _, err := s.DeleteResultsBefore(t.Context(), TierRaw, resAt(1, 30, 0, 0), 0); err != nil {
		t.Fatal(err)
	}
	check("raw results pruned")
}

// testResultsWindowCountsLateWrites reads the same windows again and again
// (as the alert evaluator does every tick, the store may keep what it summed
// of closed buckets) while late results and missed runs land in closed
// minutes and hours and rows are deleted: every read must count exactly
// what MonitorStatus counts at that moment.
func testResultsWindowCountsLateWrites(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	resWriteFixture(t, s)
	windows := [][2]time.Time{
		{resAt(0, 3, 7, 125), resAt(2, 40, 33, 900)},
		{resAt(0, 0, 0, 0), resAt(3, 0, 0, 0)},
		{resAt(1, 10, 0, 0), resAt(1, 20, 5, 0)},
		{resAt(-48, 0, 0, 0), resAt(2, 30, 0, 0)},
	}
	ids := []string{resA, resB, "mon_c"}
	check := func(when string) {
		t.Helper()
		for _, w := range windows {
			counts, err := s.WindowCounts(t.Context(), ids, w[0], w[1])
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				want, _ := resStatus(t, s, id, w[0], w[1])
				if c := counts[id]; c.Probes != want.Probes || c.Up != want.Up || c.Degraded != want.Degraded ||
					c.Down != want.Down || c.Retried != want.Retried || c.Missed != want.Missed || c.Bytes != want.Bytes {
					t.Errorf("%s: counts of %s over [%s, %s): got %+v, want %+v", when, id, w[0], w[1], *c, want)
				}
			}
		}
	}
	check("first read")
	check("second read")
	late := func(id string, tm time.Time, outcome string) api.ProbeResult {
		return api.ProbeResult{MonitorID: id, Time: tm, Outcome: outcome, LatencyMS: 7, BytesReceived: 3, Attempts: 2}
	}
	// Late results in a closed minute and a closed hour of every window,
	// for a monitor with data and one without.
	resWrite(t, s, []api.ProbeResult{late(resA, resAt(1, 15, 1, 0), api.OutcomeDown), late(resA, resAt(0, 30, 2, 0), api.OutcomeUp),
		late("mon_c", resAt(1, 11, 3, 0), api.OutcomeDegraded), late(resB, resAt(-47, 30, 0, 0), api.OutcomeDown)}, nil)
	check("late results")
	resWrite(t, s, nil, []MissedRun{{MonitorID: resB, Time: resAt(1, 12, 0, 0)}, {MonitorID: resA, Time: resAt(0, 40, 0, 0)}})
	check("late missed runs")
	if _, err := s.DeleteMonitorResultsBefore(t.Context(), TierMinute, []string{resA}, resAt(1, 16, 0, 0), 0); err != nil {
		t.Fatal(err)
	}
	check("minutes of one monitor pruned")
	if err := s.DeleteMonitorData(t.Context(), "mon_c"); err != nil {
		t.Fatal(err)
	}
	check("one monitor's data deleted")
	if _, err := s.DeleteResultsBefore(t.Context(), TierHour, resAt(1, 0, 0, 0), 0); err != nil {
		t.Fatal(err)
	}
	check("hours pruned")
}

// resCheckWindow compares one window of a read with what MonitorStatus
// reads for each monitor: every count, and the latencies too (or none)
// as latencies asks.
func resCheckWindow(t *testing.T, s Store, when string, got map[string]*stats.Rollup, ids []string, from, to time.Time, latencies bool) {
	t.Helper()
	if len(got) != len(ids) {
		t.Errorf("%s: %d rollups for %d monitors", when, len(got), len(ids))
	}
	for _, id := range ids {
		want, _ := resStatus(t, s, id, from, to)
		g := got[id]
		if g == nil {
			t.Errorf("%s: no rollup of %s over [%s, %s)", when, id, from, to)
			continue
		}
		if !latencies {
			want.LatencySumMS, want.Latency = 0, stats.Histogram{}
		}
		if g.Probes != want.Probes || g.Up != want.Up || g.Degraded != want.Degraded || g.Down != want.Down ||
			g.Retried != want.Retried || g.Missed != want.Missed || g.Bytes != want.Bytes ||
			math.Abs(g.LatencySumMS-want.LatencySumMS) > 1e-6 || !g.Latency.Equal(&want.Latency) {
			t.Errorf("%s: %s over [%s, %s) (latencies %v): got %+v, want %+v", when, id, from, to, latencies, *g, want)
		}
	}
}

// testResultsReadWindows: windows of several lengths ending at the same
// time, read together (counts and latencies, monitor sets that overlap,
// windows that repeat), are each what MonitorStatus reads for one monitor
// over that window; an empty window and an empty read give empty maps.
func testResultsReadWindows(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	resWriteFixture(t, s)
	ab, a, bn := []string{resA, resB}, []string{resA}, []string{resB, "mon_none"}
	for _, to := range []time.Time{resAt(0, 9, 33, 900), resAt(1, 0, 0, 0), resAt(2, 40, 7, 125), resAt(3, 0, 0, 1)} {
		windows := []WindowRead{
			{MonitorIDs: ab, From: to.Add(-time.Minute)},
			{MonitorIDs: a, From: to.Add(-5 * time.Minute), Latencies: true},
			{MonitorIDs: ab, From: to.Add(-5 * time.Minute)},
			{MonitorIDs: bn, From: to.Add(-15 * time.Minute)},
			{MonitorIDs: append(slices.Clone(ab), resA), From: to.Add(-time.Hour)},
			{MonitorIDs: ab, From: to.Add(-time.Hour), Latencies: true},
			{MonitorIDs: []string{resB, resA}, From: to.Add(-2*time.Hour - 30*time.Second)},
			{MonitorIDs: ab, From: to.Add(-48 * time.Hour)},
			{MonitorIDs: nil, From: to.Add(-time.Hour)},
			{MonitorIDs: a, From: to.Add(-5 * time.Minute)},
		}
		got, err := s.ReadWindows(t.Context(), to, windows)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(windows) {
			t.Fatalf("ReadWindows: %d results for %d windows", len(got), len(windows))
		}
		for i, w := range windows {
			ids := slices.Compact(slices.Sorted(slices.Values(w.MonitorIDs)))
			resCheckWindow(t, s, fmt.Sprintf("window %d at %s", i, to), got[i], ids, w.From, to, w.Latencies)
		}
	}
	none, err := s.ReadWindows(t.Context(), resAt(1, 0, 0, 0), nil)
	if err != nil || len(none) != 0 {
		t.Errorf("no windows: %v, %v", none, err)
	}
}

// testResultsWindowCountsSliding moves windows forward as the alert
// evaluator does, tick after tick (the store may derive a window's sums
// from those of the window a minute or an hour earlier, adding and taking
// off the buckets at the ends), while late results and missed runs land in
// closed minutes and hours and rows are deleted: every read must count
// exactly what MonitorStatus counts at that moment.
func testResultsWindowCountsSliding(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	resWriteFixture(t, s)
	// A monitor with a result every 10 minutes over two days, for windows
	// whose hours move.
	const slow = "mon_slow"
	var results []api.ProbeResult
	for i := range 2 * 24 * 6 {
		results = append(results, api.ProbeResult{MonitorID: slow, Time: resAt(-46, 10*i, 3, 0), Outcome: []string{api.OutcomeUp,
			api.OutcomeDegraded, api.OutcomeDown}[i%3], LatencyMS: 5, BytesReceived: int64(i), Attempts: 1 + i%2})
	}
	resWrite(t, s, results, []MissedRun{{MonitorID: slow, Time: resAt(-30, 0, 0, 0)}, {MonitorID: slow, Time: resAt(-2, 7, 0, 0)}})
	ids := []string{resA, resB, slow, "mon_none"}
	lengths := []time.Duration{5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 24 * time.Hour}
	late := func(id string, tm time.Time, outcome string) api.ProbeResult {
		return api.ProbeResult{MonitorID: id, Time: tm, Outcome: outcome, LatencyMS: 7, BytesReceived: 3, Attempts: 2}
	}
	step := 0
	read := func(to time.Time) {
		t.Helper()
		step++
		windows := make([]WindowRead, len(lengths))
		for i, l := range lengths {
			windows[i] = WindowRead{MonitorIDs: ids, From: to.Add(-l)}
		}
		got, err := s.ReadWindows(t.Context(), to, windows)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range windows {
			resCheckWindow(t, s, fmt.Sprintf("step %d", step), got[i], ids, w.From, to, false)
		}
	}
	// Minutes: every 10 s for a quarter of an hour, then a minute and a
	// half at a time.
	to := resAt(1, 40, 2, 500)
	for i := range 90 {
		read(to)
		switch i {
		case 20, 50:
			// Late rows inside the leading edges (the closed minutes the
			// windows start in) that were just read.
			edge := func(l time.Duration) time.Time {
				from := to.Add(-l)
				return from.Add(from.Truncate(time.Minute).Add(time.Minute).Sub(from) / 2)
			}
			resWrite(t, s, []api.ProbeResult{late(resA, edge(5*time.Minute), api.OutcomeDown),
				late("mon_none", edge(15*time.Minute), api.OutcomeDegraded)},
				[]MissedRun{{MonitorID: resB, Time: edge(time.Hour)}, {MonitorID: slow, Time: edge(30 * time.Minute)}})
		}
		to = to.Add(10 * time.Second)
	}
	for i := range 40 {
		read(to)
		switch i {
		case 5:
			resWrite(t, s, []api.ProbeResult{late(resA, to.Add(-3*time.Minute), api.OutcomeDown),
				late(slow, to.Add(-10*time.Minute), api.OutcomeUp)}, nil)
		case 12:
			resWrite(t, s, nil, []MissedRun{{MonitorID: resB, Time: to.Add(-20 * time.Minute)}, {MonitorID: resA, Time: to.Add(-2 * time.Minute)}})
		case 20:
			if _, err := s.DeleteMonitorResultsBefore(t.Context(), TierMinute, []string{resA}, to.Add(-25*time.Minute), 0); err != nil {
				t.Fatal(err)
			}
		}
		to = to.Add(90 * time.Second)
	}
	// Hours: the day-long windows' hour buckets move one at a time, with
	// a late result in a closed hour on the way.
	to = resAt(-20, 30, 0, 0)
	for i := range 30 {
		read(to)
		if i == 10 {
			resWrite(t, s, []api.ProbeResult{late(slow, to.Add(-5*time.Hour), api.OutcomeDown)}, nil)
		}
		to = to.Add(time.Hour)
	}
}
