-- The chain head carries a MAC over its sequence number and hash, so that
-- rewinding it to hide a deleted tail is detected.
ALTER TABLE audit_head ADD COLUMN mac TEXT;
