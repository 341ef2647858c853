-- +goose Up
-- The delivery queue lives in this table: a pending delivery with no lease waits in the
-- database, in due order per webhook; the sender claims a few at a time (ClaimDue).
CREATE INDEX deliveries_queue ON deliveries (webhook_id, next_attempt_at, id)
    WHERE status = 'pending' AND lease_until IS NULL;
-- Finds what a stopped or crashed sender still held, without scanning the backlog.
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE lease_until IS NOT NULL;
-- Filters of the delivery log and the events list that match little must not scan a
-- webhook's whole history (or every event) to say so.
-- (webhook_id, status, id) also serves the replay query that the index of 00008 served.
DROP INDEX deliveries_webhook_status;
CREATE INDEX deliveries_webhook_status_id ON deliveries (webhook_id, status, id);
CREATE INDEX deliveries_webhook_type ON deliveries (webhook_id, event_type, id);
CREATE INDEX events_type ON events (event_type, id);
CREATE INDEX events_organization ON events (organization_id, id);

-- +goose Down
DROP INDEX events_organization;
DROP INDEX events_type;
DROP INDEX deliveries_webhook_type;
DROP INDEX deliveries_webhook_status_id;
CREATE INDEX deliveries_webhook_status ON deliveries (webhook_id, status, updated_at);
DROP INDEX deliveries_leased;
DROP INDEX deliveries_queue;
