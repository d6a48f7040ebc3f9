-- +goose Up
-- The monitors' load by interval and enabled state, kept by triggers on
-- monitors. Every monitor create or update checks aiod's caps
-- (--max-monitors, --max-probe-rate) against this load inside its write
-- transaction. Counting the monitors themselves read every row of the
-- table: 19 ms a create at 10,000 monitors against 1.8 ms without the
-- caps, all of it holding the one writer connection. This table has one
-- row per interval and state in use, a handful in practice.
--
-- The triggers see every write the store makes (plain INSERT, UPDATE and
-- DELETE). Two things would get past them: an INSERT OR REPLACE into
-- monitors (its implicit delete fires no delete trigger unless
-- recursive_triggers is on) and a later migration that rebuilds the table
-- (dropping it drops its triggers). TestContractMonitorLoad runs on the
-- latest schema and would see either.
CREATE TABLE monitor_load (
    interval TEXT NOT NULL,
    enabled  INTEGER NOT NULL,
    monitors INTEGER NOT NULL,
    PRIMARY KEY (interval, enabled)
);
INSERT INTO monitor_load (interval, enabled, monitors)
    SELECT interval, enabled, COUNT(*) FROM monitors GROUP BY interval, enabled;

-- +goose StatementBegin
CREATE TRIGGER monitor_load_insert AFTER INSERT ON monitors BEGIN
    INSERT INTO monitor_load (interval, enabled, monitors) VALUES (NEW.interval, NEW.enabled, 1)
        ON CONFLICT (interval, enabled) DO UPDATE SET monitors = monitors + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER monitor_load_delete AFTER DELETE ON monitors BEGIN
    UPDATE monitor_load SET monitors = monitors - 1 WHERE interval = OLD.interval AND enabled = OLD.enabled;
    DELETE FROM monitor_load WHERE interval = OLD.interval AND enabled = OLD.enabled AND monitors <= 0;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER monitor_load_update AFTER UPDATE OF interval, enabled ON monitors
    WHEN OLD.interval IS NOT NEW.interval OR OLD.enabled IS NOT NEW.enabled
BEGIN
    UPDATE monitor_load SET monitors = monitors - 1 WHERE interval = OLD.interval AND enabled = OLD.enabled;
    DELETE FROM monitor_load WHERE interval = OLD.interval AND enabled = OLD.enabled AND monitors <= 0;
    INSERT INTO monitor_load (interval, enabled, monitors) VALUES (NEW.interval, NEW.enabled, 1)
        ON CONFLICT (interval, enabled) DO UPDATE SET monitors = monitors + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER monitor_load_update;
DROP TRIGGER monitor_load_delete;
DROP TRIGGER monitor_load_insert;
DROP TABLE monitor_load;
