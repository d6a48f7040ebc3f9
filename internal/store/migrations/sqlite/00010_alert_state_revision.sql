-- +goose Up
-- The revision of the threshold an alert state was evaluated under, so
-- that a threshold changed while aiod was down is seen as changed at the
-- next start (its open alerts are resolved with the reason "threshold
-- changed"). NULL for the states written before this column: those are
-- taken as unchanged, as before.
ALTER TABLE alert_states ADD COLUMN threshold_revision INTEGER;

-- +goose Down
ALTER TABLE alert_states DROP COLUMN threshold_revision;
