-- +goose Up
-- Several nodes on one database (SPEC §8): the nodes alive, which node sends which shard of
-- the webhooks, and which node (and lease epoch) holds a delivery.
CREATE TABLE nodes (
    name         TEXT COLLATE "C" PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
CREATE TABLE shard_leases (
    shard      BIGINT PRIMARY KEY,
    node       TEXT COLLATE "C",
    epoch      BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0
);
INSERT INTO shard_leases (shard) SELECT generate_series(0, 63);
ALTER TABLE deliveries ADD COLUMN lease_owner TEXT COLLATE "C";

-- +goose Down
ALTER TABLE deliveries DROP COLUMN lease_owner;
DROP TABLE shard_leases;
DROP TABLE nodes;
