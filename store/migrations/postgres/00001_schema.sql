-- +goose Up
-- The whole schema of Hookyard on PostgreSQL, as the SQLite migrations left it at version 12.
-- The same columns as under SQLite: times are Unix milliseconds and booleans 0/1 in BIGINT
-- columns, so every query and every stored value means the same on both engines; ids and
-- other keys compare byte by byte (COLLATE "C") as they do in SQLite, since ids sort by time.
CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE TABLE organizations (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE projects (
    id              TEXT COLLATE "C" PRIMARY KEY,
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE TABLE memberships (
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE TABLE event_types (
    name         TEXT PRIMARY KEY,
    category     TEXT NOT NULL,
    label        TEXT NOT NULL,
    description  TEXT NOT NULL,
    builtin      BIGINT NOT NULL DEFAULT 0,
    subscribable BIGINT NOT NULL DEFAULT 1,
    position     BIGINT NOT NULL DEFAULT 1000,
    created_at   BIGINT NOT NULL
);
CREATE TABLE api_tokens (
    id           TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
CREATE TABLE webhooks (
    id                         TEXT COLLATE "C" PRIMARY KEY,
    owner_id                   TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                       TEXT NOT NULL,
    url                        TEXT NOT NULL,
    secret                     TEXT NOT NULL,
    -- During a rotation the previous secret keeps signing until it expires.
    previous_secret            TEXT,
    previous_secret_expires_at BIGINT,
    enabled                    BIGINT NOT NULL DEFAULT 1,
    status                     TEXT NOT NULL DEFAULT 'HEALTHY' CHECK (status IN ('HEALTHY', 'UNHEALTHY')),
    disabled_reason            TEXT NOT NULL DEFAULT '',
    disabled_at                BIGINT,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
, consecutive_failures BIGINT NOT NULL DEFAULT 0, last_success_at BIGINT, last_failure_at BIGINT, last_error TEXT NOT NULL DEFAULT '', last_disabled_at BIGINT);
CREATE TABLE webhook_events (
    webhook_id TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    PRIMARY KEY (webhook_id, event_type)
);
CREATE TABLE webhook_projects (
    webhook_id TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    project_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (webhook_id, project_id)
);
CREATE TABLE sessions (
    id           TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
, csrf_token TEXT NOT NULL DEFAULT '');
CREATE TABLE events (
    id              TEXT COLLATE "C" PRIMARY KEY,
    event_type      TEXT NOT NULL,
    organization_id TEXT COLLATE "C" NOT NULL,
    project_id      TEXT COLLATE "C" NOT NULL,
    previous_value  TEXT,
    current_value   TEXT,
    publisher_id    TEXT COLLATE "C" NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE TABLE idempotency_keys (
    user_id    TEXT COLLATE "C" NOT NULL,
    key        TEXT NOT NULL,
    response   TEXT NOT NULL,
    created_at BIGINT NOT NULL, request_hash TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, key)
);
CREATE TABLE deliveries (
    id               TEXT COLLATE "C" PRIMARY KEY,
    event_id         TEXT COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    webhook_id       TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type       TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT,
    lease_until      BIGINT,
    last_status_code BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    resend_of        TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE TABLE attempts (
    id               BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    delivery_id      TEXT COLLATE "C" NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    webhook_id       TEXT COLLATE "C" NOT NULL,
    number           BIGINT NOT NULL,
    started_at       BIGINT NOT NULL,
    duration_us      BIGINT NOT NULL,
    request_headers  TEXT NOT NULL,
    status_code      BIGINT NOT NULL DEFAULT 0,
    response_headers TEXT NOT NULL DEFAULT '{}',
    response_body    BYTEA,
    truncated        BIGINT NOT NULL DEFAULT 0,
    error            TEXT NOT NULL DEFAULT '',
    ok               BIGINT NOT NULL
, headers_truncated BIGINT NOT NULL DEFAULT 0);
CREATE TABLE missed_events (
    webhook_id TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id   TEXT COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (webhook_id, event_id)
);
CREATE TABLE webhook_hourly (
    webhook_id TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    hour       BIGINT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    failures   BIGINT NOT NULL DEFAULT 0,
    succeeded  BIGINT NOT NULL DEFAULT 0,
    failed     BIGINT NOT NULL DEFAULT 0,
    latency    TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (webhook_id, hour)
);
CREATE TABLE notifications (
    id         TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    webhook_id TEXT COLLATE "C",
    text       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at    BIGINT
);
CREATE TABLE bins (
    id         TEXT COLLATE "C" PRIMARY KEY,
    owner_id   TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE bin_requests (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    bin_id      TEXT COLLATE "C" NOT NULL REFERENCES bins (id) ON DELETE CASCADE,
    received_at BIGINT NOT NULL,
    method      TEXT NOT NULL,
    headers     TEXT NOT NULL,
    body        BYTEA NOT NULL
, headers_truncated BIGINT NOT NULL DEFAULT 0);
-- E-mail addresses are unique whatever their case (SQLite: COLLATE NOCASE).
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE INDEX projects_organization ON projects (organization_id);
CREATE INDEX memberships_user ON memberships (user_id);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE INDEX webhooks_owner ON webhooks (owner_id);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX events_created ON events (created_at);
CREATE INDEX events_project ON events (project_id, id);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);
CREATE INDEX attempts_webhook_time ON attempts (webhook_id, started_at);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX bins_owner ON bins (owner_id);
CREATE INDEX bin_requests_bin ON bin_requests (bin_id, id);
CREATE INDEX deliveries_queue ON deliveries (webhook_id, next_attempt_at, id)
    WHERE status = 'pending' AND lease_until IS NULL;
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE lease_until IS NOT NULL;
CREATE INDEX deliveries_webhook_status_id ON deliveries (webhook_id, status, id);
CREATE INDEX deliveries_webhook_type ON deliveries (webhook_id, event_type, id);
CREATE INDEX events_type ON events (event_type, id);
CREATE INDEX events_organization ON events (organization_id, id);

INSERT INTO event_types (name, category, label, description, builtin, subscribable, position, created_at) VALUES
    ('TODO_CREATED', 'Records', 'Record created', 'A new record was added to a list.', 1, 1, 10, 0),
    ('TODO_DELETED', 'Records', 'Record deleted', 'A record was deleted.', 1, 1, 20, 0),
    ('TODO_MOVED', 'Records', 'Record moved to another list', 'A record was moved from one list to another.', 1, 1, 30, 0),
    ('TODO_NAME_CHANGED', 'Records', 'Record renamed', 'The title of a record was changed.', 1, 1, 40, 0),
    ('TODO_DONE_STATUS_UPDATED', 'Records', 'Record marked done or not done', 'A record was completed or reopened.', 1, 1, 50, 0),
    ('TODO_DUE_DATE_ADDED', 'Records', 'Due date added to a record', 'A record that had no due date was given one.', 1, 1, 60, 0),
    ('TODO_DUE_DATE_UPDATED', 'Records', 'Record due date changed', 'The due date of a record was moved.', 1, 1, 70, 0),
    ('TODO_DUE_DATE_REMOVED', 'Records', 'Record due date removed', 'A record''s due date was cleared.', 1, 1, 80, 0),
    ('TODO_ASSIGNEE_ADDED', 'Records', 'Person assigned to a record', 'Someone was assigned to a record.', 1, 1, 90, 0),
    ('TODO_ASSIGNEE_REMOVED', 'Records', 'Person unassigned from a record', 'Someone was removed from a record''s assignees.', 1, 1, 100, 0),
    ('TODO_TAG_ADDED', 'Records', 'Tag added to a record', 'A tag was put on a record.', 1, 1, 110, 0),
    ('TODO_TAG_REMOVED', 'Records', 'Tag removed from a record', 'A tag was taken off a record.', 1, 1, 120, 0),
    ('TODO_CUSTOM_FIELD_UPDATED', 'Records', 'Record custom field changed', 'The value of a custom field on a record was changed.', 1, 1, 130, 0),
    ('TODO_CHECKLIST_CREATED', 'Checklists', 'Checklist created', 'A checklist was added to a record.', 1, 1, 140, 0),
    ('TODO_CHECKLIST_NAME_CHANGED', 'Checklists', 'Checklist renamed', 'The title of a checklist was changed.', 1, 1, 150, 0),
    ('TODO_CHECKLIST_DELETED', 'Checklists', 'Checklist deleted', 'A checklist was removed from a record.', 1, 1, 160, 0),
    ('TODO_CHECKLIST_ITEM_CREATED', 'Checklists', 'Checklist item created', 'An item was added to a checklist.', 1, 1, 170, 0),
    ('TODO_CHECKLIST_ITEM_NAME_CHANGED', 'Checklists', 'Checklist item renamed', 'The text of a checklist item was changed.', 1, 1, 180, 0),
    ('TODO_CHECKLIST_ITEM_DELETED', 'Checklists', 'Checklist item deleted', 'An item was removed from a checklist.', 1, 1, 190, 0),
    ('TODO_CHECKLIST_ITEM_DUE_DATE_ADDED', 'Checklists', 'Due date added to a checklist item', 'A checklist item that had no due date was given one.', 1, 1, 200, 0),
    ('TODO_CHECKLIST_ITEM_DUE_DATE_UPDATED', 'Checklists', 'Checklist item due date changed', 'The due date of a checklist item was moved.', 1, 1, 210, 0),
    ('TODO_CHECKLIST_ITEM_DUE_DATE_REMOVED', 'Checklists', 'Checklist item due date removed', 'A checklist item''s due date was cleared.', 1, 1, 220, 0),
    ('TODO_CHECKLIST_ITEM_ASSIGNEE_ADDED', 'Checklists', 'Person assigned to a checklist item', 'Someone was assigned to a checklist item.', 1, 1, 230, 0),
    ('TODO_CHECKLIST_ITEM_ASSIGNEE_REMOVED', 'Checklists', 'Person unassigned from a checklist item', 'Someone was removed from a checklist item''s assignees.', 1, 1, 240, 0),
    ('TODO_CHECKLIST_ITEM_DONE_STATUS_UPDATED', 'Checklists', 'Checklist item checked or unchecked', 'A checklist item was ticked off or reopened.', 1, 1, 250, 0),
    ('TODO_LIST_CREATED', 'Lists', 'List created', 'A new list was added to a project.', 1, 1, 260, 0),
    ('TODO_LIST_DELETED', 'Lists', 'List deleted', 'A list was deleted.', 1, 1, 270, 0),
    ('TODO_LIST_NAME_CHANGED', 'Lists', 'List renamed', 'The title of a list was changed.', 1, 1, 280, 0),
    ('CUSTOM_FIELD_CREATED', 'Custom fields', 'Custom field created', 'A new custom field was defined in a project.', 1, 1, 290, 0),
    ('CUSTOM_FIELD_DELETED', 'Custom fields', 'Custom field deleted', 'A custom field was removed from a project.', 1, 1, 300, 0),
    ('CUSTOM_FIELD_UPDATED', 'Custom fields', 'Custom field changed', 'A custom field''s name or options were changed.', 1, 1, 310, 0),
    ('TAG_CREATED', 'Tags', 'Tag created', 'A new tag was defined in a project.', 1, 1, 320, 0),
    ('TAG_DELETED', 'Tags', 'Tag deleted', 'A tag was removed from a project.', 1, 1, 330, 0),
    ('TAG_UPDATED', 'Tags', 'Tag changed', 'A tag''s name or colour was changed.', 1, 1, 340, 0),
    ('COMMENT_CREATED', 'Comments', 'Comment added', 'Someone wrote a comment.', 1, 1, 350, 0),
    ('COMMENT_DELETED', 'Comments', 'Comment deleted', 'A comment was deleted.', 1, 1, 360, 0),
    ('COMMENT_UPDATED', 'Comments', 'Comment edited', 'A comment''s text was changed.', 1, 1, 370, 0),
    ('WEBHOOK_HEALTH_CHECK', 'System', 'Health check', 'Sent by Hookyard to check that an endpoint answers; cannot be subscribed to.', 1, 0, 10000, 0);

-- +goose Down
DROP TABLE bin_requests, bins, notifications, webhook_hourly, missed_events, attempts, deliveries, idempotency_keys, events, sessions, webhook_projects, webhook_events, webhooks, settings, api_tokens, event_types, memberships, projects, organizations, users CASCADE;
