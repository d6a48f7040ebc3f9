// Package api holds the wire types of the aiod HTTP API. The server and the
// client both use these types, so that a field can never be spelled two ways.
// JSON field names are the Terraform attribute names.
package api

import "time"

// ID prefixes, one per kind, so that an ID says what it names.
const (
	PrefixEndpoint     = "ep_"
	PrefixCredential   = "cred_"
	PrefixMonitor      = "mon_"
	PrefixThreshold    = "thr_"
	PrefixChannel      = "chan_"
	PrefixRetention    = "ret_"
	PrefixAuditEvent   = "aud_"
	PrefixAlertEvent   = "evt_"
	PrefixDelivery     = "dlv_"
	PrefixToken        = "tok_"
	HeaderIdempotency  = "Idempotency-Key"
	HeaderReplayed     = "Idempotent-Replayed"
	ContentTypeJSON    = "application/json"
	ContentTypeProblem = "application/problem+json"
)

// Roles a token can hold.
const (
	RoleAdmin  = "admin"
	RoleEditor = "editor"
	RoleViewer = "viewer"
)

// Data classifications an endpoint can carry.
const (
	ClassPublic       = "public"
	ClassInternal     = "internal"
	ClassConfidential = "confidential"
	ClassPII          = "pii"
)

// DataClassifications lists every valid classification, for validation on
// both sides of the wire.
var DataClassifications = []string{ClassPublic, ClassInternal, ClassConfidential, ClassPII}

// Endpoint is an integration target: an API, webhook, queue or partner
// service. Optional fields are pointers so that null stays null on the wire.
type Endpoint struct {
	Meta
	Name               string            `json:"name"`
	URL                string            `json:"url"`
	APIVersion         *string           `json:"api_version"`
	Description        *string           `json:"description"`
	Owner              *string           `json:"owner"`
	DataClassification string            `json:"data_classification,omitempty"`
	Tags               map[string]string `json:"tags"`
	// CredentialID names the credential used by default to reach the
	// endpoint; monitors may name another.
	CredentialID *string `json:"credential_id"`
}

// List is one page of a listing. NextCursor is empty on the last page.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// AuditEvent records one change, made through the API or the aiod command
// line. It never carries secret values: a secret change is recorded as a
// change of the field "secret".
type AuditEvent struct {
	ID            string    `json:"id"`
	Time          time.Time `json:"time"`
	Actor         string    `json:"actor"`
	ActorRole     string    `json:"actor_role"`
	Action        string    `json:"action"`
	ObjectKind    string    `json:"object_kind"`
	ObjectID      string    `json:"object_id"`
	Revision      int64     `json:"revision"`
	ChangedFields []string  `json:"changed_fields"`
	// Changes names each changed path with its old and new values
	// (sensitive ones marked, values withheld); empty for events written
	// before values were recorded and for events that are not about a
	// configuration object's fields (tokens, deletes).
	Changes []Change `json:"changes"`
	// Counts are what a retention run or an erasure did ("deleted",
	// "anonymized"); absent for a change of configuration.
	Counts map[string]int64 `json:"counts,omitempty"`
}

// Audit actions.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
	ActionRevoke = "revoke"
	// ActionTest is a test message sent through a notification channel.
	ActionTest = "test"
)

// Token describes an API token. The secret value is returned only once, by
// the command that creates it, and is stored hashed.
type Token struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	CreatedAt time.Time  `json:"created_at"`
	// RateLimit is this token's own sustained limit in requests per
	// second (its burst is twice that); null means the server's default
	// (aiod --rate-limit and --rate-burst).
	RateLimit *float64 `json:"rate_limit"`
}

// Problem is an RFC 9457 problem document with field errors.
type Problem struct {
	Type   string       `json:"type,omitempty"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError names the field (a dotted path such as "tags.env") that a
// request got wrong, and says why.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}
