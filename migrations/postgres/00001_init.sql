-- Herald schema for the PostgreSQL backend.
--
-- Conventions (the storage/postgres package relies on them):
--   * times are timestamptz (microsecond precision); optional times
--     (auth_time before login, used_at while unused) are NULL while unset;
--   * durations are bigint nanoseconds (Go's time.Duration, exact);
--   * string lists are text[], '{}' when empty;
--   * every tenant-scoped row is keyed by (tenant_id, ...) and cascades from
--     tenants, so deleting a tenant removes everything it owns;
--   * short-lived tables have an index on their expiry column(s) for the
--     sweeper, which deletes in bounded batches.
-- Forward-only: there is no Down migration. Each migration runs in its own
-- transaction, under goose's advisory lock, so replicas may migrate at once.

-- +goose Up
CREATE TABLE tenants (
    name              text        NOT NULL PRIMARY KEY,
    display_name      text        NOT NULL DEFAULT '',
    signing_algorithm text        NOT NULL DEFAULT '',
    disabled          boolean     NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);

CREATE TABLE clients (
    tenant_id                 text        NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id                        text        NOT NULL,
    name                      text        NOT NULL DEFAULT '',
    secret_hash               text        NOT NULL DEFAULT '',
    auth_method               text        NOT NULL DEFAULT '',
    application_type          text        NOT NULL DEFAULT '',
    redirect_uris             text[]      NOT NULL DEFAULT '{}',
    post_logout_redirect_uris text[]      NOT NULL DEFAULT '{}',
    cors_origins              text[]      NOT NULL DEFAULT '{}',
    grant_types               text[]      NOT NULL DEFAULT '{}',
    scopes                    text[]      NOT NULL DEFAULT '{}',
    first_party               boolean     NOT NULL DEFAULT false,
    access_token_format       text        NOT NULL DEFAULT '',
    access_token_lifetime     bigint      NOT NULL DEFAULT 0,
    id_token_lifetime         bigint      NOT NULL DEFAULT 0,
    refresh_token_lifetime    bigint      NOT NULL DEFAULT 0,
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE users (
    tenant_id      text        NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id             text        NOT NULL,
    username       text        NOT NULL,
    email          text        NOT NULL DEFAULT '',
    email_verified boolean     NOT NULL DEFAULT false,
    name           text        NOT NULL DEFAULT '',
    given_name     text        NOT NULL DEFAULT '',
    family_name    text        NOT NULL DEFAULT '',
    password_hash  text        NOT NULL DEFAULT '',
    disabled       boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, username)
);

CREATE TABLE signing_keys (
    tenant_id   text        NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id          text        NOT NULL,
    algorithm   text        NOT NULL,
    private_key bytea       NOT NULL,
    status      text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX signing_keys_created ON signing_keys (tenant_id, created_at DESC, id DESC);

-- Installation-wide secrets (not tenant-scoped).
CREATE TABLE secrets (
    name       text        NOT NULL PRIMARY KEY,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE auth_requests (
    tenant_id             text        NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id                    text        NOT NULL,
    client_id             text        NOT NULL,
    redirect_uri          text        NOT NULL DEFAULT '',
    scopes                text[]      NOT NULL DEFAULT '{}',
    state                 text        NOT NULL DEFAULT '',
    nonce                 text        NOT NULL DEFAULT '',
    response_type         text        NOT NULL DEFAULT '',
    response_mode         text        NOT NULL DEFAULT '',
    code_challenge        text        NOT NULL DEFAULT '',
    code_challenge_method text        NOT NULL DEFAULT '',
    prompt                text[]      NOT NULL DEFAULT '{}',
    max_age               bigint,
    login_hint            text        NOT NULL DEFAULT '',
    hint_subject          text        NOT NULL DEFAULT '',
    user_id               text        NOT NULL DEFAULT '',
    session_id            text        NOT NULL DEFAULT '',
    auth_time             timestamptz,
    amr                   text[]      NOT NULL DEFAULT '{}',
    created_at            timestamptz NOT NULL,
    expires_at            timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX auth_requests_expires ON auth_requests (expires_at);

-- Used codes stay until they expire so that a second redemption is detected
-- and can revoke the grant (RFC 6749 §4.1.2).
CREATE TABLE auth_codes (
    tenant_id             text        NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    code_hash             text        NOT NULL,
    grant_id              text        NOT NULL,
    client_id             text        NOT NULL,
    redirect_uri          text        NOT NULL DEFAULT '',
    user_id               text        NOT NULL DEFAULT '',
    session_id            text        NOT NULL DEFAULT '',
    scopes                text[]      NOT NULL DEFAULT '{}',
    nonce                 text        NOT NULL DEFAULT '',
    code_challenge        text        NOT NULL DEFAULT '',
    code_challenge_method text        NOT NULL DEFAULT '',
    auth_time             timestamptz,
    amr                   text[]      NOT NULL DEFAULT '{}',
    created_at            timestamptz NOT NULL,
    expires_at            timestamptz NOT NULL,
    used_at               timestamptz,
    PRIMARY KEY (tenant_id, code_hash)
);
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

CREATE TABLE sessions (
    tenant_id           text        NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id                  text        NOT NULL,
    user_id             text        NOT NULL,
    auth_time           timestamptz,
    amr                 text[]      NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL,
    idle_expires_at     timestamptz NOT NULL,
    absolute_expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_idle_expires ON sessions (idle_expires_at);
CREATE INDEX sessions_absolute_expires ON sessions (absolute_expires_at);

-- grant_id is '' for client_credentials tokens; RevokeGrant refuses ''.
CREATE TABLE access_tokens (
    tenant_id  text        NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id         text        NOT NULL,
    grant_id   text        NOT NULL DEFAULT '',
    client_id  text        NOT NULL,
    subject    text        NOT NULL DEFAULT '',
    audience   text[]      NOT NULL DEFAULT '{}',
    scopes     text[]      NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX access_tokens_grant ON access_tokens (tenant_id, grant_id);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);

-- Rotated refresh tokens stay (used_at set) until they expire, for reuse
-- detection (RFC 9700 §4.14.2).
CREATE TABLE refresh_tokens (
    tenant_id  text        NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id         text        NOT NULL,
    grant_id   text        NOT NULL,
    client_id  text        NOT NULL,
    user_id    text        NOT NULL DEFAULT '',
    session_id text        NOT NULL DEFAULT '',
    audience   text[]      NOT NULL DEFAULT '{}',
    scopes     text[]      NOT NULL DEFAULT '{}',
    auth_time  timestamptz,
    amr        text[]      NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (tenant_id, grant_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

CREATE TABLE consents (
    tenant_id  text        NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    user_id    text        NOT NULL,
    client_id  text        NOT NULL,
    scopes     text[]      NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id, client_id)
);
