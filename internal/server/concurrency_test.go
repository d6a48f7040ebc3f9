package server_test

// Concurrency through the API, meant for -race: writers racing on one
// object with If-Match lose no update, racing creates of one name make one
// object, and readers never see a half-written object.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// fastServer is an aiod whose rate limit does not get in the way of a
// test that means to race.
func fastServer(t *testing.T) *acctest.Server {
	return acctest.NewServer(t, acctest.Options{RateLimit: 1e6, RateBurst: 1 << 20})
}

// versioned is the body of version k of the endpoint: every field says k,
// so that a reader can tell a whole version from a mix of two.
func versioned(name string, k int) map[string]any {
	v := strconv.Itoa(k)
	return map[string]any{"name": name, "url": "https://" + name + ".example.com/v" + v, "description": "version " + v,
		"owner": "owner-" + v, "tags": map[string]string{"version": v}}
}

// versionOf checks that e is one whole version and returns it.
func versionOf(e api.Endpoint) (int, error) {
	v, ok := e.Tags["version"]
	if !ok {
		return 0, fmt.Errorf("no version tag: %+v", e)
	}
	if !strings.HasSuffix(e.URL, "/v"+v) || e.Description == nil || *e.Description != "version "+v || e.Owner == nil || *e.Owner != "owner-"+v {
		return 0, fmt.Errorf("a mix of versions: url %s, description %v, owner %v, tag %s", e.URL, e.Description, e.Owner, v)
	}
	return strconv.Atoi(v)
}

// TestConcurrentIfMatchWritersLoseNoUpdate: writers read the endpoint and
// PUT their own version with If-Match, retrying on 412. Every 200 names a
// distinct revision, the revisions run 2..n+1 with no gap, the final
// object is the version whose 200 carried the last revision, and every
// 200 has its audit event at its revision.
func TestConcurrentIfMatchWritersLoseNoUpdate(t *testing.T) {
	srv := fastServer(t)
	editor := srv.Tokens[api.RoleEditor]
	created := createEndpoint(t, srv, editor, versioned("raced", 0))
	path := "/v1/endpoints/" + created.ID

	const writers, each = 8, 5
	var (
		mu        sync.Mutex
		byRev     = map[int64]int{} // revision -> version whose PUT got it
		conflicts int
		wg        sync.WaitGroup
		errs      = make(chan error, writers*each)
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				k := 1 + w*each + i
				for attempt := 0; ; attempt++ {
					if attempt > 200 {
						errs <- fmt.Errorf("version %d: no PUT got through in 200 attempts", k)
						return
					}
					g, err := tryCall(srv, http.MethodGet, path, editor, nil)
					if err != nil || g.Status != http.StatusOK {
						errs <- fmt.Errorf("GET: %v %w", g, err)
						return
					}
					r, err := tryCall(srv, http.MethodPut, path, editor, versioned("raced", k), "If-Match", g.Header.Get("ETag"))
					if err != nil {
						errs <- err
						return
					}
					if r.Status == http.StatusPreconditionFailed {
						mu.Lock()
						conflicts++
						mu.Unlock()
						continue
					}
					if r.Status != http.StatusOK {
						errs <- fmt.Errorf("PUT version %d: %v", k, r)
						return
					}
					var e api.Endpoint
					if err := json.Unmarshal(r.Body, &e); err != nil {
						errs <- err
						return
					}
					if got, err := versionOf(e); err != nil || got != k {
						errs <- fmt.Errorf("PUT version %d answered version %d (%w)", k, got, err)
						return
					}
					if r.Header.Get("ETag") != strconv.Quote(strconv.FormatInt(e.Revision, 10)) {
						errs <- fmt.Errorf("PUT answered ETag %s for revision %d", r.Header.Get("ETag"), e.Revision)
					}
					mu.Lock()
					if prev, dup := byRev[e.Revision]; dup {
						errs <- fmt.Errorf("revision %d answered twice: versions %d and %d", e.Revision, prev, k)
					}
					byRev[e.Revision] = k
					mu.Unlock()
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	n := int64(writers * each)
	for rev := int64(2); rev <= n+1; rev++ {
		if _, ok := byRev[rev]; !ok {
			t.Errorf("no 200 answered revision %d: an update was lost or a revision skipped", rev)
		}
	}
	r := call(t, srv, http.MethodGet, path, editor, nil)
	var final api.Endpoint
	decode(t, r, &final)
	k, err := versionOf(final)
	if err != nil {
		t.Fatal(err)
	}
	if final.Revision != n+1 || k != byRev[n+1] {
		t.Errorf("final object is version %d at revision %d, want version %d (the last 200) at revision %d", k, final.Revision, byRev[n+1], n+1)
	}
	revs := map[int64]bool{}
	for _, ev := range auditFor(t, srv, created.ID) {
		if ev.Action == api.ActionUpdate {
			revs[ev.Revision] = true
		}
	}
	for rev := range byRev {
		if !revs[rev] {
			t.Errorf("the 200 at revision %d has no audit event", rev)
		}
	}
	if len(revs) != len(byRev) {
		t.Errorf("%d update audit events for %d successful PUTs", len(revs), len(byRev))
	}
	t.Logf("%d PUTs succeeded, %d were refused with 412 and retried", len(byRev), conflicts)
}

// TestConcurrentCreatesOfOneName: many creates of the same name at once,
// with and without idempotency keys of their own: one 201, the rest 409 on
// the name, and one object.
func TestConcurrentCreatesOfOneName(t *testing.T) {
	srv := fastServer(t)
	editor := srv.Tokens[api.RoleEditor]
	for _, kind := range []struct{ path, list string }{{"/v1/endpoints", "/v1/endpoints?name=dup"}, {"/v1/notification-channels", "/v1/notification-channels?name=dup"}} {
		const n = 16
		var (
			wg       sync.WaitGroup
			statuses = make(chan response, n)
		)
		for i := range n {
			wg.Go(func() {
				body := minimal("dup")
				if kind.path != "/v1/endpoints" {
					body = map[string]any{"name": "dup", "type": "email", "to": []string{fmt.Sprintf("ops%d@example.com", i)}}
				}
				var hdr []string
				if i%2 == 0 {
					hdr = []string{api.HeaderIdempotency, fmt.Sprintf("dup-%d", i)}
				}
				r, err := tryCall(srv, http.MethodPost, kind.path, editor, body, hdr...)
				if err != nil {
					r = response{Status: -1, Body: []byte(err.Error())}
				}
				statuses <- r
			})
		}
		wg.Wait()
		close(statuses)
		created := 0
		for r := range statuses {
			switch r.Status {
			case http.StatusCreated:
				created++
			case http.StatusConflict:
				p := wantProblem(t, r, http.StatusConflict)
				wantFields(t, p, "name")
			default:
				t.Errorf("%s: a racing create answered %s", kind.path, r)
			}
		}
		if created != 1 {
			t.Errorf("%s: %d racing creates of one name succeeded, want exactly 1", kind.path, created)
		}
		r := call(t, srv, http.MethodGet, kind.list, editor, nil)
		var l struct {
			Items []json.RawMessage `json:"items"`
		}
		decode(t, r, &l)
		if len(l.Items) != 1 {
			t.Errorf("%s: %d objects named dup, want 1", kind.path, len(l.Items))
		}
	}
}

// TestReadsDuringWritesSeeWholeObjects: while writers replace an endpoint
// with whole versions, readers of the object and of the listing only ever
// see whole versions, whose revision is its ETag, and never go back in
// revision.
func TestReadsDuringWritesSeeWholeObjects(t *testing.T) {
	srv := fastServer(t)
	editor, viewer := srv.Tokens[api.RoleEditor], srv.Tokens[api.RoleViewer]
	created := createEndpoint(t, srv, editor, versioned("whole", 0))
	path := "/v1/endpoints/" + created.ID

	var (
		writes, reads sync.WaitGroup
		done          = make(chan struct{})
		errs          = make(chan error, 100)
		nRead         [4]int
		// The writers hold their last write until every reader got
		// through once, so that each is seen to read while writes go on.
		firstReads sync.WaitGroup
		readersIn  = make(chan struct{})
	)
	firstReads.Add(len(nRead))
	go func() { firstReads.Wait(); close(readersIn) }()
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for w := range 3 {
		writes.Go(func() {
			for i := range 15 {
				if i == 14 {
					<-readersIn
				}
				r, err := tryCall(srv, http.MethodPut, path, editor, versioned("whole", 1+w*100+i))
				if err != nil || r.Status != http.StatusOK {
					report(fmt.Errorf("writer %d: %v %w", w, r, err))
					return
				}
			}
		})
	}
	for rd := range len(nRead) {
		reads.Go(func() {
			var last int64
			defer func() {
				if nRead[rd] == 0 {
					firstReads.Done() // failed before its first read: reported
				}
			}()
			for {
				select {
				case <-done:
					return
				default:
				}
				var e api.Endpoint
				if rd%2 == 0 {
					r, err := tryCall(srv, http.MethodGet, path, viewer, nil)
					if err != nil || r.Status != http.StatusOK {
						report(fmt.Errorf("reader %d: %v %w", rd, r, err))
						return
					}
					if err := json.Unmarshal(r.Body, &e); err != nil {
						report(err)
						return
					}
					if r.Header.Get("ETag") != strconv.Quote(strconv.FormatInt(e.Revision, 10)) {
						report(fmt.Errorf("reader %d: ETag %s for a body at revision %d", rd, r.Header.Get("ETag"), e.Revision))
					}
				} else {
					r, err := tryCall(srv, http.MethodGet, "/v1/endpoints?name=whole", viewer, nil)
					if err != nil || r.Status != http.StatusOK {
						report(fmt.Errorf("reader %d: %v %w", rd, r, err))
						return
					}
					var l endpointList
					if err := json.Unmarshal(r.Body, &l); err != nil || len(l.Items) != 1 {
						report(fmt.Errorf("reader %d: listing %s (%w)", rd, r.Body, err))
						return
					}
					e = l.Items[0]
				}
				if _, err := versionOf(e); err != nil {
					report(fmt.Errorf("reader %d saw a half-written object at revision %d: %w", rd, e.Revision, err))
				}
				if e.Revision < last {
					report(fmt.Errorf("reader %d went back from revision %d to %d", rd, last, e.Revision))
				}
				last = e.Revision
				nRead[rd]++
				if nRead[rd] == 1 {
					firstReads.Done()
				}
			}
		})
	}
	writes.Wait()
	close(done)
	reads.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for rd, n := range nRead {
		if n == 0 {
			t.Errorf("reader %d completed no read while the writes went on", rd)
		}
	}
	r := call(t, srv, http.MethodGet, path, viewer, nil)
	var final api.Endpoint
	decode(t, r, &final)
	if final.Revision != 1+3*15 {
		t.Errorf("final revision %d, want %d", final.Revision, 1+3*15)
	}
}
