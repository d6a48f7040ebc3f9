package aiodproc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Ack is a create that aiod acknowledged (201): from then on the object
// must exist, and a replay of its idempotency key must return it.
type Ack struct {
	Key, ID, Name string
	Body          map[string]any
	// Answer is the body of the 201.
	Answer []byte
}

// Writer creates endpoints through the API with idempotency keys, from
// several goroutines, while aiod runs, is killed and restarts, and
// remembers every create that was acknowledged.
type Writer struct {
	p      *Proc
	prefix string

	attempts atomic.Int64
	mu       sync.Mutex
	acked    []Ack
}

// NewWriter returns a writer whose endpoints are named prefix-N.
func NewWriter(p *Proc, prefix string) *Writer { return &Writer{p: p, prefix: prefix} }

// Run creates endpoints from workers goroutines until ctx ends, and
// returns once every request sent has its answer. Failures
// (connection refused while aiod is down, a reset when it is killed) are
// expected and only counted as unacknowledged attempts.
func (w *Writer) Run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := w.attempts.Add(1)
				name := fmt.Sprintf("%s-%d", w.prefix, n)
				body := map[string]any{"name": name, "url": "https://" + name + ".example.com/", "tags": map[string]any{"load": w.prefix}}
				key := newKey()
				// The request is not cancelled with ctx: once Run
				// returns, every create it sent has its answer, so
				// that none commits behind Verify's back.
				st, _, b, err := w.p.Do(context.WithoutCancel(ctx), http.MethodPost, "/v1/endpoints", key, body)
				if err != nil || st != http.StatusCreated {
					if err != nil {
						// aiod is down or was killed mid-request: do not
						// spin on connection refused.
						time.Sleep(5 * time.Millisecond)
					}
					continue
				}
				var got struct {
					ID string `json:"id"`
				}
				if json.Unmarshal(b, &got) != nil || got.ID == "" {
					continue
				}
				w.mu.Lock()
				w.acked = append(w.acked, Ack{Key: key, ID: got.ID, Name: name, Body: body, Answer: b})
				w.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// Attempts is how many creates were sent; Acked how many were acknowledged.
func (w *Writer) Attempts() int64 { return w.attempts.Load() }

// Acked returns the acknowledged creates so far.
func (w *Writer) Acked() []Ack {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Ack(nil), w.acked...)
}

// Verdict is what Verify found.
type Verdict struct {
	// Acked is the number of acknowledged creates checked; Lost those not
	// found; BadReplays those whose replay did not return the stored
	// answer; Duplicates the names that exist more than once.
	Acked, Lost, BadReplays, Duplicates int
}

func (v Verdict) String() string {
	return fmt.Sprintf("%d acknowledged writes, %d lost, %d bad replays, %d duplicates", v.Acked, v.Lost, v.BadReplays, v.Duplicates)
}

// Verify checks, against a running aiod, that every acknowledged create is
// there under its name, that a replay of its idempotency key answers the
// stored 201, byte for byte (Idempotent-Replayed: true), and creates
// nothing, and that no name of this writer exists twice. It reports each
// problem with t.Errorf and returns the counts.
func (w *Writer) Verify(t testing.TB) Verdict {
	t.Helper()
	acked := w.Acked()
	v := Verdict{Acked: len(acked)}
	byName := w.names(t)
	for name, n := range byName {
		if n > 1 {
			v.Duplicates++
			t.Errorf("endpoint %q exists %d times", name, n)
		}
	}
	ctx := context.Background()
	for _, a := range acked {
		st, _, b, err := w.p.Do(ctx, http.MethodGet, "/v1/endpoints/"+a.ID, "", nil)
		if err != nil || st != http.StatusOK {
			v.Lost++
			t.Errorf("acknowledged endpoint %s (%s) lost: GET answered %d %v %s", a.ID, a.Name, st, err, b)
			continue
		}
		st, h, b, err := w.p.Do(ctx, http.MethodPost, "/v1/endpoints", a.Key, a.Body)
		var got struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(b, &got)
		if err != nil || st != http.StatusCreated || got.ID != a.ID || h.Get("Idempotent-Replayed") != "true" || !bytes.Equal(b, a.Answer) {
			v.BadReplays++
			t.Errorf("replay of the key of %s (%s): %d %v id %q replayed %q\nanswer %s\nfirst answer %s", a.ID, a.Name, st, err, got.ID,
				h.Get("Idempotent-Replayed"), b, a.Answer)
		}
	}
	// The replays must not have created anything.
	before, after := 0, 0
	for _, n := range byName {
		before += n
	}
	for name, n := range w.names(t) {
		after += n
		if n > 1 && byName[name] < 2 {
			v.Duplicates++
			t.Errorf("endpoint %q exists %d times after the replays", name, n)
		}
	}
	if after != before {
		t.Errorf("%d of this writer's endpoints before the replays, %d after", before, after)
	}
	return v
}

// names counts the endpoints of this writer by name.
func (w *Writer) names(t testing.TB) map[string]int {
	byName := map[string]int{}
	for _, e := range w.p.ListAll(t, "/v1/endpoints") {
		if name, _ := e["name"].(string); strings.HasPrefix(name, w.prefix+"-") {
			byName[name]++
		}
	}
	return byName
}

func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
