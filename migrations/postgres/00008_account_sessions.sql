-- The account page: what a user sees of their SSO sessions. Additive only.
--
--   * sessions.user_agent is a short label of the browser and system
--     ("Firefox on Linux"), never the raw User-Agent header;
--   * sessions.last_used_at is set by every touch; NULL for sessions created
--     before this migration (shown as their creation).
--   * consents are listed per user through their primary key
--     (tenant_id, user_id, client_id): no index needed.

-- +goose Up
ALTER TABLE sessions ADD COLUMN user_agent text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_used_at timestamptz;
