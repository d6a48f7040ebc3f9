-- +goose Up
-- Every revision of every configuration object, written in the same
-- transaction as the change: the object as the API showed it (never a
-- secret value), and who wrote it. Restores and the diff endpoints read
-- these; retention prunes them past their age, keeping each object's
-- newest revision while the object or its tombstone exists.
CREATE TABLE object_revisions (
    object_id   TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    object_kind TEXT NOT NULL,
    time        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    action      TEXT NOT NULL,
    snapshot    TEXT NOT NULL,
    PRIMARY KEY (object_id, revision)
);
CREATE INDEX object_revisions_time ON object_revisions (time);

-- What is kept of a deleted object until retention removes it: its last
-- snapshot, so that it can be listed and restored with the same ID.
CREATE TABLE object_tombstones (
    object_id   TEXT PRIMARY KEY,
    object_kind TEXT NOT NULL,
    name        TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    deleted_at  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    snapshot    TEXT NOT NULL
);
CREATE INDEX object_tombstones_kind ON object_tombstones (object_kind, object_id);
CREATE INDEX object_tombstones_deleted ON object_tombstones (deleted_at);

-- The changed paths of an audit event with their old and new values
-- (sensitive ones withheld); NULL for the events written before.
ALTER TABLE audit_events ADD COLUMN changes TEXT;

-- +goose Down
ALTER TABLE audit_events DROP COLUMN changes;
DROP TABLE object_tombstones;
DROP TABLE object_revisions;
