-- The fact that scheduled each forum. An invitation is that fact's mail to every organisation
-- invited when it occurred; the forum's scheduling and an organisation's joining travel on
-- different topics and may be processed in either order, so an organisation that turns out
-- to have joined before is invited when its own fact is processed (same delivery identity:
-- once, whichever comes first).
ALTER TABLE notification.forums
    ADD COLUMN scheduled_event_id uuid,
    ADD COLUMN scheduled_at timestamptz,
    ADD COLUMN scheduled_correlation_id text;
CREATE INDEX forums_scheduled_at ON notification.forums (scheduled_at) WHERE status = 'scheduled';
