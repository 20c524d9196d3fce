-- Herald schema for the embedded SQLite backend.
--
-- Conventions (the storage/sqlite package relies on them):
--   * times are INTEGER unix nanoseconds UTC, 0 for the zero time;
--     nullable columns (used_at) are NULL while unset;
--   * durations are INTEGER nanoseconds;
--   * string lists are JSON arrays in TEXT;
--   * booleans are INTEGER 0/1;
--   * every tenant-scoped row is keyed by (tenant_id, ...) and cascades from
--     tenants, so deleting a tenant removes everything it owns.
-- Forward-only: there is no Down migration.

-- +goose Up
CREATE TABLE tenants (
    name              TEXT    NOT NULL PRIMARY KEY,
    display_name      TEXT    NOT NULL DEFAULT '',
    signing_algorithm TEXT    NOT NULL DEFAULT '',
    disabled          INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE clients (
    tenant_id                 TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id                        TEXT    NOT NULL,
    name                      TEXT    NOT NULL DEFAULT '',
    secret_hash               TEXT    NOT NULL DEFAULT '',
    auth_method               TEXT    NOT NULL DEFAULT '',
    application_type          TEXT    NOT NULL DEFAULT '',
    redirect_uris             TEXT    NOT NULL DEFAULT '[]',
    post_logout_redirect_uris TEXT    NOT NULL DEFAULT '[]',
    cors_origins              TEXT    NOT NULL DEFAULT '[]',
    grant_types               TEXT    NOT NULL DEFAULT '[]',
    scopes                    TEXT    NOT NULL DEFAULT '[]',
    first_party               INTEGER NOT NULL DEFAULT 0,
    access_token_format       TEXT    NOT NULL DEFAULT '',
    access_token_lifetime     INTEGER NOT NULL DEFAULT 0,
    id_token_lifetime         INTEGER NOT NULL DEFAULT 0,
    refresh_token_lifetime    INTEGER NOT NULL DEFAULT 0,
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE TABLE users (
    tenant_id      TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id             TEXT    NOT NULL,
    username       TEXT    NOT NULL,
    email          TEXT    NOT NULL DEFAULT '',
    email_verified INTEGER NOT NULL DEFAULT 0,
    name           TEXT    NOT NULL DEFAULT '',
    given_name     TEXT    NOT NULL DEFAULT '',
    family_name    TEXT    NOT NULL DEFAULT '',
    password_hash  TEXT    NOT NULL DEFAULT '',
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, username)
) STRICT;

CREATE TABLE signing_keys (
    tenant_id   TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id          TEXT    NOT NULL,
    algorithm   TEXT    NOT NULL,
    private_key BLOB    NOT NULL,
    status      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE INDEX signing_keys_created ON signing_keys (tenant_id, created_at);

-- Installation-wide secrets (not tenant-scoped).
CREATE TABLE secrets (
    name       TEXT    NOT NULL PRIMARY KEY,
    value      BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE auth_requests (
    tenant_id             TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id                    TEXT    NOT NULL,
    client_id             TEXT    NOT NULL,
    redirect_uri          TEXT    NOT NULL DEFAULT '',
    scopes                TEXT    NOT NULL DEFAULT '[]',
    state                 TEXT    NOT NULL DEFAULT '',
    nonce                 TEXT    NOT NULL DEFAULT '',
    response_type         TEXT    NOT NULL DEFAULT '',
    response_mode         TEXT    NOT NULL DEFAULT '',
    code_challenge        TEXT    NOT NULL DEFAULT '',
    code_challenge_method TEXT    NOT NULL DEFAULT '',
    prompt                TEXT    NOT NULL DEFAULT '[]',
    max_age               INTEGER,
    login_hint            TEXT    NOT NULL DEFAULT '',
    hint_subject          TEXT    NOT NULL DEFAULT '',
    user_id               TEXT    NOT NULL DEFAULT '',
    session_id            TEXT    NOT NULL DEFAULT '',
    auth_time             INTEGER NOT NULL DEFAULT 0,
    amr                   TEXT    NOT NULL DEFAULT '[]',
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE INDEX auth_requests_expires ON auth_requests (expires_at);

-- Used codes stay until they expire so that a second redemption is detected
-- and can revoke the grant (RFC 6749 §4.1.2).
CREATE TABLE auth_codes (
    tenant_id             TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    code_hash             TEXT    NOT NULL,
    grant_id              TEXT    NOT NULL,
    client_id             TEXT    NOT NULL,
    redirect_uri          TEXT    NOT NULL DEFAULT '',
    user_id               TEXT    NOT NULL DEFAULT '',
    session_id            TEXT    NOT NULL DEFAULT '',
    scopes                TEXT    NOT NULL DEFAULT '[]',
    nonce                 TEXT    NOT NULL DEFAULT '',
    code_challenge        TEXT    NOT NULL DEFAULT '',
    code_challenge_method TEXT    NOT NULL DEFAULT '',
    auth_time             INTEGER NOT NULL DEFAULT 0,
    amr                   TEXT    NOT NULL DEFAULT '[]',
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    used_at               INTEGER,
    PRIMARY KEY (tenant_id, code_hash)
) STRICT;
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

CREATE TABLE sessions (
    tenant_id           TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id                  TEXT    NOT NULL,
    user_id             TEXT    NOT NULL,
    auth_time           INTEGER NOT NULL DEFAULT 0,
    amr                 TEXT    NOT NULL DEFAULT '[]',
    created_at          INTEGER NOT NULL,
    idle_expires_at     INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_idle_expires ON sessions (idle_expires_at);
CREATE INDEX sessions_absolute_expires ON sessions (absolute_expires_at);

CREATE TABLE access_tokens (
    tenant_id  TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id         TEXT    NOT NULL,
    grant_id   TEXT    NOT NULL DEFAULT '',
    client_id  TEXT    NOT NULL,
    subject    TEXT    NOT NULL DEFAULT '',
    audience   TEXT    NOT NULL DEFAULT '[]',
    scopes     TEXT    NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE INDEX access_tokens_grant ON access_tokens (tenant_id, grant_id);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);

-- Rotated refresh tokens stay (used_at set) until they expire, for reuse
-- detection (RFC 9700 §4.14.2).
CREATE TABLE refresh_tokens (
    tenant_id  TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    id         TEXT    NOT NULL,
    grant_id   TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    user_id    TEXT    NOT NULL DEFAULT '',
    session_id TEXT    NOT NULL DEFAULT '',
    audience   TEXT    NOT NULL DEFAULT '[]',
    scopes     TEXT    NOT NULL DEFAULT '[]',
    auth_time  INTEGER NOT NULL DEFAULT 0,
    amr        TEXT    NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE INDEX refresh_tokens_grant ON refresh_tokens (tenant_id, grant_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

CREATE TABLE consents (
    tenant_id  TEXT    NOT NULL REFERENCES tenants (name) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    scopes     TEXT    NOT NULL DEFAULT '[]',
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, client_id)
) STRICT;
