-- +goose Up
-- Alert thresholds. The values are REAL; the set of channels is JSON as
-- given (null stays null), and also one row per channel in object_links,
-- which is what the referrers of a channel read. slo and burn_rate_windows
-- are JSON.
CREATE TABLE alert_thresholds (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    monitor_id        TEXT,
    endpoint_id       TEXT,
    metric            TEXT NOT NULL,
    comparison        TEXT,
    warning           REAL,
    critical          REAL,
    figure_window     TEXT,
    pending_for       TEXT NOT NULL,
    recovery_for      TEXT NOT NULL,
    recovery_warning  REAL,
    recovery_critical REAL,
    no_data           TEXT NOT NULL,
    reminder_interval TEXT,
    channel_ids       TEXT,
    enabled           INTEGER NOT NULL,
    runbook_url       TEXT,
    description       TEXT,
    slo               TEXT,
    burn_rate_windows TEXT,
    tags              TEXT,
    revision          INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX alert_thresholds_monitor ON alert_thresholds (monitor_id);
CREATE INDEX alert_thresholds_endpoint ON alert_thresholds (endpoint_id);

-- References of every kind kept as a set of IDs (a threshold's channels):
-- one row per referenced object, so that referrers are plain lookups in
-- every dialect. field is the column of the referring object's table.
CREATE TABLE object_links (
    object_id TEXT NOT NULL,
    field     TEXT NOT NULL,
    target_id TEXT NOT NULL,
    PRIMARY KEY (object_id, field, target_id)
);
CREATE INDEX object_links_target ON object_links (target_id);

-- +goose Down
DROP TABLE object_links;
DROP TABLE alert_thresholds;
