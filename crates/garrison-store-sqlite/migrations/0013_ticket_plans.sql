-- Per tenant: the owner plan of a ticket type, when it differs from the
-- seeded one (garrison_core::ticket::OwnerPlan::seeded), as JSON.
CREATE TABLE ticket_plans (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    ticket_type TEXT NOT NULL,
    plan TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, ticket_type)
);
