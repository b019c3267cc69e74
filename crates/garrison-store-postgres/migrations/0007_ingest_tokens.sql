-- Tokens that sensors and forwarders send events with over HTTP
-- (`POST /ingest/v1/events`). Each belongs to one tenant: what arrives with
-- it is that tenant's. Only the SHA-256 of the secret is kept. `allow`
-- holds the CIDRs senders must come from, comma-separated ('' = anywhere).
CREATE TABLE ingest_tokens (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    allow TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX ingest_tokens_tenant ON ingest_tokens (tenant_id, created_at);
-- A live token's name is unique within its tenant: it names the source.
CREATE UNIQUE INDEX ingest_tokens_live_name ON ingest_tokens (tenant_id, name)
    WHERE revoked_at IS NULL;
