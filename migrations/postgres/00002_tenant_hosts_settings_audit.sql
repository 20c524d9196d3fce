-- Multi-tenant issuers: hostnames, per-tenant settings, user attributes and
-- the admin audit log. Additive only: replicas on the previous release keep
-- working during a rolling upgrade (they ignore the new columns and tables;
-- ADD COLUMN with a constant default rewrites no table).
--
--   * tenants.settings is storage.TenantSettings as one jsonb document
--     (durations as numbers of nanoseconds), '{}' for the defaults;
--   * users.attributes is a jsonb object, NULL when the user has none;
--   * a hostname is the primary key of tenant_hostnames, so no two tenants
--     can claim it; it goes with its tenant (ON DELETE CASCADE);
--   * audit_events deliberately has no foreign key to tenants: the record of
--     a tenant's deletion must outlive the tenant. seq breaks ties in time
--     in insertion order.

-- +goose Up
ALTER TABLE tenants ADD COLUMN settings jsonb NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN attributes jsonb;

CREATE TABLE tenant_hostnames (
    hostname  text NOT NULL PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants (name) ON DELETE CASCADE
);
CREATE INDEX tenant_hostnames_tenant ON tenant_hostnames (tenant_id, hostname);

CREATE TABLE audit_events (
    seq           bigint      GENERATED ALWAYS AS IDENTITY,
    id            text        NOT NULL PRIMARY KEY,
    time          timestamptz NOT NULL,
    actor_tenant  text        NOT NULL DEFAULT '',
    actor         text        NOT NULL DEFAULT '',
    action        text        NOT NULL DEFAULT '',
    target_tenant text        NOT NULL DEFAULT '',
    target_type   text        NOT NULL DEFAULT '',
    target_id     text        NOT NULL DEFAULT '',
    details       jsonb
);
CREATE INDEX audit_events_tenant_time ON audit_events (target_tenant, time DESC, seq DESC);
CREATE INDEX audit_events_time ON audit_events (time DESC, seq DESC);
