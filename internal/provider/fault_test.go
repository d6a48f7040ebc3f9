package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/testutil/faultproxy"
)

// faultKinds are the collections of every kind, with the name prefix of
// the fault suite's objects.
var faultKinds = []string{"endpoints", "credentials", "monitors", "notification-channels", "alert-thresholds", "retention-policies"}

// faultConfig is n objects of every kind, at revision rev (their
// descriptions and tags carry it, so that a lost update shows), managed
// through the proxy: each attempt may wait at most 1 s, and a stall lasts
// longer than that.
func faultConfig(proxyURL, token string, n, rev int) string {
	return fmt.Sprintf(`
provider "aio" {
  address         = %[1]q
  token           = %[2]q
  retry_max       = 12
  request_timeout = "1s"
}

locals {
  n   = %[3]d
  rev = "r%[4]d"
}

resource "aio_credential" "c" {
  count         = local.n
  name          = "fault-${count.index}"
  description   = "credential ${local.rev}"
  type          = "api_key"
  header        = "x-api-key"
  allowed_hosts = ["*.example.com"]
  secret        = "key-${count.index}-${local.rev}"
}

resource "aio_endpoint" "e" {
  count         = local.n
  name          = "fault-${count.index}"
  description   = "endpoint ${local.rev}"
  url           = "https://fault-${count.index}.example.com/"
  credential_id = aio_credential.c[count.index].id
  tags          = { rev = local.rev }
}

resource "aio_monitor" "m" {
  count       = local.n
  name        = "fault-${count.index}"
  endpoint_id = aio_endpoint.e[count.index].id
  type        = "http"
  interval    = "1m"
  enabled     = false
  tags        = { rev = local.rev }
}

resource "aio_notification_channel" "h" {
  count       = local.n
  name        = "fault-${count.index}"
  description = "channel ${local.rev}"
  type        = "webhook"
  url         = "https://hooks.example.com/fault-${count.index}"
  secret      = "whsec-${count.index}-${local.rev}"
  tags        = { rev = local.rev }
}

resource "aio_alert_threshold" "t" {
  count       = local.n
  name        = "fault-${count.index}"
  description = "threshold ${local.rev}"
  monitor_id  = aio_monitor.m[count.index].id
  metric      = "availability_percent"
  comparison  = "below"
  critical    = 99
  window      = "15m"
  channel_ids = [aio_notification_channel.h[count.index].id]
  tags        = { rev = local.rev }
}

resource "aio_retention_policy" "r" {
  count        = local.n
  name         = "fault-${count.index}"
  description  = "retention policy ${local.rev}"
  data_kind    = "deliveries"
  max_age      = "720h"
  action       = "delete"
  enabled      = false
  endpoint_ids = [aio_endpoint.e[count.index].id]
  tags         = { rev = local.rev }
}
`, proxyURL, token, n, rev)
}

// faultObjects lists a collection directly from aiod (not through the
// proxy) and returns its fault-* objects by name, counting duplicates.
func faultObjects(srv *acctest.Server, collection string) (map[string]map[string]any, map[string]int, error) {
	byName, count := map[string]map[string]any{}, map[string]int{}
	after := ""
	for {
		u := srv.URL + "/v1/" + collection + "?limit=200"
		if after != "" {
			u += "&after=" + after
		}
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, nil, err
		}
		var page struct {
			Items      []map[string]any `json:"items"`
			NextCursor string           `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, nil, fmt.Errorf("GET %s: %d %w", u, resp.StatusCode, err)
		}
		for _, o := range page.Items {
			if name, _ := o["name"].(string); strings.HasPrefix(name, "fault-") {
				byName[name] = o
				count[name]++
			}
		}
		if page.NextCursor == "" {
			return byName, count, nil
		}
		after = page.NextCursor
	}
}

// checkFaultObjects is a step check: aiod holds exactly n objects of every
// kind, each once, at revision rev (no duplicate, no lost update).
// Each duplicate found is counted in *dups.
func checkFaultObjects(srv *acctest.Server, n, rev int, dups *int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		want := fmt.Sprintf("r%d", rev)
		for _, kind := range faultKinds {
			byName, count, err := faultObjects(srv, kind)
			if err != nil {
				return err
			}
			for _, c := range count {
				*dups += c - 1
			}
			if len(byName) != n {
				return fmt.Errorf("%d %s, want %d", len(byName), kind, n)
			}
			for name, c := range count {
				if c != 1 {
					return fmt.Errorf("duplicate: %s %q exists %d times", kind, name, c)
				}
				o := byName[name]
				desc, _ := o["description"].(string)
				tags, _ := o["tags"].(map[string]any)
				descOK := kind == "monitors" || strings.HasSuffix(desc, " "+want)
				tagsOK := kind == "credentials" || tags["rev"] == want
				if !descOK || !tagsOK {
					return fmt.Errorf("lost update: %s %q has description %q, tags %v; want revision %s", kind, name, desc, tags, want)
				}
			}
		}
		return nil
	}
}

// faultIterations is AIO_FAULT_ITERATIONS (make stress raises it), else 1.
func faultIterations(t *testing.T) int {
	n := 1
	if s := os.Getenv("AIO_FAULT_ITERATIONS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("AIO_FAULT_ITERATIONS=%q: want a number above 0", s)
		}
	}
	return n
}

// TestAccFaults_everyKindThroughAFaultyPath creates, updates and deletes
// objects of every kind through a proxy that drops answers after aiod
// committed, answers 502, 503 and 429 with Retry-After, slows answers,
// resets connections and stalls requests past the provider's request
// timeout. Every apply converges at once (the framework's plan after each
// apply must be empty), aiod then holds each object exactly once at the
// configured revision, and the delete leaves nothing behind. Each fault
// fires at least once per iteration; the counters are logged ("FIGURES
// faults"), and the seed of a failing iteration is reported
// (AIO_FAULT_SEED reproduces it).
func TestAccFaults_everyKindThroughAFaultyPath(t *testing.T) {
	iterations := faultIterations(t)
	seed := uint64(time.Now().UnixNano()) % 1_000_000_000
	if s := os.Getenv("AIO_FAULT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("AIO_FAULT_SEED=%q: want a number", s)
		}
		seed, iterations = v, 1
	}
	const n = 3
	for i := range iterations {
		seed := seed + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			srv := newTestServer(t)
			proxy := faultproxy.New(t, faultproxy.Config{Backend: srv.URL, Seed: seed, Stall: 1500 * time.Millisecond})
			dups := 0
			t.Cleanup(func() {
				t.Logf("FIGURES faults %s duplicates=%d", proxy, dups)
				if t.Failed() {
					t.Logf("reproduce with: AIO_FAULT_SEED=%d go test -count=1 -run '^TestAccFaults_everyKindThroughAFaultyPath$' ./internal/provider/", seed)
				}
			})
			cfg := func(rev int) string { return faultConfig(proxy.URL, srv.Tokens["editor"], n, rev) }
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				TerraformVersionChecks:   testAccVersionChecks,
				Steps: []resource.TestStep{
					{Config: cfg(1), Check: checkFaultObjects(srv, n, 1, &dups)},
					{Config: cfg(2), Check: checkFaultObjects(srv, n, 2, &dups)},
					{Config: cfg(3), Check: checkFaultObjects(srv, n, 3, &dups)},
				},
				CheckDestroy: func(*terraform.State) error {
					for _, kind := range faultKinds {
						byName, _, err := faultObjects(srv, kind)
						if err != nil {
							return err
						}
						if len(byName) != 0 {
							return fmt.Errorf("%d %s left after the destroy", len(byName), kind)
						}
					}
					return nil
				},
			})
			if missing := proxy.Missing(); len(missing) > 0 {
				t.Errorf("faults that never fired: %v (%s)", missing, proxy)
			}
		})
	}
}
