-- Second factors (TOTP, issue 12; docs/mfa.md). Additive only: a replica
-- on the previous release ignores the new table. Times are unix
-- nanoseconds.
--
--   * one row per user; the foreign key to users removes it with the user
--     (and so with the tenant);
--   * secret is the TOTP secret sealed under the key-encryption key;
--   * confirmed_at 0 = set-up pending; last_used_step refuses replays;
--   * auth_requests.required_acr: the acr a request asked for (step-up);
--   * recovery_codes is a JSON array of hashes of the unused codes.

-- +goose Up
CREATE TABLE second_factors (
    tenant_id      TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    secret         BLOB    NOT NULL,
    confirmed_at   INTEGER NOT NULL DEFAULT 0,
    last_used_step INTEGER NOT NULL DEFAULT 0,
    recovery_codes TEXT    NOT NULL DEFAULT '[]',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;

ALTER TABLE auth_requests ADD COLUMN required_acr TEXT NOT NULL DEFAULT '';
