package crashtest

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/testutil/aiodproc"
)

// Ages of the seeded probe results and of the two policies over them. The
// gaps between them are wide, so that the minutes a slow run takes never
// move a record across a cutoff: a middle record reaches the delete
// policy's age after an hour, a young one the anonymize policy's after
// nearly 15 minutes (the test's waits add up to a few).
const (
	retDeleteAge = 90 * time.Minute // the delete policy's max_age
	retAnonAge   = 15 * time.Minute // the anonymize policy's max_age
	// Old records (2 to 3 hours old) are deleted; middle ones (20 to 30
	// minutes) anonymized; young ones (1 to 10 seconds) left alone.
	retOldFrom, retOldTo     = 3 * time.Hour, 2 * time.Hour
	retMidFrom, retMidTo     = 30 * time.Minute, 20 * time.Minute
	retYoungFrom, retYoungTo = 10 * time.Second, time.Second
	// Per monitor; with 4 monitors a pass deletes 24,000 records and
	// anonymizes 16,000 in batches of 500, which takes seconds.
	retOldPer, retMidPer, retYoungPer = 6000, 4000, 250
	retMonitors                       = 4
)

// TestCrashDuringRetentionRun kills aiod while its scheduled retention
// pass deletes and anonymizes probe results in batches, one to three
// times, with monitors probing a local target and a writer creating
// endpoints meanwhile. The results are written into the database file
// while aiod is stopped, with ages on both sides of each policy's cutoff;
// aiod's start runs the pass at once, and the kill falls a seeded while
// after the first batch is seen committed. After the last restart: the
// file is intact; the next pass and a requested run complete; nothing
// older than the delete policy's age remains (the compliance view says
// so, and a count of the file agrees); every record between the two ages
// is there and anonymized, none with its original text; the young
// records are untouched; every run record is complete and has its audit
// event (a run is recorded only when it ends, in one transaction with its
// audit event, so an interrupted run leaves no record: its batches stay
// done and the next run finishes the rest); no acknowledged write is
// lost.
func TestCrashDuringRetentionRun(t *testing.T) {
	eachSeed(t, 1, func(t *testing.T, rng *rand.Rand) {
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "ok")
		}))
		t.Cleanup(target.Close)
		p, w, stopWriter := loaded(t, "--probe-allow-cidrs", "127.0.0.0/8", "--retention-interval", "2s")
		mons := make([]string, 0, retMonitors)
		for i := range retMonitors {
			ep := create(t, p, "/v1/endpoints", map[string]any{"name": fmt.Sprintf("ret-%d", i), "url": fmt.Sprintf("%s/r/%d", target.URL, i)})
			mons = append(mons, create(t, p, "/v1/monitors", map[string]any{"name": fmt.Sprintf("ret-%d", i), "endpoint_id": ep,
				"type": "http", "enabled": true, "interval": "5s", "retry_strategy": map[string]any{"type": api.RetryNone}}))
		}
		del := create(t, p, "/v1/retention-policies", map[string]any{"name": "results-delete", "data_kind": api.DataProbeResults,
			"max_age": retDeleteAge.String(), "action": api.RetentionDelete})
		anon := create(t, p, "/v1/retention-policies", map[string]any{"name": "results-anonymize", "data_kind": api.DataProbeResults,
			"max_age": retAnonAge.String(), "action": api.RetentionAnonymize, "anonymize_fields": []string{"error", "body_excerpt"}})

		p.Stop()
		seeded := time.Now()
		seedResults(t, p.DB, mons, seeded)
		texts := newSeededTexts(retMonitors)
		// The search below could fail: every old and middle text is in the
		// file now.
		if hits := texts.scan(t, p.DB); len(hits) != len(texts.windows) {
			t.Fatalf("the seeded file holds %d of the %d stretches of the old and middle texts", len(hits), len(texts.windows))
		}

		kills := 1 + rng.IntN(3)
		midRun := 0
		// The work of runs the kills interrupted: done, and never recorded.
		var lostDeleted, lostAnonymized int64
		for k := range kills {
			before := countResults(t, p.DB, seeded)
			recDel, recAnon := recordedWork(t, p.DB, del, anon)
			if before.old == 0 && before.clearMid == 0 {
				t.Logf("kill %d: nothing left to enforce, no more kills", k)
				break
			}
			p.Start()
			// The pass starts with aiod; wait until one of its batches is
			// committed, then kill a seeded while later.
			waitProgress(t, p.DB, seeded, before)
			time.Sleep(between(rng, 0, 400*time.Millisecond))
			p.Kill()
			p.CheckDB(t)
			after := countResults(t, p.DB, seeded)
			if after.old > 0 || after.clearMid > 0 {
				midRun++
			}
			// A run is recorded with all it did, or (killed before its
			// end) not at all.
			nowDel, nowAnon := recordedWork(t, p.DB, del, anon)
			didDel, didAnon := int64(before.old-after.old), int64(before.clearMid-after.clearMid)
			if d := nowDel - recDel; d != 0 && d != didDel {
				t.Errorf("kill %d: the delete policy's runs recorded %d deleted, the file lost %d old results", k, d, didDel)
			}
			if a := nowAnon - recAnon; a != 0 && a != didAnon {
				t.Errorf("kill %d: the anonymize policy's runs recorded %d anonymized, the file shows %d", k, a, didAnon)
			}
			lostDeleted += didDel - (nowDel - recDel)
			lostAnonymized += didAnon - (nowAnon - recAnon)
			t.Logf("kill %d: old %d -> %d, clear middle %d -> %d; recorded %d deleted, %d anonymized", k, before.old, after.old,
				before.clearMid, after.clearMid, nowDel-recDel, nowAnon-recAnon)
			time.Sleep(between(rng, 0, 500*time.Millisecond))
		}

		restarted := time.Now()
		p.Start()
		// The pass after the restart completes for both policies.
		for _, id := range []string{del, anon} {
			waitFor(t, 60*time.Second, "a scheduled run of "+id+" after the restart", func() bool {
				for _, r := range retentionRuns(t, p, id) {
					if r.Trigger == api.TriggerSchedule && !r.StartedAt.Before(restarted) {
						return true
					}
				}
				return false
			})
		}
		// The pass that finished the work checkpointed and truncated the
		// WAL when it ended; a scheduled run that started after it proves
		// that it ended. From then on no stretch of a deleted or anonymized
		// text may be in the database file, its WAL or its shared-memory
		// index.
		passEnd := time.Time{}
		for _, id := range []string{del, anon} {
			for _, r := range retentionRuns(t, p, id) {
				if r.FinishedAt.After(passEnd) {
					passEnd = r.FinishedAt
				}
			}
		}
		waitFor(t, 60*time.Second, "a scheduled run after the pass that finished the work", func() bool {
			for _, r := range retentionRuns(t, p, anon) {
				if r.Trigger == api.TriggerSchedule && r.StartedAt.After(passEnd) {
					return true
				}
			}
			return false
		})
		texts.requireGone(t, p.DB, "while aiod runs, after the pass's checkpoint")
		// A requested run completes, and finds nothing old left to delete.
		st, _, b, err := p.Do(t.Context(), http.MethodPost, "/v1/retention-policies/"+del+"/run", "", map[string]any{})
		var run api.RetentionRun
		if err != nil || st != http.StatusCreated || json.Unmarshal(b, &run) != nil {
			t.Fatalf("run of the delete policy: %d %v %s", st, err, b)
		}
		if run.Deleted != 0 || len(run.Errors) != 0 || run.ID == "" {
			t.Errorf("the requested run after the pass: %s, want a recorded run that deleted nothing", b)
		}

		// The compliance view: both policies' items are compliant, and the
		// oldest result held is younger than the delete policy's age.
		st, _, b, err = p.Do(t.Context(), http.MethodGet, "/v1/compliance/retention", "", nil)
		var comp api.RetentionCompliance
		if err != nil || st != http.StatusOK || json.Unmarshal(b, &comp) != nil {
			t.Fatalf("GET /v1/compliance/retention: %d %v %s", st, err, b)
		}
		seen := map[string]bool{}
		for _, it := range comp.Items {
			if it.DataKind != api.DataProbeResults || (it.PolicyID != del && it.PolicyID != anon) {
				continue
			}
			seen[it.PolicyID] = true
			if !it.Compliant || it.Overdue != 0 {
				t.Errorf("compliance of %s (%s): %+v, want compliant", it.PolicyID, it.Action, it)
			}
			if it.OldestAt == nil || it.OldestAt.Before(time.Now().Add(-retDeleteAge)) {
				t.Errorf("compliance of %s: oldest result %v is past the delete policy's %v", it.PolicyID, it.OldestAt, retDeleteAge)
			}
		}
		if !seen[del] || !seen[anon] {
			t.Errorf("the compliance view lacks an item of a policy: %s", b)
		}

		stopWriter()
		v := w.Verify(t)
		runs := map[string][]api.RetentionRun{del: retentionRuns(t, p, del), anon: retentionRuns(t, p, anon)}
		policies := map[string]map[string]any{}
		for _, id := range []string{del, anon} {
			st, _, b, err := p.Do(t.Context(), http.MethodGet, "/v1/retention-policies/"+id, "", nil)
			var pol map[string]any
			if err != nil || st != http.StatusOK || json.Unmarshal(b, &pol) != nil {
				t.Fatalf("GET policy %s: %d %v %s", id, st, err, b)
			}
			policies[id] = pol
		}
		p.Stop()
		p.CheckDB(t)

		// The file agrees: no old record, every middle record anonymized
		// and none with its text, every young record as written.
		final := countResults(t, p.DB, seeded)
		if final.old != 0 {
			t.Errorf("%d results older than %v remain", final.old, retDeleteAge)
		}
		if final.mid != retMonitors*retMidPer || final.anonMid != final.mid || final.clearMid != 0 {
			t.Errorf("middle results: %d held, %d anonymized, %d with their text; want %d, all anonymized",
				final.mid, final.anonMid, final.clearMid, retMonitors*retMidPer)
		}
		texts.requireGone(t, p.DB, "after aiod stopped")
		if final.leaked != 0 {
			t.Errorf("%d results hold a seeded middle text again", final.leaked)
		}
		if final.young != retMonitors*retYoungPer || final.intactYoung != final.young {
			t.Errorf("young results: %d held, %d as written; want %d", final.young, final.intactYoung, retMonitors*retYoungPer)
		}
		deleted, anonymized := checkRunRecords(t, p.DB, runs, policies)
		// Every seeded record was changed once: by a recorded run or by an
		// interrupted one.
		if deleted[del]+lostDeleted != retMonitors*retOldPer || anonymized[anon]+lostAnonymized != retMonitors*retMidPer {
			t.Errorf("run records count %d deleted and %d anonymized, interrupted runs %d and %d; want %d old and %d middle records in all",
				deleted[del], anonymized[anon], lostDeleted, lostAnonymized, retMonitors*retOldPer, retMonitors*retMidPer)
		}
		figures(t, "retention", p.Kills, v)
		t.Logf("FIGURES retention kills=%d mid_run=%d runs=%d seeded_old=%d seeded_mid=%d recorded_deleted=%d recorded_anonymized=%d interrupted_deleted=%d interrupted_anonymized=%d remaining_old=%d leaked=%d",
			p.Kills, midRun, len(runs[del])+len(runs[anon]), retMonitors*retOldPer, retMonitors*retMidPer, deleted[del], anonymized[anon],
			lostDeleted, lostAnonymized, final.old, final.leaked)
	})
}

// seedResults writes probe results of mons into the stopped aiod's file:
// old, middle and young ones (see the constants), at ages measured from
// now. Middle and young records carry an error and a body excerpt that
// name them, so that their anonymization (or its absence) can be seen.
func seedResults(t *testing.T, path string, mons []string, now time.Time) {
	t.Helper()
	db := openDB(t, path, false)
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	ins, err := tx.Prepare(`INSERT INTO probe_results (monitor_key, time, outcome, status_code, latency_ns, bytes_received, attempts, error, body_excerpt)
		VALUES (?, ?, 3, 500, 1000000, 2, 1, ?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	defer ins.Close()
	at := func(from, to time.Duration, i, n int) int64 {
		return now.Add(-from + time.Duration(i)*(from-to)/time.Duration(n)).UnixMicro()
	}
	for m, id := range mons {
		if _, err := tx.Exec(`INSERT OR IGNORE INTO result_monitors (monitor_id) VALUES (?)`, id); err != nil {
			t.Fatal(err)
		}
		var key int64
		if err := tx.QueryRow(`SELECT key FROM result_monitors WHERE monitor_id = ?`, id).Scan(&key); err != nil {
			t.Fatal(err)
		}
		for i := range retOldPer {
			if _, err := ins.Exec(key, at(retOldFrom, retOldTo, i, retOldPer), fmt.Sprintf("old-error-%d-%d", m, i), "old body"); err != nil {
				t.Fatal(err)
			}
		}
		for i := range retMidPer {
			if _, err := ins.Exec(key, at(retMidFrom, retMidTo, i, retMidPer), fmt.Sprintf("mid-error-%d-%d", m, i), fmt.Sprintf("mid-body-%d-%d", m, i)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range retYoungPer {
			if _, err := ins.Exec(key, at(retYoungFrom, retYoungTo, i, retYoungPer), fmt.Sprintf("young-error-%d-%d", m, i), fmt.Sprintf("young-body-%d-%d", m, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// openDB opens the database file, read-only while aiod runs.
func openDB(t *testing.T, path string, readOnly bool) *sql.DB {
	t.Helper()
	// With secure_delete, as aiod writes: otherwise the seeding's page
	// splits would leave stale copies of records in free space, which
	// retention never sees.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=secure_delete(1)"
	if readOnly {
		dsn += "&mode=ro"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// resultCounts are the seeded results in the file, by age band.
type resultCounts struct {
	// old counts every result older than the delete policy's age (seeded
	// or not); mid the middle band, of which anonMid are anonymized in
	// both fields and clearMid still hold a seeded text in one; leaked
	// counts results anywhere holding a middle record's text; young the
	// young band, of which intactYoung hold their seeded text.
	old, mid, anonMid, clearMid, leaked, young, intactYoung int
}

func countResults(t *testing.T, path string, seeded time.Time) resultCounts {
	t.Helper()
	db := openDB(t, path, true)
	defer db.Close()
	var c resultCounts
	band := func(from, to time.Duration) (int64, int64) {
		return seeded.Add(-from).UnixMicro(), seeded.Add(-to).UnixMicro()
	}
	oldCut := seeded.Add(-retDeleteAge).UnixMicro()
	mf, mt := band(retMidFrom, retMidTo)
	yf, yt := band(retYoungFrom, retYoungTo)
	q := func(dst *int, query string, args ...any) {
		if err := db.QueryRow(query, args...).Scan(dst); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	q(&c.old, `SELECT COUNT(*) FROM probe_results WHERE time < ?`, oldCut)
	q(&c.mid, `SELECT COUNT(*) FROM probe_results WHERE time BETWEEN ? AND ?`, mf, mt)
	q(&c.anonMid, `SELECT COUNT(*) FROM probe_results WHERE time BETWEEN ? AND ? AND error = ? AND body_excerpt = ?`, mf, mt, api.AnonymizedText, api.AnonymizedText)
	q(&c.clearMid, `SELECT COUNT(*) FROM probe_results WHERE time BETWEEN ? AND ? AND (error LIKE 'mid-%' OR body_excerpt LIKE 'mid-%')`, mf, mt)
	q(&c.leaked, `SELECT COUNT(*) FROM probe_results WHERE (error LIKE 'mid-%' OR body_excerpt LIKE 'mid-%') AND time NOT BETWEEN ? AND ?`, mf, mt)
	c.leaked += c.clearMid
	q(&c.young, `SELECT COUNT(*) FROM probe_results WHERE time BETWEEN ? AND ? AND error LIKE 'young-%'`, yf, yt)
	q(&c.intactYoung, `SELECT COUNT(*) FROM probe_results WHERE time BETWEEN ? AND ? AND error = 'young-error-' || substr(body_excerpt, 12)`, yf, yt)
	return c
}

// waitProgress waits until the file shows a committed batch of the pass:
// fewer old or fewer clear middle results than before.
func waitProgress(t *testing.T, path string, seeded time.Time, before resultCounts) {
	t.Helper()
	waitFor(t, 30*time.Second, "a committed retention batch", func() bool {
		c := countResults(t, path, seeded)
		return c.old < before.old || c.clearMid < before.clearMid
	})
}

// recordedWork sums what the recorded runs of the two policies deleted
// and anonymized, from the file.
func recordedWork(t *testing.T, path, del, anon string) (int64, int64) {
	t.Helper()
	db := openDB(t, path, true)
	defer db.Close()
	var d, a int64
	if err := db.QueryRow(`SELECT COALESCE(SUM(deleted), 0) FROM retention_runs WHERE policy_id = ?`, del).Scan(&d); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COALESCE(SUM(anonymized), 0) FROM retention_runs WHERE policy_id = ?`, anon).Scan(&a); err != nil {
		t.Fatal(err)
	}
	return d, a
}

// retentionRuns lists every run of a policy.
func retentionRuns(t *testing.T, p *aiodproc.Proc, id string) []api.RetentionRun {
	t.Helper()
	var out []api.RetentionRun
	for _, m := range p.ListAll(t, "/v1/retention-policies/"+id+"/runs") {
		b, _ := json.Marshal(m)
		var r api.RetentionRun
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// checkRunRecords checks that every run record is complete (an ID, an end
// not before its start, no errors) and has exactly one audit event, that
// each policy's last-run report is its newest run, and returns the
// records' deleted and anonymized counts per policy. runs and policies
// were read through the API while aiod still ran its pass every few
// seconds, so a run may have ended after they were read and before aiod
// stopped: the file (read after the stop) holds the whole set, every
// listed run is in it, and a run the listing missed is checked and
// counted from the file.
func checkRunRecords(t *testing.T, path string, runs map[string][]api.RetentionRun, policies map[string]map[string]any) (map[string]int64, map[string]int64) {
	t.Helper()
	db := openDB(t, path, true)
	defer db.Close()
	deleted, anonymized := map[string]int64{}, map[string]int64{}
	for id, rs := range runs {
		type fileRun struct {
			finished, errors    string
			deleted, anonymized int64
		}
		inFile := map[string]fileRun{}
		var order []string
		rows, err := db.Query(`SELECT id, finished_at, deleted, anonymized, errors FROM retention_runs WHERE policy_id = ? ORDER BY seq`, id)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var rid string
			var fr fileRun
			if err := rows.Scan(&rid, &fr.finished, &fr.deleted, &fr.anonymized, &fr.errors); err != nil {
				t.Fatal(err)
			}
			inFile[rid] = fr
			order = append(order, rid)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		_ = rows.Close()

		var newest *api.RetentionRun
		listed := map[string]bool{}
		for i, r := range rs {
			if r.ID == "" || r.PolicyID != id || r.DryRun || r.FinishedAt.Before(r.StartedAt) || r.StartedAt.IsZero() || len(r.Errors) != 0 {
				t.Errorf("an incomplete or failed run record of %s: %+v", id, r)
			}
			fr, ok := inFile[r.ID]
			if !ok || fr.deleted != r.Deleted || fr.anonymized != r.Anonymized {
				t.Errorf("the listed run %s of %s is not in the file as listed (file: %+v, held %t)", r.ID, id, fr, ok)
			}
			listed[r.ID] = true
			deleted[id] += r.Deleted
			anonymized[id] += r.Anonymized
			if newest == nil || r.FinishedAt.After(newest.FinishedAt) {
				newest = &rs[i]
			}
		}
		finished := map[time.Time]bool{}
		for _, rid := range order {
			fr := inFile[rid]
			at, err := time.Parse(time.RFC3339Nano, fr.finished)
			if err != nil {
				t.Fatalf("run %s of %s: finished_at %q: %v", rid, id, fr.finished, err)
			}
			finished[at] = true
			if listed[rid] {
				continue
			}
			// A run that ended after the listing: it must be after every
			// listed run, and complete.
			if (newest != nil && at.Before(newest.FinishedAt)) || (fr.errors != "[]" && fr.errors != "null") {
				t.Errorf("run %s of %s is in the file but was not listed: %+v", rid, id, fr)
			}
			t.Logf("policy %s: run %s ended after the listing (deleted %d, anonymized %d)", id, rid, fr.deleted, fr.anonymized)
			deleted[id] += fr.deleted
			anonymized[id] += fr.anonymized
		}
		var events int
		if err := db.QueryRow(`SELECT COUNT(*) FROM audit_events WHERE action = ? AND object_kind = ? AND object_id = ?`,
			api.ActionRun, api.KindRetention, id).Scan(&events); err != nil {
			t.Fatal(err)
		}
		if events != len(order) {
			t.Errorf("policy %s: %d run records, %d run audit events", id, len(order), events)
		}
		if newest == nil {
			t.Errorf("policy %s has no run record", id)
			continue
		}
		// The policy was read after the listing: its last run is the
		// newest listed one or one that ended later.
		last, _ := policies[id]["last_run_at"].(string)
		lastAt, err := time.Parse(time.RFC3339Nano, last)
		if err != nil || lastAt.Before(newest.FinishedAt) || !finished[lastAt] {
			t.Errorf("policy %s: last_run_at %q, newest listed run finished %v", id, last, newest.FinishedAt)
		}
		var fileLast string
		if err := db.QueryRow(`SELECT COALESCE(last_run_at, '') FROM retention_policies WHERE id = ?`, id).Scan(&fileLast); err != nil {
			t.Fatal(err)
		}
		if fileLast != inFile[order[len(order)-1]].finished {
			t.Errorf("policy %s: last_run_at %q in the file, newest run finished %q", id, fileLast, inFile[order[len(order)-1]].finished)
		}
	}
	return deleted, anonymized
}

// residueWindow is the length of the byte stretches searched for: long
// enough that no stretch of a seeded old or middle text occurs in anything
// else the file holds by chance (the young texts' stretches are left out).
const residueWindow = 12

// seededTexts indexes every residueWindow-byte stretch of the seeded old
// texts (deleted) and middle texts (anonymized), so that a partly
// overwritten copy is found too.
type seededTexts struct {
	windows map[string]string // stretch -> an old or middle text it is part of
}

func newSeededTexts(monitors int) seededTexts {
	st := seededTexts{windows: map[string]string{}}
	kept := map[string]bool{}
	for m := range monitors {
		for i := range retYoungPer {
			for _, v := range []string{fmt.Sprintf("young-error-%d-%d", m, i), fmt.Sprintf("young-body-%d-%d", m, i)} {
				for j := 0; j+residueWindow <= len(v); j++ {
					kept[v[j:j+residueWindow]] = true
				}
			}
		}
	}
	for m := range monitors {
		var gone []string
		for i := range retOldPer {
			gone = append(gone, fmt.Sprintf("old-error-%d-%d", m, i))
		}
		for i := range retMidPer {
			gone = append(gone, fmt.Sprintf("mid-error-%d-%d", m, i), fmt.Sprintf("mid-body-%d-%d", m, i))
		}
		for _, v := range gone {
			for j := 0; j+residueWindow <= len(v); j++ {
				if w := v[j : j+residueWindow]; !kept[w] {
					st.windows[w] = v
				}
			}
		}
	}
	return st
}

// residue is a stretch of an old or middle text found in a file.
type residue struct {
	file   string
	offset int
	text   string // an old or middle text the stretch is part of
	around []byte
}

// scan reads the database file, its WAL and its shared-memory index as
// they are on disk and returns, per stretch found, where it is first.
func (st seededTexts) scan(t *testing.T, path string) map[string]residue {
	t.Helper()
	found := map[string]residue{}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+residueWindow <= len(b); i++ {
			w := string(b[i : i+residueWindow])
			v, ok := st.windows[w]
			if !ok {
				continue
			}
			if _, seen := found[w]; !seen {
				found[w] = residue{file: filepath.Base(f), offset: i, text: v, around: b[max(0, i-24):min(len(b), i+residueWindow+24)]}
			}
		}
	}
	return found
}

// requireGone fails the test when a stretch of an old or middle text is
// in the files.
func (st seededTexts) requireGone(t *testing.T, path, when string) {
	t.Helper()
	hits := st.scan(t, path)
	if len(hits) == 0 {
		return
	}
	t.Errorf("%s: %d stretches of deleted or anonymized texts are still on disk", when, len(hits))
	n := 0
	for _, h := range hits {
		if n++; n > 5 {
			break
		}
		t.Errorf("  %s at offset %d (page %d): part of %q: %q", h.file, h.offset, h.offset/4096, h.text, h.around)
	}
}
