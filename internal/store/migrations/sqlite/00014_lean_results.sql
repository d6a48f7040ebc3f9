-- +goose Up
-- Lean result encoding (issue 11, "Storage at full load"). At 10,000
-- monitors every 10 s the result tables get 1,000 rows a second, so every
-- byte of a row counts about 170 MB over 48 hours, twice or three times
-- over with the indexes. The rows keep every value they held; only the
-- encoding changes:
--
--   * The monitor ID (30 characters, repeated in the table and in an
--     index) becomes a small integer key into result_monitors.
--   * Times become integers: raw result times and certificate expiries in
--     Unix microseconds (the precision the text held), rollup buckets in
--     Unix seconds (they start on whole minutes or hours).
--   * Durations become integer nanoseconds: the probe measures them in
--     nanoseconds, so this is exact, and a few milliseconds fit in 3 or 4
--     bytes instead of a REAL's 8.
--   * The outcome becomes 1 (up), 2 (degraded) or 3 (down).
--   * The rollups are WITHOUT ROWID tables clustered on their primary key,
--     which was a second copy of every row in an automatic index.
--
-- The conversion is done in SQL, table by table, in the migration's
-- transaction; seq values are kept, so cursors of result pages stay valid
-- across the upgrade.
CREATE TABLE result_monitors (
    key        INTEGER PRIMARY KEY,
    monitor_id TEXT NOT NULL UNIQUE
);
INSERT INTO result_monitors (monitor_id)
    SELECT monitor_id FROM probe_results
    UNION SELECT monitor_id FROM missed_runs
    UNION SELECT monitor_id FROM rollups_minute
    UNION SELECT monitor_id FROM rollups_hour
    ORDER BY 1;

CREATE TABLE probe_results_lean (
    seq                 INTEGER PRIMARY KEY,
    monitor_key         INTEGER NOT NULL,
    time                INTEGER NOT NULL,
    outcome             INTEGER NOT NULL,
    status_code         INTEGER,
    latency_ns          INTEGER NOT NULL,
    dns_ns              INTEGER,
    connect_ns          INTEGER,
    tls_ns              INTEGER,
    first_byte_ns       INTEGER,
    tls_cert_expires_at INTEGER,
    bytes_received      INTEGER NOT NULL,
    attempts            INTEGER NOT NULL,
    error               TEXT,
    body_excerpt        TEXT
);
INSERT INTO probe_results_lean
    SELECT p.seq, k.key,
        CAST(strftime('%s', substr(p.time, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(p.time, 21, 6) AS INTEGER),
        CASE p.outcome WHEN 'up' THEN 1 WHEN 'degraded' THEN 2 WHEN 'down' THEN 3 END,
        p.status_code,
        CAST(round(p.latency_ms * 1000000) AS INTEGER),
        CAST(round(p.dns_ms * 1000000) AS INTEGER),
        CAST(round(p.connect_ms * 1000000) AS INTEGER),
        CAST(round(p.tls_ms * 1000000) AS INTEGER),
        CAST(round(p.first_byte_ms * 1000000) AS INTEGER),
        CASE WHEN p.tls_cert_expires_at IS NOT NULL THEN
            CAST(strftime('%s', substr(p.tls_cert_expires_at, 1, 19)) AS INTEGER) * 1000000
            + CAST(substr(p.tls_cert_expires_at, 21, 6) AS INTEGER) END,
        p.bytes_received, p.attempts, p.error, p.body_excerpt
    FROM probe_results p JOIN result_monitors k ON k.monitor_id = p.monitor_id
    ORDER BY p.seq;
DROP TABLE probe_results;
ALTER TABLE probe_results_lean RENAME TO probe_results;
CREATE INDEX probe_results_monitor_time ON probe_results (monitor_key, time);
CREATE INDEX probe_results_time ON probe_results (time);

CREATE TABLE missed_runs_lean (
    seq         INTEGER PRIMARY KEY,
    monitor_key INTEGER NOT NULL,
    time        INTEGER NOT NULL
);
INSERT INTO missed_runs_lean
    SELECT m.seq, k.key,
        CAST(strftime('%s', substr(m.time, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(m.time, 21, 6) AS INTEGER)
    FROM missed_runs m JOIN result_monitors k ON k.monitor_id = m.monitor_id
    ORDER BY m.seq;
DROP TABLE missed_runs;
ALTER TABLE missed_runs_lean RENAME TO missed_runs;
CREATE INDEX missed_runs_monitor_time ON missed_runs (monitor_key, time);
CREATE INDEX missed_runs_time ON missed_runs (time);

CREATE TABLE rollups_minute_lean (
    monitor_key    INTEGER NOT NULL,
    bucket_start   INTEGER NOT NULL,
    probes         INTEGER NOT NULL,
    up             INTEGER NOT NULL,
    degraded       INTEGER NOT NULL,
    down           INTEGER NOT NULL,
    retried        INTEGER NOT NULL,
    missed         INTEGER NOT NULL,
    bytes          INTEGER NOT NULL,
    latency_sum_ms REAL NOT NULL,
    histogram      BLOB NOT NULL,
    PRIMARY KEY (monitor_key, bucket_start)
) WITHOUT ROWID;
INSERT INTO rollups_minute_lean
    SELECT k.key, CAST(strftime('%s', substr(r.bucket_start, 1, 19)) AS INTEGER),
        r.probes, r.up, r.degraded, r.down, r.retried, r.missed, r.bytes, r.latency_sum_ms, r.histogram
    FROM rollups_minute r JOIN result_monitors k ON k.monitor_id = r.monitor_id;
DROP TABLE rollups_minute;
ALTER TABLE rollups_minute_lean RENAME TO rollups_minute;
CREATE INDEX rollups_minute_bucket ON rollups_minute (bucket_start);

CREATE TABLE rollups_hour_lean (
    monitor_key    INTEGER NOT NULL,
    bucket_start   INTEGER NOT NULL,
    probes         INTEGER NOT NULL,
    up             INTEGER NOT NULL,
    degraded       INTEGER NOT NULL,
    down           INTEGER NOT NULL,
    retried        INTEGER NOT NULL,
    missed         INTEGER NOT NULL,
    bytes          INTEGER NOT NULL,
    latency_sum_ms REAL NOT NULL,
    histogram      BLOB NOT NULL,
    PRIMARY KEY (monitor_key, bucket_start)
) WITHOUT ROWID;
INSERT INTO rollups_hour_lean
    SELECT k.key, CAST(strftime('%s', substr(r.bucket_start, 1, 19)) AS INTEGER),
        r.probes, r.up, r.degraded, r.down, r.retried, r.missed, r.bytes, r.latency_sum_ms, r.histogram
    FROM rollups_hour r JOIN result_monitors k ON k.monitor_id = r.monitor_id;
DROP TABLE rollups_hour;
ALTER TABLE rollups_hour_lean RENAME TO rollups_hour;
CREATE INDEX rollups_hour_bucket ON rollups_hour (bucket_start);

-- +goose Down
CREATE TABLE probe_results_text (
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
INSERT INTO probe_results_text
    SELECT p.seq, k.monitor_id,
        strftime('%Y-%m-%dT%H:%M:%S', p.time / 1000000, 'unixepoch') || printf('.%06dZ', p.time % 1000000),
        CASE p.outcome WHEN 1 THEN 'up' WHEN 2 THEN 'degraded' ELSE 'down' END,
        p.status_code, p.latency_ns / 1e6, p.dns_ns / 1e6, p.connect_ns / 1e6, p.tls_ns / 1e6, p.first_byte_ns / 1e6,
        CASE WHEN p.tls_cert_expires_at IS NOT NULL THEN
            strftime('%Y-%m-%dT%H:%M:%S', p.tls_cert_expires_at / 1000000, 'unixepoch')
            || printf('.%06dZ', p.tls_cert_expires_at % 1000000) END,
        p.bytes_received, p.attempts, p.error, p.body_excerpt
    FROM probe_results p JOIN result_monitors k ON k.key = p.monitor_key;
DROP TABLE probe_results;
ALTER TABLE probe_results_text RENAME TO probe_results;
CREATE INDEX probe_results_monitor_time ON probe_results (monitor_id, time);
CREATE INDEX probe_results_time ON probe_results (time);

CREATE TABLE missed_runs_text (
    seq        INTEGER PRIMARY KEY,
    monitor_id TEXT NOT NULL,
    time       TEXT NOT NULL
);
INSERT INTO missed_runs_text
    SELECT m.seq, k.monitor_id,
        strftime('%Y-%m-%dT%H:%M:%S', m.time / 1000000, 'unixepoch') || printf('.%06dZ', m.time % 1000000)
    FROM missed_runs m JOIN result_monitors k ON k.key = m.monitor_key;
DROP TABLE missed_runs;
ALTER TABLE missed_runs_text RENAME TO missed_runs;
CREATE INDEX missed_runs_monitor_time ON missed_runs (monitor_id, time);
CREATE INDEX missed_runs_time ON missed_runs (time);

CREATE TABLE rollups_minute_text (
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
INSERT INTO rollups_minute_text
    SELECT k.monitor_id, strftime('%Y-%m-%dT%H:%M:%S.000000Z', r.bucket_start, 'unixepoch'),
        r.probes, r.up, r.degraded, r.down, r.retried, r.missed, r.bytes, r.latency_sum_ms, r.histogram
    FROM rollups_minute r JOIN result_monitors k ON k.key = r.monitor_key;
DROP TABLE rollups_minute;
ALTER TABLE rollups_minute_text RENAME TO rollups_minute;
CREATE INDEX rollups_minute_bucket ON rollups_minute (bucket_start);

CREATE TABLE rollups_hour_text (
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
INSERT INTO rollups_hour_text
    SELECT k.monitor_id, strftime('%Y-%m-%dT%H:%M:%S.000000Z', r.bucket_start, 'unixepoch'),
        r.probes, r.up, r.degraded, r.down, r.retried, r.missed, r.bytes, r.latency_sum_ms, r.histogram
    FROM rollups_hour r JOIN result_monitors k ON k.key = r.monitor_key;
DROP TABLE rollups_hour;
ALTER TABLE rollups_hour_text RENAME TO rollups_hour;
CREATE INDEX rollups_hour_bucket ON rollups_hour (bucket_start);

DROP TABLE result_monitors;
