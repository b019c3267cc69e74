-- Offenses: alerts of one detector, tenant and key grouped within a
-- window, with their score. `breakdown` is the JSON of the peak score of
-- the alerts (garrison_core::offense::Breakdown, without the repetition
-- bonus); `magnitude_x10` the magnitude shown (with it), in tenths, for
-- sorting the queue.
CREATE TABLE offenses (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    detector_kind TEXT NOT NULL,
    detector_key TEXT NOT NULL,
    title TEXT NOT NULL,
    key_field TEXT NOT NULL,
    key_value TEXT NOT NULL,
    status TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    event_count BIGINT NOT NULL,
    assets TEXT NOT NULL,
    breakdown TEXT NOT NULL,
    magnitude_x10 BIGINT NOT NULL,
    -- Triage: who works on it, how it was closed and why, whether an
    -- escalation was asked for (a ticket, once tickets exist).
    assignee_id TEXT REFERENCES users (id),
    resolution TEXT,
    resolution_reason TEXT,
    closed_at BIGINT,
    escalation_requested_at BIGINT,
    escalation_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Finding the open offense an alert joins.
CREATE INDEX offenses_grouping ON offenses (tenant_id, detector_kind, detector_key, key_value, status, last_seen);
-- The analyst queue: open first, by magnitude.
CREATE INDEX offenses_queue ON offenses (status, magnitude_x10, last_seen);

-- One row per detection on an event: makes recording idempotent (a batch
-- delivered again raises nothing twice) and says which offense it joined.
CREATE TABLE alerts (
    event_id TEXT NOT NULL,
    detector_kind TEXT NOT NULL,
    detector_key TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    -- NULL when a suppression swallowed the alert (counted there).
    offense_id TEXT REFERENCES offenses (id),
    suppression_id TEXT,
    at BIGINT NOT NULL,
    magnitude_x10 BIGINT NOT NULL,
    PRIMARY KEY (event_id, detector_kind, detector_key)
);
-- The first events of an offense, linked (at most garrison_core::offense::OFFENSE_EVENT_LINKS).
CREATE INDEX alerts_offense ON alerts (offense_id, at);
-- Retention deletes a tenant's alerts with its events.
CREATE INDEX alerts_tenant_at ON alerts (tenant_id, at);

-- Analysts' comments on an offense; `shared` ones are shown to the
-- tenant's people, the others are MSSP-internal.
CREATE TABLE offense_comments (
    id TEXT PRIMARY KEY,
    offense_id TEXT NOT NULL REFERENCES offenses (id),
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    author_id TEXT REFERENCES users (id),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    shared BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX offense_comments_offense ON offense_comments (offense_id, created_at);

-- "This detector for this key (source address, host, ...) is a false
-- positive until then": matching alerts are counted here instead of
-- raising offenses.
CREATE TABLE suppressions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    detector_kind TEXT NOT NULL,
    detector_key TEXT NOT NULL,
    key_field TEXT NOT NULL,
    key_value TEXT NOT NULL,
    reason TEXT NOT NULL,
    offense_id TEXT REFERENCES offenses (id),
    created_by TEXT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    suppressed BIGINT NOT NULL,
    last_suppressed_at BIGINT
);
CREATE INDEX suppressions_match ON suppressions (tenant_id, detector_kind, detector_key, key_value, expires_at);
