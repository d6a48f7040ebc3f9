-- +goose Up
-- How far the rollups are written (see internal/store/rollup.go). The
-- results writer keeps the rollups of the minutes not yet closed in memory
-- and writes each monitor's minute rollup (and merges it into its hour
-- rollup) once, after the minute closed, instead of reading, merging and
-- rewriting both rows with every batch. `minute` (Unix seconds, a whole
-- minute) is the first minute whose rollups are not all written: every
-- earlier minute is in rollups_minute and rollups_hour, and of `minute`
-- itself the monitors whose key is below `next_key`. Reads take what lies
-- at or after `minute` from the raw results.
--
-- Every result stored before this migration is already in the rollups, so
-- the first unwritten minute is the one after the latest result, missed
-- run or rollup (after the whole hour of an hour rollup, which may be all
-- that is left of its hour); 0 in an empty database. Later results of
-- minutes before it are merged into the stored rollups, as before.
CREATE TABLE rollup_progress (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    minute   INTEGER NOT NULL,
    next_key INTEGER NOT NULL
);
INSERT INTO rollup_progress (id, minute, next_key)
    SELECT 1, COALESCE(MAX(m), 0), 0 FROM (
        SELECT (MAX(time) / 60000000 + 1) * 60 AS m FROM probe_results
        UNION ALL SELECT (MAX(time) / 60000000 + 1) * 60 FROM missed_runs
        UNION ALL SELECT MAX(bucket_start) + 60 FROM rollups_minute
        UNION ALL SELECT MAX(bucket_start) + 3600 FROM rollups_hour);

-- +goose Down
DROP TABLE rollup_progress;
