-- +goose Up
-- The body each attempt sent, byte for byte, so that the delivery page shows what the
-- receiver got (and checked the signature of), not the payload rebuilt from the webhook as it
-- is now. NULL for attempts made before it was kept.
ALTER TABLE attempts ADD COLUMN request_body BLOB;

-- +goose Down
ALTER TABLE attempts DROP COLUMN request_body;
