-- Threat-intelligence indicators. `tenant_id` is NULL for MSSP-wide ones;
-- `scope_key` repeats it as text ('' when MSSP-wide) so that the import key
-- (scope, kind, value, source) can be one unique index (NULLs are distinct
-- in unique indexes). Values are stored normalised; `tags` is a JSON array
-- of strings; `revoked_at` is set once, by an analyst, and a re-import
-- does not clear it. Ids compare bytewise (COLLATE "C"), as on SQLite,
-- for paging by id.
CREATE TABLE indicators (
    id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants (id),
    scope_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    confidence BIGINT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT,
    source TEXT NOT NULL,
    tlp TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX indicators_key ON indicators (scope_key, kind, value, source);
-- "Is this value an indicator?", and the import's lookup of existing rows.
CREATE INDEX indicators_value ON indicators (value);
CREATE INDEX indicators_tenant ON indicators (tenant_id, id);

-- Every match of an indicator on an event. At-least-once delivery may
-- record one twice: the key makes that a no-op. `tenant_id` is the event's
-- tenant, which for an MSSP-wide indicator is not the indicator's: readers
-- see only the sightings of tenants in their access.
CREATE TABLE indicator_sightings (
    indicator_id TEXT NOT NULL REFERENCES indicators (id),
    event_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (indicator_id, event_id)
);
CREATE INDEX indicator_sightings_tenant ON indicator_sightings (tenant_id, indicator_id, seen_at);
