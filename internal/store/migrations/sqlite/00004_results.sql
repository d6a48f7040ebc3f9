-- +goose Up
-- Raw probe results, paged in (time, seq) order: seq breaks the ties
-- between results of the same time.
CREATE TABLE probe_results (
    seq                 INTEGER PRIMARY KEY,
    monitor_id          TEXT NOT NULL,
    time                TEXT NOT NULL,
    outcome             TEXT NOT NULL,
    status_code         INTEGER,
    latency_ms          REAL NOT NULL,
    dns_ms              REAL,
    connect_ms          REAL,
    tls_ms              REAL,
    first_byte_ms       REAL,
    tls_cert_expires_at TEXT,
    bytes_received      INTEGER NOT NULL,
    attempts            INTEGER NOT NULL,
    error               TEXT,
    body_excerpt        TEXT
);
CREATE INDEX probe_results_monitor_time ON probe_results (monitor_id, time);
CREATE INDEX probe_results_time ON probe_results (time);

-- Runs skipped because the previous probe was still running: raw, like
-- probe_results, so that the edges of a window count them exactly.
CREATE TABLE missed_runs (
    seq        INTEGER PRIMARY KEY,
    monitor_id TEXT NOT NULL,
    time       TEXT NOT NULL
);
CREATE INDEX missed_runs_monitor_time ON missed_runs (monitor_id, time);
CREATE INDEX missed_runs_time ON missed_runs (time);

-- Rollups: bucket_start is the start of the minute (or hour) in UTC.
CREATE TABLE rollups_minute (
    monitor_id     TEXT NOT NULL,
    bucket_start   TEXT NOT NULL,
    probes         INTEGER NOT NULL,
    up             INTEGER NOT NULL,
    degraded       INTEGER NOT NULL,
    down           INTEGER NOT NULL,
    retried        INTEGER NOT NULL,
    missed         INTEGER NOT NULL,
    bytes          INTEGER NOT NULL,
    latency_sum_ms REAL NOT NULL,
    histogram      BLOB NOT NULL,
    PRIMARY KEY (monitor_id, bucket_start)
);
CREATE INDEX rollups_minute_bucket ON rollups_minute (bucket_start);

CREATE TABLE rollups_hour (
    monitor_id     TEXT NOT NULL,
    bucket_start   TEXT NOT NULL,
    probes         INTEGER NOT NULL,
    up             INTEGER NOT NULL,
    degraded       INTEGER NOT NULL,
    down           INTEGER NOT NULL,
    retried        INTEGER NOT NULL,
    missed         INTEGER NOT NULL,
    bytes          INTEGER NOT NULL,
    latency_sum_ms REAL NOT NULL,
    histogram      BLOB NOT NULL,
    PRIMARY KEY (monitor_id, bucket_start)
);
CREATE INDEX rollups_hour_bucket ON rollups_hour (bucket_start);

-- The latest probe of each monitor.
CREATE TABLE monitor_state (
    monitor_id          TEXT PRIMARY KEY,
    last_checked_at     TEXT NOT NULL,
    last_outcome        TEXT NOT NULL,
    tls_cert_expires_at TEXT
);

-- How far retention has deleted each tier: data older than horizon may be
-- gone, so windows reaching before it are read from the next coarser tier.
CREATE TABLE result_horizons (
    tier    TEXT PRIMARY KEY,
    horizon TEXT NOT NULL
);

-- +goose Down
DROP TABLE result_horizons;
DROP TABLE monitor_state;
DROP TABLE rollups_hour;
DROP TABLE rollups_minute;
DROP TABLE missed_runs;
DROP TABLE probe_results;
