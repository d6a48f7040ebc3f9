-- +goose Up
-- Retention policies. The scopes (endpoint_ids, endpoint_tags,
-- data_classifications) and anonymize_fields are JSON as given (null stays
-- null). last_run_* and next_run_at are what the engine reports; they are
-- written by the engine only, never by a PUT, and bump no revision.
CREATE TABLE retention_policies (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    data_kind            TEXT NOT NULL,
    max_age              TEXT NOT NULL,
    action               TEXT NOT NULL,
    anonymize_fields     TEXT,
    endpoint_ids         TEXT,
    endpoint_tags        TEXT,
    data_classifications TEXT,
    enabled              INTEGER NOT NULL,
    description          TEXT,
    last_run_at          TEXT,
    last_run_deleted     INTEGER,
    last_run_anonymized  INTEGER,
    next_run_at          TEXT,
    tags                 TEXT,
    revision             INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);

-- One row per real run of a policy: what it deleted and anonymized, per
-- endpoint (scopes, JSON), and what went wrong (errors, JSON).
CREATE TABLE retention_runs (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    policy_id     TEXT NOT NULL,
    trigger_kind  TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT NOT NULL,
    cutoff        TEXT NOT NULL,
    floor_applied INTEGER NOT NULL,
    deleted       INTEGER NOT NULL,
    anonymized    INTEGER NOT NULL,
    scopes        TEXT NOT NULL,
    errors        TEXT NOT NULL
);
CREATE INDEX retention_runs_policy ON retention_runs (policy_id, seq);

-- Erasure requests (GDPR art. 17) and their receipts.
CREATE TABLE erasure_requests (
    id           TEXT PRIMARY KEY,
    endpoint_id  TEXT,
    actor        TEXT,
    state        TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    completed_at TEXT,
    deleted      INTEGER NOT NULL,
    anonymized   INTEGER NOT NULL,
    error        TEXT
);
CREATE INDEX erasure_requests_state ON erasure_requests (state, created_at);

-- Counts that an audit event carries besides its changed fields (a
-- retention run's deleted and anonymized rows), JSON; NULL for none.
ALTER TABLE audit_events ADD COLUMN detail TEXT;

-- Erasure of an actor finds their audit events without reading them all.
CREATE INDEX audit_events_actor ON audit_events (actor);

-- +goose Down
DROP INDEX audit_events_actor;
ALTER TABLE audit_events DROP COLUMN detail;
DROP TABLE erasure_requests;
DROP TABLE retention_runs;
DROP TABLE retention_policies;
