-- +goose Up
-- A hash of the request an Idempotency-Key was first used with (sha256 of the endpoint and
-- the raw body), so that the key reused with a different request is refused, not answered
-- with the first response. Empty for keys stored before this column existed.
ALTER TABLE idempotency_keys ADD COLUMN request_hash TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN request_hash;
