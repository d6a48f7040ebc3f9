// Package faultproxy is an HTTP proxy for tests that stands between the
// provider (or any client) and a real aiod and injects the faults of a bad
// network path: an answer lost after the server committed the change,
// 502 and 503 answers, 429 with Retry-After, slow answers, connection
// resets, and stalls past the client's request timeout. It counts what it
// did, so that a test can show (and assert) that faults really happened.
//
// Faults are drawn from a seeded generator; the first write requests get
// each fault once, in a fixed order, so that every kind of fault fires in
// every run however few requests it sends.
package faultproxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is what the proxy does with one request.
type Fault string

// The faults, in the order the first writes get them.
const (
	// AnswerDropped forwards the request (aiod commits it) and closes the
	// client's connection without the answer.
	AnswerDropped Fault = "answer_dropped"
	// BadGateway and Unavailable answer 502 and 503 without forwarding.
	BadGateway  Fault = "502"
	Unavailable Fault = "503"
	// TooMany answers 429 with Retry-After: 1 without forwarding.
	TooMany Fault = "429"
	// Slow forwards after Config.Slow.
	Slow Fault = "slow"
	// Reset resets the connection (RST) without forwarding.
	Reset Fault = "reset"
	// Stall holds the request for Config.Stall (past the client's request
	// timeout), then forwards it, so that aiod commits a change the client
	// has given up waiting for, and closes the connection.
	Stall Fault = "stall"
	// Pass forwards the request untouched.
	Pass Fault = "pass"
)

// Faults lists every fault but Pass.
var Faults = []Fault{AnswerDropped, BadGateway, Unavailable, TooMany, Slow, Reset, Stall}

// Config configures a Proxy.
type Config struct {
	// Backend is aiod's base URL.
	Backend string
	// Seed seeds the draw of faults.
	Seed uint64
	// Rate is the share of requests (after the first writes) that get a
	// fault, drawn uniformly from Faults; 0.3 when zero, none when
	// negative.
	Rate float64
	// Slow delays a slow answer (200 ms when zero); Stall holds a stalled
	// request (3 s when zero) and must exceed the client's request timeout.
	Slow, Stall time.Duration
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the proxy's base URL, to give the client instead of aiod's.
	URL string

	cfg    Config
	hs     *httptest.Server
	client *http.Client

	mu       sync.Mutex
	rng      *rand.Rand
	forced   int
	counts   map[Fault]int
	requests int
}

// New starts a proxy in front of cfg.Backend and stops it when the test
// ends.
func New(t testing.TB, cfg Config) *Proxy {
	t.Helper()
	if cfg.Rate == 0 {
		cfg.Rate = 0.3
	}
	if cfg.Slow == 0 {
		cfg.Slow = 200 * time.Millisecond
	}
	if cfg.Stall == 0 {
		cfg.Stall = 3 * time.Second
	}
	p := &Proxy{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5bd1e995)), counts: map[Fault]int{},
		client: &http.Client{Timeout: time.Minute}}
	p.hs = httptest.NewServer(p)
	p.URL = p.hs.URL
	t.Cleanup(p.hs.Close)
	return p
}

// draw picks the fault of one request.
func (p *Proxy) draw(method string) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	f := Pass
	switch {
	case method != http.MethodGet && p.forced < len(Faults):
		f = Faults[p.forced]
		p.forced++
	case p.rng.Float64() < p.cfg.Rate:
		f = Faults[p.rng.IntN(len(Faults))]
	}
	p.counts[f]++
	return f
}

// Counts returns how many requests got each fault (Pass included).
func (p *Proxy) Counts() map[Fault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Fault]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// Requests is how many requests reached the proxy.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// String is the counters on one line, as "requests=120 pass=80
// answer_dropped=6 502=5 ...".
func (p *Proxy) String() string {
	c := p.Counts()
	parts := []string{fmt.Sprintf("requests=%d", p.Requests()), fmt.Sprintf("pass=%d", c[Pass])}
	for _, f := range Faults {
		parts = append(parts, fmt.Sprintf("%s=%d", f, c[f]))
	}
	return strings.Join(parts, " ")
}

// Missing returns the faults that never fired.
func (p *Proxy) Missing() []Fault {
	c := p.Counts()
	var out []Fault
	for _, f := range Faults {
		if c[f] == 0 {
			out = append(out, f)
		}
	}
	return slices.Clip(out)
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	switch f := p.draw(r.Method); f {
	case BadGateway, Unavailable:
		code := http.StatusBadGateway
		if f == Unavailable {
			code = http.StatusServiceUnavailable
		}
		http.Error(w, "injected by faultproxy", code)
	case TooMany:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "injected by faultproxy", http.StatusTooManyRequests)
	case Reset:
		reset(w)
	case AnswerDropped:
		if _, _, _, err := p.forward(context.WithoutCancel(r.Context()), r, body); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		reset(w)
	case Stall:
		time.Sleep(p.cfg.Stall)
		_, _, _, _ = p.forward(context.WithoutCancel(r.Context()), r, body)
		reset(w)
	default:
		if f == Slow {
			time.Sleep(p.cfg.Slow)
		}
		st, h, b, err := p.forward(r.Context(), r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(st)
		_, _ = w.Write(b)
	}
}

// forward sends the request to aiod and reads the whole answer.
func (p *Proxy) forward(ctx context.Context, r *http.Request, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, p.cfg.Backend+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header = r.Header.Clone()
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// reset closes the client's connection with a TCP reset and no answer.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
