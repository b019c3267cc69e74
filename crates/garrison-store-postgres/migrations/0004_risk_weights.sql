-- A tenant's own risk weights (JSON of the application's RiskWeights);
-- no row means the defaults.
CREATE TABLE tenant_risk_weights (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
    weights TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
