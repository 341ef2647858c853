-- +goose Up
-- Request bins of the built-in inspector: a URL on this server that keeps what was POSTed.
CREATE TABLE bins (
    id         TEXT PRIMARY KEY,
    owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX bins_owner ON bins (owner_id);

CREATE TABLE bin_requests (
    id          INTEGER PRIMARY KEY,
    bin_id      TEXT NOT NULL REFERENCES bins (id) ON DELETE CASCADE,
    received_at INTEGER NOT NULL,
    method      TEXT NOT NULL,
    headers     TEXT NOT NULL,
    body        BLOB NOT NULL
);
CREATE INDEX bin_requests_bin ON bin_requests (bin_id, id);

-- +goose Down
DROP TABLE bin_requests;
DROP TABLE bins;
