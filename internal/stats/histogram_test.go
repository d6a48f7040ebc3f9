package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// exactRank is the nearest rank ceil(p·n/100) in integers, independent of
// Rank's floating point.
func exactRank(pct, n int) int {
	r := (pct*n + 99) / 100
	return max(r, 1)
}

// exactQuantile returns the value of the nearest rank in sorted.
func exactQuantile(sorted []float64, pct int) float64 {
	return sorted[exactRank(pct, len(sorted))-1]
}

func checkClose(t *testing.T, what string, got, want float64) {
	t.Helper()
	if want < FloorMS {
		if got != FloorMS/2 {
			t.Errorf("%s: a value below the floor should've been reported as %v, got %v", what, FloorMS/2, got)
		}
		return
	}
	if rel := math.Abs(got-want) / want; rel > 0.01 || rel > MaxRelativeError*(1+1e-9) {
		t.Errorf("%s: got %v, want %v within 1%% (relative error %.5f%%)", what, got, want, rel*100)
	}
}

type distribution struct {
	name string
	gen  func(r *rand.Rand) float64
}

var distributions = []distribution{
	{"uniform", func(r *rand.Rand) float64 { return 1 + r.Float64()*999 }},
	{"exponential", func(r *rand.Rand) float64 { return r.ExpFloat64() * 120 }},
	{"lognormal", func(r *rand.Rand) float64 { return math.Exp(r.NormFloat64()*1.5 + 3) }},
	{"bimodal", func(r *rand.Rand) float64 {
		if r.IntN(10) == 0 {
			return 10000 + r.Float64()*100 // timeouts
		}
		return 20 + r.Float64()*5
	}},
	{"submillisecond", func(r *rand.Rand) float64 { return 0.005 + r.Float64()*0.5 }},
	{"integers", func(r *rand.Rand) float64 { return float64(r.IntN(50)) }},
	{"constant", func(r *rand.Rand) float64 { return 42 }},
	{"huge", func(r *rand.Rand) float64 { return r.Float64() * 1e9 }},
}

// TestQuantileProperty: for random latencies from several distributions
// and 1 to 100,000 values, every quantile is within 1 % of the exact
// nearest-rank value.
func TestQuantileProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 2, 3, 7, 19, 20, 99, 100, 101, 1000, 12345, 100000}
	for _, d := range distributions {
		for _, n := range sizes {
			var h Histogram
			vals := make([]float64, n)
			for i := range vals {
				vals[i] = d.gen(r)
				h.Add(vals[i])
			}
			if h.Count() != uint64(n) {
				t.Fatalf("%s/%d: Count() = %d", d.name, n, h.Count())
			}
			slices.Sort(vals)
			for _, pct := range []int{1, 25, 50, 90, 95, 99, 100} {
				checkClose(t, d.name, h.Quantile(float64(pct)/100), exactQuantile(vals, pct))
			}
			checkClose(t, d.name+" q=0", h.Quantile(0), vals[0])
		}
	}
	// And a few hundred random sizes.
	for range 300 {
		d := distributions[r.IntN(len(distributions))]
		n := 1 + r.IntN(5000)
		var h Histogram
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = d.gen(r)
			h.Add(vals[i])
		}
		slices.Sort(vals)
		pct := 1 + r.IntN(100)
		checkClose(t, d.name, h.Quantile(float64(pct)/100), exactQuantile(vals, pct))
	}
}

// TestBucketBounds walks values across many buckets, including the exact
// bucket bounds, and checks the relative error of each alone.
func TestBucketBounds(t *testing.T) {
	for i := minIndex - 1; i < 1200; i++ {
		b := math.Pow(Gamma, float64(i))
		for _, v := range []float64{b, math.Nextafter(b, 0), math.Nextafter(b, math.Inf(1)), b * 1.01} {
			var h Histogram
			h.Add(v)
			checkClose(t, "single value", h.Quantile(0.5), v)
		}
	}
	if MaxRelativeError >= 0.01 {
		t.Errorf("the bound should've been below 1%%: %v", MaxRelativeError)
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	if !math.IsNaN(h.Quantile(0.5)) || h.Count() != 0 {
		t.Errorf("an empty histogram should've had no quantile and no count")
	}
	h.Add(math.NaN())
	if h.Count() != 0 {
		t.Errorf("NaN should've been ignored")
	}
	h.Add(-3)
	h.Add(0)
	h.Add(math.Inf(1))
	if h.Count() != 3 || h.Quantile(0.5) != FloorMS/2 {
		t.Errorf("negative and zero values should've gone to the floor bucket: count %d, median %v", h.Count(), h.Quantile(0.5))
	}
	if v := h.Quantile(1); math.IsInf(v, 0) || math.IsNaN(v) || v < 1e15 {
		t.Errorf("+Inf should've landed in the top bucket, got %v", v)
	}
}

func TestRank(t *testing.T) {
	for _, tc := range []struct {
		q    float64
		n    uint64
		want uint64
	}{
		{0.95, 100, 95}, {0.95, 101, 96}, {0.99, 100, 99}, {0.99, 1, 1}, {0.29, 100, 29},
		{0.5, 2, 1}, {0.5, 3, 2}, {0, 10, 1}, {1, 10, 10}, {1.5, 10, 10}, {-1, 10, 1}, {0.5, 0, 0},
	} {
		if got := Rank(tc.q, tc.n); got != tc.want {
			t.Errorf("Rank(%v, %d) = %d, want %d", tc.q, tc.n, got, tc.want)
		}
	}
	for n := 1; n <= 100000; n += 37 {
		for _, pct := range []int{50, 95, 99} {
			if got, want := Rank(float64(pct)/100, uint64(n)), uint64(exactRank(pct, n)); got != want {
				t.Fatalf("Rank(%d%%, %d) = %d, want %d", pct, n, got, want)
			}
		}
	}
}

// TestMergeEqualsSingle: values split over several histograms and merged
// give the same histogram as all of them added to one.
func TestMergeEqualsSingle(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, d := range distributions {
		var all Histogram
		parts := make([]Histogram, 1+r.IntN(7))
		for range 20000 {
			v := d.gen(r)
			all.Add(v)
			parts[r.IntN(len(parts))].Add(v)
		}
		var merged Histogram
		for i := range parts {
			merged.Merge(&parts[i])
		}
		merged.Merge(nil)
		merged.Merge(&Histogram{})
		if !merged.Equal(&all) {
			t.Errorf("%s: the merge of %d parts should've equalled the single histogram", d.name, len(parts))
		}
		for _, q := range []float64{0.5, 0.95, 0.99} {
			if a, b := merged.Quantile(q), all.Quantile(q); a != b {
				t.Errorf("%s: q%v merged %v, single %v", d.name, q, a, b)
			}
		}
	}
}

func TestCloneIsIndependent(t *testing.T) {
	var h Histogram
	h.Add(10)
	c := h.Clone()
	c.Add(20)
	if h.Count() != 1 || c.Count() != 2 {
		t.Errorf("a clone should've been independent: %d, %d", h.Count(), c.Count())
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, d := range distributions {
		for _, n := range []int{0, 1, 10, 10000} {
			var h Histogram
			for range n {
				h.Add(d.gen(r))
			}
			b := h.Marshal()
			var got Histogram
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("%s/%d: Unmarshal: %v", d.name, n, err)
			}
			if !got.Equal(&h) {
				t.Errorf("%s/%d: the round trip should've given the same histogram", d.name, n)
			}
			if n == 10000 && d.name == "bimodal" && len(b) > 2000 {
				t.Errorf("the encoding should've been compact, got %d bytes", len(b))
			}
		}
	}
	var empty Histogram
	if err := empty.UnmarshalBinary(nil); err != nil || empty.Count() != 0 {
		t.Errorf("an empty blob should've been an empty histogram: %v", err)
	}
	if n := len(empty.Marshal()); n != 3 {
		t.Errorf("an empty histogram should've been 3 bytes, got %d", n)
	}
	var h Histogram
	h.Add(1)
	h.Add(100)
	good := h.Marshal()
	for _, bad := range [][]byte{
		{3, 0, 0},                         // unknown version
		{2, 0, 1, 4, 1},                   // runs: a count missing
		{2, 0, 1, 4, 2, 0, 1},             // runs: a run starting with an empty bucket
		{2, 0, 1, 4, 2, 1, 0},             // runs: a run ending with an empty bucket
		{2, 0, 1, 4, 0},                   // runs: an empty run
		{2, 0, 2, 4, 1, 1, 2, 1, 1},       // runs: runs touching (a gap below 2)
		{2, 0, 1, 4, 1, 1, 9},             // runs: trailing bytes
		{1, 0},                            // truncated
		{1, 0, 1},                         // a bucket missing
		{1, 0, 2, 2, 1, 0, 1},             // a non-ascending index
		{1, 0, 1, 2, 0},                   // a zero count
		append(slices.Clone(good), 0),     // trailing bytes
		good[:len(good)-1],                // truncated count
		{1, 0, 1, 0x80, 0x80, 0x80, 0x80}, // a varint cut short
	} {
		var x Histogram
		if err := x.UnmarshalBinary(bad); err == nil {
			t.Errorf("UnmarshalBinary(%v) should've failed", bad)
		}
	}
}

// TestMarshalPicksTheShorterForm: an hour of probes of a service (many
// values over neighbouring buckets) is stored as runs, about two thirds
// of the size of the sparse form, and a minute's 6 probes (a few values far
// apart) in the sparse form; both decode to the same histogram.
func TestMarshalPicksTheShorterForm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var hour, minute Histogram
	for i := range 360 {
		// The latency of an HTTPS probe as bench/retention makes them.
		v := 0.2 + r.Float64()*3 + 0.5 + r.Float64()*20 + 2 + r.Float64()*30 + 5 + r.ExpFloat64()*40 + r.Float64()*5
		hour.Add(v)
		if i < 6 {
			minute.Add(v)
		}
	}
	for _, c := range []struct {
		name    string
		h       *Histogram
		version byte
	}{{"hour", &hour, histogramRuns}, {"minute", &minute, histogramSparse}} {
		b := c.h.Marshal()
		idx := c.h.sortedIndexes()
		sparse := c.h.appendSparse(nil, idx)
		runs := c.h.appendRuns(nil, idx)
		if b[0] != c.version || len(b) != min(len(sparse), len(runs)) {
			t.Errorf("%s: %d bytes in form %d, want form %d (sparse %d bytes, runs %d bytes)", c.name, len(b), b[0], c.version, len(sparse), len(runs))
		}
		for _, enc := range [][]byte{sparse, runs} {
			var got Histogram
			if err := got.UnmarshalBinary(enc); err != nil || !got.Equal(c.h) {
				t.Errorf("%s: form %d should've decoded to the same histogram (%v)", c.name, enc[0], err)
			}
		}
		t.Logf("%s: %d values in %d buckets: sparse %d bytes, runs %d bytes", c.name, c.h.Count(), len(idx), len(sparse), len(runs))
	}
	if b := hour.Marshal(); 10*len(b) > 7*len(hour.appendSparse(nil, hour.sortedIndexes())) {
		t.Errorf("the runs form of an hour should've been at most 70 %% of the sparse form, got %d bytes", len(b))
	}
}

func TestRollupAndStatus(t *testing.T) {
	results := []api.ProbeResult{
		{Outcome: api.OutcomeUp, LatencyMS: 10, BytesReceived: 100, Attempts: 1},
		{Outcome: api.OutcomeUp, LatencyMS: 20, BytesReceived: 100, Attempts: 1},
		{Outcome: api.OutcomeDegraded, LatencyMS: 30, BytesReceived: 200, Attempts: 2},
		{Outcome: api.OutcomeDown, LatencyMS: 1000, BytesReceived: 0, Attempts: 3},
	}
	var a, b, all Rollup
	for i, res := range results {
		all.Add(res)
		if i%2 == 0 {
			a.Add(res)
		} else {
			b.Add(res)
		}
	}
	a.Missed, all.Missed = 2, 2
	var m Rollup
	m.Merge(&a)
	m.Merge(&b)
	if m.Probes != 4 || m.Up != 2 || m.Degraded != 1 || m.Down != 1 || m.Retried != 2 || m.Missed != 2 ||
		m.Bytes != 400 || m.LatencySumMS != 1060 || !m.Latency.Equal(&all.Latency) {
		t.Errorf("merged rollup = %+v", m)
	}

	st := Status(&m, 2*time.Minute)
	want := map[string]float64{
		"availability": 75, "error": 25, "retry": 50, "avg": 265, "ppm": 2, "bpm": 200,
	}
	got := map[string]*float64{
		"availability": st.AvailabilityPercent, "error": st.ErrorRatePercent, "retry": st.RetryRatePercent,
		"avg": st.LatencyAvgMS, "ppm": st.ProbesPerMinute, "bpm": st.BytesPerMinute,
	}
	for k, w := range want {
		if got[k] == nil || *got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if st.Probes != 4 || st.Missed != 2 {
		t.Errorf("probes %d, missed %d", st.Probes, st.Missed)
	}
	// Nearest rank: p95 and p99 of 4 values are the 4th, 1000 ms.
	checkClose(t, "p95", *st.LatencyP95MS, 1000)
	checkClose(t, "p99", *st.LatencyP99MS, 1000)

	empty := Rollup{Missed: 3}
	st = Status(&empty, time.Hour)
	if st.AvailabilityPercent != nil || st.ErrorRatePercent != nil || st.RetryRatePercent != nil ||
		st.LatencyAvgMS != nil || st.LatencyP95MS != nil || st.LatencyP99MS != nil ||
		st.ProbesPerMinute != nil || st.BytesPerMinute != nil {
		t.Errorf("every figure should've been nil without probes: %+v", st)
	}
	if st.Probes != 0 || st.Missed != 3 {
		t.Errorf("probes %d, missed %d", st.Probes, st.Missed)
	}

	c := m.Clone()
	c.Add(results[0])
	if m.Latency.Count() != 4 {
		t.Errorf("a cloned rollup should've had its own histogram")
	}
}

// A run that never reached the network counts as a probe (down) but not in
// the response-time figures.
func TestRunsWithoutAttemptsHaveNoLatency(t *testing.T) {
	var r Rollup
	r.Add(api.ProbeResult{Outcome: api.OutcomeDown, Attempts: 0, LatencyMS: 0})
	r.Add(api.ProbeResult{Outcome: api.OutcomeUp, Attempts: 1, LatencyMS: 100})
	st := Status(&r, time.Minute)
	if st.Probes != 2 || *st.ErrorRatePercent != 50 || *st.AvailabilityPercent != 50 {
		t.Fatalf("counts: %+v", st)
	}
	if *st.LatencyAvgMS != 100 {
		t.Errorf("avg = %v, want 100 (the run without attempts left out)", *st.LatencyAvgMS)
	}
	if p := *st.LatencyP95MS; p < 99 || p > 101 {
		t.Errorf("p95 = %v, want 100 within 1 %%", p)
	}
	var none Rollup
	none.Add(api.ProbeResult{Outcome: api.OutcomeDown, Attempts: 0})
	if st := Status(&none, time.Minute); st.LatencyAvgMS != nil || st.LatencyP95MS != nil || st.AvailabilityPercent == nil {
		t.Errorf("only runs without attempts: latency figures must be null, rates not: %+v", st)
	}
}

// MergeBinary of several encodings is Merge of the decoded histograms;
// a malformed encoding leaves the histogram as it was.
func TestMergeBinary(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	var want, got Histogram
	forms := map[byte]int{}
	for k := range 40 {
		var part Histogram
		// Every other part is an hour of a service's probes: many values
		// over neighbouring buckets, which MarshalBinary stores as runs.
		for range rng.IntN(50) + 360*(k%2) {
			part.Add(rng.ExpFloat64() * 100)
		}
		part.AddN(0, uint64(rng.IntN(3))) // the floor bucket
		want.Merge(&part)
		b := part.Marshal()
		if len(b) > 0 {
			forms[b[0]]++
		}
		if err := got.MergeBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	if forms[histogramSparse] == 0 || forms[histogramRuns] == 0 {
		t.Fatalf("the parts should've been encoded in both forms, got %v", forms)
	}
	if err := got.MergeBinary(nil); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(&want) || got.Count() != want.Count() {
		t.Fatalf("MergeBinary: count %d, want %d", got.Count(), want.Count())
	}
	before := got.Clone()
	var one Histogram
	one.Add(5)
	one.Add(500)
	bad := one.Marshal()
	bad = bad[:len(bad)-1] // the last bucket's count cut off
	if err := got.MergeBinary(bad); err == nil {
		t.Fatal("a truncated encoding was merged")
	}
	if !got.Equal(&before) {
		t.Fatal("a malformed encoding changed the histogram")
	}
}

// AddCounts is Add without the latencies.
func TestRollupAddCounts(t *testing.T) {
	var full, counts Rollup
	for _, res := range []api.ProbeResult{
		{Outcome: api.OutcomeUp, Attempts: 1, LatencyMS: 3, BytesReceived: 10},
		{Outcome: api.OutcomeDegraded, Attempts: 2, LatencyMS: 30, BytesReceived: 20},
		{Outcome: api.OutcomeDown, Attempts: 0},
	} {
		full.Add(res)
		counts.AddCounts(res)
	}
	full.LatencySumMS, full.Latency = 0, Histogram{}
	if counts.LatencySumMS != 0 || counts.Latency.Count() != 0 || counts.Probes != 3 || counts.Up != 1 || counts.Degraded != 1 ||
		counts.Down != 1 || counts.Retried != 1 || counts.Bytes != 30 {
		t.Fatalf("AddCounts: %+v", counts)
	}
	if full.Probes != counts.Probes || full.Up != counts.Up || full.Degraded != counts.Degraded || full.Down != counts.Down ||
		full.Retried != counts.Retried || full.Bytes != counts.Bytes || full.Missed != counts.Missed {
		t.Fatalf("AddCounts %+v differs from Add %+v", counts, full)
	}
}
