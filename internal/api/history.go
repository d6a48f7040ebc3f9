package api

import (
	"encoding/json"
	"time"
)

// Revision is one stored revision of an object: the object as the API
// showed it once that revision was written (its snapshot), and who wrote it
// and how. A snapshot never holds a secret value: a credential's or
// channel's snapshot is its API view, which carries secret_revision only.
type Revision struct {
	ObjectKind string    `json:"object_kind"`
	ObjectID   string    `json:"object_id"`
	Revision   int64     `json:"revision"`
	Time       time.Time `json:"time"`
	Actor      string    `json:"actor"`
	ActorRole  string    `json:"actor_role"`
	// Action is create, update or restore.
	Action string `json:"action"`
	// Object is the snapshot: the object's JSON as GET answered it.
	Object json.RawMessage `json:"object"`
}

// Change is one changed path of an object with its old and new values, as
// JSON. A path names a nested field with dots and list indexes in
// brackets: "request.headers.accept", "assertions[1].target". A value that
// is absent on one side is null. A sensitive change (a secret) is marked
// and carries neither value.
type Change struct {
	Path      string          `json:"path"`
	Old       json.RawMessage `json:"old,omitempty"`
	New       json.RawMessage `json:"new,omitempty"`
	Sensitive bool            `json:"sensitive,omitempty"`
}

// Diff is what changed in an object between two of its revisions.
type Diff struct {
	ObjectID string   `json:"object_id"`
	From     int64    `json:"from"`
	To       int64    `json:"to"`
	Changes  []Change `json:"changes"`
}

// Tombstone is what is kept of a deleted object while history is
// retained: its last snapshot, and who deleted it when. Restoring it
// recreates the object with the same ID.
type Tombstone struct {
	ObjectKind string    `json:"object_kind"`
	ObjectID   string    `json:"object_id"`
	Name       string    `json:"name"`
	Revision   int64     `json:"revision"`
	DeletedAt  time.Time `json:"deleted_at"`
	Actor      string    `json:"actor"`
	ActorRole  string    `json:"actor_role"`
	// Object is the last snapshot before the delete.
	Object json.RawMessage `json:"object"`
}

// ActionRestore is the audit and revision action of a restore (of an old
// revision, or of a deleted object).
const ActionRestore = "restore"

// KindByPrefix returns the configuration kind whose IDs start with
// prefix, so that generic code (the provider's history reads) needs no
// per-kind table.
func KindByPrefix(prefix string) (Kind, bool) {
	for _, k := range ObjectKinds {
		if k.Prefix == prefix {
			return k, true
		}
	}
	return Kind{}, false
}
