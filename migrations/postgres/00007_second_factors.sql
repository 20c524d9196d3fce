-- Second factors (TOTP, issue 12; docs/mfa.md). Additive only: a replica
-- on the previous release ignores the new table.
--
--   * one row per user; the foreign key to users removes it with the user
--     (and so with the tenant);
--   * secret is the TOTP secret sealed under the key-encryption key;
--   * confirmed_at NULL = set-up pending; last_used_step refuses replays;
--   * auth_requests.required_acr: the acr a request asked for (step-up);
--   * recovery_codes holds hashes of the unused codes.

-- +goose Up
CREATE TABLE second_factors (
    tenant_id      text        NOT NULL,
    user_id        text        NOT NULL,
    secret         bytea       NOT NULL,
    confirmed_at   timestamptz,
    last_used_step bigint      NOT NULL DEFAULT 0,
    recovery_codes text[]      NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE auth_requests ADD COLUMN required_acr text NOT NULL DEFAULT '';
