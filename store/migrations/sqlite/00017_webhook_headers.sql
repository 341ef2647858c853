-- +goose Up
-- Extra request headers of a webhook (SPEC §9) as a JSON object; NULL for none.
ALTER TABLE webhooks ADD COLUMN headers TEXT;

-- +goose Down
ALTER TABLE webhooks DROP COLUMN headers;
