-- Detection rule files (Sigma YAML, threshold and sequence rules), MSSP-wide:
-- the pipeline compiles all of them; a rule that fails to compile is listed
-- with its reason, never stored half. `rules_version` moves with every
-- change to the files or to a tenant's settings, so that every process
-- rebuilds its rule set.
CREATE TABLE rule_files (
    origin TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Per tenant: a rule switched off, or exceptions (conditions under which
-- it does not fire for the tenant, as JSON: [{"field": "value"}, ...]).
CREATE TABLE tenant_rules (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    rule_id TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    exceptions TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, rule_id)
);

CREATE TABLE rules_version (
    id BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO rules_version (id, version) VALUES (1, 0);

-- The indicator index is rebuilt when the newest change to an indicator
-- moves (an import, an update, a revocation all set `updated_at`).
CREATE INDEX indicators_updated ON indicators (updated_at);

-- A tenant's weights of severity, credibility and relevance in offense
-- magnitudes (JSON of garrison_core::offense::Weights); no row means the
-- defaults. A change moves the rules version so that the pipeline reloads.
CREATE TABLE tenant_magnitude_weights (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
    weights TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
