-- The asset inventory: assets (lists as JSON text, with a lookup table of
-- their identifiers for reconciliation), their history, network ranges,
-- findings, imports, and the vulnerability data every tenant shares.

CREATE TABLE assets (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    hostname TEXT,
    fqdn TEXT,
    zone TEXT NOT NULL,
    os TEXT,
    asset_type TEXT,
    owner TEXT,
    business_unit TEXT,
    location TEXT,
    criticality TEXT,
    sensitivity TEXT,
    internet_exposed INTEGER,
    ips TEXT NOT NULL,
    macs TEXT NOT NULL,
    services TEXT NOT NULL,
    software TEXT NOT NULL,
    tags TEXT NOT NULL,
    regulations TEXT NOT NULL,
    sources TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    risk_score REAL NOT NULL DEFAULT 0,
    open_findings INTEGER NOT NULL DEFAULT 0,
    max_severity TEXT,
    kev_findings INTEGER NOT NULL DEFAULT 0,
    -- Lower-case names, addresses, owner, unit and location, for search.
    search TEXT NOT NULL
);
CREATE INDEX assets_tenant_risk ON assets (tenant_id, risk_score);

-- One row per identifier: kind is mac, name or ip (with its zone).
CREATE TABLE asset_keys (
    tenant_id TEXT NOT NULL,
    asset_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    zone TEXT NOT NULL
);
CREATE INDEX asset_keys_lookup ON asset_keys (tenant_id, kind, value);
CREATE INDEX asset_keys_asset ON asset_keys (asset_id);

-- History outlives the asset: no foreign key.
CREATE TABLE asset_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    asset_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX asset_events_asset ON asset_events (tenant_id, asset_id, id);

CREATE TABLE network_ranges (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    cidr TEXT NOT NULL,
    zone TEXT NOT NULL,
    default_criticality TEXT,
    description TEXT,
    UNIQUE (tenant_id, cidr)
);

CREATE TABLE findings (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    asset_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    dedup_key TEXT NOT NULL,
    scanner TEXT NOT NULL,
    plugin_id TEXT NOT NULL,
    title TEXT NOT NULL,
    port INTEGER,
    protocol TEXT,
    cves TEXT NOT NULL,
    severity TEXT NOT NULL,
    severity_rank INTEGER NOT NULL,
    cvss2_score REAL,
    cvss2_vector TEXT,
    cvss3_score REAL,
    cvss3_vector TEXT,
    cvss4_score REAL,
    cvss4_vector TEXT,
    description TEXT,
    solution TEXT,
    evidence TEXT,
    status TEXT NOT NULL,
    status_reason TEXT,
    accepted_until INTEGER,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    fixed_at INTEGER,
    last_import TEXT,
    UNIQUE (asset_id, dedup_key)
);
CREATE INDEX findings_tenant_status ON findings (tenant_id, status, severity_rank);
CREATE INDEX findings_asset ON findings (asset_id);

CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants (id),
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    file_name TEXT NOT NULL,
    status TEXT NOT NULL,
    bytes_total INTEGER NOT NULL,
    bytes_done INTEGER NOT NULL,
    counts TEXT NOT NULL,
    rejections TEXT NOT NULL,
    error TEXT,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX imports_tenant ON imports (tenant_id, created_at);

-- Vulnerability data (NVD, CISA KEV, FIRST EPSS): shared by all tenants.
CREATE TABLE vulns (
    cve_id TEXT PRIMARY KEY,
    published TEXT,
    description TEXT,
    cvss2_score REAL,
    cvss2_vector TEXT,
    cvss3_score REAL,
    cvss3_vector TEXT,
    cvss4_score REAL,
    cvss4_vector TEXT,
    kev_added TEXT,
    kev_due TEXT,
    kev_ransomware INTEGER,
    epss REAL,
    epss_percentile REAL,
    matches TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Products named by CVE configurations, to find candidate CVEs for
-- installed software quickly.
CREATE TABLE vuln_products (
    product TEXT NOT NULL,
    cve_id TEXT NOT NULL REFERENCES vulns (cve_id) ON DELETE CASCADE,
    PRIMARY KEY (product, cve_id)
);
