-- +goose Up
-- Text that is sorted or case-folded compares byte by byte, as in SQLite, whatever locale
-- the database was created with: names of people and event types sort the same on both
-- engines, and e-mail addresses fold the case of ASCII letters only (SQLite's NOCASE; lower()
-- under "C" folds A-Z alone).
DROP INDEX users_email;
ALTER TABLE users ALTER COLUMN email TYPE TEXT COLLATE "C", ALTER COLUMN name TYPE TEXT COLLATE "C";
CREATE UNIQUE INDEX users_email ON users (lower(email));
ALTER TABLE event_types ALTER COLUMN name TYPE TEXT COLLATE "C";
ALTER TABLE webhook_events ALTER COLUMN event_type TYPE TEXT COLLATE "C";

-- +goose Down
DROP INDEX users_email;
ALTER TABLE users ALTER COLUMN email TYPE TEXT COLLATE "default", ALTER COLUMN name TYPE TEXT COLLATE "default";
CREATE UNIQUE INDEX users_email ON users (lower(email));
ALTER TABLE event_types ALTER COLUMN name TYPE TEXT COLLATE "default";
ALTER TABLE webhook_events ALTER COLUMN event_type TYPE TEXT COLLATE "default";
