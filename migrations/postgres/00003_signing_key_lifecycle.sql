-- Signing-key lifecycle (docs/keys.md): next -> active -> retired -> removed,
-- plus revoked. Additive only: replicas on the previous release keep
-- working during a rolling upgrade (they publish a "next" key as a retired
-- one, which is exactly right, and ignore the new columns).
--
--   * activated_at: when the key was promoted to active (NULL: never);
--   * retired_at: when it stopped signing, retired or revoked (NULL: not yet).
--     A retired key stays in the JWKS until retired_at plus the longest token
--     lifetime plus a margin.
-- Keys that are active today were activated when they were created.

-- +goose Up
ALTER TABLE signing_keys ADD COLUMN activated_at timestamptz;
ALTER TABLE signing_keys ADD COLUMN retired_at timestamptz;
UPDATE signing_keys SET activated_at = created_at WHERE status = 'active';
UPDATE signing_keys SET retired_at = created_at WHERE status = 'retired';
