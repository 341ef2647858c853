-- +goose Up
-- The health check that last switched each webhook back on: it counts as the webhook's latest
-- success, and the webhook's page says when it passed.
CREATE TABLE health_checks (
    webhook_id  TEXT PRIMARY KEY REFERENCES webhooks (id) ON DELETE CASCADE,
    passed_at   INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    duration_us INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE health_checks;
