-- +goose Up
-- The webhook-id a delivery is signed with (Standard Webhooks): the same for every attempt,
-- resend and replay of one event to one webhook, so receivers can deduplicate. A fresh
-- delivery's own id; a resend or replay takes that of the first delivery of the event to the
-- webhook. Ids sort by creation, so the first is the smallest.
ALTER TABLE deliveries ADD COLUMN message_id TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE deliveries SET message_id = (SELECT MIN(d0.id) FROM deliveries d0
    WHERE d0.event_id = deliveries.event_id AND d0.webhook_id = deliveries.webhook_id);

-- +goose Down
ALTER TABLE deliveries DROP COLUMN message_id;
