-- Normalised security events (`garrison_core::event::Event`), written in
-- batches by the ingest pipeline at up to 50,000 a second. Few indexes, so
-- that each insert touches few B-trees: the primary key (which makes a
-- re-delivered event a no-op) and one composite index that every search
-- walks, by tenant and time, newest first. Field predicates are evaluated
-- on the JSON text of the rows in that window. `source_ip` and
-- `destination_ip` hold the address as 32 hex digits (IPv4 mapped into
-- IPv6), so that a CIDR is a text range. `ip_fields` names the fields whose
-- values are addresses (JSON array, NULL when none), so they come back
-- typed. No foreign key to `tenants`: it would cost a lookup per row, and
-- events are purged by retention, not with their tenant.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    ts BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    source_id TEXT NOT NULL,
    parser TEXT NOT NULL,
    severity BIGINT NOT NULL,
    source_ip TEXT,
    destination_ip TEXT,
    ip_fields TEXT,
    fields TEXT NOT NULL,
    original TEXT NOT NULL
);
CREATE INDEX events_tenant_ts ON events (tenant_id, ts, id);

-- How long a tenant's events are kept. No row means the default (90 days).
CREATE TABLE event_retention (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
    days BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
