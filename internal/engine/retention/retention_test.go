package retention_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
	"github.com/aio-platform/terraform-provider-aio/internal/testutil"
)

var t0 = time.Date(2026, time.March, 2, 12, 0, 0, 0, time.UTC)

// ages are the ages of the records every fixture stores, one of each per
// monitor (and per endpoint, for alert events and deliveries).
var ages = []time.Duration{30 * time.Minute, 3 * time.Hour, 30 * time.Hour, 72 * time.Hour}

// fixture is a real SQLite store on a temporary file with two endpoints,
// public (tag team=web) and pii (tag team=pay), one monitor each, and an
// enforcer on a fake clock.
type fixture struct {
	t     *testing.T
	path  string
	st    *store.SQLite
	clock *clock.Fake
	enf   *retention.Enforcer
	db    *sql.DB
}

func newFixture(t *testing.T, cfg ...retention.Config) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "aio.db")
	st, err := store.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	f := &fixture{t: t, path: path, st: st, clock: clock.NewFake(t0), db: db}
	var c retention.Config
	if len(cfg) > 0 {
		c = cfg[0]
	}
	f.enf = f.enforcer(st, c)
	enabled, interval := true, "1m"
	err = st.Write(t.Context(), func(tx store.Tx) error {
		for _, e := range []struct{ id, class, team string }{{"ep_pub", api.ClassPublic, "web"}, {"ep_pii", api.ClassPII, "pay"}} {
			meta := api.Meta{ID: e.id, Revision: 1, CreatedAt: t0, UpdatedAt: t0}
			if err := tx.InsertEndpoint(t.Context(), api.Endpoint{Meta: meta, Name: e.id, URL: "https://" + e.class + ".example.com",
				DataClassification: e.class, Tags: map[string]string{"team": e.team}}); err != nil {
				return err
			}
			meta.ID = "mon" + strings.TrimPrefix(e.id, "ep")
			if err := tx.InsertMonitor(t.Context(), api.Monitor{Meta: meta, Name: meta.ID, EndpointID: e.id, Type: api.MonitorHTTP,
				Enabled: &enabled, Interval: &interval}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// enforcer returns an enforcer on st (the fixture's store, or a wrapper of
// it) and the fixture's clock, with the tests' defaults where c leaves a
// setting unset.
func (f *fixture) enforcer(st store.Store, c retention.Config) *retention.Enforcer {
	c.Store, c.Clock = st, f.clock
	if c.Defaults == nil {
		// The tests' record ages are placed around these ages (a result
		// of 72 hours is past its default, one of 24 hours is not), so
		// that precedence is tested apart from aiod's built-in ages,
		// which are sized for disk use and may change.
		c.Defaults = retention.Defaults{api.DataProbeResults: 48 * time.Hour, api.DataMinuteRollups: 14 * 24 * time.Hour,
			api.DataHourRollups: 400 * 24 * time.Hour}
	}
	if c.Batch == 0 {
		// Small batches, so that every run takes several transactions.
		c.Batch = 2
	}
	return retention.New(c)
}

// secretOf is the error text of a result, unique per monitor and age, so
// that the file's bytes can be searched for it.
func secretOf(mon string, age time.Duration) string {
	return fmt.Sprintf("error-of-%s-at-%s", mon, age)
}

// addResults stores one failed result per age for both monitors.
func (f *fixture) addResults() {
	f.t.Helper()
	var rs []api.ProbeResult
	for _, mon := range []string{"mon_pub", "mon_pii"} {
		for _, a := range ages {
			e, b := secretOf(mon, a), "body-of-"+secretOf(mon, a)
			rs = append(rs, api.ProbeResult{MonitorID: mon, Time: t0.Add(-a), Outcome: api.OutcomeDown, LatencyMS: 5, Attempts: 1,
				Error: &e, BodyExcerpt: &b})
		}
	}
	// And one missed run per monitor, three days old: raw data too.
	missed := []store.MissedRun{{MonitorID: "mon_pub", Time: t0.Add(-72 * time.Hour)}, {MonitorID: "mon_pii", Time: t0.Add(-72 * time.Hour)}}
	if err := f.st.WriteResults(f.t.Context(), rs, missed); err != nil {
		f.t.Fatal(err)
	}
	// At t0 the results writer has written the rollups of every minute
	// before it.
	if err := f.st.WriteRollups(f.t.Context(), t0); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRowContext(f.t.Context(), q, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// results counts the raw results of a monitor, and those whose error is
// anonymized.
func (f *fixture) results(mon string) (all, anonymized int) {
	return f.count(`SELECT COUNT(*) FROM probe_results WHERE monitor_key = (SELECT key FROM result_monitors WHERE monitor_id = ?)`, mon),
		f.count(`SELECT COUNT(*) FROM probe_results WHERE monitor_key = (SELECT key FROM result_monitors WHERE monitor_id = ?) AND error = ? AND body_excerpt = ?`, mon, api.AnonymizedText, api.AnonymizedText)
}

func (f *fixture) policy(p api.RetentionPolicy) api.RetentionPolicy {
	f.t.Helper()
	if p.ID == "" {
		p.ID = "ret_" + p.Name
	}
	p.Revision, p.CreatedAt, p.UpdatedAt = 1, t0, t0
	if errs := p.Validate(); len(errs) > 0 {
		f.t.Fatalf("policy %s: %v", p.Name, errs)
	}
	p.Normalize()
	if err := f.st.Write(f.t.Context(), func(tx store.Tx) error { return tx.InsertRetentionPolicy(f.t.Context(), p) }); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) pass() retention.PassReport {
	f.t.Helper()
	rep, err := f.enf.Pass(f.t.Context(), f.clock.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return rep
}

// fileBytes reads the database file, its WAL and its shared-memory index,
// as they are on disk.
func (f *fixture) fileBytes() []byte {
	f.t.Helper()
	var out []byte
	for _, p := range []string{f.path, f.path + "-wal", f.path + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			f.t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

func TestDeleteByAgeAndClassification(t *testing.T) {
	f := newFixture(t)
	f.addResults()
	f.policy(api.RetentionPolicy{Name: "pii-2h", DataKind: api.DataProbeResults, MaxAge: "2h", Action: api.RetentionDelete,
		DataClassifications: []string{api.ClassPII}})
	rep := f.pass()
	// pii: only the 30-minute result is younger than 2h.
	if all, _ := f.results("mon_pii"); all != 1 {
		t.Errorf("pii results after the pass = %d, want 1", all)
	}
	// public: no policy covers it, so the built-in 48 h applies: the
	// 72-hour result goes, the others stay.
	if all, _ := f.results("mon_pub"); all != 3 {
		t.Errorf("public results after the pass = %d, want 3", all)
	}
	if len(rep.Runs) != 1 || rep.Runs[0].Deleted != 4 || len(rep.Runs[0].Scopes) != 1 || rep.Runs[0].Scopes[0].EndpointID != "ep_pii" {
		t.Errorf("runs = %+v, want one run deleting 3 results and a missed run of ep_pii", rep.Runs)
	}
	// The missed runs go with the raw results, the pii one by the
	// policy, the public one by the default.
	if n := f.count(`SELECT COUNT(*) FROM missed_runs`); n != 0 {
		t.Errorf("missed runs left = %d, want 0", n)
	}
	if rep.Defaults[api.DataProbeResults] != 2 {
		t.Errorf("default deleted %d raw records, want 2 (a result and a missed run)", rep.Defaults[api.DataProbeResults])
	}
	// The run is recorded, reported on the policy and audited with its
	// counts.
	runs, _, err := f.st.ListRetentionRuns(t.Context(), "ret_pii-2h", 0, "")
	if err != nil || len(runs) != 1 || runs[0].Deleted != 4 || runs[0].Trigger != api.TriggerSchedule {
		t.Fatalf("run records = %+v, %v", runs, err)
	}
	p, err := f.st.GetRetentionPolicy(t.Context(), "ret_pii-2h")
	if err != nil || p.LastRunAt == nil || *p.LastRunDeleted != 4 || *p.LastRunAnonymized != 0 || !p.NextRunAt.Equal(t0.Add(retention.DefaultInterval)) {
		t.Errorf("policy report = %+v, %v", p, err)
	}
	evs, _, err := f.st.ListAuditEvents(t.Context(), store.AuditQuery{ObjectID: "ret_pii-2h"})
	if err != nil || len(evs) != 1 || evs[0].Action != api.ActionRun || evs[0].Counts["deleted"] != 4 || evs[0].Actor != "retention" {
		t.Errorf("audit events = %+v, %v", evs, err)
	}
	// A second pass finds nothing more, and records that too.
	if rep := f.pass(); rep.Runs[0].Deleted != 0 {
		t.Errorf("second pass deleted %d", rep.Runs[0].Deleted)
	}
	if runs, _, _ := f.st.ListRetentionRuns(t.Context(), "ret_pii-2h", 0, ""); len(runs) != 2 {
		t.Errorf("%d run records after two passes, want 2", len(runs))
	}
}

func TestScopes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		policy   api.RetentionPolicy
		pub, pii int
	}{
		{"endpoint_ids", api.RetentionPolicy{EndpointIDs: []string{"ep_pub"}}, 1, 3},
		{"endpoint_tags", api.RetentionPolicy{EndpointTags: map[string]string{"team": "pay"}}, 3, 1},
		{"data_classifications", api.RetentionPolicy{DataClassifications: []string{api.ClassPublic, api.ClassInternal}}, 1, 3},
		// A policy for every endpoint covers both: the built-in 48 h no
		// longer applies to either.
		{"all", api.RetentionPolicy{}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.addResults()
			p := tc.policy
			p.Name, p.DataKind, p.MaxAge, p.Action = "scoped", api.DataProbeResults, "1h", api.RetentionDelete
			f.policy(p)
			f.pass()
			pub, _ := f.results("mon_pub")
			pii, _ := f.results("mon_pii")
			if pub != tc.pub || pii != tc.pii {
				t.Errorf("results left: public %d, pii %d; want %d, %d", pub, pii, tc.pub, tc.pii)
			}
		})
	}
}

func TestOverlapsShortestDeleteWinsAndPoliciesReplaceTheDefault(t *testing.T) {
	f := newFixture(t)
	f.addResults()
	// Every endpoint 100 h (longer than the built-in 48 h: a policy that
	// covers data replaces the default), pii 2 h, and team=pay 24 h: for
	// pii the shortest, 2 h, wins.
	f.policy(api.RetentionPolicy{Name: "all-100h", DataKind: api.DataProbeResults, MaxAge: "100h", Action: api.RetentionDelete})
	f.policy(api.RetentionPolicy{Name: "pay-24h", DataKind: api.DataProbeResults, MaxAge: "24h", Action: api.RetentionDelete,
		EndpointTags: map[string]string{"team": "pay"}})
	f.policy(api.RetentionPolicy{Name: "pii-2h", DataKind: api.DataProbeResults, MaxAge: "2h", Action: api.RetentionDelete,
		DataClassifications: []string{api.ClassPII}})
	f.pass()
	if pub, _ := f.results("mon_pub"); pub != 4 {
		t.Errorf("public results = %d, want all 4 (kept 100 h)", pub)
	}
	if pii, _ := f.results("mon_pii"); pii != 1 {
		t.Errorf("pii results = %d, want 1 (the 2 h policy wins)", pii)
	}
}

func TestAnonymizeBetweenItsAgeAndTheDeletes(t *testing.T) {
	f := newFixture(t)
	f.addResults()
	f.policy(api.RetentionPolicy{Name: "anon-1h", DataKind: api.DataProbeResults, MaxAge: "1h", Action: api.RetentionAnonymize,
		AnonymizeFields: []string{"error", "body_excerpt"}})
	f.policy(api.RetentionPolicy{Name: "pii-24h", DataKind: api.DataProbeResults, MaxAge: "24h", Action: api.RetentionDelete,
		DataClassifications: []string{api.ClassPII}})
	before := f.fileBytes()
	for _, s := range []string{secretOf("mon_pub", 3*time.Hour), secretOf("mon_pii", 30*time.Hour)} {
		// The check below could fail: the values are in the file now.
		if !bytes.Contains(before, []byte(s)) {
			t.Fatalf("%s is not in the database file before the pass", s)
		}
	}
	rep := f.pass()
	// pii: 30m raw, 3h anonymized, 30h and 72h deleted (24 h wins).
	if all, anon := f.results("mon_pii"); all != 2 || anon != 1 {
		t.Errorf("pii results = %d, anonymized %d; want 2, 1", all, anon)
	}
	// public: 30m raw, 3h and 30h anonymized, 72h deleted by the default.
	if all, anon := f.results("mon_pub"); all != 3 || anon != 2 {
		t.Errorf("public results = %d, anonymized %d; want 3, 2", all, anon)
	}
	var anonRun api.RetentionRun
	for _, r := range rep.Runs {
		if r.PolicyID == "ret_anon-1h" {
			anonRun = r
		}
	}
	if anonRun.Anonymized != 3 || anonRun.Deleted != 0 {
		t.Errorf("anonymize run = %+v, want 3 anonymized", anonRun)
	}
	after := f.fileBytes()
	for _, mon := range []string{"mon_pub", "mon_pii"} {
		for _, a := range ages[1:] {
			if s := secretOf(mon, a); bytes.Contains(after, []byte(s)) {
				t.Errorf("%s is still in the database file or its WAL after the pass", s)
			}
		}
		// What no policy touched is still there: the search works.
		if s := secretOf(mon, ages[0]); !bytes.Contains(after, []byte(s)) {
			t.Errorf("%s, never anonymized, is not found in the file", s)
		}
	}
	// Anonymized rows are not anonymized again.
	rep = f.pass()
	for _, r := range rep.Runs {
		if r.Anonymized != 0 || r.Deleted != 0 {
			t.Errorf("second pass changed something: %+v", r)
		}
	}
}

func TestRollupsByScope(t *testing.T) {
	f := newFixture(t)
	f.addResults()
	minutes := func(mon string) int {
		return f.count(`SELECT COUNT(*) FROM rollups_minute WHERE monitor_key = (SELECT key FROM result_monitors WHERE monitor_id = ?)`, mon)
	}
	hours := func(mon string) int {
		return f.count(`SELECT COUNT(*) FROM rollups_hour WHERE monitor_key = (SELECT key FROM result_monitors WHERE monitor_id = ?)`, mon)
	}
	if minutes("mon_pii") != 4 || hours("mon_pii") != 4 {
		t.Fatalf("rollups before: %d minutes, %d hours", minutes("mon_pii"), hours("mon_pii"))
	}
	f.policy(api.RetentionPolicy{Name: "pii-minutes", DataKind: api.DataMinuteRollups, MaxAge: "1h", Action: api.RetentionDelete,
		EndpointIDs: []string{"ep_pii"}})
	f.policy(api.RetentionPolicy{Name: "pii-hours", DataKind: api.DataHourRollups, MaxAge: "48h", Action: api.RetentionDelete,
		EndpointIDs: []string{"ep_pii"}})
	f.pass()
	if got := minutes("mon_pii"); got != 1 {
		t.Errorf("pii minute rollups = %d, want 1", got)
	}
	if got := hours("mon_pii"); got != 3 {
		t.Errorf("pii hour rollups = %d, want 3", got)
	}
	// Public rollups are within their defaults (14 d, 400 d).
	if minutes("mon_pub") != 4 || hours("mon_pub") != 4 {
		t.Errorf("public rollups = %d minutes, %d hours; want 4, 4", minutes("mon_pub"), hours("mon_pub"))
	}
	// The oldest hour rollup of the public endpoint, in Unix seconds as
	// stored, is what RetentionOldest reads, and a batch of one deletes
	// exactly that row (the rollups' composite key names one row).
	pub := store.RetentionSelector{DataKind: api.DataHourRollups, Before: t0, Scope: store.RetentionScope{EndpointIDs: []string{"ep_pub"}}}
	first := f.count(`SELECT MIN(bucket_start) FROM rollups_hour WHERE monitor_key = (SELECT key FROM result_monitors WHERE monitor_id = 'mon_pub')`)
	oldest, err := f.st.RetentionOldest(t.Context(), pub)
	if err != nil || oldest == nil || !oldest.Equal(time.Unix(int64(first), 0)) {
		t.Fatalf("oldest public hour rollup = %v, %v; want %v", oldest, err, time.Unix(int64(first), 0).UTC())
	}
	total := f.count(`SELECT COUNT(*) FROM rollups_hour`)
	got, err := f.st.RetentionDelete(t.Context(), pub, 1)
	if err != nil || got["ep_pub"] != 1 || len(got) != 1 {
		t.Fatalf("delete one = %v, %v", got, err)
	}
	if n := hours("mon_pub"); n != 3 {
		t.Errorf("public hour rollups after deleting one = %d, want 3", n)
	}
	if n := f.count(`SELECT COUNT(*) FROM rollups_hour`); n != total-1 {
		t.Errorf("hour rollups after deleting one = %d, want %d", n, total-1)
	}
	if n := f.count(`SELECT COUNT(*) FROM rollups_hour WHERE bucket_start = ? AND monitor_key = (SELECT key FROM result_monitors WHERE monitor_id = 'mon_pub')`, first); n != 0 {
		t.Errorf("the oldest public hour rollup is still there")
	}
}

// addAlerts stores, per endpoint and age, an alert event with a reason
// and one delivered delivery with an error, with one attempt.
func (f *fixture) addAlerts() {
	f.t.Helper()
	var b store.AlertBatch
	for _, ep := range []string{"ep_pub", "ep_pii"} {
		for i, a := range ages {
			at := t0.Add(-a)
			epID, reason := ep, "reason-of-"+secretOf(ep, a)
			id := fmt.Sprintf("evt_%s_%d", ep, i)
			b.Events = append(b.Events, api.AlertEvent{ID: id, ThresholdID: "thr_x", ThresholdName: "x", EndpointID: &epID,
				Severity: api.SeverityWarning, FromState: "ok", ToState: "firing", Metric: api.MetricAvailability, At: at, Reason: &reason})
			b.Deliveries = append(b.Deliveries, api.Delivery{ID: "dlv" + strings.TrimPrefix(id, "evt"), EventID: id, ChannelID: "chan_x",
				State: api.DeliveryPending, CreatedAt: at})
		}
	}
	if err := f.st.RecordTransitions(f.t.Context(), b); err != nil {
		f.t.Fatal(err)
	}
	for _, d := range b.Deliveries {
		e := "error-of-" + d.ID
		_, err := f.st.RecordDeliveryAttempt(f.t.Context(), store.DeliveryAttemptRecord{
			DeliveryAttempt: api.DeliveryAttempt{DeliveryID: d.ID, At: d.CreatedAt, DurationMS: 3, Error: &e},
			State:           api.DeliveryFailed})
		if err != nil {
			f.t.Fatal(err)
		}
	}
}

func TestAlertEventsAndDeliveries(t *testing.T) {
	f := newFixture(t)
	f.addAlerts()
	f.policy(api.RetentionPolicy{Name: "pay-events", DataKind: api.DataAlertEvents, MaxAge: "24h", Action: api.RetentionDelete,
		EndpointTags: map[string]string{"team": "pay"}})
	f.policy(api.RetentionPolicy{Name: "delivery-errors", DataKind: api.DataDeliveries, MaxAge: "1h", Action: api.RetentionAnonymize,
		AnonymizeFields: []string{"error"}})
	f.policy(api.RetentionPolicy{Name: "pub-reasons", DataKind: api.DataAlertEvents, MaxAge: "1h", Action: api.RetentionAnonymize,
		AnonymizeFields: []string{"reason"}, EndpointIDs: []string{"ep_pub"}})
	f.pass()
	events := func(ep string) int { return f.count(`SELECT COUNT(*) FROM alert_events WHERE endpoint_id = ?`, ep) }
	if events("ep_pii") != 2 || events("ep_pub") != 4 {
		t.Errorf("events left: pii %d, public %d; want 2, 4", events("ep_pii"), events("ep_pub"))
	}
	// The deleted events' deliveries and attempts went with them.
	if n := f.count(`SELECT COUNT(*) FROM deliveries`); n != 6 {
		t.Errorf("deliveries left = %d, want 6", n)
	}
	if n := f.count(`SELECT COUNT(*) FROM delivery_attempts`); n != 6 {
		t.Errorf("attempts left = %d, want 6", n)
	}
	// Deliveries older than 1 h: their errors and their attempts' are gone.
	if n := f.count(`SELECT COUNT(*) FROM deliveries WHERE last_error = ?`, api.AnonymizedText); n != 4 {
		t.Errorf("anonymized deliveries = %d, want 4", n)
	}
	if n := f.count(`SELECT COUNT(*) FROM delivery_attempts WHERE error = ?`, api.AnonymizedText); n != 4 {
		t.Errorf("anonymized attempts = %d, want 4", n)
	}
	if n := f.count(`SELECT COUNT(*) FROM alert_events WHERE reason = ?`, api.AnonymizedText); n != 3 {
		t.Errorf("anonymized public reasons = %d, want 3", n)
	}
}

// addAudit stores audit events by two actors at the given ages.
func (f *fixture) addAudit(ages ...time.Duration) {
	f.t.Helper()
	err := f.st.Write(f.t.Context(), func(tx store.Tx) error {
		for _, a := range ages {
			for _, actor := range []string{"alice-token", "bob-token"} {
				ev := auth.Event(t0.Add(-a), auth.Actor{Name: actor, Role: api.RoleEditor}, api.ActionUpdate, api.KindEndpoint, "ep_pub", 2, []string{"url"})
				if err := tx.InsertAuditEvent(f.t.Context(), ev); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func TestAuditFloorHolds(t *testing.T) {
	f := newFixture(t, retention.Config{AuditFloor: 400 * 24 * time.Hour})
	f.addAudit(24*time.Hour, 10*24*time.Hour, 500*24*time.Hour)
	f.policy(api.RetentionPolicy{Name: "audit-1d", DataKind: api.DataAuditEvents, MaxAge: "1h", Action: api.RetentionDelete})
	rep := f.pass()
	if len(rep.Runs) != 1 || rep.Runs[0].Deleted != 2 || !rep.Runs[0].FloorApplied || !rep.Runs[0].Cutoff.Equal(t0.Add(-400*24*time.Hour)) {
		t.Fatalf("run = %+v, want the two 500-day-old events deleted, at the floor", rep.Runs)
	}
	// The run's own audit event is there too, and the younger events.
	n := f.count(`SELECT COUNT(*) FROM audit_events WHERE object_id = 'ep_pub'`)
	if n != 4 {
		t.Errorf("audit events of ep_pub left = %d, want 4", n)
	}
	if n := f.count(`SELECT COUNT(*) FROM audit_events WHERE action = 'run' AND object_id = 'ret_audit-1d'`); n != 1 {
		t.Errorf("run audit events = %d, want 1", n)
	}
	// Nor can a policy take the names out of the recent trail: the floor
	// holds for anonymization too.
	f.policy(api.RetentionPolicy{Name: "actors-1m", DataKind: api.DataAuditEvents, MaxAge: "1m", Action: api.RetentionAnonymize,
		AnonymizeFields: []string{"actor"}})
	f.pass()
	if n := f.count(`SELECT COUNT(*) FROM audit_events WHERE actor LIKE 'anon:%'`); n != 0 {
		t.Errorf("%d audit events younger than the floor were pseudonymized", n)
	}
}

func TestPseudonymsAreStableKeyedAndGoneFromTheFile(t *testing.T) {
	kr, err := secret.NewKeyring(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	// A floor of an hour, so that the 2- and 3-hour-old events may be
	// anonymized.
	f := newFixture(t, retention.Config{Keyring: kr, AuditFloor: time.Hour})
	f.addAudit(2*time.Hour, 3*time.Hour)
	f.policy(api.RetentionPolicy{Name: "actors-1h", DataKind: api.DataAuditEvents, MaxAge: "1h", Action: api.RetentionAnonymize,
		AnonymizeFields: []string{"actor"}})
	if !bytes.Contains(f.fileBytes(), []byte("alice-token")) {
		t.Fatal("alice-token is not in the file before the pass")
	}
	rep := f.pass()
	if rep.Runs[0].Anonymized != 4 {
		t.Fatalf("anonymized %d audit events, want 4", rep.Runs[0].Anonymized)
	}
	rows, err := f.db.QueryContext(t.Context(), `SELECT DISTINCT actor FROM audit_events WHERE object_id = 'ep_pub' ORDER BY actor`)
	if err != nil {
		t.Fatal(err)
	}
	var actors []string
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actors = append(actors, a)
	}
	rows.Close()
	// Two actors, two pseudonyms: the same actor's events share one.
	if len(actors) != 2 || !strings.HasPrefix(actors[0], api.PseudonymPrefix) || !strings.HasPrefix(actors[1], api.PseudonymPrefix) {
		t.Fatalf("actors after the pass = %v", actors)
	}
	alice, err := f.enf.Pseudonym(t.Context(), "alice-token")
	if err != nil || !slices.Contains(actors, alice) {
		t.Errorf("alice's pseudonym %q (%v) is not among %v", alice, err, actors)
	}
	// A new enforcer on the same store (a restart) gives the same one:
	// the key is kept, sealed.
	again, err := retention.New(retention.Config{Store: f.st, Keyring: kr}).Pseudonym(t.Context(), "alice-token")
	if err != nil || again != alice {
		t.Errorf("pseudonym after a restart = %q (%v), want %q", again, err, alice)
	}
	// Another key gives another pseudonym: it is keyed, not a plain hash.
	other := newFixture(t, retention.Config{Keyring: kr})
	if p, _ := other.enf.Pseudonym(t.Context(), "alice-token"); p == alice {
		t.Error("two stores share a pseudonym: the key is not per store")
	}
	b := f.fileBytes()
	for _, name := range []string{"alice-token", "bob-token"} {
		if bytes.Contains(b, []byte(name)) {
			t.Errorf("%s is still in the database file or its WAL", name)
		}
	}
	raw, err := f.st.GetSetting(t.Context(), retention.PseudonymSetting)
	if err != nil || !bytes.Contains(raw, []byte(`"sealed"`)) || bytes.Contains(raw, []byte(`"plain"`)) {
		t.Errorf("stored pseudonym key = %s, %v; want it sealed", raw, err)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	f := newFixture(t)
	f.addResults()
	p := f.policy(api.RetentionPolicy{Name: "dry", DataKind: api.DataProbeResults, MaxAge: "2h", Action: api.RetentionDelete})
	run, err := f.enf.RunPolicy(t.Context(), p, true, auth.CLIActor)
	if err != nil {
		t.Fatal(err)
	}
	// Per endpoint: three results and a missed run older than 2 h.
	if !run.DryRun || run.Deleted != 8 || len(run.Scopes) != 2 || run.Scopes[0].EndpointID != "ep_pii" || run.Scopes[0].Deleted != 4 {
		t.Errorf("dry run = %+v, want 4 per endpoint", run)
	}
	pub, _ := f.results("mon_pub")
	pii, _ := f.results("mon_pii")
	if pub != 4 || pii != 4 {
		t.Errorf("results after a dry run: %d, %d; want 4, 4", pub, pii)
	}
	if runs, _, _ := f.st.ListRetentionRuns(t.Context(), p.ID, 0, ""); len(runs) != 0 {
		t.Errorf("a dry run was recorded: %+v", runs)
	}
	if n := f.count(`SELECT COUNT(*) FROM audit_events`); n != 0 {
		t.Errorf("a dry run was audited: %d events", n)
	}
	// The real run does what the dry run said.
	real, err := f.enf.RunPolicy(t.Context(), p, false, auth.Actor{Name: "ci", Role: api.RoleEditor})
	if err != nil || real.Deleted != 8 || real.Trigger != api.TriggerAPI {
		t.Errorf("run = %+v, %v", real, err)
	}
	if n := f.count(`SELECT COUNT(*) FROM audit_events WHERE actor = 'ci' AND action = 'run'`); n != 1 {
		t.Errorf("run audit events by ci = %d, want 1", n)
	}
}

func TestOrphansAndScheduleOnTheInjectedClock(t *testing.T) {
	f := newFixture(t, retention.Config{Interval: time.Hour})
	f.addResults()
	// Results of a monitor that no longer exists.
	e := "orphan"
	if err := f.st.WriteResults(t.Context(), []api.ProbeResult{{MonitorID: "mon_gone", Time: t0, Outcome: api.OutcomeDown, Error: &e}}, nil); err != nil {
		t.Fatal(err)
	}
	// The orphan's rows are counted by its result key, read before the
	// pass, so that the check still holds if the key itself is removed.
	goneKey := f.count(`SELECT key FROM result_monitors WHERE monitor_id = 'mon_gone'`)
	if n := f.count(`SELECT COUNT(*) FROM probe_results WHERE monitor_key = ?`, goneKey); n != 1 {
		t.Fatalf("orphan results before the pass = %d, want 1", n)
	}
	f.policy(api.RetentionPolicy{Name: "all-1h", DataKind: api.DataProbeResults, MaxAge: "1h", Action: api.RetentionDelete})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.enf.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("retention run: %v", err)
		}
	}()
	waitFor(t, "the first pass", func() bool { return f.count(`SELECT COUNT(*) FROM retention_runs`) == 1 })
	if n := f.count(`SELECT COUNT(*) FROM probe_results WHERE monitor_key = ?`, goneKey); n != 0 {
		t.Errorf("orphan results left = %d", n)
	}
	// Nothing more until the clock moves an interval on.
	time.Sleep(600 * time.Millisecond)
	if n := f.count(`SELECT COUNT(*) FROM retention_runs`); n != 1 {
		t.Fatalf("%d runs before the interval passed, want 1", n)
	}
	f.clock.Advance(time.Hour)
	waitFor(t, "the second pass", func() bool { return f.count(`SELECT COUNT(*) FROM retention_runs`) == 2 })
}

// RunFrom starts the schedule where it is told: a caller that ran the
// first pass itself (the test servers do, before their first request) gets
// no second pass until an interval of the injected clock has passed.
func TestRunFromStartsTheScheduleLater(t *testing.T) {
	f := newFixture(t)
	f.policy(api.RetentionPolicy{Name: "all-1h", DataKind: api.DataProbeResults, MaxAge: "1h", Action: api.RetentionDelete})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.enf.RunFrom(ctx, f.clock.Now().Add(f.enf.Interval())) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("retention run: %v", err)
		}
	}()
	time.Sleep(600 * time.Millisecond)
	if n := f.count(`SELECT COUNT(*) FROM retention_runs`); n != 0 {
		t.Fatalf("%d runs at once, want none before the first scheduled time", n)
	}
	f.clock.Advance(f.enf.Interval() - time.Second)
	time.Sleep(600 * time.Millisecond)
	if n := f.count(`SELECT COUNT(*) FROM retention_runs`); n != 0 {
		t.Fatalf("%d runs a second before the first scheduled time, want none", n)
	}
	f.clock.Advance(time.Second)
	waitFor(t, "the first scheduled pass", func() bool { return f.count(`SELECT COUNT(*) FROM retention_runs`) == 1 })
}

func TestComplianceView(t *testing.T) {
	f := newFixture(t)
	f.addResults()
	f.policy(api.RetentionPolicy{Name: "pii-2h", DataKind: api.DataProbeResults, MaxAge: "2h", Action: api.RetentionDelete,
		DataClassifications: []string{api.ClassPII}})
	c, err := f.enf.Compliance(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	item := func(c api.RetentionCompliance, kind, scope string) api.RetentionComplianceItem {
		for _, it := range c.Items {
			if it.DataKind == kind && it.Scope == scope {
				return it
			}
		}
		t.Fatalf("no item %s/%s in %+v", kind, scope, c.Items)
		return api.RetentionComplianceItem{}
	}
	pii := item(c, api.DataProbeResults, "data_classifications=pii")
	def := item(c, api.DataProbeResults, "default")
	if c.Compliant || pii.Compliant || pii.Overdue != 4 || pii.PolicyID != "ret_pii-2h" || !pii.OldestAt.Equal(t0.Add(-72*time.Hour)) {
		t.Errorf("before enforcement: compliant %v, pii item %+v", c.Compliant, pii)
	}
	if def.Compliant || def.Overdue != 2 || def.MaxAge != "48h0m0s" {
		t.Errorf("default item = %+v, want the 72-hour public result and missed run overdue", def)
	}
	f.pass()
	if c, err = f.enf.Compliance(t.Context()); err != nil || !c.Compliant {
		t.Errorf("after a pass: %+v, %v", c, err)
	}
	if it := item(c, api.DataAuditEvents, "default"); it.MaxAge != "" || !it.Compliant {
		t.Errorf("audit events default = %+v, want kept for ever", it)
	}
}

func TestErasureOfAnEndpointAndAnActor(t *testing.T) {
	f := newFixture(t)
	f.addResults()
	f.addAlerts()
	f.addAudit(time.Hour)
	ep, actor := "ep_pii", "alice-token"
	err := f.st.Write(t.Context(), func(tx store.Tx) error {
		if err := tx.InsertErasureRequest(t.Context(), api.ErasureRequest{ID: "era_1", EndpointID: &ep, State: api.ErasurePending,
			RequestedBy: "admin", CreatedAt: t0}); err != nil {
			return err
		}
		return tx.InsertErasureRequest(t.Context(), api.ErasureRequest{ID: "era_2", Actor: &actor, State: api.ErasurePending,
			RequestedBy: "admin", CreatedAt: t0.Add(time.Second)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.enf.ProcessErasures(t.Context()); err != nil {
		t.Fatal(err)
	}
	e1, _ := f.st.GetErasureRequest(t.Context(), "era_1")
	// 4 results, a missed run, 4 rollups of each tier and 4 events
	// (their deliveries go with them, uncounted).
	if e1.State != api.ErasureCompleted || e1.Deleted != 17 || e1.CompletedAt == nil {
		t.Errorf("endpoint erasure = %+v", e1)
	}
	if all, _ := f.results("mon_pii"); all != 0 {
		t.Errorf("pii results left = %d", all)
	}
	if all, _ := f.results("mon_pub"); all != 4 {
		t.Errorf("public results = %d, want 4 (untouched)", all)
	}
	e2, _ := f.st.GetErasureRequest(t.Context(), "era_2")
	if e2.State != api.ErasureCompleted || e2.Anonymized != 1 || e2.Actor == nil || !strings.HasPrefix(*e2.Actor, api.PseudonymPrefix) {
		t.Errorf("actor erasure = %+v", e2)
	}
	b := f.fileBytes()
	for _, s := range []string{"alice-token", secretOf("mon_pii", ages[0]), "reason-of-" + secretOf("ep_pii", ages[0])} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("%s is still in the database file or its WAL after erasure", s)
		}
	}
	if !bytes.Contains(b, []byte("bob-token")) {
		t.Error("bob-token, not erased, is not found in the file")
	}
	if n := f.count(`SELECT COUNT(*) FROM audit_events WHERE action = 'erase'`); n != 2 {
		t.Errorf("erasure audit events = %d, want 2", n)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// addHistory writes the change history of two objects: ep_pub with three
// revisions (30, 20 and 10 days old, the last by alice-token), and a
// deleted monitor mon_gone with two revisions (40 and 35 days old) and a
// tombstone (deleted 30 days ago).
func (f *fixture) addHistory() {
	f.t.Helper()
	now := f.clock.Now()
	day := 24 * time.Hour
	snap := json.RawMessage(`{"name":"x"}`)
	err := f.st.Write(f.t.Context(), func(tx store.Tx) error {
		for i, age := range []time.Duration{30 * day, 20 * day, 10 * day} {
			actor := "ops-token"
			if i == 2 {
				actor = "alice-token"
			}
			if err := tx.InsertRevision(f.t.Context(), api.Revision{ObjectKind: api.KindEndpoint, ObjectID: "ep_pub", Revision: int64(i + 1),
				Time: now.Add(-age), Actor: actor, ActorRole: api.RoleEditor, Action: api.ActionUpdate, Object: snap}); err != nil {
				return err
			}
		}
		for i, age := range []time.Duration{40 * day, 35 * day} {
			if err := tx.InsertRevision(f.t.Context(), api.Revision{ObjectKind: api.KindMonitor, ObjectID: "mon_gone", Revision: int64(i + 1),
				Time: now.Add(-age), Actor: "alice-token", ActorRole: api.RoleEditor, Action: api.ActionUpdate, Object: snap}); err != nil {
				return err
			}
		}
		return tx.InsertTombstone(f.t.Context(), api.Tombstone{ObjectKind: api.KindMonitor, ObjectID: "mon_gone", Name: "gone", Revision: 2,
			DeletedAt: now.Add(-30 * day), Actor: "alice-token", ActorRole: api.RoleEditor, Object: snap})
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// TestRevisionsAreADataKind: a policy on the change history deletes the
// revisions past its age except each live object's newest, and a
// tombstone past its age with the rest of its object's history; the
// built-in age (400 days) keeps all of it; an actor's erasure
// pseudonymizes the actor in revisions and tombstones too.
func TestRevisionsAreADataKind(t *testing.T) {
	// An operator's audit floor of a week lets a 15-day policy through
	// (the history's floor is the audit floor; TestHistoryFloor).
	f := newFixture(t, retention.Config{AuditFloor: 7 * 24 * time.Hour})
	f.addHistory()
	revs := func(id string) int { return f.count(`SELECT COUNT(*) FROM object_revisions WHERE object_id = ?`, id) }
	f.pass()
	if revs("ep_pub") != 3 || revs("mon_gone") != 2 || f.count(`SELECT COUNT(*) FROM object_tombstones`) != 1 {
		t.Fatalf("the built-in 400 days deleted history: ep_pub %d, mon_gone %d revisions", revs("ep_pub"), revs("mon_gone"))
	}

	f.policy(api.RetentionPolicy{Name: "history-15d", DataKind: api.DataRevisions, MaxAge: "360h", Action: api.RetentionDelete})
	rep := f.pass()
	// ep_pub: revisions 1 and 2 go (older than 15 days, newer ones exist);
	// revision 3 stays. mon_gone: its tombstone is 30 days old, so it goes
	// with both revisions (one of them counted as a revision past its age,
	// the other with the tombstone).
	if got := revs("ep_pub"); got != 1 {
		t.Errorf("ep_pub keeps %d revisions, want its newest only", got)
	}
	if n := f.count(`SELECT revision FROM object_revisions WHERE object_id = 'ep_pub'`); n != 3 {
		t.Errorf("ep_pub kept revision %d, want 3", n)
	}
	if revs("mon_gone") != 0 || f.count(`SELECT COUNT(*) FROM object_tombstones`) != 0 {
		t.Errorf("the deleted monitor keeps %d revisions and %d tombstones, want none", revs("mon_gone"), f.count(`SELECT COUNT(*) FROM object_tombstones`))
	}
	if len(rep.Runs) != 1 || rep.Runs[0].Deleted < 3 {
		t.Errorf("run = %+v, want at least 3 deleted", rep.Runs)
	}

	// An actor's erasure reaches the history.
	f2 := newFixture(t)
	f2.addHistory()
	actor := "alice-token"
	if err := f2.st.Write(t.Context(), func(tx store.Tx) error {
		return tx.InsertErasureRequest(t.Context(), api.ErasureRequest{ID: "era_h", Actor: &actor, State: api.ErasurePending,
			RequestedBy: "admin", CreatedAt: f2.clock.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	if err := f2.enf.ProcessErasures(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := f2.count(`SELECT COUNT(*) FROM object_revisions WHERE actor = 'alice-token'`) +
		f2.count(`SELECT COUNT(*) FROM object_tombstones WHERE actor = 'alice-token'`); n != 0 {
		t.Errorf("%d history rows still name alice-token after her erasure", n)
	}
	if n := f2.count(`SELECT COUNT(*) FROM object_revisions WHERE actor LIKE ?`, api.PseudonymPrefix+"%"); n != 3 {
		t.Errorf("%d revisions carry a pseudonym, want alice's 3", n)
	}
	if n := f2.count(`SELECT COUNT(*) FROM object_revisions WHERE actor = 'ops-token'`); n != 2 {
		t.Errorf("ops-token's revisions = %d, want 2 untouched", n)
	}
}

// errInjected is the failure faultStore returns.
var errInjected = errors.New("injected store failure")

// faultStore is the fixture's real store with a few of its methods watched
// or made to fail. The errors the enforcer must report cannot be had from a
// healthy SQLite file on demand, and some of its choices (the batch size,
// whether to erase the residue) show only in the calls it makes.
type faultStore struct {
	store.Store
	// fail names the methods that return errInjected; it is set before
	// the enforcer starts and only read after.
	fail map[string]bool

	mu           sync.Mutex
	orphanLimits []int
	residue      int
}

func (s *faultStore) AdvanceResultHorizon(ctx context.Context, tier string, before time.Time) error {
	if s.fail["AdvanceResultHorizon"] {
		return errInjected
	}
	return s.Store.AdvanceResultHorizon(ctx, tier, before)
}

func (s *faultStore) RecordRetentionRun(ctx context.Context, run api.RetentionRun, next time.Time, ev api.AuditEvent) error {
	if s.fail["RecordRetentionRun"] {
		return errInjected
	}
	return s.Store.RecordRetentionRun(ctx, run, next, ev)
}

func (s *faultStore) SetRetentionNextRun(ctx context.Context, next time.Time) error {
	if s.fail["SetRetentionNextRun"] {
		return errInjected
	}
	return s.Store.SetRetentionNextRun(ctx, next)
}

// RetentionDelete fails a limit below one, for the reason given at
// DeleteOrphanResults.
func (s *faultStore) RetentionDelete(ctx context.Context, sel store.RetentionSelector, limit int) (map[string]int64, error) {
	if s.fail["RetentionDelete"] {
		return nil, errInjected
	}
	if limit < 1 {
		return nil, fmt.Errorf("retention delete limit %d", limit)
	}
	return s.Store.RetentionDelete(ctx, sel, limit)
}

func (s *faultStore) NextErasureRequest(ctx context.Context) (api.ErasureRequest, error) {
	if s.fail["NextErasureRequest"] {
		return api.ErasureRequest{}, errInjected
	}
	return s.Store.NextErasureRequest(ctx)
}

// DeleteOrphanResults records the limit it is asked for. A limit below one
// fails: the store would take a default of its own, but the enforcer,
// which deletes until a batch comes back shorter than its limit, would
// then go round for ever, and a test should fail rather than hang.
func (s *faultStore) DeleteOrphanResults(ctx context.Context, limit int) (int64, error) {
	s.mu.Lock()
	s.orphanLimits = append(s.orphanLimits, limit)
	s.mu.Unlock()
	if limit < 1 {
		return 0, fmt.Errorf("orphan batch limit %d", limit)
	}
	return s.Store.DeleteOrphanResults(ctx, limit)
}

func (s *faultStore) EraseResidue(ctx context.Context) error {
	s.mu.Lock()
	s.residue++
	s.mu.Unlock()
	if s.fail["EraseResidue"] {
		return errInjected
	}
	return s.Store.EraseResidue(ctx)
}

// erasures is how many times the residue was erased.
func (s *faultStore) erasures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.residue
}

// logTo returns a logger writing to logs; Run writes from its own
// goroutine while the test reads.
func logTo(logs *testutil.SyncBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(logs, nil)) }

// TestNewAppliesTheDocumentedDefaults: a setting left at zero (or set
// below zero) takes its documented default, and one that is set is kept.
func TestNewAppliesTheDocumentedDefaults(t *testing.T) {
	f := newFixture(t)
	day := 24 * time.Hour
	for _, c := range []retention.Config{{}, {Interval: -time.Second, AuditFloor: -time.Hour}} {
		e := retention.New(retention.Config{Store: f.st, Interval: c.Interval, AuditFloor: c.AuditFloor})
		// The figures of the documentation, not the constants, so that a
		// changed constant is noticed.
		if e.Interval() != 10*time.Minute || e.AuditFloor() != 400*day || e.Default(api.DataRevisions) != 400*day {
			t.Errorf("config %+v: interval %v, audit floor %v, revisions kept %v; want 10m, 400 days, 400 days",
				c, e.Interval(), e.AuditFloor(), e.Default(api.DataRevisions))
		}
	}
	if e := retention.New(retention.Config{Store: f.st, Interval: time.Hour, AuditFloor: day}); e.Interval() != time.Hour || e.AuditFloor() != day {
		t.Errorf("set interval and floor = %v, %v; want 1h, 24h", e.Interval(), e.AuditFloor())
	}
	// The batch size shows in the limit of the first delete of a pass.
	for _, tc := range []struct{ batch, want int }{{0, retention.DefaultBatch}, {-1, retention.DefaultBatch}, {3, 3}} {
		fs := &faultStore{Store: f.st}
		e := retention.New(retention.Config{Store: fs, Clock: f.clock, Batch: tc.batch})
		_, err := e.Pass(t.Context(), f.clock.Now())
		if len(fs.orphanLimits) == 0 || fs.orphanLimits[0] != tc.want || err != nil {
			t.Errorf("batch %d: orphan delete limits %v (%v), want %d", tc.batch, fs.orphanLimits, err, tc.want)
		}
	}
}

// TestPassReportsEveryStoreError: a pass whose store fails at one step
// returns that failure and still does the rest of its work, so that an
// operator sees it in the log and retention goes on.
func TestPassReportsEveryStoreError(t *testing.T) {
	for _, method := range []string{"AdvanceResultHorizon", "RecordRetentionRun", "RetentionDelete", "SetRetentionNextRun"} {
		t.Run(method, func(t *testing.T) {
			f := newFixture(t)
			f.addResults()
			// An anonymize policy and no delete policy: a failing
			// RetentionDelete then fails the default (a policy's failures
			// are kept in its run instead), and the anonymization is work
			// that must go on all the same.
			f.policy(api.RetentionPolicy{Name: "anon-1h", DataKind: api.DataProbeResults, MaxAge: "1h", Action: api.RetentionAnonymize,
				AnonymizeFields: []string{"error"}})
			fs := &faultStore{Store: f.st, fail: map[string]bool{method: true}}
			rep, err := f.enforcer(fs, retention.Config{}).Pass(t.Context(), f.clock.Now())
			if !errors.Is(err, errInjected) {
				t.Errorf("pass error = %v, want the injected failure of %s", err, method)
			}
			if len(rep.Runs) != 1 || rep.Runs[0].Anonymized == 0 {
				t.Errorf("runs = %+v, want the anonymize policy's run to have changed records", rep.Runs)
			}
		})
	}
}

// TestOrphansAndDefaultsGoOnUntilABatchComesBackShort: with batches of
// two, a full batch is followed by another, until everything is deleted.
func TestOrphansAndDefaultsGoOnUntilABatchComesBackShort(t *testing.T) {
	f := newFixture(t)
	f.addResults()
	var orphans []api.ProbeResult
	for i := range 5 {
		orphans = append(orphans, api.ProbeResult{MonitorID: "mon_gone", Time: t0.Add(-time.Duration(i) * time.Minute), Outcome: api.OutcomeUp})
	}
	if err := f.st.WriteResults(t.Context(), orphans, nil); err != nil {
		t.Fatal(err)
	}
	goneKey := f.count(`SELECT key FROM result_monitors WHERE monitor_id = 'mon_gone'`)
	rep := f.pass()
	if n := f.count(`SELECT COUNT(*) FROM probe_results WHERE monitor_key = ?`, goneKey); n != 0 || rep.Orphans < 5 {
		t.Errorf("orphan results left = %d, orphans reported %d; want 0 left, at least 5 reported", n, rep.Orphans)
	}
	// No policy: the default (48 h) deletes the two 72-hour results and
	// the two missed runs, in two full batches and a short one.
	pub, _ := f.results("mon_pub")
	pii, _ := f.results("mon_pii")
	if missed := f.count(`SELECT COUNT(*) FROM missed_runs`); pub != 3 || pii != 3 || missed != 0 || rep.Defaults[api.DataProbeResults] != 4 {
		t.Errorf("after the default: %d public, %d pii results, %d missed runs, %d reported; want 3, 3, 0, 4",
			pub, pii, missed, rep.Defaults[api.DataProbeResults])
	}
}

// TestResidueIsErasedAfterChangesOnly: the first pass erases the residue
// whatever it changed, later passes and policy runs only when they deleted
// or anonymized something, whichever step did it.
func TestResidueIsErasedAfterChangesOnly(t *testing.T) {
	f := newFixture(t)
	fs := &faultStore{Store: f.st}
	f.enf = f.enforcer(fs, retention.Config{})
	anon := f.policy(api.RetentionPolicy{Name: "anon-1h", DataKind: api.DataProbeResults, MaxAge: "1h", Action: api.RetentionAnonymize,
		AnonymizeFields: []string{"error"}})
	want := 0
	step := func(what string, changed bool) {
		t.Helper()
		if changed {
			want++
		}
		if got := fs.erasures(); got != want {
			t.Fatalf("after %s: the residue was erased %d times, want %d", what, got, want)
		}
	}
	result := func(mon, text string, age time.Duration) {
		t.Helper()
		r := api.ProbeResult{MonitorID: mon, Time: f.clock.Now().Add(-age), Outcome: api.OutcomeDown, Error: &text}
		if err := f.st.WriteResults(t.Context(), []api.ProbeResult{r}, nil); err != nil {
			t.Fatal(err)
		}
	}
	f.pass()
	step("the first pass, which changed nothing", true)
	f.pass()
	step("a pass with a policy run, the defaults and the orphans all changing nothing", false)

	result("mon_pub", "anonymized-by-a-pass", 3*time.Hour)
	if !bytes.Contains(f.fileBytes(), []byte("anonymized-by-a-pass")) {
		t.Fatal("the error text is not in the file before the pass")
	}
	if rep := f.pass(); len(rep.Runs) != 1 || rep.Runs[0].Anonymized != 1 {
		t.Fatalf("runs = %+v, want one anonymized", rep.Runs)
	}
	step("a pass where only an anonymization changed something", true)
	if bytes.Contains(f.fileBytes(), []byte("anonymized-by-a-pass")) {
		t.Error("the anonymized error text is still in the database file or its WAL")
	}

	// Two days on, the result is past the built-in 48 h.
	f.clock.Advance(48 * time.Hour)
	if rep := f.pass(); rep.Defaults[api.DataProbeResults] != 1 {
		t.Fatalf("default deleted %d, want 1", rep.Defaults[api.DataProbeResults])
	}
	step("a pass where only the default deleted something", true)

	result("mon_gone", "orphan", 0)
	if rep := f.pass(); rep.Orphans == 0 {
		t.Fatal("no orphan deleted")
	}
	step("a pass where only orphans were deleted", true)

	if run, err := f.enf.RunPolicy(t.Context(), anon, false, auth.CLIActor); err != nil || run.Anonymized != 0 {
		t.Fatalf("run = %+v, %v; want nothing anonymized", run, err)
	}
	step("a policy run that changed nothing", false)
	result("mon_pii", "anonymized-by-a-run", 3*time.Hour)
	if run, err := f.enf.RunPolicy(t.Context(), anon, false, auth.CLIActor); err != nil || run.Anonymized != 1 {
		t.Fatalf("run = %+v, %v; want one anonymized", run, err)
	}
	step("a policy run that anonymized", true)
	del := f.policy(api.RetentionPolicy{Name: "pii-1h", DataKind: api.DataProbeResults, MaxAge: "1h", Action: api.RetentionDelete,
		EndpointIDs: []string{"ep_pii"}})
	if run, err := f.enf.RunPolicy(t.Context(), del, false, auth.CLIActor); err != nil || run.Deleted != 1 {
		t.Fatalf("run = %+v, %v; want one deleted", run, err)
	}
	step("a policy run that deleted", true)
}

// TestRunPolicyReportsAFailedErasure: a policy run whose changes could not
// be erased from the file says so in its errors, and is recorded all the
// same.
func TestRunPolicyReportsAFailedErasure(t *testing.T) {
	f := newFixture(t)
	f.addResults()
	fs := &faultStore{Store: f.st, fail: map[string]bool{"EraseResidue": true}}
	f.enf = f.enforcer(fs, retention.Config{})
	p := f.policy(api.RetentionPolicy{Name: "pii-1h", DataKind: api.DataProbeResults, MaxAge: "1h", Action: api.RetentionDelete,
		EndpointIDs: []string{"ep_pii"}})
	run, err := f.enf.RunPolicy(t.Context(), p, false, auth.CLIActor)
	if err != nil || run.Deleted != 4 || len(run.Errors) != 1 || !strings.Contains(run.Errors[0], "erase the residue") ||
		!strings.Contains(run.Errors[0], errInjected.Error()) {
		t.Errorf("run = %+v, %v; want 4 deleted and the failed erasure in its errors", run, err)
	}
	if runs, _, err := f.st.ListRetentionRuns(t.Context(), p.ID, 0, ""); err != nil || len(runs) != 1 || len(runs[0].Errors) != 1 {
		t.Errorf("recorded runs = %+v, %v; want the run with its error", runs, err)
	}
}

// TestFloorAppliesBelowItOnly: an audit policy of exactly the floor's age
// runs at its own age; the floor is applied (and reported) only to a
// shorter one.
func TestFloorAppliesBelowItOnly(t *testing.T) {
	f := newFixture(t, retention.Config{AuditFloor: 24 * time.Hour})
	for _, tc := range []struct {
		age   string
		floor bool
	}{{"24h", false}, {"23h", true}} {
		p := f.policy(api.RetentionPolicy{Name: "audit-" + tc.age, DataKind: api.DataAuditEvents, MaxAge: tc.age, Action: api.RetentionDelete})
		run, err := f.enf.RunPolicy(t.Context(), p, true, auth.CLIActor)
		if err != nil || run.FloorApplied != tc.floor || !run.Cutoff.Equal(t0.Add(-24*time.Hour)) {
			t.Errorf("max_age %s: floor applied %v, cutoff %v (%v); want %v, %v", tc.age, run.FloorApplied, run.Cutoff, err, tc.floor, t0.Add(-24*time.Hour))
		}
	}
}

// TestHistoryFloor: revisions and tombstones have a floor too, for both
// actions: the audit floor, or the history retention the operator set if
// that is shorter; a policy at or past it is not held back.
func TestHistoryFloor(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		history, audit, want time.Duration
	}{
		{"the audit floor", retention.DefaultRevisionAge, 24 * time.Hour, 24 * time.Hour},
		{"a shorter history retention", 48 * time.Hour, 72 * time.Hour, 48 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, retention.Config{AuditFloor: tc.audit, Defaults: retention.Defaults{api.DataRevisions: tc.history}})
			if got := f.enf.Floor(api.DataRevisions); got != tc.want {
				t.Fatalf("Floor(revisions) = %v, want %v", got, tc.want)
			}
			for _, c := range []struct {
				age    time.Duration
				action string
				floor  bool
			}{
				{time.Minute, api.RetentionDelete, true}, {time.Minute, api.RetentionAnonymize, true},
				{tc.want - time.Hour, api.RetentionDelete, true}, {tc.want, api.RetentionDelete, false},
			} {
				p := api.RetentionPolicy{Name: fmt.Sprintf("history-%s-%s", c.action, c.age), DataKind: api.DataRevisions,
					MaxAge: c.age.String(), Action: c.action}
				if c.action == api.RetentionAnonymize {
					p.AnonymizeFields = []string{"actor"}
				}
				run, err := f.enf.RunPolicy(t.Context(), f.policy(p), true, auth.CLIActor)
				want := t0.Add(-max(c.age, tc.want))
				if err != nil || run.FloorApplied != c.floor || !run.Cutoff.Equal(want) {
					t.Errorf("%s after %v: floor applied %v, cutoff %v (%v); want %v, %v", c.action, c.age, run.FloorApplied, run.Cutoff, err, c.floor, want)
				}
			}
		})
	}
	if f := newFixture(t); f.enf.Floor(api.DataProbeResults) != 0 || f.enf.Floor(api.DataAuditEvents) != retention.DefaultAuditFloor {
		t.Errorf("floors of results and audit events: %v, %v", f.enf.Floor(api.DataProbeResults), f.enf.Floor(api.DataAuditEvents))
	}
}

// TestHorizonIsTheShortestDeleteAge: the raw tier's horizon moves to the
// shortest age of its delete policies and its default, and not at all when
// nothing deletes raw results.
func TestHorizonIsTheShortestDeleteAge(t *testing.T) {
	for _, tc := range []struct {
		name     string
		def      time.Duration
		policies []string
		want     time.Duration // 0: the horizon does not move
	}{
		{"default only", 48 * time.Hour, nil, 48 * time.Hour},
		// The longer policy comes last, so that taking the last one, or
		// the longest, is wrong.
		{"a shorter and a longer policy", 48 * time.Hour, []string{"2h", "100h"}, 2 * time.Hour},
		{"a policy and no default", 0, []string{"24h"}, 24 * time.Hour},
		{"neither", 0, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, retention.Config{Defaults: retention.Defaults{api.DataProbeResults: tc.def}})
			for i, age := range tc.policies {
				f.policy(api.RetentionPolicy{Name: fmt.Sprintf("p%d-%s", i, age), DataKind: api.DataProbeResults, MaxAge: age, Action: api.RetentionDelete})
			}
			f.pass()
			var got []string
			rows, err := f.db.QueryContext(t.Context(), `SELECT horizon FROM result_horizons WHERE tier = ?`, store.TierRaw)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var h string
				if err := rows.Scan(&h); err != nil {
					t.Fatal(err)
				}
				got = append(got, h)
			}
			rows.Close()
			var want []string
			if tc.want > 0 {
				want = []string{t0.Add(-tc.want).Format("2006-01-02T15:04:05.000000Z")}
			}
			if !slices.Equal(got, want) {
				t.Errorf("raw horizon = %v, want %v", got, want)
			}
		})
	}
}

// TestDefaultIsLoggedWhenItDeletes: the default's deletions are logged,
// once per data kind that lost records, and a kind that lost none is not.
func TestDefaultIsLoggedWhenItDeletes(t *testing.T) {
	var logs testutil.SyncBuffer
	f := newFixture(t, retention.Config{Logger: logTo(&logs)})
	f.addResults()
	f.pass()
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `msg="retention default applied"`) {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "data_kind="+api.DataProbeResults) || !strings.Contains(lines[0], "deleted=4") {
		t.Errorf("default log lines = %q, want one for the 4 raw records", lines)
	}
}

// TestRunLogsFailuresOnly: Run logs the errors of a pass and of the
// erasure requests while it runs, and nothing at error level when they
// succeed.
func TestRunLogsFailuresOnly(t *testing.T) {
	start := func(t *testing.T, e *retention.Enforcer) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("retention run: %v", err)
			}
		})
	}
	t.Run("healthy", func(t *testing.T) {
		var logs testutil.SyncBuffer
		f := newFixture(t, retention.Config{Interval: time.Hour, Logger: logTo(&logs)})
		f.policy(api.RetentionPolicy{Name: "all-1h", DataKind: api.DataProbeResults, MaxAge: "1h", Action: api.RetentionDelete})
		start(t, f.enf)
		waitFor(t, "the first pass", func() bool { return f.count(`SELECT COUNT(*) FROM retention_runs`) == 1 })
		// The second pass starts only after the first round's logging,
		// erasure requests included, is done.
		f.clock.Advance(time.Hour)
		waitFor(t, "the second pass", func() bool { return f.count(`SELECT COUNT(*) FROM retention_runs`) == 2 })
		if s := logs.String(); strings.Contains(s, "level=ERROR") {
			t.Errorf("a healthy run logged errors:\n%s", s)
		}
	})
	t.Run("failing", func(t *testing.T) {
		var logs testutil.SyncBuffer
		f := newFixture(t)
		fs := &faultStore{Store: f.st, fail: map[string]bool{"SetRetentionNextRun": true, "NextErasureRequest": true}}
		start(t, f.enforcer(fs, retention.Config{Interval: time.Hour, Logger: logTo(&logs)}))
		waitFor(t, "both failures in the log", func() bool {
			s := logs.String()
			return strings.Contains(s, `level=ERROR msg="retention pass"`) && strings.Contains(s, `level=ERROR msg="erasure requests"`)
		})
	})
}

func TestSealedPseudonymKeyReadsTheStoredForm(t *testing.T) {
	kr, err := secret.NewKeyring(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		kr     *secret.Keyring
		sealed bool
	}{{"sealed", kr, true}, {"plain", nil, false}} {
		f := newFixture(t, retention.Config{Keyring: tc.kr})
		// The first pseudonym makes and stores the key.
		if _, err := f.enf.Pseudonym(t.Context(), "alice-token"); err != nil {
			t.Fatal(err)
		}
		raw, err := f.st.GetSetting(t.Context(), retention.PseudonymSetting)
		if err != nil {
			t.Fatal(err)
		}
		s, err := retention.SealedPseudonymKey(raw)
		if err != nil || (s != nil) != tc.sealed {
			t.Errorf("%s key: sealed %+v, %v", tc.name, s, err)
		}
	}
	if s, err := retention.SealedPseudonymKey([]byte("not json")); err == nil {
		t.Errorf("a key that is not JSON read as %+v, want an error", s)
	}
}
