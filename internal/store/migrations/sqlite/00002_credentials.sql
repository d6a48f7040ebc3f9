-- +goose Up
CREATE TABLE credentials (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    description       TEXT,
    type              TEXT NOT NULL,
    header            TEXT,
    query_param       TEXT,
    username          TEXT,
    token_url         TEXT,
    client_id         TEXT,
    scopes            TEXT,
    expires_at        TEXT,
    rotation_period   TEXT,
    secret_key_id     TEXT NOT NULL,
    secret_wrapped    BLOB NOT NULL,
    secret_ciphertext BLOB NOT NULL,
    secret_revision   INTEGER NOT NULL,
    last_rotated_at   TEXT NOT NULL,
    revision          INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

ALTER TABLE endpoints ADD COLUMN credential_id TEXT;
CREATE INDEX endpoints_credential ON endpoints (credential_id);

-- +goose Down
DROP INDEX endpoints_credential;
ALTER TABLE endpoints DROP COLUMN credential_id;
DROP TABLE credentials;
