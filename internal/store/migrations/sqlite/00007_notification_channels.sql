-- +goose Up
-- Notification channels. Each type's settings have columns of their own,
-- null for the other types; headers and recipients are JSON as given (null
-- stays null). The secret is sealed as a credential's is; an email channel
-- has none, so its secret columns are null and its secret_revision 0.
CREATE TABLE notification_channels (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    type              TEXT NOT NULL,
    description       TEXT,
    enabled           INTEGER NOT NULL,
    send_resolved     INTEGER NOT NULL,
    url               TEXT,
    headers           TEXT,
    events_url        TEXT,
    recipients        TEXT,
    secret_key_id     TEXT,
    secret_wrapped    BLOB,
    secret_ciphertext BLOB,
    secret_revision   INTEGER NOT NULL,
    tags              TEXT,
    revision          INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

-- +goose Down
DROP TABLE notification_channels;
