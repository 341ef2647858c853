-- +goose Up
-- Each browser session has its own CSRF token, so a token is good only with the session it
-- was issued to (a cookie planted by a neighbouring site cannot supply one). Sessions from
-- before get a random token of their own.
ALTER TABLE sessions ADD COLUMN csrf_token TEXT NOT NULL DEFAULT '';
UPDATE sessions SET csrf_token = lower(hex(randomblob(32)));

-- +goose Down
ALTER TABLE sessions DROP COLUMN csrf_token;
