// Package stats holds the arithmetic of the health figures: a mergeable
// log-bucket latency histogram, the per-bucket rollup of probe results, and
// the figures of a window computed from a rollup. It does no I/O.
package stats

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Gamma is the ratio between the bounds of neighbouring buckets. Bucket i
// holds the values v with Gamma^(i-1) < v <= Gamma^i (in milliseconds) and
// reports them as 2·Gamma^i/(Gamma+1), whose distance to any value of the
// bucket is at most (Gamma-1)/(Gamma+1) ≈ 0.990 % relative: below 1 %.
const Gamma = 1.02

// FloorMS is the smallest value the buckets resolve. Values below it
// (including zero and negative values) all go to one floor bucket, which
// reports FloorMS/2: an absolute error below FloorMS/2 (5 µs).
const FloorMS = 0.01

// MaxRelativeError is the bound on the relative error of a reported value
// at or above FloorMS.
const MaxRelativeError = (Gamma - 1) / (Gamma + 1)

var (
	logGamma = math.Log(Gamma)
	// minIndex is the index of the bucket holding FloorMS.
	minIndex = bucketIndex(FloorMS)
)

// maxIndex bounds the buckets so that a value such as +Inf cannot make an
// absurd index: Gamma^2000 ms is about 1.6e17 ms, five million years.
const maxIndex = 2000

// Histogram counts latencies in log buckets. The zero value is an empty
// histogram ready to use. It is sparse: only buckets that hold a value take
// room. It is not safe for concurrent use.
type Histogram struct {
	floor   uint64
	buckets map[int32]uint64
	count   uint64
}

func bucketIndex(v float64) int32 {
	i := math.Ceil(math.Log(v) / logGamma)
	if i > maxIndex {
		return maxIndex
	}
	return int32(i)
}

// bucketValue is the value bucket i reports: the point whose relative
// distance to both of the bucket's bounds is the same.
func bucketValue(i int32) float64 {
	return 2 * math.Pow(Gamma, float64(i)) / (Gamma + 1)
}

// Add counts one value, in milliseconds. NaN is ignored.
func (h *Histogram) Add(ms float64) { h.AddN(ms, 1) }

// AddN counts n occurrences of one value, in milliseconds. NaN is ignored.
func (h *Histogram) AddN(ms float64, n uint64) {
	if n == 0 || math.IsNaN(ms) {
		return
	}
	h.count += n
	if ms < FloorMS {
		h.floor += n
		return
	}
	i := bucketIndex(ms)
	if i < minIndex {
		// Rounding of the logarithm right at FloorMS.
		i = minIndex
	}
	if h.buckets == nil {
		h.buckets = map[int32]uint64{}
	}
	h.buckets[i] += n
}

// Merge adds every value counted by o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.count == 0 {
		return
	}
	h.count += o.count
	h.floor += o.floor
	if len(o.buckets) > 0 && h.buckets == nil {
		h.buckets = make(map[int32]uint64, len(o.buckets))
	}
	for i, n := range o.buckets {
		h.buckets[i] += n
	}
}

// Clone returns an independent copy of h.
func (h *Histogram) Clone() Histogram {
	c := Histogram{floor: h.floor, count: h.count}
	if len(h.buckets) > 0 {
		c.buckets = make(map[int32]uint64, len(h.buckets))
		for i, n := range h.buckets {
			c.buckets[i] = n
		}
	}
	return c
}

// Count returns how many values h counted.
func (h *Histogram) Count() uint64 { return h.count }

// Equal tells whether h and o counted the same values into the same buckets.
func (h *Histogram) Equal(o *Histogram) bool {
	if h.count != o.count || h.floor != o.floor || len(h.buckets) != len(o.buckets) {
		return false
	}
	for i, n := range h.buckets {
		if o.buckets[i] != n {
			return false
		}
	}
	return true
}

// Rank returns the nearest rank of quantile q among n values: ceil(q·n),
// at least 1 and at most n. A tolerance of 1e-9 absorbs the rounding of
// q·n (0.29·100 is 28.999999999999996 in floating point).
func Rank(q float64, n uint64) uint64 {
	if n == 0 {
		return 0
	}
	r := math.Ceil(q*float64(n) - 1e-9)
	switch {
	case r < 1 || math.IsNaN(r):
		return 1
	case r >= float64(n):
		return n
	}
	return uint64(r)
}

// Quantile returns the nearest-rank q-quantile, the value of rank
// ceil(q·n) in ascending order, within MaxRelativeError of the exact value
// (values below FloorMS are reported as FloorMS/2). It returns NaN when h
// is empty. q is clamped to [0, 1].
func (h *Histogram) Quantile(q float64) float64 {
	if h.count == 0 {
		return math.NaN()
	}
	rank := Rank(q, h.count)
	if rank <= h.floor {
		return FloorMS / 2
	}
	seen := h.floor
	for _, i := range h.sortedIndexes() {
		seen += h.buckets[i]
		if seen >= rank {
			return bucketValue(i)
		}
	}
	// Unreachable while count is the sum of the buckets.
	return bucketValue(slices.Max(h.sortedIndexes()))
}

func (h *Histogram) sortedIndexes() []int32 {
	idx := make([]int32, 0, len(h.buckets))
	for i := range h.buckets {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	return idx
}

// The first byte of the binary form says which of two encodings follows.
// Both hold the same histogram exactly; MarshalBinary writes the shorter.
const (
	// histogramSparse lists the buckets one by one: per bucket the delta
	// of its index to the previous one and its count. It suits few values
	// spread thinly, such as a minute's 6 probes.
	histogramSparse = 1
	// histogramRuns lists runs of neighbouring buckets: per run the gap to
	// the previous run, its length, and the count of every bucket of the
	// run (empty ones as 0). It suits many values over neighbouring
	// buckets, such as an hour's 360 probes, where the sparse form spends
	// a byte per bucket on deltas that are almost all 1 (migration 00015).
	histogramRuns = 2
)

// maxRunGap is the most empty buckets a run bridges with zero counts (a
// byte each) rather than starting a new run (a gap and a length, two
// bytes or more).
const maxRunGap = 2

// MarshalBinary encodes h compactly, in whichever of the two forms is
// shorter. Both start with a version byte and the floor count:
//
//   - sparse (1): the number of buckets, then per bucket in ascending
//     order the delta of its index to the previous one (zig-zag varint;
//     the first one absolute) and its count (varint). An empty histogram
//     is 3 bytes.
//   - runs (2): the number of runs, then per run in ascending order its
//     first index (zig-zag varint: absolute for the first run, then the
//     distance from the previous run's last index, at least 2), its
//     length (varint) and the count of each of its buckets (varint; the
//     first and last are not 0).
func (h *Histogram) MarshalBinary() ([]byte, error) {
	idx := h.sortedIndexes()
	sparse := h.appendSparse(make([]byte, 0, 1+2*binary.MaxVarintLen64+len(idx)*4), idx)
	if len(idx) < 2 {
		return sparse, nil
	}
	if runs := h.appendRuns(make([]byte, 0, len(sparse)), idx); len(runs) < len(sparse) {
		return runs, nil
	}
	return sparse, nil
}

func (h *Histogram) appendSparse(buf []byte, idx []int32) []byte {
	buf = append(buf, histogramSparse)
	buf = binary.AppendUvarint(buf, h.floor)
	buf = binary.AppendUvarint(buf, uint64(len(idx)))
	prev := int64(0)
	for _, i := range idx {
		buf = binary.AppendVarint(buf, int64(i)-prev)
		buf = binary.AppendUvarint(buf, h.buckets[i])
		prev = int64(i)
	}
	return buf
}

func (h *Histogram) appendRuns(buf []byte, idx []int32) []byte {
	// Cut the sorted indexes into runs: a run ends where more than
	// maxRunGap empty buckets follow.
	type run struct{ first, last int32 }
	var runs []run
	for _, i := range idx {
		if n := len(runs); n > 0 && i-runs[n-1].last <= maxRunGap+1 {
			runs[n-1].last = i
			continue
		}
		runs = append(runs, run{i, i})
	}
	buf = append(buf, histogramRuns)
	buf = binary.AppendUvarint(buf, h.floor)
	buf = binary.AppendUvarint(buf, uint64(len(runs)))
	prev := int64(0)
	for _, r := range runs {
		buf = binary.AppendVarint(buf, int64(r.first)-prev)
		buf = binary.AppendUvarint(buf, uint64(r.last-r.first+1)) //nolint:gosec // G115: last >= first, so the length is positive.
		for i := r.first; i <= r.last; i++ {
			buf = binary.AppendUvarint(buf, h.buckets[i])
		}
		prev = int64(r.last)
	}
	return buf
}

// MarshalSparse encodes h in the sparse form only, which every version of
// aiod reads: for undoing migration 00015.
func (h *Histogram) MarshalSparse() []byte {
	idx := h.sortedIndexes()
	return h.appendSparse(make([]byte, 0, 1+2*binary.MaxVarintLen64+len(idx)*4), idx)
}

// Marshal is MarshalBinary without the (always nil) error.
func (h *Histogram) Marshal() []byte {
	b, _ := h.MarshalBinary()
	return b
}

var errHistogram = errors.New("stats: malformed histogram")

// UnmarshalBinary replaces h with the histogram encoded in b, in either
// form.
func (h *Histogram) UnmarshalBinary(b []byte) error {
	*h = Histogram{}
	return h.MergeBinary(b)
}

// MergeBinary adds the histogram encoded in b (MarshalBinary, either
// form) to h, as UnmarshalBinary and Merge would, without making the
// decoded histogram: reading a window merges hundreds of stored rollups
// per monitor. When b is malformed, h is left as it was.
func (h *Histogram) MergeBinary(b []byte) error {
	if len(b) == 0 {
		return nil // an empty histogram stored as an empty blob
	}
	if err := checkBinary(b); err != nil {
		return err
	}
	_ = decodeBinary(b, func(floor uint64) { h.floor += floor; h.count += floor }, func(i int32, c uint64) {
		if h.buckets == nil {
			h.buckets = map[int32]uint64{}
		}
		h.buckets[i] += c
		h.count += c
	})
	return nil
}

// checkBinary validates an encoded histogram without keeping anything.
func checkBinary(b []byte) error {
	return decodeBinary(b, func(uint64) {}, func(int32, uint64) {})
}

// decodeBinary walks an encoded histogram (MarshalBinary, either form),
// calling floorFn once and bucket for every non-empty bucket, and reports
// a malformed encoding (after having called them for what came before
// the fault, hence checkBinary first where that matters).
func decodeBinary(b []byte, floorFn func(uint64), bucket func(int32, uint64)) error {
	version := b[0]
	if version != histogramSparse && version != histogramRuns {
		return fmt.Errorf("%w: version %d", errHistogram, b[0])
	}
	b = b[1:]
	next := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errHistogram
		}
		b = b[n:]
		return v, nil
	}
	floor, err := next()
	if err != nil {
		return err
	}
	nb, err := next()
	if err != nil {
		return err
	}
	if nb > uint64(len(b)) { // every bucket or run takes at least 2 bytes
		return errHistogram
	}
	floorFn(floor)
	prev := int64(0)
	for k := uint64(0); k < nb; k++ {
		d, n := binary.Varint(b)
		if n <= 0 {
			return errHistogram
		}
		b = b[n:]
		first := prev + d
		if version == histogramSparse {
			c, err := next()
			if err != nil {
				return err
			}
			if (k > 0 && d <= 0) || first < math.MinInt32 || first > maxIndex || c == 0 {
				return errHistogram
			}
			prev = first
			bucket(int32(first), c)
			continue
		}
		length, err := next()
		if err != nil {
			return err
		}
		if (k > 0 && d < 2) || length == 0 || length > uint64(len(b)) || first < math.MinInt32 || first+int64(length)-1 > maxIndex { //nolint:gosec // G115: length is at most len(b), checked first in this condition.
			return errHistogram
		}
		for j := range int64(length) { //nolint:gosec // G115: length is at most len(b) (checked above).
			c, err := next()
			if err != nil {
				return err
			}
			if c == 0 {
				if j == 0 || j == int64(length)-1 { //nolint:gosec // G115: length is at most len(b) (checked above).
					return errHistogram
				}
				continue
			}
			bucket(int32(first+j), c) //nolint:gosec // G115: first+j lies in [MinInt32, maxIndex] (checked above).
		}
		prev = first + int64(length) - 1 //nolint:gosec // G115: length is at most len(b) (checked above).
	}
	if len(b) != 0 {
		return errHistogram
	}
	return nil
}
