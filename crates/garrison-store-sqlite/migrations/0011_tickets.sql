-- Tickets (issue 6): work shared by the MSSP and the customer. The owner
-- plan the ticket opened with is kept on it as JSON (plans change; a
-- ticket keeps the one it was worked under). One ticket per escalated
-- offense. Every status change is a row of ticket_changes (who, when, why).
CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    ticket_type TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    priority TEXT NOT NULL,
    priority_reason TEXT,
    status TEXT NOT NULL,
    plan TEXT NOT NULL,
    offense_id TEXT REFERENCES offenses (id),
    detected_at BIGINT,
    acknowledged_at BIGINT,
    first_response_at BIGINT,
    resolved_at BIGINT,
    closed_at BIGINT,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX tickets_offense ON tickets (offense_id);
CREATE INDEX tickets_tenant_status ON tickets (tenant_id, status, created_at);

CREATE TABLE ticket_changes (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    actor_id TEXT,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX ticket_changes_ticket ON ticket_changes (ticket_id, at);
