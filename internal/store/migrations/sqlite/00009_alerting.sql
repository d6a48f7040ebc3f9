-- +goose Up
-- The durable state of alerting: the machines of the evaluation, the alert
-- events they produce, and the outbox of their deliveries. There are no
-- foreign keys to thresholds or channels: events and deliveries outlive
-- them, as history.

-- One row per threshold and severity: an alert.Machine, so that evaluation
-- resumes where it left off after a restart. Zero times are NULL.
CREATE TABLE alert_states (
    threshold_id  TEXT NOT NULL,
    severity      TEXT NOT NULL,
    state         TEXT NOT NULL,
    since         TEXT,
    clear_since   TEXT,
    notified      INTEGER NOT NULL,
    last_notified TEXT,
    value         REAL,
    started_at    TEXT,
    PRIMARY KEY (threshold_id, severity)
);
-- The current alerts: only pending and firing machines, a few among
-- thousands. The predicate is spelled exactly as the queries spell it.
CREATE INDEX alert_states_current ON alert_states (threshold_id, severity)
    WHERE state IN ('pending', 'firing');

-- Every transition. seq orders them (newest first in listings) and is the
-- cursor; id is the evt_ ID that notifications carry.
CREATE TABLE alert_events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    threshold_id   TEXT NOT NULL,
    threshold_name TEXT NOT NULL,
    monitor_id     TEXT,
    monitor_name   TEXT,
    endpoint_id    TEXT,
    endpoint_name  TEXT,
    runbook_url    TEXT,
    severity       TEXT NOT NULL,
    from_state     TEXT NOT NULL,
    to_state       TEXT NOT NULL,
    metric         TEXT NOT NULL,
    metric_window  TEXT,
    value          REAL,
    at             TEXT NOT NULL,
    started_at     TEXT,
    resolved_at    TEXT,
    reason         TEXT,
    reminder       INTEGER NOT NULL
);
CREATE INDEX alert_events_threshold ON alert_events (threshold_id, seq);
CREATE INDEX alert_events_at ON alert_events (at);

-- The outbox: one row per event and channel, written in the same
-- transaction as its event. next_attempt_at is NULL once the delivery is
-- no longer pending.
CREATE TABLE deliveries (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    event_id         TEXT NOT NULL REFERENCES alert_events (id),
    channel_id       TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT,
    last_attempt_at  TEXT,
    last_status      INTEGER,
    last_error       TEXT,
    last_duration_ms INTEGER,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT
);
-- Due deliveries, in due order; with deliveries_state, the outbox's depth
-- and oldest entry read only the pending rows, which stay few while the
-- receivers answer.
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_channel ON deliveries (channel_id, seq);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_state ON deliveries (state, seq);
CREATE INDEX deliveries_created ON deliveries (created_at);

-- Every attempt of every delivery.
CREATE TABLE delivery_attempts (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL REFERENCES deliveries (id),
    at          TEXT NOT NULL,
    status      INTEGER,
    duration_ms INTEGER NOT NULL,
    error       TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, seq);

-- +goose Down
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE alert_events;
DROP TABLE alert_states;
