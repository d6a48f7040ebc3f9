-- +goose Up
-- The tag rows' index carries the object's ID too, so that a tag filter
-- reads the IDs of one kind that carry a tag (a range of object_id under
-- the key and value: the kind's ID prefix) from the index alone, and
-- counts them the same way to choose how to filter (store.commonTags).
CREATE INDEX object_tags_tag ON object_tags (key, value, object_id);
DROP INDEX object_tags_key_value;

-- +goose Down
CREATE INDEX object_tags_key_value ON object_tags (key, value);
DROP INDEX object_tags_tag;
