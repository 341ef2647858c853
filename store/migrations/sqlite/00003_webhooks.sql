-- +goose Up
-- A webhook calls its URL for the chosen event types in the chosen projects. An empty
-- selection (no rows in webhook_events / webhook_projects) means "all, including future ones".
CREATE TABLE webhooks (
    id                         TEXT PRIMARY KEY,
    owner_id                   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                       TEXT NOT NULL,
    url                        TEXT NOT NULL,
    secret                     TEXT NOT NULL,
    -- During a rotation the previous secret keeps signing until it expires.
    previous_secret            TEXT,
    previous_secret_expires_at INTEGER,
    enabled                    INTEGER NOT NULL DEFAULT 1,
    status                     TEXT NOT NULL DEFAULT 'HEALTHY' CHECK (status IN ('HEALTHY', 'UNHEALTHY')),
    disabled_reason            TEXT NOT NULL DEFAULT '',
    disabled_at                INTEGER,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
);
CREATE INDEX webhooks_owner ON webhooks (owner_id);

CREATE TABLE webhook_events (
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    PRIMARY KEY (webhook_id, event_type)
) WITHOUT ROWID;

-- No foreign key to projects on purpose: deleting a selected project must not empty the
-- selection, which would widen the webhook to every project.
CREATE TABLE webhook_projects (
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL,
    PRIMARY KEY (webhook_id, project_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE webhook_projects;
DROP TABLE webhook_events;
DROP TABLE webhooks;
