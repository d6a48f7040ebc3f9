package api

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// KindRetention names retention policies in audit events.
const KindRetention = "retention_policy"

// KindErasure names erasure requests in audit events.
const KindErasure = "erasure_request"

// ID prefixes of retention's records.
const (
	PrefixErasure      = "era_"
	PrefixRetentionRun = "rrn_"
)

// Audit actions of retention: a policy's run, and an erasure.
const (
	ActionRun   = "run"
	ActionErase = "erase"
)

// The data kinds a retention policy can govern: every kind of data aiod
// keeps that grows with time.
const (
	DataProbeResults  = "probe_results"
	DataMinuteRollups = "minute_rollups"
	DataHourRollups   = "hour_rollups"
	DataAlertEvents   = "alert_events"
	DataDeliveries    = "deliveries"
	DataAuditEvents   = "audit_events"
	DataRevisions     = "revisions"
)

// DataKind describes one kind of data to retention: which of its fields
// can be anonymized (none: only delete applies) and whether its records
// belong to an endpoint (only then can a policy be scoped by endpoint).
type DataKind struct {
	Name string
	// AnonymizeFields are the fields action anonymize may name.
	AnonymizeFields []string
	// EndpointScoped tells whether each record belongs to an endpoint, so
	// that endpoint_ids, endpoint_tags and data_classifications apply.
	EndpointScoped bool
	// Description says what the data is, for messages and docs.
	Description string
}

// DataKinds lists every data kind, in the order the docs show them. A new
// kind of data (such as revisions) is one more line here and one target in
// the retention engine.
var DataKinds = []DataKind{
	{Name: DataProbeResults, AnonymizeFields: []string{"error", "body_excerpt"}, EndpointScoped: true,
		Description: "raw probe results and missed runs"},
	{Name: DataMinuteRollups, EndpointScoped: true, Description: "per-minute rollups of the results"},
	{Name: DataHourRollups, EndpointScoped: true, Description: "per-hour rollups of the results"},
	{Name: DataAlertEvents, AnonymizeFields: []string{"reason"}, EndpointScoped: true,
		Description: "alert events (transitions), with their deliveries when deleted"},
	{Name: DataDeliveries, AnonymizeFields: []string{"error"}, EndpointScoped: true,
		Description: "deliveries of alert events to channels and their attempts"},
	{Name: DataAuditEvents, AnonymizeFields: []string{"actor"}, Description: "the audit trail of every change"},
	{Name: DataRevisions, AnonymizeFields: []string{"actor"},
		Description: "the change history: revisions of configuration objects and tombstones of deleted ones"},
}

// DataKindNames lists the names of DataKinds.
var DataKindNames = func() []string {
	out := make([]string, len(DataKinds))
	for i, k := range DataKinds {
		out[i] = k.Name
	}
	return out
}()

// LookupDataKind returns the data kind of that name.
func LookupDataKind(name string) (DataKind, bool) {
	i := slices.IndexFunc(DataKinds, func(k DataKind) bool { return k.Name == name })
	if i < 0 {
		return DataKind{}, false
	}
	return DataKinds[i], true
}

// Retention actions.
const (
	RetentionDelete    = "delete"
	RetentionAnonymize = "anonymize"
)

// RetentionActions lists every action.
var RetentionActions = []string{RetentionDelete, RetentionAnonymize}

// Limits of a retention policy.
const (
	MinRetentionAge        = time.Minute
	MaxRetentionAge        = 10 * 365 * 24 * time.Hour
	MaxRetentionScopeItems = 100
)

// AnonymizedText replaces an anonymized text value.
const AnonymizedText = "[anonymized]"

// PseudonymPrefix starts an anonymized actor: a keyed pseudonym, the same
// for every event of the same actor. A token name cannot contain ':', so a
// pseudonym is never mistaken for a name.
const PseudonymPrefix = "anon:"

// RetentionPolicy deletes or anonymizes one kind of data past an age,
// for every endpoint or for a scope of them.
type RetentionPolicy struct {
	Meta
	Name     string `json:"name"`
	DataKind string `json:"data_kind"`
	// MaxAge is how long the data is kept as it is, a duration from 1m to
	// 87600h (10 years).
	MaxAge string `json:"max_age"`
	Action string `json:"action"`
	// AnonymizeFields are the fields replaced (action anonymize only).
	AnonymizeFields []string `json:"anonymize_fields"`
	// At most one of the three scopes; none is every endpoint.
	EndpointIDs         []string          `json:"endpoint_ids"`
	EndpointTags        map[string]string `json:"endpoint_tags"`
	DataClassifications []string          `json:"data_classifications"`
	Enabled             *bool             `json:"enabled"`
	Description         *string           `json:"description"`
	Tags                map[string]string `json:"tags"`
	// What aiod reports of the policy's latest scheduled or requested
	// run, and when the next scheduled one is due; nil before any. Never
	// taken from a request.
	LastRunAt         *time.Time `json:"last_run_at"`
	LastRunDeleted    *int64     `json:"last_run_deleted"`
	LastRunAnonymized *int64     `json:"last_run_anonymized"`
	NextRunAt         *time.Time `json:"next_run_at"`
}

// IsEnabled tells whether the policy is enforced (the default is yes).
func (p *RetentionPolicy) IsEnabled() bool { return p.Enabled == nil || *p.Enabled }

// Normalize applies the defaults the provider plans too, and drops what a
// request may not set.
func (p *RetentionPolicy) Normalize() {
	if p.Enabled == nil {
		t := true
		p.Enabled = &t
	}
	p.LastRunAt, p.LastRunDeleted, p.LastRunAnonymized, p.NextRunAt = nil, nil, nil, nil
}

// Age returns MaxAge as a duration (0 when it is invalid).
func (p *RetentionPolicy) Age() time.Duration {
	d, _ := ParseDuration(p.MaxAge)
	return d
}

// ScopeAll tells whether the policy covers every endpoint.
func (p *RetentionPolicy) ScopeAll() bool {
	return p.EndpointIDs == nil && p.EndpointTags == nil && p.DataClassifications == nil
}

// Validate checks a policy as received, cross-field rules included. It
// does not check that the endpoints exist (a policy may name an endpoint
// that is gone: it then covers nothing of it).
func (p *RetentionPolicy) Validate() []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	errs = append(errs, ValidateName("name", p.Name)...)
	errs = append(errs, validateDescription("description", p.Description)...)
	errs = append(errs, ValidateTags("tags", p.Tags)...)
	dk, known := LookupDataKind(p.DataKind)
	if !known {
		add("data_kind", "must be one of "+strings.Join(DataKindNames, ", "))
	}
	errs = append(errs, durationBetween("max_age", p.MaxAge, MinRetentionAge, MaxRetentionAge)...)
	switch {
	case !slices.Contains(RetentionActions, p.Action):
		add("action", "must be delete or anonymize")
	case p.Action == RetentionDelete && p.AnonymizeFields != nil:
		add("anonymize_fields", "is only valid with action anonymize; leave it unset")
	case p.Action == RetentionAnonymize && known && len(dk.AnonymizeFields) == 0:
		add("action", "anonymize is not possible for "+p.DataKind+", which holds no personal text; use delete")
	case p.Action == RetentionAnonymize && len(p.AnonymizeFields) == 0:
		add("anonymize_fields", "is required with action anonymize: name the fields to replace")
	}
	if p.Action == RetentionAnonymize && known && len(dk.AnonymizeFields) > 0 {
		seen := map[string]bool{}
		for i, f := range p.AnonymizeFields {
			field := fmt.Sprintf("anonymize_fields.%d", i)
			switch {
			case !slices.Contains(dk.AnonymizeFields, f):
				add(field, "must be one of "+strings.Join(dk.AnonymizeFields, ", ")+" for data_kind "+p.DataKind)
			case seen[f]:
				add(field, "is repeated; anonymize_fields is a set")
			}
			seen[f] = true
		}
	}
	scopes := 0
	for _, set := range []bool{p.EndpointIDs != nil, p.EndpointTags != nil, p.DataClassifications != nil} {
		if set {
			scopes++
		}
	}
	if scopes > 1 {
		add("endpoint_ids", "set at most one of endpoint_ids, endpoint_tags and data_classifications")
	}
	if scopes > 0 && known && !dk.EndpointScoped {
		add("data_kind", p.DataKind+" does not belong to endpoints: leave endpoint_ids, endpoint_tags and data_classifications unset")
	}
	errs = append(errs, validateScopeSet("endpoint_ids", p.EndpointIDs, func(id string) string {
		if !strings.HasPrefix(id, PrefixEndpoint) || len(id) == len(PrefixEndpoint) {
			return "must be an endpoint ID, as in ep_..."
		}
		return ""
	})...)
	errs = append(errs, validateScopeSet("data_classifications", p.DataClassifications, func(c string) string {
		if !slices.Contains(DataClassifications, c) {
			return "must be one of " + strings.Join(DataClassifications, ", ")
		}
		return ""
	})...)
	if p.EndpointTags != nil {
		if len(p.EndpointTags) == 0 {
			add("endpoint_tags", "must hold at least one tag; leave it unset for every endpoint")
		}
		errs = append(errs, ValidateTags("endpoint_tags", p.EndpointTags)...)
	}
	return errs
}

// validateScopeSet checks a scope given as a set of strings: not empty
// (an empty scope would cover nothing, which unset says better), at most
// MaxRetentionScopeItems, no repeats, each element valid.
func validateScopeSet(field string, vs []string, problem func(string) string) []FieldError {
	if vs == nil {
		return nil
	}
	var errs []FieldError
	if len(vs) == 0 || len(vs) > MaxRetentionScopeItems {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf("must hold 1 to %d values; leave it unset for every endpoint", MaxRetentionScopeItems)})
	}
	seen := map[string]bool{}
	for i, v := range vs {
		f := fmt.Sprintf("%s.%d", field, i)
		if msg := problem(v); msg != "" {
			errs = append(errs, FieldError{Field: f, Message: msg})
		} else if seen[v] {
			errs = append(errs, FieldError{Field: f, Message: "is repeated; " + field + " is a set"})
		}
		seen[v] = true
	}
	return errs
}

// RetentionRunRequest asks for a run of one policy now.
type RetentionRunRequest struct {
	// DryRun counts what would go and changes nothing.
	DryRun bool `json:"dry_run"`
}

// RetentionRun is the record of one run of a policy (or, for a dry run,
// what a run would do now).
type RetentionRun struct {
	ID         string    `json:"id,omitempty"`
	PolicyID   string    `json:"policy_id"`
	DryRun     bool      `json:"dry_run"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Trigger is "schedule" or "api".
	Trigger    string `json:"trigger"`
	Deleted    int64  `json:"deleted"`
	Anonymized int64  `json:"anonymized"`
	// Cutoff is the time before which the run's data went: now less
	// max_age, or the audit floor's cutoff when that is earlier.
	Cutoff time.Time `json:"cutoff"`
	// FloorApplied tells that a retention floor held back records the
	// policy's age would have deleted or anonymized: audit events younger
	// than the audit floor, revisions and tombstones younger than it or
	// than the history retention if shorter.
	FloorApplied bool `json:"floor_applied,omitempty"`
	// Scopes breaks the counts down per endpoint (EndpointID empty for
	// records of no endpoint).
	Scopes []RetentionScopeCount `json:"scopes"`
	Errors []string              `json:"errors"`
}

// RetentionScopeCount is what a run did (or would do) to one endpoint's
// records.
type RetentionScopeCount struct {
	EndpointID string `json:"endpoint_id,omitempty"`
	Deleted    int64  `json:"deleted"`
	Anonymized int64  `json:"anonymized"`
}

// Retention run triggers.
const (
	TriggerSchedule = "schedule"
	TriggerAPI      = "api"
)

// ErasureRequest asks that everything stored of one endpoint, or every
// audit entry of one actor, be erased (GDPR article 17).
type ErasureRequest struct {
	ID         string  `json:"id,omitempty"`
	EndpointID *string `json:"endpoint_id"`
	Actor      *string `json:"actor"`
	// State is pending, running, completed or failed.
	State       string     `json:"state,omitempty"`
	RequestedBy string     `json:"requested_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at,omitzero"`
	CompletedAt *time.Time `json:"completed_at"`
	// Deleted counts the records erased; Anonymized the audit entries
	// pseudonymized.
	Deleted    int64  `json:"deleted"`
	Anonymized int64  `json:"anonymized"`
	Error      string `json:"error,omitempty"`
}

// Erasure states.
const (
	ErasurePending   = "pending"
	ErasureRunning   = "running"
	ErasureCompleted = "completed"
	ErasureFailed    = "failed"
)

// Validate checks an erasure request: exactly one of endpoint_id and actor.
func (e *ErasureRequest) Validate() []FieldError {
	switch {
	case e.EndpointID == nil && e.Actor == nil:
		return []FieldError{{Field: "endpoint_id", Message: "set exactly one of endpoint_id and actor"}}
	case e.EndpointID != nil && e.Actor != nil:
		return []FieldError{{Field: "actor", Message: "set exactly one of endpoint_id and actor, not both"}}
	case e.EndpointID != nil && (!strings.HasPrefix(*e.EndpointID, PrefixEndpoint) || len(*e.EndpointID) == len(PrefixEndpoint)):
		return []FieldError{{Field: "endpoint_id", Message: "must be an endpoint ID, as in ep_..."}}
	case e.Actor != nil && (*e.Actor == "" || len(*e.Actor) > 256 || HasForbiddenRune(*e.Actor, false)):
		return []FieldError{{Field: "actor", Message: "must be the actor's name as audit events show it, 1 to 256 characters"}}
	}
	return nil
}

// RetentionCompliance is the compliance view: for every data kind and
// scope, the policy in force, the oldest record held and whether
// everything is within policy.
type RetentionCompliance struct {
	CheckedAt time.Time `json:"checked_at"`
	// Compliant is true when every item is.
	Compliant bool                      `json:"compliant"`
	Items     []RetentionComplianceItem `json:"items"`
}

// RetentionComplianceItem is one data kind under one scope.
type RetentionComplianceItem struct {
	DataKind string `json:"data_kind"`
	// Scope is "all", "default" (what no policy covers) or the policy's
	// scope in words, such as "data_classifications=pii".
	Scope string `json:"scope"`
	// PolicyID is the delete policy in force, empty for the built-in
	// default.
	PolicyID string `json:"policy_id,omitempty"`
	// Action is the policy's action (delete for the default).
	Action string `json:"action"`
	// MaxAge is the age past which the data is deleted (or anonymized);
	// empty when it is kept for ever.
	MaxAge string `json:"max_age,omitempty"`
	// OldestAt is the time of the oldest record held, nil for none.
	OldestAt *time.Time `json:"oldest_at"`
	// Overdue counts the records held past MaxAge (plus one enforcement
	// interval of grace).
	Overdue   int64 `json:"overdue"`
	Compliant bool  `json:"compliant"`
}
