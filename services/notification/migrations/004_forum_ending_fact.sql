-- The fact that held or cancelled each forum, with what its last mails say. Like its
-- scheduling (003), it is kept for registrations whose facts are processed after it although
-- they occurred before (another topic): they get the same thanks or cancellation, as that
-- fact's mail (same delivery identity: once, whichever comes first).
ALTER TABLE notification.forums
    ADD COLUMN ended_event_id uuid,
    ADD COLUMN ended_event_type text,
    ADD COLUMN ended_at timestamptz,
    ADD COLUMN ended_correlation_id text,
    ADD COLUMN end_reason text,
    ADD COLUMN outcomes text,
    ADD COLUMN attended_registration_ids uuid[] NOT NULL DEFAULT '{}';
