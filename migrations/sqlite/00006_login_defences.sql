-- Login defences: the login throttle's counters and the authentication
-- audit trail. Additive only. Times are unix nanoseconds.
--
--   * login_attempts.key is an opaque keyed hash chosen by the caller; a row
--     whose expires_at has passed counts as absent and is swept;
--   * auth_events has no foreign key to tenants; seq (the rowid) is the
--     listing cursor.

-- +goose Up
CREATE TABLE login_attempts (
    tenant_id  TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    retry_at   INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
) STRICT;
CREATE INDEX login_attempts_expires ON login_attempts (expires_at);

CREATE TABLE auth_events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT    NOT NULL UNIQUE,
    time          INTEGER NOT NULL,
    tenant_id     TEXT    NOT NULL,
    event         TEXT    NOT NULL,
    user_id       TEXT    NOT NULL DEFAULT '',
    username_hash TEXT    NOT NULL DEFAULT '',
    client_id     TEXT    NOT NULL DEFAULT '',
    address       TEXT    NOT NULL DEFAULT '',
    device        TEXT    NOT NULL DEFAULT '',
    user_agent    TEXT    NOT NULL DEFAULT '',
    request_id    TEXT    NOT NULL DEFAULT '',
    outcome       TEXT    NOT NULL DEFAULT '',
    reason        TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX auth_events_tenant_seq ON auth_events (tenant_id, seq);
CREATE INDEX auth_events_time ON auth_events (time);

