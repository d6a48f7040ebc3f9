package crashtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/testutil/aiodproc"
)

// tfResources is the size of the crash test's Terraform configuration:
// AIO_CRASH_TF_RESOURCES (make stress sets 300), else 60 to keep make test
// quick.
func tfResources(t *testing.T) int {
	n := 60
	if s := os.Getenv("AIO_CRASH_TF_RESOURCES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 2 {
			t.Fatalf("AIO_CRASH_TF_RESOURCES=%q: want a number above 1", s)
		}
	}
	return n
}

// tfConfig is n resources: n/2 endpoints and as many disabled monitors,
// each monitor depending on its endpoint. The provider retries a refused
// connection for about a minute (retry_max 10), longer than aiod is down.
func tfConfig(n int) string {
	return fmt.Sprintf(`
terraform {
  required_providers {
    aio = { source = "aio-platform/aio" }
  }
}

provider "aio" {
  retry_max = 10
}

resource "aio_endpoint" "e" {
  count = %d
  name  = "tf-${count.index}"
  url   = "https://tf-${count.index}.example.com/"
  tags  = { crash = "terraform" }
}

resource "aio_monitor" "m" {
  count       = %d
  name        = "tf-${count.index}-health"
  endpoint_id = aio_endpoint.e[count.index].id
  type        = "http"
  interval    = "1m"
  enabled     = false
}
`, n/2, n/2)
}

// TestCrashDuringTerraformApply kills aiod (one to three times, at seeded
// random points, down for a seeded while each time) during a terraform
// apply of a configuration of endpoints and monitors, while a second
// client creates endpoints with idempotency keys. After each kill the
// database file passes integrity_check and foreign_key_check. Then every
// object in Terraform's state and every acknowledged create exists,
// replays of acknowledged keys return the stored answers, the next apply
// succeeds, the plan after it is empty, and aiod holds each configured
// object exactly once.
func TestCrashDuringTerraformApply(t *testing.T) {
	eachSeed(t, 1, func(t *testing.T, rng *rand.Rand) {
		n := tfResources(t)
		p := aiodproc.Start(t, aiodproc.Options{})
		tf := aiodproc.NewTerraform(t, p, "")
		tf.Write(t, tfConfig(n))
		ctx := t.Context()

		w := aiodproc.NewWriter(p, "load")
		wctx, stopWriter := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(wctx, 2) }()

		applied := make(chan struct{})
		var code int
		var out string
		var runErr error
		start := time.Now()
		go func() {
			defer close(applied)
			code, out, runErr = tf.Run(ctx, "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10")
		}()
		kills := 1 + rng.IntN(3)
		// The kills are spread over the apply's expected length (about
		// 100 ms a resource on a busy 2-core machine), the first early
		// enough to hit even a short apply.
		gap := max(3*time.Second, time.Duration(n)*100*time.Millisecond/time.Duration(kills))
		next := between(rng, 300*time.Millisecond, 3*time.Second)
	killing:
		for range kills {
			select {
			case <-applied:
				break killing
			case <-time.After(next):
			}
			p.Kill()
			p.CheckDB(t)
			time.Sleep(between(rng, 0, 1500*time.Millisecond))
			p.Start()
			next = between(rng, 200*time.Millisecond, gap)
		}
		<-applied
		stopWriter()
		wg.Wait()
		if runErr != nil {
			t.Fatalf("%v\n%s", runErr, out)
		}
		t.Logf("first apply (killed %d times) exited %d after %v", p.Kills, code, time.Since(start).Round(time.Millisecond))
		if code != 0 {
			t.Logf("its output's end:\n%s", tail(out, 30))
		}

		// What Terraform recorded is acknowledged: it must all be there
		// before the next apply (which would quietly re-create a lost
		// object).
		state := tf.StateIDs(t)
		lost := 0
		for addr, id := range state {
			kind := "endpoints"
			if strings.HasPrefix(addr, "aio_monitor.") {
				kind = "monitors"
			}
			st, _, b, err := p.Do(ctx, http.MethodGet, "/v1/"+kind+"/"+id, "", nil)
			if err != nil || st != http.StatusOK {
				lost++
				t.Errorf("%s (%s) is in the state but GET answered %d %v %s", addr, id, st, err, b)
			}
		}
		v := w.Verify(t)

		code, out = tf.MustRun(t, ctx, "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10")
		if code != 0 {
			t.Fatalf("the apply after the crashes failed (%d):\n%s", code, tail(out, 40))
		}
		code, out = tf.MustRun(t, ctx, "plan", "-detailed-exitcode", "-input=false", "-no-color")
		if code != 0 {
			t.Fatalf("the plan after the converging apply is not empty (exit %d):\n%s", code, tail(out, 40))
		}
		if got := len(tf.StateIDs(t)); got != n {
			t.Errorf("%d resources in the state, want %d", got, n)
		}
		dups := 0
		for _, kind := range []string{"endpoints", "monitors"} {
			names := map[string]int{}
			for _, o := range p.ListAll(t, "/v1/"+kind) {
				if name, _ := o["name"].(string); strings.HasPrefix(name, "tf-") {
					names[name]++
				}
			}
			if len(names) != n/2 {
				t.Errorf("%d distinct %s of the configuration, want %d", len(names), kind, n/2)
			}
			for name, c := range names {
				if c > 1 {
					dups++
					t.Errorf("%s %q exists %d times", kind, name, c)
				}
			}
		}
		p.Stop()
		p.CheckDB(t)
		v.Acked += len(state)
		v.Lost += lost
		v.Duplicates += dups
		figures(t, "terraform-apply", p.Kills, v)
	})
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
