-- +goose Up
-- Ordered delivery (SPEC §9): one request at a time, in publish order.
ALTER TABLE webhooks ADD COLUMN ordered BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE webhooks DROP COLUMN ordered;
