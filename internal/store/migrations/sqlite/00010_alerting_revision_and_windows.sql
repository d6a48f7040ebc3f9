-- +goose Up
-- The revision of the threshold an alert state was evaluated under, so
-- that a threshold changed while aiod was down is seen as changed at the
-- next start (its open alerts are resolved with the reason "threshold
-- changed"). NULL for the states written before this column: those are
-- taken as unchanged, as before.
ALTER TABLE alert_states ADD COLUMN threshold_revision INTEGER;

-- A burn-rate event names the pair of windows behind its value: the long
-- one in metric_window, the short one here (NULL for every other metric).
-- Events stored before wrote the pair as "long/short" in metric_window.
ALTER TABLE alert_events ADD COLUMN short_window TEXT;
UPDATE alert_events
   SET short_window  = substr(metric_window, instr(metric_window, '/') + 1),
       metric_window = substr(metric_window, 1, instr(metric_window, '/') - 1)
 WHERE instr(metric_window, '/') > 0;

-- +goose Down
UPDATE alert_events
   SET metric_window = metric_window || '/' || short_window
 WHERE short_window IS NOT NULL;
ALTER TABLE alert_events DROP COLUMN short_window;
ALTER TABLE alert_states DROP COLUMN threshold_revision;
