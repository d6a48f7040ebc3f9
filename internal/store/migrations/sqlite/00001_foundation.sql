-- +goose Up
CREATE TABLE endpoints (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    url                 TEXT NOT NULL,
    api_version         TEXT,
    description         TEXT,
    owner               TEXT,
    data_classification TEXT NOT NULL,
    tags                TEXT,
    revision            INTEGER NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

-- Tags of every kind, one row per pair, so that tag filters are plain
-- joins in every dialect. The object's own tags column keeps the map as
-- given (null stays null).
CREATE TABLE object_tags (
    object_id TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (object_id, key)
);
CREATE INDEX object_tags_key_value ON object_tags (key, value);

CREATE TABLE audit_events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    time           TEXT NOT NULL,
    actor          TEXT NOT NULL,
    actor_role     TEXT NOT NULL,
    action         TEXT NOT NULL,
    object_kind    TEXT NOT NULL,
    object_id      TEXT NOT NULL,
    revision       INTEGER NOT NULL,
    changed_fields TEXT NOT NULL
);
CREATE INDEX audit_events_object ON audit_events (object_id);
CREATE INDEX audit_events_time ON audit_events (time);

CREATE TABLE idempotency_keys (
    token_id    TEXT NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      INTEGER NOT NULL,
    header      TEXT NOT NULL,
    body        BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    PRIMARY KEY (token_id, method, path, key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    expires_at TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);

-- aiod's own settings, such as the key of the idempotency fingerprints,
-- which must survive a restart.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE tokens;
DROP TABLE idempotency_keys;
DROP TABLE audit_events;
DROP TABLE object_tags;
DROP TABLE endpoints;
