-- +goose Up
CREATE TABLE monitors (
    id                     TEXT PRIMARY KEY,
    name                   TEXT NOT NULL UNIQUE,
    endpoint_id            TEXT NOT NULL,
    type                   TEXT NOT NULL,
    enabled                INTEGER NOT NULL,
    interval               TEXT NOT NULL,
    timeout                TEXT,
    tags                   TEXT,
    request                TEXT,
    assertions             TEXT,
    retry_strategy         TEXT,
    degraded_response_time TEXT,
    -- request.credential_id, kept in a column of its own so that the
    -- credential's referrers are a plain indexed query.
    credential_id          TEXT,
    revision               INTEGER NOT NULL,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX monitors_endpoint ON monitors (endpoint_id);
CREATE INDEX monitors_credential ON monitors (credential_id);

-- +goose Down
DROP TABLE monitors;
