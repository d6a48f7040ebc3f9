-- +goose Up
-- Optional strings used to be stored as "" where the API allowed it
-- (descriptions, and a few fields of a monitor's request). The API now
-- refuses "" for every optional string ("omit the attribute instead"), and
-- null is the one way to say "unset", so the old "" values become null.
-- Each of these "" values meant the same as null to the probe (no body, the
-- endpoint's own path, the URL's host as TLS server name), so no behaviour
-- changes. Revisions are not bumped and no audit event is written: the
-- objects do not change in meaning, and a Terraform configuration that
-- still says "" is told by the plan-time validator to omit the attribute.
UPDATE endpoints SET description = NULL WHERE description = '';
UPDATE endpoints SET api_version = NULL WHERE api_version = '';
UPDATE endpoints SET owner = NULL WHERE owner = '';
UPDATE endpoints SET credential_id = NULL WHERE credential_id = '';

UPDATE credentials SET description = NULL WHERE description = '';
UPDATE credentials SET header = NULL WHERE header = '';
UPDATE credentials SET query_param = NULL WHERE query_param = '';
UPDATE credentials SET username = NULL WHERE username = '';
UPDATE credentials SET token_url = NULL WHERE token_url = '';
UPDATE credentials SET client_id = NULL WHERE client_id = '';
UPDATE credentials SET rotation_period = NULL WHERE rotation_period = '';

UPDATE monitors SET request = json_set(request, '$.body', json('null'))
    WHERE request IS NOT NULL AND json_type(request, '$.body') = 'text' AND json_extract(request, '$.body') = '';
UPDATE monitors SET request = json_set(request, '$.path', json('null'))
    WHERE request IS NOT NULL AND json_type(request, '$.path') = 'text' AND json_extract(request, '$.path') = '';
UPDATE monitors SET request = json_set(request, '$.tls.server_name', json('null'))
    WHERE request IS NOT NULL AND json_type(request, '$.tls.server_name') = 'text' AND json_extract(request, '$.tls.server_name') = '';
-- An assertion target of "" is left as it is: "equals ''" is a real check
-- whose null counterpart would not be valid. The API refuses it from now
-- on, so the next change of such a monitor has to say is_empty instead.

-- +goose Down
-- "" and null meant the same; there is nothing to restore.
SELECT 1;
