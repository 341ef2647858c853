-- +goose Up
-- Finds a webhook's failed and cancelled deliveries since it was switched off (the replay
-- offer) without reading the rest of its history.
CREATE INDEX deliveries_webhook_status ON deliveries (webhook_id, status, updated_at);

-- +goose Down
DROP INDEX deliveries_webhook_status;
