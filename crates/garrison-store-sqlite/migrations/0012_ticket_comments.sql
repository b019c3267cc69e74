-- Comments on tickets: shared with the customer, or MSSP-internal.
CREATE TABLE ticket_comments (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    author_id TEXT,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    shared BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (ticket_id, created_at);
