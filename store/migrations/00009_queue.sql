-- +goose Up
-- The delivery queue lives in this table: a pending delivery with no lease waits in the
-- database, in due order per webhook; the sender claims a few at a time (ClaimDue).
CREATE INDEX deliveries_queue ON deliveries (webhook_id, next_attempt_at, id)
    WHERE status = 'pending' AND lease_until IS NULL;
-- Finds what a stopped or crashed sender still held, without scanning the backlog.
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE lease_until IS NOT NULL;

-- +goose Down
DROP INDEX deliveries_leased;
DROP INDEX deliveries_queue;
