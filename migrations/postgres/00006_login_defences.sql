-- Login defences: the login throttle's counters (when no Redis is
-- configured) and the authentication audit trail. Additive only.
--
--   * login_attempts.key is an opaque keyed hash chosen by the caller (of a
--     source address, an account, or both); a row whose expires_at has
--     passed counts as absent and is swept;
--   * auth_events has no foreign key to tenants (the trail outlives a
--     deleted tenant until its retention ends); seq is the listing cursor.

-- +goose Up
CREATE TABLE login_attempts (
    tenant_id  text        NOT NULL,
    key        text        NOT NULL,
    count      integer     NOT NULL,
    retry_at   timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX login_attempts_expires ON login_attempts (expires_at);

CREATE TABLE auth_events (
    seq           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            text        NOT NULL UNIQUE,
    time          timestamptz NOT NULL,
    tenant_id     text        NOT NULL,
    event         text        NOT NULL,
    user_id       text        NOT NULL DEFAULT '',
    username_hash text        NOT NULL DEFAULT '',
    client_id     text        NOT NULL DEFAULT '',
    address       text        NOT NULL DEFAULT '',
    device        text        NOT NULL DEFAULT '',
    user_agent    text        NOT NULL DEFAULT '',
    request_id    text        NOT NULL DEFAULT '',
    outcome       text        NOT NULL DEFAULT '',
    reason        text        NOT NULL DEFAULT ''
);
CREATE INDEX auth_events_tenant_seq ON auth_events (tenant_id, seq DESC);
CREATE INDEX auth_events_time ON auth_events (time);

