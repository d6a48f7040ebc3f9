package faultproxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestEachFaultDoesWhatItSays sends one write per fault (the first writes
// get them in order) and checks what the client saw and whether the
// backend got the request: a dropped answer and a stall reach the backend
// but the client gets no answer; 502, 503, 429 and a reset never reach it;
// a slow answer arrives late but whole.
func TestEachFaultDoesWhatItSays(t *testing.T) {
	var got atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(backend.Close)
	p := New(t, Config{Backend: backend.URL, Rate: -1, Slow: 150 * time.Millisecond, Stall: 300 * time.Millisecond})
	client := &http.Client{Timeout: 5 * time.Second}
	for _, c := range []struct {
		fault    Fault
		status   int // 0: no answer
		reached  bool
		minDelay time.Duration
	}{
		{AnswerDropped, 0, true, 0},
		{BadGateway, http.StatusBadGateway, false, 0},
		{Unavailable, http.StatusServiceUnavailable, false, 0},
		{TooMany, http.StatusTooManyRequests, false, 0},
		{Slow, http.StatusCreated, true, 150 * time.Millisecond},
		{Reset, 0, false, 0},
		{Stall, 0, true, 300 * time.Millisecond},
		{Pass, http.StatusCreated, true, 0},
	} {
		before := got.Load()
		start := time.Now()
		resp, err := client.Post(p.URL+"/v1/endpoints", "application/json", strings.NewReader(`{}`))
		elapsed := time.Since(start)
		status := 0
		if err == nil {
			status = resp.StatusCode
			if c.fault == TooMany && resp.Header.Get("Retry-After") != "1" {
				t.Errorf("429 without Retry-After: 1: %v", resp.Header)
			}
			resp.Body.Close()
		}
		if status != c.status {
			t.Errorf("%s: status %d (%v), want %d", c.fault, status, err, c.status)
		}
		if reached := got.Load() > before; reached != c.reached {
			t.Errorf("%s: reached the backend %v, want %v", c.fault, reached, c.reached)
		}
		if elapsed < c.minDelay {
			t.Errorf("%s: answered after %v, want at least %v", c.fault, elapsed, c.minDelay)
		}
	}
	counts := p.Counts()
	for _, f := range append(Faults, Pass) {
		if counts[f] != 1 {
			t.Errorf("count of %s = %d, want 1 (%s)", f, counts[f], p)
		}
	}
	if m := p.Missing(); len(m) != 0 {
		t.Errorf("missing %v", m)
	}
}
