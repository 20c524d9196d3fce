-- Grants as the unit of revocation (docs/tokens.md). Additive: a replica on
-- the previous release ignores the new table and columns.
--
--   * grants: one row per user authorization of a client (created when a
--     code is redeemed) or per client registration (client_credentials).
--     revoked_at set = revoked; a row revoked before it was created is a
--     tombstone (kind '') that makes a late CreateGrant fail;
--   * clients.uid: identifies one registration of a client ID, so that a
--     client registered again under a deleted ID inherits no grant;
--   * auth_codes.issuer: the issuer a code was issued at;
--   * access_tokens now holds opaque tokens only, keyed by the token's hash;
--     tokens issued before this migration have no grant and stop working
--     (users sign in again), and the opaque-token key in secrets is dropped.

-- +goose Up
CREATE TABLE grants (
    tenant_id  TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id         TEXT    NOT NULL,
    kind       TEXT    NOT NULL DEFAULT '',
    client_id  TEXT    NOT NULL DEFAULT '',
    client_uid TEXT    NOT NULL DEFAULT '',
    user_id    TEXT    NOT NULL DEFAULT '',
    session_id TEXT    NOT NULL DEFAULT '',
    issuer     TEXT    NOT NULL DEFAULT '',
    scopes     TEXT    NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE INDEX grants_user ON grants (tenant_id, user_id);
CREATE INDEX grants_client ON grants (tenant_id, client_id);
CREATE INDEX grants_session ON grants (tenant_id, session_id);
CREATE INDEX grants_expires ON grants (expires_at);

ALTER TABLE clients ADD COLUMN uid TEXT NOT NULL DEFAULT '';
UPDATE clients SET uid = lower(hex(randomblob(16))) WHERE uid = '';
ALTER TABLE auth_codes ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
DELETE FROM access_tokens;
DELETE FROM secrets WHERE name IN ('opaque-token-key', 'sealed/opaque-token-key');
