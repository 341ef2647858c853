-- +goose Up
-- Every secret rotated out in the last 24 h keeps signing, not only the last one: a JSON list
-- of {"secret", "expiresAt" (Unix ms)}, newest first.
ALTER TABLE webhooks ADD COLUMN previous_secrets TEXT NOT NULL DEFAULT '[]';
UPDATE webhooks SET previous_secrets = json_array(json_object('secret', previous_secret, 'expiresAt', previous_secret_expires_at))
    WHERE previous_secret IS NOT NULL AND previous_secret_expires_at IS NOT NULL;
ALTER TABLE webhooks DROP COLUMN previous_secret;
ALTER TABLE webhooks DROP COLUMN previous_secret_expires_at;

-- +goose Down
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at INTEGER;
UPDATE webhooks SET previous_secret = json_extract(previous_secrets, '$[0].secret'),
    previous_secret_expires_at = json_extract(previous_secrets, '$[0].expiresAt');
ALTER TABLE webhooks DROP COLUMN previous_secrets;
