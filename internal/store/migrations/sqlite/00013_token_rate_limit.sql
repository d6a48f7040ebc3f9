-- +goose Up
-- A token's own rate limit in requests per second; NULL is the server's
-- default (aiod --rate-limit). A CI token refreshing a large configuration
-- may need more than a person's token, a scraper less.
ALTER TABLE tokens ADD COLUMN rate_limit REAL;

-- +goose Down
ALTER TABLE tokens DROP COLUMN rate_limit;
