-- Signing-key lifecycle (docs/keys.md): next -> active -> retired -> removed,
-- plus revoked. See the PostgreSQL migration of the same number.
--
--   * activated_at: when the key was promoted to active (NULL: never);
--   * retired_at: when it stopped signing, retired or revoked (NULL: not yet).
-- Keys that are active today were activated when they were created.

-- +goose Up
ALTER TABLE signing_keys ADD COLUMN activated_at INTEGER;
ALTER TABLE signing_keys ADD COLUMN retired_at INTEGER;
UPDATE signing_keys SET activated_at = created_at WHERE status = 'active';
UPDATE signing_keys SET retired_at = created_at WHERE status = 'retired';
