package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aio-platform/terraform-provider-aio/bench/internal/benchsys"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/webhook"
)

// receipt is one webhook the receiver accepted.
type receipt struct {
	DeliveryID  string    `json:"delivery_id"`
	EventID     string    `json:"event_id"`
	ThresholdID string    `json:"threshold_id"`
	State       string    `json:"state"`
	Severity    string    `json:"severity"`
	Channel     string    `json:"channel"`
	ReceivedAt  time.Time `json:"received_at"`
}

// receiverState is the -targets role's webhook receiver: it checks every
// request's AIO-Signature with the channels' signing key, as a receiver
// must, and keeps when each arrived.
type receiverState struct {
	key []byte

	mu       sync.Mutex
	got      []receipt
	rejected int
}

func (rs *receiverState) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if err := webhook.Verify(rs.key, r.Header.Get(webhook.HeaderSignature), body, at, 5*time.Minute); err != nil {
		rs.mu.Lock()
		rs.rejected++
		rs.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var ev struct {
		EventID   string `json:"event_id"`
		State     string `json:"state"`
		Severity  string `json:"severity"`
		Threshold struct {
			ID string `json:"id"`
		} `json:"threshold"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "json", http.StatusBadRequest)
		return
	}
	rs.mu.Lock()
	rs.got = append(rs.got, receipt{DeliveryID: r.Header.Get("AIO-Delivery-Id"), EventID: ev.EventID, ThresholdID: ev.Threshold.ID,
		State: ev.State, Severity: ev.Severity, Channel: strings.TrimPrefix(r.URL.Path, "/hook/"), ReceivedAt: at})
	rs.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// runTargets is the -targets role: o.ports target ports on 127.0.0.1
// (path /health/<i> is monitor i's target), and a control port with the
// webhook receiver and the control calls (POST /fail makes targets answer
// 500, GET /received lists the webhooks received); see
// benchsys.ServeTargets.
func runTargets(o options) error {
	key, err := signingKey()
	if err != nil {
		return err
	}
	failing := make([]atomic.Bool, o.monitors)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/health/"))
		if err == nil && i >= 0 && i < len(failing) && failing[i].Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		benchsys.OK(w)
	})
	rs := &receiverState{key: key}
	mux := http.NewServeMux()
	mux.Handle("POST /hook/", rs)
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) {
		n := 0
		for _, s := range strings.Split(r.URL.Query().Get("ids"), ",") {
			if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(failing) {
				failing[i].Store(true)
				n++
			}
		}
		fmt.Fprintln(w, n)
	})
	mux.HandleFunc("GET /received", func(w http.ResponseWriter, _ *http.Request) {
		rs.mu.Lock()
		out := struct {
			Got      []receipt `json:"got"`
			Rejected int       `json:"rejected"`
		}{append([]receipt(nil), rs.got...), rs.rejected}
		rs.mu.Unlock()
		_ = json.NewEncoder(w).Encode(out)
	})
	return benchsys.ServeTargets(benchsys.TargetsConfig{Ports: o.ports, Handler: handler, Control: mux, MaxLife: o.maxLife})
}

// signingKey is the webhook channels' signing key, which the parent makes
// and hands to the -targets child in its environment.
func signingKey() ([]byte, error) {
	k := os.Getenv(keyEnv)
	if len(k) < 32 {
		return nil, errors.New(keyEnv + " is not set")
	}
	return []byte(k), nil
}

const keyEnv = "AIO_BENCH_SIGNING_KEY"

// targets is the running -targets child; its control port is the webhook
// receiver.
type targets struct {
	*benchsys.Targets
	client *http.Client
}

// startTargets starts this binary in the -targets role, with the signing
// key in its environment, and reads its ports.
func startTargets(ctx context.Context, o options, key string) (*targets, error) {
	t, err := benchsys.StartTargets(ctx, []string{"-targets", "-ports", strconv.Itoa(o.ports), "-monitors", strconv.Itoa(o.monitors),
		"-targets-max", "1h"}, []string{keyEnv + "=" + key})
	if err != nil {
		return nil, err
	}
	if t.Control == 0 {
		t.Stop()
		return nil, errors.New("the targets process reported no receiver port")
	}
	return &targets{Targets: t, client: &http.Client{Timeout: 30 * time.Second}}, nil
}

func (t *targets) base() string { return fmt.Sprintf("http://127.0.0.1:%d", t.Control) }

// fail makes the targets of the monitors ids answer 500 from now on.
func (t *targets) fail(ctx context.Context, ids []int) error {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base()+"/fail?ids="+strings.Join(s, ","), nil)
	if err != nil {
		return err
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if n, _ := strconv.Atoi(strings.TrimSpace(string(b))); resp.StatusCode != http.StatusOK || n != len(ids) {
		return fmt.Errorf("fail: %s %q", resp.Status, b)
	}
	return nil
}

// received lists the webhooks the receiver accepted and how many it
// rejected (a bad signature).
func (t *targets) received(ctx context.Context) ([]receipt, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base()+"/received", nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	var out struct {
		Got      []receipt `json:"got"`
		Rejected int       `json:"rejected"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, 0, err
	}
	return out.Got, out.Rejected, nil
}
