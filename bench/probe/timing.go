package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// timedStore is the store the engine gets: the real one, with the calls
// that matter to throughput and lag timed (the result batches the writer
// commits, and the listings the scheduler's reload reads), so that the
// report can say where a lag spike came from.
type timedStore struct {
	store.Store

	mu      sync.Mutex
	writes  []span // result write transactions (WriteResults, WriteResultsYielding)
	listing []span // ListMonitors/ListEndpoints pages, merged per reload below
	// apiWait and apiHold are, for every other write transaction (Write:
	// the API's changes, the alert evaluator's states), how long it waited
	// for the writer connection and how long it then held it.
	apiWait, apiHold []span
}

// span is one timed call.
type span struct {
	at   time.Time
	took time.Duration
	n    int
}

func (s *timedStore) WriteResults(ctx context.Context, results []api.ProbeResult, missed []store.MissedRun) error {
	start := time.Now()
	err := s.Store.WriteResults(ctx, results, missed)
	s.add(&s.writes, span{start, time.Since(start), len(results) + len(missed)})
	return err
}

func (s *timedStore) WriteResultsYielding(ctx context.Context, results []api.ProbeResult, missed []store.MissedRun, piece int) (int, int, error) {
	start := time.Now()
	nr, nm, err := s.Store.WriteResultsYielding(ctx, results, missed, piece)
	s.add(&s.writes, span{start, time.Since(start), nr + nm})
	return nr, nm, err
}

func (s *timedStore) Write(ctx context.Context, fn func(tx store.Tx) error) error {
	start := time.Now()
	var began time.Time
	err := s.Store.Write(ctx, func(tx store.Tx) error {
		began = time.Now()
		return fn(tx)
	})
	if !began.IsZero() {
		s.add(&s.apiWait, span{start, began.Sub(start), 1})
		s.add(&s.apiHold, span{began, time.Since(began), 1})
	}
	return err
}

func (s *timedStore) ListMonitors(ctx context.Context, q store.MonitorQuery) ([]api.Monitor, string, error) {
	start := time.Now()
	page, next, err := s.Store.ListMonitors(ctx, q)
	s.add(&s.listing, span{start, time.Since(start), len(page)})
	return page, next, err
}

func (s *timedStore) ListEndpoints(ctx context.Context, q store.ListQuery) ([]api.Endpoint, string, error) {
	start := time.Now()
	page, next, err := s.Store.ListEndpoints(ctx, q)
	s.add(&s.listing, span{start, time.Since(start), len(page)})
	return page, next, err
}

func (s *timedStore) add(to *[]span, sp span) {
	s.mu.Lock()
	*to = append(*to, sp)
	s.mu.Unlock()
}

// reloads merges listing pages less than 100ms apart into one reload each:
// when it started and how long reading took, end to end.
func reloads(pages []span) []span {
	var out []span
	for _, p := range pages {
		end := p.at.Add(p.took)
		if n := len(out); n > 0 && p.at.Sub(out[n-1].at.Add(out[n-1].took)) < 100*time.Millisecond {
			out[n-1].took = end.Sub(out[n-1].at)
			out[n-1].n += p.n
			continue
		}
		out = append(out, p)
	}
	return out
}

// within keeps the spans that overlap [from, to).
func within(spans []span, from, to time.Time) []span {
	var out []span
	for _, s := range spans {
		if s.at.Before(to) && s.at.Add(s.took).After(from) {
			out = append(out, s)
		}
	}
	return out
}

func spanDurations(spans []span) []time.Duration {
	out := make([]time.Duration, len(spans))
	for i, s := range spans {
		out[i] = s.took
	}
	return out
}

// spike is a stretch of runs dispatched late by more than spikeLag.
type spike struct {
	at     time.Time // first late dispatch
	maxLag time.Duration
	runs   int
}

// spikeLag is the lag from which a dispatch counts towards a spike.
const spikeLag = 100 * time.Millisecond

// describeSpikes says, for each lag spike, what the engine was doing when
// the late runs came due: a config reload or a result batch write.
func describeSpikes(spikes []spike, rel time.Time, rl, wr []span) string {
	if len(spikes) == 0 {
		return "none"
	}
	var parts []string
	for _, sp := range spikes {
		dueFrom := sp.at.Add(-sp.maxLag)
		var causes []string
		for _, r := range within(rl, dueFrom, sp.at) {
			causes = append(causes, fmt.Sprintf("reload read %s", dur(r.took)))
		}
		var longest time.Duration
		for _, w := range within(wr, dueFrom, sp.at) {
			longest = max(longest, w.took)
		}
		if longest > 0 {
			causes = append(causes, fmt.Sprintf("result write %s", dur(longest)))
		}
		if len(causes) == 0 {
			causes = append(causes, "no reload or write")
		}
		parts = append(parts, fmt.Sprintf("+%.1fs: %d runs, max %s (%s)", sp.at.Sub(rel).Seconds(), sp.runs,
			dur(sp.maxLag), strings.Join(causes, ", ")))
	}
	return strings.Join(parts, "; ")
}

// groupSpikes turns late dispatches (time, lag), in any order, into spikes:
// late dispatches less than a second apart belong to one spike.
func groupSpikes(late []spike) []spike {
	sort.Slice(late, func(i, j int) bool { return late[i].at.Before(late[j].at) })
	var out []spike
	for _, l := range late {
		if n := len(out); n > 0 && l.at.Sub(out[n-1].at) < time.Second {
			out[n-1].maxLag = max(out[n-1].maxLag, l.maxLag)
			out[n-1].runs++
			continue
		}
		out = append(out, spike{at: l.at, maxLag: l.maxLag, runs: 1})
	}
	return out
}
