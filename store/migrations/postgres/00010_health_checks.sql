-- +goose Up
-- The health check that last switched each webhook back on: it counts as the webhook's latest
-- success, and the webhook's page says when it passed.
CREATE TABLE health_checks (
    webhook_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES webhooks (id) ON DELETE CASCADE,
    passed_at   BIGINT NOT NULL,
    status_code BIGINT NOT NULL,
    duration_us BIGINT NOT NULL
);

-- +goose Down
DROP TABLE health_checks;
