-- +goose Up
-- A webhook's payload filter (SPEC §9) as JSON; NULL sends every matching event.
ALTER TABLE webhooks ADD COLUMN filter TEXT;

-- +goose Down
ALTER TABLE webhooks DROP COLUMN filter;
