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
    offense_id TEXT NOT NULL REFERENCES offenses (id),
    at BIGINT NOT NULL,
    magnitude_x10 BIGINT NOT NULL,
    PRIMARY KEY (event_id, detector_kind, detector_key)
);
-- The first events of an offense, linked (at most garrison_core::offense::OFFENSE_EVENT_LINKS).
CREATE INDEX alerts_offense ON alerts (offense_id, at);
