-- +goose Up
-- A webhook's pacing (SPEC §9): requests per second, NULL for no limit.
ALTER TABLE webhooks ADD COLUMN rate_limit_per_second REAL;

-- +goose Down
ALTER TABLE webhooks DROP COLUMN rate_limit_per_second;
