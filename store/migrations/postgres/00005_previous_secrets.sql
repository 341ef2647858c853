-- +goose Up
-- Every secret rotated out in the last 24 h keeps signing, not only the last one: a JSON list
-- of {"secret", "expiresAt" (Unix ms)}, newest first.
ALTER TABLE webhooks ADD COLUMN previous_secrets TEXT NOT NULL DEFAULT '[]';
UPDATE webhooks SET previous_secrets = json_build_array(json_build_object('secret', previous_secret, 'expiresAt', previous_secret_expires_at))::text
    WHERE previous_secret IS NOT NULL AND previous_secret_expires_at IS NOT NULL;
ALTER TABLE webhooks DROP COLUMN previous_secret;
ALTER TABLE webhooks DROP COLUMN previous_secret_expires_at;

-- +goose Down
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at BIGINT;
UPDATE webhooks SET previous_secret = previous_secrets::json -> 0 ->> 'secret',
    previous_secret_expires_at = (previous_secrets::json -> 0 ->> 'expiresAt')::bigint;
ALTER TABLE webhooks DROP COLUMN previous_secrets;
