-- Multi-tenant issuers: hostnames, per-tenant settings, user attributes and
-- the admin audit log. Additive only: replicas on the previous release keep
-- working (they ignore the new columns and tables).
--
--   * tenants.settings is storage.TenantSettings as one JSON document
--     (durations as numbers of nanoseconds), '{}' for the defaults;
--   * users.attributes is a JSON object, NULL when the user has none;
--   * a hostname is the primary key of tenant_hostnames, so no two tenants
--     can claim it; it goes with its tenant (ON DELETE CASCADE);
--   * audit_events deliberately has no foreign key to tenants: the record of
--     a tenant's deletion must outlive the tenant. Ties in time are broken
--     by rowid, which grows with every insert.

-- +goose Up
ALTER TABLE tenants ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN attributes TEXT;

CREATE TABLE tenant_hostnames (
    hostname  TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (name) ON DELETE CASCADE
) STRICT;
CREATE INDEX tenant_hostnames_tenant ON tenant_hostnames (tenant_id);

CREATE TABLE audit_events (
    id            TEXT    NOT NULL PRIMARY KEY,
    time          INTEGER NOT NULL,
    actor_tenant  TEXT    NOT NULL DEFAULT '',
    actor         TEXT    NOT NULL DEFAULT '',
    action        TEXT    NOT NULL DEFAULT '',
    target_tenant TEXT    NOT NULL DEFAULT '',
    target_type   TEXT    NOT NULL DEFAULT '',
    target_id     TEXT    NOT NULL DEFAULT '',
    details       TEXT
) STRICT;
CREATE INDEX audit_events_tenant_time ON audit_events (target_tenant, time);
CREATE INDEX audit_events_time ON audit_events (time);
