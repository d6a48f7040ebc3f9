package crashtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/testutil/aiodproc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	aiodproc.RemoveBuilds()
	os.Exit(code)
}

// eachSeed runs fn in a subtest per seed: the one of AIO_CRASH_SEED when
// set (to reproduce a failure), else AIO_CRASH_SEEDS (default def) seeds
// drawn from the clock, so that every run explores other kill points. A
// failing subtest names its seed and the command that replays it.
//
// The crash tests run in parallel with each other (each has its own aiod,
// database and port): much of their time is waiting — for a lease to end,
// for aiod to start — so together they take little more than the longest.
func eachSeed(t *testing.T, def int, fn func(t *testing.T, rng *rand.Rand)) {
	if testing.Short() {
		t.Skip("crash tests build and run aiod as a subprocess; skipped with -short")
	}
	t.Parallel()
	var seeds []uint64
	if s := os.Getenv("AIO_CRASH_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("AIO_CRASH_SEED=%q: want a number", s)
		}
		seeds = []uint64{seed}
	} else {
		n := def
		if s := os.Getenv("AIO_CRASH_SEEDS"); s != "" {
			var err error
			if n, err = strconv.Atoi(s); err != nil || n < 1 {
				t.Fatalf("AIO_CRASH_SEEDS=%q: want a number above 0", s)
			}
		}
		base := uint64(time.Now().UnixNano()) % 1_000_000_000
		for i := range n {
			seeds = append(seeds, base+uint64(i))
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("reproduce with: AIO_CRASH_SEED=%d go test -count=1 -run '^%s$' ./internal/crashtest/", seed, t.Name())
				}
			})
			fn(t, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)))
		})
	}
}

// figures logs the line scripts/stress.sh adds up.
func figures(t *testing.T, scenario string, kills int, v aiodproc.Verdict) {
	t.Logf("FIGURES crash scenario=%s kills=%d acked=%d lost=%d duplicates=%d bad_replays=%d",
		scenario, kills, v.Acked, v.Lost, v.Duplicates, v.BadReplays)
}

// between returns a duration in [lo, hi) drawn from rng.
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}

// create POSTs body to collection with a fresh idempotency key and returns
// the created object's ID; anything but 201 fails the test.
func create(t *testing.T, p *aiodproc.Proc, collection string, body any) string {
	t.Helper()
	st, _, b, err := p.Do(context.Background(), http.MethodPost, collection, fmt.Sprintf("setup-%d", time.Now().UnixNano()), body)
	if err != nil || st != http.StatusCreated {
		t.Fatalf("POST %s: %d %v %s", collection, st, err, b)
	}
	var got struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &got); err != nil || got.ID == "" {
		t.Fatalf("POST %s: no id in %s", collection, b)
	}
	return got.ID
}

// waitFor polls cond every 50 ms until it holds, failing the test after
// limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
