-- +goose Up
-- Whether an attempt's or a bin request's headers were longer than the 16 KiB that is kept.
ALTER TABLE attempts ADD COLUMN headers_truncated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bin_requests ADD COLUMN headers_truncated INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE bin_requests DROP COLUMN headers_truncated;
ALTER TABLE attempts DROP COLUMN headers_truncated;
