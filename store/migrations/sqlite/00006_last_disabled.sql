-- +goose Up
-- When the webhook was last switched off; kept after it is switched on again, so the events
-- it missed meanwhile can be offered for replay.
ALTER TABLE webhooks ADD COLUMN last_disabled_at INTEGER;

-- +goose Down
ALTER TABLE webhooks DROP COLUMN last_disabled_at;
