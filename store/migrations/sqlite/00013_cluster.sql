-- +goose Up
-- Several nodes on one database (SPEC §8): the nodes alive, which node sends which shard of
-- the webhooks, and which node (and lease epoch) holds a delivery. Under SQLite there is one
-- node, and these stay nearly empty.
CREATE TABLE nodes (
    name         TEXT PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE shard_leases (
    shard      INTEGER PRIMARY KEY,
    node       TEXT,
    epoch      INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL DEFAULT 0
);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 63)
INSERT INTO shard_leases (shard) SELECT i FROM n;
ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;

-- +goose Down
ALTER TABLE deliveries DROP COLUMN lease_owner;
DROP TABLE shard_leases;
DROP TABLE nodes;
