-- A counter per tenant that every change to its inventory (assets, their
-- findings and risk, ranges, risk weights) raises in the same transaction,
-- so that in-memory indexes of the inventory, in this process or another,
-- can tell they are out of date. No row means version 0.
CREATE TABLE inventory_versions (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
    version BIGINT NOT NULL
);
