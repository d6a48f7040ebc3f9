package server_test

// Fuzz targets for every request decoder and validator, driven through the
// real handler of an in-process aiod on a real SQLite file, so that what is
// checked is what a client gets: no answer is a 5xx (a panic is recovered
// into a 500, so it counts), every refusal is a problem document, and no
// answer or log line ever carries a secret the server holds. Run one with
// go test -fuzz=FuzzMonitorRequest ./internal/server (or `make fuzz`); the
// seed corpora under testdata/fuzz run with every go test.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// plantedSecret is the secret of a credential and of a channel that every
// fuzz server holds; no answer and no log line may ever show it.
const plantedSecret = "planted-S3cret-7f3a9c-never-shown"

// syncBuffer is a log sink that the server's goroutines may write to while
// the fuzz function reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns what was logged since the last take.
func (b *syncBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}

// fuzzEnv is an aiod with one object of every kind, whose IDs replace the
// placeholders $EP, $CRED, $MON, $CHAN and $THR in fuzz inputs, so that
// the fuzzer reaches the checks of references, not only the decoders.
type fuzzEnv struct {
	srv    *acctest.Server
	logs   *syncBuffer
	editor string
	ids    map[string]string
	// target is, per kind path, the object that PUTs replace: not the
	// one holding the planted secret, which must stay in the database.
	target map[string]string
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	f.Helper()
	logs := &syncBuffer{}
	srv := acctest.NewServer(f, acctest.Options{
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RateLimit: 1e9, RateBurst: 1 << 30, AuthFailureLimit: 1 << 30,
	})
	e := &fuzzEnv{srv: srv, logs: logs, editor: srv.Tokens[api.RoleEditor], ids: map[string]string{}, target: map[string]string{}}
	mk := func(path string, body map[string]any) string {
		r := call(f, srv, http.MethodPost, path, e.editor, body)
		if r.Status != http.StatusCreated {
			f.Fatalf("setup POST %s: %s", path, r)
		}
		var m api.Meta
		if err := json.Unmarshal(r.Body, &m); err != nil {
			f.Fatal(err)
		}
		return m.ID
	}
	e.ids["$CRED"] = mk("/v1/credentials", map[string]any{"name": "fuzz-cred", "type": "bearer", "secret": plantedSecret, "allowed_hosts": []string{"*.example.com"}})
	e.ids["$EP"] = mk("/v1/endpoints", map[string]any{"name": "fuzz-ep", "url": "https://fuzz.example.com/", "credential_id": e.ids["$CRED"]})
	e.ids["$MON"] = mk("/v1/monitors", map[string]any{"name": "fuzz-mon", "endpoint_id": e.ids["$EP"], "type": "http", "enabled": false,
		"request": map[string]any{"credential_id": e.ids["$CRED"]}})
	e.ids["$CHAN"] = mk("/v1/notification-channels", map[string]any{"name": "fuzz-chan", "type": "webhook", "url": "https://hooks.example.com/aio", "secret": plantedSecret})
	e.ids["$THR"] = mk("/v1/alert-thresholds", map[string]any{"name": "fuzz-thr", "monitor_id": e.ids["$MON"], "metric": api.MetricAvailability,
		"comparison": "below", "warning": 99.9, "critical": 99.5, "window": "1h", "channel_ids": []string{e.ids["$CHAN"]}})
	e.target["/v1/endpoints"] = mk("/v1/endpoints", minimal("fuzz-put"))
	e.target["/v1/credentials"] = mk("/v1/credentials", map[string]any{"name": "fuzz-cred-put", "type": "basic", "username": "u", "secret": "other-secret-value", "allowed_hosts": []string{"*.example.com"}})
	e.target["/v1/monitors"] = mk("/v1/monitors", map[string]any{"name": "fuzz-mon-put", "endpoint_id": e.target["/v1/endpoints"], "type": "http", "enabled": false})
	e.target["/v1/notification-channels"] = mk("/v1/notification-channels", map[string]any{"name": "fuzz-chan-put", "type": "email", "to": []string{"ops@example.com"}})
	e.target["/v1/alert-thresholds"] = mk("/v1/alert-thresholds", map[string]any{"name": "fuzz-thr-put", "monitor_id": e.target["/v1/monitors"], "metric": api.MetricAvailability,
		"comparison": "below", "warning": 99.9, "critical": 99.5, "window": "1h"})
	e.logs.take()
	return e
}

// expand replaces the placeholders with the environment's IDs.
func (e *fuzzEnv) expand(s string) string {
	for k, v := range e.ids {
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

// do serves one request through the server's handler, as the HTTP server
// would, and returns the answer; ok is false when the request cannot be
// made at all (a URL net/http would refuse before aiod saw it).
func (e *fuzzEnv) do(method, target string, body []byte, hdr ...string) (*httptest.ResponseRecorder, bool) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://aiod.test"+target, rd)
	if err != nil {
		return nil, false
	}
	req.RemoteAddr = "127.0.0.1:4242"
	req.Header.Set("Authorization", "Bearer "+e.editor)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.srv.API.ServeHTTP(w, req)
	return w, true
}

// check holds an answer to the fuzz properties: not a 5xx, a problem
// document for every refusal, JSON for every success, and no planted
// secret in the answer or the log.
func (e *fuzzEnv) check(t *testing.T, what string, w *httptest.ResponseRecorder) {
	t.Helper()
	body := w.Body.Bytes()
	if w.Code >= 500 {
		t.Fatalf("%s answered %d: %s\nlog: %s", what, w.Code, body, e.logs.take())
	}
	if bytes.Contains(body, []byte(plantedSecret)) {
		t.Fatalf("%s answered the planted secret: %s", what, body)
	}
	for k, vs := range w.Header() {
		for _, v := range vs {
			if strings.Contains(v, plantedSecret) {
				t.Fatalf("%s answered the planted secret in header %s", what, k)
			}
		}
	}
	if log := e.logs.take(); strings.Contains(log, plantedSecret) {
		t.Fatalf("%s logged the planted secret: %s", what, log)
	}
	switch {
	case w.Code == http.StatusNoContent:
	case w.Code >= 400:
		var p api.Problem
		if ct := w.Header().Get("Content-Type"); ct != api.ContentTypeProblem {
			t.Fatalf("%s answered %d as %q, not a problem document: %s", what, w.Code, ct, body)
		}
		if err := json.Unmarshal(body, &p); err != nil || p.Status != w.Code || p.Detail == "" {
			t.Fatalf("%s answered %d with a broken problem document (%v): %s", what, w.Code, err, body)
		}
	default:
		if !json.Valid(body) {
			t.Fatalf("%s answered %d with invalid JSON: %s", what, w.Code, body)
		}
	}
}

// fuzzKind sends the input as the body of a create and of a replace of
// one kind; a create that succeeds is deleted again, so that the next
// input meets the same database.
func fuzzKind(f *testing.F, path string) {
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		body = []byte(e.expand(string(body)))
		w, _ := e.do(http.MethodPost, path, body)
		e.check(t, "POST "+path, w)
		if w.Code == http.StatusCreated {
			var m api.Meta
			if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m.ID == "" || m.Revision != 1 {
				t.Fatalf("POST %s answered 201 without an object at revision 1: %s", path, w.Body)
			}
			w, _ = e.do(http.MethodDelete, path+"/"+m.ID, nil)
			e.check(t, "DELETE of the created object", w)
			if w.Code != http.StatusNoContent {
				t.Fatalf("DELETE of the created %s: %d %s", m.ID, w.Code, w.Body)
			}
		}
		item := path + "/" + e.target[path]
		w, _ = e.do(http.MethodPut, item, body)
		e.check(t, "PUT "+item, w)
	})
}

func FuzzEndpointRequest(f *testing.F) {
	f.Add([]byte(`{"name":"x","url":"https://x.example.com/"}`))
	fuzzKind(f, "/v1/endpoints")
}

func FuzzCredentialRequest(f *testing.F) {
	f.Add([]byte(`{"name":"c","type":"bearer","secret":"s","allowed_hosts":["*.example.com"]}`))
	fuzzKind(f, "/v1/credentials")
}

func FuzzMonitorRequest(f *testing.F) {
	f.Add([]byte(`{"name":"m","endpoint_id":"$EP","type":"http"}`))
	fuzzKind(f, "/v1/monitors")
}

func FuzzChannelRequest(f *testing.F) {
	f.Add([]byte(`{"name":"c","type":"webhook","url":"https://hooks.example.com/x","secret":"s"}`))
	fuzzKind(f, "/v1/notification-channels")
}

func FuzzThresholdRequest(f *testing.F) {
	f.Add([]byte(`{"name":"t","monitor_id":"$MON","metric":"availability","comparison":"below","warning":99.9,"critical":99.5,"window":"1h"}`))
	fuzzKind(f, "/v1/alert-thresholds")
}

// listPaths are the listings that take a cursor.
var listPaths = []string{
	"/v1/endpoints", "/v1/credentials", "/v1/monitors", "/v1/notification-channels", "/v1/alert-thresholds",
	"/v1/audit-events", "/v1/alerts", "/v1/alert-events", "/v1/deliveries", "/v1/monitors/$MON/results",
}

// FuzzListQuery sends fuzzed query strings and cursors to every listing:
// the cursor as sent (mostly refused by the base64 layer) and encoded, so
// that the fuzzer reaches the store's own cursor parsing.
func FuzzListQuery(f *testing.F) {
	f.Add(uint8(0), "limit=2&name_prefix=fuzz", "ep_01jabcdefghjkmnpqrstvwxyz0")
	f.Add(uint8(5), "kind=endpoint&since=2026-01-01T00:00:00Z", "aud_x")
	f.Add(uint8(6), "state=firing", "thr_x|warning")
	f.Add(uint8(9), "from=2026-01-01T00:00:00Z&limit=1000", "2026-01-01T00:00:00Z|1")
	f.Add(uint8(2), "tag=env:prod&tag=team:&endpoint_id=$EP", "")
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, which uint8, query, cursor string) {
		path := e.expand(listPaths[int(which)%len(listPaths)])
		query = e.expand(query)
		for _, after := range []string{cursor, base64.RawURLEncoding.EncodeToString([]byte(cursor))} {
			target := path + "?" + query
			if after != "" {
				target += "&after=" + url.QueryEscape(after)
			}
			w, ok := e.do(http.MethodGet, target, nil)
			if !ok {
				continue
			}
			e.check(t, "GET "+target, w)
		}
	})
}

// FuzzIfMatch sends fuzzed If-Match values with a PUT of the unchanged
// endpoint and a DELETE of an object that does not exist.
func FuzzIfMatch(f *testing.F) {
	f.Add(`"1"`)
	f.Add(`W/"1"`)
	f.Add(`"99999999999999999999"`)
	f.Add(`*`)
	e := newFuzzEnv(f)
	put := "/v1/endpoints/" + e.target["/v1/endpoints"]
	body, _ := json.Marshal(minimal("fuzz-put"))
	f.Fuzz(func(t *testing.T, ifMatch string) {
		w, _ := e.do(http.MethodPut, put, body, "If-Match", ifMatch)
		e.check(t, "PUT with If-Match "+ifMatch, w)
		w, _ = e.do(http.MethodDelete, "/v1/endpoints/ep_01jabcdefghjkmnpqrstvwxyz0", nil, "If-Match", ifMatch)
		e.check(t, "DELETE with If-Match "+ifMatch, w)
	})
}
