-- Upstream identity providers ("connectors"), the links of upstream
-- accounts to local users and pending upstream sign-ins. Additive only.
--
--   * connectors.client_secret is sealed under the key-encryption key;
--   * connectors.claim_mapping is a JSON object of strings;
--   * user_links cascade from their connector and their user;
--   * upstream_states are short-lived (swept at expires_at) and stored under
--     the SHA-256 of the state value.

-- +goose Up
CREATE TABLE connectors (
    tenant_id     TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id            TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    display_name  TEXT    NOT NULL DEFAULT '',
    issuer        TEXT    NOT NULL DEFAULT '',
    client_id     TEXT    NOT NULL DEFAULT '',
    client_secret BLOB,
    scopes        TEXT    NOT NULL DEFAULT '[]',
    claim_mapping TEXT,
    jit_create    INTEGER NOT NULL DEFAULT 0,
    link_by_email INTEGER NOT NULL DEFAULT 0,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE TABLE user_links (
    tenant_id    TEXT    NOT NULL,
    connector_id TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, connector_id, subject),
    FOREIGN KEY (tenant_id, connector_id) REFERENCES connectors (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX user_links_user ON user_links (tenant_id, user_id);

CREATE TABLE upstream_states (
    tenant_id       TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    state_hash      TEXT    NOT NULL,
    connector_id    TEXT    NOT NULL,
    auth_request_id TEXT    NOT NULL,
    nonce           TEXT    NOT NULL DEFAULT '',
    code_verifier   TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, state_hash)
) STRICT;
CREATE INDEX upstream_states_expires ON upstream_states (expires_at);
