-- Upstream identity providers ("connectors"), the links of upstream
-- accounts to local users and pending upstream sign-ins. Additive only.
--
--   * connectors.client_secret is sealed under the key-encryption key;
--   * connectors.claim_mapping is a JSON object of strings (jsonb, NULL
--     when empty);
--   * user_links cascade from their connector and their user;
--   * upstream_states are short-lived (swept at expires_at) and stored under
--     the SHA-256 of the state value.

-- +goose Up
CREATE TABLE connectors (
    tenant_id     text        NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id            text        NOT NULL,
    type          text        NOT NULL,
    display_name  text        NOT NULL DEFAULT '',
    issuer        text        NOT NULL DEFAULT '',
    client_id     text        NOT NULL DEFAULT '',
    client_secret bytea,
    scopes        text[]      NOT NULL DEFAULT '{}',
    claim_mapping jsonb,
    jit_create    boolean     NOT NULL DEFAULT false,
    link_by_email boolean     NOT NULL DEFAULT false,
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE user_links (
    tenant_id    text        NOT NULL,
    connector_id text        NOT NULL,
    subject      text        NOT NULL,
    user_id      text        NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, connector_id, subject),
    FOREIGN KEY (tenant_id, connector_id) REFERENCES connectors (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_links_user ON user_links (tenant_id, user_id);

CREATE TABLE upstream_states (
    tenant_id       text        NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    state_hash      text        NOT NULL,
    connector_id    text        NOT NULL,
    auth_request_id text        NOT NULL,
    nonce           text        NOT NULL DEFAULT '',
    code_verifier   text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, state_hash)
);
CREATE INDEX upstream_states_expires ON upstream_states (expires_at);
