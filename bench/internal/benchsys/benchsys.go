// Package benchsys holds what the benchmark programs share to measure a
// process: CPU time, memory and descriptor limits from the kernel, and
// percentiles of a sample of durations; and the local HTTP targets they
// probe, served by a second process of the benchmark binary.
package benchsys

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RaiseNoFile lifts the soft RLIMIT_NOFILE to the hard limit: 256 probes
// in flight plus the store need more than the usual 1024 descriptors only
// under load, but a benchmark should not fail on the limit.
func RaiseNoFile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= lim.Max {
		return lim.Cur, nil
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return lim.Cur, err
	}
	return lim.Cur, nil
}

// CPUSelf is this process's user + system CPU time.
func CPUSelf() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CPUOf is another process's user + system CPU time from /proc/PID/stat
// (USER_HZ is 100 on Linux), or 0 when it cannot be read.
func CPUOf(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may contain spaces: fields start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * (time.Second / 100)
}

// StatusKB reads a "Vm...: N kB" line of /proc/PID/status ("self" for this
// process).
func StatusKB(pid, key string) int64 {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			fs := strings.Fields(rest)
			if len(fs) > 0 {
				n, _ := strconv.ParseInt(fs[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// Percentile is the nearest-rank Percentile (p in [0, 100]) of sorted.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// Summary is the percentiles of a sample of durations.
type Summary struct {
	N             int           `json:"n"`
	P50, P99, Max time.Duration `json:"-"`
	P50NS         int64         `json:"p50_ns"`
	P99NS         int64         `json:"p99_ns"`
	MaxNS         int64         `json:"max_ns"`
}

func Summarize(v []time.Duration) Summary {
	s := slices.Clone(v)
	slices.Sort(s)
	out := Summary{N: len(s), P50: Percentile(s, 50), P99: Percentile(s, 99)}
	if len(s) > 0 {
		out.Max = s[len(s)-1]
	}
	out.P50NS, out.P99NS, out.MaxNS = int64(out.P50), int64(out.P99), int64(out.Max)
	return out
}

// FromJSON restores the durations after decoding.
func (s *Summary) FromJSON() {
	s.P50, s.P99, s.Max = time.Duration(s.P50NS), time.Duration(s.P99NS), time.Duration(s.MaxNS)
}
